package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// job is a queued delivery: ready at due, or hidden until until while leased or held.
type job struct {
	id, endpoint string
	due, until   time.Time
	hidden       bool
}

func readyLess(a, b *job) bool {
	if c := a.due.Compare(b.due); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

func hiddenLess(a, b *job) bool {
	if c := a.until.Compare(b.until); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

// detach takes j out of the tree it is in.
func (s *Store) detach(j *job) {
	if j.hidden {
		s.hidden.Delete(j)
	} else {
		s.ready.Delete(j)
	}
}

// enqueue makes the delivery id ready at due, replacing any lease or hold.
func (s *Store) enqueue(id, endpoint string, due time.Time) {
	j, ok := s.jobs[id]
	if ok {
		s.detach(j)
	} else {
		j = &job{id: id}
		s.jobs[id] = j
	}
	j.endpoint, j.due, j.hidden = endpoint, due, false
	s.ready.ReplaceOrInsert(j)
}

// unqueue removes the delivery id from the work queue.
func (s *Store) unqueue(id string) {
	if j, ok := s.jobs[id]; ok {
		s.detach(j)
		delete(s.jobs, id)
	}
}

// signal wakes a waiting dispatcher without blocking.
func (s *Store) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Lease returns up to max jobs due at or before now, oldest due first, each hidden until
// now+ttl. A job whose lease or hold ended is due again at its original time.
func (s *Store) Lease(ctx context.Context, now time.Time, max int, ttl time.Duration) ([]gateway.Job, error) {
	if err := s.lock(); err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	defer s.mu.Unlock()
	for {
		j, ok := s.hidden.Min()
		if !ok || j.until.After(now) {
			break
		}
		s.hidden.DeleteMin()
		j.hidden = false
		s.ready.ReplaceOrInsert(j)
	}
	var out []gateway.Job
	for len(out) < max {
		j, ok := s.ready.Min()
		if !ok || j.due.After(now) {
			break
		}
		s.ready.DeleteMin()
		j.hidden, j.until = true, now.Add(ttl)
		s.hidden.ReplaceOrInsert(j)
		out = append(out, gateway.Job{Delivery: j.id, Endpoint: j.endpoint, Due: j.due})
	}
	return out, nil
}

// Hold keeps the leased job id hidden until until; a job that is not leased is left alone.
func (s *Store) Hold(id string, until time.Time) {
	if s.lock() != nil {
		return
	}
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok || !j.hidden {
		return
	}
	s.hidden.Delete(j)
	j.until = until
	s.hidden.ReplaceOrInsert(j)
}

// Release makes the leased job id due again at once (at its original due time).
func (s *Store) Release(id string) {
	if s.lock() != nil {
		return
	}
	defer s.mu.Unlock()
	j, ok := s.jobs[id]
	if !ok || !j.hidden {
		return
	}
	s.hidden.Delete(j)
	j.hidden = false
	s.ready.ReplaceOrInsert(j)
	s.signal()
}

// NextDue reports the earliest of the first ready job's due time and the first lease's end.
func (s *Store) NextDue(now time.Time) (time.Time, bool) {
	if s.lock() != nil {
		return time.Time{}, false
	}
	defer s.mu.Unlock()
	var (
		next time.Time
		ok   bool
	)
	if j, found := s.ready.Min(); found {
		next, ok = j.due, true
	}
	if j, found := s.hidden.Min(); found && (!ok || j.until.Before(next)) {
		next, ok = j.until, true
	}
	return next, ok
}

// Wake returns the channel that receives a value when work is queued or released.
func (s *Store) Wake() <-chan struct{} { return s.wake }

// Backlog counts the queued deliveries per endpoint and finds the earliest due time.
func (s *Store) Backlog(ctx context.Context) (gateway.Backlog, error) {
	if err := ctx.Err(); err != nil {
		return gateway.Backlog{}, fmt.Errorf("backlog: %w", err)
	}
	if err := s.lock(); err != nil {
		return gateway.Backlog{}, fmt.Errorf("backlog: %w", err)
	}
	defer s.mu.Unlock()
	b := gateway.Backlog{Pending: map[string]int{}}
	for _, j := range s.jobs {
		b.Pending[j.endpoint]++
		if b.OldestDue.IsZero() || j.due.Before(b.OldestDue) {
			b.OldestDue = j.due
		}
	}
	return b, nil
}

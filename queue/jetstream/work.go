package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// leaseWriters is how many lease writes one Lease has in flight at once; from leaseBatchMin
// leases on, one atomic batch (which costs the server a few milliseconds to set up) is
// cheaper than as many writes.
const (
	leaseWriters  = 32
	leaseBatchMin = 256
)

// Lease returns up to max jobs due at or before now, oldest due first, each hidden until
// now+ttl on every node: the lease end is written into the delivery's record with a
// compare-and-swap, so that a job another node took meanwhile is left out. A job whose
// lease or hold ended is due again at its time.
func (s *Store) Lease(ctx context.Context, now time.Time, max int, ttl time.Duration) ([]gateway.Job, error) {
	if err := s.begin(); err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	defer s.end()
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if err := s.v.lock(); err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	var cands []*dRec
	s.v.ready.Ascend(func(r *dRec) bool {
		if len(cands) == max || r.due.After(now) {
			return false
		}
		cands = append(cands, r)
		return true
	})
	s.v.hidden.Ascend(func(r *dRec) bool {
		if r.until.After(now) {
			return false
		}
		if !r.due.After(now) {
			cands = append(cands, r)
		}
		return true
	})
	slices.SortFunc(cands, readyCmp)
	cands = cands[:min(len(cands), max)]
	until := now.Add(ttl)
	msgs := make([]outMsg, len(cands))
	jobs := make([]gateway.Job, len(cands))
	for i, r := range cands {
		b, err := json.Marshal(r.workMsg(&until))
		if err != nil {
			s.v.mu.Unlock()
			return nil, fmt.Errorf("lease %s: %w", r.d.ID, err)
		}
		subj := s.v.subject(kindDelivery, token(r.d.ID))
		msgs[i] = outMsg{subject: subj, data: b, cas: true, expect: s.v.expect(subj)}
		jobs[i] = gateway.Job{Delivery: r.d.ID, Endpoint: r.d.EndpointID, Due: r.due}
	}
	s.v.mu.Unlock()

	seqs := make([]uint64, len(msgs))
	errs := make([]error, len(msgs))
	if s.leaseBatches(ctx, msgs, seqs, errs) {
		return s.leased(ctx, jobs, until, seqs, errs)
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, leaseWriters)
	for i := range msgs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			seqs[i], errs[i] = s.write(ctx, msgs[i:i+1])
		}()
	}
	wg.Wait()
	return s.leased(ctx, jobs, until, seqs, errs)
}

// leaseBatches writes the leases msgs in atomic batches, the fast way when no other node
// leases the same jobs, and reports whether every batch succeeded (seqs then holds each
// batch's last sequence for its messages). A batch that lost a compare-and-swap wrote
// nothing: its leases are written one by one after all, to take what is still free.
func (s *Store) leaseBatches(ctx context.Context, msgs []outMsg, seqs []uint64, errs []error) bool {
	if len(msgs) < leaseBatchMin {
		return false
	}
	for i := 0; i < len(msgs); i += maxBatch {
		j := min(i+maxBatch, len(msgs))
		seq, err := s.write(ctx, msgs[i:j])
		if err != nil {
			if i > 0 { // the batches before took their jobs: give the rest their own writes
				for k := i; k < len(msgs); k++ {
					seqs[k], errs[k] = s.write(ctx, msgs[k:k+1])
				}
				return true
			}
			return false
		}
		for k := i; k < j; k++ {
			seqs[k] = seq
		}
	}
	return true
}

// leased returns the jobs whose lease was written, once this node's view holds them; an
// error only when none was and a write failed otherwise than by a lost compare-and-swap.
// A lease whose write failed for want of NATS may have been stored all the same (its
// answer lost with the server): such a job is given back once NATS is there again, if its
// lease is still the one written here (rewriteLater).
func (s *Store) leased(ctx context.Context, jobs []gateway.Job, until time.Time, seqs []uint64, errs []error) ([]gateway.Job, error) {
	out := make([]gateway.Job, 0, len(jobs))
	var (
		last   uint64
		failed error
		lost   []string // leases whose write failed for want of NATS: stored or not
	)
	for i, j := range jobs {
		switch {
		case errs[i] == nil:
			out = append(out, j)
			if seqs[i] > last {
				last = seqs[i]
			}
		case errs[i] == errCAS: // another node took it, or its delivery was saved meanwhile
		default:
			if errors.Is(errs[i], gateway.ErrUnavailable) {
				lost = append(lost, j.Delivery)
			}
			if failed == nil {
				failed = errs[i]
			}
		}
	}
	if len(lost) > 0 {
		go s.rewriteLater("give back", lost, nil, until)
	}
	if err := s.v.waitApplied(ctx, last); err != nil {
		// Leased, but not handed to the caller: give them back too.
		ids := make([]string, len(out))
		for i, j := range out {
			ids[i] = j.Delivery
		}
		go s.rewriteLater("give back", ids, nil, until)
		return nil, fmt.Errorf("lease: %w", err)
	}
	if len(out) == 0 && failed != nil {
		return nil, fmt.Errorf("lease: %w", failed)
	}
	return out, nil
}

// rewrite writes the leased delivery id hidden until until (nil: not hidden, due again),
// with a compare-and-swap; a lost one is tried again. A delivery that is not leased is
// left alone. Hold and Release have no caller to report to: when NATS can't be reached the
// rewrite is tried again in the background (rewriteLater) as long as the delivery keeps
// the lease it has now, and other errors are logged; a lease that was not extended or
// given back ends at its time anyway.
func (s *Store) rewrite(what, id string, until *time.Time) {
	err := s.rewriteOnce(id, until, nil)
	if !s.rewriteAgain(what, id, err, time.Now().Add(rewriteRetryFor)) || s.v.lock() != nil {
		return
	}
	r, ok := s.v.dels[id]
	leased := ok && r.inHidden
	var lease time.Time
	if leased {
		lease = r.until
	}
	s.v.mu.Unlock()
	if leased {
		go s.rewriteLater(what, []string{id}, until, lease)
	}
}

// rewriteRetryFor is how long a rewrite that could not reach NATS is tried again.
const rewriteRetryFor = 45 * time.Second

// rewriteLater tries the rewrite of the deliveries ids again, each only while it is hidden
// until exactly lease (the lease this node wrote or saw: a job another node has leased
// since is left alone), once the view has read all the stream holds; until one succeeds,
// fails otherwise than by NATS being away, the store closes, or rewriteRetryFor passes:
// then the lease ends at its time, as it would have. Without it, a delivery whose
// attempt NATS's going away cut short waited for its lease to end (80 s by default).
func (s *Store) rewriteLater(what string, ids []string, until *time.Time, lease time.Time) {
	deadline := time.Now().Add(rewriteRetryFor)
	for wait := 100 * time.Millisecond; len(ids) > 0; wait = min(2*wait, 2*time.Second) {
		t := time.NewTimer(wait)
		select {
		case <-s.done:
			t.Stop()
			return
		case <-t.C:
		}
		away := s.readAll() // while NATS is away, no id is tried this round
		var again []string
		for _, id := range ids {
			err := away
			if err == nil {
				if err = s.rewriteOnce(id, until, &lease); errors.Is(err, gateway.ErrUnavailable) {
					away = err
				}
			}
			if s.rewriteAgain(what, id, err, deadline) {
				again = append(again, id)
			}
		}
		ids = again
	}
}

// rewriteAgain reports whether a rewrite of id that ended with err is to be tried again:
// only when NATS was away and deadline has not passed. Why it is not is logged.
func (s *Store) rewriteAgain(what, id string, err error, deadline time.Time) bool {
	switch {
	case err == nil || s.closed.Load():
	case !errors.Is(err, gateway.ErrUnavailable):
		s.log.Warn("could not "+what+" a leased delivery", "delivery", id, "err", err)
	case time.Now().After(deadline):
		s.log.Warn("could not "+what+" a leased delivery while NATS was away; it is due again when its lease ends", "delivery", id, "err", err)
	default:
		return true
	}
	return false
}

// readAll waits until the view has read what the stream holds now: ErrUnavailable when
// NATS can't be reached or the view does not get there within the store's Timeout.
func (s *Store) readAll() error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	info, err := s.streamInfo(ctx)
	if err != nil {
		return fmt.Errorf("stream %s: %w", s.opts.Stream, s.unavailable(err))
	}
	return s.v.waitApplied(ctx, info.State.LastSeq)
}

// rewriteOnce makes one rewrite (its compare-and-swap tried again as retry does); with
// ifUntil, only of a delivery hidden until exactly then.
func (s *Store) rewriteOnce(id string, until, ifUntil *time.Time) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	seq, err := s.retry(ctx, func() (uint64, error) {
		if err := s.v.lock(); err != nil {
			return 0, err
		}
		r, ok := s.v.dels[id]
		if !ok || !r.inHidden || ifUntil != nil && !r.until.Equal(*ifUntil) {
			s.v.mu.Unlock()
			return 0, nil
		}
		b, err := json.Marshal(r.workMsg(until))
		subj := s.v.subject(kindDelivery, token(id))
		m := outMsg{subject: subj, data: b, cas: true, expect: s.v.expect(subj)}
		s.v.mu.Unlock()
		if err != nil {
			return 0, err
		}
		return s.write(ctx, []outMsg{m})
	})
	if err == nil {
		err = s.v.waitApplied(ctx, seq)
	}
	return err
}

// Hold keeps the leased job id hidden until until, on every node; a job that is not leased
// is left alone. The hold is stored: it outlives this node.
func (s *Store) Hold(id string, until time.Time) { s.rewrite("hold", id, &until) }

// Release makes the leased job id due again at once (at its due time) on every node.
func (s *Store) Release(id string) { s.rewrite("release", id, nil) }

// NextDue reports the earliest of the first ready job's due time and the first lease's end.
func (s *Store) NextDue(now time.Time) (time.Time, bool) {
	if s.v.lock() != nil {
		return time.Time{}, false
	}
	defer s.v.mu.Unlock()
	var (
		next time.Time
		ok   bool
	)
	if r, found := s.v.ready.Min(); found {
		next, ok = r.due, true
	}
	if r, found := s.v.hidden.Min(); found {
		at := r.until
		if r.due.After(at) {
			at = r.due
		}
		if !ok || at.Before(next) {
			next, ok = at, true
		}
	}
	return next, ok
}

// Wake returns the channel that receives a value when work is queued or released, by any
// node.
func (s *Store) Wake() <-chan struct{} { return s.v.wake }

// Backlog counts the queued deliveries per endpoint and finds the earliest due time.
func (s *Store) Backlog(ctx context.Context) (gateway.Backlog, error) {
	if err := ctx.Err(); err != nil {
		return gateway.Backlog{}, fmt.Errorf("backlog: %w", err)
	}
	if err := s.enter(); err != nil {
		return gateway.Backlog{}, fmt.Errorf("backlog: %w", err)
	}
	defer s.end()
	defer s.v.mu.Unlock()
	b := gateway.Backlog{Pending: map[string]int{}}
	count := func(r *dRec) bool {
		b.Pending[r.d.EndpointID]++
		if b.OldestDue.IsZero() || r.due.Before(b.OldestDue) {
			b.OldestDue = r.due
		}
		return true
	}
	s.v.ready.Ascend(count)
	s.v.hidden.Ascend(count)
	return b, nil
}

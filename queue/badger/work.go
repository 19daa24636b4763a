package badger

import (
	"context"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger/internal/kv"
)

// Lease hands out up to max due deliveries, oldest due first, each hidden for ttl. The
// queue is the engine's job index: in memory, refilled in due order from disk for backlogs
// larger than MemJobs. Leases live in memory: after a restart every queued delivery is due
// at its stored time again.
func (s *Store) Lease(ctx context.Context, now time.Time, max int, ttl time.Duration) ([]gateway.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	var leased []kv.Job
	err := s.read(func() error { // a Lease may read the disk index
		var err error
		leased, err = s.db.Lease(now, max, ttl)
		return err
	})
	out := jobs(leased)
	if err != nil {
		return out, fmt.Errorf("lease: %w", err)
	}
	return out, nil
}

// LeaseIDs leases those of ids that are queued, due at or before now and not leased, ahead
// of older due work (gateway.IDLeaser): the deliveries of new events, which the dispatcher
// knows from their publish. The engine finds them in memory (queued since Open, or in its
// in-memory window); one it would have to look for on disk is skipped, and Lease hands it
// out in due order.
func (s *Store) LeaseIDs(ctx context.Context, now time.Time, ids []string, ttl time.Duration) ([]gateway.Job, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("lease: %w", err)
	}
	if err := s.live(); err != nil {
		return nil, err
	}
	return jobs(s.db.LeaseIDs(now, ids, ttl)), nil
}

// jobs converts the engine's jobs (whose data is the endpoint id).
func jobs(js []kv.Job) []gateway.Job {
	out := make([]gateway.Job, len(js))
	for i, j := range js {
		out[i] = gateway.Job{Delivery: j.ID, Endpoint: string(j.Data), Due: j.Due}
	}
	return out
}

// Hold keeps leased job id hidden until until, without touching its delivery.
func (s *Store) Hold(id string, until time.Time) {
	if s.live() == nil {
		s.db.Hold(id, until)
	}
}

// Release gives leased job id back, due at once.
func (s *Store) Release(id string) {
	if s.live() == nil {
		s.db.Release(id)
	}
}

// NextDue reports when Lease may next return something: the earliest of the first queued
// job's due time and the first lease expiry.
func (s *Store) NextDue(now time.Time) (time.Time, bool) {
	var (
		next time.Time
		ok   bool
	)
	s.read(func() error { // NextDue may read the disk index
		next, ok = s.db.NextDue(now)
		return nil
	})
	return next, ok
}

// Wake returns a channel that receives a value whenever work is queued or released.
func (s *Store) Wake() <-chan struct{} { return s.db.Wake() }

// Backlog counts the queued deliveries per endpoint (a job's data is its endpoint id) and
// finds the earliest due time, in one pass over the engine's job index on disk.
func (s *Store) Backlog(ctx context.Context) (gateway.Backlog, error) {
	if err := ctx.Err(); err != nil {
		return gateway.Backlog{}, fmt.Errorf("backlog: %w", err)
	}
	var b gateway.Backlog
	err := s.read(func() error {
		var err error
		b.Pending, b.OldestDue, err = s.db.Backlog()
		return err
	})
	if err != nil {
		return gateway.Backlog{}, fmt.Errorf("backlog: %w", err)
	}
	return b, nil
}

package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/internal/index"
)

// Delivery returns a copy of the delivery with id.
func (s *Store) Delivery(ctx context.Context, id string) (*gateway.Delivery, error) {
	if err := s.lock(); err != nil {
		return nil, fmt.Errorf("delivery %s: %w", id, err)
	}
	defer s.mu.Unlock()
	d, ok := s.deliveries[id]
	if !ok {
		return nil, fmt.Errorf("delivery %s: %w", id, gateway.ErrNotFound)
	}
	return index.CopyDelivery(d), nil
}

// hasDelivery reports whether the delivery id is stored (the Store's lock is held).
func (s *Store) hasDelivery(id string) bool {
	_, ok := s.deliveries[id]
	return ok
}

// SaveDeliveries writes ds if every stored revision is still its d.Rev, all or none, and
// queues or unqueues each (see gateway.Deliveries). Revisions count 1, 2, 3… per delivery.
func (s *Store) SaveDeliveries(ctx context.Context, ds ...*gateway.Delivery) error {
	for _, d := range ds {
		if d == nil || d.ID == "" {
			return fmt.Errorf("save deliveries: a delivery without an id")
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save deliveries: %w", err)
	}
	if err := s.lock(); err != nil {
		return fmt.Errorf("save deliveries: %w", err)
	}
	defer s.mu.Unlock()
	seen := make(map[string]bool, len(ds))
	for _, d := range ds {
		if seen[d.ID] {
			return fmt.Errorf("save delivery %s: twice in one call: %w", d.ID, gateway.ErrConflict)
		}
		seen[d.ID] = true
		var rev uint64
		if old, ok := s.deliveries[d.ID]; ok {
			rev = old.Rev
		}
		if rev != d.Rev {
			return fmt.Errorf("save delivery %s: at revision %d, not %d: %w", d.ID, rev, d.Rev, gateway.ErrConflict)
		}
	}
	now := time.Now()
	queued := false
	for _, d := range ds {
		d.Rev++
		queued = s.putDelivery(s.deliveries[d.ID], index.CopyDelivery(d), now) || queued
	}
	if queued {
		s.signal()
	}
	return nil
}

// putDelivery stores d (replacing old, nil for a new one), updates the index and the work
// queue, and reports whether d was queued.
func (s *Store) putDelivery(old, d *gateway.Delivery, now time.Time) bool {
	s.byCreated.Put(old, d)
	s.deliveries[d.ID] = d
	if d.Status != gateway.StatusPending {
		s.unqueue(d.ID)
		return false
	}
	due := now
	if d.NextAttemptAt != nil {
		due = *d.NextAttemptAt
	}
	s.enqueue(d.ID, d.EndpointID, due)
	return true
}

// dropDelivery removes the delivery id, its index entries and its job.
func (s *Store) dropDelivery(id string) {
	d, ok := s.deliveries[id]
	if !ok {
		return
	}
	delete(s.deliveries, id)
	s.byCreated.Delete(d)
	s.unqueue(id)
}

// ListDeliveries lists deliveries by creation (see gateway.DeliveryQuery and index.List).
func (s *Store) ListDeliveries(ctx context.Context, q gateway.DeliveryQuery) (*gateway.DeliveryRange, error) {
	if err := s.lock(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer s.mu.Unlock()
	return s.byCreated.List(q, func(id string) *gateway.Delivery { return s.deliveries[id] })
}

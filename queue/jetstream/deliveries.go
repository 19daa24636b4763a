package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/internal/index"
)

// Delivery returns a copy of the delivery with id.
func (s *Store) Delivery(ctx context.Context, id string) (*gateway.Delivery, error) {
	if err := s.enter(); err != nil {
		return nil, fmt.Errorf("delivery %s: %w", id, err)
	}
	defer s.end()
	defer s.v.mu.Unlock()
	r, ok := s.v.dels[id]
	if !ok {
		return nil, fmt.Errorf("delivery %s: %w", id, gateway.ErrNotFound)
	}
	return index.CopyDelivery(r.d), nil
}

// SaveDeliveries writes ds if every stored revision is still its d.Rev, all or none, in
// one atomic batch of up to 1,000 (see gateway.Deliveries). Revisions count 1, 2, 3… per
// delivery; a lease or hold written meanwhile by another node does not change them, so the
// save is tried again on the new state. A pending delivery without NextAttemptAt is due at
// this node's wall clock.
func (s *Store) SaveDeliveries(ctx context.Context, ds ...*gateway.Delivery) error {
	for _, d := range ds {
		if d == nil || d.ID == "" {
			return errors.New("save deliveries: a delivery without an id")
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("save deliveries: %w", err)
	}
	if len(ds) == 0 {
		return nil
	}
	if err := s.begin(); err != nil {
		return fmt.Errorf("save deliveries: %w", err)
	}
	defer s.end()
	if len(ds) > maxBatch {
		return fmt.Errorf("save deliveries: %d at once, more than %d: %w", len(ds), maxBatch, gateway.ErrTooLarge)
	}
	now := time.Now()
	seen := make(map[string]bool, len(ds))
	for _, d := range ds {
		if seen[d.ID] {
			return fmt.Errorf("save delivery %s: twice in one call: %w", d.ID, gateway.ErrConflict)
		}
		seen[d.ID] = true
	}
	seq, err := s.retry(ctx, func() (uint64, error) {
		return s.planned(ctx, func() ([]outMsg, error) {
			msgs := make([]outMsg, len(ds))
			for i, d := range ds {
				var (
					rev     uint64
					addedTo string
				)
				if r, ok := s.v.dels[d.ID]; ok {
					rev, addedTo = r.d.Rev, r.addedTo
				}
				if rev != d.Rev {
					return nil, fmt.Errorf("delivery %s at revision %d, not %d: %w", d.ID, rev, d.Rev, gateway.ErrConflict)
				}
				dm := queuedMsg(d, d.Rev+1, now)
				dm.AddedTo = addedTo
				b, err := json.Marshal(dm)
				if err != nil {
					return nil, fmt.Errorf("save delivery %s: %w", d.ID, err)
				}
				subj := s.v.subject(kindDelivery, token(d.ID))
				msgs[i] = outMsg{subject: subj, data: b, cas: true, expect: s.v.expect(subj)}
			}
			return msgs, nil
		})
	})
	if err != nil {
		return fmt.Errorf("save deliveries: %w", err)
	}
	if err := s.v.waitOwn(ctx, s.v.subject(kindDelivery, token(ds[len(ds)-1].ID)), seq); err != nil {
		return fmt.Errorf("save deliveries: %w", err)
	}
	for _, d := range ds {
		d.Rev++
	}
	return nil
}

// ListDeliveries lists deliveries by creation (see gateway.DeliveryQuery and index.List).
func (s *Store) ListDeliveries(ctx context.Context, q gateway.DeliveryQuery) (*gateway.DeliveryRange, error) {
	if err := s.enter(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer s.end()
	defer s.v.mu.Unlock()
	return s.v.byCreated.List(q, func(id string) *gateway.Delivery {
		if r, ok := s.v.dels[id]; ok {
			return r.d
		}
		return nil
	})
}

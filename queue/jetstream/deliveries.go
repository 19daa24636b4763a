package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// Delivery returns a copy of the delivery with id.
func (s *Store) Delivery(ctx context.Context, id string) (*gateway.Delivery, error) {
	if err := s.begin(); err != nil {
		return nil, fmt.Errorf("delivery %s: %w", id, err)
	}
	defer s.inflight.Done()
	if err := s.v.lock(); err != nil {
		return nil, fmt.Errorf("delivery %s: %w", id, err)
	}
	defer s.v.mu.Unlock()
	r, ok := s.v.dels[id]
	if !ok {
		return nil, fmt.Errorf("delivery %s: %w", id, gateway.ErrNotFound)
	}
	return copyDelivery(r.d), nil
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
	defer s.inflight.Done()
	if len(ds) > maxBatch {
		return fmt.Errorf("save deliveries: %d at once, more than %d: %w", len(ds), maxBatch, gateway.ErrTooLarge)
	}
	now := time.Now()
	bodies := make([][]byte, len(ds))
	seen := make(map[string]bool, len(ds))
	for i, d := range ds {
		if seen[d.ID] {
			return fmt.Errorf("save delivery %s: twice in one call: %w", d.ID, gateway.ErrConflict)
		}
		seen[d.ID] = true
		b, err := json.Marshal(queuedMsg(d, d.Rev+1, now))
		if err != nil {
			return fmt.Errorf("save delivery %s: %w", d.ID, err)
		}
		bodies[i] = b
	}
	seq, err := s.retry(ctx, func() (uint64, error) {
		if err := s.v.lock(); err != nil {
			return 0, err
		}
		msgs := make([]outMsg, len(ds))
		for i, d := range ds {
			var rev uint64
			if r, ok := s.v.dels[d.ID]; ok {
				rev = r.d.Rev
			}
			if rev != d.Rev {
				s.v.mu.Unlock()
				return 0, fmt.Errorf("delivery %s at revision %d, not %d: %w", d.ID, rev, d.Rev, gateway.ErrConflict)
			}
			subj := s.v.subject(kindDelivery, token(d.ID))
			msgs[i] = outMsg{subject: subj, data: bodies[i], cas: true, expect: s.v.expect(subj)}
		}
		s.v.mu.Unlock()
		return s.write(ctx, msgs)
	})
	if err != nil {
		return fmt.Errorf("save deliveries: %w", err)
	}
	if err := s.v.waitApplied(ctx, seq); err != nil {
		return fmt.Errorf("save deliveries: %w", err)
	}
	for _, d := range ds {
		d.Rev++
	}
	return nil
}

// ListDeliveries lists deliveries by creation (see gateway.DeliveryQuery): Limit defaults
// to 50 and is at most 1000, MaxScan 0 is no limit; records outside Since/Until are not
// read. After must name a stored delivery (ErrNotFound otherwise). Next is set when
// records are left past the page, to the last one read, matching or not.
func (s *Store) ListDeliveries(ctx context.Context, q gateway.DeliveryQuery) (*gateway.DeliveryRange, error) {
	limit := gateway.ClampLimit(q.Limit)
	if err := s.begin(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer s.inflight.Done()
	if err := s.v.lock(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer s.v.mu.Unlock()
	tree := s.v.byCreated
	if q.Endpoint != "" {
		tree = s.v.byEndpoint
	}
	var (
		cur    dkey
		hasCur = q.After != ""
	)
	if hasCur {
		r, ok := s.v.dels[q.After]
		if !ok {
			return nil, fmt.Errorf("list deliveries after %s: %w", q.After, gateway.ErrNotFound)
		}
		cur = dkey{ep: q.Endpoint, created: r.d.CreatedAt, id: r.d.ID}
	}
	out := &gateway.DeliveryRange{Deliveries: []*gateway.Delivery{}}
	var (
		scanned int
		last    string
		more    bool
	)
	visit := func(k dkey) bool {
		if k.ep != q.Endpoint {
			return false
		}
		if hasCur && k == cur {
			return true
		}
		if !q.Since.IsZero() && k.created.Before(q.Since) {
			return q.Oldest // newest first: nothing older is in range
		}
		if !q.Until.IsZero() && !k.created.Before(q.Until) {
			return !q.Oldest // oldest first: nothing newer is in range
		}
		if len(out.Deliveries) == limit || q.MaxScan > 0 && scanned == q.MaxScan {
			more = true
			return false
		}
		scanned++
		last = k.id
		if d := s.v.dels[k.id].d; q.Status == "" || d.Status == q.Status {
			out.Deliveries = append(out.Deliveries, copyDelivery(d))
		}
		return true
	}
	if q.Oldest {
		start := dkey{ep: q.Endpoint, created: q.Since}
		if hasCur && (q.Since.IsZero() || cur.created.After(q.Since)) {
			start = cur
		}
		tree.AscendGreaterOrEqual(start, visit)
	} else {
		var start dkey
		switch {
		case hasCur && (q.Until.IsZero() || cur.created.Before(q.Until)):
			start = cur
		case !q.Until.IsZero():
			start = dkey{ep: q.Endpoint, created: q.Until}
		default:
			start = dkey{ep: q.Endpoint + "\x00"}
		}
		tree.DescendLessOrEqual(start, visit)
	}
	if more {
		out.Next = last
	}
	return out, nil
}

package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// dkey places a delivery in a creation-ordered index: ep is "" in the index over all
// endpoints.
type dkey struct {
	ep      string
	created time.Time
	id      string
}

func dkeyLess(a, b dkey) bool {
	if a.ep != b.ep {
		return a.ep < b.ep
	}
	if c := a.created.Compare(b.created); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

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
	return copyDelivery(d), nil
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
		queued = s.putDelivery(s.deliveries[d.ID], copyDelivery(d), now) || queued
	}
	if queued {
		s.signal()
	}
	return nil
}

// putDelivery stores d (replacing old, nil for a new one), updates the indexes and the work
// queue, and reports whether d was queued.
func (s *Store) putDelivery(old, d *gateway.Delivery, now time.Time) bool {
	if old != nil && (old.EndpointID != d.EndpointID || !old.CreatedAt.Equal(d.CreatedAt)) {
		s.byCreated.Delete(dkey{created: old.CreatedAt, id: old.ID})
		s.byEndpoint.Delete(dkey{ep: old.EndpointID, created: old.CreatedAt, id: old.ID})
		old = nil
	}
	if old == nil {
		s.byCreated.ReplaceOrInsert(dkey{created: d.CreatedAt, id: d.ID})
		s.byEndpoint.ReplaceOrInsert(dkey{ep: d.EndpointID, created: d.CreatedAt, id: d.ID})
	}
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
	s.byCreated.Delete(dkey{created: d.CreatedAt, id: id})
	s.byEndpoint.Delete(dkey{ep: d.EndpointID, created: d.CreatedAt, id: id})
	s.unqueue(id)
}

// ListDeliveries lists deliveries by creation (see gateway.DeliveryQuery): Limit defaults
// to 50 and is at most 1000, MaxScan 0 is no limit; records outside Since/Until are not
// read. After must name a stored delivery (ErrNotFound otherwise). Next is set when
// records are left past the page, to the last one read, matching or not.
func (s *Store) ListDeliveries(ctx context.Context, q gateway.DeliveryQuery) (*gateway.DeliveryRange, error) {
	limit := gateway.ClampLimit(q.Limit)
	if err := s.lock(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer s.mu.Unlock()
	tree := s.byCreated
	if q.Endpoint != "" {
		tree = s.byEndpoint
	}
	var (
		cur    dkey
		hasCur = q.After != ""
	)
	if hasCur {
		d, ok := s.deliveries[q.After]
		if !ok {
			return nil, fmt.Errorf("list deliveries after %s: %w", q.After, gateway.ErrNotFound)
		}
		cur = dkey{ep: q.Endpoint, created: d.CreatedAt, id: d.ID}
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
		if d := s.deliveries[k.id]; q.Status == "" || d.Status == q.Status {
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

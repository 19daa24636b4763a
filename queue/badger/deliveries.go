package badger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger/internal/kv"
)

// indexDelivery writes d's index entries: by creation, by endpoint, and paused.
func indexDelivery(tx *kv.Txn, d *gateway.Delivery) {
	tx.Set(timeKey(pDeliveryTime, d.CreatedAt, d.ID), nil)
	tx.Set(timeKey(epDeliveryPrefix(d.EndpointID), d.CreatedAt, d.ID), nil)
	if d.Status == gateway.StatusPaused {
		tx.Set(timeKey(epPausedPrefix(d.EndpointID), d.CreatedAt, d.ID), nil)
	}
}

// reindexDelivery moves d's index entries from what old (nil: none) left: the creation
// indexes are rewritten only if their keys changed (they don't: a delivery's creation time
// and endpoint are fixed), the paused one as d's status comes into or leaves paused.
func reindexDelivery(tx *kv.Txn, old *deliveryKeys, d *gateway.Delivery) {
	if old == nil {
		indexDelivery(tx, d)
		return
	}
	if !old.CreatedAt.Equal(d.CreatedAt) || old.EndpointID != d.EndpointID {
		unindexDelivery(tx, old)
		indexDelivery(tx, d)
		return
	}
	switch wasPaused, paused := old.Status == gateway.StatusPaused, d.Status == gateway.StatusPaused; {
	case wasPaused && !paused:
		tx.Delete(timeKey(epPausedPrefix(d.EndpointID), d.CreatedAt, d.ID))
	case paused && !wasPaused:
		tx.Set(timeKey(epPausedPrefix(d.EndpointID), d.CreatedAt, d.ID), nil)
	}
}

// unindexDelivery removes what indexDelivery wrote for d.
func unindexDelivery(tx *kv.Txn, d *deliveryKeys) {
	tx.Delete(timeKey(pDeliveryTime, d.CreatedAt, d.ID))
	tx.Delete(timeKey(epDeliveryPrefix(d.EndpointID), d.CreatedAt, d.ID))
	if d.Status == gateway.StatusPaused {
		tx.Delete(timeKey(epPausedPrefix(d.EndpointID), d.CreatedAt, d.ID))
	}
}

// queueDelivery makes the work queue follow d, whose record replaces the one old describes
// (nil: d is new). The queue holds one job per pending delivery, due at its NextAttemptAt
// (at once when nil: due at the start of time, whatever the clock), and none for any other
// status; this is the one place that keeps it so, which is how the job a pending old left
// is found, at old's NextAttemptAt, and removed without a lookup.
func queueDelivery(tx *kv.Txn, old *deliveryKeys, d *gateway.Delivery) {
	if old != nil && old.Status == gateway.StatusPending {
		tx.Unschedule(d.ID, jobDue(old.NextAttemptAt))
	}
	if d.Status == gateway.StatusPending {
		tx.Schedule(d.ID, jobDue(d.NextAttemptAt), []byte(d.EndpointID))
	}
}

// jobDue is when the job of a pending delivery with NextAttemptAt next is due.
func jobDue(next *time.Time) time.Time {
	if next == nil {
		return time.Time{}
	}
	return *next
}

// deliveryKeys is what a delivery's index keys and its job are made of.
type deliveryKeys struct {
	ID            string                 `json:"id"`
	EndpointID    string                 `json:"endpoint_id"`
	Status        gateway.DeliveryStatus `json:"status"`
	NextAttemptAt *time.Time             `json:"next_attempt_at"`
	CreatedAt     time.Time              `json:"created_at"`
}

// loadDelivery reads delivery id with its revision.
func loadDelivery(r getter, id string) (*gateway.Delivery, error) {
	v, err := get(r, deliveryKey(id))
	if err != nil {
		return nil, err
	}
	rev, b, err := splitRev(deliveryKey(id), v)
	if err != nil {
		return nil, err
	}
	d, err := decodeDelivery(b)
	if err != nil {
		return nil, fmt.Errorf("decode delivery %s: %w", id, err)
	}
	d.Rev = rev
	return d, nil
}

// loadDeliveryKeys reads the revision, index fields and job time of delivery id.
func loadDeliveryKeys(r getter, id string) (uint64, *deliveryKeys, error) {
	v, err := get(r, deliveryKey(id))
	if err != nil {
		return 0, nil, err
	}
	rev, b, err := splitRev(deliveryKey(id), v)
	if err != nil {
		return 0, nil, err
	}
	d, err := decodeDeliveryKeys(b)
	if err != nil {
		return 0, nil, fmt.Errorf("decode delivery %s: %w", id, err)
	}
	return rev, d, nil
}

// Delivery returns delivery id.
func (s *Store) Delivery(ctx context.Context, id string) (*gateway.Delivery, error) {
	var d *gateway.Delivery
	err := s.view(func(r *kv.Reader) error {
		var err error
		d, err = loadDelivery(r, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("delivery %s: %w", id, err)
	}
	return d, nil
}

// SaveDeliveries writes ds in one transaction if every stored revision is still d.Rev.
//
// What a save replaces (the old record's index fields and job time) is read and decoded
// here, outside the single committer, which only compares each stored revision (8 bytes)
// with d.Rev: the record those fields came from is the one whose revision the committer
// finds, or the save fails with ErrConflict. The commit is lazy (kv.UpdateLazy): most saves record a
// finished attempt, and they share the fsync of the next publish.
func (s *Store) SaveDeliveries(ctx context.Context, ds ...*gateway.Delivery) error {
	if len(ds) == 0 {
		return s.live()
	}
	puts := make([]put, len(ds))
	err := s.view(func(r *kv.Reader) error {
		for i, d := range ds {
			if d.ID == "" {
				return errors.New("a delivery without an id")
			}
			rev, old, err := loadDeliveryKeys(r, d.ID)
			switch {
			case errors.Is(err, gateway.ErrNotFound):
				rev, old = 0, nil
			case err != nil:
				return err
			}
			if rev != d.Rev {
				return fmt.Errorf("delivery %s is at revision %d, not %d: %w", d.ID, rev, d.Rev, gateway.ErrConflict)
			}
			puts[i] = put{d: d, old: old}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save deliveries: %w", err)
	}
	return s.writeDeliveries(ctx, puts)
}

// UpdateDelivery saves d, which the caller read as was at revision d.Rev (see
// gateway.DeliveryUpdater): SaveDeliveries without its read, the index fields and job time
// of the record replaced taken from was. The committer's compare of the stored revision with d.Rev
// is what makes them right: was is that revision's record, or the save fails with
// ErrConflict.
func (s *Store) UpdateDelivery(ctx context.Context, was, d *gateway.Delivery) error {
	if was == nil || d == nil || d.ID == "" || was.ID != d.ID || was.Rev != d.Rev || d.Rev == 0 {
		return s.SaveDeliveries(ctx, d)
	}
	p := []put{{d: d, was: deliveryKeys{ID: was.ID, EndpointID: was.EndpointID, Status: was.Status,
		NextAttemptAt: was.NextAttemptAt, CreatedAt: was.CreatedAt}}}
	p[0].old = &p[0].was
	return s.writeDeliveries(ctx, p)
}

var _ gateway.DeliveryUpdater = (*Store)(nil)

// put is one delivery to save: d, the index fields and job time of the record it replaces
// (old; nil when there is none), and its encoding. was holds old when the caller knew it, so that
// one allocation holds all of it.
type put struct {
	d   *gateway.Delivery
	old *deliveryKeys
	was deliveryKeys
	enc []byte
}

// writeDeliveries writes ps (each with an id) in one lazy commit that checks every
// revision again.
func (s *Store) writeDeliveries(ctx context.Context, ps []put) error {
	for i := range ps {
		d := ps[i].d
		var err error
		if ps[i].enc, err = encodeDelivery(d.Rev+1, d); err != nil {
			return fmt.Errorf("save delivery %s: encode: %w", d.ID, err)
		}
	}
	err := s.updateLazy(ctx, func(tx *kv.Txn) error {
		for _, p := range ps {
			rev, err := storedRev(tx, p.d.ID)
			if err != nil {
				return err
			}
			if rev != p.d.Rev {
				return fmt.Errorf("delivery %s is at revision %d, not %d: %w", p.d.ID, rev, p.d.Rev, gateway.ErrConflict)
			}
			reindexDelivery(tx, p.old, p.d)
			tx.Set(deliveryKey(p.d.ID), p.enc)
			queueDelivery(tx, p.old, p.d)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save deliveries: %w", err)
	}
	for _, p := range ps {
		p.d.Rev++
	}
	return nil
}

// storedRev is the revision of delivery id as stored (0 when there is none), read without
// decoding the record.
func storedRev(r getter, id string) (uint64, error) {
	v, err := get(r, deliveryKey(id))
	if errors.Is(err, gateway.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	rev, _, err := splitRev(deliveryKey(id), v)
	return rev, err
}

// ListDeliveries lists deliveries by creation (see gateway.DeliveryQuery). A paused-only
// list of one endpoint reads its paused index; others read the endpoint's or the global
// creation index and filter by status.
func (s *Store) ListDeliveries(ctx context.Context, q gateway.DeliveryQuery) (*gateway.DeliveryRange, error) {
	limit := gateway.ClampLimit(q.Limit)
	prefix := pDeliveryTime
	switch {
	case q.Endpoint != "" && q.Status == gateway.StatusPaused:
		prefix = epPausedPrefix(q.Endpoint)
	case q.Endpoint != "":
		prefix = epDeliveryPrefix(q.Endpoint)
	}
	out := &gateway.DeliveryRange{Deliveries: []*gateway.Delivery{}}
	err := s.view(func(r *kv.Reader) error {
		// The scan runs from start (inclusive) and skips the key skip (the cursor itself).
		var start, skip, stop []byte
		reverse := !q.Oldest
		if reverse {
			if !q.Until.IsZero() {
				start = timeKey(prefix, q.Until, "") // every key of Until itself sorts after
			}
			if !q.Since.IsZero() {
				stop = timeKey(prefix, q.Since, "") // keys before it are out of range
			}
		} else {
			if !q.Since.IsZero() {
				start = timeKey(prefix, q.Since, "")
			}
			if !q.Until.IsZero() {
				stop = timeKey(prefix, q.Until, "") // keys at or after it are out of range
			}
		}
		if q.After != "" {
			_, d, err := loadDeliveryKeys(r, q.After)
			if err != nil {
				return fmt.Errorf("after %s: %w", q.After, err)
			}
			k := timeKey(prefix, d.CreatedAt, d.ID)
			if start == nil || reverse == (string(k) < string(start)) {
				start = k
			}
			skip = k
		}
		scanned := 0
		var last string
		return r.Scan([]byte(prefix), start, reverse, func(k, _ []byte) (bool, error) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			if skip != nil && string(k) == string(skip) {
				return true, nil
			}
			if stop != nil && (reverse && string(k) < string(stop) || !reverse && string(k) >= string(stop)) {
				return false, nil
			}
			if len(out.Deliveries) == limit || q.MaxScan > 0 && scanned == q.MaxScan {
				out.Next = last
				return false, nil
			}
			scanned++
			id := timeKeyID([]byte(prefix), k)
			last = id
			d, err := loadDelivery(r, id)
			if errors.Is(err, gateway.ErrNotFound) {
				return true, nil
			}
			if err != nil {
				return false, err
			}
			if q.Status == "" || d.Status == q.Status {
				out.Deliveries = append(out.Deliveries, d)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

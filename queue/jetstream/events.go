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

// Append stores a.Event with its deliveries and its dedupe key in one message and returns
// once the stream acknowledged it and this node's view holds it (see gateway.EventLog). The event's Seq is the message's stream sequence; each delivery's Rev
// is 1. A pending delivery without NextAttemptAt is due at this node's wall clock.
func (s *Store) Append(ctx context.Context, a *gateway.Append) (*gateway.Appended, error) {
	if err := index.CheckAppend(ctx, a); err != nil {
		return nil, err
	}
	if err := s.begin(); err != nil {
		return nil, fmt.Errorf("append %s: %w", a.Event.ID, err)
	}
	defer s.end()
	now := time.Now()
	em := eventMsg{Event: a.Event, Dedupe: a.Dedupe, Window: a.DedupeFor, Deliveries: make([]*deliveryMsg, len(a.Deliveries))}
	for i, d := range a.Deliveries {
		em.Deliveries[i] = queuedMsg(d, 1, now)
	}
	body, err := json.Marshal(&em)
	if err != nil {
		return nil, fmt.Errorf("append %s: %w", a.Event.ID, err)
	}
	var (
		dup  *gateway.Appended
		ktok = noKey
	)
	if a.Dedupe != "" {
		ktok = dedupeToken(a.Dedupe)
	}
	subj := s.v.eventSubject(ktok, a.Event.ID)
	seq, err := s.retry(ctx, func() (uint64, error) {
		return s.planned(ctx, func() ([]outMsg, error) {
			// One message: the compare-and-swap is on the last message under the event's key
			// (so two nodes appending under one key cannot both succeed), or, without a key,
			// on the event's own subject.
			m := outMsg{subject: subj, data: body, cas: true}
			if ktok != noKey {
				if r, ok := s.v.dedupe[ktok]; ok && r.live(a.Event.ReceivedAt) {
					dup = &gateway.Appended{ID: r.ID, Seq: r.Seq, Duplicate: true}
					return nil, nil
				}
				m.expect, m.expectOf = s.v.expectKey(ktok), s.v.subject(kindEvent, ktok, "*")
			} else {
				m.expect = s.v.expect(subj)
			}
			if _, ok := s.v.events[a.Event.ID]; ok {
				return nil, fmt.Errorf("the event is already stored: %w", gateway.ErrConflict)
			}
			if err := index.CheckNew(a.Deliveries, s.v.hasDelivery); err != nil {
				return nil, err
			}
			return []outMsg{m}, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("append %s: %w", a.Event.ID, err)
	}
	if dup != nil {
		return dup, nil
	}
	if err := s.v.waitOwn(ctx, subj, seq); err != nil {
		return nil, fmt.Errorf("append %s: %w", a.Event.ID, err)
	}
	a.Event.Seq = gateway.Seq(seq)
	for _, d := range a.Deliveries {
		d.Rev = 1
	}
	return &gateway.Appended{ID: a.Event.ID, Seq: gateway.Seq(seq)}, nil
}

// kindAdded is the subject token of AddDeliveries' markers: a message whose only use is
// to check, in the same atomic batch as the deliveries, that their event is still there.
const kindAdded = "ad"

// AddDeliveries adds ds to the stored event eventID (see gateway.EventLog): one atomic
// batch of a marker that expects the event's message to be the one the view holds (so an
// event trimmed meanwhile is ErrNotFound) and a message per delivery, each marked with the
// event, which the view lists it on. At most 999 deliveries in one call.
func (s *Store) AddDeliveries(ctx context.Context, eventID string, ds ...*gateway.Delivery) error {
	if err := index.CheckAdd(ctx, eventID, ds); err != nil {
		return err
	}
	if len(ds) == 0 {
		return nil
	}
	if err := s.begin(); err != nil {
		return fmt.Errorf("add deliveries to %s: %w", eventID, err)
	}
	defer s.end()
	if len(ds) >= maxBatch {
		return fmt.Errorf("add deliveries to %s: %d at once, more than %d: %w", eventID, len(ds), maxBatch-1, gateway.ErrTooLarge)
	}
	now := time.Now()
	bodies := make([][]byte, len(ds))
	for i, d := range ds {
		dm := queuedMsg(d, 1, now)
		dm.AddedTo = eventID
		b, err := json.Marshal(dm)
		if err != nil {
			return fmt.Errorf("add delivery %s to %s: %w", d.ID, eventID, err)
		}
		bodies[i] = b
	}
	seq, err := s.retry(ctx, func() (uint64, error) {
		return s.planned(ctx, func() ([]outMsg, error) {
			rec, ok := s.v.events[eventID]
			if !ok {
				return nil, gateway.ErrNotFound
			}
			if err := index.CheckNew(ds, s.v.hasDelivery); err != nil {
				return nil, err
			}
			msgs := make([]outMsg, 0, len(ds)+1)
			msgs = append(msgs, outMsg{subject: s.v.subject(kindAdded, token(eventID)), ttl: time.Minute,
				cas: true, expectOf: rec.subject, expect: s.v.expect(rec.subject)})
			for i, d := range ds {
				subj := s.v.subject(kindDelivery, token(d.ID))
				msgs = append(msgs, outMsg{subject: subj, data: bodies[i], cas: true, expect: s.v.expect(subj)})
			}
			return msgs, nil
		})
	})
	if err != nil {
		return fmt.Errorf("add deliveries to %s: %w", eventID, err)
	}
	if err := s.v.waitOwn(ctx, s.v.subject(kindDelivery, token(ds[len(ds)-1].ID)), seq); err != nil {
		return fmt.Errorf("add deliveries to %s: %w", eventID, err)
	}
	for _, d := range ds {
		d.Rev = 1
	}
	return nil
}

// queuedMsg is the record of d at revision rev: queued when pending, due at its
// NextAttemptAt or now.
func queuedMsg(d *gateway.Delivery, rev uint64, now time.Time) *deliveryMsg {
	dm := &deliveryMsg{Delivery: d, Rev: rev}
	if d.Status == gateway.StatusPending {
		due := now
		if d.NextAttemptAt != nil {
			due = *d.NextAttemptAt
		}
		dm.Due = &due
	}
	return dm
}

// Event returns a copy of the event with id.
func (s *Store) Event(ctx context.Context, id string) (*gateway.StoredEvent, error) {
	if err := s.enter(); err != nil {
		return nil, fmt.Errorf("event %s: %w", id, err)
	}
	defer s.end()
	defer s.v.mu.Unlock()
	rec, ok := s.v.events[id]
	if !ok {
		return nil, fmt.Errorf("event %s: %w", id, gateway.ErrNotFound)
	}
	return index.CopyEvent(rec.ev), nil
}

// Appended returns a channel closed when the next event is appended by any node (or when
// the store closes).
func (s *Store) Appended() <-chan struct{} {
	s.v.mu.Lock()
	defer s.v.mu.Unlock()
	return s.v.appended
}

// Events reads the log in Seq order (see gateway.EventQuery).
func (s *Store) Events(ctx context.Context, q gateway.EventQuery) (*gateway.EventRange, error) {
	if err := s.begin(); err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	defer s.end()
	return index.ReadEvents(ctx, q, func(newest, started bool, cursor gateway.Seq, since time.Time) ([]*gateway.StoredEvent, error) {
		if err := s.v.lock(); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		defer s.v.mu.Unlock()
		return index.Batch(s.v.bySeq, func(seq gateway.Seq) *evRec { return &evRec{ev: &gateway.StoredEvent{Seq: seq}} },
			func(r *evRec) *gateway.StoredEvent { return r.ev }, newest, started, cursor, since), nil
	})
}

// Trim removes up to max events received before before whose deliveries are all finished
// or missing, with those deliveries: for each event one atomic batch of tombstones (its
// message — holding its dedupe key while the key's window lasts — and its deliveries'
// messages). It reads the log oldest first and stops at the first event
// received at or after before. Dedupe keys of trimmed events whose window ended before
// before are removed.
func (s *Store) Trim(ctx context.Context, before time.Time, max int) (int, error) {
	if err := s.enter(); err != nil {
		return 0, fmt.Errorf("trim: %w", err)
	}
	defer s.end()
	s.v.forgetTombstones()
	var orphans []outMsg
	for ktok, r := range s.v.dedupe {
		if r.Trimmed && (r.Window == 0 || !r.ReceivedAt.Add(r.Window).After(before)) {
			subj := s.v.eventSubject(ktok, r.ID)
			orphans = append(orphans, outMsg{subject: subj, del: true, cas: true, expect: s.v.expect(subj)})
		}
	}
	var doomed []string
	s.v.bySeq.Ascend(func(r *evRec) bool {
		if len(doomed) == max || !r.ev.ReceivedAt.Before(before) {
			return false
		}
		for _, id := range r.ev.Deliveries {
			if d, ok := s.v.dels[id]; ok && index.Unfinished(d.d) {
				return true
			}
		}
		doomed = append(doomed, r.ev.ID)
		return true
	})
	s.v.mu.Unlock()
	for i := 0; i < len(orphans); i += maxBatch {
		if _, err := s.write(ctx, orphans[i:min(i+maxBatch, len(orphans))]); err != nil && !errors.Is(err, errCAS) {
			return 0, fmt.Errorf("trim: dedupe keys: %w", err)
		}
	}
	n := 0
	for _, id := range doomed {
		ok, err := s.trimEvent(ctx, id, before)
		if err != nil {
			return n, fmt.Errorf("trim: event %s: %w", id, err)
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// trimEvent removes the event id with its deliveries, unless one of them became pending or
// paused meanwhile, and reports whether it did.
func (s *Store) trimEvent(ctx context.Context, id string, before time.Time) (bool, error) {
	removed := false
	seq, err := s.retry(ctx, func() (uint64, error) {
		return s.planned(ctx, func() ([]outMsg, error) {
			removed = false
			rec, ok := s.v.events[id]
			if !ok {
				return nil, nil
			}
			m := outMsg{subject: rec.subject, del: true, cas: true, expect: s.v.expect(rec.subject)}
			if r := rec.dedupe; r != nil && r.Window > 0 && r.ReceivedAt.Add(r.Window).After(before) {
				// The key outlives its event: the tombstone keeps it until its window ends.
				kept := *r
				kept.Trimmed = true
				b, err := json.Marshal(&kept)
				if err != nil {
					return nil, err
				}
				m.data, m.ttl = b, max(s.opts.TombstoneTTL, time.Until(r.ReceivedAt.Add(r.Window))+time.Minute)
			}
			msgs := []outMsg{m}
			for _, did := range rec.ev.Deliveries {
				d, ok := s.v.dels[did]
				if !ok {
					continue
				}
				if index.Unfinished(d.d) {
					return nil, nil
				}
				subj := s.v.subject(kindDelivery, token(did))
				if exp := s.v.expect(subj); exp != 0 && d.fromEventOf == "" {
					msgs = append(msgs, outMsg{subject: subj, del: true, cas: true, expect: exp})
				}
			}
			removed = true
			return msgs, nil
		})
	})
	if err != nil || !removed {
		return false, err
	}
	return true, s.v.waitApplied(ctx, seq)
}

// writeChunked writes msgs, in atomic batches of up to maxBatch when there are more: the
// first batch holds the event's tombstone, so that a crash between batches leaves finished
// deliveries without their event, never an event back with its deliveries.
func (s *Store) writeChunked(ctx context.Context, msgs []outMsg) (uint64, error) {
	var last uint64
	for i := 0; i < len(msgs); i += maxBatch {
		seq, err := s.write(ctx, msgs[i:min(i+maxBatch, len(msgs))])
		if err != nil {
			return 0, err
		}
		last = seq
	}
	return last, nil
}

// Package memory is a gateway.Store kept entirely in memory: events, deliveries, the work
// queue, the registry and the request logs live in maps and B-trees of one process and are
// lost when it exits (or when the Store is dropped). It is for tests, where it spares the
// disk, and for `hookgate serve --store memory` and `hookgate bench --store memory`, where
// durability is not wanted. Every operation is safe for concurrent use; Append,
// SaveDeliveries and Lease cost O(log n) in the number of records stored.
//
// Records are copied in and out: nothing the caller holds aliases what the Store keeps.
// Times the store itself needs (a pending delivery saved without NextAttemptAt is due
// "now", a request log entry's age) are read from the wall clock; the lease clock is the
// now passed to Lease and NextDue.
//
// It passes queue/queuetest.Run with Options{Volatile: true}.
package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/internal/index"
)

// Store is an in-memory gateway.Store. The zero value is not usable: call New.
type Store struct {
	mu     sync.Mutex
	closed bool
	done   chan struct{} // closed by Close: ends the Watch goroutines

	// Event log.
	seq      gateway.Seq
	events   map[string]*eventRec
	bySeq    *btree.BTreeG[*eventRec]
	dedupe   map[string]*dedupeRec
	orphans  map[string]struct{} // dedupe keys whose event was trimmed, kept for their window
	appended chan struct{}

	// Deliveries and their index by creation, over all endpoints and per endpoint.
	deliveries map[string]*gateway.Delivery
	byCreated  *index.Deliveries

	// Work queue: ready jobs by (due, id), leased or held ones by (until, id).
	jobs   map[string]*job
	ready  *btree.BTreeG[*job]
	hidden *btree.BTreeG[*job]
	wake   chan struct{}

	endpoints    *records[*gateway.Endpoint]
	sources      *records[*gateway.Source]
	eventTypes   *records[*gateway.EventTypeRecord]
	keys         *records[*gateway.APIKey]
	oauthClients *records[*gateway.OAuthClient]
	grants       *records[*gateway.Grant]

	requests map[string]*requestLog
}

var _ gateway.Store = (*Store)(nil)

// errClosed is what every call after Close returns.
var errClosed = fmt.Errorf("memory store: %w", gateway.ErrClosed)

// degree is the B-trees' degree.
const degree = 32

// New returns an empty Store.
func New() *Store {
	s := &Store{
		done:       make(chan struct{}),
		events:     map[string]*eventRec{},
		bySeq:      btree.NewG(degree, func(a, b *eventRec) bool { return a.ev.Seq < b.ev.Seq }),
		dedupe:     map[string]*dedupeRec{},
		orphans:    map[string]struct{}{},
		appended:   make(chan struct{}),
		deliveries: map[string]*gateway.Delivery{},
		byCreated:  index.NewDeliveries(),
		jobs:       map[string]*job{},
		ready:      btree.NewG(degree, readyLess),
		hidden:     btree.NewG(degree, hiddenLess),
		wake:       make(chan struct{}, 1),
		requests:   map[string]*requestLog{},
	}
	s.endpoints = newRecords[*gateway.Endpoint](s, "endpoint")
	s.sources = newRecords[*gateway.Source](s, "source")
	s.eventTypes = newRecords[*gateway.EventTypeRecord](s, "event type")
	s.keys = newRecords[*gateway.APIKey](s, "key")
	s.oauthClients = newRecords[*gateway.OAuthClient](s, "OAuth client")
	s.grants = newRecords[*gateway.Grant](s, "grant")
	return s
}

// Close drops everything the Store holds. Every call after it fails with an error wrapping
// gateway.ErrClosed (the calls that return no error do nothing); the channels of Watch are
// closed, and so is the one Appended returned, so that waiters look again and see the error.
// Closing twice is not an error.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	close(s.done)
	close(s.appended)
	s.endpoints.closeWatchers()
	s.sources.closeWatchers()
	s.eventTypes.closeWatchers()
	s.keys.closeWatchers()
	s.oauthClients.closeWatchers()
	s.grants.closeWatchers()
	s.events, s.dedupe, s.orphans, s.deliveries, s.jobs, s.requests = nil, nil, nil, nil, nil, nil
	s.bySeq.Clear(false)
	s.byCreated.Clear()
	s.ready.Clear(false)
	s.hidden.Clear(false)
	return nil
}

// lock takes the Store's lock, or fails when the Store is closed.
func (s *Store) lock() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errClosed
	}
	return nil
}

// eventRec is a stored event with the dedupe key it was appended under.
type eventRec struct {
	ev     *gateway.StoredEvent
	dedupe string
}

// dedupeRec is what a dedupe key remembers: the event appended under it and for how long.
type dedupeRec struct {
	id         string
	seq        gateway.Seq
	receivedAt time.Time
	window     time.Duration
	trimmed    bool
}

// live reports whether the key still dedupes an event received at t.
func (r *dedupeRec) live(t time.Time) bool {
	if r.window == 0 {
		return !r.trimmed
	}
	return t.Before(r.receivedAt.Add(r.window))
}

// Append stores a.Event and its deliveries at once (see gateway.EventLog). It sets
// a.Event.Seq and each delivery's Rev (1) on the caller's records.
func (s *Store) Append(ctx context.Context, a *gateway.Append) (*gateway.Appended, error) {
	if err := index.CheckAppend(ctx, a); err != nil {
		return nil, err
	}
	if err := s.lock(); err != nil {
		return nil, fmt.Errorf("append %s: %w", a.Event.ID, err)
	}
	defer s.mu.Unlock()
	if a.Dedupe != "" {
		if r, ok := s.dedupe[a.Dedupe]; ok && r.live(a.Event.ReceivedAt) {
			return &gateway.Appended{ID: r.id, Seq: r.seq, Duplicate: true}, nil
		}
	}
	if _, ok := s.events[a.Event.ID]; ok {
		return nil, fmt.Errorf("append %s: the event is already stored: %w", a.Event.ID, gateway.ErrConflict)
	}
	if err := index.CheckNew(a.Deliveries, s.hasDelivery); err != nil {
		return nil, fmt.Errorf("append %s: %w", a.Event.ID, err)
	}
	s.seq++
	ev := index.CopyEvent(a.Event)
	ev.Seq = s.seq
	rec := &eventRec{ev: ev, dedupe: a.Dedupe}
	s.events[ev.ID] = rec
	s.bySeq.ReplaceOrInsert(rec)
	if a.Dedupe != "" {
		delete(s.orphans, a.Dedupe)
		s.dedupe[a.Dedupe] = &dedupeRec{id: ev.ID, seq: ev.Seq, receivedAt: ev.ReceivedAt, window: a.DedupeFor}
	}
	now := time.Now()
	queued := false
	for _, d := range a.Deliveries {
		d.Rev = 1
		queued = s.putDelivery(nil, index.CopyDelivery(d), now) || queued
	}
	a.Event.Seq = ev.Seq
	close(s.appended)
	s.appended = make(chan struct{})
	if queued {
		s.signal()
	}
	return &gateway.Appended{ID: ev.ID, Seq: ev.Seq}, nil
}

// AddDeliveries adds ds to the stored event eventID (see gateway.EventLog).
func (s *Store) AddDeliveries(ctx context.Context, eventID string, ds ...*gateway.Delivery) error {
	if err := index.CheckAdd(ctx, eventID, ds); err != nil {
		return err
	}
	if err := s.lock(); err != nil {
		return fmt.Errorf("add deliveries to %s: %w", eventID, err)
	}
	defer s.mu.Unlock()
	rec, ok := s.events[eventID]
	if !ok {
		return fmt.Errorf("add deliveries to %s: %w", eventID, gateway.ErrNotFound)
	}
	if err := index.CheckNew(ds, s.hasDelivery); err != nil {
		return fmt.Errorf("add deliveries to %s: %w", eventID, err)
	}
	now := time.Now()
	queued := false
	for _, d := range ds {
		rec.ev.Deliveries = append(rec.ev.Deliveries, d.ID)
		d.Rev = 1
		queued = s.putDelivery(nil, index.CopyDelivery(d), now) || queued
	}
	if queued {
		s.signal()
	}
	return nil
}

// Event returns a copy of the event with id.
func (s *Store) Event(ctx context.Context, id string) (*gateway.StoredEvent, error) {
	if err := s.lock(); err != nil {
		return nil, fmt.Errorf("event %s: %w", id, err)
	}
	defer s.mu.Unlock()
	rec, ok := s.events[id]
	if !ok {
		return nil, fmt.Errorf("event %s: %w", id, gateway.ErrNotFound)
	}
	return index.CopyEvent(rec.ev), nil
}

// Appended returns a channel closed by the next Append (or by Close).
func (s *Store) Appended() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appended
}

// Events reads the log in Seq order (see gateway.EventQuery and index.ReadEvents). Events
// received before Since are passed over without counting towards MaxScan. Match runs
// without the Store's lock held, on copies.
func (s *Store) Events(ctx context.Context, q gateway.EventQuery) (*gateway.EventRange, error) {
	return index.ReadEvents(ctx, q, func(newest, started bool, cursor gateway.Seq, since time.Time) ([]*gateway.StoredEvent, error) {
		if err := s.lock(); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		defer s.mu.Unlock()
		return index.Batch(s.bySeq, func(seq gateway.Seq) *eventRec { return &eventRec{ev: &gateway.StoredEvent{Seq: seq}} },
			func(r *eventRec) *gateway.StoredEvent { return r.ev }, newest, started, cursor, since), nil
	})
}

// Trim removes up to max events received before before whose deliveries are all finished
// or missing, with those deliveries. It reads the log oldest first and stops at the first
// event received at or after before, so that a call costs what is old, not the whole log
// (an event appended later but received a little earlier waits for the next call). The
// dedupe key of a removed event stays until its window has passed (a window of 0 goes with
// the event); keys whose window ended before before are forgotten.
func (s *Store) Trim(ctx context.Context, before time.Time, max int) (int, error) {
	if err := s.lock(); err != nil {
		return 0, fmt.Errorf("trim: %w", err)
	}
	defer s.mu.Unlock()
	for key := range s.orphans {
		if r := s.dedupe[key]; r == nil || r.window == 0 || !r.receivedAt.Add(r.window).After(before) {
			delete(s.dedupe, key)
			delete(s.orphans, key)
		}
	}
	var doomed []*eventRec
	s.bySeq.Ascend(func(r *eventRec) bool {
		if len(doomed) == max {
			return false
		}
		if !r.ev.ReceivedAt.Before(before) {
			return false
		}
		for _, id := range r.ev.Deliveries {
			if d, ok := s.deliveries[id]; ok && index.Unfinished(d) {
				return true
			}
		}
		doomed = append(doomed, r)
		return true
	})
	for _, r := range doomed {
		for _, id := range r.ev.Deliveries {
			s.dropDelivery(id)
		}
		delete(s.events, r.ev.ID)
		s.bySeq.Delete(r)
		if r.dedupe == "" {
			continue
		}
		if d := s.dedupe[r.dedupe]; d != nil && d.id == r.ev.ID {
			if d.window == 0 || !d.receivedAt.Add(d.window).After(before) {
				delete(s.dedupe, r.dedupe)
			} else {
				d.trimmed = true
				s.orphans[r.dedupe] = struct{}{}
			}
		}
	}
	return len(doomed), nil
}

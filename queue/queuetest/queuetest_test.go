package queuetest_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/memory"
	"github.com/hookgate/hookgate/queue/queuetest"
)

// TestVolatile runs the suite on the memory backend, as queue/memory's own test does.
func TestVolatile(t *testing.T) {
	queuetest.Run(t, func(*testing.T, string) gateway.Store { return memory.New() }, queuetest.Options{Volatile: true})
}

// TestPersistent runs the whole suite, the subtests that reopen included, on a fake
// persistent backend: the memory store with a journal of the writes that succeeded, per
// folder, replayed into a fresh memory store on every open. It checks the suite itself:
// its reopen subtests pass on a backend that keeps exactly what it acknowledged.
func TestPersistent(t *testing.T) {
	var (
		mu       sync.Mutex
		journals = map[string]*journal{}
	)
	queuetest.Run(t, func(t *testing.T, dir string) gateway.Store {
		mu.Lock()
		j := journals[dir]
		if j == nil {
			j = &journal{}
			journals[dir] = j
		}
		mu.Unlock()
		return j.open(t)
	})
}

// journal is the writes one folder's stores acknowledged, in order.
type journal struct {
	mu  sync.Mutex
	ops []func(gateway.Store) error
}

func (j *journal) open(t *testing.T) gateway.Store {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := memory.New()
	for i, op := range j.ops {
		if err := op(st); err != nil {
			t.Fatalf("replaying write %d: %v", i, err)
		}
	}
	return &journaled{Store: st, j: j}
}

// do runs a write on st and journals it if it succeeds; writes are serialized so that the
// journal's order is the order they took effect.
func (j *journal) do(st gateway.Store, op func(gateway.Store) error) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := op(st); err != nil {
		return err
	}
	j.ops = append(j.ops, op)
	return nil
}

// journaled is a memory store whose writes go to its folder's journal.
type journaled struct {
	*memory.Store
	j *journal
}

func copyDelivery(d *gateway.Delivery) *gateway.Delivery {
	c := *d
	c.Attempts = slices.Clone(d.Attempts)
	if d.NextAttemptAt != nil {
		at := *d.NextAttemptAt
		c.NextAttemptAt = &at
	}
	return &c
}

func copyDeliveries(ds []*gateway.Delivery) []*gateway.Delivery {
	out := make([]*gateway.Delivery, len(ds))
	for i, d := range ds {
		out[i] = copyDelivery(d)
	}
	return out
}

// Append journals an Append that succeeds.
func (s *journaled) Append(ctx context.Context, a *gateway.Append) (*gateway.Appended, error) {
	ev := *a.Event
	ev.Deliveries = slices.Clone(a.Event.Deliveries)
	ds := copyDeliveries(a.Deliveries)
	var res *gateway.Appended
	first := true
	err := s.j.do(s.Store, func(st gateway.Store) error {
		e := ev
		r, err := st.Append(ctx, &gateway.Append{Event: &e, Deliveries: copyDeliveries(ds), Dedupe: a.Dedupe, DedupeFor: a.DedupeFor})
		if first {
			res, first = r, false
		}
		return err
	})
	if err == nil {
		a.Event.Seq = res.Seq
		for _, d := range a.Deliveries {
			d.Rev = 1
		}
	}
	return res, err
}

// AddDeliveries journals an AddDeliveries that succeeds.
func (s *journaled) AddDeliveries(ctx context.Context, eventID string, ds ...*gateway.Delivery) error {
	added := copyDeliveries(ds)
	err := s.j.do(s.Store, func(st gateway.Store) error { return st.AddDeliveries(ctx, eventID, copyDeliveries(added)...) })
	if err == nil {
		for _, d := range ds {
			d.Rev = 1
		}
	}
	return err
}

// SaveDeliveries journals a save that succeeds.
func (s *journaled) SaveDeliveries(ctx context.Context, ds ...*gateway.Delivery) error {
	saved := copyDeliveries(ds)
	err := s.j.do(s.Store, func(st gateway.Store) error { return st.SaveDeliveries(ctx, copyDeliveries(saved)...) })
	if err == nil {
		for _, d := range ds {
			d.Rev++
		}
	}
	return err
}

// Trim journals a Trim (replayed on the same state, it removes the same events).
func (s *journaled) Trim(ctx context.Context, before time.Time, max int) (int, error) {
	var n int
	first := true
	err := s.j.do(s.Store, func(st gateway.Store) error {
		m, err := st.Trim(ctx, before, max)
		if first {
			n, first = m, false
		}
		return err
	})
	return n, err
}

// LogRequest journals a logged call.
func (s *journaled) LogRequest(ctx context.Context, source string, e *gateway.SourceRequest, bound gateway.LogBound) error {
	c := *e
	return s.j.do(s.Store, func(st gateway.Store) error { return st.LogRequest(ctx, source, &c, bound) })
}

// DropRequests journals a dropped log.
func (s *journaled) DropRequests(ctx context.Context, source string) error {
	return s.j.do(s.Store, func(st gateway.Store) error { return st.DropRequests(ctx, source) })
}

// Endpoints returns the journaled endpoints.
func (s *journaled) Endpoints() gateway.Records[*gateway.Endpoint] {
	return &journaledRecords[*gateway.Endpoint]{Records: s.Store.Endpoints(), s: s, coll: gateway.Store.Endpoints}
}

// Sources returns the journaled sources.
func (s *journaled) Sources() gateway.Records[*gateway.Source] {
	return &journaledRecords[*gateway.Source]{Records: s.Store.Sources(), s: s, coll: gateway.Store.Sources}
}

// EventTypes returns the journaled event types.
func (s *journaled) EventTypes() gateway.Records[*gateway.EventTypeRecord] {
	return &journaledRecords[*gateway.EventTypeRecord]{Records: s.Store.EventTypes(), s: s, coll: gateway.Store.EventTypes}
}

// journaledRecords is a registry collection whose writes go to the journal.
type journaledRecords[T any] struct {
	gateway.Records[T]
	s    *journaled
	coll func(gateway.Store) gateway.Records[T]
}

// Put journals a Put that succeeds, with a copy of v.
func (r *journaledRecords[T]) Put(ctx context.Context, id string, v T, rev uint64) (uint64, error) {
	b, err := json.Marshal(v) // the caller may change v afterwards
	if err != nil {
		return 0, err
	}
	var got uint64
	first := true
	err = r.s.j.do(r.s.Store, func(st gateway.Store) error {
		var c T
		if err := json.Unmarshal(b, &c); err != nil {
			return err
		}
		n, err := r.coll(st).Put(ctx, id, c, rev)
		if first {
			got, first = n, false
		}
		return err
	})
	return got, err
}

// Delete journals a Delete that succeeds.
func (r *journaledRecords[T]) Delete(ctx context.Context, id string) error {
	return r.s.j.do(r.s.Store, func(st gateway.Store) error { return r.coll(st).Delete(ctx, id) })
}

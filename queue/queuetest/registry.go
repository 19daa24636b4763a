package queuetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// testRecords checks one registry collection: compare-and-swap on revisions, Get, List by
// id, Delete, copies, and a Watch that sees every change in order and closes with its ctx.
// mk builds a record whose content depends on v; mutate changes a record in place.
func testRecords[T any](t *testing.T, s *suite, coll func(gateway.Store) gateway.Records[T], mk func(id, v string) T, mutate func(T)) {
	st, _ := s.fresh(t)
	rs := coll(st)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watch := rs.Watch(wctx)
	type change struct {
		id      string
		rev     uint64
		deleted bool
		v       T
	}
	var want []change

	put := func(id, v string, rev uint64) uint64 {
		t.Helper()
		r, err := rs.Put(ctx, id, mk(id, v), rev)
		if err != nil {
			t.Fatalf("Put(%s, rev %d): %v", id, rev, err)
		}
		if r <= rev {
			t.Fatalf("Put(%s, rev %d) returned rev %d, want a later one", id, rev, r)
		}
		want = append(want, change{id: id, rev: r, v: mk(id, v)})
		return r
	}
	get := func(id, v string, rev uint64) {
		t.Helper()
		got, r, err := rs.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get(%s): %v", id, err)
		}
		if r != rev {
			t.Errorf("Get(%s) rev = %d, want %d", id, r, rev)
		}
		sameJSON(t, "Get("+id+")", got, mk(id, v))
	}

	b1 := put("b", "one", 0)
	a1 := put("a", "one", 0)
	get("a", "one", a1)
	_, err := rs.Put(ctx, "a", mk("a", "again"), 0)
	wantConflict(t, "Put of an existing id with rev 0", err)
	a2 := put("a", "two", a1)
	_, err = rs.Put(ctx, "a", mk("a", "stale"), a1)
	wantConflict(t, "Put with a stale rev", err)
	_, err = rs.Put(ctx, "c", mk("c", "x"), 5)
	wantConflict(t, "Put of a new id with rev 5", err)
	get("a", "two", a2)
	get("b", "one", b1)
	_, _, err = rs.Get(ctx, "c")
	wantNotFound(t, "Get of an id never stored", err)

	c1 := put("c", "one", 0)
	list, err := rs.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	sameJSON(t, "List", list, []T{mk("a", "two"), mk("b", "one"), mk("c", "one")})

	// Copies: what Get and List return, and what Put was given, are the caller's.
	got, _, _ := rs.Get(ctx, "c")
	mutate(got)
	mutate(list[0])
	given := mk("d", "one")
	d1, err := rs.Put(ctx, "d", given, 0)
	if err != nil {
		t.Fatalf("Put(d): %v", err)
	}
	want = append(want, change{id: "d", rev: d1, v: mk("d", "one")})
	mutate(given)
	get("c", "one", c1)
	get("a", "two", a2)
	get("d", "one", d1)

	if err := rs.Delete(ctx, "b"); err != nil {
		t.Fatalf("Delete(b): %v", err)
	}
	want = append(want, change{id: "b", deleted: true})
	_, _, err = rs.Get(ctx, "b")
	wantNotFound(t, "Get after Delete", err)
	wantNotFound(t, "Delete again", rs.Delete(ctx, "b"))
	b2 := put("b", "reborn", 0)
	get("b", "reborn", b2)

	for i, w := range want {
		select {
		case c, ok := <-watch:
			if !ok {
				t.Fatalf("Watch closed after %d changes, want %d", i, len(want))
			}
			if c.ID != w.id || c.Deleted != w.deleted || !w.deleted && c.Rev != w.rev {
				t.Errorf("change %d = %s rev %d deleted %v, want %s rev %d deleted %v", i, c.ID, c.Rev, c.Deleted, w.id, w.rev, w.deleted)
			}
			if !w.deleted {
				sameJSON(t, "the value of change "+w.id, c.Value, w.v)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Watch: change %d of %d not seen within 5 s", i, len(want))
		}
	}

	// A second watcher sees only what follows its Watch; ending the ctx closes the channel.
	wctx2, cancel2 := context.WithCancel(ctx)
	second := rs.Watch(wctx2)
	put("e", "one", 0)
	for _, ch := range []<-chan gateway.Change[T]{watch, second} {
		select {
		case c := <-ch:
			if c.ID != "e" {
				t.Errorf("next change = %s, want e", c.ID)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the change after a second Watch not seen within 5 s")
		}
	}
	cancel2()
	waitClosed(t, "the second Watch after its ctx ended", second)
	cancel()
	waitClosed(t, "the first Watch after its ctx ended", watch)

	list, err = rs.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	ids := make([]string, len(list))
	for i, v := range list {
		ids[i] = string(mustJSON(t, v))
	}
	want2 := []string{string(mustJSON(t, mk("a", "two"))), string(mustJSON(t, mk("b", "reborn"))),
		string(mustJSON(t, mk("c", "one"))), string(mustJSON(t, mk("d", "one"))), string(mustJSON(t, mk("e", "one")))}
	if !slices.Equal(ids, want2) {
		t.Errorf("List at the end = %q, want %q", ids, want2)
	}
}

// waitClosed waits up to 5 s for ch to be closed, skipping what is still buffered.
func waitClosed[T any](t *testing.T, what string, ch <-chan T) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("%s: not closed within 5 s", what)
		}
	}
}

// A watcher that does not read never blocks writers: its channel either holds every change
// or, once it fell behind, is closed after the changes it did get (it must List again).
func (s *suite) testSlowWatcher(t *testing.T) {
	st, _ := s.fresh(t)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watch := st.EventTypes().Watch(wctx)
	const writers, each = 8, 300
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("custom.w%d", w)
			var rev uint64
			for i := 0; i < each; i++ {
				r, err := st.EventTypes().Put(ctx, name, &gateway.EventTypeRecord{Name: name, Description: fmt.Sprint(i)}, rev)
				if err != nil {
					t.Errorf("Put(%s) %d: %v", name, i, err)
					return
				}
				rev = r
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("writers blocked by a watcher that does not read")
	}
	last := map[string]uint64{}
	n := 0
	for {
		select {
		case c, ok := <-watch:
			if !ok {
				return // fell behind and was closed: allowed
			}
			if c.Rev <= last[c.ID] {
				t.Fatalf("change of %s at rev %d after rev %d", c.ID, c.Rev, last[c.ID])
			}
			last[c.ID] = c.Rev
			if n++; n == writers*each {
				return // kept every change
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("the watcher got %d of %d changes and its channel is still open", n, writers*each)
		}
	}
}

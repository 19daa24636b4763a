package queuetest

import (
	"context"
	"slices"
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

package kv_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/queue/badger/internal/kv"
)

// TestUpdateLazySharesTheNextCommit: a lazy write does not commit (and fsync) on its own
// while it may wait; it goes into the commit of the next ordinary Update. The linger is an
// hour, so the lazy write can only have returned by riding along.
func TestUpdateLazySharesTheNextCommit(t *testing.T) {
	var commits atomic.Int64
	db := opener(kv.Options{LazyLinger: time.Hour, OnCommit: func(time.Duration) { commits.Add(1) }})(t, t.TempDir())
	defer db.Close()

	lazy := make(chan error, 1)
	go func() {
		lazy <- db.UpdateLazy(ctx, func(tx *kv.Txn) error { tx.Set([]byte("done/1"), []byte("x")); return nil })
	}()
	updates := 0
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := db.Update(ctx, func(tx *kv.Txn) error { tx.Set([]byte("ev/1"), []byte("y")); return nil }); err != nil {
			t.Fatalf("Update: %v", err)
		}
		updates++
		select {
		case err := <-lazy:
			if err != nil {
				t.Fatalf("UpdateLazy: %v", err)
			}
			if got := commits.Load(); got != int64(updates) {
				t.Fatalf("%d commits for %d updates and one lazy update, want %d: the lazy one committed alone", got, updates, updates)
			}
			var v []byte
			if err := db.View(func(r *kv.Reader) error { var err error; v, err = r.Get([]byte("done/1")); return err }); err != nil || string(v) != "x" {
				t.Fatalf("the lazy write reads back %q, %v", v, err)
			}
			return
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("UpdateLazy had not returned after %d updates", updates)
		}
	}
}

// TestUpdateLazyCommitsAloneAfterTheLinger: without other writes, a lazy write still commits.
func TestUpdateLazyCommitsAloneAfterTheLinger(t *testing.T) {
	db := opener(kv.Options{LazyLinger: time.Millisecond})(t, t.TempDir())
	defer db.Close()
	if err := db.UpdateLazy(ctx, func(tx *kv.Txn) error { tx.Set([]byte("done/1"), []byte("x")); return nil }); err != nil {
		t.Fatalf("UpdateLazy: %v", err)
	}
}

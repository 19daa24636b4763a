package gateway_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/memory"
)

// woken reports whether w has a value waiting, without waiting.
func woken(w *gateway.Waiter) bool {
	select {
	case <-w.Ready():
		return true
	default:
		return false
	}
}

// wakes waits up to 5 s for w to be woken.
func wakes(t *testing.T, w *gateway.Waiter, what string) {
	t.Helper()
	select {
	case <-w.Ready():
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: not woken within 5 s", what)
	}
}

func publishType(t *testing.T, svc *gateway.Service, typ, source string) {
	t.Helper()
	if _, err := svc.Publish(context.Background(), gateway.PublishInput{Type: typ, Source: source, Data: json.RawMessage(`{}`)}); err != nil {
		t.Fatalf("publish %s: %v", typ, err)
	}
}

// A new event wakes only the waiters whose type pattern (and source) it matches: exact
// types, prefixes and "*". The witness, woken by the same event in the same routing pass,
// shows the event was routed before the others are checked.
func TestWaitForWakesOnlyMatchingWaiters(t *testing.T) {
	svc := gatewaytest.New(t, gateway.Options{}, nil)
	exact := svc.WaitFor("video.posted", "")
	defer exact.Close()
	prefix := svc.WaitFor("video.*", "")
	defer prefix.Close()
	fromA := svc.WaitFor("video.posted", "src_a")
	defer fromA.Close()
	other := svc.WaitFor("post.failed", "")
	defer other.Close()
	any := svc.WaitFor("*", "")
	defer any.Close()

	publishType(t, svc, "post.failed", "")
	wakes(t, other, "post.failed waiter")
	wakes(t, any, "* waiter")
	for name, w := range map[string]*gateway.Waiter{"video.posted": exact, "video.*": prefix, "video.posted from src_a": fromA} {
		if woken(w) {
			t.Errorf("the %s waiter was woken by a post.failed event", name)
		}
	}

	publishType(t, svc, "video.posted", "src_b")
	wakes(t, exact, "video.posted waiter")
	wakes(t, prefix, "video.* waiter")
	wakes(t, any, "* waiter")
	if woken(fromA) || woken(other) {
		t.Errorf("a video.posted from src_b woke the src_a waiter (%v) or the post.failed one (%v)", woken(fromA), woken(other))
	}
	publishType(t, svc, "video.posted", "src_a")
	wakes(t, fromA, "video.posted from src_a waiter")

	// A closed waiter is no longer routed to; the others still are.
	exact.Close()
	exact.Close()
	publishType(t, svc, "video.posted", "")
	wakes(t, prefix, "video.* waiter after another closed")
}

// sharedStore is a store that says other processes append to it (gateway.SharedLog).
type sharedStore struct{ gateway.Store }

func (sharedStore) SharedLog() bool { return true }

// Events appended by another writer on a shared store (a second Service here, another
// process in production) wake this Service's waiters too: it follows the log.
func TestWaitForSeesEventsOfAnotherWriter(t *testing.T) {
	store := sharedStore{memory.New()}
	svc := gatewaytest.New(t, gateway.Options{Store: store}, nil)
	other := gatewaytest.New(t, gateway.Options{Store: store}, nil)
	w := svc.WaitFor("video.posted", "")
	defer w.Close()
	publishType(t, other, "video.posted", "")
	wakes(t, w, "waiter on the first Service, event published by the second")
}

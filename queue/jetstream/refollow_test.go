package jetstream

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/jetstream/jstest"
)

// TestRefollowAfterTheViewStopsReading: when the consumer that feeds a node's view stops
// (as nats.go's did, stuck after the stream's leader was killed), a write waits for the
// view no longer than Timeout and fails with ErrUnavailable instead of hanging, and the
// node then follows the stream anew: the write it could not confirm shows, and the next
// ones succeed.
func TestRefollowAfterTheViewStopsReading(t *testing.T) {
	st := openOwnServer(t)
	ctx := context.Background()
	if _, err := st.Append(ctx, bareEvent("evt_1")); err != nil {
		t.Fatal(err)
	}
	// The view reads nothing more: what its consumer delivers is dropped, as when the
	// consumer is lost with a server and nats.go does not make it anew. (Stopping the
	// consumer would not do: a message it had asked for can still arrive.)
	st.v.mu.Lock()
	st.v.gen++
	st.v.mu.Unlock()

	start := time.Now()
	_, err := st.Append(ctx, bareEvent("evt_2")) // no deadline of its own
	if !errors.Is(err, gateway.ErrUnavailable) {
		t.Fatalf("Append while the view reads nothing = %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Append took %v to give up, want about the 1 s Timeout (a write, then a wait in which nothing is read)", took)
	}
	gatewaytest.WaitFor(t, 10*time.Second, "the view to read the stream again", func() bool {
		_, err := st.Event(ctx, "evt_2")
		return err == nil
	})
	if _, err := st.Append(ctx, bareEvent("evt_3")); err != nil {
		t.Fatalf("Append after the view reads again: %v", err)
	}
	if _, err := st.Event(ctx, "evt_3"); err != nil {
		t.Fatal(err)
	}
}

// TestWaitOwnTellsALostWrite: a write is confirmed only when the message the view read at
// its acknowledged sequence is on the write's own subject; registry writes are confirmed
// that way too. One that is not, as when the stream lost the write and gave its sequence
// to another (nats-server did so when a stream leader was killed), fails with
// ErrUnavailable, and so does every call after it: the node's view diverged from the
// stream (diverge.go).
func TestWaitOwnTellsALostWrite(t *testing.T) {
	st := openOwnServer(t)
	ctx := context.Background()
	rev, err := st.Endpoints().Put(ctx, "ep_1", &gateway.Endpoint{ID: "ep_1", URL: "https://a.example/hook"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	subj := st.endpoints.subject("ep_1")
	if err := st.v.waitOwn(ctx, subj, rev); err != nil {
		t.Fatalf("waitOwn for ep_1's put at %d: %v", rev, err)
	}
	if err := st.Endpoints().Delete(ctx, "ep_1"); err != nil {
		t.Fatal(err)
	}
	st.v.mu.Lock()
	last := st.v.expect(subj)
	st.v.mu.Unlock()
	if last <= rev {
		t.Errorf("after the delete, the last message on ep_1's subject is at %d, not after its put at %d", last, rev)
	}
	res, err := st.Append(ctx, bareEvent("evt_1"))
	if err != nil {
		t.Fatal(err)
	}
	seq := uint64(res.Seq)
	if err := st.v.waitOwn(ctx, st.v.eventSubject(noKey, "evt_1"), seq); err != nil {
		t.Fatalf("waitOwn for evt_1's own message at %d: %v", seq, err)
	}

	err = st.v.waitOwn(ctx, st.v.eventSubject(noKey, "evt_lost"), seq)
	if !errors.Is(err, gateway.ErrUnavailable) || !strings.Contains(err.Error(), "restart this node") {
		t.Fatalf("waitOwn for a write whose sequence %d holds evt_1's message = %v, want ErrUnavailable saying to restart the node", seq, err)
	}
	if _, err := st.Append(ctx, bareEvent("evt_2")); !errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("Append after the view diverged = %v, want ErrUnavailable", err)
	}
	if _, err := st.Event(ctx, "evt_1"); !errors.Is(err, gateway.ErrUnavailable) {
		t.Errorf("Event after the view diverged = %v, want ErrUnavailable", err)
	}
}

// openOwnServer opens a store, with a Timeout of a second and no log, on a NATS server of
// the test's own; both end with the test.
func openOwnServer(t *testing.T) *Store {
	t.Helper()
	srv := jstest.Start(t)
	st, err := Open(context.Background(), Options{URL: srv.URL(), Timeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// bareEvent is an event with no deliveries and no dedupe key.
func bareEvent(id string) *gateway.Append {
	return &gateway.Append{Event: &gateway.StoredEvent{Event: gateway.Event{ID: id, Type: "t"}, ReceivedAt: time.Now()}}
}

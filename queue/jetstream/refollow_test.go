package jetstream

import (
	"context"
	"errors"
	"log/slog"
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
	srv := jstest.Start(t)
	ctx := context.Background()
	st, err := Open(ctx, Options{URL: srv.URL(), Timeout: time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ev := func(id string) *gateway.Append {
		return &gateway.Append{Event: &gateway.StoredEvent{Event: gateway.Event{ID: id, Type: "t"}, ReceivedAt: time.Now()}}
	}
	if _, err := st.Append(ctx, ev("evt_1")); err != nil {
		t.Fatal(err)
	}
	// The view reads nothing more: what its consumer delivers is dropped, as when the
	// consumer is lost with a server and nats.go does not make it anew. (Stopping the
	// consumer would not do: a message it had asked for can still arrive.)
	st.v.mu.Lock()
	st.v.gen++
	st.v.mu.Unlock()

	start := time.Now()
	_, err = st.Append(ctx, ev("evt_2")) // no deadline of its own
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
	if _, err := st.Append(ctx, ev("evt_3")); err != nil {
		t.Fatalf("Append after the view reads again: %v", err)
	}
	if _, err := st.Event(ctx, "evt_3"); err != nil {
		t.Fatal(err)
	}
}

package gateway_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/memory"
)

// readCounter is a store that counts the reads of single deliveries and events, which a
// first attempt no longer needs: a publish hands its deliveries over in memory.
type readCounter struct {
	gateway.Store
	deliveries, events atomic.Int64
}

func (r *readCounter) Delivery(ctx context.Context, id string) (*gateway.Delivery, error) {
	r.deliveries.Add(1)
	return r.Store.Delivery(ctx, id)
}

func (r *readCounter) Event(ctx context.Context, id string) (*gateway.StoredEvent, error) {
	r.events.Add(1)
	return r.Store.Event(ctx, id)
}

func TestFirstAttemptIsHandedOverWithoutReadingTheStore(t *testing.T) {
	for _, kind := range []string{"memory", "badger"} {
		t.Run(kind, func(t *testing.T) {
			var inner gateway.Store = memory.New()
			if kind == "badger" {
				inner = gatewaytest.Badger(t, t.TempDir())
			}
			st := &readCounter{Store: inner}
			rec := gatewaytest.NewRecorder()
			svc := gatewaytest.New(t, gateway.Options{Store: st}, rec)
			a := endpoint(t, svc, "video.*")
			b := endpoint(t, svc, "video.posted")
			res := publish(t, svc, "video.posted", `{"url":"https://t.co/x"}`)
			calls := rec.Want(t, 5*time.Second, 2)
			if got := map[string]bool{calls[0].EndpointID: true, calls[1].EndpointID: true}; !got[a.ID] || !got[b.ID] {
				t.Fatalf("sent to %s and %s, want %s and %s", calls[0].EndpointID, calls[1].EndpointID, a.ID, b.ID)
			}
			if n, m := st.deliveries.Load(), st.events.Load(); n != 0 || m != 0 {
				t.Errorf("first attempts read %d deliveries and %d events from the store, want none", n, m)
			}
			if string(calls[0].Body) != string(calls[1].Body) {
				t.Errorf("the two endpoints got different envelopes:\n%s\n%s", calls[0].Body, calls[1].Body)
			}
			// Both attempts are recorded (the saves used the revision Append gave).
			for _, id := range res.DeliveryID {
				gatewaytest.WaitFor(t, 5*time.Second, "delivery "+id+" succeeded with one attempt", func() bool {
					d, err := svc.GetDelivery(ctx, id)
					return err == nil && d.Status == gateway.StatusSucceeded && len(d.Attempts) == 1
				})
			}
		})
	}
}

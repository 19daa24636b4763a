package gateway_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/memory"
)

func TestNewNeedsAStore(t *testing.T) {
	if _, err := gateway.New(gateway.Options{}); err == nil {
		t.Fatal("New without a Store succeeded")
	}
}

// idInbound accepts every call: the provider's event id is the X-Id header, the body is the
// data of a "video.posted".
type idInbound struct{}

func (idInbound) CheckSource(*gateway.Source) error { return nil }

func (idInbound) Open(_ *gateway.Source, r *gateway.InboundRequest, now time.Time) (*gateway.InboundEvent, error) {
	return &gateway.InboundEvent{ID: r.Header.Get("X-Id"), Type: "video.posted", Created: now, Data: r.Body}, nil
}

// Retention removes finished events older than Options.Retention with their deliveries, and
// keeps those with a paused delivery however old; a catch hook's dedupe key outlives its
// trimmed event for the whole dedupe window.
func TestRetentionRemovesFinishedEventsOnly(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{Now: clk.Now, Retention: time.Hour, RetentionEvery: 5 * time.Millisecond, Inbound: idInbound{}}, rec)
	endpoint(t, svc, "video.*")
	off := endpoint(t, svc, "bundle.*")
	if _, err := svc.UpdateEndpoint(ctx, off.ID, gateway.EndpointPatch{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	done := publish(t, svc, "video.posted", `{"n":1}`)
	kept := publish(t, svc, "bundle.ready", `{"n":2}`)
	src, err := svc.CreateSource(ctx, gateway.SourceInput{Name: "shop", Provider: "generic"})
	if err != nil {
		t.Fatal(err)
	}
	call := func() *gateway.ReceiveResult {
		t.Helper()
		res, err := svc.Receive(ctx, src.ID, &gateway.InboundRequest{Header: map[string][]string{"X-Id": {"order-1"}}, Body: []byte(`{"n":3}`)})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	hooked := call()
	rec.Want(t, 5*time.Second, 2)
	gatewaytest.WaitFor(t, 5*time.Second, "both deliveries to succeed", func() bool {
		_, dls, err := svc.GetEvent(ctx, hooked.ID)
		return err == nil && len(dls) == 1 && dls[0].Status == gateway.StatusSucceeded &&
			deliveryStatus(t, svc, done.DeliveryID[0])() == gateway.StatusSucceeded
	})
	time.Sleep(50 * time.Millisecond) // several retention rounds: nothing is old enough yet
	if _, _, err := svc.GetEvent(ctx, done.ID); err != nil {
		t.Fatalf("an event younger than the retention was removed: %v", err)
	}

	clk.set(clk.Now().Add(2 * time.Hour))
	gatewaytest.WaitFor(t, 5*time.Second, "the finished events to be removed", func() bool {
		_, _, err1 := svc.GetEvent(ctx, done.ID)
		_, _, err2 := svc.GetEvent(ctx, hooked.ID)
		return errors.Is(err1, gateway.ErrNotFound) && errors.Is(err2, gateway.ErrNotFound)
	})
	if _, err := svc.GetDelivery(ctx, done.DeliveryID[0]); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("the removed event's delivery = %v, want ErrNotFound", err)
	}
	if _, dls, err := svc.GetEvent(ctx, kept.ID); err != nil || dls[0].Status != gateway.StatusPaused {
		t.Fatalf("the event with a paused delivery = %v %v, want kept", dls, err)
	}
	// Within the 7-day dedupe window the provider's retry is still a duplicate.
	if again := call(); !again.Duplicate || again.ID != hooked.ID {
		t.Fatalf("the provider's retry after retention = %+v, want a duplicate of %s", again, hooked.ID)
	}
}

// Under a steady publish load on a Badger store, retention keeps only the events of the
// last Options.Retention: older ones go with their deliveries round after round, and the
// number stored stays bounded however many are published. (That the data folder's size
// then stays bounded too is measured by hookgate bench --duration --retention.)
func TestRetentionKeepsAStoreUnderSteadyLoadBounded(t *testing.T) {
	const (
		retention = 2 * time.Second
		step      = 500 * time.Millisecond // of the injected clock, per round
		perRound  = 20
		rounds    = 16
		// Events received at or after now-retention are kept: this round and the 4 before.
		bound = perRound * int(retention/step+1)
	)
	clk := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{
		Store: gatewaytest.Badger(t, t.TempDir()), Now: clk.Now,
		Retention: retention, RetentionEvery: 20 * time.Millisecond,
	}, rec)
	endpoint(t, svc, "video.*")
	stored := func() []*gateway.StoredEvent {
		t.Helper()
		page, err := svc.ListEvents(ctx, gateway.EventFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		return page.Data
	}
	var first *gateway.PublishResult
	for r := 1; r <= rounds; r++ {
		clk.set(clk.Now().Add(step))
		for i := 0; i < perRound; i++ {
			res := publish(t, svc, "video.posted", `{"n":1}`)
			if first == nil {
				first = res
			}
		}
		rec.Want(t, 5*time.Second, r*perRound)
		cutoff := clk.Now().Add(-retention)
		gatewaytest.WaitFor(t, 5*time.Second, "events older than the retention to be removed", func() bool {
			evs := stored()
			return len(evs) > 0 && !evs[0].ReceivedAt.Before(cutoff)
		})
		if n, want := len(stored()), min(r*perRound, bound); n != want {
			t.Fatalf("round %d: %d events stored, want %d (those of the last %s)", r, n, want, retention)
		}
	}
	if _, err := svc.GetDelivery(ctx, first.DeliveryID[0]); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("the first event's delivery = %v, want ErrNotFound (removed with its event)", err)
	}
}

// Two Services on one store stand for two processes on a shared backend: each one's
// endpoint snapshot follows the other's changes through the registry's Watch.
func TestEndpointChangesReachAnotherServiceOnTheStore(t *testing.T) {
	st := memory.New()
	a := gatewaytest.New(t, gateway.Options{Store: st}, gatewaytest.NewRecorder())
	b, err := gateway.New(gateway.Options{Store: st, Policy: gateway.URLPolicy{AllowPrivate: true}, Senders: map[string]gateway.Sender{gateway.KindWebhook: gatewaytest.NewRecorder()}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Stop(ctx)
	ep := endpoint(t, a, "*")
	gatewaytest.WaitFor(t, 5*time.Second, "b to see the new endpoint", func() bool {
		_, err := b.GetEndpoint(ctx, ep.ID)
		return err == nil
	})
	if _, err := a.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Description: ptr("renamed")}); err != nil {
		t.Fatal(err)
	}
	gatewaytest.WaitFor(t, 5*time.Second, "b to see the change", func() bool {
		got, err := b.GetEndpoint(ctx, ep.ID)
		return err == nil && got.Description == "renamed"
	})
	// b's own edit, made by compare-and-swap on what it read, reaches a too.
	if _, err := b.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Enabled: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	gatewaytest.WaitFor(t, 5*time.Second, "a to see b's change", func() bool {
		got, err := a.GetEndpoint(ctx, ep.ID)
		return err == nil && !got.Enabled && got.Description == "renamed"
	})
	if err := a.DeleteEndpoint(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	gatewaytest.WaitFor(t, 5*time.Second, "b to see the delete", func() bool {
		_, err := b.GetEndpoint(ctx, ep.ID)
		return errors.Is(err, gateway.ErrNotFound)
	})
	data, _ := json.Marshal(map[string]int{"n": 1})
	if res, err := b.Publish(ctx, gateway.PublishInput{Type: "x", Data: data}); err != nil || res.Deliveries != 0 {
		t.Fatalf("publish after the delete = %+v, %v: want no delivery", res, err)
	}
}

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

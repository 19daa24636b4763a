package gateway_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// Changed is closed by each change that event and delivery lists show: a publish, the
// attempt the dispatcher records, a retry by hand; a fresh channel waits for the next.
func TestChangedWakesOnPublishAttemptAndRetry(t *testing.T) {
	ctx := context.Background()
	rec := gatewaytest.NewRecorder()
	rec.Script(func(int, *gateway.Message) gateway.Outcome { return gateway.Outcome{StatusCode: 500} })
	svc := gatewaytest.New(t, gateway.Options{Schedule: gateway.Schedule{0}}, rec)
	if _, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	closed := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: Changed was not closed", what)
		}
	}
	idle := svc.Changed()
	select {
	case <-idle:
		t.Fatal("Changed was closed before anything changed")
	default:
	}
	res, err := svc.Publish(ctx, gateway.PublishInput{Type: "order.created", Data: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	closed("publish", idle)
	// The attempt is recorded (the delivery gives up: the schedule has one step).
	var d *gateway.Delivery
	for {
		ch := svc.Changed()
		_, ds, err := svc.GetEvent(ctx, res.ID)
		if err != nil {
			t.Fatal(err)
		}
		if d = ds[0]; d.Status == gateway.StatusFailed {
			break
		}
		closed("the attempt", ch)
	}
	ch := svc.Changed()
	if err := svc.RetryDelivery(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	closed("retry", ch)
}

// An auth sent back as answers show it (its value or password masked) keeps the stored
// credential, as headers and kinds' credentials do; a new value replaces it, and another
// type does not inherit it.
func TestMaskedAuthSentBackKeepsTheStoredOne(t *testing.T) {
	ctx := context.Background()
	rec := gatewaytest.NewRecorder()
	auths := make(chan gateway.EndpointAuth, 10)
	rec.Script(func(_ int, m *gateway.Message) gateway.Outcome {
		auths <- *m.Endpoint.Auth
		return gateway.Outcome{StatusCode: 200}
	})
	svc := gatewaytest.New(t, gateway.Options{}, rec)
	ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"*"},
		EndpointSettings: gateway.EndpointSettings{Auth: &gateway.EndpointAuth{Type: "basic", Username: "ann", Password: "password-one"}}})
	if err != nil {
		t.Fatal(err)
	}
	if ep.Auth.Password != "****-one" {
		t.Fatalf("answer shows password %q, want it masked", ep.Auth.Password)
	}
	sent := func() gateway.EndpointAuth {
		t.Helper()
		if _, err := svc.Publish(ctx, gateway.PublishInput{Type: "order.created", Data: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
		select {
		case a := <-auths:
			return a
		case <-time.After(5 * time.Second):
			t.Fatal("no delivery")
		}
		return gateway.EndpointAuth{}
	}
	if _, err := svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Auth: &gateway.EndpointAuth{Type: "basic", Username: "bob", Password: ep.Auth.Password}}); err != nil {
		t.Fatal(err)
	}
	if a := sent(); a.Username != "bob" || a.Password != "password-one" {
		t.Fatalf("after sending the mask back: %+v, want bob with the stored password", a)
	}
	if _, err := svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Auth: &gateway.EndpointAuth{Type: "basic", Username: "bob", Password: "password-two"}}); err != nil {
		t.Fatal(err)
	}
	if a := sent(); a.Password != "password-two" {
		t.Fatalf("after a new password: %+v", a)
	}
	if _, err := svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Auth: &gateway.EndpointAuth{Type: "header", Name: "X-Key", Value: "****-two"}}); err != nil {
		t.Fatal(err)
	}
	if a := sent(); a.Type != "header" || a.Value != "****-two" {
		t.Fatalf("a header auth given the basic password's mask: %+v, want the value as sent", a)
	}
}

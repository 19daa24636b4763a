package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/schemas"
)

func catalog(t *testing.T) *schemas.Catalog {
	t.Helper()
	cat, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// refusedField returns the field and message of the ValidationError err must be.
func refusedField(t *testing.T, err error) (string, string) {
	t.Helper()
	var ve *gateway.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v, want a ValidationError", err)
	}
	return ve.Field, ve.Message
}

func TestSubscribingToAnUnknownTypeIsRefusedWithSuggestions(t *testing.T) {
	ctx := context.Background()
	svc := gatewaytest.New(t, gateway.Options{Catalog: catalog(t)}, gatewaytest.NewRecorder())
	create := func(events ...string) (*gateway.Endpoint, error) {
		ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: events})
		return ep, err
	}

	_, err := create("video.posted", "vidoe.posted")
	field, msg := refusedField(t, err)
	if field != "events[1]" || !strings.Contains(msg, `unknown event type "vidoe.posted"`) || !strings.Contains(msg, "did you mean video.posted") ||
		!strings.Contains(msg, "POST /v1/event-types") || !strings.Contains(msg, "hookgate event-types add --name vidoe.posted") {
		t.Fatalf("vidoe.posted: field %q message %q", field, msg)
	}
	_, err = create("zzqqxx")
	if _, msg := refusedField(t, err); strings.Contains(msg, "did you mean") {
		t.Errorf("nothing is close to zzqqxx, yet: %q", msg)
	}

	// Patterns, catalog types of any provider, custom types and published types are fine.
	ep, err := create("video.*", "*", "nothing.*", "video.posted")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AddEventType(ctx, gateway.EventTypeInput{Name: "order.paid", Schema: json.RawMessage(`{"type":"object"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := create("order.paid"); err != nil {
		t.Fatalf("a custom type: %v", err)
	}

	// Publishing an unknown type works, with a warning; then the type is known.
	res, err := svc.Publish(ctx, gateway.PublishInput{Type: "vidoe.posted", Data: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 1 || res.Warnings[0] != "unknown type vidoe.posted; did you mean video.posted?" {
		t.Fatalf("warnings = %q", res.Warnings)
	}
	res, err = svc.Publish(ctx, gateway.PublishInput{Type: "vidoe.posted", Data: json.RawMessage(`{}`)})
	if err != nil || len(res.Warnings) != 0 {
		t.Fatalf("second publish of a now seen type: %v %q", err, res.Warnings)
	}
	if _, err := create("vidoe.posted"); err != nil {
		t.Fatalf("a published type: %v", err)
	}
	res, err = svc.Publish(ctx, gateway.PublishInput{Type: "order.paid", Data: json.RawMessage(`{}`)})
	if err != nil || len(res.Warnings) != 0 {
		t.Fatalf("a custom type: %v %q", err, res.Warnings)
	}

	// An update is checked too, but what the endpoint already had is kept.
	_, err = svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Events: &[]string{"video.posted", "bundel.ready"}})
	if field, msg := refusedField(t, err); field != "events[1]" || !strings.Contains(msg, "did you mean bundle.ready") {
		t.Fatalf("update: field %q message %q", field, msg)
	}
	if _, err := svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Events: &[]string{"video.*", "video.posted"}}); err != nil {
		t.Fatal(err)
	}
}

func TestTypesPublishedBeforeARestartAreKnown(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	svc := gatewaytest.New(t, gateway.Options{Catalog: catalog(t), Store: gatewaytest.Badger(t, dir)}, nil)
	if _, err := svc.Publish(ctx, gateway.PublishInput{Type: "shop.order_shipped", Data: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := svc.Stop(sctx); err != nil {
		t.Fatal(err)
	}
	svc = gatewaytest.New(t, gateway.Options{Catalog: catalog(t), Store: gatewaytest.Badger(t, dir)}, gatewaytest.NewRecorder())
	if _, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"shop.order_shipped"}}); err != nil {
		t.Fatalf("a type published before the restart: %v", err)
	}
	res, err := svc.Publish(ctx, gateway.PublishInput{Type: "shop.order_shiped", Data: json.RawMessage(`{}`)})
	if err != nil || len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "did you mean shop.order_shipped?") {
		t.Fatalf("publish a typo of it: %v %q", err, res.Warnings)
	}
}

func TestWithoutACatalogEveryTypeIsAccepted(t *testing.T) {
	svc := gatewaytest.New(t, gateway.Options{}, gatewaytest.NewRecorder())
	if _, _, err := svc.CreateEndpoint(context.Background(), gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"anything.at_all"}}); err != nil {
		t.Fatal(err)
	}
}

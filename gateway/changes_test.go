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

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

// An attempt that sent the event's envelope unchanged keeps no second copy of it in the
// store (it would double what each completed delivery writes), yet GetDelivery shows the
// body byte for byte as sent; an attempt whose body a mapping changed keeps that body.
func TestSentEnvelopeIsNotStoredTwiceButShown(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	rec := gatewaytest.NewRecorder()
	rec.Script(func(_ int, m *gateway.Message) gateway.Outcome {
		return gateway.Outcome{StatusCode: 200, Sent: m.Body} // as webhook.Post reports it
	})
	svc := gatewaytest.New(t, gateway.Options{Store: st}, rec)
	plain, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/plain", Events: []string{"order.*"}})
	if err != nil {
		t.Fatal(err)
	}
	in := gateway.EndpointInput{URL: "http://127.0.0.1:9/mapped", Events: []string{"order.*"}}
	in.Mapping = `{total: .data.total}`
	mapped, _, err := svc.CreateEndpoint(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Publish(ctx, gateway.PublishInput{Type: "order.paid", Data: json.RawMessage(`{"total":7383920011122334455,"note":"<é>"}`)})
	if err != nil {
		t.Fatal(err)
	}
	calls := rec.Want(t, 10*time.Second, 2)
	sent := map[string]string{}
	for _, c := range calls {
		sent[c.EndpointID] = string(c.Body)
	}
	for _, id := range res.DeliveryID {
		var d *gateway.Delivery
		gatewaytest.WaitFor(t, 10*time.Second, "the attempt is recorded", func() bool {
			d, err = st.Delivery(ctx, id)
			return err == nil && len(d.Attempts) == 1
		})
		stored := d.Attempts[0]
		shown, err := svc.GetDelivery(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := sent[d.EndpointID]
		if got := shown.Attempts[0].RequestBody; got != want || shown.Attempts[0].RequestBytes != len(want) {
			t.Errorf("%s: GetDelivery shows request_body %q (%d bytes); sent %q", d.EndpointID, got, shown.Attempts[0].RequestBytes, want)
		}
		switch d.EndpointID {
		case plain.ID:
			if stored.RequestBody != "" || !stored.RequestEnvelope {
				t.Errorf("plain endpoint: stored request_body %q, request_envelope %v; want none and true (the envelope is the event)", stored.RequestBody, stored.RequestEnvelope)
			}
		case mapped.ID:
			if stored.RequestBody != want || stored.RequestEnvelope {
				t.Errorf("mapped endpoint: stored request_body %q, request_envelope %v; want the mapped body %q", stored.RequestBody, stored.RequestEnvelope, want)
			}
		}
	}
}

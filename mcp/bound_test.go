package mcp

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// A delivery retried many times against an endpoint that answers with large bodies, and an
// event sent to many webhooks, are cut to fit, keeping what matters most.
func TestSingleResultsAreBoundedToo(t *testing.T) {
	at := time.Date(2026, 6, 24, 14, 0, 0, 0, time.UTC)
	d := &gateway.Delivery{ID: "dlv_1", EventID: "evt_1", EndpointID: "ep_1", EventType: "video.posted", Status: gateway.StatusFailed, CreatedAt: at, UpdatedAt: at}
	for i := range 60 {
		d.Attempts = append(d.Attempts, gateway.Attempt{At: at.Add(time.Duration(i) * time.Minute), StatusCode: 500, ResponseBody: strings.Repeat("e", gateway.MaxResponseBody)})
	}
	out := &deliveryOut{deliveryView: *viewDelivery(d, len(d.Attempts))}
	note := out.bound(maxResultBytes)
	b, _ := json.Marshal(out)
	if len(b) > maxResultBytes || !strings.Contains(note, "attempts shown") || !strings.Contains(note, "hookgate://deliveries/dlv_1") || out.AttemptsTotal != 60 {
		t.Fatalf("delivery: %d bytes, note %q, total %d", len(b), note, out.AttemptsTotal)
	}
	if last := out.Attempts[len(out.Attempts)-1]; !last.At.Equal(at.Add(59 * time.Minute)) {
		t.Fatalf("the newest attempt was cut: last kept %s", last.At)
	}

	ev := &gateway.StoredEvent{Event: gateway.Event{ID: "evt_1", Type: "video.posted", Created: at, Data: json.RawMessage(`{}`)}, ReceivedAt: at}
	eo := &eventOut{Event: viewEvent(ev, maxDataInResult)}
	for i := range 2000 {
		eo.Deliveries = append(eo.Deliveries, &gateway.Delivery{ID: fmt.Sprintf("dlv_%04d", i), EventID: "evt_1", EndpointID: fmt.Sprintf("ep_%04d", i), Status: gateway.StatusSucceeded, Attempts: []gateway.Attempt{{At: at, StatusCode: 200}}})
	}
	note = eo.bound(maxResultBytes)
	b, _ = json.Marshal(eo)
	if len(b) > maxResultBytes || len(eo.Deliveries) == 0 || !strings.Contains(note, "of 2000 deliveries shown") {
		t.Fatalf("event: %d bytes, %d deliveries, note %q", len(b), len(eo.Deliveries), note)
	}
}

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

func TestRateLimitSpreadsDeliveriesWithoutDelayingOthers(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{}, rec)
	limited, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/slow", Events: []string{"app.limited"},
		EndpointSettings: gateway.EndpointSettings{RateLimitPerS: 5}})
	if err != nil {
		t.Fatal(err)
	}
	free := endpoint(t, svc, "app.free")
	start := time.Now()
	for i := 0; i < 15; i++ {
		publish(t, svc, "app.limited", `{}`)
	}
	publish(t, svc, "app.free", `{}`)
	calls := rec.Want(t, 10*time.Second, 16)
	var limitedAt []time.Time
	for _, c := range calls {
		switch c.EndpointID {
		case free.ID:
			if d := c.At.Sub(start); d > 500*time.Millisecond {
				t.Errorf("the unlimited endpoint waited %s behind the limited one", d)
			}
		case limited.ID:
			limitedAt = append(limitedAt, c.At)
		}
	}
	// 5/s with a burst of 5: the first 5 at once, then one every 200 ms: the 15th at ~2 s.
	if span := limitedAt[len(limitedAt)-1].Sub(start); span < 1700*time.Millisecond || span > 4*time.Second {
		t.Errorf("15 deliveries at 5/s took %s, want about 2 s", span)
	}
	for i := 6; i < len(limitedAt); i++ {
		if gap := limitedAt[i].Sub(limitedAt[i-5]); gap < 800*time.Millisecond {
			t.Errorf("deliveries %d..%d came within %s: more than 5 per second", i-5, i, gap)
		}
	}
}

func TestSlowEndpointDoesNotHoldUpTheRest(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	rec.Script(func(n int, m *gateway.Message) gateway.Outcome {
		if strings.HasSuffix(m.Endpoint.URL, "/slow") {
			time.Sleep(1500 * time.Millisecond) // every attempt to it takes 1.5 s
		}
		return gateway.Outcome{StatusCode: 200}
	})
	svc := gatewaytest.New(t, gateway.Options{Concurrency: 4}, rec)
	slow, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/slow", Events: []string{"app.slow"}})
	if err != nil {
		t.Fatal(err)
	}
	fast := endpoint(t, svc, "app.fast")
	for i := 0; i < 16; i++ {
		publish(t, svc, "app.slow", `{}`)
	}
	time.Sleep(100 * time.Millisecond) // the slow endpoint's backlog is first in the queue
	start := time.Now()
	for i := 0; i < 5; i++ {
		publish(t, svc, "app.fast", `{}`)
	}
	calls := rec.Want(t, 30*time.Second, 21)
	var fastDone, slowDone time.Time
	for _, c := range calls {
		switch c.EndpointID {
		case fast.ID:
			fastDone = c.At
		case slow.ID:
			slowDone = c.At
		}
	}
	// Without isolation the fast deliveries would queue behind 16 × 1.5 s / 4 workers = 6 s
	// of slow ones. Once the slow endpoint is known slow it keeps to 3 of the 4 workers.
	if d := fastDone.Sub(start); d > 3*time.Second {
		t.Errorf("5 deliveries to a fast endpoint took %s while a slow one had a backlog", d)
	}
	if !fastDone.Before(slowDone) {
		t.Errorf("the fast endpoint finished after the slow one's backlog")
	}
}

func TestMappingReshapesTheDeliveredBody(t *testing.T) {
	cat, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{Catalog: cat}, rec)
	ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/m", Events: []string{"video.posted"},
		EndpointSettings: gateway.EndpointSettings{
			Mapping:      `{post_url: .data.post_url, platform: .data.platform, at: .created}`,
			OutputSchema: json.RawMessage(`{"type":"object","required":["post_url"],"properties":{"post_url":{"type":"string","format":"uri"}}}`),
		}})
	if err != nil {
		t.Fatal(err)
	}
	data := `{"video_id":"v_1","bundle_id":"b_1","platform":"tiktok","post_url":"https://www.tiktok.com/@a/video/1","post_id":"1","posted_at":"2026-06-24T14:00:05Z"}`
	if _, err := svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", Source: "tokportal", Data: json.RawMessage(data)}); err != nil {
		t.Fatal(err)
	}
	calls := rec.Want(t, 5*time.Second, 1)
	var got map[string]any
	if err := json.Unmarshal(calls[0].Body, &got); err != nil || got["post_url"] != "https://www.tiktok.com/@a/video/1" || got["platform"] != "tiktok" || got["at"] == nil || len(got) != 3 {
		t.Fatalf("delivered %s", calls[0].Body)
	}
	// The export for this endpoint describes the mapped payload.
	out, err := svc.ExportEventTypeForEndpoint(ctx, "video.posted", "", "zapier", ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"key": "post_url"`) || strings.Contains(string(out), "data__") {
		t.Errorf("zapier fields after the mapping: %s", out)
	}
}

func TestBadMappingsAreRefusedPrecisely(t *testing.T) {
	cat, _ := schemas.New()
	svc := gatewaytest.New(t, gateway.Options{Catalog: cat}, gatewaytest.NewRecorder())
	cases := []struct {
		mapping, schema string
		field, want     string
	}{
		{`{post_url: .data.post_url`, "", "mapping", "line 1"},
		{`{a: .data | nosuchfn}`, "", "mapping", "nosuchfn"},
		{`{n: (.data.views + "x")}`, "", "mapping", "analytics."},
		{`{post_url: .data.url}`, `{"type":"object","required":["post_url"],"properties":{"post_url":{"type":"string"}}}`, "output_schema", "/post_url"},
		{`.`, `{"type":"object","properties":{"a":{"type":"nope"}}}`, "output_schema/properties/a", ""},
	}
	for _, c := range cases {
		in := gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"video.posted", "analytics.*"},
			EndpointSettings: gateway.EndpointSettings{Mapping: c.mapping}}
		if c.schema != "" {
			in.OutputSchema = json.RawMessage(c.schema)
		}
		_, _, err := svc.CreateEndpoint(ctx, in)
		var ve *gateway.ValidationError
		if !errors.As(err, &ve) || !strings.HasPrefix(ve.Field, c.field) || !strings.Contains(ve.Error(), c.want) {
			t.Errorf("mapping %q: %v, want a ValidationError on %s mentioning %q", c.mapping, err, c.field, c.want)
		}
	}
}

func TestMappingErrorAtDeliveryFailsTheAttempt(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{Schedule: gateway.Schedule{0}}, rec)
	ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"app.*"},
		EndpointSettings: gateway.EndpointSettings{Mapping: `{n: (.data.count + 1)}`}})
	if err != nil {
		t.Fatal(err)
	}
	res := publish(t, svc, "app.counted", `{"count":"x"}`)
	var d *gateway.Delivery
	gatewaytest.WaitFor(t, 5*time.Second, "the attempt", func() bool {
		d, _ = svc.GetDelivery(context.Background(), res.DeliveryID[0])
		return d.Status == gateway.StatusFailed
	})
	if len(d.Attempts) != 1 || !strings.Contains(d.Attempts[0].Error, "mapping") || !strings.Contains(d.Attempts[0].Error, "cannot add") {
		t.Errorf("attempts = %+v", d.Attempts)
	}
	if len(rec.Calls()) != 0 {
		t.Errorf("a failed mapping still sent something to %s", ep.ID)
	}
}

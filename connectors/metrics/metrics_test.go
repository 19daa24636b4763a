package metrics_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/connectors/metrics"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/badger"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs url and parses the Prometheus text it answers.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse the scrape: %v", err)
	}
	return fams
}

// value is the value of the sample of family name whose labels are labels (all of them),
// and whether there is one. For a histogram it is the sample count.
func value(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	f := fams[name]
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// want checks one sample's value.
func want(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string, v float64) {
	t.Helper()
	got, ok := value(fams, name, labels)
	if !ok {
		t.Errorf("%s%v: no such sample", name, labels)
		return
	}
	if got != v {
		t.Errorf("%s%v = %v, want %v", name, labels, got, v)
	}
}

// clock is a test clock that runs with real time plus an offset the test moves.
type clock struct{ off atomic.Int64 }

func (c *clock) now() time.Time       { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) skip(d time.Duration) { c.off.Add(int64(d)) }
func lbl(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// The metrics follow deliveries as they succeed, retry, give up and hit a 410, the
// publishes and duplicates, catch-hook calls by result, and the gauges sampled at scrape
// time: pending per endpoint, lag, endpoints by state, free space and commit durations.
func TestMetricsFollowDeliveries(t *testing.T) {
	m := metrics.New()
	clk := &clock{}
	st, err := badger.Open(badger.Options{Dir: t.TempDir(), OnCommit: m.ObserveCommit})
	if err != nil {
		t.Fatal(err)
	}
	rec := gatewaytest.NewRecorder()
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	rec.Script(func(n int, msg *gateway.Message) gateway.Outcome {
		switch {
		case strings.HasSuffix(msg.Endpoint.URL, "/fails"):
			return gateway.Outcome{StatusCode: 500}
		case strings.HasSuffix(msg.Endpoint.URL, "/gone"):
			return gateway.Outcome{StatusCode: 410}
		case strings.HasSuffix(msg.Endpoint.URL, "/slow"):
			<-release
		}
		return gateway.Outcome{StatusCode: 200}
	})
	svc := gatewaytest.New(t, gateway.Options{Store: st, Observer: m, Now: clk.now, MinFreeDisk: 1,
		Inbound: connectors.Inbound(), Schedule: gateway.Schedule{0, 10 * time.Millisecond}, DisableAfter: 100}, rec)
	m.Watch(svc)
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)

	ctx := t.Context()
	ids := map[string]string{}
	for _, name := range []string{"ok", "fails", "gone"} {
		ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/" + name, Events: []string{"video.*"}})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = ep.ID
	}
	fams := scrape(t, srv.URL)
	want(t, fams, "hookgate_endpoints", lbl("state", "enabled"), 3)
	want(t, fams, "hookgate_endpoints", lbl("state", "disabled"), 0)
	want(t, fams, "hookgate_deliveries_pending", lbl("endpoint", ids["ok"]), 0)
	want(t, fams, "hookgate_delivery_lag_seconds", nil, 0)
	if free, ok := value(fams, "hookgate_store_free_bytes", nil); !ok || free <= 0 {
		t.Errorf("hookgate_store_free_bytes = %v (present %v), want the volume's free space", free, ok)
	}
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if fams[name] == nil {
			t.Errorf("%s missing: the Go and process collectors are registered", name)
		}
	}

	// One event: a success, a retry then a give-up, and a 410.
	pub := gateway.PublishInput{ID: "evt_metrics1", Type: "video.posted", Source: "studio", Data: json.RawMessage(`{}`)}
	if _, err := svc.Publish(ctx, pub); err != nil {
		t.Fatal(err)
	}
	if res, err := svc.Publish(ctx, pub); err != nil || !res.Duplicate {
		t.Fatalf("second publish = %+v, %v; want a duplicate", res, err)
	}
	attempts := func(name, outcome string) float64 {
		v, _ := value(scrape(t, srv.URL), "hookgate_delivery_attempts_total", lbl("kind", "webhook", "endpoint", ids[name], "outcome", outcome))
		return v
	}
	gatewaytest.WaitFor(t, 10*time.Second, "the failing endpoint gives up", func() bool { return attempts("fails", "failed") == 1 })
	gatewaytest.WaitFor(t, 10*time.Second, "the 410", func() bool { return attempts("gone", "gone") == 1 })
	gatewaytest.WaitFor(t, 10*time.Second, "the success", func() bool { return attempts("ok", "success") == 1 })
	fams = scrape(t, srv.URL)
	want(t, fams, "hookgate_events_published_total", lbl("source", "studio", "type", "video.posted"), 1)
	want(t, fams, "hookgate_events_duplicate_total", lbl("source", "studio"), 1)
	want(t, fams, "hookgate_delivery_attempts_total", lbl("kind", "webhook", "endpoint", ids["fails"], "outcome", "retry"), 1)
	want(t, fams, "hookgate_delivery_attempts_total", lbl("kind", "webhook", "endpoint", ids["fails"], "outcome", "failed"), 1)
	want(t, fams, "hookgate_delivery_attempts_total", lbl("kind", "webhook", "endpoint", ids["ok"], "outcome", "success"), 1)
	want(t, fams, "hookgate_delivery_attempt_duration_seconds", lbl("kind", "webhook"), 4)
	want(t, fams, "hookgate_endpoints", lbl("state", "enabled"), 2)
	want(t, fams, "hookgate_endpoints", lbl("state", "disabled"), 1)
	// The 410 disabled an endpoint: hookgate published endpoint.disabled (to no subscriber).
	want(t, fams, "hookgate_events_published_total", lbl("source", "hookgate", "type", "endpoint.disabled"), 1)
	if n, ok := value(fams, "hookgate_store_commit_duration_seconds", nil); !ok || n == 0 {
		t.Errorf("hookgate_store_commit_duration_seconds has %v samples, want some", n)
	}

	// A delivery in flight for 90 s: pending 1, lag 90 s; once it lands, 0 and 0.
	slow, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/slow", Events: []string{"video.*"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	gatewaytest.WaitFor(t, 10*time.Second, "the slow endpoint's attempt", func() bool { return len(rec.Calls()) >= 6 })
	clk.skip(90 * time.Second)
	fams = scrape(t, srv.URL)
	want(t, fams, "hookgate_deliveries_pending", lbl("endpoint", slow.ID), 1)
	if lag, _ := value(fams, "hookgate_delivery_lag_seconds", nil); lag < 90 || lag > 100 {
		t.Errorf("hookgate_delivery_lag_seconds = %v, want about 90", lag)
	}
	releaseOnce.Do(func() { close(release) })
	gatewaytest.WaitFor(t, 10*time.Second, "the slow delivery lands", func() bool {
		v, _ := value(scrape(t, srv.URL), "hookgate_deliveries_pending", lbl("endpoint", slow.ID))
		return v == 0
	})
	want(t, scrape(t, srv.URL), "hookgate_delivery_lag_seconds", nil, 0)

	// Catch hooks: accepted, duplicate, rejected (bad signature), invalid (unmappable).
	open, err := svc.CreateSource(ctx, gateway.SourceInput{Name: "open", Provider: "generic",
		Verify: json.RawMessage(`{"type":"none"}`), Mapping: `{type: .t, id: .id, data: .}`, Sample: json.RawMessage(`{"t":"a.b","id":"1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := svc.CreateSource(ctx, gateway.SourceInput{Name: "signed", Provider: "generic", Secret: "s3cr3t-value",
		Verify: json.RawMessage(`{"type":"hmac","header":"X-Sig","algorithm":"sha256"}`), Mapping: `{type: .t, data: .}`, Sample: json.RawMessage(`{"t":"a.b"}`)})
	if err != nil {
		t.Fatal(err)
	}
	call := func(src, body string) {
		svc.Receive(ctx, src, &gateway.InboundRequest{Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body)})
	}
	call(open.ID, `{"t":"a.b","id":"7"}`)
	call(open.ID, `{"t":"a.b","id":"7"}`)
	call(open.ID, `[1,2]`)
	for range 3 {
		call(signed.ID, `{"t":"a.b"}`)
	}
	fams = scrape(t, srv.URL)
	want(t, fams, "hookgate_catchhook_requests_total", lbl("source", open.ID, "result", "accepted"), 1)
	want(t, fams, "hookgate_catchhook_requests_total", lbl("source", open.ID, "result", "duplicate"), 1)
	want(t, fams, "hookgate_catchhook_requests_total", lbl("source", open.ID, "result", "invalid"), 1)
	want(t, fams, "hookgate_catchhook_requests_total", lbl("source", signed.ID, "result", "rejected"), 3)
	want(t, fams, "hookgate_events_duplicate_total", lbl("source", "open"), 1)
}

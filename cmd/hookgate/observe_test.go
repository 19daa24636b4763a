package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// logRecords parses the process's JSON log, failing on a line that is not JSON. A last
// line still being written (no newline yet) is left for the next call.
func (p *proc) logRecords() []map[string]any {
	p.t.Helper()
	var out []map[string]any
	text := p.logText()
	if i := strings.LastIndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	} else {
		text = ""
	}
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			p.t.Fatalf("--log-format json wrote a line that is not JSON: %q", line)
		}
		out = append(out, rec)
	}
	return out
}

// record returns the first log record whose message starts with msg.
func (p *proc) record(msg string) map[string]any {
	for _, r := range p.logRecords() {
		if m, _ := r["msg"].(string); strings.HasPrefix(m, msg) {
			return r
		}
	}
	return nil
}

// `serve --log-format json --log-level debug` logs JSON: a start-up line that says how it
// runs (and warns that catch-hook URLs point at loopback), a warning per failed attempt and
// for refused catch-hook calls, and at shutdown what is left pending; never a secret (the
// API token, an endpoint's signing secret, its URL's path and query, its headers, a
// source's secret). GET /metrics answers without the token.
func TestServeLogsAndMetrics(t *testing.T) {
	p := startServe(t, t.TempDir(), "--log-format", "json", "--log-level", "debug", "--retry-schedule", "0s,20ms,1h")
	start := p.record("hookgate listening")
	if start == nil {
		t.Fatalf("no start-up line:\n%s", p.logText())
	}
	for _, k := range []string{"version", "addr", "store", "data", "public_url", "dev", "retry_schedule", "retention"} {
		if _, ok := start[k]; !ok {
			t.Errorf("the start-up line has no %s: %v", k, start)
		}
	}
	if start["retry_schedule"] != "0s,20ms,1h0m0s" || start["dev"] != true {
		t.Errorf("start-up line = %v", start)
	}
	// The warning follows the start-up line: wait for it rather than read the log once.
	gatewaytest.WaitFor(t, 5*time.Second, "a warning that catch-hook URLs point at loopback", func() bool {
		return p.record("--public-url is unset") != nil
	})

	var failing atomic.Int64
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		failing.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer down.Close()
	var ep struct{ ID, Secret string }
	if st, err := p.call("POST", "/v1/endpoints", map[string]any{
		"url":     down.URL + "/hooks/path-secret-4711?key=query-secret-4712",
		"events":  []string{"*"},
		"headers": map[string]string{"Authorization": "Bearer header-secret-4713"},
	}, &ep); st != 201 || ep.Secret == "" {
		t.Fatalf("create endpoint = %d %v %+v", st, err, ep)
	}
	var src struct{ ID, URL string }
	if st, err := p.call("POST", "/v1/sources", map[string]any{
		"name": "signed", "provider": "generic", "secret": "source-secret-4714",
		"verify":  map[string]any{"type": "hmac", "header": "X-Sig", "algorithm": "sha256"},
		"mapping": "{type: .t, data: .}", "sample": map[string]any{"t": "a.b"},
	}, &src); st != 201 {
		t.Fatalf("create source = %d %v", st, err)
	}
	for range 20 {
		resp, err := http.Post(p.url+"/in/"+src.ID, "application/json", strings.NewReader(`{"t":"a.b"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if st, err := p.call("POST", "/v1/events", map[string]any{"type": "app.report_ready", "data": map[string]any{}}, nil); st != 202 {
		t.Fatalf("publish = %d %v", st, err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for p.record("delivery attempt failed") == nil || failing.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no warning for the failed attempts:\n%s", p.logText())
		}
		time.Sleep(20 * time.Millisecond)
	}

	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /metrics without a token = %d, %v", resp.StatusCode, err)
	}
	for _, name := range []string{"hookgate_delivery_attempts_total", "hookgate_catchhook_requests_total", "hookgate_deliveries_pending",
		"hookgate_store_commit_duration_seconds", "hookgate_endpoints", "go_goroutines"} {
		if fams[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}

	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	stopped := p.record("gateway stopped")
	if stopped == nil || stopped["pending"] != float64(1) {
		t.Errorf("shutdown line = %v, want pending 1 (the delivery waiting an hour):\n%s", stopped, p.logText())
	}
	refused := p.record("catch hook refused a call")
	if refused == nil || refused["source"] != src.ID {
		t.Errorf("no warning for the refused catch-hook calls:\n%s", p.logText())
	}
	logs := p.logText()
	for _, secret := range []string{e2eToken, ep.Secret, strings.TrimPrefix(ep.Secret, "whsec_"), "path-secret-4711", "query-secret-4712", "header-secret-4713", "source-secret-4714"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds a secret, %q:\n%s", secret, logs)
		}
	}
}

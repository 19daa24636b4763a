package gateway_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// logLines is a JSON log sink a test reads while the Service writes to it.
type logLines struct {
	gatewaytest.Buffer
}

// at returns the records logged at level, each as a map.
func (l *logLines) at(t *testing.T, level string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.String()), "\n") {
		if line == "" {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["level"] == level {
			out = append(out, rec)
		}
	}
	return out
}

func newLogged() (*logLines, *slog.Logger) {
	l := &logLines{}
	return l, slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// A failing endpoint produces one warn line per attempt, naming the endpoint, the delivery,
// the event type, the status, the attempt n of m and the next attempt; the last one says it
// gives up. A success is logged at debug.
func TestLogOneWarnLinePerFailedAttempt(t *testing.T) {
	logs, log := newLogged()
	rec := gatewaytest.NewRecorder()
	rec.Script(func(n int, m *gateway.Message) gateway.Outcome {
		if strings.HasSuffix(m.Endpoint.URL, "/ok") {
			return gateway.Outcome{StatusCode: 200}
		}
		return gateway.Outcome{StatusCode: 503, Body: []byte("down")}
	})
	svc := gatewaytest.New(t, gateway.Options{Logger: log, Schedule: gateway.Schedule{0, 10 * time.Millisecond, 10 * time.Millisecond}, DisableAfter: 100}, rec)
	failing, _, err := svc.CreateEndpoint(t.Context(), gateway.EndpointInput{URL: "http://127.0.0.1:9/down", Events: []string{"video.*"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateEndpoint(t.Context(), gateway.EndpointInput{URL: "http://127.0.0.1:9/ok", Events: []string{"video.*"}}); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Publish(t.Context(), gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	gatewaytest.WaitFor(t, 10*time.Second, "the delivery to give up and its warning", func() bool {
		dls, err := svc.ListDeliveries(t.Context(), failing.ID, gateway.DeliveryFilter{Status: gateway.StatusFailed})
		return err == nil && len(dls.Data) == 1 && len(logs.at(t, "WARN")) >= 3
	})
	warns := logs.at(t, "WARN")
	if len(warns) != 3 {
		t.Fatalf("%d warn lines, want 3 (one per attempt):\n%s", len(warns), logs)
	}
	for i, w := range warns {
		n := float64(i + 1)
		if w["endpoint"] != failing.ID || w["type"] != "video.posted" || w["event"] != res.ID || w["status"] != float64(503) ||
			w["attempt"] != n || w["of"] != float64(3) || w["delivery"] == nil {
			t.Errorf("warn line %d = %v, want endpoint %s, event %s, type, status 503, attempt %v of 3, delivery", i+1, w, failing.ID, res.ID, n)
		}
		_, hasNext := w["next_attempt"]
		if last := i == 2; last == hasNext || last != strings.Contains(w["msg"].(string), "giving up") {
			t.Errorf("warn line %d = %v: the last says it gives up (no next attempt), the others name the next attempt", i+1, w)
		}
	}
	gatewaytest.WaitFor(t, 10*time.Second, "a debug line for the successful delivery", func() bool {
		for _, d := range logs.at(t, "DEBUG") {
			if d["msg"] == "delivered" {
				return true
			}
		}
		return false
	})
}

// A flood of refused catch-hook calls is logged as its first call and then one summary per
// source per minute, not one line per call.
func TestLogRefusedCatchHookFloodIsSummed(t *testing.T) {
	logs, log := newLogged()
	var off atomic.Int64
	now := func() time.Time { return time.Now().Add(time.Duration(off.Load())) }
	svc := gatewaytest.New(t, gateway.Options{Logger: log, Now: now, Inbound: connectors.Inbound()}, nil)
	src, err := svc.CreateSource(t.Context(), gateway.SourceInput{Name: "signed", Provider: "generic", Secret: "flood-secret-1234",
		Verify: json.RawMessage(`{"type":"hmac","header":"X-Sig","algorithm":"sha256"}`), Mapping: `{type: .t, data: .}`, Sample: json.RawMessage(`{"t":"a.b"}`)})
	if err != nil {
		t.Fatal(err)
	}
	call := func() {
		_, err := svc.Receive(t.Context(), src.ID, &gateway.InboundRequest{Header: http.Header{"X-Sig": {"forged"}}, Body: []byte(`{"t":"a.b"}`)})
		if err == nil {
			t.Fatal("a forged call was accepted")
		}
	}
	for range 200 {
		call()
	}
	warns := logs.at(t, "WARN")
	if len(warns) != 1 || warns[0]["source"] != src.ID || warns[0]["result"] != "rejected" {
		t.Fatalf("after 200 refused calls: %d warn lines, want the first call's only:\n%s", len(warns), logs)
	}
	off.Add(int64(61 * time.Second))
	call()
	warns = logs.at(t, "WARN")
	if len(warns) != 3 {
		t.Fatalf("a minute later: %d warn lines, want 3 (the first call, the summary of the other 199, the new window's first):\n%s", len(warns), logs)
	}
	if s := warns[1]; s["calls"] != float64(199) || s["rejected"] != float64(199) || s["source"] != src.ID {
		t.Errorf("summary = %v, want 199 rejected calls of %s", s, src.ID)
	}
	if strings.Contains(logs.String(), "flood-secret-1234") {
		t.Errorf("the source's secret is in the log:\n%s", logs)
	}
}

// Disabling and re-enabling an endpoint through the API is logged at info, with why.
func TestLogEndpointDisabledAndReEnabled(t *testing.T) {
	logs, log := newLogged()
	svc := gatewaytest.New(t, gateway.Options{Logger: log}, gatewaytest.NewRecorder())
	ep, _, err := svc.CreateEndpoint(t.Context(), gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, on := range []bool{false, true} {
		if _, err := svc.UpdateEndpoint(t.Context(), ep.ID, gateway.EndpointPatch{Enabled: &on}); err != nil {
			t.Fatal(err)
		}
	}
	var msgs []string
	for _, r := range logs.at(t, "INFO") {
		if r["endpoint"] == ep.ID && r["why"] != nil {
			msgs = append(msgs, r["msg"].(string)+": "+r["why"].(string))
		}
	}
	if want := []string{"endpoint disabled: disabled through the API", "endpoint re-enabled: enabled through the API"}; strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Errorf("info lines = %q, want %q", msgs, want)
	}
}

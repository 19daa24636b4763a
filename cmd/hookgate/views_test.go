package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The cross-endpoint views from the command line, against a real server: deliveries list
// without --endpoint, hookgate status, and events list --newest paging back.
func TestCLIViews(t *testing.T) {
	p := startServe(t, t.TempDir(), "--retry-schedule", "0s")
	ok := newReceiver(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(down.Close)
	var eps []string
	for _, url := range []string{ok.srv.URL + "/hook", down.URL + "/hook"} {
		code, out, errs := cli(t, p, "endpoints", "create", "--url", url, "--events", "*", "--json")
		var ep struct{ ID string }
		if code != 0 || json.Unmarshal([]byte(out), &ep) != nil {
			t.Fatalf("create: exit %d %q %q", code, out, errs)
		}
		eps = append(eps, ep.ID)
	}
	for _, id := range []string{"evt_v1", "evt_v2", "evt_v3"} {
		if code, _, errs := cli(t, p, "events", "publish", "--type", "x.happened", "--id", id, "--data", "{}"); code != 0 {
			t.Fatalf("publish: %s", errs)
		}
	}
	// The three deliveries to the receiver that is down fail (one attempt each).
	var failed struct {
		Data []struct {
			EndpointID string `json:"endpoint_id"`
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out, errs := cli(t, p, "deliveries", "list", "--status", "failed", "--since", "1h", "--json")
		if code != 0 {
			t.Fatalf("deliveries list --status failed: exit %d %s", code, errs)
		}
		json.Unmarshal([]byte(out), &failed)
		if len(failed.Data) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("failed deliveries = %s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, d := range failed.Data {
		if d.EndpointID != eps[1] {
			t.Fatalf("a failed delivery of %s, want only %s's", d.EndpointID, eps[1])
		}
	}
	code, out, _ := cli(t, p, "deliveries", "list")
	if code != 0 || strings.Count(out, "dlv_") != 6 || !strings.Contains(out, eps[0]) || !strings.Contains(out, eps[1]) {
		t.Fatalf("deliveries list (every endpoint) = %q", out)
	}
	if code, _, errs := cli(t, p, "deliveries", "list", "--since", "yesterday"); code == 0 || !strings.Contains(errs, "--since") {
		t.Fatalf("--since yesterday: exit %d %q", code, errs)
	}

	gatewayWait(t, func() bool { _, out, _ := cli(t, p, "status"); return strings.Contains(out, "6 attempts") }, "status counts six attempts")
	code, out, errs := cli(t, p, "status")
	if code != 0 {
		t.Fatalf("status: exit %d %s", code, errs)
	}
	t.Logf("hookgate status:\n%s", out)
	for _, want := range []string{": ready", "disk: ", "lag: ", "6 attempts, 3 failed (50.0% ok), 3 gave up", "HTTP 503", eps[0], eps[1], "100.0%", "0.0%"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if code, out, _ := cli(t, p, "status", "--json"); code != 0 || !strings.Contains(out, `"success_ratio": 0.5`) {
		t.Errorf("status --json = %s", out)
	}

	code, out, _ = cli(t, p, "events", "list", "--newest", "--limit", "2")
	if code != 0 || strings.Index(out, "evt_v3") > strings.Index(out, "evt_v2") || strings.Contains(out, "evt_v1") || !strings.Contains(out, "more: --newest --after ") {
		t.Fatalf("events list --newest --limit 2 = %q", out)
	}
	if code, out, _ := cli(t, p, "events", "list", "--since", "1h"); code != 0 || strings.Count(out, "evt_v") != 3 {
		t.Fatalf("events list --since 1h = %q", out)
	}
	after := strings.Fields(out[strings.Index(out, "--after "):])[1]
	code, out, _ = cli(t, p, "events", "list", "--newest", "--limit", "2", "--after", after)
	if code != 0 || !strings.Contains(out, "evt_v1") || strings.Contains(out, "evt_v2") || strings.Contains(out, "more:") {
		t.Fatalf("events list --newest --after %s = %q", after, out)
	}
}

// gatewayWait polls cond until it holds or 10 s pass.
func gatewayWait(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

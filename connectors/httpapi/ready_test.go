package httpapi_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// readyz GETs /readyz (no token) and returns the status and the reasons.
func readyz(t *testing.T, url string) (int, []string) {
	t.Helper()
	resp, err := http.Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status  string   `json:"status"`
		Reasons []string `json:"reasons"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("readyz body: %v", err)
	}
	if (resp.StatusCode == 200) != (body.Status == "ready") {
		t.Errorf("readyz = %d with status %q", resp.StatusCode, body.Status)
	}
	return resp.StatusCode, body.Reasons
}

// wantReason checks a 503 whose reasons include one starting with code.
func wantReason(t *testing.T, when string, status int, reasons []string, code string) {
	t.Helper()
	for _, r := range reasons {
		if strings.HasPrefix(r, code+": ") {
			if status != http.StatusServiceUnavailable {
				t.Errorf("%s: readyz = %d, want 503", when, status)
			}
			return
		}
	}
	t.Errorf("%s: readyz = %d %q, want 503 with a %s reason", when, status, reasons, code)
}

// /readyz is 503 "starting" until the dispatcher runs, 200 while the store takes writes,
// 503 "storage_full" while the volume is below the watermark, and 503
// "store_unreachable" once the store no longer answers.
func TestReadyzReasons(t *testing.T) {
	st := gatewaytest.Badger(t, t.TempDir())
	var free atomic.Uint64
	free.Store(1 << 40)
	svc, err := gateway.New(gateway.Options{Store: st, Logger: slog.New(slog.DiscardHandler), MinFreeDisk: 1 << 30,
		FreeSpace: func(string) (uint64, uint64, error) { return free.Load(), 2 << 40, nil }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token}))
	t.Cleanup(srv.Close)

	status, reasons := readyz(t, srv.URL)
	wantReason(t, "before Start", status, reasons, "starting")
	svc.Start()
	if status, reasons := readyz(t, srv.URL); status != 200 {
		t.Fatalf("after Start: readyz = %d %q, want 200", status, reasons)
	}
	free.Store(1 << 20)
	status, reasons = readyz(t, srv.URL)
	wantReason(t, "below the watermark", status, reasons, "storage_full")
	free.Store(1 << 40)
	if status, reasons := readyz(t, srv.URL); status != 200 {
		t.Fatalf("space freed: readyz = %d %q, want 200", status, reasons)
	}
	st.Close() // the store goes away under a running Service
	status, reasons = readyz(t, srv.URL)
	wantReason(t, "store closed", status, reasons, "store_unreachable")
	if err := svc.Stop(t.Context()); err != nil {
		t.Logf("Stop: %v", err)
	}
}

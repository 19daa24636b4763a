package httpapi_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
)

func TestStorageFullOverHTTP(t *testing.T) {
	var free atomic.Uint64
	free.Store(4 << 30)
	a := newAPI(t, gateway.Options{
		Inbound:   connectors.Inbound(),
		FreeSpace: func(string) (uint64, uint64, error) { return free.Load(), 10 << 30, nil },
	})
	if st, out := a.do("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/hook","events":["*"]}`); st != 201 {
		t.Fatalf("create endpoint = %d %v", st, out)
	}
	st, src := a.do("POST", "/v1/sources", `{"name":"shop","provider":"generic","verify":{"type":"none"},"mapping":"{type: .t, data: .}"}`)
	if st != 201 {
		t.Fatalf("create source = %d %v", st, src)
	}
	hook := "/in/" + src["id"].(string)
	if st, out := a.do("GET", "/readyz", "", "Authorization", ""); st != 200 || out["status"] != "ready" {
		t.Fatalf("readyz = %d %v", st, out)
	}

	free.Store(300 << 20)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/events", `{"type":"video.posted","data":{"n":1}}`},
		{"POST", hook, `{"t":"order.paid","id":"o1"}`},
		{"POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/other","events":["*"]}`},
		{"POST", "/v1/zapier/hooks", `{"hookUrl":"https://hooks.zapier.com/hooks/standard/1/abc","event":"video.posted"}`},
	} {
		st, out := a.do(c.method, c.path, c.body)
		code, _, msg := errorOf(t, out)
		if st != 507 || code != "storage_full" || !strings.HasPrefix(msg, "storage full: 300 MiB free, below the 512 MiB watermark") {
			t.Fatalf("%s %s on a full disk = %d %v, want 507 storage_full", c.method, c.path, st, out)
		}
	}
	st, out := a.do("GET", "/readyz", "", "Authorization", "")
	reasons, _ := out["reasons"].([]any)
	if st != 503 || out["status"] != "not_ready" || len(reasons) != 1 || reasons[0] != "storage_full: 300 MiB free, below the 512 MiB watermark" {
		t.Fatalf("readyz on a full disk = %d %v", st, out)
	}
	if st, out := a.do("GET", "/v1/endpoints", ""); st != 200 || len(out["data"].([]any)) != 1 {
		t.Fatalf("reads on a full disk: list endpoints = %d %v", st, out)
	}

	free.Store(600 << 20)
	if st, out := a.do("POST", "/v1/events", `{"type":"video.posted","data":{"n":2}}`); st != 202 {
		t.Fatalf("publish after space came back = %d %v", st, out)
	}
	if st, out := a.do("POST", hook, `{"t":"order.paid","id":"o2"}`); st != 200 {
		t.Fatalf("catch hook after space came back = %d %v", st, out)
	}
	if st, out := a.do("GET", "/readyz", "", "Authorization", ""); st != 200 || out["status"] != "ready" {
		t.Fatalf("readyz after space came back = %d %v", st, out)
	}
	a.rec.Want(t, 5*time.Second, 2)
}

// While the store cannot be opened, the API is up: alive, not ready, and every route
// answers 507 storage_full through the one error writer (behind the token on /v1).
func TestWaitingForSpaceToOpen(t *testing.T) {
	full := fmt.Errorf("cannot open the store in /data: %w", &gateway.StorageFullError{Free: 64 << 10, Watermark: 2 << 20, Opening: true})
	srv := httptest.NewServer(httpapi.Waiting(httpapi.Options{Token: token}, func() error { return full }))
	t.Cleanup(srv.Close)
	a := &api{t: t, url: srv.URL}
	if st, out := a.do("GET", "/healthz", ""); st != 200 {
		t.Fatalf("healthz = %d %v", st, out)
	}
	st, out := a.do("GET", "/readyz", "")
	if reasons, _ := out["reasons"].([]any); st != 503 || len(reasons) != 1 || reasons[0] != "storage_full: 64 KiB free, below the 2 MiB the store needs to open" {
		t.Fatalf("readyz = %d %v", st, out)
	}
	for _, c := range []struct{ method, path string }{{"POST", "/v1/events"}, {"GET", "/v1/events"}, {"POST", "/in/src_1"}} {
		st, out := a.do(c.method, c.path, `{}`)
		if code, _, msg := errorOf(t, out); st != 507 || code != "storage_full" || msg != full.Error() {
			t.Fatalf("%s %s = %d %v", c.method, c.path, st, out)
		}
	}
	if st, out := a.do("GET", "/v1/events", "", "Authorization", ""); st != 401 {
		t.Fatalf("without a token = %d %v", st, out)
	}
}

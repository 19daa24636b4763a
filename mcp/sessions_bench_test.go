package mcp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	hgmcp "github.com/hookgate/hookgate/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// heapMiB is the live heap after a full collection, in MiB.
func heapMiB() float64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return float64(m.HeapAlloc) / (1 << 20)
}

// abandonSessions opens n Streamable HTTP sessions (initialize, initialized) on h and
// never closes them, as clients that go away without DELETE do.
func abandonSessions(tb testing.TB, h http.Handler, n int) {
	for i := range n {
		var id string
		for j, body := range []string{
			`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t` + fmt.Sprint(i) + `","version":"1"}}}`,
			`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
		} {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			req.Host, req.RemoteAddr = "localhost", "127.0.0.1:1234"
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if id != "" {
				req.Header.Set("Mcp-Session-Id", id)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if j == 0 {
				if id = w.Header().Get("Mcp-Session-Id"); id == "" || w.Code != http.StatusOK {
					tb.Fatalf("initialize: %d %s", w.Code, w.Body)
				}
			}
		}
	}
}

// BenchmarkAbandonedSessions measures the heap (after GC) before and after 10,000
// sessions that are opened and abandoned: on mcp-go's handler as it was mounted before
// (sessions kept forever), and on HTTPHandler with a 1 s idle TTL, once they expired.
//
//	go test -run '^$' -bench AbandonedSessions -benchtime 1x ./mcp/
func BenchmarkAbandonedSessions(b *testing.B) {
	const n = 10000
	for _, expire := range []bool{false, true} {
		b.Run(fmt.Sprintf("expire=%v", expire), func(b *testing.B) {
			svc := gatewaytest.New(b, gateway.Options{}, nil)
			for range b.N {
				var h http.Handler
				if expire {
					h = hgmcp.HTTPHandler(hgmcp.NewServer(svc, hgmcp.Options{}), hgmcp.HTTPOptions{SessionIdleTTL: time.Second})
				} else {
					h = hgmcp.DropCancelledResponses(server.NewStreamableHTTPServer(hgmcp.NewServer(svc, hgmcp.Options{})))
				}
				before := heapMiB()
				abandonSessions(b, h, n)
				opened := heapMiB()
				after := opened
				if expire {
					// The sweeper runs every second: wait for it to forget the sessions.
					for deadline := time.Now().Add(30 * time.Second); ; {
						if after = heapMiB(); after-before < 1 || time.Now().After(deadline) {
							break
						}
						time.Sleep(100 * time.Millisecond)
					}
				}
				b.ReportMetric(before, "MiB-before")
				b.ReportMetric(opened, "MiB-opened")
				b.ReportMetric(after, "MiB-after")
				runtime.KeepAlive(h)
			}
		})
	}
}

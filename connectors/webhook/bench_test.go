package webhook_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/connectors/connectortest"
	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/gateway"
)

// BenchmarkSend measures one webhook attempt as the dispatcher makes it: sign, build the
// request, POST it over a kept-alive loopback connection to an httptest server that reads
// the body and answers 200, read the answer. The server's own work is in the numbers too
// (it runs in this process); it is the same for every version of the Sender.
//
//	go test -run '^$' -bench Send -benchmem ./connectors/webhook/
func BenchmarkSend(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"16KiB", 16 << 10}} {
		b.Run(size.name, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(http.StatusOK)
			}))
			defer srv.Close()
			s := webhook.New(webhook.Options{Policy: gateway.URLPolicy{AllowPrivate: true}})
			m := connectortest.Message(srv.URL+"/hook?team=growth", secret)
			m.Event.Data = json.RawMessage(`{"pad":"` + strings.Repeat("x", size.n-len(`{"pad":""}`)) + `"}`)
			m.Body = m.Event.Body()
			b.SetBytes(int64(len(m.Body)))
			b.ReportAllocs()
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if out := s.Send(context.Background(), m); out.Err != nil || out.StatusCode != http.StatusOK {
						b.Errorf("Send = %d, %v; want 200", out.StatusCode, out.Err)
						return
					}
				}
			})
		})
	}
}

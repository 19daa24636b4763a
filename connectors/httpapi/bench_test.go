package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/memory"
)

// BenchmarkPublishHTTP measures POST /v1/events through the API's handler on queue/memory,
// with one endpoint subscribed so that each event's envelope is also built and handed to a
// Sender (which answers 200 at once); it stops once every event was delivered. B/op and
// allocs/op count the whole process: the request's reading, decoding, checking, storing,
// and the delivery.
//
// It calls the handler's ServeHTTP with an httptest.ResponseRecorder instead of going
// through a loopback connection: the numbers are then the server's own, not mixed with
// an HTTP client's and the network stack's (which are the same before and after any change
// to the publish path, and larger than it on a 1 KiB event). The request carries
// Content-Length, as every real client's publish does.
//
// The memory store keeps every event, so bound the runs:
//
//	go test -run '^$' -bench PublishHTTP -benchmem -benchtime 5000x ./connectors/httpapi/
func BenchmarkPublishHTTP(b *testing.B) {
	for _, size := range []int{1 << 10, 16 << 10} {
		b.Run(fmt.Sprintf("size=%dKiB", size>>10), func(b *testing.B) { benchmarkPublishHTTP(b, size) })
	}
}

func benchmarkPublishHTTP(b *testing.B, size int) {
	var delivered atomic.Int64
	sender := gateway.SenderFunc(func(_ context.Context, m *gateway.Message) gateway.Outcome {
		if len(m.Body) == 0 {
			b.Error("delivered an empty envelope")
		}
		delivered.Add(1)
		return gateway.Outcome{StatusCode: 200}
	})
	svc := gatewaytest.New(b, gateway.Options{Store: memory.New(), Senders: map[string]gateway.Sender{gateway.KindWebhook: sender}}, nil)
	if _, _, err := svc.CreateEndpoint(context.Background(), gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"*"}}); err != nil {
		b.Fatal(err)
	}
	h := httpapi.New(httpapi.Options{Service: svc, Token: token})
	body := benchEvent(size)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req := httptest.NewRequest(http.MethodPost, "/v1/events", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusAccepted {
			b.Fatalf("publish = %d %s", w.Code, w.Body)
		}
	}
	deadline := time.Now().Add(time.Minute)
	for delivered.Load() < int64(b.N) {
		if time.Now().After(deadline) {
			b.Fatalf("delivered %d of %d events within a minute", delivered.Load(), b.N)
		}
		time.Sleep(time.Millisecond)
	}
}

// benchEvent is a publish request of about size bytes, compact as clients send it: an
// object of items with text, numbers, booleans and a nested array, like a real payload.
func benchEvent(size int) []byte {
	var data strings.Builder
	data.WriteString(`{"video_id":"v_8f3a2c","channel":"tokportal","items":[`)
	for i := 0; data.Len() < size-80; i++ {
		if i > 0 {
			data.WriteByte(',')
		}
		fmt.Fprintf(&data, `{"n":%d,"title":"Clip %d: a short title with some words","views":%d,"ratio":0.%d,"live":%t,"tags":["a","b%d"]}`, i, i, i*1237, i%97, i%2 == 0, i)
	}
	data.WriteString(`]}`)
	return []byte(`{"type":"video.posted","data":` + data.String() + `}`)
}

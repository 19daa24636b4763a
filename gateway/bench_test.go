package gateway_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// BenchmarkPublishDeliver measures the durable pipeline without HTTP: Publish (group-committed,
// fsync'd) → dispatcher → a Sender that answers 200 at once → attempt recorded. disk=on runs
// the free-space guard as in production (a statfs per publish and per dispatcher turn, with
// a watermark of 1 byte so it never refuses); disk=off turns it off, to show what it costs.
func BenchmarkPublishDeliver(b *testing.B) {
	b.Run("disk=on", func(b *testing.B) { benchmarkPublishDeliver(b, 1) })
	b.Run("disk=off", func(b *testing.B) { benchmarkPublishDeliver(b, -1) })
}

func benchmarkPublishDeliver(b *testing.B, minFreeDisk int64) {
	var delivered atomic.Int64
	rec := gateway.SenderFunc(func(context.Context, *gateway.Message) gateway.Outcome {
		delivered.Add(1)
		return gateway.Outcome{StatusCode: 200}
	})
	svc := gatewaytest.New(b, gateway.Options{Senders: map[string]gateway.Sender{"webhook": rec}, MinFreeDisk: minFreeDisk}, nil)
	if _, _, err := svc.CreateEndpoint(context.Background(), gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"*"}}); err != nil {
		b.Fatal(err)
	}
	data := json.RawMessage(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.Publish(context.Background(), gateway.PublishInput{Type: "video.posted", Data: data}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	for delivered.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

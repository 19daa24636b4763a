package badger_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// BenchmarkAppend measures what a publish costs the store: 32 goroutines per CPU each
// appending a 1 KiB event with one pending delivery, every Append fsync'd before it returns
// (group commit shares the fsyncs).
func BenchmarkAppend(b *testing.B) {
	st := open(b, b.TempDir())
	data := json.RawMessage(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)
	var n atomic.Int64
	b.SetParallelism(32)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			now := time.Now().UTC()
			id := fmt.Sprintf("evt_%d", i)
			a := &gateway.Append{
				Event: &gateway.StoredEvent{Event: gateway.Event{ID: id, Type: "video.posted", Created: now, Data: data}, ReceivedAt: now},
				Deliveries: []*gateway.Delivery{{ID: fmt.Sprintf("dlv_%d", i), EventID: id, EndpointID: "ep_1", EventType: "video.posted",
					Status: gateway.StatusPending, Attempts: []gateway.Attempt{}, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now}},
				Dedupe: id,
			}
			if _, err := st.Append(ctx, a); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

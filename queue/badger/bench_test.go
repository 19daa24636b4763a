package badger_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger"
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
	defer cpuPerOp(b)()
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

// BenchmarkPublishComplete measures what one delivered event costs the store at full speed:
// 32 goroutines per CPU each append a 1 KiB event with one delivery, then record its
// successful attempt as the dispatcher does (UpdateDelivery, from the delivery it holds).
// commits/op is how many group commits (fsyncs) that took per event; the single committer's
// work per event is what bounds the rate on two cores.
func BenchmarkPublishComplete(b *testing.B) {
	benchmarkPublishComplete(b, func(st *badger.Store, was, d *gateway.Delivery) error { return st.UpdateDelivery(ctx, was, d) })
}

// BenchmarkPublishCompleteSaveDeliveries is BenchmarkPublishComplete recording the attempt
// with SaveDeliveries, which reads the record it replaces (a caller that holds none).
func BenchmarkPublishCompleteSaveDeliveries(b *testing.B) {
	benchmarkPublishComplete(b, func(st *badger.Store, _, d *gateway.Delivery) error { return st.SaveDeliveries(ctx, d) })
}

func benchmarkPublishComplete(b *testing.B, record func(st *badger.Store, was, d *gateway.Delivery) error) {
	var commits atomic.Int64
	st := open(b, b.TempDir(), badger.Options{OnCommit: func(time.Duration) { commits.Add(1) }})
	data := json.RawMessage(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)
	var n atomic.Int64
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	commits.Store(0)
	defer cpuPerOp(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			now := time.Now().UTC()
			id := fmt.Sprintf("evt_%d", i)
			d := &gateway.Delivery{ID: fmt.Sprintf("dlv_%d", i), EventID: id, EndpointID: "ep_1", EventType: "video.posted",
				Status: gateway.StatusPending, Attempts: []gateway.Attempt{}, NextAttemptAt: &now, CreatedAt: now, UpdatedAt: now}
			a := &gateway.Append{
				Event:      &gateway.StoredEvent{Event: gateway.Event{ID: id, Type: "video.posted", Created: now, Data: data}, ReceivedAt: now},
				Deliveries: []*gateway.Delivery{d},
				Dedupe:     id,
			}
			if _, err := st.Append(ctx, a); err != nil {
				b.Error(err)
				return
			}
			c := *d
			c.Attempts = []gateway.Attempt{{At: now, StatusCode: 204, DurationMS: 1}}
			c.Status, c.NextAttemptAt, c.UpdatedAt = gateway.StatusSucceeded, nil, time.Now().UTC()
			if err := record(st, d, &c); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(commits.Load())/float64(b.N), "commits/op")
}

package jetstream_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/jetstream"
	"github.com/hookgate/hookgate/queue/jetstream/jstest"
	"github.com/hookgate/hookgate/queue/queuetest"
)

// openBench opens a store on a new embedded server, for a benchmark.
func openBench(b *testing.B) *jetstream.Store {
	srv := jstest.Start(b)
	st, err := jetstream.Open(context.Background(), jetstream.Options{URL: srv.URL(), Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkPublishDeliver is the hot path of a gateway on NATS (one embedded server, the
// stream on disk): append an event with three pending deliveries, lease them, and ack each
// with a save of one, as the dispatcher saves (a save of several is an atomic batch, which
// costs the server some milliseconds more).
func BenchmarkPublishDeliver(b *testing.B) {
	queuetest.PublishDeliver(b, openBench(b), true)
}

// BenchmarkLeaseBacklog leases and acks a backlog of 50,000 queued deliveries, 1,000 at a
// time: the work queue's throughput when a dispatcher drains a backlog.
func BenchmarkLeaseBacklog(b *testing.B) {
	ctx := context.Background()
	st := openBench(b)
	now := time.Now()
	const n, per = 50_000, 1000
	for round := 0; b.Loop(); round++ {
		b.StopTimer()
		ds := map[string]*gateway.Delivery{}
		for i := 0; i < n; i += per {
			chunk := make([]*gateway.Delivery, per)
			for k := range chunk {
				due := now.Add(-time.Duration(i+k) * time.Millisecond)
				d := &gateway.Delivery{ID: fmt.Sprintf("dlv_%d_%09d", round, i+k), EndpointID: "ep", Status: gateway.StatusPending, NextAttemptAt: &due, CreatedAt: now}
				chunk[k], ds[d.ID] = d, d
			}
			if err := st.SaveDeliveries(ctx, chunk...); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		for left := n; left > 0; {
			jobs, err := st.Lease(ctx, now, per, time.Hour)
			if err != nil || len(jobs) == 0 {
				b.Fatalf("Lease = %d jobs, %v with %d left", len(jobs), err, left)
			}
			done := make([]*gateway.Delivery, len(jobs))
			for i, j := range jobs {
				d := ds[j.Delivery]
				d.Status, d.NextAttemptAt = gateway.StatusSucceeded, nil
				done[i] = d
			}
			if err := st.SaveDeliveries(ctx, done...); err != nil {
				b.Fatal(err)
			}
			left -= len(jobs)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "jobs/s")
}

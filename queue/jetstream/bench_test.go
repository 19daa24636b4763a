package jetstream_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/jetstream"
	"github.com/hookgate/hookgate/queue/jetstream/jstest"
)

// BenchmarkPublishDeliver is the hot path of a gateway on NATS (one embedded server, the
// stream on disk): append an event with three pending deliveries, lease them, and ack each
// (a save of several deliveries at once is an atomic batch, which costs the server some
// milliseconds more: the dispatcher saves one at a time).
func BenchmarkPublishDeliver(b *testing.B) {
	ctx := context.Background()
	srv := jstest.Start(b)
	st, err := jetstream.Open(ctx, jetstream.Options{URL: srv.URL(), Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		evID := fmt.Sprintf("evt_%09d", i)
		ds := make([]*gateway.Delivery, 3)
		ids := make([]string, 3)
		for k := range ds {
			ids[k] = fmt.Sprintf("dlv_%09d_%d", i, k)
			ds[k] = &gateway.Delivery{ID: ids[k], EventID: evID, EndpointID: fmt.Sprintf("ep_%d", k), Status: gateway.StatusPending, NextAttemptAt: &now, CreatedAt: now}
		}
		ev := &gateway.StoredEvent{Event: gateway.Event{ID: evID, Type: "bench", Created: now}, ReceivedAt: now, Deliveries: ids}
		if _, err := st.Append(ctx, &gateway.Append{Event: ev, Deliveries: ds}); err != nil {
			b.Fatal(err)
		}
		jobs, err := st.Lease(ctx, now, 3, time.Minute)
		if err != nil || len(jobs) != 3 {
			b.Fatalf("Lease = %d jobs, %v", len(jobs), err)
		}
		for _, d := range ds { // one save per attempt, as the dispatcher saves
			d.Status, d.NextAttemptAt = gateway.StatusSucceeded, nil
			if err := st.SaveDeliveries(ctx, d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkLeaseBacklog leases and acks a backlog of 50,000 queued deliveries, 1,000 at a
// time: the work queue's throughput when a dispatcher drains a backlog.
func BenchmarkLeaseBacklog(b *testing.B) {
	ctx := context.Background()
	srv := jstest.Start(b)
	st, err := jetstream.Open(ctx, jetstream.Options{URL: srv.URL(), Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
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

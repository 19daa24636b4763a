package queuetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// PublishDeliver is the hot path of a gateway, for a backend's benchmark: each iteration
// appends an event with three pending deliveries, leases them, and acks each, over a log
// that keeps growing. With oneByOne the acks are three saves of one delivery, as the
// dispatcher makes them; otherwise one save of three.
func PublishDeliver(b *testing.B, st gateway.Store, oneByOne bool) {
	ctx := context.Background()
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
		for _, d := range ds {
			d.Status, d.NextAttemptAt = gateway.StatusSucceeded, nil
		}
		if !oneByOne {
			if err := st.SaveDeliveries(ctx, ds...); err != nil {
				b.Fatal(err)
			}
			continue
		}
		for _, d := range ds {
			if err := st.SaveDeliveries(ctx, d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

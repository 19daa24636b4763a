package memory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/memory"
)

// An event appended with one pending delivery: the delivery is at once due in the work
// queue, and saving it as succeeded takes it out.
func Example() {
	ctx := context.Background()
	st := memory.New()
	defer st.Close()

	now := time.Date(2026, 6, 24, 14, 0, 0, 0, time.UTC)
	ev := &gateway.StoredEvent{
		Event:      gateway.Event{ID: "evt_1", Type: "video.posted", Created: now},
		ReceivedAt: now,
		Deliveries: []string{"dlv_1"},
	}
	d := &gateway.Delivery{ID: "dlv_1", EventID: "evt_1", EndpointID: "ep_1", Status: gateway.StatusPending, NextAttemptAt: &now, CreatedAt: now}
	res, err := st.Append(ctx, &gateway.Append{Event: ev, Deliveries: []*gateway.Delivery{d}})
	if err != nil {
		panic(err)
	}
	fmt.Println("appended", res.ID, "at seq", res.Seq)

	jobs, _ := st.Lease(ctx, now, 10, time.Minute)
	fmt.Println("leased", jobs[0].Delivery, "for", jobs[0].Endpoint)

	d.Status, d.NextAttemptAt = gateway.StatusSucceeded, nil
	if err := st.SaveDeliveries(ctx, d); err != nil {
		panic(err)
	}
	_, queued := st.NextDue(now)
	fmt.Println("still queued:", queued)
	// Output:
	// appended evt_1 at seq 1
	// leased dlv_1 for ep_1
	// still queued: false
}

package badger_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger"
)

// Open a store, append an event with one delivery, and lease the delivery when it is due.
func Example() {
	dir, err := os.MkdirTemp("", "hookgate")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := badger.Open(badger.Options{Dir: dir})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	ctx := context.Background()
	now := time.Now()
	res, err := st.Append(ctx, &gateway.Append{
		Event: &gateway.StoredEvent{Event: gateway.Event{ID: "evt_1", Type: "video.posted", Created: now,
			Data: json.RawMessage(`{"views":1}`)}, ReceivedAt: now},
		Deliveries: []*gateway.Delivery{{ID: "dlv_1", EventID: "evt_1", EndpointID: "ep_1",
			Status: gateway.StatusPending, NextAttemptAt: &now, CreatedAt: now}},
		Dedupe: "evt_1",
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("appended", res.ID, "at seq", res.Seq)

	jobs, err := st.Lease(ctx, now, 10, time.Minute)
	if err != nil {
		log.Fatal(err)
	}
	for _, j := range jobs {
		fmt.Println("leased", j.Delivery, "for", j.Endpoint)
	}
	// Output:
	// appended evt_1 at seq 1
	// leased dlv_1 for ep_1
}

package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// TestFreshEventIsNotStarvedByOverdueRetries: a restart finds 40 retries overdue; while the
// workers are busy with them, an event is published. The ordering rule (a quarter of the
// free workers, at least one, goes to new events first) sends it as soon as a worker is
// free, not after the whole backlog.
func TestFreshEventIsNotStarvedByOverdueRetries(t *testing.T) {
	const backlog, workers = 40, 4
	dir := t.TempDir()
	schedule := gateway.Schedule{0, time.Hour, time.Hour}

	overdueBacklog(t, dir, schedule, backlog)

	// Second run, two hours later: all 40 retries are overdue. The receiver holds the first
	// round of attempts until the fresh event is stored.
	published := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(published) }) }
	t.Cleanup(open)
	rec := gatewaytest.NewRecorder()
	rec.Script(func(n int, m *gateway.Message) gateway.Outcome {
		<-published
		return gateway.Outcome{StatusCode: 200}
	})
	svc := gatewaytest.New(t, gateway.Options{Store: gatewaytest.Badger(t, dir), Schedule: schedule, Concurrency: workers,
		Now: func() time.Time { return time.Now().Add(2 * time.Hour) }}, rec)
	rec.Want(t, 10*time.Second, workers) // every worker holds an overdue retry
	if _, err := svc.Publish(ctx, gateway.PublishInput{Type: "new.event", ID: "fresh", Data: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	open()
	calls := rec.Want(t, 10*time.Second, backlog+1)
	pos := -1
	for i, c := range calls {
		if c.EventID == "fresh" {
			pos = i
			break
		}
	}
	// The fresh event goes out with the first worker freed: after the round in flight and at
	// most the few leased with it, never behind the whole backlog.
	if pos < 0 || pos > 2*workers {
		t.Fatalf("the fresh event was attempt %d of %d (0-based; -1: never), want within the first %d", pos, len(calls), 2*workers+1)
	}
}

// TestFreshEventPublishedDuringALeaseIsNotStarved: the dispatcher reads the clock, then
// looks at the disk (a statfs) before it leases. An event published in between — its
// delivery due a moment after the dispatcher's reading — is still leased by id ahead of the
// overdue backlog, not dropped from the line of new deliveries and left behind all of it
// (seen in `bench --overdue`: one fresh delivery of 600 waited over 5 minutes).
func TestFreshEventPublishedDuringALeaseIsNotStarved(t *testing.T) {
	const backlog, workers = 40, 8
	dir := t.TempDir()
	// The retries come due 4 s after the first run's attempts, in the second run, whose
	// dispatcher then wakes with every worker free.
	schedule := gateway.Schedule{0, 4 * time.Second, time.Hour}
	overdueBacklog(t, dir, schedule, backlog)

	var skew atomic.Int64 // the second run's clock is the real one, plus skew
	now := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	var (
		probes  atomic.Int32
		armed   atomic.Bool
		entered = make(chan struct{})
		release = make(chan struct{})
	)
	probe := func(string) (uint64, uint64, error) {
		probes.Add(1)
		if armed.CompareAndSwap(true, false) {
			close(entered)
			<-release
		}
		return 1 << 40, 2 << 40, nil
	}
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{Store: gatewaytest.Badger(t, dir), Schedule: schedule, Concurrency: workers,
		Now: now, FreeSpace: probe, MinFreeDisk: 1}, rec)
	// New looks at the disk once, the dispatcher's first pass (nothing due yet) again; its
	// next pass is the one that finds the retries due.
	gatewaytest.WaitFor(t, 10*time.Second, "the dispatcher's first pass", func() bool { return probes.Load() >= 2 })
	armed.Store(true)
	select {
	case <-entered:
	case <-time.After(15 * time.Second):
		t.Fatal("the dispatcher did not look at the disk again within 15s")
	}
	if len(rec.Calls()) != 0 {
		t.Fatalf("%d attempts before the pass that finds the retries due", len(rec.Calls()))
	}
	// Meanwhile the clock moves on and an event is published.
	skew.Store(int64(time.Second))
	if _, err := svc.Publish(ctx, gateway.PublishInput{Type: "new.event", ID: "fresh", Data: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	close(release)

	calls := rec.Want(t, 10*time.Second, backlog+1)
	pos := slices.IndexFunc(calls, func(c gatewaytest.Call) bool { return c.EventID == "fresh" })
	if pos < 0 || pos > workers {
		t.Fatalf("the fresh event was attempt %d of %d (0-based; -1: never), want within the first %d", pos, len(calls), workers+1)
	}
}

// overdueBacklog runs a gateway on dir in which backlog events each fail their first
// attempt and wait an hour (schedule[1]) for their retry, and stops it.
func overdueBacklog(t *testing.T, dir string, schedule gateway.Schedule, backlog int) {
	t.Helper()
	quiet := slog.New(slog.DiscardHandler)
	// First run: every event fails once and waits an hour for its retry.
	failing := gatewaytest.NewRecorder()
	failing.Script(func(int, *gateway.Message) gateway.Outcome { return gateway.Outcome{StatusCode: 500} })
	first, err := gateway.New(gateway.Options{Store: gatewaytest.Badger(t, dir), Schedule: schedule, Logger: quiet, MinFreeDisk: -1,
		Senders: map[string]gateway.Sender{gateway.KindWebhook: failing}, Policy: gateway.URLPolicy{AllowPrivate: true}})
	if err != nil {
		t.Fatal(err)
	}
	first.Start()
	if _, _, err := first.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/hook", Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	for i := range backlog {
		if _, err := first.Publish(ctx, gateway.PublishInput{Type: "old.event", ID: fmt.Sprintf("old_%02d", i), Data: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	failing.Want(t, 10*time.Second, backlog)
	gatewaytest.WaitFor(t, 10*time.Second, "every first attempt recorded", func() bool {
		page, err := first.ListDeliveries(ctx, "", gateway.DeliveryFilter{Status: gateway.StatusPending, Limit: 1000})
		if err != nil {
			return false
		}
		for _, d := range page.Data {
			if len(d.Attempts) != 1 {
				return false
			}
		}
		return len(page.Data) == backlog
	})
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := first.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
}

package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/jetstream"
	"github.com/hookgate/hookgate/queue/jetstream/jstest"
)

// open opens a store on url (one stream, "HOOKGATE"), closed when t ends.
func open(t *testing.T, url string, replicas int, timeout time.Duration) *jetstream.Store {
	t.Helper()
	st, err := jetstream.Open(context.Background(), jetstream.Options{URL: url, Replicas: replicas, Logger: quiet, Timeout: timeout})
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestTwoNodes: two stores on one stream are two hookgate nodes. What one writes the
// other sees: its Appended and Wake fire, a registry Watch reports the change, a dedupe key
// taken on one is a duplicate on the other, and leasing from both at once hands out each
// job once.
func TestTwoNodes(t *testing.T) {
	srv := jstest.Start(t)
	a, b := open(t, srv.URL(), 1, 2*time.Second), open(t, srv.URL(), 1, 2*time.Second)
	ctx := context.Background()
	now := time.Now().UTC()

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watch := b.Endpoints().Watch(wctx)
	appended, wake := b.Appended(), b.Wake()
	for len(wake) > 0 {
		<-wake
	}
	d := &gateway.Delivery{ID: "dlv_1", EventID: "evt_1", EndpointID: "ep_1", Status: gateway.StatusPending, NextAttemptAt: &now, CreatedAt: now}
	start := time.Now()
	if _, err := a.Append(ctx, &gateway.Append{Event: &gateway.StoredEvent{Event: gateway.Event{ID: "evt_1", Type: "t"}, ReceivedAt: now, Deliveries: []string{"dlv_1"}},
		Deliveries: []*gateway.Delivery{d}, Dedupe: "key_1", DedupeFor: time.Hour}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-appended:
		if took := time.Since(start); took > 100*time.Millisecond {
			t.Errorf("node B's Appended fired %v after node A's Append returned, want within 100 ms", took)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("node B's Appended did not fire for node A's Append")
	}
	select {
	case <-wake:
	case <-time.After(5 * time.Second):
		t.Error("node B's Wake did not fire for work node A queued")
	}
	if ev, err := b.Event(ctx, "evt_1"); err != nil || ev.Seq == 0 {
		t.Errorf("node B: Event(evt_1) = %+v, %v", ev, err)
	}
	dup, err := b.Append(ctx, &gateway.Append{Event: &gateway.StoredEvent{Event: gateway.Event{ID: "evt_2", Type: "t"}, ReceivedAt: now}, Dedupe: "key_1", DedupeFor: time.Hour})
	if err != nil || !dup.Duplicate || dup.ID != "evt_1" {
		t.Errorf("node B: Append under node A's key = %+v, %v; want a duplicate of evt_1", dup, err)
	}
	rev, err := a.Endpoints().Put(ctx, "ep_1", &gateway.Endpoint{ID: "ep_1", URL: "https://example.com"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-watch:
		if c.ID != "ep_1" || c.Rev != rev || c.Value == nil || c.Value.URL != "https://example.com" {
			t.Errorf("node B's Watch = %+v, want ep_1 at rev %d", c, rev)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("node B's Watch did not report node A's Put")
	}
	if _, err := b.Endpoints().Put(ctx, "ep_1", &gateway.Endpoint{ID: "ep_1"}, rev-1); err == nil {
		t.Error("node B: Put with a stale revision succeeded")
	}

	// Both lease a backlog at once, each acking what it got: every job once.
	const jobs = 600
	var ds []*gateway.Delivery
	for i := 0; i < jobs; i++ {
		due := now.Add(-time.Duration(i) * time.Millisecond)
		ds = append(ds, &gateway.Delivery{ID: fmt.Sprintf("job_%04d", i), EndpointID: "ep_1", Status: gateway.StatusPending, NextAttemptAt: &due, CreatedAt: now})
	}
	for i := 0; i < jobs; i += 200 {
		if err := a.SaveDeliveries(ctx, ds[i:i+200]...); err != nil {
			t.Fatal(err)
		}
	}
	gatewaytest.WaitFor(t, 5*time.Second, "node B to see the backlog", func() bool {
		bl, err := b.Backlog(ctx)
		return err == nil && bl.Pending["ep_1"] == jobs+1
	})
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for _, st := range []*jetstream.Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				got, err := st.Lease(ctx, now.Add(time.Second), 25, time.Hour)
				if err != nil {
					t.Errorf("Lease: %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, j := range got {
					seen[j.Delivery]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != jobs+1 {
		t.Errorf("%d jobs leased across both nodes, want %d", len(seen), jobs+1)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("job %s leased %d times across the nodes", id, n)
		}
	}
}

// TestAcknowledgedSurvivesAServerCrash: on a 3-server cluster with 3 replicas, the server
// leading the stream is killed while a node appends; a node connected to the others
// then finds every event whose Append returned (the 202 contract), and the writing node
// carries on once the stream has a new leader.
//
// Now and then nats-server (2.15.2) loses the last few messages its stream had
// acknowledged when the leader is killed (3 times in 25 runs while the writers retried
// without a pause, none in 92 since): the two servers left go on from an earlier
// sequence and hand the lost sequences out again. Events lost that way are told apart
// (the stream holds no message of theirs at their sequence, but one written after the
// kill, or none), and the test is then skipped, saying so; any other missing event fails
// it. The README's "Running several nodes" says what this means for a deployment.
func TestAcknowledgedSurvivesAServerCrash(t *testing.T) {
	c := jstest.StartCluster(t, 3)
	w := open(t, c.URL(), 3, 2*time.Second)
	ctx := context.Background()
	leader := c.StreamLeader(t, "HOOKGATE")
	type ack struct {
		id  string
		seq gateway.Seq
	}
	var (
		acked   []ack
		mu      sync.Mutex
		wg      sync.WaitGroup
		stop    = make(chan struct{})
		once    sync.Once
		lastErr atomic.Pointer[error]
	)
	// halt stops the writers; deferred too, so that a failed wait does not leave them
	// appending to a closed store for the rest of the package's tests.
	halt := func() { once.Do(func() { close(stop) }); wg.Wait() }
	defer halt()
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("evt_%d_%05d", g, i)
				res, err := w.Append(ctx, &gateway.Append{Event: &gateway.StoredEvent{Event: gateway.Event{ID: id, Type: "t"}, ReceivedAt: time.Now()}})
				if err != nil {
					lastErr.Store(&err)
					// Not acknowledged: the producer tries again a little later, as
					// one does, leaving the CPU to the servers electing a leader.
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					continue
				}
				mu.Lock()
				acked = append(acked, ack{id, res.Seq})
				mu.Unlock()
				select {
				case <-stop:
					return
				default:
				}
			}
		}()
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	gatewaytest.WaitFor(t, 10*time.Second, "200 appends before the crash", func() bool { return count() >= 200 })
	before := count()
	killed := time.Now()
	leader.Kill()
	// The writer's node stops taking writes if the stream loses messages it had read (its
	// view diverged; see diverge.go): then what was lost is told apart below.
	diverged := func() bool {
		err := lastErr.Load()
		return err != nil && strings.Contains((*err).Error(), "diverged")
	}
	gatewaytest.WaitFor(t, time.Minute, "appends acknowledged after the crash", func() bool { return count() >= before+200 || diverged() })
	halt()

	var others []string
	for _, s := range c.Servers {
		if s != leader {
			others = append(others, s.URL())
		}
	}
	// Following the stream needs a consumer, which the two servers left create only once
	// they have settled after the crash: wait for that, then open with the default timeout.
	c.WaitForLeader()
	c.StreamLeader(t, "HOOKGATE")
	r := open(t, others[0]+","+others[1], 3, 0)
	stream, err := jstest.JetStream(t, others[0]+","+others[1]).Stream(ctx, "HOOKGATE")
	if err != nil {
		t.Fatal(err)
	}
	var lostByNATS []string
	for _, a := range acked {
		if _, err := r.Event(ctx, a.id); err == nil {
			continue
		} else if m, gerr := stream.GetMsg(ctx, uint64(a.seq)); gerr == nil && m.Time.Before(killed) || gerr != nil && !errors.Is(gerr, natsjs.ErrMsgNotFound) {
			t.Errorf("acknowledged event %s (sequence %d) after the leader's crash: %v", a.id, a.seq, err)
		} else {
			lostByNATS = append(lostByNATS, fmt.Sprintf("%s (sequence %d)", a.id, a.seq))
		}
	}
	t.Logf("%d appends acknowledged, %d before the crash", len(acked), before)
	if diverged() && len(lostByNATS) == 0 {
		t.Errorf("the writer's node refuses writes as if the stream had lost messages (%v), but no acknowledged event is missing", *lastErr.Load())
	}
	if len(lostByNATS) > 0 && !t.Failed() {
		t.Skipf("nats-server lost %d messages its stream had acknowledged when its leader was killed, and handed their sequences out again: %v", len(lostByNATS), lostByNATS)
	}
}

// TestTombstonesExpire: what Trim removed leaves tombstones that expire after
// TombstoneTTL, on the server and in the view alike, so that the record's id is free again
// and a compare-and-swap expecting nothing there succeeds.
func TestTombstonesExpire(t *testing.T) {
	srv := jstest.Start(t)
	st, err := jetstream.Open(context.Background(), jetstream.Options{URL: srv.URL(), Logger: quiet, TombstoneTTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	now := time.Now().UTC()
	ev := func() *gateway.Append {
		return &gateway.Append{Event: &gateway.StoredEvent{Event: gateway.Event{ID: "evt_1", Type: "t"}, ReceivedAt: now}}
	}
	if _, err := st.Append(ctx, ev()); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Trim(ctx, now.Add(time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("Trim = %d, %v; want 1", n, err)
	}
	if _, err := st.Endpoints().Put(ctx, "ep_1", &gateway.Endpoint{ID: "ep_1"}, 0); err != nil {
		t.Fatal(err)
	}
	if err := st.Endpoints().Delete(ctx, "ep_1"); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := natsjs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	gatewaytest.WaitFor(t, 15*time.Second, "the server to drop both tombstones", func() bool {
		s, err := js.Stream(ctx, "HOOKGATE")
		return err == nil && s.CachedInfo().State.Msgs == 0
	})
	if _, err := st.Trim(ctx, now, 1); err != nil { // forgets expired tombstones
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, ev()); err != nil {
		t.Errorf("Append of a trimmed event's id after its tombstone expired: %v", err)
	}
	if _, err := st.Endpoints().Put(ctx, "ep_1", &gateway.Endpoint{ID: "ep_1"}, 0); err != nil {
		t.Errorf("Put of a deleted endpoint's id after its tombstone expired: %v", err)
	}
}

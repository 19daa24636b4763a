package jetstream_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/jetstream"
	"github.com/hookgate/hookgate/queue/jetstream/jstest"
)

var ctx = context.Background()

// nodeOptions are what one in-process hookgate node of a cluster test runs with, besides
// its store.
type nodeOptions struct {
	now             func() time.Time
	deliveryTimeout time.Duration
}

// startNodes starts n hookgate Services on one JetStream stream of a 3-server cluster (3
// replicas), each with its own connection, as n processes would, delivering over real
// HTTP. They are stopped when the test ends (a test may stop one earlier).
func startNodes(t *testing.T, n int, o func(i int) nodeOptions) []*gateway.Service {
	t.Helper()
	c := jstest.StartCluster(t, 3)
	sum := sha256.Sum256([]byte(t.Name()))
	name := "c" + hex.EncodeToString(sum[:8])
	nodes := make([]*gateway.Service, n)
	for i := range nodes {
		st, err := jetstream.Open(ctx, jetstream.Options{URL: c.URL(), Replicas: 3, Stream: name, Subjects: name, Logger: quiet})
		if err != nil {
			t.Fatalf("node %d: Open: %v", i, err)
		}
		var no nodeOptions
		if o != nil {
			no = o(i)
		}
		policy := gateway.URLPolicy{AllowPrivate: true}
		nodes[i] = gatewaytest.New(t, gateway.Options{
			Store:           st,
			Now:             no.now,
			DeliveryTimeout: no.deliveryTimeout,
			Policy:          policy,
			Senders:         connectors.Senders(connectors.Options{Policy: policy, Logger: quiet}),
			Logger:          quiet,
		}, nil)
	}
	return nodes
}

// receiver is an HTTP endpoint that records when each delivery arrived, by delivery id,
// and which event each carried.
type receiver struct {
	srv   *httptest.Server
	delay time.Duration

	mu     sync.Mutex
	got    map[string][]time.Time // delivery id → each time it arrived
	events map[string]bool        // event ids received
	all    []time.Time
}

func newReceiver(t *testing.T, delay time.Duration) *receiver {
	r := &receiver{delay: delay, got: map[string][]time.Time{}, events: map[string]bool{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.delay > 0 {
			select {
			case <-time.After(r.delay):
			case <-req.Context().Done():
				return
			}
		}
		now := time.Now()
		r.mu.Lock()
		dl := req.Header.Get("X-Hookgate-Delivery")
		r.got[dl] = append(r.got[dl], now)
		r.events[req.Header.Get("webhook-id")] = true
		r.all = append(r.all, now)
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// has reports whether event id arrived.
func (r *receiver) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events[id]
}

// missing counts the events of ids that have not arrived.
func (r *receiver) missing(ids []string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, id := range ids {
		if !r.events[id] {
			n++
		}
	}
	return n
}

func createEndpoint(t *testing.T, svc *gateway.Service, r *receiver, rate float64) *gateway.Endpoint {
	t.Helper()
	ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: r.srv.URL + "/hook", Events: []string{"*"},
		EndpointSettings: gateway.EndpointSettings{RateLimitPerS: rate}})
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

func publish(t *testing.T, svc *gateway.Service, n int) *gateway.PublishResult {
	t.Helper()
	res, err := svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))})
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	return res
}

// waitUntil polls cond every few milliseconds until it holds, failing after within; it
// returns how long that took.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// An endpoint created on node A is known to node B, and receives an event published to
// B, each within a second.
func TestClusterEndpointOnAReceivesFromB(t *testing.T) {
	nodes := startNodes(t, 2, nil)
	a, b := nodes[0], nodes[1]
	r := newReceiver(t, 0)
	ep := createEndpoint(t, a, r, 0)
	waitUntil(t, time.Second, "node B knows the endpoint created on A", func() bool {
		_, err := b.GetEndpoint(ctx, ep.ID)
		return err == nil
	})
	res := publish(t, b, 1)
	if res.Deliveries != 1 {
		t.Fatalf("publish on B fanned out to %d endpoints, want the one created on A", res.Deliveries)
	}
	waitUntil(t, time.Second, "the event published to B arrives at A's endpoint", func() bool { return r.has(res.ID) })
}

// An await on node B wakes within 100 ms for an event published to node A.
func TestClusterAwaitOnBWakesForAPublishOnA(t *testing.T) {
	nodes := startNodes(t, 2, nil)
	a, b := nodes[0], nodes[1]
	for i := range 5 {
		w := b.WaitFor("video.*", "")
		res := publish(t, a, i)
		start := time.Now()
		select {
		case <-w.Ready():
		case <-time.After(5 * time.Second):
			t.Fatalf("the await on B never woke for %s published to A", res.ID)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("the await on B woke %s after the publish to A returned, want within 100 ms", d)
		}
		w.Close()
		// What woke it is readable on B.
		if _, _, err := b.GetEvent(ctx, res.ID); err != nil {
			t.Fatalf("B reads the event it woke for: %v", err)
		}
	}
}

// With 2,000 events published across three nodes, each delivery is sent exactly once (no
// node crashes: steady state), and the attempt logs, read on any node, hold one successful
// attempt for every delivery.
func TestClusterDeliversEachOnceAcrossNodes(t *testing.T) {
	nodes := startNodes(t, 3, nil)
	r := newReceiver(t, 0)
	createEndpoint(t, nodes[0], r, 0)
	for _, n := range nodes[1:] {
		waitUntil(t, 5*time.Second, "every node knows the endpoint", func() bool {
			p, err := n.ListEndpoints(ctx, gateway.EndpointFilter{})
			return err == nil && len(p.Data) == 1
		})
	}
	const total = 2000
	ids := make([]string, total)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				res, err := nodes[(i+w)%len(nodes)].Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
				if err != nil {
					t.Errorf("publish %d: %v", i, err)
					return
				}
				ids[i] = res.ID
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	waitUntil(t, 2*time.Minute, "every event delivered", func() bool { return r.missing(ids) == 0 })
	r.mu.Lock()
	twice := 0
	for dl, at := range r.got {
		if len(at) != 1 {
			twice++
			if twice < 5 {
				t.Errorf("delivery %s sent %d times", dl, len(at))
			}
		}
	}
	if len(r.got) != total || twice > 0 {
		t.Errorf("%d deliveries received, %d of them more than once; want %d, each once", len(r.got), twice, total)
	}
	r.mu.Unlock()
	for i, id := range ids {
		reader := nodes[i%len(nodes)]
		var dls []*gateway.Delivery
		waitUntil(t, 10*time.Second, "the attempt log of "+id, func() bool {
			_, d, err := reader.GetEvent(ctx, id)
			dls = d
			return err == nil && len(d) == 1 && d[0].Status == gateway.StatusSucceeded
		})
		if n := len(dls[0].Attempts); n != 1 {
			t.Fatalf("event %s: %d attempts logged, want 1", id, n)
		}
	}
}

// offsetClock is a Service clock that a test can move forward.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) advance(d time.Duration) { c.off.Add(int64(d)) }

// Stopping, without draining, the node that holds leased deliveries under load loses
// nothing acknowledged: once the leases end, the other node delivers every event.
func TestClusterNodeStopWithoutDrainLosesNothing(t *testing.T) {
	// B's clock starts 10 minutes behind, so that B finds nothing due and A alone leases
	// the load; then it jumps past the end of A's leases.
	clk := &offsetClock{}
	clk.advance(-10 * time.Minute)
	const timeout = 2 * time.Second
	nodes := startNodes(t, 2, func(i int) nodeOptions {
		o := nodeOptions{deliveryTimeout: timeout}
		if i == 1 {
			o.now = clk.Now
		}
		return o
	})
	a, b := nodes[0], nodes[1]
	r := newReceiver(t, time.Second)
	createEndpoint(t, a, r, 0)
	waitUntil(t, 5*time.Second, "node B knows the endpoint", func() bool {
		p, err := b.ListEndpoints(ctx, gateway.EndpointFilter{})
		return err == nil && len(p.Data) == 1
	})
	// 300 events due together a little later, so that A leases a full batch at once.
	due := time.Now().Add(3 * time.Second)
	var ids []string
	for i := range 300 {
		res, err := a.Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)), DeliverAt: due})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	waitUntil(t, 20*time.Second, "A delivering", func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.all) > 0
	})
	// Stop A with no time to finish the attempts it has in flight (leased).
	cut, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.Stop(cut); err != nil {
		t.Logf("Stop without drain: %v", err)
	}
	left := r.missing(ids)
	if left == 0 {
		t.Fatal("A delivered everything before it stopped: nothing was left leased")
	}
	// A's leases end 2 × the delivery timeout + 1 min after it took them.
	clk.advance(10*time.Minute + 2*timeout + time.Minute + time.Second)
	ids = append(ids, publish(t, b, len(ids)).ID) // work for B to wake to
	waitUntil(t, 2*time.Minute, "every acknowledged event delivered by B", func() bool { return r.missing(ids) == 0 })
	t.Logf("%d of %d events were left to B when A stopped", left, len(ids)-1)
}

// A rate_limit_per_s holds for the cluster: two nodes, both publishing and delivering, to
// an endpoint of 10/s deliver 100 ± 10 % in 10 s once the burst is spent, not 10/s each.
func TestClusterRateLimitHoldsForTheCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("a 10-second measurement")
	}
	nodes := startNodes(t, 2, nil)
	a, b := nodes[0], nodes[1]
	r := newReceiver(t, 0)
	ep := createEndpoint(t, a, r, 10)
	waitUntil(t, 5*time.Second, "node B knows the endpoint", func() bool {
		_, err := b.GetEndpoint(ctx, ep.ID)
		return err == nil
	})
	// 20 events a second, alternately on each node, for 14 s: twice what the endpoint
	// takes, so that both nodes always have work for it. The burst (a second's worth, more
	// as events keep coming) is spent within 2 s; then slots are 100 ms apart.
	start := time.Now()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := 0; time.Since(start) < 14*time.Second; i++ {
		<-tick.C
		publish(t, nodes[i%2], i)
	}
	r.mu.Lock()
	n := 0
	for _, at := range r.all {
		if d := at.Sub(start); d >= 3*time.Second && d < 13*time.Second {
			n++
		}
	}
	total := len(r.all)
	r.mu.Unlock()
	if n < 90 || n > 110 {
		t.Fatalf("%d deliveries from 3 s to 13 s, across two nodes; want 100 ± 10 %% (10/s for the cluster)", n)
	}
	t.Logf("%d deliveries in 10 s at rate_limit_per_s 10 across two nodes (%d in 14 s)", n, total)
}

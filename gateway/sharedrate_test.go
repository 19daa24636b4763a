package gateway_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/memory"
)

// clusterStore is one memory store that two Services use, as two nodes use one NATS
// cluster: a shared log (SharedLog) with the shared rate state such a store keeps (what
// queue/jetstream keeps in a key-value bucket).
type clusterStore struct {
	*memory.Store
	mu   sync.Mutex
	tats map[string]time.Time
}

func (*clusterStore) SharedLog() bool { return true }

func (s *clusterStore) UpdateRate(_ context.Context, key string, f func(time.Time) time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := f(s.tats[key]); t.IsZero() {
		delete(s.tats, key)
	} else {
		s.tats[key] = t
	}
	return nil
}

var _ gateway.SharedRates = (*clusterStore)(nil)

// Two Services on one store that shares rate state keep an endpoint's rate_limit_per_s
// together: 10/s across both, not 10/s each.
func TestSharedRateHoldsAcrossServices(t *testing.T) {
	st := &clusterStore{Store: memory.New(), tats: map[string]time.Time{}}
	recA, recB := gatewaytest.NewRecorder(), gatewaytest.NewRecorder()
	a := gatewaytest.New(t, gateway.Options{Store: st}, recA)
	b := gatewaytest.New(t, gateway.Options{Store: st}, recB)
	ep, _, err := a.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/limited", Events: []string{"app.limited"},
		EndpointSettings: gateway.EndpointSettings{RateLimitPerS: 10}})
	if err != nil {
		t.Fatal(err)
	}
	gatewaytest.WaitFor(t, 5*time.Second, "node b to see the endpoint", func() bool {
		_, err := b.GetEndpoint(ctx, ep.ID)
		return err == nil
	})
	// Publish at 40/s, alternately on each node, so that both lease work as it comes.
	const n = 40
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for i := range n {
		<-tick.C
		publish(t, []*gateway.Service{a, b}[i%2], "app.limited", `{}`)
	}
	var calls []gatewaytest.Call
	gatewaytest.WaitFor(t, 20*time.Second, "every delivery", func() bool {
		calls = append(recA.Calls(), recB.Calls()...)
		return len(calls) >= n
	})
	if len(recA.Calls()) == 0 || len(recB.Calls()) == 0 {
		t.Fatalf("node a sent %d, node b %d: want both to deliver", len(recA.Calls()), len(recB.Calls()))
	}
	slices.SortFunc(calls, func(x, y gatewaytest.Call) int { return x.At.Compare(y.At) })
	// 10/s with a burst of 10 for the pair: the 40th is due ~3 s after the first (two nodes
	// limiting each alone: 20/s, so ~1 s, as fast as they are published). Once the burst
	// is spent (it ends with a pause: a deferred delivery takes the slot a burst later),
	// deliveries come one every 100 ms.
	if span := calls[n-1].At.Sub(calls[0].At); span < 2700*time.Millisecond {
		t.Errorf("%d deliveries at 10/s across two nodes took %s, want about 3 s", n, span)
	}
	const from = 20
	steady := float64(n-1-from) / calls[n-1].At.Sub(calls[from].At).Seconds()
	if steady < 9 || steady > 11 {
		t.Errorf("past the burst, deliveries came at %.1f/s across the nodes, want 10/s ± 10 %%", steady)
	}
}

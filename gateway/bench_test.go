package gateway_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/metrics"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/badger"
	"github.com/hookgate/hookgate/queue/memory"
	"github.com/hookgate/hookgate/schemas"
)

// BenchmarkPublishDeliver measures the durable pipeline without HTTP, on Badger: Publish
// (group-committed, fsync'd) → dispatcher → a Sender that answers 200 at once → attempt
// recorded. disk=on runs the free-space guard as in production (a statfs per publish and per
// dispatcher turn, with a watermark of 1 byte so it never refuses); disk=off turns it off,
// to show what it costs. store=memory is the same pipeline on queue/memory, without a disk.
//
// metrics=on is disk=on with connectors/metrics counting every publish and attempt and
// timing every commit, as serve runs; compare it with disk=on to see what metrics cost.
func BenchmarkPublishDeliver(b *testing.B) {
	b.Run("disk=on", func(b *testing.B) { benchmarkPublishDeliver(b, gatewaytest.Badger(b, b.TempDir()), 1, nil) })
	b.Run("disk=on/metrics=on", func(b *testing.B) {
		m := metrics.New()
		st, err := badger.Open(badger.Options{Dir: b.TempDir(), Logger: slog.New(slog.DiscardHandler), OnCommit: m.ObserveCommit})
		if err != nil {
			b.Fatal(err)
		}
		benchmarkPublishDeliver(b, st, 1, m)
	})
	b.Run("disk=off", func(b *testing.B) { benchmarkPublishDeliver(b, gatewaytest.Badger(b, b.TempDir()), -1, nil) })
	b.Run("store=memory", func(b *testing.B) { benchmarkPublishDeliver(b, memory.New(), -1, nil) })
	b.Run("store=memory/metrics=on", func(b *testing.B) { benchmarkPublishDeliver(b, memory.New(), -1, metrics.New()) })
}

func benchmarkPublishDeliver(b *testing.B, store gateway.Store, minFreeDisk int64, obs gateway.Observer) {
	var delivered atomic.Int64
	rec := gateway.SenderFunc(func(context.Context, *gateway.Message) gateway.Outcome {
		delivered.Add(1)
		return gateway.Outcome{StatusCode: 200}
	})
	svc := gatewaytest.New(b, gateway.Options{Store: store, Senders: map[string]gateway.Sender{"webhook": rec}, MinFreeDisk: minFreeDisk, Observer: obs}, nil)
	if _, _, err := svc.CreateEndpoint(context.Background(), gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"*"}}); err != nil {
		b.Fatal(err)
	}
	data := json.RawMessage(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := svc.Publish(context.Background(), gateway.PublishInput{Type: "video.posted", Data: data}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	for delivered.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

// patchMapping is an endpoint mapping with some work in it (a few ms per event), so that
// checking it against the samples of all 47 catalog types takes a while; %d makes each
// PATCH's program new, so none is served from the compiled-mapping cache.
const patchMapping = `(reduce range(0; 20000) as $i (0; . + $i)) as $n | {type, id, data, n: ($n + %d)}`

// BenchmarkPublishDuringPatch measures what an admin edit costs the data path: the latency
// of publishes alone ("idle") and while endpoint PATCHes, each with a new mapping checked
// against all 47 catalog types, run back to back ("patching"). It reports p50 and p99 in ms.
//
//	go test -run '^$' -bench PublishDuringPatch -benchtime 300x ./gateway/
func BenchmarkPublishDuringPatch(b *testing.B) {
	for _, patching := range []bool{false, true} {
		name := "idle"
		if patching {
			name = "patching"
		}
		b.Run(name, func(b *testing.B) {
			cat, err := schemas.New()
			if err != nil {
				b.Fatal(err)
			}
			if n := len(cat.List("")); n != 47 {
				b.Fatalf("the catalog has %d types, want 47", n)
			}
			svc := gatewaytest.New(b, gateway.Options{Catalog: cat}, gatewaytest.NewRecorder())
			ctx := context.Background()
			// Subscribed to every type, so the mapping is checked on every sample; disabled,
			// so publishes keep paused deliveries and nothing is sent during the benchmark.
			off := false
			ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"*"}, Enabled: &off})
			if err != nil {
				b.Fatal(err)
			}
			stop, done := make(chan struct{}), make(chan struct{})
			var patches atomic.Int64
			go func() {
				defer close(done)
				for i := 0; patching; i++ {
					select {
					case <-stop:
						return
					default:
					}
					m := fmt.Sprintf(patchMapping, i)
					if _, err := svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Mapping: &m}); err != nil {
						b.Error(err)
						return
					}
					patches.Add(1)
				}
			}()
			data := json.RawMessage(`{"pad":"` + strings.Repeat("x", 200) + `"}`)
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := svc.Publish(ctx, gateway.PublishInput{Type: "bench.event", Data: data}); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			close(stop)
			<-done
			slices.Sort(lat)
			ms := func(q float64) float64 {
				return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))]) / float64(time.Millisecond)
			}
			b.ReportMetric(ms(0.50), "p50-ms")
			b.ReportMetric(ms(0.99), "p99-ms")
			b.ReportMetric(float64(patches.Load()), "patches")
		})
	}
}

// BenchmarkPublishWaiters measures what idle waiters cost publishing: publish throughput on
// Badger with no waiter and with 400 waiters on other types, each looping as await_event
// does (WaitFor, ListEvents after its cursor, wait for Ready, read again). "broadcast" is how awaits
// waited before the registry: woken by every append (Store.Appended), each reading again.
//
//	go test -run '^$' -bench PublishWaiters -benchtime 3000x ./gateway/
func BenchmarkPublishWaiters(b *testing.B) {
	for _, c := range []struct {
		name      string
		n         int
		broadcast bool
	}{{"waiters=0", 0, false}, {"waiters=400", 400, false}, {"waiters=400/broadcast", 400, true}} {
		b.Run(c.name, func(b *testing.B) {
			store := gatewaytest.Badger(b, b.TempDir())
			svc := gatewaytest.New(b, gateway.Options{Store: store}, nil)
			ctx, cancel := context.WithCancel(context.Background())
			var woken atomic.Int64
			done := make(chan struct{})
			var ready sync.WaitGroup
			for i := range c.n {
				ready.Add(1)
				go func() {
					defer func() { done <- struct{}{} }()
					typ := fmt.Sprintf("idle.type%d", i)
					w := svc.WaitFor(typ, "")
					defer w.Close()
					first := true
					for {
						grown := store.Appended()
						if _, err := svc.ListEvents(ctx, gateway.EventFilter{Type: typ, Since: time.Now(), Limit: 100}); err != nil && ctx.Err() == nil {
							b.Error(err)
						}
						if first {
							ready.Done()
							first = false
						}
						wake := w.Ready()
						if c.broadcast {
							wake = grown
						}
						select {
						case <-ctx.Done():
							return
						case <-wake:
							if !c.broadcast {
								woken.Add(1)
							}
						}
					}
				}()
			}
			ready.Wait()
			data := json.RawMessage(`{"pad":"` + strings.Repeat("x", 1000) + `"}`)
			b.SetParallelism(32)
			b.ResetTimer()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := svc.Publish(context.Background(), gateway.PublishInput{Type: "video.posted", Data: data}); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
			b.StopTimer()
			cancel()
			for range c.n {
				<-done
			}
			if woken.Load() != 0 {
				b.Errorf("idle waiters were woken %d times by events of another type", woken.Load())
			}
		})
	}
}

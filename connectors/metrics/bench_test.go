package metrics_test

import (
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/metrics"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger"
	"github.com/hookgate/hookgate/queue/memory"
)

// BenchmarkScrape measures one GET /metrics with 100,000 pending deliveries across 20
// endpoints (due in an hour, so the dispatcher leaves them queued): the pending counts and
// the lag are one pass over the work queue at every scrape.
//
//	go test -run '^$' -bench Scrape -benchtime 20x ./connectors/metrics/
func BenchmarkScrape(b *testing.B) {
	const pending, endpoints = 100_000, 20
	b.Run("store=badger", func(b *testing.B) {
		st, err := badger.Open(badger.Options{Dir: b.TempDir(), NoSync: true, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		benchmarkScrape(b, st, pending, endpoints)
	})
	b.Run("store=memory", func(b *testing.B) { benchmarkScrape(b, memory.New(), pending, endpoints) })
}

func benchmarkScrape(b *testing.B, st gateway.Store, pending, endpoints int) {
	ctx := b.Context()
	due := time.Now().Add(time.Hour)
	batch := make([]*gateway.Delivery, 0, 1000)
	for i := range pending {
		now := time.Now().UTC()
		batch = append(batch, &gateway.Delivery{ID: fmt.Sprintf("dlv_bench%07d", i), EventID: fmt.Sprintf("evt_bench%07d", i),
			EndpointID: fmt.Sprintf("ep_bench%02d", i%endpoints), EventType: "video.posted", Status: gateway.StatusPending,
			NextAttemptAt: &due, CreatedAt: now, UpdatedAt: now, Attempts: []gateway.Attempt{}})
		if len(batch) == cap(batch) || i == pending-1 {
			if err := st.SaveDeliveries(ctx, batch...); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	m := metrics.New()
	svc, err := gateway.New(gateway.Options{Store: st, Observer: m, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	svc.Start()
	b.Cleanup(func() { svc.Stop(b.Context()) })
	m.Watch(svc)
	h := m.Handler()
	want := fmt.Sprintf("hookgate_deliveries_pending{endpoint=\"ep_bench00\"} %d\n", pending/endpoints)
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
			b.Fatalf("GET /metrics = %d without %q:\n%s", w.Code, want, w.Body)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/scrape")
}

// Package metrics is hookgate's Prometheus face: it counts what the gateway does (it is the
// gateway.Observer), samples its state at scrape time, and serves both at GET /metrics in
// the Prometheus text format, with the Go and process collectors, on a registry of its own.
//
// Labels carry endpoint ids, endpoint kinds, source ids, event sources and event types,
// never URLs, secrets or payload data.
//
// # Example
//
//	m := metrics.New()
//	st, _ := badger.Open(badger.Options{Dir: dir, OnCommit: m.ObserveCommit})
//	svc, _ := gateway.New(gateway.Options{Store: st, Observer: m})
//	m.Watch(svc)
//	mux.Handle("/metrics", m.Handler())
package metrics

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// scrapeTimeout bounds how long a scrape waits for the gateway's state (the work queue).
const scrapeTimeout = 5 * time.Second

// Metrics holds hookgate's metrics. Its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	published  *prometheus.CounterVec
	duplicates *prometheus.CounterVec
	attempts   *prometheus.CounterVec
	attemptDur *prometheus.HistogramVec
	catchHooks *prometheus.CounterVec
	commitDur  prometheus.Histogram

	pendingDesc   *prometheus.Desc
	lagDesc       *prometheus.Desc
	endpointsDesc *prometheus.Desc
	freeDesc      *prometheus.Desc

	mu  sync.RWMutex
	svc *gateway.Service // nil until Watch
}

var _ gateway.Observer = (*Metrics)(nil)

// New returns the metrics on a registry of their own, with the Go and process collectors.
// The gauges that sample the gateway's state are reported once Watch is called.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: slog.Default(),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_events_published_total",
			Help: "Events stored (publish API, catch hooks and hookgate's own), by envelope source and type.",
		}, []string{"source", "type"}),
		duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_events_duplicate_total",
			Help: "Publishes and catch-hook calls that repeated a stored event (nothing stored), by envelope source.",
		}, []string{"source"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_delivery_attempts_total",
			Help: "Delivery attempts by endpoint kind, endpoint id and outcome: success, retry (failed, tried again later), gone (410, endpoint disabled), failed (failed, retries used up).",
		}, []string{"kind", "endpoint", "outcome"}),
		attemptDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hookgate_delivery_attempt_duration_seconds",
			Help:    "How long delivery attempts took (the request to the receiver), by endpoint kind.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"kind"}),
		catchHooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_catchhook_requests_total",
			Help: "Catch-hook calls by source id and result: accepted, duplicate, rejected (failed verification), invalid (can't be mapped or fails its schema), failed (could not be stored).",
		}, []string{"source", "result"}),
		commitDur: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hookgate_store_commit_duration_seconds",
			Help:    "How long the store's group commits took (one transaction and its fsync, shared by the writes batched into it).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
		}),
		pendingDesc: prometheus.NewDesc("hookgate_deliveries_pending",
			"Deliveries waiting to be sent (queued, in flight included), by endpoint id.", []string{"endpoint"}, nil),
		lagDesc: prometheus.NewDesc("hookgate_delivery_lag_seconds",
			"How long the oldest due, undelivered delivery has been due (0 when none is late).", nil, nil),
		endpointsDesc: prometheus.NewDesc("hookgate_endpoints",
			"Endpoints by state: enabled or disabled.", []string{"state"}, nil),
		freeDesc: prometheus.NewDesc("hookgate_store_free_bytes",
			"Free space on the store's data volume, in bytes (absent for a store without a volume).", nil, nil),
	}
	m.reg.MustRegister(m.published, m.duplicates, m.attempts, m.attemptDur, m.catchHooks, m.commitDur,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		(*stateCollector)(m))
	return m
}

// SetLogger sets where a scrape that can't read the gateway's state is logged; default
// slog.Default().
func (m *Metrics) SetLogger(log *slog.Logger) {
	if log != nil {
		m.log = log
	}
}

// Watch makes the gauges sample svc at every scrape: pending deliveries and lag (from the
// work queue), endpoints by state and the volume's free space.
func (m *Metrics) Watch(svc *gateway.Service) {
	m.mu.Lock()
	m.svc = svc
	m.mu.Unlock()
}

// Registry is the registry the metrics are on, to add more collectors or to gather them.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format (GET /metrics).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorLog: slogPrinter{m}, ErrorHandling: promhttp.ContinueOnError})
}

// Published counts a stored event.
func (m *Metrics) Published(source, eventType string) {
	m.published.WithLabelValues(source, eventType).Inc()
}

// Duplicate counts a call that repeated a stored event.
func (m *Metrics) Duplicate(source string) { m.duplicates.WithLabelValues(source).Inc() }

// Attempt counts a delivery attempt and records its duration.
func (m *Metrics) Attempt(kind, endpoint string, outcome gateway.AttemptOutcome, d time.Duration) {
	m.attempts.WithLabelValues(kind, endpoint, string(outcome)).Inc()
	m.attemptDur.WithLabelValues(kind).Observe(d.Seconds())
}

// CatchHook counts a catch-hook call.
func (m *Metrics) CatchHook(source string, result gateway.RequestResult) {
	m.catchHooks.WithLabelValues(source, string(result)).Inc()
}

// ObserveCommit records one store commit's duration (badger.Options.OnCommit).
func (m *Metrics) ObserveCommit(d time.Duration) { m.commitDur.Observe(d.Seconds()) }

// stateCollector reports the gauges sampled from the Service at scrape time.
type stateCollector Metrics

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pendingDesc
	ch <- c.lagDesc
	ch <- c.endpointsDesc
	ch <- c.freeDesc
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.RLock()
	svc := c.svc
	c.mu.RUnlock()
	if svc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	g, err := svc.Gauges(ctx)
	ch <- prometheus.MustNewConstMetric(c.endpointsDesc, prometheus.GaugeValue, float64(g.Enabled), "enabled")
	ch <- prometheus.MustNewConstMetric(c.endpointsDesc, prometheus.GaugeValue, float64(g.Disabled), "disabled")
	if g.Disk.Total > 0 {
		ch <- prometheus.MustNewConstMetric(c.freeDesc, prometheus.GaugeValue, float64(g.Disk.Free))
	}
	if err != nil {
		// The queue could not be read (the store is closing): leave its gauges out of this
		// scrape rather than report zeros.
		ch <- prometheus.NewInvalidMetric(c.pendingDesc, err)
		return
	}
	for ep, n := range g.Pending {
		ch <- prometheus.MustNewConstMetric(c.pendingDesc, prometheus.GaugeValue, float64(n), ep)
	}
	ch <- prometheus.MustNewConstMetric(c.lagDesc, prometheus.GaugeValue, g.Lag.Seconds())
}

// slogPrinter passes promhttp's errors to the logger.
type slogPrinter struct{ m *Metrics }

func (p slogPrinter) Println(v ...any) { p.m.log.Warn("metrics scrape", "err", v) }

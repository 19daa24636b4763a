package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/spf13/cobra"
)

// benchFlags configure one benchmark run.
type benchFlags struct {
	events      int
	endpoints   int
	concurrency int
	rate        int
	bodySize    int
	pending     int
	timeout     time.Duration
	noSync      bool
	json        bool
	keep        bool
	memProfile  string
	cpuProfile  string
	memoryLimit string
	store       string
}

// benchResult is what bench prints; with --json exactly these keys.
type benchResult struct {
	PublishedPerS float64 `json:"published_per_s"`
	DeliveredPerS float64 `json:"delivered_per_s"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	PeakRSSMiB    float64 `json:"peak_rss_mib"`
	PeakAnonMiB   float64 `json:"peak_anon_mib"`
	Events        int     `json:"events"`
	Delivered     int64   `json:"delivered"`
	Pending       int     `json:"pending"`
	Errors        int64   `json:"errors"`
}

func newBenchCmd() *cobra.Command {
	var f benchFlags
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure publish rate, delivery rate and latency of an in-process gateway",
		Long: `bench starts a gateway on a temporary data folder (durable: fsync on every commit),
a local receiver, and N endpoints pointing at it; then publishes events over the HTTP
API with the given concurrency (or at a steady --rate) and measures:

  published_per_s  events acknowledged (202, fsync'd) per second
  delivered_per_s  deliveries received per second, first publish to last receipt
  p50_ms, p99_ms   publish start to receipt at the receiver
  peak_rss_mib     the process's peak resident memory (VmHWM)

--pending loads a backlog of that many deliveries, scheduled a day ahead, before the run.`,
		Example: `  hookgate bench --events 50000 --concurrency 64
  hookgate bench --events 30000 --rate 1000 --json
  hookgate bench --pending 1000000 --events 20000 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := bench(cmd.Context(), f, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.json {
				return json.NewEncoder(out).Encode(res)
			}
			fmt.Fprintf(out, "events        %d × %d endpoint(s), %d B bodies, concurrency %d", res.Events, f.endpoints, f.bodySize, f.concurrency)
			if f.rate > 0 {
				fmt.Fprintf(out, ", rate %d/s", f.rate)
			}
			fmt.Fprintf(out, "\nbacklog       %d pending deliveries\n", res.Pending)
			fmt.Fprintf(out, "published     %.0f events/s\ndelivered     %.0f deliveries/s (%d received, %d errors)\n", res.PublishedPerS, res.DeliveredPerS, res.Delivered, res.Errors)
			fmt.Fprintf(out, "latency       p50 %.2f ms, p99 %.2f ms (publish → receipt)\npeak RSS      %.1f MiB (private memory %.1f MiB; the rest is memory-mapped table pages)\n", res.P50ms, res.P99ms, res.PeakRSSMiB, res.PeakAnonMiB)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.events, "events", 20000, "events to publish")
	fl.IntVar(&f.endpoints, "endpoints", 1, "endpoints subscribed to every event")
	fl.IntVar(&f.concurrency, "concurrency", 64, "concurrent publishers")
	fl.IntVar(&f.rate, "rate", 0, "publish at this steady rate (events/s) instead of as fast as possible")
	fl.IntVar(&f.bodySize, "body-size", 1024, "approximate size of each event's JSON body in bytes")
	fl.IntVar(&f.pending, "pending", 0, "deliveries to load as a backlog before the run")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "give up waiting for deliveries after this long")
	fl.StringVar(&f.store, "store", "badger", "the store to measure: badger (in a temporary folder) or memory")
	fl.BoolVar(&f.noSync, "no-sync", false, "turn off fsync (to measure its cost; not a supported mode)")
	fl.BoolVar(&f.json, "json", false, "print one JSON object")
	fl.BoolVar(&f.keep, "keep", false, "keep the temporary data folder")
	fl.StringVar(&f.memoryLimit, "memory-limit", envOr("GOMEMLIMIT", "192MiB"), "soft memory limit, as for serve")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured run to this file")
	fl.StringVar(&f.memProfile, "memprofile", "", "write a heap profile to this file at the end")
	return cmd
}

// bench runs one benchmark.
func bench(ctx context.Context, f benchFlags, stderr io.Writer) (*benchResult, error) {
	if f.events <= 0 || f.endpoints <= 0 || f.concurrency <= 0 || f.bodySize < 0 || f.pending < 0 {
		return nil, fmt.Errorf("--events, --endpoints and --concurrency must be positive")
	}
	if err := setMemoryLimit(f.memoryLimit); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "hookgate-bench-")
	if err != nil {
		return nil, err
	}
	if !f.keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Fprintln(stderr, "data folder:", dir)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	anon := sampleAnon(ctx)
	defer anon.stop()

	// The receiver: records when each event arrives.
	rcv := &benchReceiver{sent: &sync.Map{}}
	rln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rsrv := &http.Server{Handler: rcv}
	go rsrv.Serve(rln)
	defer rsrv.Close()

	policy := gateway.URLPolicy{AllowPrivate: true}
	sf := serveFlags{data: dir, store: f.store}
	st, err := sf.openStore(log, -1, f.noSync, nil)
	if err != nil {
		return nil, err
	}
	opts := gateway.Options{
		Store:   st,
		Senders: connectors.Senders(connectors.Options{Policy: policy, Logger: log}),
		Policy:  policy,
		Logger:  log,
	}
	svc, err := gateway.New(opts)
	if err != nil {
		return nil, err
	}
	svc.Start()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		svc.Stop(sctx)
	}()
	url := "http://" + rln.Addr().String() + "/hook"
	for i := 0; i < f.endpoints; i++ {
		if _, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: url, Events: []string{"bench.event"}}); err != nil {
			return nil, err
		}
	}
	if f.pending > 0 {
		if err := loadBacklog(ctx, svc, url, f, stderr); err != nil {
			return nil, err
		}
	}

	// The API, over loopback HTTP like a real producer.
	const token = "bench-token"
	aln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	asrv := &http.Server{Handler: httpapi.New(httpapi.Options{Service: svc, Token: token, Logger: log})}
	go asrv.Serve(aln)
	defer asrv.Close()
	api := "http://" + aln.Addr().String() + "/v1/events"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: f.concurrency, MaxConnsPerHost: f.concurrency}}

	pad := strings.Repeat("x", max(0, f.bodySize-120))
	var (
		next    atomic.Int64
		errs    atomic.Int64
		wg      sync.WaitGroup
		tick    <-chan time.Time
		started = time.Now()
	)
	if f.rate > 0 {
		t := time.NewTicker(time.Second / time.Duration(f.rate))
		defer t.Stop()
		tick = t.C
	}
	if f.cpuProfile != "" {
		fh, err := os.Create(f.cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("cpuprofile: %w", err)
		}
		defer fh.Close()
		if err := pprof.StartCPUProfile(fh); err != nil {
			return nil, fmt.Errorf("cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rcv.want = int64(f.events * f.endpoints)
	rcv.done = make(chan struct{})
	for w := 0; w < f.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(f.events) || ctx.Err() != nil {
					return
				}
				if tick != nil {
					select {
					case <-tick:
					case <-ctx.Done():
						return
					}
				}
				id := "evt_bench_" + strconv.FormatInt(i, 10)
				body := fmt.Sprintf(`{"type":"bench.event","id":%q,"data":{"n":%d,"video_id":"v_%d","platform":"tiktok","pad":%q}}`, id, i, i, pad)
				rcv.sent.Store(id, time.Now())
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, api, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	published := time.Since(started)
	select {
	case <-rcv.done:
	case <-time.After(f.timeout):
		fmt.Fprintf(stderr, "timed out: %d of %d deliveries received\n", rcv.count.Load(), rcv.want)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if f.memProfile != "" {
		if err := writeHeapProfile(f.memProfile); err != nil {
			return nil, err
		}
	}
	delivered := rcv.last().Sub(started)
	lat := rcv.latencies()
	res := &benchResult{
		PublishedPerS: float64(f.events) / published.Seconds(),
		DeliveredPerS: float64(rcv.count.Load()) / delivered.Seconds(),
		P50ms:         percentile(lat, 0.50),
		P99ms:         percentile(lat, 0.99),
		PeakRSSMiB:    procStatusMiB("VmHWM:"),
		PeakAnonMiB:   anon.stop(),
		Events:        f.events,
		Delivered:     rcv.count.Load(),
		Pending:       f.pending,
		Errors:        errs.Load(),
	}
	return res, nil
}

// loadBacklog publishes f.pending deliveries due a day from now, to an endpoint of their own.
func loadBacklog(ctx context.Context, svc *gateway.Service, url string, f benchFlags, stderr io.Writer) error {
	if _, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: url, Events: []string{"bench.backlog"}}); err != nil {
		return err
	}
	start := time.Now()
	later := start.Add(24 * time.Hour)
	data := json.RawMessage(fmt.Sprintf(`{"pad":%q}`, strings.Repeat("x", max(0, f.bodySize-40))))
	var (
		next atomic.Int64
		wg   sync.WaitGroup
		ferr atomic.Value
	)
	for w := 0; w < 64; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(f.pending) && ctx.Err() == nil {
				if _, err := svc.Publish(ctx, gateway.PublishInput{Type: "bench.backlog", Data: data, DeliverAt: later}); err != nil {
					ferr.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := ferr.Load().(error); err != nil {
		return fmt.Errorf("load backlog: %w", err)
	}
	fmt.Fprintf(stderr, "backlog: %d deliveries pending, loaded in %s\n", f.pending, time.Since(start).Round(time.Millisecond))
	return nil
}

// benchReceiver is the endpoint: it notes the latency of each event it receives.
type benchReceiver struct {
	sent  *sync.Map // event id → publish start
	want  int64
	count atomic.Int64
	done  chan struct{}

	mu     sync.Mutex
	lat    []float64
	lastAt time.Time
}

func (r *benchReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	now := time.Now()
	w.WriteHeader(http.StatusNoContent)
	i := bytes.Index(body, []byte(`"id":"`))
	if i < 0 {
		return
	}
	rest := body[i+6:]
	id := string(rest[:bytes.IndexByte(rest, '"')])
	v, ok := r.sent.Load(id)
	if !ok {
		return // a backlog event
	}
	r.mu.Lock()
	r.lat = append(r.lat, float64(now.Sub(v.(time.Time)).Microseconds())/1000)
	r.lastAt = now
	r.mu.Unlock()
	if r.count.Add(1) == r.want {
		close(r.done)
	}
}

func (r *benchReceiver) latencies() []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.lat)
	slices.Sort(out)
	return out
}

func (r *benchReceiver) last() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastAt
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(float64(len(sorted))*p))]
}

// procStatusMiB reads a kB field of /proc/self/status in MiB (Linux; 0 elsewhere).
// VmHWM is the peak resident set, which includes pages of Badger's memory-mapped tables
// (file-backed, reclaimable page cache); RssAnon is the process's private memory.
func procStatusMiB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// writeHeapProfile writes the live heap, after a GC, to path.
func writeHeapProfile(path string) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("memprofile: %w", err)
	}
	defer fh.Close()
	runtime.GC()
	if err := pprof.WriteHeapProfile(fh); err != nil {
		return fmt.Errorf("memprofile: %w", err)
	}
	return nil
}

// anonSampler tracks the peak of RssAnon, sampled every 50 ms.
type anonSampler struct {
	done chan struct{}
	peak chan float64
	once sync.Once
	val  float64
}

func sampleAnon(ctx context.Context) *anonSampler {
	s := &anonSampler{done: make(chan struct{}), peak: make(chan float64, 1)}
	go func() {
		peak := 0.0
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, procStatusMiB("RssAnon:"))
			select {
			case <-t.C:
			case <-ctx.Done():
				s.peak <- peak
				return
			case <-s.done:
				s.peak <- peak
				return
			}
		}
	}()
	return s
}

// stop ends sampling and returns the peak (the same value on every call).
func (s *anonSampler) stop() float64 {
	s.once.Do(func() {
		close(s.done)
		s.val = <-s.peak
	})
	return s.val
}

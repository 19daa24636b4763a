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
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger"
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
	memtableMiB int64
	nodes       int
	nats        serveFlags // --nats-* as serve takes them, for --store nats://…

	overdue          int           // deliveries overdue at a restart (bench_restart.go)
	overdueEndpoints int           // the endpoints they are spread over
	overdueDelay     time.Duration // how long those endpoints take to answer

	duration       time.Duration
	retention      time.Duration
	retentionEvery time.Duration
	reportEvery    time.Duration
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
	// Errors counts publishes that failed or were refused, but for Busy: those answered
	// 503 busy, the gateway telling the publisher to slow down (with Retry-After) because
	// deliveries waiting for a worker passed its bound. The bench does not send them again.
	Errors int64 `json:"errors"`
	Busy   int64 `json:"busy"`
	// CPUusPerEvent is the process's CPU time (user and system: the gateway, the load
	// generator and the receiver, which share it) per delivery, from publishing's start to the
	// last receipt; ForeignCores is what the rest of the machine kept busy meanwhile (busy
	// cores from /proc/stat minus this process's), so a figure taken on a loaded machine shows.
	CPUusPerEvent float64 `json:"cpu_us_per_event"`
	ForeignCores  float64 `json:"foreign_cores"`
	Nodes         int     `json:"nodes"`

	// With --duration, --retention or --report-every: how long events were published, and
	// the data folder after the run and at each report.
	DurationS float64       `json:"duration_s,omitempty"`
	Folder    *folderSize   `json:"folder,omitempty"`
	Samples   []benchSample `json:"samples,omitempty"`

	// With --overdue: the restart with overdue deliveries (its keys inline).
	*RestartResult
}

// benchSample is one --report-every line: totals so far and the data folder's size.
type benchSample struct {
	ElapsedS  float64    `json:"elapsed_s"`
	Published int64      `json:"published"`
	Delivered int64      `json:"delivered"`
	Folder    folderSize `json:"folder"`
	RSSMiB    float64    `json:"rss_mib"`
}

// folderSize is the size of the data folder, measured two ways: Badger preallocates its
// files (memtable logs, the value log) and leaves them sparse, so the sum of file sizes
// (what ls shows) overstates what the disk holds; AllocatedMiB (du: blocks in use) is what
// fills the disk.
type folderSize struct {
	ApparentMiB  float64 `json:"apparent_mib"`
	AllocatedMiB float64 `json:"allocated_mib"`
	Files        int     `json:"files"`
}

func (s folderSize) String() string {
	return fmt.Sprintf("%7.1f MiB allocated (du), %7.1f MiB apparent (ls), %d files", s.AllocatedMiB, s.ApparentMiB, s.Files)
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

--pending loads a backlog of that many deliveries, scheduled a day ahead, before the run.

--overdue measures a restart with a backlog: it stores that many deliveries, due at once,
to --overdue-endpoints endpoints (answering after --overdue-delay) without sending any,
stops the gateway, opens it again on the same folder, then publishes --events events at
--rate while the overdue deliveries drain, and reports their publish → receipt latency
(fresh_after_restart_p50_ms, _p99_ms, _max_ms) and the overdue deliveries drained
meanwhile (overdue_drained) and left (overdue_left). The load runs without fsync and
without the memory limit; peak_anon_mib is then the restarted gateway's.

--duration publishes for that long (at --rate) instead of a number of events: a soak test.
--retention runs the gateway's retention as serve --retention does (finished events older
than that are removed every --retention-every), and --report-every prints, at each interval,
the events published and delivered so far and the size of the data folder, both as the
disk space its files occupy (du: allocated blocks) and as the sum of their lengths (ls:
Badger preallocates sparse files, so this one overstates what the disk holds).`,
		Example: `  hookgate bench --events 50000 --concurrency 64
  hookgate bench --events 30000 --rate 1000 --json
  hookgate bench --pending 1000000 --events 20000 --json
  hookgate bench --overdue 1000000 --events 600 --rate 20 --json
  hookgate bench --duration 10m --rate 500 --retention 1m --report-every 1m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := bench(cmd.Context(), f, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if f.json {
				return json.NewEncoder(out).Encode(res)
			}
			fmt.Fprintf(out, "events        %d × %d endpoint(s), %d B bodies, concurrency %d", res.Events, f.endpoints, f.bodySize, f.concurrency)
			if f.duration > 0 {
				fmt.Fprintf(out, ", for %s", f.duration)
			}
			if f.rate > 0 {
				fmt.Fprintf(out, ", rate %d/s", f.rate)
			}
			fmt.Fprintf(out, "\nbacklog       %d pending deliveries\n", res.Pending)
			if r := res.RestartResult; r != nil {
				fmt.Fprintf(out, "restart       %d overdue deliveries to %d endpoints (loaded in %.1f s); stopped in %.0f ms, opened again in %.0f ms\n", r.Overdue, r.OverdueEndpoints, r.OverdueLoadS, r.StopMs, r.OpenMs)
				fmt.Fprintf(out, "fresh         p50 %.2f ms, p99 %.2f ms, max %.2f ms (publish → receipt after the restart), %d not received; %d overdue delivered meanwhile, %d left\n", r.FreshP50ms, r.FreshP99ms, r.FreshMaxms, r.FreshUndelivered, r.OverdueDrained, r.OverdueLeft)
			}
			fmt.Fprintf(out, "published     %.0f events/s (%d answered 503 busy: told to slow down)\ndelivered     %.0f deliveries/s (%d received, %d errors)\n", res.PublishedPerS, res.Busy, res.DeliveredPerS, res.Delivered, res.Errors)
			fmt.Fprintf(out, "latency       p50 %.2f ms, p99 %.2f ms (publish → receipt)\ncpu           %.1f µs per delivery (this process: %d node(s), load and receiver), foreign load %.2f cores\npeak RSS      %.1f MiB (private memory %.1f MiB; the rest is memory-mapped table pages)\n", res.P50ms, res.P99ms, res.CPUusPerEvent, res.Nodes, res.ForeignCores, res.PeakRSSMiB, res.PeakAnonMiB)
			if res.Folder != nil {
				fmt.Fprintf(out, "data folder   %s\n", res.Folder)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.events, "events", 20000, "events to publish (unless --duration)")
	fl.DurationVar(&f.duration, "duration", 0, "publish for this long (at --rate) instead of --events events")
	fl.DurationVar(&f.retention, "retention", 0, "remove finished events older than this, as serve --retention does; 0 keeps everything")
	fl.DurationVar(&f.retentionEvery, "retention-every", time.Minute, "how often retention runs (serve: every minute)")
	fl.DurationVar(&f.reportEvery, "report-every", 0, "print totals and the data folder's size at this interval (to stdout; with --json to stderr, and in samples)")
	fl.IntVar(&f.endpoints, "endpoints", 1, "endpoints subscribed to every event")
	fl.IntVar(&f.concurrency, "concurrency", 64, "concurrent publishers")
	fl.IntVar(&f.rate, "rate", 0, "publish at this steady rate (events/s) instead of as fast as possible")
	fl.IntVar(&f.bodySize, "body-size", 1024, "approximate size of each event's JSON body in bytes")
	fl.IntVar(&f.pending, "pending", 0, "deliveries to load as a backlog before the run")
	fl.IntVar(&f.overdue, "overdue", 0, "deliveries overdue at a restart: load this many due at once, stop, open again, then publish at --rate while they drain")
	fl.IntVar(&f.overdueEndpoints, "overdue-endpoints", 8, "endpoints the --overdue deliveries are spread over (each overdue event fans out to all)")
	fl.DurationVar(&f.overdueDelay, "overdue-delay", 0, "how long the --overdue deliveries' endpoints take to answer")
	fl.DurationVar(&f.timeout, "timeout", 5*time.Minute, "give up waiting for deliveries after this long")
	fl.StringVar(&f.store, "store", "badger", "the store to measure: badger (in a temporary folder), memory, or nats://host:4222[,…] (a stream of its own, removed after the run)")
	fl.IntVar(&f.nodes, "nodes", 1, "gateway nodes in this process, each with its own store connection and API, the load split evenly across them (more than 1: --store nats://…)")
	f.nats.registerNATS(cmd, false)
	fl.BoolVar(&f.noSync, "no-sync", false, "turn off fsync (to measure its cost; not a supported mode)")
	fl.BoolVar(&f.json, "json", false, "print one JSON object")
	fl.BoolVar(&f.keep, "keep", false, "keep the temporary data folder")
	fl.StringVar(&f.memoryLimit, "memory-limit", envOr("GOMEMLIMIT", "192MiB"), "soft memory limit, as for serve")
	fl.Int64Var(&f.memtableMiB, "memtable-mib", 16, "Badger memtable size in MiB, as for serve")
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile of the measured run to this file")
	fl.StringVar(&f.memProfile, "memprofile", "", "write a heap profile to this file at the end")
	return cmd
}

// bench runs one benchmark.
func bench(ctx context.Context, f benchFlags, stdout, stderr io.Writer) (*benchResult, error) {
	if f.events <= 0 || f.endpoints <= 0 || f.concurrency <= 0 || f.bodySize < 0 || f.pending < 0 || f.nodes <= 0 {
		return nil, fmt.Errorf("--events, --endpoints, --concurrency and --nodes must be positive")
	}
	if f.nodes > 1 && !natsStore(f.store) {
		return nil, fmt.Errorf("--nodes %d: several nodes need a store they share: --store nats://…", f.nodes)
	}
	if f.duration < 0 || f.retention < 0 || f.retentionEvery <= 0 || f.reportEvery < 0 {
		return nil, fmt.Errorf("--duration, --retention and --report-every must not be negative, --retention-every must be positive")
	}
	if f.duration > 0 && f.rate <= 0 {
		return nil, fmt.Errorf("--duration needs a steady --rate")
	}
	if err := checkOverdue(f); err != nil {
		return nil, err
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

	// The receiver: records when each event arrives. The overdue deliveries' endpoints are
	// on a port of their own (the senders' connections to them are theirs).
	rcv := &benchReceiver{sent: &sync.Map{}, backlogDelay: f.overdueDelay}
	rln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	oln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		rln.Close()
		return nil, err
	}
	rsrv := &http.Server{Handler: rcv}
	go rsrv.Serve(rln)
	go rsrv.Serve(oln)
	defer rsrv.Close()
	url := "http://" + rln.Addr().String() + "/hook"

	var restart *RestartResult
	if f.overdue > 0 {
		if restart, err = loadOverdue(ctx, f, dir, log, url, "http://"+oln.Addr().String()+"/overdue", stderr); err != nil {
			return nil, err
		}
		debug.FreeOSMemory() // what the load used: the restarted gateway's peak is measured
	}
	anon := sampleAnon(ctx)
	defer anon.stop()

	// The nodes: one Service each, on its own store (its own connection, for NATS), with
	// its own API over loopback HTTP like a real producer's gateway.
	stream := ""
	if natsStore(f.store) {
		stream = fmt.Sprintf("HOOKGATE_BENCH_%d", time.Now().UnixNano())
		defer func() {
			sf := f.nats
			sf.store, sf.natsStream = f.store, stream
			if err := sf.dropNATSStream(); err != nil {
				fmt.Fprintln(stderr, "remove the bench's stream:", err)
			}
		}()
	}
	var apis []string
	var svcs []*gateway.Service
	opened := time.Now()
	for i := range f.nodes {
		svc, api, stop, err := startBenchNode(f, dir, stream, log)
		if err != nil {
			return nil, fmt.Errorf("node %d: %w", i+1, err)
		}
		defer stop()
		svcs = append(svcs, svc)
		apis = append(apis, api)
	}
	svc := svcs[0]
	if restart != nil {
		restart.OpenMs = float64(time.Since(opened).Microseconds()) / 1000
	}
	for i := 0; i < f.endpoints && restart == nil; i++ { // (--overdue loaded them)
		ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: url, Events: []string{"bench.event"}})
		if err != nil {
			return nil, err
		}
		for _, other := range svcs[1:] {
			if err := waitForEndpoint(ctx, other, ep.ID); err != nil {
				return nil, err
			}
		}
	}
	if f.pending > 0 {
		if err := loadBacklog(ctx, svc, url, f, stderr); err != nil {
			return nil, err
		}
	}
	// As relaybench's load generator: a keep-alive connection per publisher and node, kept
	// idle between requests, and no Accept-Encoding (the 202's gzip would cost us).
	conns := f.concurrency * len(apis)
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: f.concurrency,
		MaxConnsPerHost: f.concurrency, DisableCompression: true}}

	bodies := newEventBodies(f.bodySize)
	var (
		next    atomic.Int64
		errs    atomic.Int64
		busy    atomic.Int64
		wg      sync.WaitGroup
		started = time.Now()
		pace    = pacer{start: started, rate: f.rate}
	)
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
	var published atomic.Int64
	backlog0 := rcv.backlog.Load()
	cpu0 := takeCPU()
	rep := startReports(ctx, f, stdout, stderr, func() benchSample {
		return benchSample{
			ElapsedS:  time.Since(started).Seconds(),
			Published: published.Load(),
			Delivered: rcv.count.Load(),
			Folder:    measureFolder(dir, f.store),
			RSSMiB:    procStatusMiB("VmRSS:"),
		}
	})
	defer rep.stop()
	for w := 0; w < f.concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if f.duration > 0 && time.Since(started) >= f.duration {
					return
				}
				i := next.Add(1)
				if f.duration == 0 && i > int64(f.events) {
					return
				}
				if !pace.wait(ctx, i) {
					return
				}
				id := "evt_bench_" + strconv.FormatInt(i, 10)
				rcv.sent.Store(id, time.Now())
				api := apis[int(i)%len(apis)] // the load split evenly across the nodes
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, api, nil)
				bodies.set(req, i)
				req.Header.Set("Authorization", "Bearer "+benchToken)
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					errs.Add(1)
					continue
				}
				refused := resp.StatusCode != http.StatusAccepted && isBusy(resp.Body)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch {
				case refused:
					busy.Add(1)
					continue
				case resp.StatusCode != http.StatusAccepted:
					errs.Add(1)
					continue
				}
				published.Add(1)
			}
		}()
	}
	wg.Wait()
	publishing := time.Since(started)
	events := published.Load()
	if err := rcv.wait(ctx, events*int64(f.endpoints), f.timeout); err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		fmt.Fprintln(stderr, err)
	}
	if f.memProfile != "" {
		if err := writeHeapProfile(f.memProfile); err != nil {
			return nil, err
		}
	}
	cpu := takeCPU().since(cpu0)
	delivered := rcv.last().Sub(started)
	lat := rcv.latencies()
	res := &benchResult{
		PublishedPerS: float64(events) / publishing.Seconds(),
		DeliveredPerS: float64(rcv.count.Load()) / delivered.Seconds(),
		P50ms:         percentile(lat, 0.50),
		P99ms:         percentile(lat, 0.99),
		PeakRSSMiB:    procStatusMiB("VmHWM:"),
		PeakAnonMiB:   anon.stop(),
		Events:        int(events),
		Delivered:     rcv.count.Load(),
		Pending:       f.pending,
		Errors:        errs.Load(),
		Busy:          busy.Load(),
		ForeignCores:  cpu.foreignCores(),
		Nodes:         f.nodes,
	}
	// Per delivery made meanwhile: the run's and, with --overdue, the backlog's.
	if n := rcv.count.Load() + rcv.backlog.Load() - backlog0; n > 0 {
		res.CPUusPerEvent = cpu.own.Seconds() * 1e6 / float64(n)
	}
	if restart != nil {
		restart.FreshP50ms, restart.FreshP99ms = res.P50ms, res.P99ms
		if len(lat) > 0 {
			restart.FreshMaxms = lat[len(lat)-1]
		}
		restart.FreshUndelivered = events*int64(f.endpoints) - rcv.count.Load()
		if restart.FreshUndelivered > 0 {
			fmt.Fprintf(stderr, "%d deliveries of events published after the restart were not received within --timeout %s: the fresh_after_restart figures leave them out\n", restart.FreshUndelivered, f.timeout)
		}
		restart.OverdueDrained = rcv.backlogAtLast() - backlog0
		restart.OverdueLeft = max(0, int64(restart.Overdue)-rcv.backlog.Load())
		if restart.OverdueLeft == 0 {
			fmt.Fprintln(stderr, "the overdue deliveries were all delivered before the run ended: its last fresh events did not compete with them (load more with --overdue, or slow their endpoints with --overdue-delay)")
		}
		res.RestartResult = restart
	}
	if f.duration > 0 || f.retention > 0 || f.reportEvery > 0 {
		res.DurationS = publishing.Seconds()
		final := measureFolder(dir, f.store)
		res.Folder = &final
		res.Samples = rep.stop()
	}
	return res, nil
}

// isBusy reports whether a refused publish's answer is the busy error, the gateway's
// "slow down" (httpapi.CodeBusy), rather than another 503 such as store_unavailable.
func isBusy(body io.Reader) bool {
	raw, err := io.ReadAll(io.LimitReader(body, 4096))
	return err == nil && httpapi.ParseError(http.StatusServiceUnavailable, raw).Code == httpapi.CodeBusy
}

// pacer spaces a steady --rate by absolute time: event i (from 1) is due at start +
// (i-1)/rate, whenever the one before it went out, so a publisher that fell behind (a slow
// response, a busy machine) sends its next events at once instead of losing their slots as
// a ticker's dropped ticks would: the run holds the asked rate whenever the publishers
// can.
type pacer struct {
	start time.Time
	rate  int // events per second; 0: no pacing
}

// due is when event i is to be sent.
func (p pacer) due(i int64) time.Time {
	return p.start.Add(time.Duration(float64(i-1) / float64(p.rate) * float64(time.Second)))
}

// wait blocks until event i is due; false when ctx ended first.
func (p pacer) wait(ctx context.Context, i int64) bool {
	if p.rate <= 0 {
		return ctx.Err() == nil
	}
	d := time.Until(p.due(i))
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// reports prints a benchSample every --report-every while the run lasts.
type reports struct {
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
	samples []benchSample
}

// startReports starts printing take()'s samples every f.reportEvery (none if it is 0): to
// stdout, or to stderr with --json (whose stdout is one JSON object).
func startReports(ctx context.Context, f benchFlags, stdout, stderr io.Writer, take func() benchSample) *reports {
	ctx, cancel := context.WithCancel(ctx)
	r := &reports{cancel: cancel, done: make(chan struct{})}
	if f.reportEvery <= 0 {
		close(r.done)
		return r
	}
	out := stdout
	if f.json {
		out = stderr
	}
	fmt.Fprintf(out, "%8s %10s %10s  %s\n", "elapsed", "published", "delivered", "data folder")
	go func() {
		defer close(r.done)
		t := time.NewTicker(f.reportEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			s := take()
			r.samples = append(r.samples, s)
			elapsed := time.Duration(s.ElapsedS * float64(time.Second)).Round(time.Second)
			fmt.Fprintf(out, "%8s %10d %10d  %s, RSS %.0f MiB\n", elapsed, s.Published, s.Delivered, s.Folder, s.RSSMiB)
		}
	}()
	return r
}

// stop ends the reports and returns the samples taken (the same on every call).
func (r *reports) stop() []benchSample {
	r.once.Do(func() {
		r.cancel()
		<-r.done
	})
	return r.samples
}

// measureFolder is the size of a Badger store's data folder (zero for another store).
func measureFolder(dir, store string) folderSize {
	if store != "badger" && store != "" {
		return folderSize{}
	}
	u, err := badger.DiskUsage(dir)
	if err != nil {
		return folderSize{}
	}
	const mib = 1 << 20
	return folderSize{ApparentMiB: float64(u.Apparent) / mib, AllocatedMiB: float64(u.Allocated) / mib, Files: u.Files}
}

// loadBacklog publishes f.pending deliveries due a day from now, to an endpoint of their own.
func loadBacklog(ctx context.Context, svc *gateway.Service, url string, f benchFlags, stderr io.Writer) error {
	if _, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: url, Events: []string{"bench.backlog"}}); err != nil {
		return err
	}
	start := time.Now()
	later := start.Add(24 * time.Hour)
	if err := publishAll(ctx, svc, f.pending, gateway.PublishInput{Type: "bench.backlog", Data: backlogData(f.bodySize), DeliverAt: later}); err != nil {
		return fmt.Errorf("load backlog: %w", err)
	}
	fmt.Fprintf(stderr, "backlog: %d deliveries pending, loaded in %s\n", f.pending, time.Since(start).Round(time.Millisecond))
	return nil
}

// eventBodies builds the events the producers publish. Event i's body is
//
//	{"type":"bench.event","id":"evt_bench_<i>","data":{"n":<i>,"video_id":"v_<i>","platform":"tiktok","pad":"xxx…"}}
//
// with the pad sized for the --body-size asked. Everything after the counter's last place
// is made once; each body is its head and a copy of that tail, in one buffer, so that it
// goes out with its headers in one write: net/http sends the headers of a body that is not
// a *bytes.Reader (or Buffer, or strings.Reader) in a write of their own, which cost every
// publish a second write on the producer's side and a second read on the gateway's (both in
// the CPU the run counts), where relaybench's producers send one.
type eventBodies struct {
	tail []byte // `","platform":"tiktok","pad":"xxx…"}}`
}

// newEventBodies makes the shared part of bodies of about size bytes (the pad is size-120
// bytes, none below that).
func newEventBodies(size int) *eventBodies {
	pad := max(0, size-120)
	const before, after = `","platform":"tiktok","pad":"`, `"}}`
	tail := make([]byte, 0, len(before)+pad+len(after))
	tail = append(tail, before...)
	tail = append(tail, strings.Repeat("x", pad)...)
	return &eventBodies{tail: append(tail, after...)}
}

// head appends the part of event i's body that holds its id and counter to b.
func (e *eventBodies) head(b []byte, i int64) []byte {
	b = append(b, `{"type":"bench.event","id":"evt_bench_`...)
	b = strconv.AppendInt(b, i, 10)
	b = append(b, `","data":{"n":`...)
	b = strconv.AppendInt(b, i, 10)
	b = append(b, `,"video_id":"v_`...)
	return strconv.AppendInt(b, i, 10)
}

// set makes event i's body req's, with its length (no chunked encoding) and a GetBody for
// the transport to send it again on a fresh connection.
func (e *eventBodies) set(req *http.Request, i int64) {
	body := append(e.head(make([]byte, 0, 128+len(e.tail)), i), e.tail...)
	req.ContentLength = int64(len(body))
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
}

// benchReceiver is the endpoint: it notes the latency of each event it receives.
type benchReceiver struct {
	sent  *sync.Map // event id → publish start
	seen  sync.Map  // delivery ids received
	count atomic.Int64

	// A delivery of an event the run did not publish (a backlog's) is answered after
	// backlogDelay and counted in backlog.
	backlogDelay time.Duration
	backlog      atomic.Int64

	mu     sync.Mutex
	lat    []float64
	lastAt time.Time
	atLast int64 // backlog when the run's last delivery arrived
}

func (r *benchReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	id, found := readEventID(req.Body)
	now := time.Now()
	if !found {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	v, ok := r.sent.Load(id)
	if !ok { // a backlog's event
		r.backlog.Add(1)
		if r.backlogDelay > 0 {
			t := time.NewTimer(r.backlogDelay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-req.Context().Done():
			}
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.WriteHeader(http.StatusNoContent)
	// Every endpoint receives the event: count each delivery once (not a repeated one).
	if _, again := r.seen.LoadOrStore(req.Header.Get("X-Hookgate-Delivery"), struct{}{}); again {
		return
	}
	r.mu.Lock()
	r.lat = append(r.lat, float64(now.Sub(v.(time.Time)).Microseconds())/1000)
	r.lastAt = now
	r.atLast = r.backlog.Load()
	r.mu.Unlock()
	r.count.Add(1)
}

// idMarker precedes the event's id in a delivered envelope.
var idMarker = []byte(`"id":"`)

// scanBuffers are readEventID's buffers, one per request in flight.
var scanBuffers = sync.Pool{New: func() any { return new([4096]byte) }}

// readEventID reads body to its end and returns the first string value of an "id" member
// in it (the envelope's event id), found is false when there is none. It reads through
// one fixed buffer, keeping only the bytes a match could still start in, and discards
// the rest, so a receipt costs no allocation that grows with the body.
func readEventID(body io.Reader) (id string, found bool) {
	buf := scanBuffers.Get().(*[4096]byte)
	defer scanBuffers.Put(buf)
	n := 0 // bytes of buf in use
	for {
		m, err := body.Read(buf[n:])
		n += m
		if i := bytes.Index(buf[:n], idMarker); i >= 0 {
			rest := buf[i+len(idMarker) : n]
			if j := bytes.IndexByte(rest, '"'); j >= 0 {
				id, found = string(rest[:j]), true
				break
			}
			if i > 0 { // the id may end in the next read: keep it whole
				n = copy(buf[:], buf[i:n])
			} else if n == len(buf) {
				n = 0 // an id longer than the buffer: no event of ours
			}
		} else if keep := len(idMarker) - 1; n > keep {
			n = copy(buf[:], buf[n-keep:n]) // the start of a marker cut by the read
		}
		if err != nil {
			return "", false
		}
	}
	io.Copy(io.Discard, body) // read to the end: the receipt is timed when the body is in
	return id, found
}

// wait returns once want deliveries have been received, or with an error when timeout
// passes first or ctx ends.
func (r *benchReceiver) wait(ctx context.Context, want int64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for r.count.Load() < want {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out: %d of %d deliveries received", r.count.Load(), want)
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (r *benchReceiver) latencies() []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.lat)
	slices.Sort(out)
	return out
}

// backlogAtLast is how many backlog deliveries had arrived when the run's last one did.
func (r *benchReceiver) backlogAtLast() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.atLast
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

// cpuSample is the process's CPU time and the whole machine's busy time at one moment.
type cpuSample struct {
	at      time.Time
	own     time.Duration // user + system of this process
	machine time.Duration // busy time summed over every CPU (/proc/stat; 0 elsewhere)
}

// takeCPU reads the process's CPU time (getrusage) and the machine's busy time.
func takeCPU() cpuSample {
	s := cpuSample{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		s.own = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	s.machine = machineBusy()
	return s
}

// since is the difference between s and an earlier sample.
func (s cpuSample) since(earlier cpuSample) cpuSample {
	return cpuSample{at: earlier.at, own: s.own - earlier.own, machine: s.machine - earlier.machine}
}

// foreignCores is, for a difference taken by since, the cores other processes kept busy
// on average: the machine's busy time minus this process's, over the wall time.
func (s cpuSample) foreignCores() float64 {
	wall := time.Since(s.at).Seconds()
	if wall <= 0 || s.machine == 0 {
		return 0
	}
	return max(0, (s.machine-s.own).Seconds()/wall)
}

// machineBusy is the busy time of all CPUs from the first line of /proc/stat (every field
// but idle and iowait), in USER_HZ ticks of 10 ms.
func machineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 2 {
		return 0
	}
	var ticks uint64
	for i, v := range f[1:] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, _ := strconv.ParseUint(v, 10, 64)
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// startBenchNode opens a store as --store names it (Badger or memory in dir; NATS on a
// stream of the run's own, stream) and starts a Service on it with its API on a loopback
// port; it returns the Service, the API's publish URL and what stops both.
func startBenchNode(f benchFlags, dir, stream string, log *slog.Logger) (*gateway.Service, string, func(), error) {
	svc, err := openBenchService(f, dir, stream, log, false)
	if err != nil {
		return nil, "", nil, err
	}
	svc.Start()
	stopSvc := func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		svc.Stop(sctx)
	}
	aln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stopSvc()
		return nil, "", nil, err
	}
	asrv := &http.Server{Handler: httpapi.New(httpapi.Options{Service: svc, Token: benchToken, Logger: log})}
	go asrv.Serve(aln)
	return svc, "http://" + aln.Addr().String() + "/v1/events", func() { asrv.Close(); stopSvc() }, nil
}

// openBenchService opens the store as --store names it and a Service on it (not started).
// One to load a backlog into (load) skips fsync on Badger and lets publishes run any
// distance ahead of delivery (no MaxWaiting: it delivers nothing).
func openBenchService(f benchFlags, dir, stream string, log *slog.Logger, load bool) (*gateway.Service, error) {
	sf := f.nats
	sf.data, sf.store, sf.natsStream, sf.memtableMiB = dir, f.store, stream, f.memtableMiB
	st, err := sf.openStore(log, -1, f.noSync || load, nil)
	if err != nil {
		return nil, err
	}
	policy := gateway.URLPolicy{AllowPrivate: true}
	opts := gateway.Options{
		Store:   st,
		Senders: connectors.Senders(connectors.Options{Policy: policy, Logger: log}),
		Policy:  policy,
		Logger:  log,

		Retention:      f.retention,
		RetentionEvery: f.retentionEvery,
	}
	if load {
		opts.MaxWaiting = -1
	}
	return gateway.New(opts) // (a New that fails closes the store)
}

// benchToken is the API token of bench's nodes.
const benchToken = "bench-token"

// waitForEndpoint waits until svc (another node) knows endpoint id, for up to 10 s.
func waitForEndpoint(ctx context.Context, svc *gateway.Service, id string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := svc.GetEndpoint(ctx, id); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("endpoint %s did not reach every node within 10 s", id)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

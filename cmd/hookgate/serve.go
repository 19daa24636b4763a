package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/connectors/dashboard"
	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/connectors/metrics"
	"github.com/hookgate/hookgate/gateway"
	hgmcp "github.com/hookgate/hookgate/mcp"
	"github.com/hookgate/hookgate/queue/badger"
	"github.com/hookgate/hookgate/queue/jetstream"
	"github.com/hookgate/hookgate/queue/memory"
	"github.com/hookgate/hookgate/schemas"
	"github.com/spf13/cobra"
)

// serveFlags are the settings of a running gateway, shared by serve, mcp and bench.
type serveFlags struct {
	addr            string
	data            string
	dev             bool
	deliveryTimeout time.Duration
	retrySchedule   string
	disableAfter    int
	concurrency     int
	maxWaiting      int
	memtableMiB     int64
	maxBody         int64
	readTimeout     time.Duration
	maxUnauthReads  int
	logLevel        string
	logFormat       string
	memoryLimit     string
	strictTypes     bool
	publicURL       string
	minFreeDisk     string
	store           string
	retention       time.Duration
	natsCreds       string
	natsTLSCA       string
	natsReplicas    int
	natsStream      string
}

// register adds the flags to cmd; addr is the default listen address.
func (f *serveFlags) register(cmd *cobra.Command, addr string) {
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", envOr("HOOKGATE_ADDR", addr), "listen address (env HOOKGATE_ADDR)")
	fl.StringVar(&f.data, "data", envOr("HOOKGATE_DATA", "./hookgate-data"), "data folder for the embedded store and the API token (env HOOKGATE_DATA)")
	fl.StringVar(&f.store, "store", envOr("HOOKGATE_STORE", "badger"), "where events and deliveries are kept: badger (on disk in --data), memory (lost on exit; for trials and tests), or nats://host:4222[,host2:4222…] (a NATS JetStream cluster several nodes share; plain nats: $NATS_URL) (env HOOKGATE_STORE)")
	f.registerNATS(cmd, true)
	fl.DurationVar(&f.retention, "retention", 30*24*time.Hour, "how long delivered and failed events are kept (with their deliveries); 0 keeps everything. Events with pending or paused deliveries are always kept")
	fl.BoolVar(&f.dev, "dev", envBool("HOOKGATE_DEV"), "local development: allow http:// and private/loopback endpoint URLs (env HOOKGATE_DEV)")
	fl.DurationVar(&f.deliveryTimeout, "delivery-timeout", 10*time.Second, "timeout of one delivery attempt")
	fl.StringVar(&f.retrySchedule, "retry-schedule", gateway.DefaultSchedule.String(), "delays before each attempt, comma-separated (jittered ±20%)")
	fl.IntVar(&f.disableAfter, "disable-after", 10, "consecutive failed deliveries that disable an endpoint")
	fl.IntVar(&f.concurrency, "concurrency", 128, "delivery attempts in flight at once")
	fl.IntVar(&f.maxWaiting, "max-waiting", gateway.DefaultMaxWaiting, "deliveries of new events waiting for a worker at most: past it a publish waits up to 1s, then is answered 503 busy with Retry-After; negative: no bound")
	fl.Int64Var(&f.maxBody, "max-body", httpapi.DefaultMaxBody, "request body limit in bytes")
	fl.DurationVar(&f.readTimeout, "read-timeout", httpapi.DefaultReadTimeout, "time a request body may take to arrive; slower bodies are cut off with 408")
	fl.IntVar(&f.maxUnauthReads, "max-unauthenticated-reads", httpapi.DefaultMaxUnauthenticatedReads, "catch-hook bodies (callers without the API token) read at once; more are answered 503 with Retry-After")
	fl.BoolVar(&f.strictTypes, "strict-types", envBool("HOOKGATE_STRICT_TYPES"), "refuse events whose type is not in the catalog (env HOOKGATE_STRICT_TYPES)")
	fl.StringVar(&f.memoryLimit, "memory-limit", envOr("GOMEMLIMIT", "192MiB"), "soft memory limit for the Go runtime, e.g. 192MiB or 1GiB; 'off' to disable (env GOMEMLIMIT)")
	fl.Int64Var(&f.memtableMiB, "memtable-mib", 16, "size of one Badger memtable in MiB: larger spends less CPU per event on flushes, compaction and GC, for more private memory (raise --memory-limit to match)")
	fl.StringVar(&f.publicURL, "public-url", os.Getenv("HOOKGATE_PUBLIC_URL"), "the address providers reach this gateway at, the base of catch-hook URLs, e.g. https://hooks.example.com (env HOOKGATE_PUBLIC_URL; default: from each API request, or http://<listen address>)")
	fl.StringVar(&f.minFreeDisk, "min-free-disk", os.Getenv("HOOKGATE_MIN_FREE_DISK"), "free space to keep on the data volume, e.g. 512MiB or 1GB: below it new events and changes are refused with 507 storage_full while stored deliveries continue; 0 disables (env HOOKGATE_MIN_FREE_DISK; default: 512MiB or 5% of the volume, whichever is smaller, but at least what the store needs for itself)")
	fl.StringVar(&f.logLevel, "log-level", envOr("HOOKGATE_LOG_LEVEL", "info"), "debug, info, warn or error (env HOOKGATE_LOG_LEVEL)")
	fl.StringVar(&f.logFormat, "log-format", envOr("HOOKGATE_LOG_FORMAT", "text"), "text (key=value lines, for a terminal) or json (one object a line, for a log collector) (env HOOKGATE_LOG_FORMAT)")
}

// registerNATS adds the flags of a --store nats://… to cmd: credentials, TLS, replicas and,
// when stream, the stream's name (bench makes one of its own).
func (f *serveFlags) registerNATS(cmd *cobra.Command, stream bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.natsCreds, "nats-creds", os.Getenv("NATS_CREDS"), "with --store nats://…: a NATS credentials file (user JWT and NKey seed) (env NATS_CREDS)")
	fl.StringVar(&f.natsTLSCA, "nats-tls-ca", os.Getenv("NATS_CA"), "with --store nats://…: a PEM file of the CAs that sign the NATS servers' certificates (env NATS_CA)")
	fl.IntVar(&f.natsReplicas, "nats-replicas", 1, "with --store nats://…: how many NATS servers keep each record (1; 3 on a 3-server cluster)")
	if stream {
		fl.StringVar(&f.natsStream, "nats-stream", envOr("HOOKGATE_NATS_STREAM", "HOOKGATE"), "with --store nats://…: the JetStream stream the gateway keeps everything in (its subjects: the name in lower case), so that several gateways can share one NATS cluster; every node of one gateway names the same (env HOOKGATE_NATS_STREAM)")
	}
}

// natsStore reports whether --store names a NATS JetStream cluster: nats ($NATS_URL),
// nats://… or tls://….
func natsStore(store string) bool {
	return store == "nats" || strings.HasPrefix(store, "nats://") || strings.HasPrefix(store, "tls://")
}

// logger builds the process logger on stderr: text, or JSON with --log-format json.
func (f *serveFlags) logger(stderr io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	ho := &slog.HandlerOptions{Level: lvl}
	switch strings.ToLower(strings.TrimSpace(f.logFormat)) {
	case "text", "":
		return slog.New(slog.NewTextHandler(stderr, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(stderr, ho)), nil
	}
	return nil, fmt.Errorf("--log-format %q: must be text or json", f.logFormat)
}

// options describes the gateway the flags ask for, but its store: open opens both.
func (f *serveFlags) options(log *slog.Logger, publicURL string) (gateway.Options, error) {
	sched, err := gateway.ParseSchedule(f.retrySchedule)
	if err != nil {
		return gateway.Options{}, fmt.Errorf("--retry-schedule: %w", err)
	}
	minFree, err := f.minFreeDiskBytes()
	if err != nil {
		return gateway.Options{}, err
	}
	policy := gateway.URLPolicy{AllowPrivate: f.dev}
	catalog, err := schemas.New()
	if err != nil {
		return gateway.Options{}, err
	}
	if f.retention < 0 {
		return gateway.Options{}, fmt.Errorf("--retention %s: must be 0 (keep everything) or positive", f.retention)
	}
	return gateway.Options{
		Retention:       f.retention,
		Catalog:         catalog,
		StrictTypes:     f.strictTypes,
		PublicURL:       publicURL,
		Inbound:         connectors.Inbound(),
		Senders:         connectors.Senders(connectors.Options{Policy: policy, Logger: log}),
		Policy:          policy,
		Schedule:        sched,
		DeliveryTimeout: f.deliveryTimeout,
		DisableAfter:    f.disableAfter,
		Concurrency:     f.concurrency,
		MaxWaiting:      f.maxWaiting,
		MinFreeDisk:     minFree,
		Logger:          log,
	}, nil
}

// openStore opens the store --store names. A Badger store is not opened on a volume with
// less free space than opening it needs (a *gateway.StorageFullError with Opening set),
// unless the free-space guard is off (minFree < 0). onCommit, when set, is told how long
// each of a Badger store's commits took.
func (f *serveFlags) openStore(log *slog.Logger, minFree int64, noSync bool, onCommit func(time.Duration)) (gateway.Store, error) {
	switch f.store {
	case "memory":
		return memory.New(), nil
	case "badger", "":
		if minFree >= 0 {
			need, err := badger.OpenSpace(f.data)
			if err != nil {
				return nil, fmt.Errorf("measure the store: %w", err)
			}
			if err := gateway.CheckOpenSpace(f.data, need, nil); err != nil {
				return nil, err
			}
		}
		st, err := badger.Open(badger.Options{Dir: f.data, Logger: log, NoSync: noSync, OnCommit: onCommit, MemTableMiB: f.memtableMiB})
		if err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		return st, nil
	}
	if natsStore(f.store) {
		return f.openNATS(log)
	}
	return nil, fmt.Errorf("--store %q: must be badger, memory or nats://host:4222[,host2:4222…]", f.store)
}

// openNATS opens the JetStream store --store names (plain "nats": $NATS_URL), creating or
// checking its stream with --nats-replicas replicas.
func (f *serveFlags) openNATS(log *slog.Logger) (gateway.Store, error) {
	if f.natsReplicas < 1 {
		return nil, fmt.Errorf("--nats-replicas %d: must be at least 1", f.natsReplicas)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	o := f.natsOptions()
	o.Replicas, o.Subjects, o.Logger = f.natsReplicas, strings.ToLower(f.natsStream), log
	st, err := jetstream.Open(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	return st, nil
}

// dropNATSStream removes the stream --store and --nats-stream name, with everything in it
// (bench's own, after its run).
func (f *serveFlags) dropNATSStream() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return jetstream.DeleteStream(ctx, f.natsOptions())
}

// natsOptions is where --store, --nats-creds, --nats-tls-ca and --nats-stream say the
// stream is (plain "nats": $NATS_URL, as nats.go's tools read it).
func (f *serveFlags) natsOptions() jetstream.Options {
	url := f.store
	if url == "nats" {
		url = ""
	}
	return jetstream.Options{URL: url, Creds: f.natsCreds, TLSCA: f.natsTLSCA, Stream: f.natsStream}
}

// open opens the store and the Service on it (which then owns the store); m, when set,
// records the store's commit durations.
func (f *serveFlags) open(opts gateway.Options, m *metrics.Metrics) (*gateway.Service, error) {
	var onCommit func(time.Duration)
	if m != nil {
		onCommit = m.ObserveCommit
	}
	st, err := f.openStore(opts.Logger, opts.MinFreeDisk, false, onCommit)
	if err != nil {
		return nil, err
	}
	opts.Store = st
	return gateway.New(opts)
}

// minFreeDiskBytes turns --min-free-disk into gateway.Options.MinFreeDisk: empty is the
// default (0 there), "0" turns the guard off (negative there).
func (f *serveFlags) minFreeDiskBytes() (int64, error) {
	if strings.TrimSpace(f.minFreeDisk) == "" {
		return 0, nil
	}
	n, err := parseSize(f.minFreeDisk)
	if err != nil {
		return 0, fmt.Errorf("--min-free-disk: %w", err)
	}
	if n == 0 {
		return -1, nil
	}
	return n, nil
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway: HTTP API, publish, and delivery",
		Example: `  go run ./cmd/hookgate serve
  HOOKGATE_TOKEN=secret hookgate serve --addr 127.0.0.1:8080 --data /var/lib/hookgate
  hookgate serve --dev --retry-schedule 0s,1s,5s
  hookgate serve --log-format json --log-level debug   # logs for a collector; metrics at GET /metrics`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), &f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd, ":8080")
	return cmd
}

// serve runs the gateway until ctx is cancelled, then shuts down gracefully.
func serve(ctx context.Context, f *serveFlags, stdout, stderr io.Writer) error {
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}
	g, err := startGateway(f, log, stdout, true)
	if err != nil {
		return err
	}
	defer g.stop()
	select {
	case err := <-g.errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		return nil
	}
}

// runningGateway is a started gateway: the Service and its HTTP API (with MCP at /mcp).
// When serve starts on a volume too full to open the store, the API answers 507
// storage_full (httpapi.Waiting), and the dashboard at / a page saying so
// (dashboard.Waiting), while a goroutine retries opening it every second; once it opens,
// the full API takes over, no restart.
type runningGateway struct {
	srv *http.Server
	// public is the base URL of catch hooks: --public-url, else the listen address.
	public string
	log    *slog.Logger
	errc   chan error
	// metrics is served at GET /metrics (no token) and watches the Service once it runs.
	metrics *metrics.Metrics

	handler atomic.Pointer[http.Handler] // what srv serves: Waiting, then the API
	quit    chan struct{}                // closed by stop: ends the wait for space
	waited  chan struct{}                // closed when there is no wait (any more)

	mu  sync.Mutex
	svc *gateway.Service // nil while waiting for space

	// addrFile is the data folder's address file, holding local (the API's base URL as
	// this machine reaches it) while this process has the store open (see addressFile).
	addrFile, local string
}

// startGateway opens the store, starts delivering and serves the API on f.addr. The API
// token, when generated, is announced on notice (stdout for serve, stderr for mcp). With
// waitForSpace, a volume too full to open the store on is waited out (see runningGateway);
// without, it is an error, and the returned gateway always has its Service.
func startGateway(f *serveFlags, log *slog.Logger, notice io.Writer, waitForSpace bool) (*runningGateway, error) {
	if err := setMemoryLimit(f.memoryLimit); err != nil {
		return nil, err
	}
	if f.readTimeout <= 0 {
		return nil, fmt.Errorf("--read-timeout %s: must be positive, e.g. 30s", f.readTimeout)
	}
	if f.maxUnauthReads <= 0 {
		return nil, fmt.Errorf("--max-unauthenticated-reads %d: must be at least 1", f.maxUnauthReads)
	}
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	opts, err := f.options(log, f.publicURL)
	if err != nil {
		return nil, err
	}
	// The store first: a data folder another hookgate holds is badger.ErrLocked (hookgate
	// mcp then uses that gateway), whatever the listen address.
	m := metrics.New()
	m.SetLogger(log)
	opts.Observer = m
	svc, openErr := f.open(opts, m)
	var full *gateway.StorageFullError
	waiting := openErr != nil && waitForSpace && errors.As(openErr, &full) && full.Opening
	if openErr != nil && !waiting {
		return nil, openErr
	}
	abandon := func() {
		if svc != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if serr := svc.Stop(ctx); serr != nil {
				log.Warn("close the store", "err", serr)
			}
		}
	}
	// The token after the store: a second process finding the folder locked must not
	// write one of its own over the running gateway's.
	token, created, err := apiToken(f.data)
	if err != nil {
		abandon()
		return nil, err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		abandon()
		return nil, fmt.Errorf("listen on %s: %w", f.addr, err)
	}
	local := "http://" + reachable(ln.Addr())
	public := f.publicURL
	if public == "" {
		public = local
	}
	g := &runningGateway{log: log, public: public, errc: make(chan error, 1), quit: make(chan struct{}), waited: make(chan struct{}),
		addrFile: filepath.Join(f.data, addressFile), local: local, metrics: m}
	api := httpapi.Options{Token: token, MaxBody: f.maxBody, Logger: log, PublicURL: f.publicURL,
		ReadTimeout: f.readTimeout, MaxUnauthenticatedReads: f.maxUnauthReads}
	if !waiting {
		close(g.waited)
		g.serveAPI(svc, api)
	} else {
		log.Warn("storage full: the store cannot be opened safely; answering 507 storage_full until space is freed", "err", openErr)
		var last atomic.Value
		last.Store(openErr)
		waiting := api
		current := func() error { return last.Load().(error) }
		waiting.Mount = append([]httpapi.Mount{{Path: "/mcp", Protected: true}}, dashboard.Mounts(dashboard.Waiting(current))...)
		h := httpapi.Waiting(waiting, current)
		g.handler.Store(&h)
		go g.waitForSpace(func() (*gateway.Service, error) { return f.open(opts, m) }, api, &last)
	}
	g.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*g.handler.Load()).ServeHTTP(w, r) }),
		// No ReadTimeout: it would also cut long answers (MCP awaits); the handler bounds
		// each request body by --read-timeout instead (httpapi guardBody).
		ReadHeaderTimeout: min(10*time.Second, f.readTimeout),
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if created {
		fmt.Fprintf(notice, "API token (saved to %s, shown once): %s\n", filepath.Join(f.data, tokenFile), token)
	}
	f.logStart(log, ln.Addr(), public, opts)
	go func() { g.errc <- g.srv.Serve(ln) }()
	return g, nil
}

// serveAPI starts svc delivering and makes the full API (with MCP at /mcp and the web
// dashboard at /) what the server answers with.
func (g *runningGateway) serveAPI(svc *gateway.Service, api httpapi.Options) {
	svc.Start()
	g.mu.Lock()
	g.svc = svc
	g.mu.Unlock()
	mcpHTTP := hgmcp.HTTPHandler(hgmcp.NewServer(svc, hgmcp.Options{PublicURL: g.public}), hgmcp.HTTPOptions{Logger: g.log})
	api.Service = svc
	g.metrics.Watch(svc)
	dash := dashboard.New(dashboard.Options{Service: svc, Token: api.Token, PublicURL: api.PublicURL, Logger: g.log, Done: g.quit})
	api.Mount = append([]httpapi.Mount{{Path: "/mcp", Handler: mcpHTTP, Protected: true, SecretURL: true}, {Path: "/metrics", Handler: g.metrics.Handler()}},
		dashboard.Mounts(dash)...)
	api.Session = dashboard.SessionPrincipal(dash)
	h := httpapi.New(api)
	g.handler.Store(&h)
	if err := os.WriteFile(g.addrFile, []byte(g.local+"\n"), 0o600); err != nil {
		g.log.Warn("write the address file: hookgate mcp on this data folder can't find this gateway", "path", g.addrFile, "err", err)
	}
}

// addressFile is where a gateway that has the data folder's store open writes its API's
// base URL, removed when it stops: hookgate mcp, finding the store locked, reads it (and
// the API token) to use that gateway instead.
const addressFile = "address"

// removeAddressFile removes the address file if it still holds this gateway's address.
func (g *runningGateway) removeAddressFile() {
	if b, err := os.ReadFile(g.addrFile); err == nil && strings.TrimSpace(string(b)) == g.local {
		if err := os.Remove(g.addrFile); err != nil {
			g.log.Warn("remove the address file", "path", g.addrFile, "err", err)
		}
	}
}

// waitForSpace tries to open the store every second until it opens (then serves the API)
// or stop is called. last holds the latest failure, for the 507 answers and /readyz. Started
// by startGateway, ended by stop.
func (g *runningGateway) waitForSpace(open func() (*gateway.Service, error), api httpapi.Options, last *atomic.Value) {
	defer close(g.waited)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-g.quit:
			return
		case <-t.C:
		}
		svc, err := open()
		var full *gateway.StorageFullError
		switch {
		case err == nil:
			g.log.Info("storage space recovered: the store is open")
			g.serveAPI(svc, api)
			return
		case errors.As(err, &full) && full.Opening:
			last.Store(err)
		default:
			select {
			case g.errc <- fmt.Errorf("open the store: %w", err):
			default:
			}
			return
		}
	}
}

// logStart logs how the gateway runs: one line with the version, listen address, store,
// data folder, public URL, dev mode, retry schedule and retention, and a warning when
// catch-hook URLs will point at a loopback address because --public-url is unset.
func (f *serveFlags) logStart(log *slog.Logger, addr net.Addr, public string, opts gateway.Options) {
	retention := "keep everything"
	if opts.Retention > 0 {
		retention = opts.Retention.String()
	}
	publicURL := public
	if f.publicURL == "" {
		publicURL += " (from --addr; unset --public-url)"
	}
	log.Info("hookgate listening", "addr", addr.String(), "version", gateway.Version, "store", f.store, "data", f.data,
		"public_url", publicURL, "dev", f.dev, "retry_schedule", opts.Schedule.String(), "retention", retention,
		"metrics", "GET /metrics", "health", "GET /healthz, GET /readyz")
	if f.publicURL == "" {
		if u, err := url.Parse(public); err == nil && isLoopback(u.Hostname()) {
			log.Warn("--public-url is unset: catch-hook URLs point at a loopback address (MCP's always, the API's when called on loopback), which providers can't reach; set --public-url (or HOOKGATE_PUBLIC_URL) to the address they reach this gateway at",
				"public_url", public)
		}
	}
}

// isLoopback reports whether host is a loopback address or localhost.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// reachable turns a listen address into one a local client can dial (":8080" listens on
// every interface; 127.0.0.1:8080 reaches it).
func reachable(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// stop ends a wait for space, shuts the HTTP server down (10 s for requests in flight, long
// MCP waits included), then the gateway (15 s for attempts in flight).
func (g *runningGateway) stop() {
	g.log.Info("shutting down")
	close(g.quit)
	<-g.waited
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		g.log.Warn("http shutdown", "err", err)
		g.srv.Close()
	}
	g.mu.Lock()
	svc := g.svc
	g.mu.Unlock()
	if svc == nil {
		return // still waiting for space: no store to close
	}
	g.removeAddressFile()
	sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer scancel()
	if err := svc.Stop(sctx); err != nil {
		g.log.Error("stop gateway", "err", err)
	}
}

// tokenFile is where a generated API token is kept, in the data folder.
const tokenFile = "api-token"

// apiToken returns the API token: HOOKGATE_TOKEN (or HOOKGATE_API_TOKEN), else the one
// saved in the data folder, else a new one that is saved (0600). created reports the last case.
func apiToken(dir string) (token string, created bool, err error) {
	if t := envToken(); t != "" {
		return t, false, nil
	}
	path := filepath.Join(dir, tokenFile)
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), false, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read API token: %w", err)
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", false, fmt.Errorf("generate API token: %w", err)
	}
	token = "hg_" + base64.RawURLEncoding.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("save API token: %w", err)
	}
	return token, true, nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envBool(name string) bool {
	b, _ := strconv.ParseBool(os.Getenv(name))
	return b
}

// setMemoryLimit applies a soft limit to the Go heap ("192MiB", "1GiB", "off"). Badger's
// table builders allocate and drop large buffers; without a limit the collector lets the heap
// grow to twice what is live before it runs.
func setMemoryLimit(v string) error {
	v = strings.TrimSpace(v)
	if v == "" || v == "off" {
		debug.SetMemoryLimit(math.MaxInt64)
		return nil
	}
	n, err := parseSize(v)
	if err != nil || n <= 0 {
		return fmt.Errorf("--memory-limit %q: want a size such as 192MiB or 1GiB, or off", v)
	}
	debug.SetMemoryLimit(n)
	return nil
}

// sizeUnits are the suffixes parseSize knows, longest first so "MiB" is not read as "B".
var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"tib", 1 << 40}, {"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10},
	{"tb", 1e12}, {"gb", 1e9}, {"mb", 1e6}, {"kb", 1e3}, {"b", 1},
}

// parseSize reads a byte count: a whole number with an optional unit, binary (KiB, MiB,
// GiB, TiB) or decimal (KB, MB, GB, TB), in any case: "512MiB", "1GB", "0", "65536".
func parseSize(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is not a size: want a whole number of bytes with an optional unit, such as 512MiB, 1GB or 0", v)
	}
	return n * mult, nil
}

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
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	hgmcp "github.com/hookgate/hookgate/mcp"
	"github.com/hookgate/hookgate/schemas"
	"github.com/mark3labs/mcp-go/server"
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
	maxBody         int64
	readTimeout     time.Duration
	maxUnauthReads  int
	logLevel        string
	memoryLimit     string
	strictTypes     bool
	publicURL       string
}

func (f *serveFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", envOr("HOOKGATE_ADDR", ":8080"), "listen address (env HOOKGATE_ADDR)")
	fl.StringVar(&f.data, "data", envOr("HOOKGATE_DATA", "./hookgate-data"), "data folder for the embedded store (env HOOKGATE_DATA)")
	fl.BoolVar(&f.dev, "dev", envBool("HOOKGATE_DEV"), "local development: allow http:// and private/loopback endpoint URLs (env HOOKGATE_DEV)")
	fl.DurationVar(&f.deliveryTimeout, "delivery-timeout", 10*time.Second, "timeout of one delivery attempt")
	fl.StringVar(&f.retrySchedule, "retry-schedule", gateway.DefaultSchedule.String(), "delays before each attempt, comma-separated (jittered ±20%)")
	fl.IntVar(&f.disableAfter, "disable-after", 10, "consecutive failed deliveries that disable an endpoint")
	fl.IntVar(&f.concurrency, "concurrency", 128, "delivery attempts in flight at once")
	fl.Int64Var(&f.maxBody, "max-body", httpapi.DefaultMaxBody, "request body limit in bytes")
	fl.DurationVar(&f.readTimeout, "read-timeout", httpapi.DefaultReadTimeout, "time a request body may take to arrive; slower bodies are cut off with 408")
	fl.IntVar(&f.maxUnauthReads, "max-unauthenticated-reads", httpapi.DefaultMaxUnauthenticatedReads, "catch-hook bodies (callers without the API token) read at once; more are answered 503 with Retry-After")
	fl.BoolVar(&f.strictTypes, "strict-types", envBool("HOOKGATE_STRICT_TYPES"), "refuse events whose type is not in the catalog (env HOOKGATE_STRICT_TYPES)")
	fl.StringVar(&f.memoryLimit, "memory-limit", envOr("GOMEMLIMIT", "192MiB"), "soft memory limit for the Go runtime, e.g. 192MiB or 1GiB; 'off' to disable (env GOMEMLIMIT)")
	fl.StringVar(&f.publicURL, "public-url", os.Getenv("HOOKGATE_PUBLIC_URL"), "the address providers reach this gateway at, the base of catch-hook URLs, e.g. https://hooks.example.com (env HOOKGATE_PUBLIC_URL; default: from each API request, or http://<listen address>)")
	fl.StringVar(&f.logLevel, "log-level", envOr("HOOKGATE_LOG_LEVEL", "info"), "debug, info, warn or error (env HOOKGATE_LOG_LEVEL)")
}

// logger builds the process logger: text on stderr.
func (f *serveFlags) logger(stderr io.Writer) (*slog.Logger, error) {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl})), nil
}

// service opens the gateway described by the flags.
func (f *serveFlags) service(log *slog.Logger, publicURL string) (*gateway.Service, error) {
	sched, err := gateway.ParseSchedule(f.retrySchedule)
	if err != nil {
		return nil, fmt.Errorf("--retry-schedule: %w", err)
	}
	policy := gateway.URLPolicy{AllowPrivate: f.dev}
	catalog, err := schemas.New()
	if err != nil {
		return nil, err
	}
	return gateway.New(gateway.Options{
		Dir:             f.data,
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
		Logger:          log,
	})
}

func newServeCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gateway: HTTP API, publish, and delivery",
		Example: `  go run ./cmd/hookgate serve
  HOOKGATE_API_TOKEN=secret hookgate serve --addr 127.0.0.1:8080 --data /var/lib/hookgate
  hookgate serve --dev --retry-schedule 0s,1s,5s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.Context(), &f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd)
	return cmd
}

// serve runs the gateway until ctx is cancelled, then shuts down gracefully.
func serve(ctx context.Context, f *serveFlags, stdout, stderr io.Writer) error {
	log, err := f.logger(stderr)
	if err != nil {
		return err
	}
	g, err := startGateway(f, log, stdout)
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
type runningGateway struct {
	svc *gateway.Service
	srv *http.Server
	// public is the base URL of catch hooks: --public-url, else the listen address.
	public string
	log    *slog.Logger
	errc   chan error
}

// startGateway opens the store, starts delivering and serves the API on f.addr. The API
// token, when generated, is announced on notice (stdout for serve, stderr for mcp).
func startGateway(f *serveFlags, log *slog.Logger, notice io.Writer) (*runningGateway, error) {
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
	token, created, err := apiToken(f.data)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", f.addr, err)
	}
	public := f.publicURL
	if public == "" {
		public = "http://" + reachable(ln.Addr())
	}
	svc, err := f.service(log, f.publicURL)
	if err != nil {
		ln.Close()
		return nil, err
	}
	svc.Start()
	g := &runningGateway{svc: svc, log: log, public: public, errc: make(chan error, 1)}
	mcpHTTP := server.NewStreamableHTTPServer(hgmcp.NewServer(svc, hgmcp.Options{PublicURL: public}))
	g.srv = &http.Server{
		Handler: httpapi.New(httpapi.Options{Service: svc, Token: token, MaxBody: f.maxBody, Logger: log, PublicURL: f.publicURL,
			ReadTimeout: f.readTimeout, MaxUnauthenticatedReads: f.maxUnauthReads,
			Mount: []httpapi.Mount{{Path: "/mcp", Handler: mcpHTTP, Protected: true}}}),
		// No ReadTimeout: it would also cut long answers (MCP awaits); the handler bounds
		// each request body by --read-timeout instead (httpapi guardBody).
		ReadHeaderTimeout: min(10*time.Second, f.readTimeout),
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if created {
		fmt.Fprintf(notice, "API token (saved to %s, shown once): %s\n", filepath.Join(f.data, tokenFile), token)
	}
	log.Info("hookgate listening", "addr", ln.Addr().String(), "data", f.data, "dev", f.dev, "version", gateway.Version)
	go func() { g.errc <- g.srv.Serve(ln) }()
	return g, nil
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

// stop shuts the HTTP server down (10 s for requests in flight, long MCP waits included),
// then the gateway (15 s for attempts in flight).
func (g *runningGateway) stop() {
	g.log.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		g.log.Warn("http shutdown", "err", err)
		g.srv.Close()
	}
	sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer scancel()
	if err := g.svc.Stop(sctx); err != nil {
		g.log.Error("stop gateway", "err", err)
	}
}

// tokenFile is where a generated API token is kept, in the data folder.
const tokenFile = "api-token"

// apiToken returns the API token: HOOKGATE_API_TOKEN, else the one saved in the data
// folder, else a new one that is saved (0600). created reports the last case.
func apiToken(dir string) (token string, created bool, err error) {
	if t := strings.TrimSpace(os.Getenv("HOOKGATE_API_TOKEN")); t != "" {
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
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(v, u.suffix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil || n <= 0 {
				break
			}
			debug.SetMemoryLimit(n * u.mult)
			return nil
		}
	}
	return fmt.Errorf("--memory-limit %q: want a size such as 192MiB or 1GiB, or off", v)
}

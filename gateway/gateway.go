// Package gateway is hookgate's core: events, endpoints, deliveries and attempts, and the
// Service that the HTTP API, the MCP server and the CLI all call.
//
// A published event is validated and appended to the store's event log together with one
// Delivery per matching Endpoint (durable before Publish returns), and handed to the
// Dispatcher, which leases due deliveries from the store's work queue, sends each through the
// Sender for its endpoint's kind, records every Attempt, and retries on the Schedule until it
// succeeds or gives up. Endpoints that keep failing are disabled; deliveries that match a
// disabled endpoint are kept as paused and sent when it is enabled again.
//
// Storage is the Store interface (storage.go), which backends under queue/ implement
// (queue/badger on disk, queue/memory for tests); the caller opens one and passes it in
// Options.Store. A store that keeps its data on a local volume (DiskSpace) gets a
// free-space guard: below a watermark (Options.MinFreeDisk) every write of new data fails
// with ErrStorageFull while stored deliveries keep going, and writes resume by themselves
// once space is freed. With Options.Retention, finished events older than that are removed
// in the background.
//
// What the Service does is logged on Options.Logger (failed attempts and give-ups at warn,
// successes at debug, refused catch-hook calls summed up per source per minute) and told to
// Options.Observer, for metrics (observe.go); Gauges reads the state metrics sample, and
// Ready is what a readiness probe asks.
//
// The package imports no web framework, MCP library, metrics library or database backend,
// and outbound transports are Senders supplied by the caller.
//
// # Example
//
//	store, err := badger.Open(badger.Options{Dir: "./hookgate-data"}) // or memory.New()
//	if err != nil { … }
//	svc, err := gateway.New(gateway.Options{
//		Store:   store,
//		Senders: map[string]gateway.Sender{"webhook": webhook.New(webhook.Options{})},
//	})
//	if err != nil { … }
//	svc.Start()
//	defer svc.Stop(context.Background()) // closes the store too
//
//	ep, secret, _ := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "https://example.com/hook", Events: []string{"video.*"}})
//	res, _ := svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(`{"url":"…"}`)})
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/schemas"
)

// Validator checks an event's data against its type's schema. source is the event's
// source (may be empty): a provider's own type of that name wins, so tinyposter's "ping" is
// not checked against hookgate's. It returns nil when the data is valid, ErrUnknownType when
// the type has no schema, or an error describing the first failure; an error that
// implements FieldError names the failing JSON pointer.
type Validator interface {
	ValidateFrom(source, eventType string, data json.RawMessage) error
}

// FieldError is an error that names the field it is about (a JSON pointer such as
// "/data/views"). Schema validation errors implement it.
type FieldError interface {
	error
	FieldName() string
}

// ErrUnknownType is what a Validator returns for a type without a schema.
var ErrUnknownType = schemas.ErrUnknownType

// Options configures a Service. Store is required; the rest has defaults.
type Options struct {
	// Store keeps events, deliveries, the work queue, the registry and the request logs
	// (queue/badger, queue/memory). The Service owns it from New on: Stop closes it, and
	// so does a New that fails.
	Store Store
	// Senders maps an endpoint kind ("webhook", …) to the Sender that delivers to it.
	Senders map[string]Sender
	// Catalog is the event catalog: it validates published data (unless Validator is set)
	// and holds the custom event types, which the Service persists.
	Catalog *schemas.Catalog
	// Validator checks published data; default Catalog, and with neither any JSON passes.
	Validator Validator
	// StrictTypes refuses events whose type the Validator doesn't know.
	StrictTypes bool
	// Inbound verifies and maps what catch hooks (sources) receive; without it the
	// source methods answer ErrConflict.
	Inbound Inbound
	// RequestLogEntries and RequestLogBytes bound each source's request log: it keeps its
	// most recent calls, at most this many and this many bytes of entries (as JSON),
	// whichever comes first; default DefaultRequestLogEntries and DefaultRequestLogBytes.
	RequestLogEntries int
	RequestLogBytes   int64
	// PublicURL is the gateway's address as providers reach it, the base of catch-hook
	// URLs ("https://hooks.example.com"); empty leaves URLs to the API layer.
	PublicURL string
	// Policy decides which endpoint URLs are allowed.
	Policy URLPolicy
	// Schedule is the retry schedule; default DefaultSchedule.
	Schedule Schedule
	// DeliveryTimeout bounds one attempt; default 10 s.
	DeliveryTimeout time.Duration
	// DisableAfter is how many consecutive failed deliveries disable an endpoint; default 10.
	DisableAfter int
	// Concurrency is how many attempts run at once; default 128.
	Concurrency int
	// Retention is how long finished events (every delivery succeeded, failed or
	// canceled) are kept: older ones are removed with their deliveries in the background,
	// in batches of retentionBatch. 0 keeps everything. Events with a pending or paused
	// delivery are never removed.
	Retention time.Duration
	// RetentionEvery is how often retention looks for events to remove, and for
	// subscriptions past their ExpiresAt; default 1 min.
	RetentionEvery time.Duration
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now. Tests may inject one.
	Now func() time.Time
	// MinFreeDisk is the free-space watermark in bytes: while the data volume has less free,
	// writes that bring in new data (publish, catch hooks, management changes) fail with
	// ErrStorageFull, and Ready says so; stored deliveries continue and reads keep working.
	// 0 means DefaultMinFreeDisk or 5 % of the volume, whichever is smaller, but never less
	// than the store needs for its own work (DiskSpace.Headroom); negative turns the guard
	// off. A Store that does not implement DiskSpace has no guard.
	MinFreeDisk int64
	// FreeSpace measures the data volume; default statfs(2). Tests inject one.
	FreeSpace FreeSpaceFunc
	// Observer is told about every publish, attempt and catch-hook call (for metrics:
	// connectors/metrics); default none.
	Observer Observer
}

// Service is the gateway. Its methods are safe for concurrent use.
type Service struct {
	opts  Options
	store Store
	log   *slog.Logger
	now   func() time.Time
	obs   Observer

	rejects rejectLog // refused catch-hook calls, summed up per source for the log

	mu        sync.RWMutex
	endpoints map[string]*Endpoint // immutable snapshots, replaced on change
	epRevs    map[string]uint64    // the revision of each snapshot (deletedRev once deleted)

	disp    *dispatcher
	disk    *diskGuard
	bg      sync.WaitGroup     // the registry watchers and retention
	stopBG  context.CancelFunc // ends them
	bgCtx   context.Context
	started sync.Once
	stopped sync.Once

	seen seenTypes // event types published (knownType)

	lastSeq atomic.Uint64 // the highest Seq this process appended (head)

	waiters    waiters   // await's registrations, by type (WaitFor)
	routerOnce sync.Once // starts the router that wakes them

	changes changes // wakes the watchers of Changed
}

// deletedRev marks a deleted endpoint in Service.epRevs: endpoint ids are never reused, so
// no later change of one (a watch echo) brings it back.
const deletedRev = math.MaxUint64

// New loads the endpoints and custom event types from opts.Store and starts following the
// registry's changes. Call Start to begin delivering and Stop to end.
func New(opts Options) (*Service, error) {
	if opts.Store == nil {
		return nil, errors.New("gateway: Options.Store is required (queue/badger or queue/memory)")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	if len(opts.Schedule) == 0 {
		opts.Schedule = DefaultSchedule
	}
	if opts.DeliveryTimeout <= 0 {
		opts.DeliveryTimeout = 10 * time.Second
	}
	if opts.DisableAfter <= 0 {
		opts.DisableAfter = 10
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 128
	}
	if opts.RequestLogEntries <= 0 {
		opts.RequestLogEntries = DefaultRequestLogEntries
	}
	if opts.RequestLogBytes <= 0 {
		opts.RequestLogBytes = DefaultRequestLogBytes
	}
	if opts.RetentionEvery <= 0 {
		opts.RetentionEvery = time.Minute
	}
	if opts.Validator == nil && opts.Catalog != nil {
		opts.Validator = opts.Catalog
	}
	disk := newDiskGuard(opts)
	if opts.MinFreeDisk > 0 && uint64(opts.MinFreeDisk) < disk.floor {
		opts.Logger.Warn("the free-space watermark is below what the store needs for its own work; a full disk may crash it",
			"min_free_disk", FormatBytes(uint64(opts.MinFreeDisk)), "store_headroom", FormatBytes(disk.floor))
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Service{
		opts:      opts,
		store:     opts.Store,
		log:       opts.Logger,
		now:       opts.Now,
		obs:       opts.Observer,
		endpoints: map[string]*Endpoint{},
		epRevs:    map[string]uint64{},
		disk:      disk,
		bgCtx:     ctx,
		stopBG:    cancel,
	}
	if err := s.loadState(ctx); err != nil {
		cancel()
		s.bg.Wait()
		opts.Store.Close()
		return nil, err
	}
	s.disp = newDispatcher(s)
	s.disk.status() // a start on a full volume starts refusing (and logs it) at once
	return s, nil
}

// admit is consulted first by every Service method that writes new data to the store:
// it returns a *StorageFullError (ErrStorageFull) while the volume is below the watermark.
// The dispatcher does not call it: stored deliveries drain on a full disk.
func (s *Service) admit() error { return s.disk.admit() }

// Readiness is whether the Service can take traffic, and if not, why.
type Readiness struct {
	// Ready is true when the store takes writes and deliveries are being sent.
	Ready bool `json:"ready"`
	// Reasons name what is wrong, each starting with a stable code ("storage_full: …").
	Reasons []string `json:"reasons,omitempty"`
	// Disk is the data volume as just measured.
	Disk DiskStatus `json:"disk"`
}

// readyProbeTimeout bounds the store read Ready makes.
const readyProbeTimeout = 2 * time.Second

// Now is the Service's clock (Options.Now), for callers that turn "the last hour" into a
// time the Service compares with its records.
func (s *Service) Now() time.Time { return s.now() }

// Ready measures the data volume, reads the store once and reports whether the Service
// takes writes and delivers. It is what a readiness probe asks; reads are served either
// way. The reasons' codes: starting, dispatcher_stopped, store_unreachable, storage_full,
// deliveries_paused.
func (s *Service) Ready() Readiness {
	r := Readiness{Disk: s.disk.status()}
	if r.Disk.Full {
		r.Reasons = append(r.Reasons, (&StorageFullError{Free: r.Disk.Free, Watermark: r.Disk.Watermark}).Reason())
	}
	if r.Disk.Paused {
		r.Reasons = append(r.Reasons, fmt.Sprintf("deliveries_paused: %s free, below the %s reserve the store keeps for itself; deliveries stay queued",
			FormatBytes(r.Disk.Free), FormatBytes(r.Disk.Reserve)))
	}
	switch {
	case !s.disp.begun.Load():
		r.Reasons = append(r.Reasons, "starting: the dispatcher has not started yet; deliveries are not being sent")
	case !s.disp.running.Load():
		r.Reasons = append(r.Reasons, "dispatcher_stopped: deliveries are not being sent (the gateway is stopping)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), readyProbeTimeout)
	defer cancel()
	if err := s.probeStore(ctx); err != nil {
		r.Reasons = append(r.Reasons, "store_unreachable: "+err.Error())
	}
	r.Ready = len(r.Reasons) == 0
	return r
}

// loadState reads the endpoints and the custom event types into memory, and starts the
// goroutines that follow their changes (see watch.go); they run until Stop.
func (s *Service) loadState(ctx context.Context) error {
	if err := s.followEndpoints(ctx); err != nil {
		return err
	}
	if err := s.loadSeenTypes(ctx); err != nil {
		return err
	}
	return s.followEventTypes(ctx)
}

// Start starts the dispatcher and the background sweep: retention (with
// Options.Retention) and the expiry of subscriptions that were not refreshed. Deliveries
// left queued by an earlier run, including ones that were in flight when it died, are
// picked up again.
func (s *Service) Start() {
	s.started.Do(func() {
		s.disp.start()
		s.bg.Add(1)
		go s.retain(s.bgCtx)
	})
}

// Stop stops taking new work, waits (bounded by ctx) for attempts in flight, and closes the
// store. Attempts still running when ctx ends are abandoned; their deliveries are sent again
// after the next start.
func (s *Service) Stop(ctx context.Context) error {
	var err error
	s.stopped.Do(func() {
		inFlight, cut := s.disp.stop(ctx)
		s.stopBG()
		s.bg.Wait()
		s.flushRefused(s.now())
		s.logStopped(inFlight, cut)
		if cerr := s.store.Close(); cerr != nil {
			err = fmt.Errorf("close store: %w", cerr)
		}
	})
	return err
}

// logStopped logs, at Stop, what the dispatcher drained and what is left for the next
// start: the attempts in flight when it stopped (finished or cut short) and the deliveries
// still queued.
func (s *Service) logStopped(inFlight, cut int) {
	args := []any{"attempts_in_flight", inFlight, "finished", inFlight - cut, "cut_short", cut}
	ctx, cancel := context.WithTimeout(context.Background(), readyProbeTimeout)
	defer cancel()
	if b, err := s.store.Backlog(ctx); err == nil {
		pending := 0
		for _, n := range b.Pending {
			pending += n
		}
		args = append(args, "pending", pending, "endpoints_with_pending", len(b.Pending))
	} else {
		args = append(args, "pending", "unknown: "+err.Error())
	}
	s.log.Info("gateway stopped: what is pending is sent after the next start", args...)
}

// endpoint returns the current snapshot of endpoint id.
func (s *Service) endpoint(id string) (*Endpoint, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ep, ok := s.endpoints[id]
	return ep, ok
}

// setEndpoint replaces the snapshot of endpoint id with ep at revision rev, unless the
// snapshot is already at rev or newer (a change this process made, seen again by the
// watcher). rev 0 (a record listed without its revision) always applies.
func (s *Service) setEndpoint(id string, ep *Endpoint, rev uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if known := s.epRevs[id]; known == deletedRev || rev != 0 && rev <= known {
		return
	}
	s.endpoints[id] = ep
	s.epRevs[id] = rev
}

// dropEndpoint removes the snapshot of endpoint id for good.
func (s *Service) dropEndpoint(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.endpoints, id)
	s.epRevs[id] = deletedRev
}

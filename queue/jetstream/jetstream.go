// Package jetstream is a gateway.Store on a NATS JetStream cluster, so that several hookgate
// nodes share one set of events, deliveries, work and registry: `hookgate serve --store
// nats://host:4222[,host2:4222…]`. It uses github.com/nats-io/nats.go and its jetstream
// package, and passes queue/queuetest.Run against an embedded nats-server and against a
// 3-server cluster with 3 replicas (see queue/jetstream/jstest).
//
// # The mapping
//
// Everything lives in one stream (Options.Stream, "HOOKGATE" by default) on the subjects
// under one prefix (Options.Subjects, "hookgate"), kept as a key-value table: the stream
// keeps the last message of each subject (MaxMsgsPerSubject 1), so a subject is a record and
// the stream sequence of its last message is the record's revision:
//
//	hookgate.ev.<key>.<id>      an event with its fan-out: the deliveries as Append created
//	                            them, and the dedupe key it was appended under (<key> is
//	                            the key's SHA-256, "_" without one). The message's stream
//	                            sequence is the event's Seq, the cursor of the event log:
//	                            one stream, so sequences increase in the order appends
//	                            became durable, across every node.
//	hookgate.d.<id>             a delivery saved since (by SaveDeliveries, Lease, Hold or
//	                            Release), with its revision counter and its work-queue
//	                            state: when it is due and until when it is leased or held.
//	hookgate.reg.<coll>.<id>    a registry record (endpoints, sources, event types…), one
//	                            collection per token <coll>.
//	hookgate.rq.<source>.<n>    one catch-hook request log entry, with a per-message TTL
//	                            (Nats-TTL) of the log's MaxAge.
//
// (<id>, <source>: base64url of the id, so that any id makes a valid subject token.) A
// removed record is a header-only tombstone on its subject (header Hookgate-Op: del) that
// expires after TombstoneTTL, so the stream does not grow with what Trim removed; a trimmed
// event's tombstone keeps its dedupe key (and expires) until the key's window ends.
//
// Every write carries Nats-Expected-Last-Subject-Sequence, the revision the writer read:
// that is the compare-and-swap, of deliveries, registry records and leases. An Append is
// one message, whose swap is on the last message under its dedupe key
// (Nats-Expected-Last-Subject-Sequence-Subject hookgate.ev.<key>.*): of two nodes appending
// under one key one wins, and the other finds the duplicate. A write of several records
// that must be all-or-none (SaveDeliveries of several, Trim of an event with its saved
// deliveries) is one atomic batch
// (Nats-Batch-Id, AllowAtomicPublish): up to 1,000 messages, the server's default
// max_batch_size (more is ErrTooLarge). A write returns only once the stream acknowledged it
// (stored on a majority of its replicas), and then once this node's view has applied it:
// the 202 contract holds across node crashes, and a node reads its own writes.
//
// Each node follows the whole stream with an ordered consumer into an in-memory view (the
// indexes a query needs: events by sequence, deliveries by creation per endpoint, the work
// queue by due time and lease end, the registry, dedupe keys, request logs). Reads are
// answered from the view; every node's view sees every node's writes, which is what makes
// Appended (await_event on every node), Wake (the dispatchers of every node) and the
// registry's Watch work across the cluster. The view holds what the stream holds, so a
// node's memory grows with the retained events and deliveries (Trim bounds both).
//
// The work queue is the deliveries' own state, not a JetStream consumer: the gateway's
// lease clock is the now passed to Lease (the Service's clock), which a consumer's AckWait
// cannot follow. Lease picks the due jobs from the view, oldest due first, and writes each
// one's lease end with a compare-and-swap on its revision, so a job is handed to one node
// at a time; a lease or hold survives the node that took it and ends at its time, when any
// node may lease the job again.
//
// When the connection to NATS is lost every call fails with an error wrapping
// gateway.ErrUnavailable (the API answers 503 store_unavailable and /readyz says
// store_unreachable); nats.go reconnects by itself, the ordered consumer carries on from
// the last sequence it applied, and the calls succeed again.
package jetstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/gateway"
)

// Options configure Open.
type Options struct {
	// URL is the NATS server(s) to connect to, comma-separated ("nats://a:4222,nats://b:4222").
	// Empty: $NATS_URL, else nats://127.0.0.1:4222.
	URL string
	// Creds is a NATS credentials file (a user JWT and its NKey seed).
	Creds string
	// TLSCA is a PEM file of the certificate authorities that sign the servers' certificates.
	TLSCA string
	// Replicas is the stream's replica count (default 1; 3 on a 3-server cluster).
	Replicas int
	// Stream is the stream's name (default "HOOKGATE"); Subjects its subject prefix (default
	// "hookgate"). Several gateways may share a NATS cluster under different names.
	Stream, Subjects string
	// Timeout bounds each request to NATS (default 5 s).
	Timeout time.Duration
	// TombstoneTTL is how long the marker of a removed record is kept (default 24 h): a
	// node that is cut off from NATS for longer must be restarted to forget what was
	// removed meanwhile.
	TombstoneTTL time.Duration
	// Logger receives what Open created and the connection's ups and downs (default
	// slog.Default()).
	Logger *slog.Logger
	// NATS are further connection options, after the ones above.
	NATS []nats.Option
}

// Store is a gateway.Store on NATS JetStream. Open one per process.
type Store struct {
	opts   Options
	log    *slog.Logger
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	prefix string
	cons   jetstream.ConsumeContext // guarded by closeMu once Open returned
	v      *view
	// refollowing is set while refollow runs.
	refollowing atomic.Bool
	// diverged holds why this node's view no longer follows the stream (see diverge.go);
	// nil while it does.
	diverged atomic.Pointer[string]
	leaseMu  sync.Mutex // one Lease at a time in this process: each sees the last one's leases

	closed  atomic.Bool
	closeMu sync.Mutex
	done    chan struct{}
	// live is read-locked by every call in flight (begin … end), write-locked by Close
	// to wait for them.
	live sync.RWMutex

	endpoints    *collection[*gateway.Endpoint]
	sources      *collection[*gateway.Source]
	eventTypes   *collection[*gateway.EventTypeRecord]
	keys         *collection[*gateway.APIKey]
	oauthClients *collection[*gateway.OAuthClient]
	grants       *collection[*gateway.Grant]
}

var (
	_ gateway.Store     = (*Store)(nil)
	_ gateway.SharedLog = (*Store)(nil)
)

// maxBatch is the most messages one atomic write holds: nats-server's default
// max_batch_size.
const maxBatch = 1000

// Open connects to NATS, creates the stream or checks the one there (logging which), and
// reads the stream into this node's view before it returns.
func Open(ctx context.Context, o Options) (*Store, error) {
	o = o.withDefaults()
	s := &Store{opts: o, log: o.Logger.With("store", "nats", "stream", o.Stream), prefix: o.Subjects, done: make(chan struct{})}
	s.v = newView(s)
	s.endpoints = newCollection[*gateway.Endpoint](s, "ep", "endpoint")
	s.sources = newCollection[*gateway.Source](s, "src", "source")
	s.eventTypes = newCollection[*gateway.EventTypeRecord](s, "et", "event type")
	s.keys = newCollection[*gateway.APIKey](s, "key", "API key")
	s.oauthClients = newCollection[*gateway.OAuthClient](s, "oac", "OAuth client")
	s.grants = newCollection[*gateway.Grant](s, "grant", "OAuth grant")

	nopts, err := s.natsOptions()
	if err != nil {
		return nil, err
	}
	nc, err := nats.Connect(o.URL, nopts...)
	if err != nil {
		return nil, fmt.Errorf("connect to NATS at %s: %w: %w", redactURL(o.URL), gateway.ErrUnavailable, err)
	}
	s.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	s.js = js
	if err := s.ensureStreamTogether(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	if err := s.follow(ctx); err != nil {
		s.Close()
		return nil, err
	}
	go s.watchStream()
	return s, nil
}

// withDefaults returns o with the defaults the fields' docs give filled in.
func (o Options) withDefaults() Options {
	if o.URL == "" {
		o.URL = os.Getenv("NATS_URL")
	}
	if o.URL == "" {
		o.URL = nats.DefaultURL
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.Stream == "" {
		o.Stream = "HOOKGATE"
	}
	if o.Subjects == "" {
		o.Subjects = "hookgate"
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.TombstoneTTL <= 0 {
		o.TombstoneTTL = 24 * time.Hour
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// natsOptions turns Options into the connection's options: reconnect for ever, credentials
// and TLS as nats.go reads them, and a log line for each change of the connection.
func (s *Store) natsOptions() ([]nats.Option, error) {
	o := s.opts
	nopts := []nats.Option{
		nats.Name("hookgate"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if !s.closed.Load() {
				s.log.Warn("lost the connection to NATS; calls fail with store_unavailable until it is back", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			s.log.Info("reconnected to NATS", "server", nc.ConnectedUrlRedacted())
		}),
	}
	if o.Creds != "" {
		nopts = append(nopts, nats.UserCredentials(o.Creds))
	}
	if o.TLSCA != "" {
		pem, err := os.ReadFile(o.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("NATS TLS CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("NATS TLS CA %s: no PEM certificate in it", o.TLSCA)
		}
		nopts = append(nopts, nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	return append(nopts, o.NATS...), nil
}

// redactURL hides passwords in a list of NATS URLs, for messages.
func redactURL(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if at := strings.LastIndex(p, "@"); at >= 0 {
			if scheme := strings.Index(p, "://"); scheme >= 0 && scheme < at {
				parts[i] = p[:scheme+3] + "***" + p[at:]
			}
		}
	}
	return strings.Join(parts, ",")
}

// ensureStream creates the stream, or checks the one there and brings its settings up to
// date, and logs what it did.
func (s *Store) ensureStream(ctx context.Context) error {
	cfg := jetstream.StreamConfig{
		Name:               s.opts.Stream,
		Description:        "hookgate: events, deliveries, work, registry and request logs (queue/jetstream)",
		Subjects:           []string{s.prefix + ".>"},
		Storage:            jetstream.FileStorage,
		Replicas:           s.opts.Replicas,
		Retention:          jetstream.LimitsPolicy,
		Discard:            jetstream.DiscardOld,
		MaxMsgsPerSubject:  1,
		AllowDirect:        true,
		AllowMsgTTL:        true,
		AllowAtomicPublish: true,
	}
	cctx, cancel := context.WithTimeout(ctx, 4*s.opts.Timeout)
	defer cancel()
	st, err := s.js.Stream(cctx, cfg.Name)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		st, err = s.createStream(cctx, cfg)
		if err != nil {
			return fmt.Errorf("create stream %s: %w", cfg.Name, s.unavailable(err))
		}
		s.log.Info("created the JetStream stream", "subjects", cfg.Subjects, "replicas", cfg.Replicas, "storage", "file")
	case err != nil:
		return fmt.Errorf("look up stream %s: %w", cfg.Name, s.unavailable(err))
	default:
		have := st.CachedInfo().Config
		if have.MaxMsgsPerSubject != 1 || len(have.Subjects) != 1 || have.Subjects[0] != cfg.Subjects[0] {
			return fmt.Errorf("stream %s exists with subjects %v and %d messages per subject, not hookgate's %v and 1: choose another --nats-stream",
				cfg.Name, have.Subjects, have.MaxMsgsPerSubject, cfg.Subjects)
		}
		if have.Replicas != cfg.Replicas || !have.AllowAtomicPublish || !have.AllowMsgTTL || !have.AllowDirect {
			if st, err = s.js.UpdateStream(cctx, cfg); err != nil {
				return fmt.Errorf("update stream %s: %w", cfg.Name, s.unavailable(err))
			}
			s.log.Info("updated the JetStream stream", "replicas", cfg.Replicas, "was", have.Replicas)
		} else {
			s.log.Info("checked the JetStream stream", "subjects", have.Subjects, "replicas", have.Replicas, "messages", st.CachedInfo().State.Msgs)
		}
	}
	s.stream = st
	return nil
}

// createStream creates the stream, trying again while the cluster has too few servers
// online for its replicas (as just after the cluster started), until ctx ends.
func (s *Store) createStream(ctx context.Context, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	for {
		st, err := s.js.CreateStream(ctx, cfg)
		var api *jetstream.APIError
		if err == nil || !errors.As(err, &api) || api.ErrorCode != errCodeNoPeers && api.ErrorCode != errCodeClusterNotAvailable {
			return st, err
		}
		s.log.Info("waiting for NATS servers to place the stream's replicas", "replicas", cfg.Replicas, "err", err)
		t := time.NewTimer(250 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// follow starts the ordered consumer that feeds the view and waits until the view holds
// what the stream held when it started.
func (s *Store) follow(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 4*s.opts.Timeout)
	defer cancel()
	info, err := s.streamInfo(cctx)
	if err != nil {
		return fmt.Errorf("stream %s: %w", s.opts.Stream, s.unavailable(err))
	}
	cc, err := s.consume(cctx, 1)
	if err != nil {
		return err
	}
	s.cons = cc
	if info.State.Msgs == 0 {
		return nil
	}
	if err := s.v.waitLoaded(ctx, info.State.LastSeq); err != nil {
		return fmt.Errorf("read stream %s (%d messages): %w", s.opts.Stream, info.State.Msgs, err)
	}
	s.log.Info("read the JetStream stream", "messages", info.State.Msgs, "last_seq", info.State.LastSeq)
	return nil
}

// consume starts an ordered consumer of the stream from sequence from, feeding the view
// as its current generation: what a consumer of an earlier one still delivers is dropped.
func (s *Store) consume(ctx context.Context, from uint64) (jetstream.ConsumeContext, error) {
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{s.prefix + ".>"}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if from > 1 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, from
	}
	cons, err := s.stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("follow stream %s: %w", s.opts.Stream, s.unavailable(err))
	}
	s.v.mu.Lock()
	gen := s.v.gen
	s.v.mu.Unlock()
	apply := func(m jetstream.Msg) { s.v.apply(gen, m) }
	cc, err := cons.Consume(apply, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if !s.closed.Load() {
			s.log.Debug("following the stream", "err", err)
		}
	}))
	if err != nil {
		return nil, fmt.Errorf("follow stream %s: %w", s.opts.Stream, s.unavailable(err))
	}
	return cc, nil
}

// refollowSoon starts refollow in the background unless it is running already.
func (s *Store) refollowSoon() {
	if s.closed.Load() || !s.refollowing.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer s.refollowing.Store(false)
		s.refollow()
	}()
}

// refollow replaces the consumer that feeds the view with a new one, from the message
// after the last the view applied. nats.go's ordered consumer makes itself anew when it
// loses its server, but not always: here (nats.go 1.55, nats-server 2.15.2) it was seen
// retrying for minutes after the stream's leader was killed, while the stream took writes
// from its new leader, and every write of this node waited for the view.
//
// A stream whose last sequence is now below what the view applied lost messages its
// former leader had acknowledged (seen in the same test, 3 times in 25 kills of the
// leader while a node wrote without pausing after errors): the view has diverged, and the
// node refuses every call until it is restarted (see diverge.go).
func (s *Store) refollow() {
	// Stop the consumer first, and drop what it still delivers (Stop does not wait for
	// the messages it has queued): from here on only the new one feeds the view.
	s.closeMu.Lock()
	if s.closed.Load() {
		s.closeMu.Unlock()
		return
	}
	if s.cons != nil {
		s.cons.Stop()
		s.cons = nil
	}
	s.closeMu.Unlock()
	if err := s.v.lock(); err != nil {
		return
	}
	s.v.gen++
	from := s.v.applied
	s.v.mu.Unlock()

	// The stream's last sequence, read after what the view applied: lower (for a while)
	// only when the stream lost messages this node had read.
	ctx, cancel := context.WithTimeout(context.Background(), 4*s.opts.Timeout)
	defer cancel()
	diverged, err := s.checkBehind(ctx, from)
	if err != nil {
		if !s.closed.Load() {
			s.log.Warn("this node stopped reading the stream, and cannot look it up to read it anew; it tries again at its next write", "err", err)
		}
		return
	}
	if diverged {
		return
	}
	cc, err := s.consume(ctx, from+1)
	if err != nil {
		if !s.closed.Load() {
			s.log.Warn("this node stopped reading the stream, and cannot read it anew; it tries again at its next write", "err", err)
		}
		return
	}
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed.Load() {
		cc.Stop()
		return
	}
	s.cons = cc
	s.log.Warn("this node stopped reading the stream; reading it anew", "from_seq", from+1)
}

// SharedLog reports true: other nodes append to the same event log.
func (s *Store) SharedLog() bool { return true }

// Close stops following the stream and closes the connection. Calls after Close fail with
// an error wrapping gateway.ErrClosed; Watch channels and the one Appended returned are
// closed. Closing twice returns nil.
func (s *Store) Close() error {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	close(s.done)
	if s.cons != nil {
		s.cons.Stop()
	}
	if s.nc != nil {
		s.nc.Close()
	}
	s.live.Lock() // the calls in flight see the closed connection and return
	s.live.Unlock()
	s.v.close()
	return nil
}

// errClosed is what calls after Close return.
var errClosed = fmt.Errorf("nats store: %w", gateway.ErrClosed)

// enter is begin and the view's lock together, the start of a call that reads the view:
// on success the caller unlocks the view (s.v.mu.Unlock) once done with it, and calls end.
func (s *Store) enter() error {
	if err := s.begin(); err != nil {
		return err
	}
	if err := s.v.lock(); err != nil {
		s.end()
		return err
	}
	return nil
}

// begin checks that the store is open and connected, and marks a call in flight until
// end; Close waits for it. A call makes no nested begin.
func (s *Store) begin() error {
	if s.closed.Load() {
		return errClosed
	}
	s.live.RLock()
	if s.closed.Load() {
		s.live.RUnlock()
		return errClosed
	}
	if st := s.nc.Status(); st != nats.CONNECTED {
		s.live.RUnlock()
		return fmt.Errorf("nats store: connection %s: %w", strings.ToLower(st.String()), gateway.ErrUnavailable)
	}
	if err := s.divergedError(); err != nil {
		s.live.RUnlock()
		return err
	}
	return nil
}

// end ends a call begin began.
func (s *Store) end() { s.live.RUnlock() }

// unavailable turns an error of the connection into one wrapping gateway.ErrUnavailable
// (or ErrClosed after Close); other errors are returned as they are.
func (s *Store) unavailable(err error) error {
	switch {
	case err == nil:
		return nil
	case s.closed.Load() || errors.Is(err, nats.ErrConnectionClosed):
		return fmt.Errorf("%w: %w", errClosed, err)
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, nats.ErrDisconnected), errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, nats.ErrConnectionDraining), errors.Is(err, jetstream.ErrJetStreamNotEnabled):
		return fmt.Errorf("%w: %w", gateway.ErrUnavailable, err)
	}
	var api *jetstream.APIError
	if errors.As(err, &api) && (api.Code == 503 || api.ErrorCode == errCodeClusterNotAvailable || api.ErrorCode == errCodeStreamOffline) {
		return fmt.Errorf("%w: %w", gateway.ErrUnavailable, err)
	}
	return err
}

// JetStream API error codes (nats-server's JSClusterNoPeersErrF, JSClusterNotAvailErr and
// JSStreamOfflineErr) that mean "try again shortly".
const (
	errCodeNoPeers             jetstream.ErrorCode = 10005
	errCodeClusterNotAvailable jetstream.ErrorCode = 10008
	errCodeStreamOffline       jetstream.ErrorCode = 10118
)

// reqCtx bounds a request to NATS by the store's Timeout, within ctx.
func (s *Store) reqCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.opts.Timeout)
}

// Package badger is hookgate's embedded store, the default backend of gateway.Store: the
// event log, the deliveries, the work queue, the registry and the request logs, all in one
// Badger database in the data folder, written with group commit.
//
// It implements the store's domain interfaces (see gateway.Store), errors included (the
// gateway's sentinels: ErrNotFound, ErrConflict, ErrClosed, ErrTooLarge), on a key-value
// engine (internal/kv) that batches concurrent writes into one Badger transaction and one
// fsync, keeps the due deliveries in an in-memory index with leases, and accounts for the
// disk space Badger needs for its own work (Headroom, OpenSpace: the gateway's free-space
// guard reads them through gateway.DiskSpace). What Append returns is durable: an event,
// its deliveries, their queue entries and its dedupe key are one transaction.
//
// # Keys
//
//	m/format                               → the layout version, "4"
//	m/seq                                  → the log's head: last Seq, latest ReceivedAt, skew
//	                                         (8 bytes each, see logHead)
//	m/rev/<collection prefix>              → the collection's last revision (8 bytes)
//	ev/<event id>                          → the event: its Seq, its fields in binary (JSON
//	                                         before layout 4), its data (see encodeEvent)
//	evs/<seq, 8 bytes>                     → <received ns, 8 bytes><event id> (the log, in order)
//	dd/<dedupe key>                        → <seq><received ns><window ns><event id> (8 bytes
//	                                         each but the id; TTL: the window, plus a minute);
//	                                         none for an event whose dedupe key is its own id
//	                                         with no window (the publish API's): its ev/
//	                                         record, which keeps the key, stands for it
//	dl/<delivery id>                       → <rev, 8 bytes> the delivery, binary (see
//	                                         deliveryBinary; JSON in layouts before 4)
//	dlc/<created ns, 8 bytes><delivery id> → "" (every delivery, by creation)
//	dle/<endpoint id>/<created ns><id>     → "" (an endpoint's deliveries, by creation)
//	dlp/<endpoint id>/<created ns><id>     → "" (an endpoint's paused deliveries, by creation)
//	ep/<id>, src/<id>, et/<name>,          → <rev, 8 bytes> record JSON (the registry)
//	key/<id>, oac/<id>, oag/<id>
//	srq/<source id>/<received ns><id>      → SourceRequest JSON (TTL: the log's MaxAge)
//
// plus the engine's job index: _q/<due ns><delivery id> → endpoint id, one key per pending
// delivery, due at its NextAttemptAt (the zero time, due at once, when that is nil). A save
// finds the job it replaces from the record it replaces (queueDelivery), so there is no key
// from a delivery id to its job; the _j/<id> pointers older versions kept are deleted when
// the engine opens the folder. Dedupe keys with a window live that long (they outlive a
// trimmed event); those without one are removed with their event.
//
// This is layout 4 (m/format): layout 3 with event and delivery records in a binary form.
// Open takes layout 3 as it is (reading the JSON of older records beside the binary), and
// layout 2: layout 3 with the _j/ pointers and the dd/ keys of events deduplicated on their
// own id (see format).
// A data folder of layout 1, written by a hookgate from before the storage seam, is
// migrated in place by Open (see migrate.go for what changes).
//
// # Example
//
//	st, err := badger.Open(badger.Options{Dir: "/var/lib/hookgate"})
//	if err != nil { … }
//	defer st.Close()
//	var store gateway.Store = st
//	res, err := store.Append(ctx, &gateway.Append{Event: ev, Deliveries: ds})
//	// res.Seq is the event's place in the log; ds are durable and queued.
package badger

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger/internal/kv"
)

var _ gateway.Store = (*Store)(nil)

// Options configures Open. The zero value with Dir set is a sensible production setup.
type Options struct {
	// Dir is the data folder. Required unless InMemory is set.
	Dir string
	// InMemory keeps everything in memory (no durability; values over 32 KiB are refused
	// with gateway.ErrTooLarge); for throwaway use. The memory backend (queue/memory) is faster.
	InMemory bool
	// BlockCacheMiB is Badger's block cache; default 32.
	BlockCacheMiB int64
	// MemTableMiB is the size of one Badger memtable; default 16. It sets Headroom.
	MemTableMiB int64
	// NoSync turns off fsync on commit. Only for benchmarks that measure the difference.
	NoSync bool
	// MaxBatch caps how many writes share one transaction; default 512.
	MaxBatch int
	// MemJobs caps how many queued deliveries are held in memory for leasing; default
	// 16384. The rest stay on disk and are read in due order as memory frees up.
	MemJobs int
	// Logger receives Badger's warnings and the store's own; default slog.Default().
	Logger *slog.Logger
	// OnCommit, when set, is told how long each group commit took (one Badger transaction
	// and its fsync, shared by the writes batched into it), for the store commit duration
	// metric. It is called from the single writer and must not block.
	OnCommit func(time.Duration)
}

func (o Options) kv() kv.Options {
	return kv.Options{Dir: o.Dir, InMemory: o.InMemory, BlockCacheMiB: o.BlockCacheMiB,
		MemTableMiB: o.MemTableMiB, NoSync: o.NoSync, MaxBatch: o.MaxBatch, MemJobs: o.MemJobs,
		Logger: o.Logger, OnCommit: o.OnCommit}
}

// Store is an open Badger store. All methods are safe for concurrent use.
type Store struct {
	db     *kv.DB
	opts   Options
	log    *slog.Logger
	closed atomic.Bool
	// reading is held (shared) by every read of the database, and taken by Close once
	// closed is set, so that Badger is never read while, or after, it closes.
	reading sync.RWMutex

	appended signal

	endpoints    *records[*gateway.Endpoint]
	sources      *records[*gateway.Source]
	eventTypes   *records[*gateway.EventTypeRecord]
	keys         *records[*gateway.APIKey]
	oauthClients *records[*gateway.OAuthClient]
	grants       *records[*gateway.Grant]

	reqMu    sync.Mutex
	reqStats map[string]*logStats // per source, see LogRequest

	trimMu   sync.Mutex
	trimFrom gateway.Seq // where the next Trim resumes its scan (0: the oldest event)
}

// Open opens (or creates) the store in opts.Dir.
func Open(opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	db, err := kv.Open(opts.kv())
	if err != nil {
		return nil, fmt.Errorf("badger store: %w", err)
	}
	s := &Store{db: db, opts: opts, log: opts.Logger, reqStats: map[string]*logStats{}}
	s.appended.init()
	s.endpoints = newRecords[*gateway.Endpoint](s, "ep/")
	s.sources = newRecords[*gateway.Source](s, "src/")
	s.eventTypes = newRecords[*gateway.EventTypeRecord](s, "et/")
	s.keys = newRecords[*gateway.APIKey](s, "key/")
	s.oauthClients = newRecords[*gateway.OAuthClient](s, "oac/")
	s.grants = newRecords[*gateway.Grant](s, "oag/")
	if err := s.checkFormat(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Close waits for writes under way, then closes the database. Every method fails with an
// error wrapping gateway.ErrClosed afterwards (Hold and Release do nothing, NextDue reports
// nothing, Watch channels are closed); a second Close returns nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.reading.Lock() // reads under way end; later ones see closed
	defer s.reading.Unlock()
	s.endpoints.hub.closeAll()
	s.sources.hub.closeAll()
	s.eventTypes.hub.closeAll()
	s.keys.hub.closeAll()
	s.oauthClients.hub.closeAll()
	s.grants.hub.closeAll()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("badger store: close: %w", err)
	}
	return nil
}

// Dir is the data folder ("" for an in-memory store). With Headroom it is what the
// gateway's free-space guard measures: it checks for interface{ Dir() string; Headroom() uint64 }.
func (s *Store) Dir() string {
	if s.opts.InMemory {
		return ""
	}
	return s.opts.Dir
}

// Headroom is the free space, in bytes, the store needs on its volume for Badger's own work
// (memtable flushes, a level-0 compaction, a reopen) when no new data comes in. The
// gateway's free-space watermark is never set below it by default.
func (s *Store) Headroom() uint64 { return kv.Headroom(s.opts.kv()) }

// Headroom is Store.Headroom for a store opened with opts, before it is opened.
func Headroom(opts Options) uint64 { return kv.Headroom(opts.kv()) }

// OpenSpace is the free space, in bytes, Open needs in dir to come up without writing into
// an unbacked memory-mapped page (which is a SIGBUS in Badger, not an error): the memtable
// logs a previous run left, which Open replays, plus its fixed needs. A caller on a volume
// with less free should wait for space rather than Open.
func OpenSpace(dir string) (uint64, error) {
	n, err := kv.OpenSpace(dir)
	if err != nil {
		return 0, fmt.Errorf("badger store: %w", err)
	}
	return n, nil
}

// ErrLocked is returned (wrapped) by Open when the data folder is open in another process,
// such as a running hookgate serve: Badger allows one writer per folder.
var ErrLocked = kv.ErrLocked

// Usage is the size of a store's data folder: the sum of its files' lengths (Apparent,
// what ls shows) and the disk space they occupy (Allocated, what du shows; Badger's logs
// are sparse, so this is the smaller and the one that fills the volume).
type Usage = kv.Usage

// DiskUsage measures the data folder dir of a store, open or not.
func DiskUsage(dir string) (Usage, error) {
	u, err := kv.DiskUsage(dir)
	if err != nil {
		return u, fmt.Errorf("badger store: %w", err)
	}
	return u, nil
}

// errClosed is what every method returns after Close.
var errClosed = fmt.Errorf("badger store: %w", gateway.ErrClosed)

// live returns an error wrapping gateway.ErrClosed after Close.
func (s *Store) live() error {
	if s.closed.Load() {
		return errClosed
	}
	return nil
}

// update runs fn in a write transaction of the engine (group committed), after checking
// that the store is open. The engine's errors become the gateway's sentinels: a write too
// large for one Badger transaction wraps gateway.ErrTooLarge.
func (s *Store) update(ctx context.Context, fn func(tx *kv.Txn) error) error {
	return s.commit(ctx, fn, s.db.Update)
}

// updateLazy is update through kv's UpdateLazy: as durable when it returns, but its commit
// may wait a moment to share an fsync.
func (s *Store) updateLazy(ctx context.Context, fn func(tx *kv.Txn) error) error {
	return s.commit(ctx, fn, s.db.UpdateLazy)
}

func (s *Store) commit(ctx context.Context, fn func(tx *kv.Txn) error, how func(context.Context, func(*kv.Txn) error) error) error {
	if err := s.live(); err != nil {
		return err
	}
	err := how(ctx, fn)
	switch {
	case errors.Is(err, kv.ErrClosed):
		return errClosed
	case errors.Is(err, kv.ErrTooLarge):
		return fmt.Errorf("%w: %w", gateway.ErrTooLarge, err)
	}
	return err
}

// view runs fn in a read-only snapshot, after checking that the store is open.
func (s *Store) view(fn func(r *kv.Reader) error) error {
	return s.read(func() error { return s.db.View(fn) })
}

// read runs fn, which reads the database, unless the store is closed (or closing).
func (s *Store) read(fn func() error) error {
	s.reading.RLock()
	defer s.reading.RUnlock()
	if err := s.live(); err != nil {
		return err
	}
	return fn()
}

// signal is a broadcast: a channel closed and replaced on each notify.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

func (g *signal) init() { g.ch = make(chan struct{}) }

// wait returns the channel the next notify closes.
func (g *signal) wait() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ch
}

// notify wakes every waiter.
func (g *signal) notify() {
	g.mu.Lock()
	close(g.ch)
	g.ch = make(chan struct{})
	g.mu.Unlock()
}

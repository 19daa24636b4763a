// Package kv is the engine under queue/badger: records (keys and bytes) and a due-time
// ordered job queue, both in one embedded Badger database, written with group commit.
//
// It knows nothing of events or endpoints (queue/badger lays those out in keys): callers choose their own keys and encode their own
// values. What it adds to Badger is what a webhook gateway needs from its store:
//
//   - Update batches concurrent writers into one Badger transaction and one fsync (group
//     commit), and returns to each caller only after that fsync: a 2xx built on a returned
//     Update is durable.
//   - Jobs (Schedule, Unschedule) live in the same transactions as records, so "this event
//     and its deliveries exist" and "these deliveries are queued" are never out of step. A job
//     is one key, _q/<due><id> → data, in due order; the caller names a job it moves or
//     removes by id and due time (queue/badger has both in the delivery record), so queueing
//     a job writes one key and finishing it deletes one, without a read.
//   - Lease hands out due jobs from memory; freshly committed jobs go straight there, and the
//     disk index is read only for backlogs and after a restart, from a cursor (never rescanned
//     from zero), so deleted keys awaiting compaction are not walked again and again.
//   - Leases are kept in memory with an expiry: a job whose worker died (or whose process
//     died: leases do not survive a restart) is handed out again.
//
// # Example
//
//	db, err := kv.Open(kv.Options{Dir: dir})
//	if err != nil { … }
//	defer db.Close()
//	err = db.Update(ctx, func(tx *kv.Txn) error {
//		tx.Set([]byte("ev/1"), body)
//		tx.Schedule("dlv_1", time.Now(), nil)
//		return nil
//	})
//	for _, job := range db.Lease(time.Now(), 64, time.Minute) {
//		// … deliver, then:
//		_ = db.Update(ctx, func(tx *kv.Txn) error { tx.Unschedule(job.ID, job.Due); return nil })
//	}
//
// Keys that start with "_" are the queue's own: _q/ the job index. Folders written before
// Unschedule took a job's due time also hold a pointer per job, _j/<id> → due; Open deletes
// them.
package kv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/skl"
)

// ErrNotFound is returned by Get when a key does not exist.
var ErrNotFound = errors.New("queue: key not found")

// Values at least valueThreshold bytes long are kept in Badger's value log, out of the LSM
// tree: an event's or a delivery's record is written once, appended to the log, and its key
// holds a 12-byte pointer through every memtable flush and compaction. With the records in
// the tree, each memtable held a few thousand 1 KiB events (a few hundred of 16 KiB) before
// it was flushed, and every flush and compaction copied their bytes again: at 16 KiB that
// was most of the CPU spent per event (655 deliveries/s against 1,650/s with them in the
// log, same machine), and at a steady 3,000 events/s of 1 KiB the flushes and compactions
// were what kept the rate from holding (2,800/s reached, p99 80-120 ms with events alone in
// the log; 3,000/s held, p99 29-35 ms with the ~320-byte JSON delivery records there too).
// The tree keeps the index and queue entries (keys, mostly without values) and the small
// records: since delivery records are binary (~120 bytes for a new one), they are among
// them, and 3,000/s holds with p99 27-33 ms (queue/badger's layout 4).
//
// The price is space: a record replaced or deleted stays in the log until compactions have
// counted it as garbage and the log's GC (gcLoop) rewrites its file.
//
// In memory (Options.InMemory) there is no value log: Badger refuses values of at least
// the threshold, so that store keeps the larger inMemoryValueThreshold.
const (
	valueThreshold         = 256
	inMemoryValueThreshold = 32 << 10
)

// Value-log space: a deleted value's bytes in the value log are reclaimed only when Badger
// rewrites (GC) the log file holding them, which it does for a file that is not the one
// being written and of which at least gcDiscardRatio is garbage, as the LSM compactions
// that drop the deleted keys report. Files of valueLogFileMiB fill in a few minutes under a
// steady load of large events, and gcLoop looks every gcEvery, so that space comes back
// within minutes of retention deleting the events: with 256 MiB files and a GC every 5
// minutes, a steady 2 MB/s of 40 KB events grew the folder by 1 GiB in 10 minutes.
const (
	valueLogFileMiB = 64
	gcEvery         = time.Minute
	gcDiscardRatio  = 0.5
)

// ErrClosed is returned by Update after Close.
var ErrClosed = errors.New("queue: closed")

// ErrTooLarge is returned by Update when one transaction's writes exceed what a single
// Badger transaction can hold.
var ErrTooLarge = errors.New("queue: transaction too large")

// ErrLocked is returned by Open when another process (or another Open in this one) has
// the directory open: Badger locks it for its one writer.
var ErrLocked = errors.New("queue: the directory is in use by another process")

// Options configures Open. The zero value (with Dir set) is a sensible production setup.
type Options struct {
	// Dir is the data folder. Required unless InMemory is set.
	Dir string
	// InMemory keeps everything in memory (no durability); only for throwaway use. Badger
	// then refuses values over 32 KiB: Update fails with ErrTooLarge.
	InMemory bool
	// BlockCacheMiB is Badger's block cache size; default 32. Badger's own default (256)
	// dominates memory for no gain on this workload.
	BlockCacheMiB int64
	// MemTableMiB is the size of one Badger memtable; default 16. Larger memtables mean
	// fewer flushes and compactions (less CPU per event), but up to NumMemtables of them
	// live on the Go heap, and every flush builds a table of that size in memory.
	MemTableMiB int64
	// NoSync turns off fsync on commit. Only for benchmarks that measure the difference.
	NoSync bool
	// MaxBatch caps how many Update calls share one transaction; default 512.
	MaxBatch int
	// MemJobs caps how many queued jobs are held in memory for leasing; default 16384.
	// Jobs beyond it stay on disk and are read in order as memory frees up.
	MemJobs int
	// Logger receives Badger's warnings and the queue's own; default slog.Default().
	Logger *slog.Logger
	// LazyLinger is how long a batch of only UpdateLazy calls waits for another write to
	// share its commit; default 5 ms.
	LazyLinger time.Duration
	// OnCommit, when set, is called after each Badger transaction commits (or fails to),
	// with how long the commit took, fsync included; from the single writer, so it must
	// not block.
	OnCommit func(time.Duration)
}

// DB is an open store. All methods are safe for concurrent use.
type DB struct {
	bdb    *badger.DB
	opts   Options
	log    *slog.Logger
	reqs   chan *request
	stop   chan struct{}
	done   chan struct{}
	closed sync.Once

	// mu orders Update's send against Close: once closing is set no request can enter
	// reqs, so the committer's final drain sees every accepted request.
	mu      sync.RWMutex
	closing bool

	maxBatchBytes int64
	maxBatchCount int
	maxValue      int64 // largest value Badger accepts
	threshold     int64 // values at least this long go to the value log

	jobs   *jobIndex
	gcDone chan struct{}
}

// request is one Update waiting for the committer.
type request struct {
	fn   func(tx *Txn) error
	done chan error
	lazy bool // may wait up to Options.LazyLinger for other writes to share its commit
}

// defaultLazyLinger is how long a batch of only UpdateLazy calls waits for company
// (another Update, or a full batch) before it commits alone: a few publishes' worth at a
// steady 1,000/s, and little next to an attempt's round trip.
const defaultLazyLinger = 5 * time.Millisecond

// Open opens (or creates) the store in opts.Dir and starts its committer goroutine, which
// Close ends.
func Open(opts Options) (*DB, error) {
	if opts.Dir == "" && !opts.InMemory {
		return nil, errors.New("queue: Options.Dir is required")
	}
	if opts.BlockCacheMiB <= 0 {
		opts.BlockCacheMiB = 32
	}
	if opts.MemTableMiB <= 0 {
		opts.MemTableMiB = defaultMemTableMiB
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 512
	}
	if opts.MemJobs <= 0 {
		opts.MemJobs = 16384
	}
	if opts.LazyLinger <= 0 {
		opts.LazyLinger = defaultLazyLinger
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	threshold := int64(valueThreshold)
	if opts.InMemory {
		threshold = inMemoryValueThreshold
	}
	bo := badger.DefaultOptions(opts.Dir).
		WithInMemory(opts.InMemory).
		WithSyncWrites(!opts.NoSync && !opts.InMemory).
		WithBlockCacheSize(opts.BlockCacheMiB << 20).
		WithIndexCacheSize(16 << 20).
		WithMemTableSize(opts.MemTableMiB << 20).
		WithNumMemtables(numMemtables).
		// Every table Badger builds (a flush, each output of a compaction) allocates a 3 MiB
		// index builder whatever its size: 1 MiB tables made that a fifth of all the bytes
		// allocated per event.
		WithBaseTableSize(2 << 20).
		WithBaseLevelSize(baseLevelSize).
		WithNumLevelZeroTables(3).
		WithNumLevelZeroTablesStall(numL0TablesStall).
		WithNumCompactors(2).
		WithValueLogFileSize(valueLogFileMiB << 20).
		WithValueThreshold(threshold).
		WithCompression(options.None).
		WithDetectConflicts(false). // one committer goroutine is the only writer
		WithMetricsEnabled(false).
		WithLogger(badgerLogger{opts.Logger})
	if opts.InMemory {
		bo.Dir, bo.ValueDir = "", ""
	}
	bdb, err := badger.Open(bo)
	if err != nil {
		// Badger flattens the flock error into its message (%+v): its words are all there is.
		if strings.Contains(err.Error(), "Cannot acquire directory lock") {
			return nil, fmt.Errorf("open badger in %q: %w (%v)", opts.Dir, ErrLocked, err)
		}
		return nil, fmt.Errorf("open badger in %q: %w", opts.Dir, err)
	}
	// Badger refuses a transaction above 15% of a memtable, or with more entries than that
	// many bytes hold skiplist nodes (96 bytes); stay 10% below both so that a batch never
	// hits a limit halfway through a caller's writes.
	maxBytes := opts.MemTableMiB << 20 * 15 / 100
	db := &DB{
		bdb:           bdb,
		opts:          opts,
		log:           opts.Logger,
		reqs:          make(chan *request, opts.MaxBatch),
		stop:          make(chan struct{}),
		done:          make(chan struct{}),
		maxBatchBytes: maxBytes * 9 / 10,
		maxBatchCount: int(maxBytes/int64(skl.MaxNodeSize)) * 9 / 10,
		maxValue:      bo.ValueLogFileSize,
		threshold:     threshold,
	}
	if opts.InMemory {
		db.maxValue = bo.ValueThreshold
	}
	db.jobs = newJobIndex(db, opts.MemJobs)
	go db.commitLoop()
	if !opts.InMemory {
		db.gcDone = make(chan struct{})
		go db.gcLoop()
	}
	n, err := db.dropJobPointers()
	if err != nil {
		db.Close()
		return nil, err
	}
	if n > 0 {
		db.log.Info("deleted the job pointers an older version kept", "keys", n, "dir", opts.Dir)
	}
	return db, nil
}

// dropPointersBatch caps how many job pointers one of dropJobPointers' transactions deletes.
const dropPointersBatch = 4096

// dropJobPointers deletes every job pointer (_j/<id> → due) that a store written before
// Unschedule took a job's due time kept beside each job, and reports how many it deleted.
// Nothing reads them any more; left in place they would keep their space for good. It
// deletes in batches of a few thousand, each its own transaction well within Badger's
// limits, and a crash part way leaves the rest to the next Open.
func (db *DB) dropJobPointers() (int, error) {
	maxCount := min(dropPointersBatch, db.maxBatchCount/2)
	maxBytes := db.maxBatchBytes / 2
	n := 0
	start := jobPtrPrefix
	for {
		var (
			keys [][]byte
			size int64
		)
		err := db.View(func(r *Reader) error {
			return r.Scan(jobPtrPrefix, start, false, func(k, _ []byte) (bool, error) {
				keys = append(keys, bytes.Clone(k))
				size += int64(len(k)) + 16 // as Txn.size counts a delete
				return len(keys) < maxCount && size < maxBytes, nil
			})
		})
		if err == nil && len(keys) > 0 {
			err = db.Update(context.Background(), func(tx *Txn) error {
				for _, k := range keys {
					tx.write(op{key: k, del: true})
				}
				return nil
			})
		}
		if err != nil {
			return n, fmt.Errorf("delete the job pointers of an older version in %q: %w", db.opts.Dir, err)
		}
		if len(keys) == 0 {
			return n, nil
		}
		n += len(keys)
		start = append(keys[len(keys)-1], 0)
	}
}

// Close waits for pending Updates to commit, then closes the database. Lease and Update
// must not be called after Close.
func (db *DB) Close() error {
	var err error
	db.closed.Do(func() {
		db.mu.Lock()
		db.closing = true
		db.mu.Unlock()
		close(db.stop)
		<-db.done
		if db.gcDone != nil {
			<-db.gcDone
		}
		err = db.bdb.Close()
	})
	return err
}

// Update runs fn in a read-write transaction and returns once the transaction is committed
// and fsync'd, or with fn's error (then none of fn's writes happen). Concurrent Updates
// share one Badger transaction and one fsync (group commit).
//
// fn runs on the committer goroutine: it must be quick and must not call Update or View.
// It may run more than once (if a batch must be split), so it must not have side effects
// beyond tx. Reads in fn see everything committed before, including earlier callers in the
// same batch, and fn's own writes through Get (not through Scan). If fn panics, nothing is
// written and the panic is raised again in Update's caller.
//
// Update fails with ErrTooLarge, writing nothing, when fn's writes cannot fit in one Badger
// transaction; with ErrClosed after Close; and with ctx's error if ctx ends before the
// transaction is queued (once queued, it is committed and Update waits for it).
func (db *DB) Update(ctx context.Context, fn func(tx *Txn) error) error {
	return db.update(ctx, &request{fn: fn})
}

// UpdateLazy is Update for a write that need not be durable at once, such as recording a
// finished attempt (losing it in a crash only repeats the attempt): it returns, like
// Update, once its transaction is committed and fsync'd, but a batch of only lazy writes
// waits up to Options.LazyLinger for other writes (a publish) to share its commit and fsync, so
// that under a steady load a completion costs no fsync of its own.
func (db *DB) UpdateLazy(ctx context.Context, fn func(tx *Txn) error) error {
	return db.update(ctx, &request{fn: fn, lazy: true})
}

func (db *DB) update(ctx context.Context, r *request) error {
	if ctx.Err() != nil {
		return fmt.Errorf("queue update: %w", context.Cause(ctx))
	}
	r.done = make(chan error, 1)
	db.mu.RLock()
	if db.closing {
		db.mu.RUnlock()
		return ErrClosed
	}
	select {
	case db.reqs <- r:
		db.mu.RUnlock()
	case <-ctx.Done():
		db.mu.RUnlock()
		return fmt.Errorf("queue update: %w", context.Cause(ctx))
	}
	// Once queued, the write will happen: wait for it so the caller learns the truth.
	err := <-r.done
	if p, ok := err.(*fnPanic); ok {
		panic(p)
	}
	return err
}

// fnPanic carries a panic in an Update's fn from the committer goroutine to Update's caller,
// with the stack where it happened.
type fnPanic struct {
	value any
	stack []byte
}

func (p *fnPanic) Error() string {
	return fmt.Sprintf("queue: panic in Update: %v\n\n%s", p.value, p.stack)
}

// Unwrap returns the panic value if it is an error.
func (p *fnPanic) Unwrap() error {
	err, _ := p.value.(error)
	return err
}

// View runs fn in a read-only snapshot of everything committed.
func (db *DB) View(fn func(r *Reader) error) error {
	return db.bdb.View(func(btx *badger.Txn) error { return fn(&Reader{btx: btx}) })
}

// commitLoop is the single writer. Started by Open, ended by Close (after draining).
func (db *DB) commitLoop() {
	defer close(db.done)
	batch := make([]*request, 0, db.opts.MaxBatch)
	stopping := false
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for {
		batch = batch[:0]
		if !stopping {
			select {
			case r := <-db.reqs:
				batch = append(batch, r)
			case <-db.stop:
				// Drain what was accepted before Close, in batches; nothing more can arrive.
				stopping = true
			}
		}
		db.fill(&batch)
		if len(batch) == 0 && stopping {
			return
		}
		if !stopping && onlyLazy(batch) {
			stopping = db.keepCompany(&batch, linger)
		}
		db.commit(batch)
	}
}

// fill adds the requests already queued to batch, up to Options.MaxBatch, without waiting.
func (db *DB) fill(batch *[]*request) {
	for len(*batch) < db.opts.MaxBatch {
		select {
		case r := <-db.reqs:
			*batch = append(*batch, r)
		default:
			return
		}
	}
}

// onlyLazy reports whether every request of batch came from UpdateLazy.
func onlyLazy(batch []*request) bool {
	for _, r := range batch {
		if !r.lazy {
			return false
		}
	}
	return true
}

// keepCompany adds requests to a batch of lazy ones until one that is not lazy arrives (and
// what is queued behind it), the batch is full, or Options.LazyLinger has passed. It reports
// whether Close began meanwhile.
func (db *DB) keepCompany(batch *[]*request, linger *time.Timer) (stopping bool) {
	linger.Reset(db.opts.LazyLinger)
	defer linger.Stop()
	for len(*batch) < db.opts.MaxBatch {
		select {
		case r := <-db.reqs:
			*batch = append(*batch, r)
			if !r.lazy {
				db.fill(batch)
				return false
			}
		case <-linger.C:
			return false
		case <-db.stop:
			return true
		}
	}
	return false
}

// commit runs a batch of requests in as few Badger transactions as their size allows.
func (db *DB) commit(batch []*request) {
	btx := db.bdb.NewTransaction(true)
	var (
		applied []*request
		txns    []*Txn
		size    int64
		count   int
	)
	flush := func() {
		if len(applied) == 0 {
			btx.Discard()
			return
		}
		for _, tx := range txns {
			db.jobs.begin(tx.jobOps)
		}
		began := time.Now()
		err := btx.Commit()
		if db.opts.OnCommit != nil {
			db.opts.OnCommit(time.Since(began))
		}
		if err == nil {
			for _, tx := range txns {
				db.jobs.apply(tx.jobOps)
			}
			for _, tx := range txns {
				for _, f := range tx.onCommit {
					f()
				}
			}
		} else {
			for _, tx := range txns {
				db.jobs.settle(tx.jobOps, false)
			}
			err = fmt.Errorf("queue commit: %w", err)
		}
		for _, r := range applied {
			r.done <- err
		}
		applied, txns, size, count = nil, nil, 0, 0
	}
	for _, r := range batch {
		tx, s, c, err := db.run(r, btx)
		if err != nil {
			r.done <- err
			continue
		}
		if size+s > db.maxBatchBytes || count+c > db.maxBatchCount {
			flush()
			btx = db.bdb.NewTransaction(true)
			// fn read through the old transaction; run it again against the new one.
			if tx, s, c, err = db.run(r, btx); err != nil {
				r.done <- err
				continue
			}
		}
		if err := tx.applyTo(btx); err != nil {
			// Should not happen given the size checks; fail this request alone.
			btx.Discard()
			for _, a := range applied {
				a.done <- fmt.Errorf("queue commit: %w", err)
			}
			r.done <- fmt.Errorf("queue commit: %w", err)
			applied, txns, size, count = nil, nil, 0, 0
			btx = db.bdb.NewTransaction(true)
			continue
		}
		applied = append(applied, r)
		txns = append(txns, tx)
		size += s
		count += c
	}
	flush()
}

// run calls r.fn with a new Txn that reads through btx and checks that its writes fit in one
// Badger transaction. A panic in fn comes back as a *fnPanic error.
func (db *DB) run(r *request, btx *badger.Txn) (tx *Txn, size int64, count int, err error) {
	tx = &Txn{Reader: Reader{btx: btx}, ops: make([]op, 0, shortTxn)}
	defer func() {
		if v := recover(); v != nil {
			tx, err = nil, &fnPanic{value: v, stack: debug.Stack()}
		}
	}()
	if err := r.fn(tx); err != nil {
		return nil, 0, 0, err
	}
	if err := tx.check(db.maxValue); err != nil {
		return nil, 0, 0, err
	}
	size, count = tx.size(db.threshold)
	if size > db.maxBatchBytes || count > db.maxBatchCount {
		return nil, 0, 0, fmt.Errorf("%w: %d bytes in %d writes (at most %d bytes, %d writes)",
			ErrTooLarge, size, count, db.maxBatchBytes, db.maxBatchCount)
	}
	return tx, size, count, nil
}

// gcLoop reclaims value-log space every gcEvery: it rewrites log files until none is at
// least gcDiscardRatio garbage. Started by Open, ended by Close.
func (db *DB) gcLoop() {
	defer close(db.gcDone)
	t := time.NewTicker(gcEvery)
	defer t.Stop()
	for {
		select {
		case <-db.stop:
			return
		case <-t.C:
			for db.bdb.RunValueLogGC(gcDiscardRatio) == nil {
				select {
				case <-db.stop:
					return
				default:
				}
			}
		}
	}
}

// badgerLogger sends Badger's log lines to slog, dropping its chatty info and debug output.
// Badger's once-a-minute advice that its block or index cache "might be too small" (a hit
// ratio under 40 % with entries living under 10 s) goes to debug: the caches are small on
// purpose (see Options.BlockCacheMiB), most reads are of records written moments before
// (still in a memtable) or of the value log, and the advice came as two multi-line
// warnings every minute of a steady load.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error(fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Warningf(f string, a ...any) {
	level := slog.LevelWarn
	if strings.Contains(f, "might be too small") || strings.HasPrefix(f, "Cache life expectancy") {
		level = slog.LevelDebug
	}
	b.l.Log(context.Background(), level, fmt.Sprintf(f, a...), "component", "badger")
}
func (b badgerLogger) Infof(string, ...any)  {}
func (b badgerLogger) Debugf(string, ...any) {}

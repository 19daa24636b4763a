package kv

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/google/btree"
)

// Job is a unit of work due at a time. ID is the caller's (for hookgate, a delivery id);
// Data is small opaque bytes the caller wants back with the job.
type Job struct {
	ID   string
	Due  time.Time
	Data []byte
}

// jobKeyPrefix starts the job index: one key per queued job, _q/<due ns, 8 bytes
// big-endian><id> → data, in due order. It is the only record of a job: a caller that moves
// or removes a job names it by its id and its due time (Unschedule), as queue/badger does
// from the delivery record that scheduled it, so no pointer from id to due is kept.
var jobKeyPrefix = []byte("_q/")

// jobPtrPrefix started the pointers (_j/<id> → due ns) that stores written before
// Unschedule took a job's due time kept beside every job. Nothing writes or reads them now;
// Open deletes those it finds (dropJobPointers).
var jobPtrPrefix = []byte("_j/")

func jobKey(due int64, id string) []byte {
	k := make([]byte, 0, len(jobKeyPrefix)+8+len(id))
	k = append(k, jobKeyPrefix...)
	k = binary.BigEndian.AppendUint64(k, uint64(due))
	return append(k, id...)
}

func parseJobKey(k []byte) (due int64, id string, ok bool) {
	if len(k) < len(jobKeyPrefix)+8 || !bytes.HasPrefix(k, jobKeyPrefix) {
		return 0, "", false
	}
	rest := k[len(jobKeyPrefix):]
	return int64(binary.BigEndian.Uint64(rest[:8])), string(rest[8:]), true
}

// dueNanos is t in Unix nanoseconds, clamped to what the index can order: job keys hold due
// times as unsigned big-endian bytes, so a negative one (before 1970, or the overflow that
// UnixNano returns outside 1678–2262) would sort after every other job on disk while comparing
// before them in memory.
func dueNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// JobDue is the due time of a job scheduled at t, as Lease and ScanJobs report it: t, held
// between 1970 and 2262 (see Schedule).
func JobDue(t time.Time) time.Time { return time.Unix(0, dueNanos(t)) }

// jobOp is a change to the queue made by a transaction, applied to memory after commit.
type jobOp struct {
	id   string
	due  int64
	data []byte
	done bool
}

// Schedule queues the job id to be due at due, with data. A due time before 1970, the zero
// Time included, means due at once (and reads back as 1970); one after 2262 is due in 2262.
//
// Schedule does not look for an earlier schedule of id on disk: a caller that moves a
// queued job (a retry) first removes it with Unschedule at the time it is due, then
// schedules it again. Within one transaction the last Schedule or Unschedule of an id wins:
// a job this transaction scheduled at another time is removed. Once committed, a scheduled
// job that was leased is no longer leased.
func (tx *Txn) Schedule(id string, due time.Time, data []byte) {
	d := dueNanos(due)
	tx.dropOwnJob(id, d)
	tx.write(op{key: jobKey(d, id), value: data})
	tx.addJobOp(jobOp{id: id, due: d, data: data})
}

// Unschedule removes the job id that is due at due (the time its Schedule was given),
// leased or not: finished, no longer wanted, or about to be scheduled again. Removing a job
// that does not exist is not an error.
//
// due must be the job's: a job of id queued at another time stays on disk (and is handed
// out again after a restart) even though the commit takes id out of the in-memory queue.
// A job this transaction scheduled is removed whatever due is given.
func (tx *Txn) Unschedule(id string, due time.Time) {
	d := dueNanos(due)
	tx.dropOwnJob(id, d)
	tx.write(op{key: jobKey(d, id), del: true})
	tx.addJobOp(jobOp{id: id, done: true})
}

// jobOpsScanned is how many job changes a transaction looks through for an earlier one of
// the same id before it indexes them by id (jobAt): a publish or a save changes one or a
// few, a backlog written in one transaction thousands.
const jobOpsScanned = 16

// addJobOp records o to be applied to memory after the commit.
func (tx *Txn) addJobOp(o jobOp) {
	tx.jobOps = append(tx.jobOps, o)
	switch {
	case tx.jobAt != nil:
		tx.jobAt[o.id] = len(tx.jobOps) - 1
	case len(tx.jobOps) > jobOpsScanned:
		tx.jobAt = make(map[string]int, 2*len(tx.jobOps))
		for i, o := range tx.jobOps {
			tx.jobAt[o.id] = i
		}
	}
}

// dropOwnJob deletes the job key of id that this transaction scheduled, if it scheduled
// one at a due time other than due (a key at due is about to be written over).
func (tx *Txn) dropOwnJob(id string, due int64) {
	i := -1
	if tx.jobAt != nil {
		if j, ok := tx.jobAt[id]; ok {
			i = j
		}
	} else {
		for j := len(tx.jobOps) - 1; j >= 0; j-- {
			if tx.jobOps[j].id == id {
				i = j
				break
			}
		}
	}
	if i < 0 || tx.jobOps[i].done || tx.jobOps[i].due == due {
		return
	}
	tx.write(op{key: jobKey(tx.jobOps[i].due, id), del: true})
}

// ScanJobs calls fn for each job queued on disk, leased ones included, in due order (the
// order Lease follows), until fn returns false or an error, and returns that error. Job's
// Data is valid only during the call. In a Txn it sees what is committed, not the
// transaction's own Schedule and Unschedule calls (as Scan). It reads the whole index: for
// a migration, a check or a test, not for a hot path.
func (r *Reader) ScanJobs(fn func(j Job) (bool, error)) error {
	return r.Scan(jobKeyPrefix, nil, false, func(k, v []byte) (bool, error) {
		due, id, ok := parseJobKey(k)
		if !ok {
			return true, nil
		}
		return fn(Job{ID: id, Due: time.Unix(0, due), Data: v})
	})
}

// memJob is a queued job held in memory.
type memJob struct {
	due  int64
	id   string
	data []byte
}

func lessJob(a, b *memJob) bool {
	if a.due != b.due {
		return a.due < b.due
	}
	return a.id < b.id
}

type lease struct {
	job     *memJob
	expires time.Time
}

// jobIndex is the in-memory side of the kv. Its invariant: every job on disk whose key
// sorts before horizon is either in tree or leased (when full, every job on disk is). Jobs at
// or after the horizon are read from disk, in key order, when the tree runs low.
type jobIndex struct {
	db     *DB
	max    int
	notify chan struct{}

	mu       sync.Mutex
	tree     *btree.BTreeG[*memJob]
	byID     map[string]*memJob
	leased   map[string]*lease
	leaseMin time.Time // no lease expires before this
	horizon  *memJob   // nil: start of the queue
	full     bool      // horizon is past the end: every job is in memory
	// beyond holds jobs committed since Open that sort at or after the horizon (at most
	// max/4), so LeaseIDs can hand them out ahead of the disk order; refill moves each into
	// the tree when it reads past it.
	beyond map[string]*memJob
	// committing counts, by job id, the job changes being committed to disk and not yet
	// applied here: refill must not load such a job from disk, or apply would then put it
	// back into the tree while a worker holds its lease, and it would be leased twice.
	committing map[string]int
}

func newJobIndex(db *DB, max int) *jobIndex {
	return &jobIndex{
		db:         db,
		max:        max,
		notify:     make(chan struct{}, 1),
		tree:       btree.NewG(32, lessJob),
		byID:       make(map[string]*memJob),
		leased:     make(map[string]*lease),
		beyond:     make(map[string]*memJob),
		committing: make(map[string]int),
	}
}

// below reports whether j sorts before the horizon, i.e. belongs in memory.
func (x *jobIndex) below(j *memJob) bool {
	return x.full || (x.horizon != nil && lessJob(j, x.horizon))
}

// insert puts j in the tree, evicting the latest jobs back to disk-only when over max.
func (x *jobIndex) insert(j *memJob) {
	if old, ok := x.byID[j.id]; ok {
		x.tree.Delete(old)
	}
	x.tree.ReplaceOrInsert(j)
	x.byID[j.id] = j
	for x.tree.Len() > x.max {
		m, _ := x.tree.DeleteMax()
		delete(x.byID, m.id)
		x.horizon, x.full = m, false
	}
}

func (x *jobIndex) remove(id string) {
	if old, ok := x.byID[id]; ok {
		x.tree.Delete(old)
		delete(x.byID, id)
	}
	delete(x.leased, id)
	delete(x.beyond, id)
}

// committing marks the jobs ops changes as being committed: refill skips them until apply
// (or settle, when the commit failed) runs. Called by the committer before the disk commit.
func (x *jobIndex) begin(ops []jobOp) {
	if len(ops) == 0 {
		return
	}
	x.mu.Lock()
	for _, o := range ops {
		x.committing[o.id]++
	}
	x.mu.Unlock()
}

// settle ends what begin marked, without applying it (the commit failed). Caller holds mu
// when locked is true.
func (x *jobIndex) settle(ops []jobOp, locked bool) {
	if len(ops) == 0 {
		return
	}
	if !locked {
		x.mu.Lock()
		defer x.mu.Unlock()
	}
	for _, o := range ops {
		if x.committing[o.id]--; x.committing[o.id] <= 0 {
			delete(x.committing, o.id)
		}
	}
}

// apply mirrors committed job changes in memory. Called by the committer after fsync.
func (x *jobIndex) apply(ops []jobOp) {
	if len(ops) == 0 {
		return
	}
	x.mu.Lock()
	x.settle(ops, true)
	for _, o := range ops {
		x.remove(o.id)
		if o.done {
			continue
		}
		j := &memJob{due: o.due, id: o.id, data: o.data}
		if x.below(j) {
			x.insert(j)
		} else if len(x.beyond) < x.max/4 {
			x.beyond[j.id] = j
		}
	}
	x.mu.Unlock()
	select {
	case x.notify <- struct{}{}:
	default:
	}
}

// refill reads jobs from the horizon on until it has added up to half of max to the tree, or
// reached the end of the kv. Jobs it finds leased or already in memory (whose commit is
// yet to be applied) don't count: however many of those lie past the horizon, a refill that
// stops short of the end adds at least one job. Caller holds mu.
func (x *jobIndex) refill() error {
	want := max(x.max/2-x.tree.Len(), 1)
	start := jobKeyPrefix
	if x.horizon != nil {
		start = jobKey(x.horizon.due, x.horizon.id)
	}
	var (
		loaded []*memJob
		next   *memJob
	)
	err := x.db.View(func(r *Reader) error {
		return r.Scan(jobKeyPrefix, start, false, func(k, v []byte) (bool, error) {
			due, id, ok := parseJobKey(k)
			if !ok {
				return true, nil
			}
			if _, leased := x.leased[id]; leased {
				return true, nil
			}
			if x.committing[id] > 0 {
				return true, nil // apply brings it in once its commit lands
			}
			if _, ok := x.byID[id]; ok {
				return true, nil
			}
			if len(loaded) >= want {
				next = &memJob{due: due, id: id}
				return false, nil
			}
			loaded = append(loaded, &memJob{due: due, id: id, data: bytes.Clone(v)})
			return true, nil
		})
	})
	if err != nil {
		return fmt.Errorf("refill job queue: %w", err)
	}
	x.horizon, x.full = next, next == nil
	for _, j := range loaded {
		delete(x.beyond, j.id) // in the tree from now on
		x.insert(j)
	}
	return nil
}

// Lease hands out up to max jobs due at or before now, each leased for ttl: until the lease
// expires (or the job is scheduled again, unscheduled or released) no other Lease returns it.
func (db *DB) Lease(now time.Time, max int, ttl time.Duration) ([]Job, error) {
	x := db.leasing(now)
	defer x.mu.Unlock()
	nowNS := now.UnixNano()
	var out []Job
	for len(out) < max {
		// The tree's first job is the first of the whole queue (everything on disk sorts
		// after it), so a refill is needed only when the tree is empty; doing it when the
		// tree runs low reads the disk in batches rather than once per job.
		if !x.full && x.tree.Len() <= x.max/4 {
			if err := x.refill(); err != nil {
				return out, err
			}
		}
		j, ok := x.tree.Min()
		if !ok || j.due > nowNS {
			break
		}
		x.tree.DeleteMin()
		delete(x.byID, j.id)
		out = append(out, x.lease(j, now, ttl))
	}
	return out, nil
}

// leasing locks the job index for a lease, after giving back the jobs whose leases ran out
// by now; the caller unlocks x.mu.
func (db *DB) leasing(now time.Time) *jobIndex {
	x := db.jobs
	x.mu.Lock()
	x.expire(now)
	return x
}

// lease hides j (out of the tree) until now+ttl and returns it as a Job. Caller holds mu.
func (x *jobIndex) lease(j *memJob, now time.Time, ttl time.Duration) Job {
	exp := now.Add(ttl)
	x.leased[j.id] = &lease{job: j, expires: exp}
	if x.leaseMin.IsZero() || exp.Before(x.leaseMin) {
		x.leaseMin = exp
	}
	return Job{ID: j.id, Due: time.Unix(0, j.due), Data: j.data}
}

// LeaseIDs leases those of ids that are queued in memory (the tree, or committed since
// Open beyond it), due at or before now and not leased, as Lease does, whatever older jobs
// are due: a caller that knows which jobs are fresh (a gateway, the deliveries of new
// events) gives them a share of its workers ahead of a backlog. A job only on disk, or
// not found, is skipped.
func (db *DB) LeaseIDs(now time.Time, ids []string, ttl time.Duration) []Job {
	x := db.leasing(now)
	defer x.mu.Unlock()
	nowNS := now.UnixNano()
	var out []Job
	for _, id := range ids {
		j, ok := x.byID[id]
		if !ok {
			j, ok = x.beyond[id]
		}
		if !ok || j.due > nowNS {
			continue
		}
		x.remove(id)
		out = append(out, x.lease(j, now, ttl))
	}
	return out
}

// expire returns jobs whose lease ran out to the kv. Caller holds mu.
func (x *jobIndex) expire(now time.Time) {
	if x.leaseMin.IsZero() || now.Before(x.leaseMin) {
		return
	}
	x.leaseMin = time.Time{}
	for id, l := range x.leased {
		if now.Before(l.expires) {
			if x.leaseMin.IsZero() || l.expires.Before(x.leaseMin) {
				x.leaseMin = l.expires
			}
			continue
		}
		delete(x.leased, id)
		if x.below(l.job) {
			x.insert(l.job)
		}
	}
}

// Release gives a leased job back without changing it, so it can be leased again at once.
func (db *DB) Release(id string) {
	x := db.jobs
	x.mu.Lock()
	defer x.mu.Unlock()
	l, ok := x.leased[id]
	if !ok {
		return
	}
	delete(x.leased, id)
	if x.below(l.job) {
		x.insert(l.job)
	}
	select {
	case x.notify <- struct{}{}:
	default:
	}
}

// Hold keeps a leased job from every Lease until until, by extending its lease, without
// touching the job on disk: a dispatcher backs off this way from an error it could not
// record (a store that fails, a record it can't read). After a restart the job is due at
// its stored time again. A job that is not leased is left alone.
func (db *DB) Hold(id string, until time.Time) {
	x := db.jobs
	x.mu.Lock()
	defer x.mu.Unlock()
	l, ok := x.leased[id]
	if !ok {
		return
	}
	l.expires = until
	if x.leaseMin.IsZero() || until.Before(x.leaseMin) {
		x.leaseMin = until
	}
	select {
	case x.notify <- struct{}{}:
	default:
	}
}

// NextDue reports when Lease may next return something: the earliest of the first due job
// and the first lease expiry. ok is false when the queue is empty and nothing is leased.
// It reads every lease (leaseMin may be early: a lease ended by Unschedule or Schedule, or
// extended by Hold), which costs little next to the attempts a dispatcher has in flight.
func (db *DB) NextDue(now time.Time) (time.Time, bool) {
	x := db.jobs
	x.mu.Lock()
	defer x.mu.Unlock()
	if !x.full && x.tree.Len() == 0 {
		if err := x.refill(); err != nil {
			return now, true // Lease will report the error
		}
	}
	x.leaseMin = time.Time{}
	for _, l := range x.leased {
		if x.leaseMin.IsZero() || l.expires.Before(x.leaseMin) {
			x.leaseMin = l.expires
		}
	}
	var next time.Time
	if j, ok := x.tree.Min(); ok {
		next = time.Unix(0, j.due)
	}
	if !x.leaseMin.IsZero() && (next.IsZero() || x.leaseMin.Before(next)) {
		next = x.leaseMin
	}
	return next, !next.IsZero()
}

// Wake returns a channel that receives a value whenever jobs are scheduled or released; a
// dispatcher waits on it (and on a timer to NextDue) between Leases.
func (db *DB) Wake() <-chan struct{} { return db.jobs.notify }

// Len reports how many jobs are queued (including leased ones), counting the disk index.
func (db *DB) Len() (int, error) {
	n := 0
	err := db.View(func(r *Reader) error {
		return r.Scan(jobKeyPrefix, nil, false, func(k, v []byte) (bool, error) {
			n++
			return true, nil
		})
	})
	return n, err
}

// Backlog counts the queued jobs (leased and held ones included: a job stays queued until
// Unscheduled) by their Data, and reports the earliest due time among them (zero when none is
// queued). It is one pass over the disk index in due order.
func (db *DB) Backlog() (map[string]int, time.Time, error) {
	counts := map[string]*int{}
	var oldest time.Time
	err := db.View(func(r *Reader) error {
		return r.Scan(jobKeyPrefix, nil, false, func(k, v []byte) (bool, error) {
			if oldest.IsZero() {
				if due, _, ok := parseJobKey(k); ok {
					oldest = time.Unix(0, due)
				}
			}
			p := counts[string(v)] // a lookup, without allocating the key
			if p == nil {
				p = new(int)
				counts[string(v)] = p
			}
			*p++
			return true, nil
		})
	})
	out := make(map[string]int, len(counts))
	for k, p := range counts {
		out[k] = *p
	}
	return out, oldest, err
}

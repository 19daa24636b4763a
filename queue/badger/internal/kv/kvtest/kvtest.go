// Package kvtest is the contract of the kv engine (queue/badger's key-value layer), in the
// manner of testing/fstest: kv's own test calls Run with a function that opens it on a
// folder, and Run checks the behaviour queue/badger relies on — records, group commit, jobs
// and their leases, what survives a Close and reopen, oversized transactions, and Close.
//
// The contract is about behaviour, not about how a backend gets there: nothing here looks at
// keys a backend keeps for itself, at batch sizes, or at what a backend holds in memory. The
// lease clock is the now passed to Lease, so lease expiry is tested by passing a later now,
// never by sleeping; only SetTTL and Wake are checked against the wall clock, by polling.
//
// # Example
//
//	func TestBadger(t *testing.T) {
//		kvtest.Run(t, func(t *testing.T, dir string) *kv.DB {
//			db, err := kv.Open(kv.Options{Dir: dir})
//			if err != nil {
//				t.Fatalf("Open(%q): %v", dir, err)
//			}
//			return db
//		})
//	}
package kvtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/queue/badger/internal/kv"
	"github.com/hookgate/hookgate/queue/queuetest"
)

// base is the origin of every due time in the suite. Jobs are leased with an explicit now, so
// it does not matter that base is in the past.
var base = time.Unix(1_700_000_000, 0)

// Run checks the backend that open returns against the contract, in subtests.
//
// open must open (or create) a store in dir and fail t if it cannot. Run calls it with a fresh
// t.TempDir() for each subtest, and again on the same dir to check what survives a Close. Run
// closes every DB it opens, sometimes more than once: a second Close must return at once.
// A backend whose behaviour depends on its configuration (how many jobs it holds in memory,
// say) should run the suite once per configuration that matters.
func Run(t *testing.T, open func(t *testing.T, dir string) *kv.DB) {
	s := &suite{open: open}
	t.Run("Records", s.testRecords)
	t.Run("Scan", s.testScan)
	t.Run("FailedUpdateWritesNothing", s.testFailedUpdate)
	t.Run("CanceledContextWritesNothing", s.testCanceledContext)
	t.Run("PanicInUpdate", s.testPanic)
	t.Run("TxnSeesOwnWrites", s.testOwnWrites)
	t.Run("BatchSeesEarlierWrites", s.testEarlierWrites)
	t.Run("GroupCommit", s.testGroupCommit)
	t.Run("TTL", s.testTTL)
	t.Run("Jobs", func(t *testing.T) {
		t.Run("DueOrder", s.testJobsDueOrder)
		t.Run("Done", s.testJobsDone)
		t.Run("Retry", s.testJobsRetry)
		t.Run("Release", s.testJobsRelease)
		t.Run("LeaseExpiry", s.testJobsLeaseExpiry)
		t.Run("NextDue", s.testJobsNextDue)
		t.Run("Wake", s.testJobsWake)
		t.Run("SameTxn", s.testJobsSameTxn)
		t.Run("ExtremeDueTimes", s.testJobsExtremeDue)
	})
	t.Run("Backlog", s.testBacklog)
	t.Run("BacklogBehindLeases", s.testBacklogBehindLeases)
	t.Run("Recovery", s.testRecovery)
	t.Run("TooLarge", s.testTooLarge)
	t.Run("Close", s.testClose)
}

type suite struct {
	open func(t *testing.T, dir string) *kv.DB
}

// fresh opens the backend on a new folder.
func (s *suite) fresh(t *testing.T) (*kv.DB, string) {
	t.Helper()
	dir := t.TempDir()
	return s.reopen(t, dir), dir
}

// reopen opens the backend on dir and closes it when the test ends.
func (s *suite) reopen(t *testing.T, dir string) *kv.DB {
	t.Helper()
	db := s.open(t, dir)
	if db == nil {
		t.Fatalf("open(%q) returned nil", dir)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Records: Set, Get, overwrite, Delete, and ErrNotFound.
func (s *suite) testRecords(t *testing.T) {
	db, _ := s.fresh(t)
	update(t, db, func(tx *kv.Txn) error {
		tx.Set([]byte("a"), []byte("1"))
		tx.Set([]byte("b"), []byte("2"))
		tx.Set([]byte("c"), []byte("3"))
		tx.Set([]byte("empty"), []byte{})
		return nil
	})
	wantValue(t, db, "a", "1")
	wantValue(t, db, "b", "2")
	wantValue(t, db, "empty", "")
	wantAbsent(t, db, "nope")

	update(t, db, func(tx *kv.Txn) error {
		tx.Set([]byte("a"), []byte("one"))
		tx.Delete([]byte("b"))
		tx.Delete([]byte("never-existed"))
		return nil
	})
	wantValue(t, db, "a", "one")
	wantAbsent(t, db, "b")
	wantValue(t, db, "c", "3")

	// Get returns a copy: changing it changes nothing stored.
	v, err := get(t, db, "c")
	if err != nil {
		t.Fatalf(`Get("c") = %v`, err)
	}
	v[0] = 'X'
	wantValue(t, db, "c", "3")
}

// Scan: prefix, start, reverse, early stop, errors, and keys with 0xff bytes.
func (s *suite) testScan(t *testing.T) {
	db, _ := s.fresh(t)
	keys := []string{
		"o/9", "p", "p/1", "p/2", "p/3", "p/30", "p0", "q/0",
		"r/\x00", "r/\xff", "r/\xff\xff\xff\xff\xff\xff", "r0",
	}
	update(t, db, func(tx *kv.Txn) error {
		for _, k := range keys {
			tx.Set([]byte(k), []byte("v:"+k))
		}
		return nil
	})
	for _, c := range []struct {
		prefix, start string
		noStart       bool
		reverse       bool
		want          []string
	}{
		{prefix: "p/", noStart: true, want: []string{"p/1", "p/2", "p/3", "p/30"}},
		{prefix: "p/", start: "p/3", want: []string{"p/3", "p/30"}},
		{prefix: "p/", start: "p/25", want: []string{"p/3", "p/30"}},
		{prefix: "p/", start: "a", want: []string{"p/1", "p/2", "p/3", "p/30"}},
		{prefix: "p/", start: "z", want: nil},
		{prefix: "p/", noStart: true, reverse: true, want: []string{"p/30", "p/3", "p/2", "p/1"}},
		{prefix: "p/", start: "p/3", reverse: true, want: []string{"p/3", "p/2", "p/1"}},
		{prefix: "p/", start: "p/25", reverse: true, want: []string{"p/2", "p/1"}},
		{prefix: "p/", start: "z", reverse: true, want: []string{"p/30", "p/3", "p/2", "p/1"}},
		{prefix: "p/", start: "a", reverse: true, want: nil},
		{prefix: "nothing/", noStart: true, want: nil},
		{prefix: "nothing/", noStart: true, reverse: true, want: nil},
		{prefix: "r/", noStart: true, want: []string{"r/\x00", "r/\xff", "r/\xff\xff\xff\xff\xff\xff"}},
		{prefix: "r/", noStart: true, reverse: true, want: []string{"r/\xff\xff\xff\xff\xff\xff", "r/\xff", "r/\x00"}},
	} {
		var start []byte
		if !c.noStart {
			start = []byte(c.start)
		}
		var got []string
		err := db.View(func(r *kv.Reader) error {
			return r.Scan([]byte(c.prefix), start, c.reverse, func(k, v []byte) (bool, error) {
				if string(v) != "v:"+string(k) {
					t.Errorf("Scan(%q): value of %q = %q", c.prefix, k, v)
				}
				got = append(got, string(k))
				return true, nil
			})
		})
		if err != nil {
			t.Errorf("Scan(%q, %q, reverse=%v) = %v", c.prefix, start, c.reverse, err)
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("Scan(%q, %q, reverse=%v) = %q, want %q", c.prefix, start, c.reverse, got, c.want)
		}
	}

	// fn returning false stops the scan; fn's error stops it and comes back.
	n := 0
	err := db.View(func(r *kv.Reader) error {
		return r.Scan([]byte("p/"), nil, false, func(k, v []byte) (bool, error) { n++; return n < 2, nil })
	})
	if err != nil || n != 2 {
		t.Errorf("Scan stopping after 2: %d calls, %v", n, err)
	}
	boom := errors.New("boom")
	n = 0
	err = db.View(func(r *kv.Reader) error {
		return r.Scan([]byte("p/"), nil, true, func(k, v []byte) (bool, error) { n++; return true, boom })
	})
	if !errors.Is(err, boom) || n != 1 {
		t.Errorf("Scan with a failing fn: %d calls, %v; want 1 call, %v", n, err, boom)
	}

	// Deleted keys are not scanned.
	update(t, db, func(tx *kv.Txn) error { tx.Delete([]byte("p/2")); return nil })
	if got := scanKeys(t, db, "p/", false); !slices.Equal(got, []string{"p/1", "p/3", "p/30"}) {
		t.Errorf("Scan after Delete = %q", got)
	}
}

// An Update whose fn fails writes nothing: no records, no deletes, no jobs.
func (s *suite) testFailedUpdate(t *testing.T) {
	db, _ := s.fresh(t)
	update(t, db, func(tx *kv.Txn) error {
		tx.Set([]byte("kept"), []byte("1"))
		tx.Schedule("kept-job", base, nil)
		return nil
	})
	boom := errors.New("boom")
	err := db.Update(context.Background(), func(tx *kv.Txn) error {
		tx.Set([]byte("a"), []byte("1"))
		tx.Delete([]byte("kept"))
		tx.Schedule("job", base, []byte("x"))
		tx.Unschedule("kept-job", base)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want %v", err, boom)
	}
	wantAbsent(t, db, "a")
	wantValue(t, db, "kept", "1")
	wantJobs(t, "Lease after a failed Update", lease(t, db, base.Add(time.Hour), 10, time.Minute), "kept-job")
	wantLen(t, db, 1)
	wantScheduled(t, db, "job", time.Time{}, false)
}

// An Update whose context is already done returns the context's error and writes nothing.
func (s *suite) testCanceledContext(t *testing.T) {
	db, _ := s.fresh(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 20; i++ {
		err := db.Update(ctx, func(tx *kv.Txn) error {
			tx.Set([]byte("k"+strconv.Itoa(i)), []byte("1"))
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Update with a canceled context = %v, want %v", err, context.Canceled)
		}
		wantAbsent(t, db, "k"+strconv.Itoa(i))
	}
}

// A panic in fn reaches Update's caller, writes nothing and harms no other Update.
func (s *suite) testPanic(t *testing.T) {
	db, _ := s.fresh(t)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.Update(context.Background(), func(tx *kv.Txn) error {
				tx.Set([]byte(fmt.Sprintf("ok/%02d", i)), []byte("1"))
				return nil
			})
			if err != nil {
				t.Errorf("Update next to a panicking one = %v", err)
			}
		}()
	}
	for _, c := range []struct {
		name string
		fn   func(tx *kv.Txn) error
	}{
		{"panic", func(tx *kv.Txn) error {
			tx.Set([]byte("panicked"), []byte("1"))
			tx.Schedule("panicked", base, nil)
			panic("boom")
		}},
		{"reserved key", func(tx *kv.Txn) error {
			tx.Set([]byte("panicked"), []byte("1"))
			tx.Set([]byte("_mine"), []byte("1")) // keys starting with "_" are the queue's own
			return nil
		}},
	} {
		recovered := func() (r any) {
			defer func() { r = recover() }()
			err := db.Update(context.Background(), c.fn)
			t.Errorf("%s: Update returned %v, want a panic", c.name, err)
			return nil
		}()
		if recovered == nil {
			t.Errorf("%s: no panic reached Update's caller", c.name)
		}
	}
	wg.Wait()
	wantAbsent(t, db, "panicked")
	wantScheduled(t, db, "panicked", time.Time{}, false)
	for i := 0; i < 20; i++ {
		wantValue(t, db, fmt.Sprintf("ok/%02d", i), "1")
	}
	update(t, db, func(tx *kv.Txn) error { tx.Set([]byte("after"), []byte("1")); return nil })
	wantValue(t, db, "after", "1")
}

// Inside one Update, Get sees the transaction's own writes; its job changes land with it.
func (s *suite) testOwnWrites(t *testing.T) {
	db, _ := s.fresh(t)
	update(t, db, func(tx *kv.Txn) error {
		tx.Set([]byte("committed"), []byte("old"))
		tx.Set([]byte("gone"), []byte("x"))
		tx.Schedule("queued", base, nil)
		return nil
	})
	err := db.Update(context.Background(), func(tx *kv.Txn) error {
		check := func(key, want string, wantErr error) error {
			v, err := tx.Get([]byte(key))
			if !errors.Is(err, wantErr) || (err == nil && string(v) != want) {
				return fmt.Errorf("tx.Get(%q) = %q, %v; want %q, %v", key, v, err, want, wantErr)
			}
			return nil
		}
		tx.Set([]byte("k"), []byte("v1"))
		if err := check("k", "v1", nil); err != nil {
			return err
		}
		tx.Delete([]byte("k"))
		if err := check("k", "", kv.ErrNotFound); err != nil {
			return err
		}
		tx.Set([]byte("k"), []byte("v2"))
		if err := check("k", "v2", nil); err != nil {
			return err
		}
		if err := check("committed", "old", nil); err != nil {
			return err
		}
		tx.Set([]byte("committed"), []byte("new"))
		if err := check("committed", "new", nil); err != nil {
			return err
		}
		tx.Delete([]byte("gone"))
		if err := check("gone", "", kv.ErrNotFound); err != nil {
			return err
		}
		tx.Schedule("new", base.Add(time.Second), nil)
		tx.Unschedule("queued", base)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, db, "k", "v2")
	wantValue(t, db, "committed", "new")
	wantAbsent(t, db, "gone")
	wantScheduled(t, db, "new", base.Add(time.Second), true)
	wantScheduled(t, db, "queued", time.Time{}, false)
}

// Concurrent Updates are serializable: each sees what every earlier one wrote, even when
// they share a batch.
func (s *suite) testEarlierWrites(t *testing.T) {
	db, _ := s.fresh(t)
	const dedupers, counters = 50, 100
	var (
		wg      sync.WaitGroup
		winners atomic.Int32
		winner  atomic.Int32
	)
	for i := 0; i < dedupers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			won := false
			err := db.Update(context.Background(), func(tx *kv.Txn) error {
				won = false // fn may run more than once
				if _, err := tx.Get([]byte("K")); err == nil {
					return nil
				} else if !errors.Is(err, kv.ErrNotFound) {
					return err
				}
				tx.Set([]byte("K"), []byte(strconv.Itoa(i)))
				won = true
				return nil
			})
			if err != nil {
				t.Errorf("Update: %v", err)
			}
			if won {
				winners.Add(1)
				winner.Store(int32(i))
			}
		}()
	}
	for i := 0; i < counters; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := db.Update(context.Background(), func(tx *kv.Txn) error {
				n := 0
				v, err := tx.Get([]byte("counter"))
				switch {
				case err == nil:
					if n, err = strconv.Atoi(string(v)); err != nil {
						return err
					}
				case !errors.Is(err, kv.ErrNotFound):
					return err
				}
				tx.Set([]byte("counter"), []byte(strconv.Itoa(n+1)))
				return nil
			})
			if err != nil {
				t.Errorf("Update: %v", err)
			}
		}()
	}
	wg.Wait()
	if n := winners.Load(); n != 1 {
		t.Fatalf("%d of %d Updates inserted the absent key K, want exactly 1", n, dedupers)
	}
	wantValue(t, db, "K", strconv.Itoa(int(winner.Load())))
	wantValue(t, db, "counter", strconv.Itoa(counters))
}

// 200 concurrent Updates all succeed and everything they wrote is there afterwards.
func (s *suite) testGroupCommit(t *testing.T) {
	db, _ := s.fresh(t)
	const n = 200
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("g%03d", i)
			err := db.Update(context.Background(), func(tx *kv.Txn) error {
				tx.Set([]byte("rec/"+id), value(id, 1024))
				tx.Schedule(id, base.Add(time.Duration(i)*time.Millisecond), []byte(id))
				return nil
			})
			if err != nil {
				t.Errorf("Update %s: %v", id, err)
			}
		}()
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("g%03d", i)
		wantValue(t, db, "rec/"+id, string(value(id, 1024)))
	}
	wantLen(t, db, n)
	jobs := lease(t, db, base.Add(time.Hour), 2*n, time.Minute)
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("g%03d", i)
	}
	wantJobs(t, "Lease after group commit", jobs, want...)
	for _, j := range jobs {
		if string(j.Data) != j.ID {
			t.Errorf("job %s: Data = %q", j.ID, j.Data)
		}
	}
}

// A key written with SetTTL reads as absent once its TTL has passed; others stay.
func (s *suite) testTTL(t *testing.T) {
	db, _ := s.fresh(t)
	update(t, db, func(tx *kv.Txn) error {
		tx.SetTTL([]byte("t/short"), []byte("x"), 2*time.Second)
		tx.Set([]byte("t/forever"), []byte("y"))
		return nil
	})
	wantValue(t, db, "t/short", "x") // TTLs have second granularity: 2 s leaves at least 1
	waitFor(t, 10*time.Second, "the key written with a 2 s TTL to expire", func() bool {
		_, err := get(t, db, "t/short")
		return errors.Is(err, kv.ErrNotFound)
	})
	if got := scanKeys(t, db, "t/", false); !slices.Equal(got, []string{"t/forever"}) {
		t.Errorf("Scan after expiry = %q, want [t/forever]", got)
	}
	wantValue(t, db, "t/forever", "y")
}

// Lease hands out only due jobs, in due order, up to max, and not again while leased.
func (s *suite) testJobsDueOrder(t *testing.T) {
	db, _ := s.fresh(t)
	update(t, db, func(tx *kv.Txn) error {
		tx.Schedule("c", base.Add(3*time.Second), []byte("C"))
		tx.Schedule("a", base.Add(1*time.Second), []byte("A"))
		tx.Schedule("later", base.Add(time.Hour), []byte("L"))
		tx.Schedule("b", base.Add(2*time.Second), nil)
		return nil
	})
	wantJobs(t, "Lease before anything is due", lease(t, db, base, 10, time.Minute))
	wantJobs(t, "Lease at exactly a's due time", lease(t, db, base.Add(time.Second), 10, time.Minute), "a")
	now := base.Add(5 * time.Second)
	jobs := lease(t, db, now, 1, time.Minute)
	wantJobs(t, "Lease(max 1)", jobs, "b")
	if !jobs[0].Due.Equal(base.Add(2*time.Second)) || len(jobs[0].Data) != 0 {
		t.Errorf("job b = %+v, want due %v and no data", jobs[0], base.Add(2*time.Second))
	}
	jobs = lease(t, db, now, 10, time.Minute)
	wantJobs(t, "Lease(max 10)", jobs, "c")
	if string(jobs[0].Data) != "C" || !jobs[0].Due.Equal(base.Add(3*time.Second)) {
		t.Errorf("job c = %+v, want Data C, due %v", jobs[0], base.Add(3*time.Second))
	}
	wantJobs(t, "Lease while a, b and c are leased", lease(t, db, now, 10, time.Minute))
	wantLen(t, db, 4) // leased jobs are still queued
	wantJobs(t, "Lease(max 0)", lease(t, db, base.Add(2*time.Hour), 0, time.Minute))
}

// Unschedule removes a job for good, leased or not; Unschedule of an unknown job is no error.
func (s *suite) testJobsDone(t *testing.T) {
	db, _ := s.fresh(t)
	update(t, db, func(tx *kv.Txn) error {
		tx.Schedule("leased", base, nil)
		tx.Schedule("queued", base.Add(time.Second), nil)
		tx.Schedule("kept", base.Add(2*time.Second), nil)
		return nil
	})
	wantJobs(t, "Lease", lease(t, db, base, 10, time.Minute), "leased")
	update(t, db, func(tx *kv.Txn) error {
		tx.Unschedule("leased", base)
		tx.Unschedule("queued", base.Add(time.Second))
		tx.Unschedule("unknown", base)
		return nil
	})
	wantScheduled(t, db, "leased", time.Time{}, false)
	wantScheduled(t, db, "queued", time.Time{}, false)
	wantLen(t, db, 1)
	wantJobs(t, "Lease after Unschedule, past every lease", lease(t, db, base.Add(time.Hour), 10, time.Minute), "kept")
}

// Unscheduling a job and scheduling it again moves it, leased or not; a leased job
// rescheduled (a retry) is no longer leased and comes back at its new due time with its
// new data.
func (s *suite) testJobsRetry(t *testing.T) {
	db, _ := s.fresh(t)
	update(t, db, func(tx *kv.Txn) error {
		tx.Schedule("x", base, []byte("try 1"))
		tx.Schedule("y", base.Add(time.Hour), nil)
		return nil
	})
	wantJobs(t, "Lease", lease(t, db, base, 10, 24*time.Hour), "x")
	update(t, db, func(tx *kv.Txn) error {
		tx.Unschedule("x", base)
		tx.Schedule("x", base.Add(10*time.Second), []byte("try 2"))
		tx.Unschedule("y", base.Add(time.Hour))
		tx.Schedule("y", base.Add(5*time.Second), nil) // earlier
		return nil
	})
	wantScheduled(t, db, "x", base.Add(10*time.Second), true)
	wantScheduled(t, db, "y", base.Add(5*time.Second), true)
	wantLen(t, db, 2)
	wantJobs(t, "Lease before the retry is due", lease(t, db, base.Add(time.Second), 10, time.Minute))
	jobs := lease(t, db, base.Add(10*time.Second), 10, 24*time.Hour)
	wantJobs(t, "Lease once the retry is due", jobs, "y", "x")
	if string(jobs[1].Data) != "try 2" || !jobs[1].Due.Equal(base.Add(10*time.Second)) {
		t.Errorf("retried job = %+v, want Data %q due %v", jobs[1], "try 2", base.Add(10*time.Second))
	}
	// Rescheduling later than now while leased: not handed out before its time.
	update(t, db, func(tx *kv.Txn) error {
		tx.Unschedule("y", base.Add(5*time.Second))
		tx.Schedule("y", base.Add(time.Hour), nil)
		return nil
	})
	wantJobs(t, "Lease after moving y later", lease(t, db, base.Add(30*time.Minute), 10, time.Minute))
	wantJobs(t, "Lease when y is due again", lease(t, db, base.Add(time.Hour), 10, time.Minute), "y")
}

// Release gives a leased job back at once; releasing anything else does nothing.
func (s *suite) testJobsRelease(t *testing.T) {
	db, _ := s.fresh(t)
	update(t, db, func(tx *kv.Txn) error {
		tx.Schedule("x", base, []byte("data"))
		tx.Schedule("y", base.Add(time.Second), nil)
		return nil
	})
	wantJobs(t, "Lease", lease(t, db, base, 10, time.Hour), "x")
	db.Release("x")
	db.Release("x")       // twice
	db.Release("y")       // queued, not leased
	db.Release("unknown") // never existed
	jobs := lease(t, db, base, 10, time.Hour)
	wantJobs(t, "Lease after Release", jobs, "x")
	if string(jobs[0].Data) != "data" {
		t.Errorf("released job's Data = %q, want %q", jobs[0].Data, "data")
	}
	wantJobs(t, "Lease of y", lease(t, db, base.Add(time.Second), 10, time.Hour), "y")
	wantLen(t, db, 2)
}

// A lease lasts ttl from the now passed to Lease; then the job is handed out again.
func (s *suite) testJobsLeaseExpiry(t *testing.T) {
	db, _ := s.fresh(t)
	update(t, db, func(tx *kv.Txn) error {
		tx.Schedule("a", base, nil)
		tx.Schedule("b", base, nil)
		return nil
	})
	wantJobs(t, "Lease a", lease(t, db, base, 1, time.Minute), "a")
	wantJobs(t, "Lease b", lease(t, db, base.Add(30*time.Second), 1, time.Minute), "b")
	wantJobs(t, "Lease just before a's lease expires", lease(t, db, base.Add(time.Minute-time.Nanosecond), 10, time.Minute))
	wantJobs(t, "Lease when a's lease expires", lease(t, db, base.Add(time.Minute), 10, time.Hour), "a")
	wantJobs(t, "Lease when b's lease expires", lease(t, db, base.Add(90*time.Second), 10, time.Hour), "b")
	wantJobs(t, "Lease while both are leased again", lease(t, db, base.Add(2*time.Minute), 10, time.Hour))
	// Unscheduled while leased: the expiry brings nothing back.
	update(t, db, func(tx *kv.Txn) error { tx.Unschedule("a", base); return nil })
	wantJobs(t, "Lease after both leases expire", lease(t, db, base.Add(3*time.Hour), 10, time.Hour), "b")
}

// NextDue reports the earliest due job exactly, never a time after a lease expires, and
// nothing when the queue is empty.
func (s *suite) testJobsNextDue(t *testing.T) {
	db, _ := s.fresh(t)
	if next, ok := db.NextDue(base); ok {
		t.Fatalf("NextDue on an empty queue = %v, true; want false", next)
	}
	update(t, db, func(tx *kv.Txn) error {
		tx.Schedule("b", base.Add(2*time.Second), nil)
		tx.Schedule("a", base.Add(1*time.Second), nil)
		return nil
	})
	wantNextDue(t, db, base, base.Add(time.Second))
	wantJobs(t, "Lease a", lease(t, db, base.Add(time.Second), 1, 10*time.Second), "a")
	wantNextDue(t, db, base.Add(time.Second), base.Add(2*time.Second))
	wantJobs(t, "Lease b", lease(t, db, base.Add(2*time.Second), 1, 10*time.Second), "b")
	// Only leases are left: NextDue may be early, never later than the first expiry.
	next, ok := db.NextDue(base.Add(2 * time.Second))
	if !ok || next.After(base.Add(11*time.Second)) {
		t.Errorf("NextDue with a and b leased = %v, %v; want at or before %v", next, ok, base.Add(11*time.Second))
	}
	update(t, db, func(tx *kv.Txn) error { tx.Schedule("c", base.Add(5*time.Second), nil); return nil })
	next, ok = db.NextDue(base.Add(2 * time.Second))
	if !ok || next.After(base.Add(5*time.Second)) {
		t.Errorf("NextDue with c due at +5s = %v, %v; want at or before %v", next, ok, base.Add(5*time.Second))
	}
	update(t, db, func(tx *kv.Txn) error {
		tx.Unschedule("a", base.Add(1*time.Second))
		tx.Unschedule("b", base.Add(2*time.Second))
		tx.Unschedule("c", base.Add(5*time.Second))
		return nil
	})
	if next, ok := db.NextDue(base.Add(3 * time.Second)); ok {
		t.Errorf("NextDue once every job is done = %v, true; want false", next)
	}
}

// Wake signals after a commit that schedules a job, and after a Release.
func (s *suite) testJobsWake(t *testing.T) {
	db, _ := s.fresh(t)
	drain := func() {
		for {
			select {
			case <-db.Wake():
			default:
				return
			}
		}
	}
	wantWake := func(what string) {
		t.Helper()
		select {
		case <-db.Wake():
		case <-time.After(5 * time.Second):
			t.Fatalf("no Wake within 5s after %s", what)
		}
	}
	drain()
	update(t, db, func(tx *kv.Txn) error { tx.Schedule("x", base, nil); return nil })
	wantWake("Schedule")
	wantJobs(t, "Lease", lease(t, db, base, 10, time.Hour), "x")
	drain()
	db.Release("x")
	wantWake("Release")

	// A dispatcher blocked on Wake is woken by another goroutine's Schedule.
	drain()
	woken := make(chan struct{})
	go func() { <-db.Wake(); close(woken) }()
	update(t, db, func(tx *kv.Txn) error { tx.Schedule("y", base, nil); return nil })
	select {
	case <-woken:
	case <-time.After(5 * time.Second):
		t.Fatal("a goroutine waiting on Wake was not woken by Schedule")
	}
}

// Several job operations on one id in one transaction: the last one wins, on disk as in
// the queue, whatever due times the earlier ones named; in a transaction of a few job
// changes as in one of many.
func (s *suite) testJobsSameTxn(t *testing.T) {
	for _, others := range []int{0, 100} {
		t.Run(fmt.Sprintf("among %d others", others), func(t *testing.T) { s.jobsSameTxn(t, others) })
	}
}

func (s *suite) jobsSameTxn(t *testing.T, others int) {
	db, _ := s.fresh(t)
	update(t, db, func(tx *kv.Txn) error {
		tx.Schedule("moved", base.Add(time.Second), []byte("0"))
		tx.Schedule("dropped", base.Add(time.Second), nil)
		return nil
	})
	update(t, db, func(tx *kv.Txn) error {
		for i := 0; i < others; i++ {
			tx.Schedule(fmt.Sprintf("other%03d", i), base.Add(2*time.Hour), nil)
		}
		tx.Schedule("twice", base.Add(time.Second), []byte("1"))
		tx.Schedule("twice", base.Add(2*time.Second), []byte("2"))
		tx.Schedule("then-done", base, nil)
		tx.Unschedule("then-done", base)
		tx.Schedule("then-done-elsewhere", base, nil)
		tx.Unschedule("then-done-elsewhere", base.Add(time.Minute)) // its own job goes, whatever the time
		tx.Unschedule("done-then", base)
		tx.Schedule("done-then", base.Add(3*time.Second), nil)
		tx.Unschedule("moved", base.Add(time.Second))
		tx.Schedule("moved", base.Add(4*time.Second), []byte("1"))
		tx.Schedule("moved", base.Add(5*time.Second), []byte("2"))
		tx.Unschedule("dropped", base.Add(time.Second))
		tx.Schedule("dropped", base.Add(6*time.Second), nil)
		tx.Unschedule("dropped", base.Add(6*time.Second))
		return nil
	})
	wantLen(t, db, 3+others)
	wantScheduled(t, db, "twice", base.Add(2*time.Second), true)
	wantScheduled(t, db, "then-done", time.Time{}, false)
	wantScheduled(t, db, "then-done-elsewhere", time.Time{}, false)
	wantScheduled(t, db, "moved", base.Add(5*time.Second), true)
	wantScheduled(t, db, "dropped", time.Time{}, false)
	jobs := lease(t, db, base.Add(time.Hour), 10, time.Minute)
	wantJobs(t, "Lease", jobs, "twice", "done-then", "moved")
	if len(jobs) == 3 && (string(jobs[0].Data) != "2" || string(jobs[2].Data) != "2") {
		t.Errorf("Data of twice, moved = %q, %q; want the last Schedule's %q", jobs[0].Data, jobs[2].Data, "2")
	}
}

// A due time before 1970 (including the zero Time) means due at once, and sorts first; one
// far in the future is not due for centuries. Neither may disturb the order of the others.
func (s *suite) testJobsExtremeDue(t *testing.T) {
	db, _ := s.fresh(t)
	farFuture := time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)
	update(t, db, func(tx *kv.Txn) error {
		tx.Schedule("normal", base, nil)
		tx.Schedule("far-future", farFuture, nil)
		tx.Schedule("zero", time.Time{}, nil)
		tx.Schedule("1960", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), nil)
		return nil
	})
	jobs := lease(t, db, time.Unix(0, 0), 10, time.Hour)
	// Both are due at once; the order of jobs due at the same time is not part of the contract.
	slices.SortFunc(jobs, func(a, b kv.Job) int { return strings.Compare(a.ID, b.ID) })
	wantJobs(t, "Lease(1970)", jobs, "1960", "zero")
	// Unschedule clamps its due time as Schedule did: the same times find the jobs.
	update(t, db, func(tx *kv.Txn) error {
		tx.Unschedule("1960", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC))
		tx.Unschedule("zero", time.Time{})
		return nil
	})
	wantLen(t, db, 2)
	wantJobs(t, "Lease(2200)", lease(t, db, time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC), 10, time.Hour), "normal")
	if due, ok := scheduled(t, db, "far-future"); !ok || due.Before(time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Scheduled(far-future) = %v, %v; want after 2200", due, ok)
	}
	update(t, db, func(tx *kv.Txn) error { tx.Unschedule("far-future", farFuture); return nil })
	wantLen(t, db, 1)
}

// A backlog larger than what a backend keeps in memory comes out exactly once, in due order,
// while new jobs due earlier arrive, retries move jobs, and some leases stay out.
func (s *suite) testBacklog(t *testing.T) {
	db, _ := s.fresh(t)
	m := queuetest.NewLeaseModel()
	dueOf := map[string]time.Time{} // what Unschedule is told
	schedule := func(tx *kv.Txn, id string, due time.Time) {
		if old, ok := dueOf[id]; ok {
			tx.Unschedule(id, old)
		}
		tx.Schedule(id, due, []byte(id))
		dueOf[id] = due
	}
	const n = 1000
	perm := rand.Perm(n)
	for i := 0; i < n; i += 100 {
		update(t, db, func(tx *kv.Txn) error {
			for _, j := range perm[i : i+100] {
				schedule(tx, fmt.Sprintf("job%04d", j), base.Add(time.Duration(j+1)*time.Millisecond))
			}
			return nil
		})
		for _, j := range perm[i : i+100] {
			m.Schedule(fmt.Sprintf("job%04d", j), base.Add(time.Duration(j+1)*time.Millisecond))
		}
	}
	wantLen(t, db, n)
	wantNextDue(t, db, base, base.Add(time.Millisecond))

	now := base.Add(time.Hour)
	const ttl = 24 * time.Hour
	var kept []string // leased and never done: they come back when their lease expires
	for round := 0; ; round++ {
		jobs := lease(t, db, now, 37, ttl)
		m.Check(t, fmt.Sprintf("round %d: Lease", round), now, 37, ttl, leasedOf(jobs))
		if t.Failed() {
			t.FailNow()
		}
		if len(jobs) == 0 {
			break
		}
		var done []string
		for i, j := range jobs {
			if string(j.Data) != j.ID {
				t.Fatalf("job %s: Data = %q", j.ID, j.Data)
			}
			if i%5 == 0 {
				kept = append(kept, j.ID)
			} else {
				done = append(done, j.ID)
			}
		}
		update(t, db, func(tx *kv.Txn) error {
			for _, id := range done {
				tx.Unschedule(id, dueOf[id])
			}
			return nil
		})
		for _, id := range done {
			m.Done(id)
			delete(dueOf, id)
		}
		if round == 12 {
			// Mid-way: 100 new jobs due before everything left in the backlog, 10 backlog jobs
			// moved past now, and 5 leased jobs retried at once.
			var moved []string
			for _, id := range m.Unleased() {
				if len(moved) < 10 {
					moved = append(moved, id)
				}
			}
			retried := kept[:5]
			kept = kept[5:]
			update(t, db, func(tx *kv.Txn) error {
				for i := 0; i < 100; i++ {
					schedule(tx, fmt.Sprintf("early%03d", i), base.Add(time.Duration(i)*time.Microsecond))
				}
				for _, id := range moved {
					schedule(tx, id, base.Add(2*time.Hour))
				}
				for _, id := range retried {
					schedule(tx, id, base)
				}
				return nil
			})
			for i := 0; i < 100; i++ {
				m.Schedule(fmt.Sprintf("early%03d", i), base.Add(time.Duration(i)*time.Microsecond))
			}
			for _, id := range moved {
				m.Schedule(id, base.Add(2*time.Hour))
			}
			for _, id := range retried {
				m.Schedule(id, base)
			}
		}
	}
	if m.LeasedNow() != len(kept) {
		t.Fatalf("%d jobs leased after the backlog drained, want the %d kept", m.LeasedNow(), len(kept))
	}
	wantLen(t, db, m.Queued())

	// The moved jobs come out when due; the kept ones when their leases expire.
	later := base.Add(3 * time.Hour)
	jobs := lease(t, db, later, 1000, ttl)
	m.Check(t, "Lease of the moved jobs", later, 1000, ttl, leasedOf(jobs))
	if len(jobs) != 10 {
		t.Fatalf("Lease of the moved jobs returned %d, want 10", len(jobs))
	}
	expired := now.Add(ttl)
	jobs = lease(t, db, expired, 1000, ttl)
	m.Check(t, "Lease of the kept jobs once their leases expire", expired, 1000, ttl, leasedOf(jobs))
	if len(jobs) != len(kept) {
		t.Fatalf("Lease once leases expired returned %d, want the %d kept", len(jobs), len(kept))
	}
}

// Jobs due before a long run of leased ones: Lease still hands out every due job that is not
// leased, however many leased jobs sort between them.
func (s *suite) testBacklogBehindLeases(t *testing.T) {
	db, _ := s.fresh(t)
	m := queuetest.NewLeaseModel()
	const leased, free, early = 1000, 100, 100
	update(t, db, func(tx *kv.Txn) error {
		for i := 0; i < leased+free; i++ {
			tx.Schedule(fmt.Sprintf("a%04d", i), base.Add(time.Duration(i)*time.Millisecond), nil)
		}
		return nil
	})
	for i := 0; i < leased+free; i++ {
		m.Schedule(fmt.Sprintf("a%04d", i), base.Add(time.Duration(i)*time.Millisecond))
	}
	now := base.Add(time.Hour)
	for n := 0; n < leased; n += 100 {
		jobs := lease(t, db, now, 100, 24*time.Hour)
		m.Check(t, "Lease of the first 1,000", now, 100, 24*time.Hour, leasedOf(jobs))
	}
	update(t, db, func(tx *kv.Txn) error {
		for i := 0; i < early; i++ {
			tx.Schedule(fmt.Sprintf("e%03d", i), base.Add(-time.Duration(early-i)*time.Millisecond), nil)
		}
		return nil
	})
	for i := 0; i < early; i++ {
		m.Schedule(fmt.Sprintf("e%03d", i), base.Add(-time.Duration(early-i)*time.Millisecond))
	}
	jobs := lease(t, db, now, 1000, 24*time.Hour)
	m.Check(t, "Lease behind 1,000 leased jobs", now, 1000, 24*time.Hour, leasedOf(jobs))
	if len(jobs) != early+free {
		t.Errorf("Lease behind 1,000 leased jobs returned %d, want %d", len(jobs), early+free)
	}
}

// After Close and reopen: records are as they were, leases are gone so every job not done
// is leasable again, done jobs are gone, and retries keep their new due time and data.
func (s *suite) testRecovery(t *testing.T) {
	db, dir := s.fresh(t)
	update(t, db, func(tx *kv.Txn) error {
		for i := 0; i < 10; i++ {
			tx.Set([]byte(fmt.Sprintf("r/%d", i)), []byte(fmt.Sprint(i)))
		}
		for i := 0; i < 20; i++ {
			id := fmt.Sprintf("j%02d", i)
			tx.Schedule(id, base.Add(time.Duration(i)*time.Second), []byte(id))
		}
		return nil
	})
	leased := lease(t, db, base.Add(time.Hour), 10, time.Hour)
	wantJobs(t, "Lease", leased, "j00", "j01", "j02", "j03", "j04", "j05", "j06", "j07", "j08", "j09")
	update(t, db, func(tx *kv.Txn) error {
		for i := 0; i < 5; i++ {
			tx.Unschedule(fmt.Sprintf("j%02d", i), base.Add(time.Duration(i)*time.Second))
		}
		tx.Unschedule("j05", base.Add(5*time.Second))
		tx.Schedule("j05", base.Add(2*time.Hour), []byte("retry"))
		tx.Unschedule("j15", base.Add(15*time.Second))
		tx.Set([]byte("r/3"), []byte("three"))
		tx.Delete([]byte("r/5"))
		return nil
	})
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := db.Update(context.Background(), func(*kv.Txn) error { return nil }); !errors.Is(err, kv.ErrClosed) {
		t.Fatalf("Update after Close = %v, want %v", err, kv.ErrClosed)
	}

	for reopen := 1; reopen <= 2; reopen++ {
		db = s.reopen(t, dir)
		for i := 0; i < 10; i++ {
			switch i {
			case 3:
				wantValue(t, db, "r/3", "three")
			case 5:
				wantAbsent(t, db, "r/5")
			default:
				wantValue(t, db, fmt.Sprintf("r/%d", i), fmt.Sprint(i))
			}
		}
		wantLen(t, db, 14)
		wantScheduled(t, db, "j05", base.Add(2*time.Hour), true)
		wantScheduled(t, db, "j15", time.Time{}, false)
		jobs := lease(t, db, base.Add(time.Hour), 100, 24*time.Hour)
		wantJobs(t, fmt.Sprintf("reopen %d: Lease", reopen), jobs,
			"j06", "j07", "j08", "j09", "j10", "j11", "j12", "j13", "j14", "j16", "j17", "j18", "j19")
		for _, j := range jobs {
			if string(j.Data) != j.ID {
				t.Errorf("reopen %d: job %s Data = %q", reopen, j.ID, j.Data)
			}
		}
		jobs = lease(t, db, base.Add(2*time.Hour), 100, time.Hour)
		wantJobs(t, fmt.Sprintf("reopen %d: Lease of the retry", reopen), jobs, "j05")
		if len(jobs) == 1 && (string(jobs[0].Data) != "retry" || !jobs[0].Due.Equal(base.Add(2*time.Hour))) {
			t.Errorf("reopen %d: retried job = %+v", reopen, jobs[0])
		}
		if err := db.Close(); err != nil {
			t.Fatalf("reopen %d: Close: %v", reopen, err)
		}
	}

	// New work after a restart mixes with the recovered queue in due order.
	db = s.reopen(t, dir)
	update(t, db, func(tx *kv.Txn) error { tx.Schedule("new", base.Add(8500*time.Millisecond), nil); return nil })
	wantJobs(t, "Lease after reopen with new work", lease(t, db, base.Add(10*time.Second), 4, time.Hour),
		"j06", "j07", "j08", "new")
}

// An Update whose writes cannot fit in one transaction fails with ErrTooLarge and writes
// nothing; Updates committed alongside it are unaffected.
func (s *suite) testTooLarge(t *testing.T) {
	db, _ := s.fresh(t)
	// Hold the committer so that the large Update and the small ones queue up together.
	// The test does not depend on their sharing a batch; it is only likelier to find bugs.
	gate := make(chan struct{})
	var held sync.Once
	blocked := make(chan error, 1)
	go func() {
		blocked <- db.Update(context.Background(), func(tx *kv.Txn) error {
			held.Do(func() { <-gate })
			tx.Set([]byte("gate"), []byte("1"))
			return nil
		})
	}()
	var (
		wg      sync.WaitGroup
		started atomic.Int32
		bigErr  error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		started.Add(1)
		// Values this small stay in the LSM tree (larger ones would go to the value log,
		// leaving only pointers in the transaction): 40,000 of them are 8 MB.
		chunk := bytes.Repeat([]byte("x"), 200)
		bigErr = db.Update(context.Background(), func(tx *kv.Txn) error {
			for i := 0; i < 40000; i++ {
				tx.Set([]byte(fmt.Sprintf("big/%05d", i)), chunk)
			}
			tx.Schedule("big", base, nil)
			return nil
		})
	}()
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started.Add(1)
			err := db.Update(context.Background(), func(tx *kv.Txn) error {
				tx.Set([]byte(fmt.Sprintf("small/%02d", i)), []byte("ok"))
				return nil
			})
			if err != nil {
				t.Errorf("small Update %d = %v", i, err)
			}
		}()
	}
	waitFor(t, 5*time.Second, "the Updates to start", func() bool { return started.Load() == 21 })
	time.Sleep(20 * time.Millisecond) // let them reach the queue; see above
	close(gate)
	wg.Wait()
	if err := <-blocked; err != nil {
		t.Fatalf("gate Update = %v", err)
	}
	if !errors.Is(bigErr, kv.ErrTooLarge) {
		t.Fatalf("8 MiB Update = %v, want %v", bigErr, kv.ErrTooLarge)
	}
	if got := scanKeys(t, db, "big/", false); len(got) != 0 {
		t.Errorf("%d keys of the refused Update were written", len(got))
	}
	wantScheduled(t, db, "big", time.Time{}, false)
	for i := 0; i < 20; i++ {
		wantValue(t, db, fmt.Sprintf("small/%02d", i), "ok")
	}
	update(t, db, func(tx *kv.Txn) error { tx.Set([]byte("after"), []byte("1")); return nil })
	wantValue(t, db, "after", "1")
}

// Close: Updates racing with it either commit (and survive a reopen) or fail with ErrClosed,
// and nothing hangs. After Close, Update fails with ErrClosed and Close returns at once.
func (s *suite) testClose(t *testing.T) {
	db, dir := s.fresh(t)
	const writers = 32
	var (
		wg    sync.WaitGroup
		total atomic.Int32
	)
	acked := make([][]string, writers)
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("c%02d-%06d", g, i)
				err := db.Update(context.Background(), func(tx *kv.Txn) error {
					tx.Set([]byte("c/"+id), []byte(id))
					tx.Schedule(id, base, nil)
					return nil
				})
				if err != nil {
					if !errors.Is(err, kv.ErrClosed) {
						t.Errorf("Update during Close = %v, want nil or %v", err, kv.ErrClosed)
					}
					return
				}
				acked[g] = append(acked[g], id)
				total.Add(1)
			}
		}()
	}
	waitFor(t, 10*time.Second, "Updates to commit before Close", func() bool { return total.Load() >= 200 })
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close hung with Updates in flight")
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(20 * time.Second):
		t.Fatal("Updates hung after Close")
	}
	if err := db.Update(context.Background(), func(*kv.Txn) error { return nil }); !errors.Is(err, kv.ErrClosed) {
		t.Errorf("Update after Close = %v, want %v", err, kv.ErrClosed)
	}
	again := make(chan error, 1)
	go func() { again <- db.Close() }()
	select {
	case <-again:
	case <-time.After(5 * time.Second):
		t.Fatal("second Close hung")
	}

	db = s.reopen(t, dir)
	n := 0
	for g := range acked {
		for _, id := range acked[g] {
			n++
			wantValue(t, db, "c/"+id, id)
		}
	}
	// Nothing committed that was not acknowledged, either: an Update that returned ErrClosed
	// wrote nothing, and every acknowledged one wrote both its record and its job.
	if got := len(scanKeys(t, db, "c/", false)); got != n {
		t.Errorf("%d records after reopen, want the %d acknowledged", got, n)
	}
	wantLen(t, db, n)
}

// update runs fn in an Update and fails t if it fails.
func update(t *testing.T, db *kv.DB, fn func(tx *kv.Txn) error) {
	t.Helper()
	if err := db.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func get(t *testing.T, db *kv.DB, key string) (v []byte, err error) {
	t.Helper()
	verr := db.View(func(r *kv.Reader) error {
		v, err = r.Get([]byte(key))
		return nil
	})
	if verr != nil {
		t.Fatalf("View: %v", verr)
	}
	return v, err
}

func wantValue(t *testing.T, db *kv.DB, key, want string) {
	t.Helper()
	if v, err := get(t, db, key); err != nil || string(v) != want {
		t.Errorf("Get(%q) = %.40q, %v; want %.40q", key, v, err, want)
	}
}

func wantAbsent(t *testing.T, db *kv.DB, key string) {
	t.Helper()
	if v, err := get(t, db, key); !errors.Is(err, kv.ErrNotFound) {
		t.Errorf("Get(%q) = %.40q, %v; want %v", key, v, err, kv.ErrNotFound)
	}
}

func scanKeys(t *testing.T, db *kv.DB, prefix string, reverse bool) []string {
	t.Helper()
	var keys []string
	err := db.View(func(r *kv.Reader) error {
		return r.Scan([]byte(prefix), nil, reverse, func(k, _ []byte) (bool, error) {
			keys = append(keys, string(k))
			return true, nil
		})
	})
	if err != nil {
		t.Fatalf("Scan(%q): %v", prefix, err)
	}
	return keys
}

func lease(t *testing.T, db *kv.DB, now time.Time, max int, ttl time.Duration) []kv.Job {
	t.Helper()
	jobs, err := db.Lease(now, max, ttl)
	if err != nil {
		t.Fatalf("Lease(%v, %d, %v): %v", now, max, ttl, err)
	}
	return jobs
}

func wantJobs(t *testing.T, what string, got []kv.Job, want ...string) {
	t.Helper()
	ids := make([]string, len(got))
	for i, j := range got {
		ids[i] = j.ID
	}
	if !slices.Equal(ids, want) {
		t.Errorf("%s = %q, want %q", what, ids, want)
	}
}

// scheduled reports when job id is due, from the jobs on disk (ScanJobs); a job queued
// more than once fails t.
func scheduled(t *testing.T, db *kv.DB, id string) (due time.Time, ok bool) {
	t.Helper()
	var dues []time.Time
	err := db.View(func(r *kv.Reader) error {
		return r.ScanJobs(func(j kv.Job) (bool, error) {
			if j.ID == id {
				dues = append(dues, j.Due)
			}
			return true, nil
		})
	})
	if err != nil {
		t.Fatalf("ScanJobs: %v", err)
	}
	if len(dues) > 1 {
		t.Errorf("job %q is queued %d times, due %v", id, len(dues), dues)
	}
	if len(dues) == 0 {
		return time.Time{}, false
	}
	return dues[0], true
}

func wantScheduled(t *testing.T, db *kv.DB, id string, want time.Time, wantOK bool) {
	t.Helper()
	if due, ok := scheduled(t, db, id); ok != wantOK || (ok && !due.Equal(want)) {
		t.Errorf("Scheduled(%q) = %v, %v; want %v, %v", id, due, ok, want, wantOK)
	}
}

func wantLen(t *testing.T, db *kv.DB, want int) {
	t.Helper()
	if n, err := db.Len(); err != nil || n != want {
		t.Errorf("Len() = %d, %v; want %d", n, err, want)
	}
}

func wantNextDue(t *testing.T, db *kv.DB, now, want time.Time) {
	t.Helper()
	if next, ok := db.NextDue(now); !ok || !next.Equal(want) {
		t.Errorf("NextDue(%v) = %v, %v; want %v, true", now, next, ok, want)
	}
}

// value is n bytes that depend on key, so that a value stored under the wrong key shows.
func value(key string, n int) []byte {
	return bytes.Repeat([]byte(key+"."), n/(len(key)+1)+1)[:n]
}

// waitFor polls cond until it holds, failing t after within (nats-server's checkFor).
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// leasedOf turns the jobs Lease returned into what queuetest's LeaseModel checks.
func leasedOf(jobs []kv.Job) []queuetest.Leased {
	out := make([]queuetest.Leased, len(jobs))
	for i, j := range jobs {
		out[i] = queuetest.Leased{ID: j.ID, Due: j.Due}
	}
	return out
}

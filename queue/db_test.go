package queue_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/queue"
)

var ctx = context.Background()

func open(t *testing.T, dir string, opts queue.Options) *queue.DB {
	t.Helper()
	opts.Dir = dir
	db, err := queue.Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestDBGroupCommitSeesEarlierWritesInTheBatch(t *testing.T) {
	db := open(t, t.TempDir(), queue.Options{})
	defer db.Close()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			won := false
			err := db.Update(ctx, func(tx *queue.Txn) error {
				won = false
				if _, err := tx.Get([]byte("k")); err == nil {
					return nil
				}
				tx.Set([]byte("k"), []byte(fmt.Sprint(i)))
				won = true
				return nil
			})
			if err != nil {
				t.Error(err)
			}
			if won {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d writers inserted the absent key, want 1", wins)
	}
}

func TestDBFailedUpdateWritesNothing(t *testing.T) {
	db := open(t, t.TempDir(), queue.Options{})
	defer db.Close()
	boom := errors.New("boom")
	err := db.Update(ctx, func(tx *queue.Txn) error {
		tx.Set([]byte("a"), []byte("1"))
		tx.Schedule("job", time.Now(), nil)
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v", err)
	}
	db.View(func(r *queue.Reader) error {
		if _, err := r.Get([]byte("a")); !errors.Is(err, queue.ErrNotFound) {
			t.Errorf("Get after failed update = %v", err)
		}
		return nil
	})
	if jobs, _ := db.Lease(time.Now(), 10, time.Minute); len(jobs) != 0 {
		t.Fatalf("a failed update queued %d jobs", len(jobs))
	}
}

func TestDBTooLargeFailsAloneAndWritesNothing(t *testing.T) {
	db := open(t, t.TempDir(), queue.Options{})
	defer db.Close()
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() {
		defer wg.Done()
		errs[0] = db.Update(ctx, func(tx *queue.Txn) error {
			for i := 0; i < 200000; i++ {
				tx.Set([]byte(fmt.Sprintf("big/%07d", i)), []byte("value-value-value"))
			}
			return nil
		})
	}()
	go func() {
		defer wg.Done()
		errs[1] = db.Update(ctx, func(tx *queue.Txn) error { tx.Set([]byte("small"), []byte("ok")); return nil })
	}()
	wg.Wait()
	if !errors.Is(errs[0], queue.ErrTooLarge) || errs[1] != nil {
		t.Fatalf("errors = %v", errs)
	}
	db.View(func(r *queue.Reader) error {
		n := 0
		r.Scan([]byte("big/"), nil, false, func(k, v []byte) (bool, error) { n++; return true, nil })
		if n != 0 {
			t.Errorf("%d keys of the refused update were written", n)
		}
		return nil
	})
}

func TestDBJobsLeaseInDueOrder(t *testing.T) {
	db := open(t, t.TempDir(), queue.Options{})
	defer db.Close()
	base := time.Unix(1_700_000_000, 0)
	db.Update(ctx, func(tx *queue.Txn) error {
		tx.Schedule("c", base.Add(3*time.Second), []byte("C"))
		tx.Schedule("a", base.Add(1*time.Second), []byte("A"))
		tx.Schedule("b", base.Add(2*time.Second), []byte("B"))
		tx.Schedule("later", base.Add(time.Hour), nil)
		return nil
	})
	jobs, err := db.Lease(base.Add(5*time.Second), 10, time.Minute)
	if err != nil || len(jobs) != 3 || jobs[0].ID != "a" || jobs[1].ID != "b" || jobs[2].ID != "c" || string(jobs[0].Data) != "A" {
		t.Fatalf("Lease = %+v, %v", jobs, err)
	}
	if again, _ := db.Lease(base.Add(5*time.Second), 10, time.Minute); len(again) != 0 {
		t.Fatalf("leased jobs handed out again: %+v", again)
	}
	// Lease expiry: a lease past its ttl comes back.
	again, _ := db.Lease(base.Add(5*time.Second+time.Minute), 10, time.Minute)
	if len(again) != 3 {
		t.Fatalf("after expiry Lease = %d jobs, want 3", len(again))
	}
	// Done removes, Schedule moves, Release returns at once.
	db.Update(ctx, func(tx *queue.Txn) error {
		tx.Done("a")
		tx.Schedule("b", base.Add(10*time.Minute), nil)
		return nil
	})
	db.Release("c")
	now := base.Add(2 * time.Minute)
	got, _ := db.Lease(now, 10, time.Minute)
	if len(got) != 1 || got[0].ID != "c" {
		t.Fatalf("after Done/Schedule/Release Lease = %+v, want [c]", got)
	}
	// NextDue may be early (a lease expiry bound), never late.
	if next, ok := db.NextDue(now); !ok || next.After(now.Add(time.Minute)) {
		t.Fatalf("NextDue = %v, %v", next, ok)
	}
	if n, _ := db.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3 (b, c, later)", n)
	}
}

func TestDBBacklogBeyondMemoryComesOutInOrderOnce(t *testing.T) {
	db := open(t, t.TempDir(), queue.Options{MemJobs: 64})
	defer db.Close()
	base := time.Unix(1_700_000_000, 0)
	const n = 1000
	order := rand.Perm(n)
	for i := 0; i < n; i += 100 {
		db.Update(ctx, func(tx *queue.Txn) error {
			for _, j := range order[i : i+100] {
				tx.Schedule(fmt.Sprintf("job%04d", j), base.Add(time.Duration(j+10)*time.Millisecond), nil)
			}
			return nil
		})
	}
	seen := map[string]bool{}
	var last time.Time
	now := base.Add(time.Hour)
	injected := false
	for {
		jobs, err := db.Lease(now, 37, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			if seen[j.ID] {
				t.Fatalf("%s leased twice", j.ID)
			}
			seen[j.ID] = true
			if j.Due.Before(last) && j.ID[:3] == "job" {
				t.Fatalf("%s due %v came after %v", j.ID, j.Due, last)
			}
			if j.ID[:3] == "job" {
				last = j.Due
			}
		}
		if !injected && len(seen) > n/2 {
			// New jobs due before the backlog: they must not be lost.
			db.Update(ctx, func(tx *queue.Txn) error {
				for i := 0; i < 20; i++ {
					tx.Schedule(fmt.Sprintf("early%02d", i), base, nil)
				}
				return nil
			})
			injected = true
		}
		db.Update(ctx, func(tx *queue.Txn) error {
			for _, j := range jobs {
				tx.Done(j.ID)
			}
			return nil
		})
	}
	if len(seen) != n+20 {
		t.Fatalf("leased %d distinct jobs, want %d", len(seen), n+20)
	}
}

func TestDBRecoveryAfterReopen(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir, queue.Options{})
	now := time.Now()
	db.Update(ctx, func(tx *queue.Txn) error {
		tx.Set([]byte("rec/1"), []byte("kept"))
		for i := 0; i < 10; i++ {
			tx.Schedule(fmt.Sprintf("j%d", i), now, []byte(fmt.Sprint(i)))
		}
		return nil
	})
	jobs, _ := db.Lease(now, 5, time.Hour)
	db.Update(ctx, func(tx *queue.Txn) error { tx.Done(jobs[0].ID); return nil })
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Update(ctx, func(*queue.Txn) error { return nil }); !errors.Is(err, queue.ErrClosed) {
		t.Fatalf("Update after Close = %v", err)
	}

	db = open(t, dir, queue.Options{})
	defer db.Close()
	got, _ := db.Lease(now, 100, time.Hour)
	if len(got) != 9 {
		t.Fatalf("after reopen %d jobs leasable, want 9 (leases don't survive, Done does)", len(got))
	}
	db.View(func(r *queue.Reader) error {
		if v, err := r.Get([]byte("rec/1")); err != nil || string(v) != "kept" {
			t.Errorf("record after reopen = %q, %v", v, err)
		}
		return nil
	})
}

func TestDBTTL(t *testing.T) {
	db := open(t, t.TempDir(), queue.Options{})
	defer db.Close()
	db.Update(ctx, func(tx *queue.Txn) error { tx.SetTTL([]byte("ttl"), []byte("x"), time.Second); return nil })
	deadline := time.Now().Add(5 * time.Second)
	for {
		var err error
		db.View(func(r *queue.Reader) error { _, err = r.Get([]byte("ttl")); return nil })
		if errors.Is(err, queue.ErrNotFound) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("key outlived its TTL")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func BenchmarkUpdateParallel(b *testing.B) {
	db, err := queue.Open(queue.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	val := make([]byte, 1024)
	var n sync.Mutex
	i := 0
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n.Lock()
			i++
			k := []byte(fmt.Sprintf("k/%09d", i))
			n.Unlock()
			if err := db.Update(ctx, func(tx *queue.Txn) error { tx.Set(k, val); return nil }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

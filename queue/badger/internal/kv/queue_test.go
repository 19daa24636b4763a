package kv_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/queue/badger/internal/kv"
	"github.com/hookgate/hookgate/queue/badger/internal/kv/kvtest"
)

var ctx = context.Background()

// opener returns a queuetest open function for Badger with opts.
func opener(opts kv.Options) func(t *testing.T, dir string) *kv.DB {
	return func(t *testing.T, dir string) *kv.DB {
		t.Helper()
		o := opts
		o.Dir = dir
		db, err := kv.Open(o)
		if err != nil {
			t.Fatalf("Open(%q): %v", dir, err)
		}
		return db
	}
}

func TestBadger(t *testing.T) {
	kvtest.Run(t, opener(kv.Options{}))
}

// TestBadgerSmallMemory runs the contract with far fewer jobs in memory than the suite
// queues, so that leasing goes through the disk index, its horizon and refills.
func TestBadgerSmallMemory(t *testing.T) {
	kvtest.Run(t, opener(kv.Options{MemJobs: 64}))
}

// Writes that Badger itself refuses (a key over 65,000 bytes, more entries than a transaction
// holds, a value larger than an in-memory store keeps) fail the one Update with ErrTooLarge;
// the others committed in the same batch are not affected.
func TestBadgerLimitsFailOnlyTheirUpdate(t *testing.T) {
	for _, c := range []struct {
		name string
		opts kv.Options
		fn   func(tx *kv.Txn) error
	}{
		{"long key", kv.Options{}, func(tx *kv.Txn) error {
			tx.Set(append([]byte("big/"), bytes.Repeat([]byte("k"), 70_000)...), []byte("v"))
			return nil
		}},
		{"many entries", kv.Options{}, func(tx *kv.Txn) error {
			for i := 0; i < 100_000; i++ {
				tx.Set([]byte(fmt.Sprintf("big/%06d", i)), nil)
			}
			return nil
		}},
		{"large value in memory", kv.Options{InMemory: true}, func(tx *kv.Txn) error {
			tx.Set([]byte("big/1"), make([]byte, 64<<10))
			return nil
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := c.opts
			if !opts.InMemory {
				opts.Dir = t.TempDir()
			}
			db, err := kv.Open(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			errs := make([]error, 21)
			var wg sync.WaitGroup
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if i == 0 {
						errs[i] = db.Update(ctx, c.fn)
						return
					}
					errs[i] = db.Update(ctx, func(tx *kv.Txn) error {
						tx.Set([]byte(fmt.Sprintf("small/%02d", i)), []byte("ok"))
						return nil
					})
				}()
			}
			wg.Wait()
			if !errors.Is(errs[0], kv.ErrTooLarge) {
				t.Errorf("Update(%s) = %.300v, want %v", c.name, errs[0], kv.ErrTooLarge)
			}
			for i, err := range errs[1:] {
				if err != nil {
					t.Errorf("small Update %d next to %s = %.300v", i+1, c.name, err)
				}
			}
			db.View(func(r *kv.Reader) error {
				n := 0
				r.Scan([]byte("big/"), nil, false, func(k, v []byte) (bool, error) { n++; return true, nil })
				if n != 0 {
					t.Errorf("%d keys of the refused Update were written", n)
				}
				m := 0
				r.Scan([]byte("small/"), nil, false, func(k, v []byte) (bool, error) { m++; return true, nil })
				if m != 20 {
					t.Errorf("%d small keys written, want 20", m)
				}
				return nil
			})
		})
	}
}

// Badger keeps its own keys under "!badger!": writing one is a caller's bug, reported like
// writing one of the queue's "_" keys, by a panic in the caller.
func TestBadgerReservedKeyPanicsInCaller(t *testing.T) {
	db, err := kv.Open(kv.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("no panic for a !badger! key")
			}
		}()
		err := db.Update(ctx, func(tx *kv.Txn) error { tx.Set([]byte("!badger!head"), []byte("x")); return nil })
		t.Errorf("Update with a !badger! key returned %v", err)
	}()
	if err := db.Update(ctx, func(tx *kv.Txn) error { tx.Set([]byte("k"), []byte("v")); return nil }); err != nil {
		t.Fatalf("Update after the panic: %v", err)
	}
}

// killChildEnv names the folder a kill -9 child writes to; see TestKillChild.
const killChildEnv = "QUEUE_TEST_KILL_CHILD_DIR"

// TestKill9KeepsAcknowledgedUpdates runs this test binary as a child that commits Updates as
// fast as it can and prints each acknowledged one, SIGKILLs it mid-stream, reopens the folder
// and checks that every acknowledged Update is there, whole: its record (small, or large
// enough for Badger's value log) and its job. Twice, so that the second round starts from a
// store that was itself recovered after a kill.
//
// A SIGKILL leaves the kernel's page cache alone, so this proves that Update returns only
// after its writes reached the files and that recovery replays them, not that fsync happened
// (that needs a power cut).
func TestKill9KeepsAcknowledgedUpdates(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	acked := map[string]bool{}
	for round := 1; round <= 2; round++ {
		for _, k := range killChild(t, dir, round, 1000) {
			acked[k] = true
		}
		db, err := kv.Open(kv.Options{Dir: dir})
		if err != nil {
			t.Fatalf("round %d: Open after kill -9: %v", round, err)
		}
		records := map[string]bool{}
		err = db.View(func(r *kv.Reader) error {
			return r.Scan([]byte("k/"), nil, false, func(k, v []byte) (bool, error) {
				id := string(k[len("k/"):])
				if !bytes.Equal(v, killValue(id)) {
					t.Errorf("round %d: record %s has a %d-byte value, not its own", round, id, len(v))
				}
				records[id] = true
				return true, nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		missing := 0
		for id := range acked {
			if !records[id] {
				missing++
				if missing <= 5 {
					t.Errorf("round %d: acknowledged Update %s lost", round, id)
				}
			}
		}
		if missing > 0 {
			t.Fatalf("round %d: %d of %d acknowledged Updates lost", round, missing, len(acked))
		}
		// Each Update wrote a record and a job: no record without its job, or the reverse.
		if n, err := db.Len(); err != nil || n != len(records) {
			t.Errorf("round %d: Len() = %d, %v; want %d, one job per record", round, n, err, len(records))
		}
		jobs, err := db.Lease(time.Now().Add(time.Hour), len(records)+10, time.Minute)
		if err != nil || len(jobs) != len(records) {
			t.Errorf("round %d: Lease = %d jobs, %v; want %d", round, len(jobs), err, len(records))
		}
		for _, j := range jobs {
			if !records[j.ID] || string(j.Data) != j.ID {
				t.Errorf("round %d: job %s (data %q) has no record", round, j.ID, j.Data)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d acknowledged, %d on disk after kill -9", round, len(acked), len(records))
	}
}

// killChild starts the child on dir, waits for it to acknowledge at least n Updates, kills it
// with SIGKILL and returns every key it acknowledged.
func killChild(t *testing.T, dir string, round, n int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+dir, fmt.Sprintf("QUEUE_TEST_KILL_ROUND=%d", round))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	var keys []string
	timeout := time.After(60 * time.Second)
	for len(keys) < n {
		select {
		case line, ok := <-lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("round %d: child exited after %d acks: %s", round, len(keys), stderr.String())
			}
			if k, ok := strings.CutPrefix(line, "ack "); ok {
				keys = append(keys, k)
			}
		case <-timeout:
			t.Fatalf("round %d: child acknowledged %d Updates in 60s, want %d: %s", round, len(keys), n, stderr.String())
		}
	}
	// Kill -9 mid-stream: the child is still committing.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killed = true
	for line := range lines { // acks already written to the pipe count too
		if k, ok := strings.CutPrefix(line, "ack "); ok {
			keys = append(keys, k)
		}
	}
	cmd.Wait()
	return keys
}

// TestKillChild is the child of TestKill9KeepsAcknowledgedUpdates; on its own it does
// nothing. It commits Updates from 16 goroutines until it is killed, printing "ack <id>"
// after each one returns.
func TestKillChild(t *testing.T) {
	dir := os.Getenv(killChildEnv)
	if dir == "" {
		t.Skip("only runs as the child of TestKill9KeepsAcknowledgedUpdates")
	}
	round := os.Getenv("QUEUE_TEST_KILL_ROUND")
	db, err := kv.Open(kv.Options{Dir: dir})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	for g := 0; g < 16; g++ {
		go func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("%s-%02d-%07d", round, g, i)
				err := db.Update(ctx, func(tx *kv.Txn) error {
					tx.Set([]byte("k/"+id), killValue(id))
					tx.Schedule(id, time.Now(), []byte(id))
					return nil
				})
				if err != nil {
					fmt.Fprintln(os.Stderr, "update:", err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Fprintf(os.Stdout, "ack %s\n", id) // one write(2) per line
				mu.Unlock()
			}
		}()
	}
	select {} // until SIGKILL
}

// killValue is the record the child writes for id: every seventh is 40 KiB, which Badger
// keeps in its value log rather than its LSM tree.
func killValue(id string) []byte {
	n := 100
	if id[len(id)-1]%7 == 0 {
		n = 40 << 10
	}
	return bytes.Repeat([]byte(id), n/len(id)+1)[:n]
}

// What the size checks let through, Badger takes: an Update just under the entry limit (of
// an 8 MiB memtable) or just under the byte limit commits.
func TestBadgerTakesWhatTheLimitsAllow(t *testing.T) {
	db, err := kv.Open(kv.Options{Dir: t.TempDir(), MemTableMiB: 8})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// 15% of 8 MiB over 96-byte nodes, less 10%: 11,796 entries; 1,132,461 bytes.
	err = db.Update(ctx, func(tx *kv.Txn) error {
		for i := range 11_790 {
			tx.Set([]byte(fmt.Sprintf("n/%06d", i)), nil)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update of 11,790 entries: %v", err)
	}
	err = db.Update(ctx, func(tx *kv.Txn) error {
		// Values under the value-log threshold, so that their bytes count in the batch.
		for i := range 5_000 {
			tx.Set([]byte(fmt.Sprintf("b/%04d", i)), bytes.Repeat([]byte("v"), 200))
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update of 5,000 200-byte values: %v", err)
	}
	err = db.Update(ctx, func(tx *kv.Txn) error {
		for i := range 11_900 {
			tx.Set([]byte(fmt.Sprintf("x/%06d", i)), nil)
		}
		return nil
	})
	if !errors.Is(err, kv.ErrTooLarge) {
		t.Fatalf("Update of 11,900 entries: %v, want ErrTooLarge", err)
	}
}

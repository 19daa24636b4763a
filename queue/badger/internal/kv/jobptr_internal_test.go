package kv

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// A folder written before Unschedule took a job's due time holds a pointer (_j/<id> → due)
// beside every job. Open deletes them all, in several transactions when there are many,
// says so once, and leaves the jobs as they were: leased in due order, unscheduled by their
// due time. A second Open finds nothing to delete and says nothing.
func TestOpenDeletesOldJobPointers(t *testing.T) {
	dir := t.TempDir()
	const n = 2*dropPointersBatch + 100 // three batches
	base := time.Unix(1_700_000_000, 0)
	due := func(i int) time.Time { return base.Add(time.Duration(n-i) * time.Millisecond) } // ids in reverse due order
	id := func(i int) string { return fmt.Sprintf("job%05d", i) }

	bdb, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	wb := bdb.NewWriteBatch()
	for i := 0; i < n; i++ {
		d := dueNanos(due(i))
		if err := wb.Set(jobKey(d, id(i)), []byte("ep_1")); err != nil {
			t.Fatal(err)
		}
		ptr := append(append([]byte(nil), jobPtrPrefix...), id(i)...)
		if err := wb.Set(ptr, binary.BigEndian.AppendUint64(nil, uint64(d))); err != nil {
			t.Fatal(err)
		}
	}
	if err := wb.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	open := func() *DB {
		t.Helper()
		db, err := Open(Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db := open()
	if got := strings.Count(logs.String(), "job pointers"); got != 1 || !strings.Contains(logs.String(), fmt.Sprintf("keys=%d", n)) {
		t.Errorf("Open logged %d lines about job pointers, want one with keys=%d:\n%s", got, n, logs.String())
	}
	pointers := 0
	err = db.View(func(r *Reader) error {
		return r.Scan(jobPtrPrefix, nil, false, func(k, _ []byte) (bool, error) { pointers++; return true, nil })
	})
	if err != nil || pointers != 0 {
		t.Fatalf("%d job pointers left after Open (%v), want none", pointers, err)
	}
	if l, err := db.Len(); err != nil || l != n {
		t.Fatalf("Len = %d, %v; want %d", l, err, n)
	}

	jobs, err := db.Lease(base.Add(time.Hour), 10, time.Minute)
	if err != nil || len(jobs) != 10 {
		t.Fatalf("Lease = %d jobs, %v; want 10", len(jobs), err)
	}
	for k, j := range jobs {
		if i := n - 1 - k; j.ID != id(i) || !j.Due.Equal(due(i)) || string(j.Data) != "ep_1" {
			t.Fatalf("job %d = %s due %v (%q), want %s due %v", k, j.ID, j.Due, j.Data, id(i), due(i))
		}
	}
	err = db.Update(context.Background(), func(tx *Txn) error {
		for _, j := range jobs {
			tx.Unschedule(j.ID, j.Due)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if l, err := db.Len(); err != nil || l != n-10 {
		t.Fatalf("Len after unscheduling 10 = %d, %v; want %d", l, err, n-10)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	logs.Reset()
	db = open()
	if strings.Contains(logs.String(), "job pointers") {
		t.Errorf("a second Open logged about job pointers:\n%s", logs.String())
	}
	jobs, err = db.Lease(base.Add(time.Hour), 1, time.Minute)
	if err != nil || len(jobs) != 1 || jobs[0].ID != id(n-11) {
		t.Fatalf("Lease after reopen = %+v, %v; want %s", jobs, err, id(n-11))
	}
}

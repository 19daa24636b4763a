package kv_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/hookgate/hookgate/queue/badger/internal/kv"
)

// OpenSpace counts what a reopen must write out: the memtable log a run leaves behind
// (sparse: its written blocks, not its mapped length) on top of the fixed part.
func TestOpenSpaceCountsTheMemtableLog(t *testing.T) {
	dir := t.TempDir()
	empty, err := kv.OpenSpace(dir)
	if err != nil {
		t.Fatal(err)
	}
	if empty != 2<<20 {
		t.Fatalf("OpenSpace(new dir) = %d, want 2 MiB (discard stats and log headers)", empty)
	}
	db, err := kv.Open(kv.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	val := bytes.Repeat([]byte("x"), 200) // below the value-log threshold: into the memtable log
	for i := range 1000 {
		if err := db.Update(ctx, func(tx *kv.Txn) error { tx.Set(fmt.Appendf(nil, "k%d", i), val); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	open, err := kv.OpenSpace(dir)
	if err != nil {
		t.Fatal(err)
	}
	if open < empty+200*1000 || open > empty+4<<20 {
		t.Fatalf("OpenSpace with 200 KB in the memtable log = %d, want about %d (the log's blocks, not its 16 MiB length)", open, empty+200*1000)
	}
}

func TestHeadroomFollowsTheMemtableSize(t *testing.T) {
	def, small := kv.Headroom(kv.Options{}), kv.Headroom(kv.Options{MemTableMiB: 1})
	if def != 186<<20 {
		t.Fatalf("Headroom(defaults) = %d, want 186 MiB: 3 flushes of 16 MiB memtables + an L0 compaction of 8 memtables and the 8 MiB base level + 2 MiB", def)
	}
	if small >= def {
		t.Fatalf("Headroom(1 MiB memtables) = %d, want less than %d", small, def)
	}
}

package kv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Badger writes its memtable logs (.mem), value logs (.vlog), level tables (.sst) and
// discard statistics through memory-mapped files that it extends with ftruncate, which
// makes them sparse: a page gets its disk block only when it is first written. On a full
// volume that first write is not an error Badger could return but a SIGBUS that kills the
// process — and since Open itself writes into new mapped files, a restart crashes again.
// The store therefore never lets the volume run dry: the gateway stops taking new data at
// a free-space watermark of at least Headroom, and Open is not attempted with less than
// OpenSpace free. What Badger writes on its own, with no new data coming in:
//
//   - Open: a new memtable log and a new value log (one header page each, more as the
//     dispatcher's writes arrive), the discard-stats file (1 MiB mapped, a page written),
//     and a level-0 table for every memtable log left by the previous run — about as large
//     as the data in those logs.
//   - Running: each full memtable (MemTableMiB) becomes a level-0 table of about its size
//     before its log is deleted, up to NumMemtables (2) + 1 at once; a level-0 compaction
//     writes the merged tables (at most the level-0 stall count of memtables plus the 8 MiB
//     base level) before it deletes its inputs.
//
// Deeper compactions write their output (Badger caps it near twenty tables) before deleting
// their inputs; tables double in size per level from 2 MiB, so that is about 160 MiB into the
// level that holds 800 MiB, 320 MiB into 8 GiB, 640 MiB into 80 GiB. Headroom covers a store
// of up to about 1 GiB; the gateway's default 512 MiB watermark one of about ten GiB.

// Tuning that the headroom depends on; Open uses the same values.
const (
	numMemtables       = 2
	numL0TablesStall   = 8
	baseLevelSize      = 8 << 20
	discardStatsSize   = 1 << 20
	pageHeadroom       = 1 << 20 // header pages of the new memtable and value logs, rounded up
	defaultMemTableMiB = 16
)

// Headroom is the free space, in bytes, the store needs for its own work when no new data
// comes in: memtable flushes, one level-0 compaction, and what Open writes. The gateway's
// free-space watermark is never set below it by default. opts is read for MemTableMiB.
func Headroom(opts Options) uint64 {
	mem := uint64(opts.MemTableMiB) << 20
	if opts.MemTableMiB <= 0 {
		mem = defaultMemTableMiB << 20
	}
	flushes := (numMemtables + 1) * mem
	l0 := numL0TablesStall*mem + baseLevelSize
	return flushes + l0 + discardStatsSize + pageHeadroom
}

// OpenSpace is the free space, in bytes, that Open needs in dir to come up without
// touching an unbacked mapped page: the memtable logs a previous run left (replayed and
// written out as level-0 tables), the discard-stats file and the header pages of the new
// logs. It counts blocks actually allocated, since the logs are sparse. A dir that does
// not exist yet needs only the fixed part.
func OpenSpace(dir string) (uint64, error) {
	need := uint64(discardStatsSize + pageHeadroom)
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return need, nil
	}
	if err != nil {
		return 0, fmt.Errorf("queue: read %s: %w", dir, err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".mem") {
			continue
		}
		fi, err := os.Stat(filepath.Join(dir, e.Name()))
		if err != nil {
			return 0, fmt.Errorf("queue: stat %s: %w", e.Name(), err)
		}
		need += allocated(fi)
	}
	return need, nil
}

// Usage is the size of the store's folder dir (its files, not subfolders): the sum of
// the file lengths (what ls shows) and the space they occupy on disk (what du shows).
// Badger's logs are sparse, so the first overstates what the disk holds.
type Usage struct {
	Apparent  uint64
	Allocated uint64
	Files     int
}

// DiskUsage measures dir. Files that vanish while it runs (Badger deletes tables and logs
// as it compacts) are skipped.
func DiskUsage(dir string) (Usage, error) {
	var u Usage
	entries, err := os.ReadDir(dir)
	if err != nil {
		return u, fmt.Errorf("queue: read %s: %w", dir, err)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return u, fmt.Errorf("queue: stat %s: %w", e.Name(), err)
		}
		u.Apparent += uint64(fi.Size())
		u.Allocated += allocated(fi)
		u.Files++
	}
	return u, nil
}

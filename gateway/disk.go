package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ErrStorageFull means the data volume's free space is below the watermark
// (Options.MinFreeDisk): the Service refuses writes that bring in new data until space is
// freed. Deliveries already stored keep going and reads keep working. The error returned is
// a *StorageFullError, which says how much is free.
var ErrStorageFull = errors.New("storage full")

// StorageFullError is the ErrStorageFull a refused write returns, and New returns when the
// volume has too little space to open the store at all (Opening).
type StorageFullError struct {
	// Free is the free space on the data volume, in bytes, when the write was refused.
	Free uint64
	// Watermark is the free space below which writes are refused, in bytes; with Opening,
	// the free space opening the store needs (see CheckOpenSpace).
	Watermark uint64
	// Opening reports that the store could not be opened: nothing can be read or written.
	Opening bool
}

// Error implements error.
func (e *StorageFullError) Error() string {
	if e.Opening {
		return fmt.Sprintf("storage full: %s free, below the %s the store needs to open; nothing can be read or written until space is freed",
			FormatBytes(e.Free), FormatBytes(e.Watermark))
	}
	return fmt.Sprintf("storage full: %s free, below the %s watermark; new events and changes are refused until space is freed (stored deliveries continue)",
		FormatBytes(e.Free), FormatBytes(e.Watermark))
}

// Reason is the one-line reason a readiness probe gives:
// "storage_full: 300 MiB free, below the 512 MiB watermark".
func (e *StorageFullError) Reason() string {
	if e.Opening {
		return fmt.Sprintf("storage_full: %s free, below the %s the store needs to open", FormatBytes(e.Free), FormatBytes(e.Watermark))
	}
	return fmt.Sprintf("storage_full: %s free, below the %s watermark", FormatBytes(e.Free), FormatBytes(e.Watermark))
}

// Unwrap makes errors.Is(err, ErrStorageFull) true.
func (e *StorageFullError) Unwrap() error { return ErrStorageFull }

// DefaultMinFreeDisk is the free-space watermark when Options.MinFreeDisk is 0, unless 5 %
// of the volume is smaller (and never below what the store needs for itself, DiskSpace.Headroom).
const DefaultMinFreeDisk = 512 << 20

// FreeSpaceFunc reports the free space (available to this process) and the total size, in
// bytes, of the volume that holds dir.
type FreeSpaceFunc func(dir string) (free, total uint64, err error)

// DiskStatus is the state of the data volume as the free-space guard last saw it.
type DiskStatus struct {
	// Free and Total are the volume's free space and size in bytes.
	Free  uint64 `json:"free_bytes"`
	Total uint64 `json:"total_bytes"`
	// Watermark is the free space below which writes are refused; 0 when the guard is off.
	Watermark uint64 `json:"watermark_bytes"`
	// Full reports that writes are being refused.
	Full bool `json:"full"`
	// Reserve is the free space below which deliveries pause too (they stay queued), so
	// the store keeps room for its own work: DiskSpace.Headroom or half the watermark,
	// whichever is less.
	Reserve uint64 `json:"reserve_bytes"`
	// Paused reports that deliveries are paused: the volume is below Reserve.
	Paused bool `json:"deliveries_paused"`
	// Err is why the volume could not be measured (the guard then lets writes through).
	Err string `json:"error,omitempty"`
}

// diskGuard is the one free-space check: the Service consults it before every write that
// brings in new data (admit), and Ready reports it. The dispatcher's own writes (attempts,
// status changes) skip it so stored deliveries drain on a full disk; the watermark leaves
// room for them and for the store's own work (DiskSpace.Headroom). Should deliveries eat that room
// down to the reserve, the dispatcher pauses too (deliveries stay queued): nothing then
// writes but the store's own flushes and compactions, for which the reserve is kept.
//
// A statfs costs 1-2 µs alone (BenchmarkDiskGuardStatus) but about 5 µs per event at
// full speed, where every publish and every dispatcher turn asks: so while the volume
// (measured with the default probe, StatFS) has more than diskCacheMargin above the
// watermark, a reading serves the calls of the next diskCacheFor. Writing that margin
// away within that time takes 2.5 GB/s; closer to the watermark, or below it, every call
// measures, so a volume filling up or freed is seen at once. An injected probe (tests)
// measures on every call.
type diskGuard struct {
	dir   string
	probe FreeSpaceFunc
	min   int64  // Options.MinFreeDisk: 0 default, < 0 off
	floor uint64 // DiskSpace.Headroom: the least a default watermark leaves
	log   *slog.Logger
	// cache is set for the default probe: then last holds a reading far enough above
	// the watermark to serve calls until its time plus diskCacheFor (nil: measure).
	cache bool
	last  atomic.Pointer[diskReading]
	now   func() time.Time // the clock readings are timed with

	mu     sync.Mutex // orders state changes so each is logged once
	full   bool
	paused bool
	probeE bool // the last probe failed (logged once)
}

// diskReading is a measurement of the volume the guard may serve again.
type diskReading struct {
	at time.Time
	st DiskStatus
}

// How long, and how far above the watermark, a reading of the volume serves calls.
const (
	diskCacheFor    = 100 * time.Millisecond
	diskCacheMargin = 256 << 20
)

// DiskSpace is implemented by a Store that keeps its data on a local volume (queue/badger):
// the free-space guard measures the volume that holds Dir and never sets its default
// watermark below Headroom. A Store without it (or with an empty Dir) has no guard.
type DiskSpace interface {
	// Dir is the folder that holds the store's data ("" for none on disk).
	Dir() string
	// Headroom is the free space, in bytes, the store needs on its volume for its own work
	// (flushes, compactions, a reopen) when no new data comes in.
	Headroom() uint64
}

func newDiskGuard(opts Options) *diskGuard {
	probe := opts.FreeSpace
	if probe == nil {
		probe = StatFS
	}
	g := &diskGuard{probe: probe, min: opts.MinFreeDisk, log: opts.Logger, cache: opts.FreeSpace == nil, now: time.Now}
	ds, ok := opts.Store.(DiskSpace)
	if !ok || ds.Dir() == "" {
		g.min = -1 // no volume to fill
		return g
	}
	g.dir, g.floor = ds.Dir(), ds.Headroom()
	return g
}

// watermark is the free space below which writes are refused on a volume of total bytes.
func (g *diskGuard) watermark(total uint64) uint64 {
	switch {
	case g.min < 0:
		return 0
	case g.min > 0:
		return uint64(g.min)
	}
	return max(min(DefaultMinFreeDisk, total/20), g.floor)
}

// status measures the volume and records (and logs) each change of Full and Paused.
func (g *diskGuard) status() DiskStatus {
	if g.min < 0 {
		return DiskStatus{}
	}
	now := g.now()
	if r := g.last.Load(); r != nil && now.Sub(r.at) < diskCacheFor {
		return r.st
	}
	free, total, err := g.probe(g.dir)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		g.last.Store(nil)
		if !g.probeE {
			g.log.Warn("cannot measure free disk space; the storage_full guard lets writes through", "dir", g.dir, "err", err)
			g.probeE = true
		}
		return DiskStatus{Err: err.Error()}
	}
	g.probeE = false
	st := DiskStatus{Free: free, Total: total, Watermark: g.watermark(total)}
	st.Full = free < st.Watermark
	st.Reserve = min(g.floor, st.Watermark/2)
	st.Paused = free < st.Reserve
	if g.cache && free >= st.Watermark+diskCacheMargin {
		g.last.Store(&diskReading{at: now, st: st})
	} else {
		g.last.Store(nil)
	}
	if st.Paused != g.paused {
		g.paused = st.Paused
		if st.Paused {
			g.log.Warn("storage critical: deliveries paused (they stay queued) to keep room for the store's own work",
				"dir", g.dir, "free", FormatBytes(free), "reserve", FormatBytes(st.Reserve))
		} else {
			g.log.Info("storage above the reserve: deliveries resume", "dir", g.dir, "free", FormatBytes(free), "reserve", FormatBytes(st.Reserve))
		}
	}
	if st.Full != g.full {
		g.full = st.Full
		if st.Full {
			g.log.Warn("storage full: refusing new events and changes until space is freed; stored deliveries continue",
				"dir", g.dir, "free", FormatBytes(free), "watermark", FormatBytes(st.Watermark))
		} else {
			g.log.Info("storage space recovered: accepting writes again",
				"dir", g.dir, "free", FormatBytes(free), "watermark", FormatBytes(st.Watermark))
		}
	}
	return st
}

// admit returns a *StorageFullError when the volume is below the watermark.
func (g *diskGuard) admit() error {
	if st := g.status(); st.Full {
		return &StorageFullError{Free: st.Free, Watermark: st.Watermark}
	}
	return nil
}

// CheckOpenSpace is what a caller runs before it opens a store on disk, when opening
// itself could run out of space (a SIGBUS in Badger, not an error): with less than need
// bytes free on the volume of dir (probe, nil for StatFS, measures it) it returns a
// *StorageFullError with Opening set, which `hookgate serve` answers 507 with while it
// waits for space. A volume that can't be measured passes.
func CheckOpenSpace(dir string, need uint64, probe FreeSpaceFunc) error {
	if probe == nil {
		probe = StatFS
	}
	free, _, err := probe(dir)
	if err != nil {
		return nil // the guard reports it once the store is open
	}
	if free < need {
		return fmt.Errorf("cannot open the store in %s: %w", dir, &StorageFullError{Free: free, Watermark: need, Opening: true})
	}
	return nil
}

// FormatBytes writes a byte count the way people read sizes, rounded down: "300 MiB",
// "1.5 GiB", "512 B".
func FormatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	// Rounded down, so a value just under a watermark never reads as equal to it.
	tenths := n * 10 / div
	suffix := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}[exp]
	if tenths >= 1000 || tenths%10 == 0 {
		return fmt.Sprintf("%d %s", tenths/10, suffix)
	}
	return fmt.Sprintf("%d.%d %s", tenths/10, tenths%10, suffix)
}

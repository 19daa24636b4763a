package gateway

import (
	"log/slog"
	"testing"
	"time"
)

// TestDiskReadingServesWhileFarAboveTheWatermark: with the default probe, a reading with
// more than diskCacheMargin above the watermark serves the calls of the next diskCacheFor;
// closer to the watermark, below it, after an error, or with an injected probe, every
// call measures.
func TestDiskReadingServesWhileFarAboveTheWatermark(t *testing.T) {
	const watermark = 512 << 20
	var (
		free  uint64
		calls int
		clock = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	)
	probe := func(string) (uint64, uint64, error) { calls++; return free, 100 << 30, nil }
	g := newDiskGuard(Options{Store: onDisk{dir: t.TempDir()}, MinFreeDisk: watermark, FreeSpace: probe, Logger: slog.New(slog.DiscardHandler)})
	g.cache, g.now = true, func() time.Time { return clock } // as with the default probe
	measures := func(label string, want bool, wantFull bool) {
		t.Helper()
		before := calls
		st := g.status()
		if got := calls > before; got != want {
			t.Errorf("%s: measured = %v, want %v", label, got, want)
		}
		if st.Full != wantFull {
			t.Errorf("%s: Full = %v, want %v", label, st.Full, wantFull)
		}
	}

	free = watermark + diskCacheMargin + 1
	measures("first call", true, false)
	free = 0 // the volume filled up meanwhile: not seen until the reading is too old
	clock = clock.Add(diskCacheFor - time.Millisecond)
	measures("within diskCacheFor", false, false)
	clock = clock.Add(time.Millisecond)
	measures("after diskCacheFor", true, true)
	measures("below the watermark", true, true)

	free = watermark + diskCacheMargin - 1 // above the watermark, by less than the margin
	measures("near the watermark", true, false)
	measures("near the watermark again", true, false)

	free = 10 << 30
	measures("far above", true, false)
	measures("far above again", false, false)

	g.cache = false
	g.last.Store(nil)
	measures("injected probe", true, false)
	measures("injected probe again", true, false)
}

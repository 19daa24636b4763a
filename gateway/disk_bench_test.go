package gateway

import (
	"log/slog"
	"testing"
)

// BenchmarkDiskGuardStatus measures the free-space check every write (and every dispatcher
// turn) makes: one statfs(2) of the data folder, uncached.
func BenchmarkDiskGuardStatus(b *testing.B) {
	g := newDiskGuard(Options{Dir: b.TempDir(), Logger: slog.New(slog.DiscardHandler)})
	b.ReportAllocs()
	for b.Loop() {
		if st := g.status(); st.Err != "" {
			b.Fatal(st.Err)
		}
	}
}

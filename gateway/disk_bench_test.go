package gateway

import (
	"log/slog"
	"testing"
)

// onDisk is a Store (its methods unused here) whose data is in dir.
type onDisk struct {
	Store
	dir string
}

func (d onDisk) Dir() string      { return d.dir }
func (d onDisk) Headroom() uint64 { return 24 << 20 }

// BenchmarkDiskGuardStatus measures the free-space check every write (and every dispatcher
// turn) makes: one statfs(2) of the data folder, uncached.
func BenchmarkDiskGuardStatus(b *testing.B) {
	g := newDiskGuard(Options{Store: onDisk{dir: b.TempDir()}, Logger: slog.New(slog.DiscardHandler)})
	b.ReportAllocs()
	for b.Loop() {
		if st := g.status(); st.Err != "" {
			b.Fatal(st.Err)
		}
	}
}

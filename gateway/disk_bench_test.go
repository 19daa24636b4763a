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
// turn) makes: "statfs" measures on every call, as with an injected probe or near the
// watermark; "cached" is the default probe on a volume with room to spare.
func BenchmarkDiskGuardStatus(b *testing.B) {
	for _, bc := range []struct {
		name  string
		probe FreeSpaceFunc
	}{{"statfs", StatFS}, {"cached", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			g := newDiskGuard(Options{Store: onDisk{dir: b.TempDir()}, FreeSpace: bc.probe, Logger: slog.New(slog.DiscardHandler)})
			b.ReportAllocs()
			for b.Loop() {
				if st := g.status(); st.Err != "" {
					b.Fatal(st.Err)
				}
			}
		})
	}
}

package kv_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/queue/badger/internal/kv"
)

func openBench(b *testing.B, opts kv.Options) *kv.DB {
	b.Helper()
	opts.Dir = b.TempDir()
	db, err := kv.Open(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkUpdateParallel measures group commit: 32 goroutines per CPU each writing one
// 1 KiB record per Update, every Update fsync'd before it returns.
func BenchmarkUpdateParallel(b *testing.B) {
	db := openBench(b, kv.Options{})
	val := make([]byte, 1024)
	var n atomic.Int64
	b.SetBytes(int64(len(val)))
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := fmt.Appendf(nil, "k/%09d", n.Add(1))
			if err := db.Update(ctx, func(tx *kv.Txn) error { tx.Set(k, val); return nil }); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
}

// BenchmarkUpdateSerial is the same write from one goroutine: one fsync per Update, the
// baseline that group commit improves on.
func BenchmarkUpdateSerial(b *testing.B) {
	db := openBench(b, kv.Options{})
	val := make([]byte, 1024)
	b.SetBytes(int64(len(val)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		k := fmt.Appendf(nil, "k/%09d", i)
		if err := db.Update(ctx, func(tx *kv.Txn) error { tx.Set(k, val); return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
}

// BenchmarkLease measures handing out due jobs, in batches of 64, per job. "memory" has a
// 10,000-job queue that fits in memory; "disk" has 100,000 jobs and keeps 1,024 in memory,
// so most come through refills from the disk index. When every job is leased the clock
// moves past the leases, which expire and are handed out again.
func BenchmarkLease(b *testing.B) {
	for _, c := range []struct {
		name    string
		jobs    int
		memJobs int
	}{
		{"memory", 10_000, 0},
		{"disk", 100_000, 1024},
	} {
		b.Run(c.name, func(b *testing.B) {
			db := openBench(b, kv.Options{MemJobs: c.memJobs, NoSync: true})
			base := time.Unix(1_700_000_000, 0)
			for i := 0; i < c.jobs; i += 2000 {
				err := db.Update(ctx, func(tx *kv.Txn) error {
					for j := i; j < i+2000 && j < c.jobs; j++ {
						tx.Schedule(fmt.Sprintf("job%07d", j), base.Add(time.Duration(j)*time.Microsecond), []byte("endpoint"))
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			now := base.Add(time.Hour)
			const ttl = time.Minute
			b.ResetTimer()
			for leased := 0; leased < b.N; {
				jobs, err := db.Lease(now, min(64, b.N-leased), ttl)
				if err != nil {
					b.Fatal(err)
				}
				if len(jobs) == 0 {
					now = now.Add(ttl) // every job is leased: let the leases expire
					continue
				}
				leased += len(jobs)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
		})
	}
}

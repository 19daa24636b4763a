//go:build unix

package badger_test

import (
	"syscall"
	"testing"
	"time"
)

// cpuPerOp reports, as cpu-µs/op, the CPU time (user + system, every goroutine of the
// process: Badger's writers and compactors too) that the benchmark spent per operation
// between reset and its return's call: a figure that, unlike ns/op, does not depend on
// how busy the rest of the machine is.
func cpuPerOp(b *testing.B) (report func()) {
	start := processCPU()
	return func() {
		b.ReportMetric(float64((processCPU()-start).Microseconds())/float64(b.N), "cpu-µs/op")
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

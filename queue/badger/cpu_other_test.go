//go:build !unix

package badger_test

import "testing"

// cpuPerOp reports nothing where getrusage is missing (see cpu_unix_test.go).
func cpuPerOp(*testing.B) (report func()) { return func() {} }

package jstest

import "testing"

// FreePort finds a loopback port nothing listens on, for a test that configures servers
// of its own (their cluster ports must be known before any of them starts).
func FreePort(t testing.TB) int { return freePort(t) }

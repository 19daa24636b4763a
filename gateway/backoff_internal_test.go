package gateway

import (
	"testing"
	"time"
)

// TestBackoffGrowsToACap: failures that are not delivery attempts (a Lease or a store
// write that fails) wait 1 s, then twice as long each time, never more than 5 minutes.
func TestBackoffGrowsToACap(t *testing.T) {
	for n, want := range map[int]time.Duration{
		0: time.Second, 1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second,
		9: 256 * time.Second, 10: 5 * time.Minute, 64: 5 * time.Minute, 1 << 30: 5 * time.Minute,
	} {
		if got := backoff(n); got != want {
			t.Errorf("backoff(%d) = %s, want %s", n, got, want)
		}
	}
}

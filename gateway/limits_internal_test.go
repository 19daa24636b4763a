package gateway

import (
	"testing"
	"time"
)

// TestSlownessOutlivesIdle: when every in-flight attempt of a slow endpoint ends at once,
// the endpoint is still known to be slow, so its next deliveries keep to the cap instead of
// taking every worker for another round (seen as TestSlowEndpointDoesNotHoldUpTheRest
// failing now and then).
func TestSlownessOutlivesIdle(t *testing.T) {
	l := newLimits(3)
	t0 := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	ids := []string{"d1", "d2", "d3", "d4"}
	for _, id := range ids {
		if _, ok := l.admit("ep", id, 0, t0); !ok {
			t.Fatalf("admit(%s) refused before the endpoint is known to be slow", id)
		}
	}
	done := t0.Add(1500 * time.Millisecond)
	for _, id := range ids {
		l.finish("ep", id, done)
	}
	admitted := 0
	for _, id := range []string{"d5", "d6", "d7", "d8"} {
		if _, ok := l.admit("ep", id, 0, done); ok {
			admitted++
		}
	}
	if admitted != 3 {
		t.Fatalf("%d of 4 deliveries admitted after a round of 1.5 s attempts, want the cap of 3", admitted)
	}
}

package main

import (
	"context"
	"testing"
	"time"
)

// TestPacerHoldsTheRateByAbsoluteTime: event i is due at start + (i-1)/rate, so a second
// holds exactly rate events, and a publisher that fell behind is not made to wait (the slots
// it missed are not dropped, as a ticker drops late ticks).
func TestPacerHoldsTheRateByAbsoluteTime(t *testing.T) {
	start := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	p := pacer{start: start, rate: 3000}
	second := start.Add(time.Second)
	if due := p.due(3000); !due.Before(second) {
		t.Errorf("event 3000 is due at %v, want within the first second", due.Sub(start))
	}
	if due := p.due(3001); !due.Equal(second) {
		t.Errorf("event 3001 is due at %v, want 1s", due.Sub(start))
	}
	if due := p.due(1); !due.Equal(start) {
		t.Errorf("event 1 is due at %v, want at the start", due.Sub(start))
	}

	// Started an hour ago: every slot is past, nothing waits (a ticker would hand out one
	// tick, then make the publishers wait for the next).
	late := pacer{start: time.Now().Add(-time.Hour), rate: 1}
	done := make(chan bool, 1)
	go func() {
		ok := true
		for i := int64(1); i <= 1000; i++ {
			ok = ok && late.wait(context.Background(), i)
		}
		done <- ok
	}()
	select {
	case ok := <-done:
		if !ok {
			t.Fatal("wait reported a cancelled context")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a publisher an hour behind was made to wait for slots already past")
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if (pacer{start: time.Now().Add(time.Hour), rate: 1}).wait(ctx, 1) {
		t.Error("wait for a slot an hour ahead returned true with the context cancelled")
	}
}

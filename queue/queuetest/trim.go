package queuetest

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

func (s *suite) trim(t *testing.T, st gateway.Store, before time.Time, max, want int) {
	t.Helper()
	n, err := st.Trim(ctx, before, max)
	if err != nil {
		t.Fatalf("Trim(%v, %d): %v", before, max, err)
	}
	if n != want {
		t.Errorf("Trim(%v, %d) removed %d events, want %d", before, max, n, want)
	}
}

// Trim removes the events received before its time whose deliveries are all finished (or
// missing), with those deliveries; an event with a pending or paused delivery stays.
func (s *suite) testTrimFinishedOnly(t *testing.T) {
	st, _ := s.fresh(t)
	old, young := s.base, s.at(2*time.Hour)
	dl := func(id, ev string, status gateway.DeliveryStatus) *gateway.Delivery {
		var due *time.Time
		if status == gateway.StatusPending {
			due = ptr(old)
		}
		return delivery(id, ev, "ep", status, old, due)
	}
	add(t, st, event("evt_a", old), dl("a1", "evt_a", gateway.StatusSucceeded), dl("a2", "evt_a", gateway.StatusFailed))
	add(t, st, event("evt_b", old), dl("b1", "evt_b", gateway.StatusCanceled))
	add(t, st, event("evt_c", old), dl("c1", "evt_c", gateway.StatusSucceeded), dl("c2", "evt_c", gateway.StatusPending))
	add(t, st, event("evt_d", old), dl("d1", "evt_d", gateway.StatusPaused))
	add(t, st, event("evt_f", old))
	add(t, st, event("evt_g", old, "g_missing"))
	// A delivery that finishes later makes its event trimmable then.
	add(t, st, event("evt_h", old), dl("h1", "evt_h", gateway.StatusPending))
	// Received after the Trim's time (and, as in life, appended after the others: a backend
	// may stop at the first event received after the time).
	add(t, st, event("evt_e", young), dl("e1", "evt_e", gateway.StatusSucceeded))

	s.trim(t, st, s.at(time.Hour), 100, 4)
	if got, want := eventIDs(readAll(t, st, 100)), []string{"evt_c", "evt_d", "evt_h", "evt_e"}; !slices.Equal(got, want) {
		t.Errorf("events after Trim = %q, want %q", got, want)
	}
	for _, id := range []string{"a1", "a2", "b1"} {
		_, err := st.Delivery(ctx, id)
		wantNotFound(t, "Delivery("+id+") of a trimmed event", err)
	}
	for _, id := range []string{"c1", "c2", "d1", "e1", "h1"} {
		getDelivery(t, st, id)
	}
	wantJobs(t, "Lease after Trim", lease(t, st, s.at(time.Hour), 10, time.Minute), "c2", "h1")
	s.trim(t, st, s.at(time.Hour), 100, 0)

	h := getDelivery(t, st, "h1")
	h.Status, h.NextAttemptAt = gateway.StatusFailed, nil
	save(t, st, h)
	s.trim(t, st, s.at(time.Hour), 100, 1)
	_, err := st.Event(ctx, "evt_h")
	wantNotFound(t, "Event(evt_h) once its delivery failed", err)
	s.trim(t, st, s.at(3*time.Hour), 100, 1) // evt_e, now old enough
}

// The gateway's retention calls Trim until a call removes fewer than max: that must find
// every old finished event, even after an earlier call met only events too young to remove
// and more of them than one call reads (those must be read again once they are old).
func (s *suite) testTrimAfterYoung(t *testing.T) {
	st, _ := s.fresh(t)
	const n, max = 1200, 500
	var (
		wg   sync.WaitGroup
		next atomic.Int64
	)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
				ev := event(id("evt_", i), s.at(time.Hour))
				if _, err := st.Append(ctx, &gateway.Append{Event: ev}); err != nil {
					t.Errorf("Append(%s): %v", ev.ID, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	s.trim(t, st, s.at(time.Minute), 1, 0) // all too young
	removed := 0
	for {
		k, err := st.Trim(ctx, s.at(2*time.Hour), max)
		if err != nil {
			t.Fatalf("Trim: %v", err)
		}
		removed += k
		if k < max {
			break
		}
	}
	if removed != n {
		t.Errorf("Trim until it removes fewer than %d removed %d events, want all %d", max, removed, n)
	}
}

// Trim removes at most max events a call.
func (s *suite) testTrimMax(t *testing.T) {
	st, _ := s.fresh(t)
	for i := 0; i < 10; i++ {
		add(t, st, event(id("evt_", i), s.at(time.Duration(i)*time.Second)), delivery(id("dlv_", i), id("evt_", i), "ep", gateway.StatusSucceeded, s.base, nil))
	}
	for _, want := range []int{3, 3, 3, 1, 0} {
		s.trim(t, st, s.at(time.Hour), 3, want)
	}
	if n := len(readAll(t, st, 100)); n != 0 {
		t.Errorf("%d events left, want none", n)
	}
}

// The dedupe key of a trimmed event lives until its window ends, so that a replay inside the
// window is still a duplicate when retention is shorter; a key without a window goes with
// its event.
func (s *suite) testTrimDedupe(t *testing.T) {
	st, _ := s.fresh(t)
	week := 7 * 24 * time.Hour
	for _, a := range []*gateway.Append{
		{Event: event("evt_k", s.base, "dk"), Dedupe: "src/k", DedupeFor: week,
			Deliveries: []*gateway.Delivery{delivery("dk", "evt_k", "ep", gateway.StatusSucceeded, s.base, nil)}},
		{Event: event("evt_z", s.base, "dz"), Dedupe: "pub/z",
			Deliveries: []*gateway.Delivery{delivery("dz", "evt_z", "ep", gateway.StatusSucceeded, s.base, nil)}},
	} {
		if _, err := st.Append(ctx, a); err != nil {
			t.Fatalf("Append(%s): %v", a.Event.ID, err)
		}
	}
	s.trim(t, st, s.at(time.Hour), 100, 2)
	try := func(evID, key string, at time.Time, window time.Duration) *gateway.Appended {
		t.Helper()
		res, err := st.Append(ctx, &gateway.Append{Event: event(evID, at), Dedupe: key, DedupeFor: window})
		if err != nil {
			t.Fatalf("Append(%s): %v", evID, err)
		}
		return res
	}
	if r := try("evt_k2", "src/k", s.at(2*time.Hour), week); !r.Duplicate || r.ID != "evt_k" {
		t.Errorf("a replay 2 h later, its event trimmed = %+v, want a duplicate of evt_k", r)
	}
	if r := try("evt_z2", "pub/z", s.at(2*time.Hour), 0); r.Duplicate {
		t.Errorf("the same key without a window, its event trimmed = %+v, want it stored", r)
	}
	s.trim(t, st, s.at(3*time.Hour), 100, 1) // evt_z2, which has no deliveries
	if r := try("evt_k3", "src/k", s.at(6*24*time.Hour), week); !r.Duplicate || r.ID != "evt_k" {
		t.Errorf("a replay 6 days later = %+v, want a duplicate of evt_k", r)
	}
	if r := try("evt_k4", "src/k", s.at(week+time.Hour), week); r.Duplicate {
		t.Errorf("a replay 7 days 1 h later = %+v, want it stored (the window has passed)", r)
	}
}

package queuetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// Append stores the event with its deliveries; Event reads it back, Seq included; the
// deliveries get their first revision on the caller's records.
func (s *suite) testAppendAndGet(t *testing.T) {
	st, _ := s.fresh(t)
	ev := event("evt_a", s.base)
	ev.SourceEventID = "1001" // a catch hook's event keeps the provider's id
	d1 := delivery("dlv_a1", "evt_a", "ep_1", gateway.StatusPending, s.base, ptr(s.base))
	d2 := delivery("dlv_a2", "evt_a", "ep_2", gateway.StatusPaused, s.base, nil)
	res := add(t, st, ev, d1, d2)
	if d1.Rev == 0 || d2.Rev == 0 {
		t.Errorf("Append left delivery revisions %d and %d, want them set", d1.Rev, d2.Rev)
	}
	got, err := st.Event(ctx, "evt_a")
	if err != nil {
		t.Fatalf("Event: %v", err)
	}
	want := *ev
	want.Seq = res.Seq
	sameEvent(t, "Event(evt_a)", got, &want)
	for _, d := range []*gateway.Delivery{d1, d2} {
		sameDelivery(t, "Delivery("+d.ID+")", getDelivery(t, st, d.ID), d)
	}
	_, err = st.Event(ctx, "evt_none")
	wantNotFound(t, "Event(evt_none)", err)
	_, err = st.Delivery(ctx, "dlv_none")
	wantNotFound(t, "Delivery(dlv_none)", err)

	second := add(t, st, event("evt_b", s.at(time.Millisecond)))
	if second.Seq <= res.Seq {
		t.Errorf("second event's Seq %d is not after the first's %d", second.Seq, res.Seq)
	}
}

// Events pages through the log in Seq order: Next continues where a page stopped, More says
// whether anything is left, and a read past the end keeps the cursor.
func (s *suite) testEventOrder(t *testing.T) {
	st, _ := s.fresh(t)
	const n = 25
	var want []string
	for i := 0; i < n; i++ {
		// Received times out of order: the log's order is the order of appends.
		add(t, st, event(id("evt_", i), s.at(time.Duration((i*7)%n)*time.Second)))
		want = append(want, id("evt_", i))
	}
	all := readAll(t, st, 10)
	if got := eventIDs(all); !slices.Equal(got, want) {
		t.Fatalf("the log read in pages of 10 = %q, want %q", got, want)
	}
	for i := 1; i < len(all); i++ {
		if all[i].Seq <= all[i-1].Seq {
			t.Fatalf("Seq %d of %s is not after %d of %s", all[i].Seq, all[i].ID, all[i-1].Seq, all[i-1].ID)
		}
	}
	r, err := st.Events(ctx, gateway.EventQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Events) != 10 || !r.More || r.Next != all[9].Seq {
		t.Errorf("first page: %d events, More %v, Next %d; want 10, true, %d", len(r.Events), r.More, r.Next, all[9].Seq)
	}
	r, err = st.Events(ctx, gateway.EventQuery{After: all[19].Seq, Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if got := eventIDs(r.Events); !slices.Equal(got, want[20:]) || r.More || r.Next != all[24].Seq {
		t.Errorf("last page of exactly 5 = %q, More %v, Next %d; want %q, false, %d", got, r.More, r.Next, want[20:], all[24].Seq)
	}
	last := all[n-1].Seq
	r, err = st.Events(ctx, gateway.EventQuery{After: last, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Events) != 0 || r.More || r.Next != last {
		t.Errorf("read past the end: %d events, More %v, Next %d; want none, false, %d (the cursor kept)", len(r.Events), r.More, r.Next, last)
	}
	add(t, st, event("evt_late", s.base))
	r, err = st.Events(ctx, gateway.EventQuery{After: last, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got := eventIDs(r.Events); !slices.Equal(got, []string{"evt_late"}) {
		t.Errorf("read after a new append = %q, want [evt_late]", got)
	}
}

// Since starts the log at the first event received at or after it.
func (s *suite) testEventsSince(t *testing.T) {
	st, _ := s.fresh(t)
	for i := 0; i < 10; i++ {
		add(t, st, event(id("evt_", i), s.at(time.Duration(i)*time.Minute)))
	}
	r, err := st.Events(ctx, gateway.EventQuery{Since: s.at(6 * time.Minute), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := eventIDs(r.Events), []string{id("evt_", 6), id("evt_", 7), id("evt_", 8), id("evt_", 9)}; !slices.Equal(got, want) {
		t.Errorf("Events(Since minute 6) = %q, want %q", got, want)
	}
	r, err = st.Events(ctx, gateway.EventQuery{Since: s.at(time.Hour), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Events) != 0 || r.More {
		t.Errorf("Events(Since after the last) = %q, More %v; want none", eventIDs(r.Events), r.More)
	}
}

// Newest reads from the newest event backwards.
func (s *suite) testEventsNewest(t *testing.T) {
	st, _ := s.fresh(t)
	for i := 0; i < 10; i++ {
		add(t, st, event(id("evt_", i), s.at(time.Duration(i)*time.Second)))
	}
	r, err := st.Events(ctx, gateway.EventQuery{Newest: true, Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := eventIDs(r.Events), []string{id("evt_", 9), id("evt_", 8), id("evt_", 7)}; !slices.Equal(got, want) {
		t.Errorf("Events(Newest, Limit 3) = %q, want %q", got, want)
	}
	if !r.More || r.Next != r.Events[2].Seq {
		t.Errorf("Events(Newest, Limit 3): More %v, Next %d; want true, %d (the last event read)", r.More, r.Next, r.Events[2].Seq)
	}
	// Paging newest first: After is the sequence to read before.
	var got []string
	after := gateway.Seq(0)
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatalf("Events(Newest, Limit 4) paged more than 10 times: %q", got)
		}
		r, err = st.Events(ctx, gateway.EventQuery{Newest: true, After: after, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, eventIDs(r.Events)...)
		if !r.More {
			break
		}
		after = r.Next
	}
	var want []string
	for i := 9; i >= 0; i-- {
		want = append(want, id("evt_", i))
	}
	if !slices.Equal(got, want) {
		t.Errorf("Events(Newest) paged by 4 = %q, want %q", got, want)
	}
	oldest := r.Next
	r, err = st.Events(ctx, gateway.EventQuery{Newest: true, After: oldest, Limit: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Events) != 0 || r.More || r.Next != oldest {
		t.Errorf("Events(Newest, After the oldest) = %q, More %v, Next %d; want none, false, %d", eventIDs(r.Events), r.More, r.Next, oldest)
	}
}

// Match keeps some events; the others still count towards MaxScan and move Next, so that a
// filtered read never stalls on a long run of non-matching events.
func (s *suite) testEventsMatch(t *testing.T) {
	st, _ := s.fresh(t)
	var seqs []gateway.Seq
	for i := 0; i < 30; i++ {
		ev := event(id("evt_", i), s.at(time.Duration(i)*time.Second))
		if i%10 == 9 {
			ev.Type = "rare.happened"
		}
		seqs = append(seqs, add(t, st, ev).Seq)
	}
	rare := func(e *gateway.StoredEvent) bool { return e.Type == "rare.happened" }
	r, err := st.Events(ctx, gateway.EventQuery{Match: rare, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := eventIDs(r.Events), []string{id("evt_", 9), id("evt_", 19), id("evt_", 29)}; !slices.Equal(got, want) || r.More {
		t.Errorf("Events(Match rare) = %q, More %v; want %q, false", got, r.More, want)
	}
	r, err = st.Events(ctx, gateway.EventQuery{Match: rare, Limit: 100, MaxScan: 15})
	if err != nil {
		t.Fatal(err)
	}
	if got := eventIDs(r.Events); !slices.Equal(got, []string{id("evt_", 9)}) || !r.More || r.Next != seqs[14] {
		t.Errorf("Events(Match rare, MaxScan 15) = %q, More %v, Next %d; want [evt_00009], true, %d", got, r.More, r.Next, seqs[14])
	}
	r, err = st.Events(ctx, gateway.EventQuery{Match: rare, After: seqs[9], Limit: 100, MaxScan: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Events) != 0 || !r.More || r.Next != seqs[14] {
		t.Errorf("Events(Match rare, After the 10th, MaxScan 5) = %q, More %v, Next %d; want none, true, %d",
			eventIDs(r.Events), r.More, r.Next, seqs[14])
	}
	r, err = st.Events(ctx, gateway.EventQuery{Match: rare, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := eventIDs(r.Events); !slices.Equal(got, []string{id("evt_", 9), id("evt_", 19)}) || !r.More || r.Next != seqs[19] {
		t.Errorf("Events(Match rare, Limit 2) = %q, More %v, Next %d; want 2, true, %d", got, r.More, r.Next, seqs[19])
	}
}

// Concurrent appenders get strictly increasing, distinct sequences in the order their
// appends complete, and a reader following the log with After never misses an event, even
// one appended while it reads.
func (s *suite) testConcurrentAppenders(t *testing.T) {
	st, _ := s.fresh(t)
	const writers, each = 8, 200
	var (
		wg      sync.WaitGroup
		stop    = make(chan struct{})
		seen    []*gateway.StoredEvent
		readErr error
		readWG  sync.WaitGroup
	)
	readWG.Add(1)
	go func() { // the follower: reads after its cursor until told the writers are done
		defer readWG.Done()
		var after gateway.Seq
		for final := false; ; {
			select {
			case <-stop:
				final = true
			default:
			}
			grown := st.Appended() // taken before reading, as a waiter does
			r, err := st.Events(ctx, gateway.EventQuery{After: after, Limit: 50})
			if err != nil {
				readErr = err
				return
			}
			if r.More && r.Next <= after {
				readErr = fmt.Errorf("events after %d: More with Next %d, so a reader would stall", after, r.Next)
				return
			}
			seen = append(seen, r.Events...)
			after = r.Next
			if final && !r.More {
				return
			}
			if !final && len(r.Events) == 0 {
				select {
				case <-grown:
				case <-stop:
				}
			}
		}
	}()
	seqs := make([][]gateway.Seq, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				evID := fmt.Sprintf("evt_w%d_%03d", w, i)
				dl := delivery("dlv_"+evID, evID, fmt.Sprintf("ep_%d", w), gateway.StatusSucceeded, s.base, nil)
				ev := event(evID, s.base, dl.ID)
				res, err := st.Append(ctx, &gateway.Append{Event: ev, Deliveries: []*gateway.Delivery{dl}})
				if err != nil {
					t.Errorf("Append(%s): %v", evID, err)
					return
				}
				seqs[w] = append(seqs[w], res.Seq)
			}
		}()
	}
	wg.Wait()
	close(stop)
	readWG.Wait()
	if readErr != nil {
		t.Fatalf("Events while appending: %v", readErr)
	}
	for w, ss := range seqs {
		for i := 1; i < len(ss); i++ {
			if ss[i] <= ss[i-1] {
				t.Fatalf("writer %d: append %d got Seq %d after %d", w, i, ss[i], ss[i-1])
			}
		}
	}
	all := readAll(t, st, 333)
	if len(all) != writers*each {
		t.Fatalf("%d events in the log, want %d", len(all), writers*each)
	}
	ids := map[string]bool{}
	for i, e := range all {
		if i > 0 && e.Seq <= all[i-1].Seq {
			t.Fatalf("Seq %d of %s after %d", e.Seq, e.ID, all[i-1].Seq)
		}
		ids[e.ID] = true
	}
	if len(ids) != writers*each {
		t.Fatalf("%d distinct events in the log, want %d", len(ids), writers*each)
	}
	if got, want := eventIDs(seen), eventIDs(all); !slices.Equal(got, want) {
		missing := 0
		for _, id := range want {
			if !slices.Contains(got, id) {
				missing++
			}
		}
		t.Fatalf("the follower read %d events (%d missing), not the log's %d in order", len(got), missing, len(want))
	}
}

// An event appended under a dedupe key that is already stored is a duplicate: nothing is
// written and the answer names the first event. Another key, or none, is not.
func (s *suite) testDedupe(t *testing.T) {
	st, _ := s.fresh(t)
	first := event("evt_1", s.base, "dlv_1")
	res, err := st.Append(ctx, &gateway.Append{Event: first, Dedupe: "src/provider-1", DedupeFor: 24 * time.Hour,
		Deliveries: []*gateway.Delivery{delivery("dlv_1", "evt_1", "ep", gateway.StatusPending, s.base, ptr(s.base))}})
	if err != nil || res.Duplicate {
		t.Fatalf("first Append = %+v, %v", res, err)
	}
	drain(st.Wake())
	dup := event("evt_2", s.at(time.Minute), "dlv_2")
	got, err := st.Append(ctx, &gateway.Append{Event: dup, Dedupe: "src/provider-1", DedupeFor: 24 * time.Hour,
		Deliveries: []*gateway.Delivery{delivery("dlv_2", "evt_2", "ep", gateway.StatusPending, s.base, ptr(s.base))}})
	if err != nil {
		t.Fatalf("duplicate Append: %v", err)
	}
	if !got.Duplicate || got.ID != "evt_1" || got.Seq != res.Seq {
		t.Errorf("duplicate Append = %+v, want Duplicate of evt_1 at Seq %d", got, res.Seq)
	}
	_, err = st.Event(ctx, "evt_2")
	wantNotFound(t, "Event of the duplicate", err)
	_, err = st.Delivery(ctx, "dlv_2")
	wantNotFound(t, "Delivery of the duplicate", err)
	wantJobs(t, "Lease after the duplicate", lease(t, st, s.at(time.Hour), 10, time.Minute), "dlv_1")
	if n := len(readAll(t, st, 10)); n != 1 {
		t.Errorf("%d events in the log after a duplicate, want 1", n)
	}

	other, err := st.Append(ctx, &gateway.Append{Event: event("evt_3", s.at(time.Minute)), Dedupe: "src/provider-2", DedupeFor: time.Hour})
	if err != nil || other.Duplicate || other.ID != "evt_3" {
		t.Errorf("Append under another key = %+v, %v; want evt_3 stored", other, err)
	}
	none, err := st.Append(ctx, &gateway.Append{Event: event("evt_4", s.at(time.Minute))})
	if err != nil || none.Duplicate {
		t.Errorf("Append without a key = %+v, %v; want it stored", none, err)
	}
	forever, err := st.Append(ctx, &gateway.Append{Event: event("evt_5", s.base), Dedupe: "pub/forever"})
	if err != nil || forever.Duplicate {
		t.Fatalf("Append with DedupeFor 0 = %+v, %v", forever, err)
	}
	again, err := st.Append(ctx, &gateway.Append{Event: event("evt_6", s.at(400*24*time.Hour)), Dedupe: "pub/forever"})
	if err != nil || !again.Duplicate || again.ID != "evt_5" {
		t.Errorf("Append a year later under a DedupeFor 0 key = %+v, %v; want a duplicate of evt_5", again, err)
	}
}

// The publish API dedupes an event on its own id, for as long as the event is kept: the id
// stands for the event whether the next Append reuses it as its id or only as its key. An
// event stored under that id without that key is no duplicate (the id is taken: a
// conflict), nor is one whose key names it; and once trimmed, the id is free again.
func (s *suite) testDedupeOnID(t *testing.T) {
	st, _ := s.fresh(t)
	first, err := st.Append(ctx, &gateway.Append{Event: event("evt_1", s.base), Dedupe: "evt_1"})
	if err != nil || first.Duplicate {
		t.Fatalf("first Append = %+v, %v", first, err)
	}
	again, err := st.Append(ctx, &gateway.Append{Event: event("evt_1", s.at(time.Minute)), Dedupe: "evt_1"})
	if err != nil || !again.Duplicate || again.ID != "evt_1" || again.Seq != first.Seq {
		t.Errorf("the same id again = %+v, %v; want a duplicate of evt_1 at Seq %d", again, err, first.Seq)
	}
	other, err := st.Append(ctx, &gateway.Append{Event: event("evt_2", s.at(time.Minute)), Dedupe: "evt_1", DedupeFor: time.Hour})
	if err != nil || !other.Duplicate || other.ID != "evt_1" || other.Seq != first.Seq {
		t.Errorf("another event under evt_1's id as its key = %+v, %v; want a duplicate of evt_1", other, err)
	}

	add(t, st, event("evt_3", s.base)) // no dedupe key
	_, err = st.Append(ctx, &gateway.Append{Event: event("evt_3", s.at(time.Minute)), Dedupe: "evt_3"})
	wantConflict(t, "Append under the id of an event stored without that key", err)
	named, err := st.Append(ctx, &gateway.Append{Event: event("evt_4", s.at(time.Minute)), Dedupe: "evt_3"})
	if err != nil || named.Duplicate || named.ID != "evt_4" {
		t.Errorf("Append under a key that is another event's id only = %+v, %v; want evt_4 stored", named, err)
	}
	if n := len(readAll(t, st, 10)); n != 3 {
		t.Errorf("%d events in the log, want 3 (evt_1, evt_3, evt_4)", n)
	}

	s.trim(t, st, s.at(time.Hour), 100, 3)
	back, err := st.Append(ctx, &gateway.Append{Event: event("evt_1", s.at(2*time.Hour)), Dedupe: "evt_1"})
	if err != nil || back.Duplicate || back.Seq <= first.Seq {
		t.Errorf("the id again after its event was trimmed = %+v, %v; want it stored anew", back, err)
	}
}

// The dedupe window runs from the first event's ReceivedAt for the DedupeFor it was stored
// with; once it has passed, the key dedupes the new event instead.
func (s *suite) testDedupeWindow(t *testing.T) {
	st, _ := s.fresh(t)
	try := func(evID string, at time.Time) *gateway.Appended {
		t.Helper()
		res, err := st.Append(ctx, &gateway.Append{Event: event(evID, at), Dedupe: "k", DedupeFor: time.Hour})
		if err != nil {
			t.Fatalf("Append(%s): %v", evID, err)
		}
		return res
	}
	try("evt_1", s.base)
	if r := try("evt_2", s.at(59*time.Minute)); !r.Duplicate || r.ID != "evt_1" {
		t.Errorf("59 min later = %+v, want a duplicate of evt_1", r)
	}
	if r := try("evt_3", s.at(time.Hour)); r.Duplicate || r.ID != "evt_3" {
		t.Errorf("1 h later = %+v, want evt_3 stored (the window has passed)", r)
	}
	if r := try("evt_4", s.at(time.Hour+30*time.Minute)); !r.Duplicate || r.ID != "evt_3" {
		t.Errorf("1 h 30 min later = %+v, want a duplicate of evt_3 (its window)", r)
	}
}

// An event id that is already stored is a conflict, and nothing of the second Append is
// written.
func (s *suite) testDuplicateID(t *testing.T) {
	st, _ := s.fresh(t)
	add(t, st, event("evt_1", s.base))
	ev := event("evt_1", s.base, "dlv_x")
	_, err := st.Append(ctx, &gateway.Append{Event: ev, Deliveries: []*gateway.Delivery{delivery("dlv_x", "evt_1", "ep", gateway.StatusPending, s.base, nil)}})
	wantConflict(t, "Append of a stored event id", err)
	_, err = st.Delivery(ctx, "dlv_x")
	wantNotFound(t, "Delivery of the refused Append", err)
	if n := len(readAll(t, st, 10)); n != 1 {
		t.Errorf("%d events in the log, want 1", n)
	}
	got, err := st.Event(ctx, "evt_1")
	if err != nil || len(got.Deliveries) != 0 {
		t.Errorf("Event(evt_1) = %+v, %v; want the first one, unchanged", got, err)
	}
	// A delivery id that is already stored is refused too.
	add(t, st, event("evt_2", s.base), delivery("dlv_2", "evt_2", "ep", gateway.StatusSucceeded, s.base, nil))
	_, err = st.Append(ctx, &gateway.Append{Event: event("evt_3", s.base, "dlv_2"), Deliveries: []*gateway.Delivery{delivery("dlv_2", "evt_3", "ep", gateway.StatusPending, s.base, nil)}})
	wantConflict(t, "Append with a stored delivery id", err)
	if _, err := st.Event(ctx, "evt_3"); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("Event of the refused Append = %v, want %v", err, gateway.ErrNotFound)
	}
}

// Appended's channel is closed by the next Append, and a fresh one waits for the one after.
func (s *suite) testAppended(t *testing.T) {
	st, _ := s.fresh(t)
	c := st.Appended()
	select {
	case <-c:
		t.Fatal("Appended's channel is closed before anything was appended")
	default:
	}
	add(t, st, event("evt_1", s.base))
	if !signalled(c) {
		t.Fatal("Appended's channel not closed within 5 s of an Append")
	}
	waitFor(t, 5*time.Second, "a fresh Appended channel", func() bool {
		select {
		case <-st.Appended():
			return false
		default:
			return true
		}
	})
	c = st.Appended()
	add(t, st, event("evt_2", s.base))
	if !signalled(c) {
		t.Fatal("the fresh channel not closed within 5 s of the next Append")
	}
}

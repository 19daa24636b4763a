package queuetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// Records are copies: changing what was given to the store, or what it returned, changes
// nothing stored.
func (s *suite) testCopies(t *testing.T) {
	st, _ := s.fresh(t)
	ev := event("evt_1", s.base)
	d := delivery("dlv_1", "evt_1", "ep", gateway.StatusPending, s.base, ptr(s.at(time.Minute)))
	d.Attempts = append(d.Attempts, gateway.Attempt{At: s.base, StatusCode: 500})
	res := add(t, st, ev, d)
	wantEv := *event("evt_1", s.base, "dlv_1")
	wantEv.Seq = res.Seq
	wantD := *d
	wantD.Attempts = slices.Clone(d.Attempts)
	wantD.NextAttemptAt = ptr(*d.NextAttemptAt)

	// What was given.
	ev.Type, ev.Data[2], ev.Deliveries[0] = "mutated", 'X', "mutated"
	d.Status, d.Attempts[0].StatusCode, *d.NextAttemptAt = gateway.StatusFailed, 999, s.at(time.Hour)
	got, err := st.Event(ctx, "evt_1")
	if err != nil {
		t.Fatal(err)
	}
	sameEvent(t, "Event after changing what Append was given", got, &wantEv)
	sameDelivery(t, "Delivery after changing what Append was given", getDelivery(t, st, "dlv_1"), &wantD)

	// What was returned.
	got.Type, got.Data[2], got.Deliveries[0] = "mutated", 'X', "mutated"
	r, err := st.Events(ctx, gateway.EventQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	r.Events[0].Type, r.Events[0].Deliveries[0] = "mutated", "mutated"
	gd := getDelivery(t, st, "dlv_1")
	gd.Status, gd.Attempts[0].StatusCode, *gd.NextAttemptAt = gateway.StatusFailed, 999, s.at(time.Hour)
	l, err := st.ListDeliveries(ctx, gateway.DeliveryQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	l.Deliveries[0].Attempts[0].Error, *l.Deliveries[0].NextAttemptAt = "mutated", s.at(time.Hour)
	got, err = st.Event(ctx, "evt_1")
	if err != nil {
		t.Fatal(err)
	}
	sameEvent(t, "Event after changing what the store returned", got, &wantEv)
	sameDelivery(t, "Delivery after changing what the store returned", getDelivery(t, st, "dlv_1"), &wantD)

	// What SaveDeliveries was given.
	sd := getDelivery(t, st, "dlv_1")
	sd.Attempts = append(sd.Attempts, gateway.Attempt{At: s.base, StatusCode: 502})
	save(t, st, sd)
	wantD = *sd
	wantD.Attempts = slices.Clone(sd.Attempts)
	wantD.NextAttemptAt = ptr(*sd.NextAttemptAt)
	sd.Attempts[1].StatusCode, *sd.NextAttemptAt = 999, s.at(time.Hour)
	sameDelivery(t, "Delivery after changing what SaveDeliveries was given", getDelivery(t, st, "dlv_1"), &wantD)
	wantJobs(t, "Lease at the stored time", lease(t, st, s.at(time.Minute), 10, time.Minute), "dlv_1")

	// Request log entries.
	e := s.request(1)
	if err := st.LogRequest(ctx, "src", e, roomy); err != nil {
		t.Fatal(err)
	}
	e.Headers["Content-Type"], e.Body = "mutated", "mutated"
	reqs, err := st.Requests(ctx, "src", 10)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("Requests = %v, %v", reqs, err)
	}
	reqs[0].Headers["Content-Type"] = "mutated"
	s.wantRequests(t, st, "src", 10, 1)
}

// state is everything a store holds that a reopen must keep, read through the interfaces.
type state struct {
	Events     []*gateway.StoredEvent
	Deliveries []*gateway.Delivery
	Endpoints  []*gateway.Endpoint
	Sources    []*gateway.Source
	EventTypes []*gateway.EventTypeRecord
	RegRevs    map[string]uint64
	Requests   map[string][]*gateway.SourceRequest
}

func (s *suite) snapshot(t *testing.T, st gateway.Store) *state {
	t.Helper()
	out := &state{Events: readAll(t, st, 7), RegRevs: map[string]uint64{}, Requests: map[string][]*gateway.SourceRequest{}}
	q := gateway.DeliveryQuery{Oldest: true, Limit: 7}
	for {
		r, err := st.ListDeliveries(ctx, q)
		if err != nil {
			t.Fatalf("ListDeliveries: %v", err)
		}
		out.Deliveries = append(out.Deliveries, r.Deliveries...)
		if r.Next == "" {
			break
		}
		q.After = r.Next
	}
	var err error
	if out.Endpoints, err = st.Endpoints().List(ctx); err != nil {
		t.Fatalf("Endpoints().List: %v", err)
	}
	if out.Sources, err = st.Sources().List(ctx); err != nil {
		t.Fatalf("Sources().List: %v", err)
	}
	if out.EventTypes, err = st.EventTypes().List(ctx); err != nil {
		t.Fatalf("EventTypes().List: %v", err)
	}
	for _, ep := range out.Endpoints {
		_, rev, err := st.Endpoints().Get(ctx, ep.ID)
		if err != nil {
			t.Fatalf("Endpoints().Get(%s): %v", ep.ID, err)
		}
		out.RegRevs["ep/"+ep.ID] = rev
	}
	for _, src := range out.Sources {
		_, rev, err := st.Sources().Get(ctx, src.ID)
		if err != nil {
			t.Fatalf("Sources().Get(%s): %v", src.ID, err)
		}
		out.RegRevs["src/"+src.ID] = rev
	}
	for _, et := range out.EventTypes {
		_, rev, err := st.EventTypes().Get(ctx, et.Name)
		if err != nil {
			t.Fatalf("EventTypes().Get(%s): %v", et.Name, err)
		}
		out.RegRevs["et/"+et.Name] = rev
	}
	for _, src := range []string{"src_1", "src_2"} {
		if out.Requests[src], err = st.Requests(ctx, src, 100); err != nil {
			t.Fatalf("Requests(%s): %v", src, err)
		}
	}
	return out
}

// sameState fails t where got differs from want, record by record.
func sameState(t *testing.T, what string, got, want *state) {
	t.Helper()
	if len(got.Events) != len(want.Events) {
		t.Errorf("%s: %d events, want %d: %q", what, len(got.Events), len(want.Events), eventIDs(got.Events))
	} else {
		for i := range want.Events {
			sameEvent(t, fmt.Sprintf("%s: event %d", what, i), got.Events[i], want.Events[i])
		}
	}
	if len(got.Deliveries) != len(want.Deliveries) {
		t.Errorf("%s: %d deliveries, want %d: %q", what, len(got.Deliveries), len(want.Deliveries), deliveryIDs(got.Deliveries))
	} else {
		for i := range want.Deliveries {
			sameDelivery(t, fmt.Sprintf("%s: delivery %d", what, i), got.Deliveries[i], want.Deliveries[i])
		}
	}
	sameJSON(t, what+": endpoints", got.Endpoints, want.Endpoints)
	sameJSON(t, what+": sources", got.Sources, want.Sources)
	sameJSON(t, what+": event types", got.EventTypes, want.EventTypes)
	sameJSON(t, what+": registry revisions", got.RegRevs, want.RegRevs)
	for src, reqs := range want.Requests {
		sameJSON(t, what+": requests of "+src, got.Requests[src], reqs)
	}
}

// After Close and reopen the store holds what it held — events with their Seq, deliveries
// with their Rev, the registry with its revisions, the request logs — and its queue holds
// every pending delivery at its time, leases and holds gone (or kept until they end, for
// SharedLeases). Sequences, revisions and dedupe
// keys carry on.
func (s *suite) testReopen(t *testing.T) {
	s.persistent(t)
	st, dir := s.fresh(t)
	statuses := []gateway.DeliveryStatus{gateway.StatusPending, gateway.StatusSucceeded, gateway.StatusPaused, gateway.StatusFailed, gateway.StatusCanceled}
	for i := 0; i < 20; i++ {
		evID := id("evt_", i)
		a := &gateway.Append{Event: event(evID, s.at(time.Duration(i)*time.Second))}
		if i%4 == 0 {
			a.Dedupe, a.DedupeFor = "key/"+evID, 24*time.Hour
		}
		for j := 0; j < 2; j++ {
			status := statuses[(i+j)%len(statuses)]
			var due *time.Time
			if status == gateway.StatusPending {
				due = ptr(s.at(time.Duration(i) * time.Minute))
			}
			d := delivery(fmt.Sprintf("dlv_%02d_%d", i, j), evID, fmt.Sprintf("ep_%d", j), status, s.at(time.Duration(i)*time.Second), due)
			a.Deliveries = append(a.Deliveries, d)
			a.Event.Deliveries = append(a.Event.Deliveries, d.ID)
		}
		if _, err := st.Append(ctx, a); err != nil {
			t.Fatalf("Append(%s): %v", evID, err)
		}
	}
	// Some revisions move on; one pending delivery is leased, one held, one retried.
	for i := 0; i < 20; i += 3 {
		d := getDelivery(t, st, fmt.Sprintf("dlv_%02d_0", i))
		for k := 0; k < i%4+1; k++ {
			d.UpdatedAt = s.at(time.Duration(k) * time.Hour)
			save(t, st, d)
		}
	}
	jobs := lease(t, st, s.at(time.Hour), 3, 24*time.Hour)
	if len(jobs) != 3 {
		t.Fatalf("Lease = %d jobs, want 3", len(jobs))
	}
	st.Hold(jobs[1].Delivery, s.at(48*time.Hour))
	retry := getDelivery(t, st, jobs[2].Delivery)
	retry.NextAttemptAt = ptr(s.at(5 * time.Hour))
	save(t, st, retry)

	for i := 0; i < 3; i++ {
		rev, err := st.Endpoints().Put(ctx, id("ep_", i), &gateway.Endpoint{ID: id("ep_", i), URL: "https://example.com/" + id("", i), Kind: "webhook", Events: []string{"*"}, CreatedAt: s.base}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if _, err := st.Endpoints().Put(ctx, id("ep_", i), &gateway.Endpoint{ID: id("ep_", i), URL: "https://example.com/changed", Kind: "webhook", CreatedAt: s.base}, rev); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.Endpoints().Delete(ctx, id("ep_", 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Sources().Put(ctx, "src_1", &gateway.Source{ID: "src_1", Name: "one", Provider: "generic", CreatedAt: s.base}, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.EventTypes().Put(ctx, "custom.one", &gateway.EventTypeRecord{Name: "custom.one", Description: "one"}, 0); err != nil {
		t.Fatal(err)
	}
	s.logRequests(t, st, "src_1", roomy, 0, 4)
	s.logRequests(t, st, "src_2", gateway.LogBound{Entries: 2, Bytes: 1 << 20, MaxAge: time.Hour}, 10, 13)

	want := s.snapshot(t, st)
	wantDue := map[string]time.Time{}
	for _, d := range want.Deliveries {
		if d.Status == gateway.StatusPending {
			wantDue[d.ID] = *d.NextAttemptAt
		}
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for round := 1; round <= 2; round++ {
		st = s.reopen(t, dir)
		sameState(t, fmt.Sprintf("reopen %d", round), s.snapshot(t, st), want)
		// Leases and holds are gone (or, when shared, over): every pending delivery is due
		// at its own time.
		far := s.at(365 * 24 * time.Hour)
		if s.opts.SharedLeases {
			far = far.Add(time.Duration(round) * time.Hour)
		}
		jobs := lease(t, st, far, 1000, time.Minute)
		gotDue := map[string]time.Time{}
		for i, j := range jobs {
			gotDue[j.Delivery] = j.Due
			if i > 0 && j.Due.Before(jobs[i-1].Due) {
				t.Errorf("reopen %d: job %s due %v after one due %v", round, j.Delivery, j.Due, jobs[i-1].Due)
			}
		}
		if len(gotDue) != len(wantDue) {
			t.Errorf("reopen %d: %d jobs queued, want %d", round, len(gotDue), len(wantDue))
		}
		for id, due := range wantDue {
			if g, ok := gotDue[id]; !ok || !g.Equal(due) {
				t.Errorf("reopen %d: job %s due %v (queued %v), want %v", round, id, g, ok, due)
			}
		}
		if err := st.Close(); err != nil {
			t.Fatalf("reopen %d: Close: %v", round, err)
		}
	}

	// Everything carries on after a reopen.
	st = s.reopen(t, dir)
	last := want.Events[len(want.Events)-1].Seq
	res := add(t, st, event("evt_new", s.at(time.Hour)))
	if res.Seq <= last {
		t.Errorf("Seq after reopen = %d, want more than %d", res.Seq, last)
	}
	r, err := st.Events(ctx, gateway.EventQuery{After: last, Limit: 10})
	if err != nil || !slices.Equal(eventIDs(r.Events), []string{"evt_new"}) {
		t.Errorf("Events after the old last Seq = %v, %v; want [evt_new]", r, err)
	}
	dup, err := st.Append(ctx, &gateway.Append{Event: event("evt_dup", s.at(time.Hour)), Dedupe: "key/" + id("evt_", 4), DedupeFor: 24 * time.Hour})
	if err != nil || !dup.Duplicate || dup.ID != id("evt_", 4) {
		t.Errorf("Append under a dedupe key stored before the reopen = %+v, %v; want a duplicate", dup, err)
	}
	d := want.Deliveries[3]
	rev := d.Rev
	d.UpdatedAt = s.at(9 * time.Hour)
	save(t, st, d)
	if d.Rev <= rev {
		t.Errorf("Rev after a save after reopen = %d, want more than %d", d.Rev, rev)
	}
	_, err = st.Endpoints().Put(ctx, id("ep_", 1), &gateway.Endpoint{ID: id("ep_", 1)}, want.RegRevs["ep/"+id("ep_", 1)]-1)
	wantConflict(t, "Put with a stale rev after reopen", err)
	if _, err := st.Endpoints().Put(ctx, id("ep_", 1), &gateway.Endpoint{ID: id("ep_", 1)}, want.RegRevs["ep/"+id("ep_", 1)]); err != nil {
		t.Errorf("Put with the current rev after reopen: %v", err)
	}
}

// Close while writers append: every Append either returns nil — and then the event and its
// deliveries are there after a reopen — or an error; none hangs, and no event is found
// without its deliveries.
func (s *suite) testCloseRacing(t *testing.T) {
	st, dir := s.fresh(t)
	const writers = 8
	var (
		wg    sync.WaitGroup
		total atomic.Int32
	)
	acked := make([][]string, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				evID := fmt.Sprintf("evt_%d_%06d", w, i)
				d := delivery("dlv_"+evID, evID, "ep", gateway.StatusPending, s.base, ptr(s.base))
				_, err := st.Append(ctx, &gateway.Append{Event: event(evID, s.base, d.ID), Deliveries: []*gateway.Delivery{d}})
				if err != nil {
					return
				}
				acked[w] = append(acked[w], evID)
				total.Add(1)
			}
		}()
	}
	waitFor(t, 10*time.Second, "200 appends before Close", func() bool { return total.Load() >= 200 })
	closed := make(chan error, 1)
	go func() { closed <- st.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close hung with appends in flight")
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(20 * time.Second):
		t.Fatal("appends hung after Close")
	}
	if s.opts.Volatile {
		return
	}
	st = s.reopen(t, dir)
	all := readAll(t, st, 500)
	have := map[string]bool{}
	for _, e := range all {
		have[e.ID] = true
		for _, did := range e.Deliveries {
			if _, err := st.Delivery(ctx, did); err != nil {
				t.Errorf("event %s without its delivery %s after reopen: %v", e.ID, did, err)
			}
		}
	}
	n := 0
	for _, ids := range acked {
		for _, evID := range ids {
			n++
			if !have[evID] {
				t.Errorf("acknowledged event %s missing after reopen", evID)
			}
		}
	}
	if len(all) < n {
		t.Errorf("%d events after reopen, fewer than the %d acknowledged", len(all), n)
	}
}

// After Close every call fails (those without an error do nothing and do not panic),
// watches end, and a second Close returns nil.
func (s *suite) testClose(t *testing.T) {
	st, _ := s.fresh(t)
	add(t, st, event("evt_1", s.base), delivery("dlv_1", "evt_1", "ep", gateway.StatusPending, s.base, ptr(s.base)))
	if _, err := st.Endpoints().Put(ctx, "ep", &gateway.Endpoint{ID: "ep"}, 0); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watches := []func(){}
	watchEP, watchSrc, watchET := st.Endpoints().Watch(wctx), st.Sources().Watch(wctx), st.EventTypes().Watch(wctx)
	watches = append(watches,
		func() { waitClosed(t, "an endpoints Watch after Close", watchEP) },
		func() { waitClosed(t, "a sources Watch after Close", watchSrc) },
		func() { waitClosed(t, "an event types Watch after Close", watchET) })
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, w := range watches {
		w()
	}
	d := delivery("dlv_2", "evt_2", "ep", gateway.StatusPending, s.base, nil)
	calls := map[string]func() error{
		"Append": func() error {
			_, err := st.Append(ctx, &gateway.Append{Event: event("evt_2", s.base, "dlv_2"), Deliveries: []*gateway.Delivery{d}})
			return err
		},
		"Event":            func() error { _, err := st.Event(ctx, "evt_1"); return err },
		"Events":           func() error { _, err := st.Events(ctx, gateway.EventQuery{Limit: 10}); return err },
		"Delivery":         func() error { _, err := st.Delivery(ctx, "dlv_1"); return err },
		"SaveDeliveries":   func() error { return st.SaveDeliveries(ctx, d) },
		"ListDeliveries":   func() error { _, err := st.ListDeliveries(ctx, gateway.DeliveryQuery{}); return err },
		"Lease":            func() error { _, err := st.Lease(ctx, s.base, 10, time.Minute); return err },
		"Trim":             func() error { _, err := st.Trim(ctx, s.at(time.Hour), 10); return err },
		"Endpoints().Get":  func() error { _, _, err := st.Endpoints().Get(ctx, "ep"); return err },
		"Endpoints().Put":  func() error { _, err := st.Endpoints().Put(ctx, "ep2", &gateway.Endpoint{}, 0); return err },
		"Endpoints().Del":  func() error { return st.Endpoints().Delete(ctx, "ep") },
		"Endpoints().List": func() error { _, err := st.Endpoints().List(ctx); return err },
		"Sources().Get":    func() error { _, _, err := st.Sources().Get(ctx, "s"); return err },
		"Sources().Put":    func() error { _, err := st.Sources().Put(ctx, "s", &gateway.Source{}, 0); return err },
		"Sources().Delete": func() error { return st.Sources().Delete(ctx, "s") },
		"Sources().List":   func() error { _, err := st.Sources().List(ctx); return err },
		"EventTypes().Get": func() error { _, _, err := st.EventTypes().Get(ctx, "x"); return err },
		"EventTypes().Put": func() error {
			_, err := st.EventTypes().Put(ctx, "x", &gateway.EventTypeRecord{Name: "x"}, 0)
			return err
		},
		"EventTypes().Delete": func() error { return st.EventTypes().Delete(ctx, "x") },
		"EventTypes().List":   func() error { _, err := st.EventTypes().List(ctx); return err },
		"LogRequest":          func() error { return st.LogRequest(ctx, "src", s.request(0), roomy) },
		"Requests":            func() error { _, err := st.Requests(ctx, "src", 10); return err },
		"DropRequests":        func() error { return st.DropRequests(ctx, "src") },
	}
	for name, call := range calls {
		if err := call(); err == nil {
			t.Errorf("%s after Close = nil, want an error", name)
		}
	}
	// The calls without an error must not panic.
	st.Hold("dlv_1", s.at(time.Hour))
	st.Release("dlv_1")
	st.NextDue(s.base)
	_ = st.Wake()
	_ = st.Appended()
	waitClosed(t, "a Watch started after Close", st.Endpoints().Watch(wctx))

	done := make(chan error, 1)
	go func() { done <- st.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("second Close = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("second Close hung")
	}
}

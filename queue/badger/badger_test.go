package badger_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger"
)

var ctx = context.Background()

// base is the origin of the times in these tests: the wall clock at the start, in UTC,
// so that what Badger expires by the wall clock (dedupe keys, request logs) lines up.
var base = time.Now().UTC().Truncate(time.Millisecond)

func open(t testing.TB, dir string, opts ...badger.Options) *badger.Store {
	t.Helper()
	var o badger.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	o.Dir = dir
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	st, err := badger.Open(o)
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// event returns an Append of event id received at at, with one pending delivery per
// endpoint in eps, due at at.
func event(id string, at time.Time, eps ...string) *gateway.Append {
	a := &gateway.Append{Event: &gateway.StoredEvent{
		Event:      gateway.Event{ID: id, Type: "video.posted", Source: "tokportal", Created: at, Data: json.RawMessage(`{"n": 1}`)},
		ReceivedAt: at,
	}}
	for _, ep := range eps {
		due := at
		a.Deliveries = append(a.Deliveries, &gateway.Delivery{ID: "dlv_" + id + "_" + ep, EventID: id, EndpointID: ep,
			EventType: "video.posted", Status: gateway.StatusPending, Attempts: []gateway.Attempt{},
			NextAttemptAt: &due, CreatedAt: at, UpdatedAt: at})
	}
	return a
}

func appendOK(t *testing.T, st gateway.Store, a *gateway.Append) *gateway.Appended {
	t.Helper()
	res, err := st.Append(ctx, a)
	if err != nil {
		t.Fatalf("Append(%s): %v", a.Event.ID, err)
	}
	return res
}

func eventIDs(t *testing.T, st gateway.Store, q gateway.EventQuery) ([]string, *gateway.EventRange) {
	t.Helper()
	r, err := st.Events(ctx, q)
	if err != nil {
		t.Fatalf("Events(%+v): %v", q, err)
	}
	var ids []string
	for _, ev := range r.Events {
		ids = append(ids, fmt.Sprintf("%s@%d", ev.ID, ev.Seq))
	}
	return ids, r
}

// The log's sequence continues after a reopen, and everything Append stored is there:
// the event as given (its data byte for byte), its deliveries with their revisions, and
// their queue entries at their due times (leases are not kept).
func TestReopenKeepsTheLogAndTheQueue(t *testing.T) {
	dir := t.TempDir()
	st := open(t, dir)
	for i := range 3 {
		res := appendOK(t, st, event(fmt.Sprintf("evt_%d", i), base.Add(time.Duration(i)*time.Second), "ep_a"))
		if res.Seq != gateway.Seq(i+1) {
			t.Fatalf("Append #%d: Seq %d, want %d", i, res.Seq, i+1)
		}
	}
	if jobs, err := st.Lease(ctx, base, 10, time.Hour); err != nil || len(jobs) != 1 {
		t.Fatalf("Lease(base) = %v, %v; want evt_0's delivery", jobs, err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	st = open(t, dir)
	res := appendOK(t, st, event("evt_3", base.Add(3*time.Second)))
	if res.Seq != 4 {
		t.Fatalf("Append after reopen: Seq %d, want 4", res.Seq)
	}
	ids, r := eventIDs(t, st, gateway.EventQuery{})
	if got, want := strings.Join(ids, " "), "evt_0@1 evt_1@2 evt_2@3 evt_3@4"; got != want || r.Next != 4 || r.More {
		t.Fatalf("Events after reopen = %s (next %d, more %v), want %s (next 4)", got, r.Next, r.More, want)
	}
	ev, err := st.Event(ctx, "evt_1")
	if err != nil {
		t.Fatal(err)
	}
	if string(ev.Data) != `{"n": 1}` || !ev.ReceivedAt.Equal(base.Add(time.Second)) || ev.Seq != 2 ||
		len(ev.Deliveries) != 1 || ev.Deliveries[0] != "dlv_evt_1_ep_a" {
		t.Fatalf("Event(evt_1) after reopen = %+v", ev)
	}
	d, err := st.Delivery(ctx, "dlv_evt_1_ep_a")
	if err != nil || d.Rev != 1 || d.Status != gateway.StatusPending {
		t.Fatalf("Delivery after reopen = %+v, %v; want pending at rev 1", d, err)
	}
	// The lease taken before the Close is gone: all three are due in order.
	jobs, err := st.Lease(ctx, base.Add(time.Hour), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, j := range jobs {
		got = append(got, j.Delivery+"→"+j.Endpoint)
	}
	if want := "dlv_evt_0_ep_a→ep_a dlv_evt_1_ep_a→ep_a dlv_evt_2_ep_a→ep_a"; strings.Join(got, " ") != want {
		t.Fatalf("Lease after reopen = %v, want %s", got, want)
	}
}

// An Append that fails writes nothing: not the event, not a delivery, not a queue entry,
// not its dedupe key, and its Seq is not used up.
func TestFailedAppendWritesNothing(t *testing.T) {
	st := open(t, t.TempDir())
	appendOK(t, st, event("evt_1", base, "ep_a"))

	// A delivery id that is already stored fails the whole Append.
	a := event("evt_2", base, "ep_b")
	a.Deliveries = append(a.Deliveries, event("evt_1", base, "ep_a").Deliveries[0])
	a.Dedupe, a.DedupeFor = "key-2", time.Hour
	if _, err := st.Append(ctx, a); !errors.Is(err, gateway.ErrConflict) {
		t.Fatalf("Append with a stored delivery id: %v, want ErrConflict", err)
	}
	// Too large for one transaction: thousands of deliveries, five entries each (their
	// records go to the value log, leaving pointers in the transaction, but the entries
	// count).
	big := event("evt_3", base)
	for i := range 6000 {
		d := *event("evt_3", base, "ep").Deliveries[0]
		d.ID = fmt.Sprintf("dlv_big_%d", i)
		big.Deliveries = append(big.Deliveries, &d)
	}
	if _, err := st.Append(ctx, big); !errors.Is(err, gateway.ErrTooLarge) {
		t.Fatalf("Append of 6,000 deliveries: %v, want ErrTooLarge", err)
	}

	for _, id := range []string{"evt_2", "evt_3"} {
		if _, err := st.Event(ctx, id); !errors.Is(err, gateway.ErrNotFound) {
			t.Errorf("Event(%s) after a failed Append: %v, want ErrNotFound", id, err)
		}
	}
	for _, id := range []string{"dlv_evt_2_ep_b", "dlv_big_0", "dlv_big_2999"} {
		if _, err := st.Delivery(ctx, id); !errors.Is(err, gateway.ErrNotFound) {
			t.Errorf("Delivery(%s) after a failed Append: %v, want ErrNotFound", id, err)
		}
	}
	jobs, err := st.Lease(ctx, base.Add(time.Hour), 10, time.Minute)
	if err != nil || len(jobs) != 1 || jobs[0].Delivery != "dlv_evt_1_ep_a" {
		t.Fatalf("Lease after failed Appends = %v, %v; want only evt_1's delivery", jobs, err)
	}
	res := appendOK(t, st, &gateway.Append{Event: event("evt_4", base).Event, Dedupe: "key-2", DedupeFor: time.Hour})
	if res.Duplicate || res.Seq != 2 {
		t.Fatalf("next Append = %+v, want Seq 2 and no duplicate (the failed one kept no key)", res)
	}
	if a.Event.Seq != 0 || a.Deliveries[0].Rev != 0 {
		t.Fatalf("a failed Append set Seq %d, Rev %d; want both left 0", a.Event.Seq, a.Deliveries[0].Rev)
	}
}

// Dedupe keys: one without a window lasts as long as its event (Trim takes it along), one
// with a window outlives a trimmed event until the window ends, counted between the
// events' ReceivedAt. Both survive a reopen.
func TestDedupeKeys(t *testing.T) {
	dir := t.TempDir()
	st := open(t, dir)
	withWindow := func(id string, at time.Time) *gateway.Append {
		a := event(id, at)
		a.Dedupe, a.DedupeFor = "src_1/provider-1", 24*time.Hour
		return a
	}
	forever := func(id string, at time.Time) *gateway.Append {
		a := event(id, at)
		a.Dedupe = "evt_p"
		return a
	}
	appendOK(t, st, withWindow("evt_w", base))
	appendOK(t, st, forever("evt_p", base))
	st.Close()
	st = open(t, dir)

	if res := appendOK(t, st, withWindow("evt_w2", base.Add(23*time.Hour))); !res.Duplicate || res.ID != "evt_w" || res.Seq != 1 {
		t.Fatalf("inside the window: %+v, want a duplicate of evt_w@1", res)
	}
	if res := appendOK(t, st, forever("evt_p2", base.Add(1000*time.Hour))); !res.Duplicate || res.ID != "evt_p" {
		t.Fatalf("a key without a window: %+v, want a duplicate of evt_p", res)
	}
	if n, err := st.Trim(ctx, base.Add(time.Minute), 100); err != nil || n != 2 {
		t.Fatalf("Trim = %d, %v; want both events (they have no deliveries)", n, err)
	}
	if res := appendOK(t, st, withWindow("evt_w3", base.Add(23*time.Hour))); !res.Duplicate || res.ID != "evt_w" {
		t.Fatalf("inside the window after Trim: %+v, want still a duplicate of evt_w", res)
	}
	if res := appendOK(t, st, forever("evt_p3", base.Add(time.Hour))); res.Duplicate {
		t.Fatalf("a key without a window after its event was trimmed: %+v, want stored", res)
	}
	if res := appendOK(t, st, withWindow("evt_w4", base.Add(24*time.Hour))); res.Duplicate {
		t.Fatalf("at the end of the window: %+v, want stored", res)
	}
}

// Trim removes finished events with their deliveries and keeps every event with a pending
// or paused delivery; a later call picks up what became finished.
func TestTrim(t *testing.T) {
	st := open(t, t.TempDir())
	for i := range 10 {
		appendOK(t, st, event(fmt.Sprintf("evt_%02d", i), base.Add(time.Duration(i)*time.Second), "ep_a"))
	}
	finish := func(id string, status gateway.DeliveryStatus) {
		t.Helper()
		d, err := st.Delivery(ctx, "dlv_"+id+"_ep_a")
		if err != nil {
			t.Fatal(err)
		}
		d.Status, d.NextAttemptAt = status, nil
		if err := st.SaveDeliveries(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 8 {
		finish(fmt.Sprintf("evt_%02d", i), []gateway.DeliveryStatus{gateway.StatusSucceeded, gateway.StatusFailed, gateway.StatusCanceled, gateway.StatusPaused}[i%4])
	}
	// evt_03 and evt_07 are paused, evt_08 and evt_09 pending, evt_06 too new.
	before := base.Add(6 * time.Second)
	if n, err := st.Trim(ctx, before, 2); err != nil || n != 2 {
		t.Fatalf("Trim(max 2) = %d, %v; want 2", n, err)
	}
	if n, err := st.Trim(ctx, before, 100); err != nil || n != 3 {
		t.Fatalf("Trim(max 100) = %d, %v; want the other 3", n, err)
	}
	if n, err := st.Trim(ctx, before, 100); err != nil || n != 0 {
		t.Fatalf("Trim again = %d, %v; want 0", n, err)
	}
	ids, _ := eventIDs(t, st, gateway.EventQuery{})
	if got, want := strings.Join(ids, " "), "evt_03@4 evt_06@7 evt_07@8 evt_08@9 evt_09@10"; got != want {
		t.Fatalf("after Trim: %s, want %s", got, want)
	}
	for _, id := range []string{"dlv_evt_00_ep_a", "dlv_evt_05_ep_a"} {
		if _, err := st.Delivery(ctx, id); !errors.Is(err, gateway.ErrNotFound) {
			t.Errorf("Delivery(%s) after Trim: %v, want ErrNotFound", id, err)
		}
	}
	page, err := st.ListDeliveries(ctx, gateway.DeliveryQuery{Oldest: true})
	if err != nil || len(page.Deliveries) != 5 || page.Deliveries[0].ID != "dlv_evt_03_ep_a" {
		t.Fatalf("ListDeliveries after Trim = %d deliveries, %v; want the 5 kept, evt_03's first", len(page.Deliveries), err)
	}
	finish("evt_03", gateway.StatusCanceled)
	if n, err := st.Trim(ctx, before, 100); err != nil || n != 1 {
		t.Fatalf("Trim after evt_03 was canceled = %d, %v; want 1", n, err)
	}
}

// ListDeliveries reads the paused index for an endpoint's paused deliveries, and keeps it
// in step with the status.
func TestListPausedFollowsTheStatus(t *testing.T) {
	st := open(t, t.TempDir())
	for i := range 6 {
		a := event(fmt.Sprintf("evt_%d", i), base.Add(time.Duration(i)*time.Second), "ep_a")
		a.Deliveries[0].Status, a.Deliveries[0].NextAttemptAt = gateway.StatusPaused, nil
		appendOK(t, st, a)
	}
	paused := func() string {
		t.Helper()
		page, err := st.ListDeliveries(ctx, gateway.DeliveryQuery{Endpoint: "ep_a", Status: gateway.StatusPaused, Oldest: true, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range page.Deliveries {
			ids = append(ids, strings.TrimSuffix(strings.TrimPrefix(d.ID, "dlv_"), "_ep_a"))
		}
		return strings.Join(ids, " ") + " next=" + page.Next
	}
	if got, want := paused(), "evt_0 evt_1 evt_2 evt_3 next=dlv_evt_3_ep_a"; got != want {
		t.Fatalf("paused = %q, want %q", got, want)
	}
	d, _ := st.Delivery(ctx, "dlv_evt_1_ep_a")
	now := base.Add(time.Minute)
	d.Status, d.NextAttemptAt = gateway.StatusPending, &now
	if err := st.SaveDeliveries(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got, want := paused(), "evt_0 evt_2 evt_3 evt_4 next=dlv_evt_4_ep_a"; got != want {
		t.Fatalf("paused after resuming evt_1 = %q, want %q", got, want)
	}
	if _, ok := st.NextDue(base); !ok {
		t.Fatal("NextDue: nothing queued after evt_1's delivery was saved pending")
	}
}

// A request log keeps its bound across a reopen (it recounts what is stored).
func TestRequestLogBoundAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	st := open(t, dir)
	bound := gateway.LogBound{Entries: 3, MaxAge: time.Hour}
	logReq := func(st *badger.Store, i int) {
		t.Helper()
		e := &gateway.SourceRequest{ID: fmt.Sprintf("req_%d", i), ReceivedAt: base.Add(time.Duration(i) * time.Second), Result: gateway.ResultAccepted}
		if err := st.LogRequest(ctx, "src_1", e, bound); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		logReq(st, i)
	}
	st.Close()
	st = open(t, dir)
	logReq(st, 3)
	logReq(st, 4)
	got, err := st.Requests(ctx, "src_1", 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range got {
		ids = append(ids, e.ID)
	}
	if strings.Join(ids, " ") != "req_4 req_3 req_2" {
		t.Fatalf("Requests = %v, want the newest 3, newest first", ids)
	}
}

// Watch sees committed puts and deletes in order and closes when its context ends, and
// every method fails (none panics) after Close.
func TestWatchAndClose(t *testing.T) {
	st := open(t, t.TempDir())
	wctx, cancel := context.WithCancel(ctx)
	ch := st.Endpoints().Watch(wctx)
	rev, err := st.Endpoints().Put(ctx, "ep_1", &gateway.Endpoint{ID: "ep_1", URL: "https://a.example"}, 0)
	if err != nil || rev != 1 {
		t.Fatalf("Put = %d, %v", rev, err)
	}
	if _, err := st.Endpoints().Put(ctx, "ep_1", &gateway.Endpoint{ID: "ep_1"}, 0); !errors.Is(err, gateway.ErrConflict) {
		t.Fatalf("Put over an existing record with rev 0: %v, want ErrConflict", err)
	}
	if err := st.Endpoints().Delete(ctx, "ep_1"); err != nil {
		t.Fatal(err)
	}
	c1, c2 := <-ch, <-ch
	if c1.ID != "ep_1" || c1.Rev != 1 || c1.Value == nil || c1.Value.URL != "https://a.example" || !c2.Deleted {
		t.Fatalf("Watch = %+v, %+v; want the put then the delete", c1, c2)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for _, ok := <-ch; ok; _, ok = <-ch {
		if time.Now().After(deadline) {
			t.Fatal("Watch's channel still open after its context ended")
		}
	}

	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	checks := map[string]error{}
	_, checks["Append"] = st.Append(ctx, event("evt_x", base))
	_, checks["Event"] = st.Event(ctx, "evt_x")
	_, checks["Events"] = st.Events(ctx, gateway.EventQuery{})
	_, checks["Delivery"] = st.Delivery(ctx, "d")
	checks["SaveDeliveries"] = st.SaveDeliveries(ctx, &gateway.Delivery{ID: "d"})
	_, checks["ListDeliveries"] = st.ListDeliveries(ctx, gateway.DeliveryQuery{})
	_, checks["Lease"] = st.Lease(ctx, base, 1, time.Minute)
	_, _, checks["Get"] = st.Sources().Get(ctx, "s")
	_, checks["Put"] = st.EventTypes().Put(ctx, "t", &gateway.EventTypeRecord{Name: "t"}, 0)
	_, checks["List"] = st.Endpoints().List(ctx)
	checks["LogRequest"] = st.LogRequest(ctx, "s", &gateway.SourceRequest{ID: "r"}, gateway.LogBound{})
	_, checks["Requests"] = st.Requests(ctx, "s", 1)
	_, checks["Trim"] = st.Trim(ctx, base, 1)
	for name, err := range checks {
		if !errors.Is(err, gateway.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", name, err)
		}
	}
	st.Hold("d", base)
	st.Release("d")
	if _, ok := st.NextDue(base); ok {
		t.Error("NextDue after Close reports work")
	}
	if _, ok := <-st.Sources().Watch(ctx); ok {
		t.Error("Watch after Close: the channel is open")
	}
}

// The volume numbers the gateway's free-space guard reads through an interface.
func TestSpace(t *testing.T) {
	dir := t.TempDir()
	st := open(t, dir, badger.Options{MemTableMiB: 32})
	var guard interface {
		Dir() string
		Headroom() uint64
	} = st
	if guard.Dir() != dir || guard.Headroom() != badger.Headroom(badger.Options{MemTableMiB: 32}) ||
		guard.Headroom() <= badger.Headroom(badger.Options{}) {
		t.Fatalf("Dir, Headroom = %q, %d", guard.Dir(), guard.Headroom())
	}
	if n, err := badger.OpenSpace(dir); err != nil || n == 0 {
		t.Fatalf("OpenSpace = %d, %v", n, err)
	}
}

// Concurrent LogRequests of one source share group commits, and once they have all
// returned the log is within its bound.
func TestRequestLogConcurrent(t *testing.T) {
	st := open(t, t.TempDir())
	bound := gateway.LogBound{Entries: 20}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				e := &gateway.SourceRequest{ID: fmt.Sprintf("req_%d_%02d", g, i), ReceivedAt: base.Add(time.Duration(i) * time.Millisecond)}
				if err := st.LogRequest(ctx, "src_1", e, bound); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := st.Requests(ctx, "src_1", 0)
	if err != nil || len(got) != 20 {
		t.Fatalf("Requests after 200 concurrent LogRequests = %d entries, %v; want 20", len(got), err)
	}
	if !got[0].ReceivedAt.Equal(base.Add(24 * time.Millisecond)) {
		t.Fatalf("newest entry received at %v, want the last round's", got[0].ReceivedAt)
	}
}

// Events with Since returns exactly the events received at or after it, in Seq order,
// although ReceivedAt is not quite in Seq order (the Service reads its clock before the
// commit that orders the log), also with gaps left by Trim and across a reopen.
func TestEventsSinceWithSkew(t *testing.T) {
	dir := t.TempDir()
	st := open(t, dir, badger.Options{NoSync: true}) // 3,000 appends, one at a time
	rng := rand.New(rand.NewPCG(1, 2))
	received := map[string]time.Time{}
	var order []string
	for i := range 3000 {
		// Mostly increasing, up to 3 s behind the clock at times.
		at := base.Add(time.Duration(i) * 100 * time.Millisecond)
		if rng.IntN(10) == 0 {
			at = at.Add(-time.Duration(rng.IntN(3000)) * time.Millisecond)
		}
		id := fmt.Sprintf("evt_%04d", i)
		a := event(id, at)
		if i%7 == 0 {
			a = event(id, at, "ep_keep") // a pending delivery: Trim keeps it
		}
		appendOK(t, st, a)
		received[id] = at
		order = append(order, id)
	}
	if _, err := st.Trim(ctx, base.Add(100*time.Second), 500); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st = open(t, dir, badger.Options{NoSync: true})
	for _, since := range []time.Duration{0, time.Millisecond, 50 * time.Second, 120 * time.Second, 299 * time.Second, 299*time.Second + 900*time.Millisecond, 400 * time.Second} {
		q := gateway.EventQuery{Since: base.Add(since)}
		var want []string
		for _, id := range order {
			if _, err := st.Event(ctx, id); err == nil && !received[id].Before(q.Since) {
				want = append(want, id)
			}
		}
		r, err := st.Events(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range r.Events {
			got = append(got, ev.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Events(Since base+%v) = %d events, want %d (first %v, want %v)", since, len(got), len(want), first(got), first(want))
		}
	}
}

func first(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return ids[0]
}

// One Append, and one SaveDeliveries, takes an event's fan-out to 1,000 endpoints with
// ids as the gateway makes them (a prefix and a ULID), in one transaction.
func TestAThousandDeliveriesInOneCall(t *testing.T) {
	st := open(t, t.TempDir())
	a := event("evt_01JDQX4Z7B8K2M3N4P5Q6R7S8T", base)
	for i := range 1000 {
		due := base
		a.Deliveries = append(a.Deliveries, &gateway.Delivery{
			ID: fmt.Sprintf("dlv_01JDQX4Z7B8K2M3N4P5Q%06d", i), EventID: a.Event.ID,
			EndpointID: fmt.Sprintf("ep_01JDQX4Z7B8K2M3N4P5Q%06d", i), EventType: "video.posted",
			Status: gateway.StatusPending, Attempts: []gateway.Attempt{}, NextAttemptAt: &due, CreatedAt: base, UpdatedAt: base})
	}
	appendOK(t, st, a)
	for _, d := range a.Deliveries {
		at := base.Add(time.Minute)
		d.Status, d.NextAttemptAt, d.Step = gateway.StatusPending, &at, 1
		d.Attempts = append(d.Attempts, gateway.Attempt{At: base, StatusCode: 500, DurationMS: 12, ResponseBody: "internal error"})
	}
	if err := st.SaveDeliveries(ctx, a.Deliveries...); err != nil {
		t.Fatalf("SaveDeliveries of 1,000: %v", err)
	}
}

// Readers busy while the store closes get their answer or ErrClosed, never a panic or a
// read of a closed database.
func TestCloseWithReadersInFlight(t *testing.T) {
	st := open(t, t.TempDir(), badger.Options{MemJobs: 8})
	for i := range 50 {
		appendOK(t, st, event(fmt.Sprintf("evt_%02d", i), base, "ep_a"))
	}
	var (
		wg    sync.WaitGroup
		reads atomic.Int64
	)
	for g := range 8 {
		wg.Go(func() {
			for {
				reads.Add(1)
				var err error
				switch g % 4 {
				case 0:
					_, err = st.Events(ctx, gateway.EventQuery{})
				case 1:
					_, err = st.Delivery(ctx, "dlv_evt_01_ep_a")
				case 2:
					var jobs []gateway.Job
					jobs, err = st.Lease(ctx, base.Add(time.Hour), 4, time.Nanosecond)
					for _, j := range jobs {
						st.Release(j.Delivery)
					}
					st.NextDue(base)
				case 3:
					_, err = st.Endpoints().List(ctx)
				}
				if errors.Is(err, gateway.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("reader %d: %v", g, err)
					return
				}
			}
		})
	}
	for deadline := time.Now().Add(10 * time.Second); reads.Load() < 200; { // readers at work
		if time.Now().After(deadline) {
			t.Fatal("readers made no progress")
		}
		runtime.Gosched()
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

// A data folder already open (in another process, or here) is refused with ErrLocked, so
// that hookgate mcp can tell "a gateway is running on it" from a broken store.
func TestOpenLockedFolderIsErrLocked(t *testing.T) {
	dir := t.TempDir()
	st, err := badger.Open(badger.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = badger.Open(badger.Options{Dir: dir})
	if !errors.Is(err, badger.ErrLocked) {
		t.Fatalf("second Open of %s = %v, want ErrLocked", dir, err)
	}
}

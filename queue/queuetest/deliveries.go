package queuetest

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// Append's deliveries are readable at once; the pending one is queued at its time, the
// paused one is not.
func (s *suite) testCreatedByAppend(t *testing.T) {
	st, _ := s.fresh(t)
	due := s.at(time.Minute)
	add(t, st, event("evt_1", s.base),
		delivery("dlv_p", "evt_1", "ep_1", gateway.StatusPending, s.base, &due),
		delivery("dlv_z", "evt_1", "ep_2", gateway.StatusPaused, s.base, nil))
	for _, id := range []string{"dlv_p", "dlv_z"} {
		if d := getDelivery(t, st, id); d.Rev == 0 || d.EventID != "evt_1" {
			t.Errorf("Delivery(%s) = %+v, want it stored with a revision", id, d)
		}
	}
	wantJobs(t, "Lease before the pending delivery is due", lease(t, st, s.base, 10, time.Minute))
	jobs := lease(t, st, due, 10, time.Minute)
	wantJobs(t, "Lease when it is due", jobs, "dlv_p")
	if len(jobs) == 1 && (jobs[0].Endpoint != "ep_1" || !jobs[0].Due.Equal(due)) {
		t.Errorf("job = %+v, want endpoint ep_1 due %v", jobs[0], due)
	}
	wantJobs(t, "Lease an hour later", lease(t, st, s.at(time.Hour+2*time.Minute), 10, time.Minute), "dlv_p")
}

// SaveDeliveries is a compare-and-swap on Rev, all or none across the deliveries it is given.
func (s *suite) testCAS(t *testing.T) {
	st, _ := s.fresh(t)
	add(t, st, event("evt_1", s.base),
		delivery("dlv_a", "evt_1", "ep", gateway.StatusPending, s.base, ptr(s.base)),
		delivery("dlv_b", "evt_1", "ep", gateway.StatusPending, s.base, ptr(s.base)))

	a := getDelivery(t, st, "dlv_a")
	stale := getDelivery(t, st, "dlv_a")
	first := a.Rev
	a.Status, a.NextAttemptAt = gateway.StatusSucceeded, nil
	a.Attempts = append(a.Attempts, gateway.Attempt{At: s.base, StatusCode: 200, DurationMS: 12})
	save(t, st, a)
	if a.Rev <= first {
		t.Errorf("Rev after a save = %d, want more than %d", a.Rev, first)
	}
	sameDelivery(t, "Delivery after a save", getDelivery(t, st, "dlv_a"), a)

	stale.Status = gateway.StatusFailed
	wantConflict(t, "SaveDeliveries with a stale Rev", st.SaveDeliveries(ctx, stale))
	sameDelivery(t, "Delivery after a refused save", getDelivery(t, st, "dlv_a"), a)

	// All or none: a good and a stale one together write neither.
	b := getDelivery(t, st, "dlv_b")
	a2 := getDelivery(t, st, "dlv_a")
	a2.UpdatedAt = s.at(time.Hour)
	staleB := *b
	staleB.Rev = b.Rev + 7
	staleB.Status = gateway.StatusCanceled
	wantConflict(t, "SaveDeliveries of a current and a stale one", st.SaveDeliveries(ctx, a2, &staleB))
	sameDelivery(t, "the current one after the refused pair", getDelivery(t, st, "dlv_a"), a)
	sameDelivery(t, "the stale one after the refused pair", getDelivery(t, st, "dlv_b"), b)
	wantJobs(t, "Lease after the refused pair", lease(t, st, s.base, 10, time.Minute), "dlv_b")

	// Rev 0 creates a delivery that must not exist yet.
	n := delivery("dlv_new", "evt_1", "ep", gateway.StatusSucceeded, s.base, nil)
	save(t, st, n)
	if n.Rev == 0 {
		t.Error("SaveDeliveries of a new delivery left Rev 0")
	}
	sameDelivery(t, "the new delivery", getDelivery(t, st, "dlv_new"), n)
	again := delivery("dlv_new", "evt_1", "ep", gateway.StatusFailed, s.base, nil)
	wantConflict(t, "SaveDeliveries with Rev 0 of a stored delivery", st.SaveDeliveries(ctx, again))
	wrong := delivery("dlv_never", "evt_1", "ep", gateway.StatusFailed, s.base, nil)
	wrong.Rev = 3
	wantConflict(t, "SaveDeliveries with Rev 3 of a delivery never stored", st.SaveDeliveries(ctx, wrong))
	_, err := st.Delivery(ctx, "dlv_never")
	wantNotFound(t, "Delivery of the refused new one", err)

	// Several saves in a row: each one's Rev is the next's expectation.
	for i := 0; i < 5; i++ {
		prev := a.Rev
		a.UpdatedAt = s.at(time.Duration(i) * time.Second)
		save(t, st, a)
		if a.Rev <= prev {
			t.Fatalf("save %d: Rev %d after %d", i, a.Rev, prev)
		}
	}
}

// A store that is a gateway.DeliveryUpdater saves a delivery from the record the caller read
// as SaveDeliveries does: a compare-and-swap on Rev, the paused index and the work queue
// moved as the status changes, and a was that doesn't match d read from the store instead.
func (s *suite) testUpdateDelivery(t *testing.T) {
	st, _ := s.fresh(t)
	u, ok := st.(gateway.DeliveryUpdater)
	if !ok {
		t.Skip("the backend is not a DeliveryUpdater")
	}
	add(t, st, event("evt_1", s.base),
		delivery("dlv_a", "evt_1", "ep", gateway.StatusPending, s.base, ptr(s.base)),
		delivery("dlv_b", "evt_1", "ep", gateway.StatusPending, s.base, ptr(s.base)))
	paused := gateway.DeliveryQuery{Endpoint: "ep", Status: gateway.StatusPaused}
	update := func(what string, was, d *gateway.Delivery) {
		t.Helper()
		rev := d.Rev
		if err := u.UpdateDelivery(ctx, was, d); err != nil {
			t.Fatalf("%s: UpdateDelivery: %v", what, err)
		}
		if d.Rev <= rev {
			t.Errorf("%s: Rev %d after an update from %d", what, d.Rev, rev)
		}
		sameDelivery(t, what, getDelivery(t, st, d.ID), d)
	}

	was := getDelivery(t, st, "dlv_a")
	a := *was
	a.Status, a.NextAttemptAt = gateway.StatusPaused, nil
	update("pending → paused", was, &a)
	if ids, _ := listIDs(t, st, paused); !slices.Equal(ids, []string{"dlv_a"}) {
		t.Errorf("paused deliveries = %q, want [dlv_a]", ids)
	}
	const ttl = 24 * time.Hour
	wantJobs(t, "Lease after pausing dlv_a", lease(t, st, s.base, 10, ttl), "dlv_b")

	stale := *was // dlv_a as it was before the update: its Rev is behind
	stale.Status = gateway.StatusCanceled
	wantConflict(t, "UpdateDelivery with a stale Rev", u.UpdateDelivery(ctx, was, &stale))
	sameDelivery(t, "Delivery after a refused update", getDelivery(t, st, "dlv_a"), &a)

	was = getDelivery(t, st, "dlv_a")
	a2 := *was
	a2.Status, a2.NextAttemptAt = gateway.StatusPending, ptr(s.at(time.Minute))
	update("paused → pending", was, &a2)
	if ids, _ := listIDs(t, st, paused); len(ids) != 0 {
		t.Errorf("paused deliveries = %q after dlv_a left paused, want none", ids)
	}
	wantJobs(t, "Lease when dlv_a is due again", lease(t, st, s.at(time.Minute), 10, ttl), "dlv_a")

	// A was of another delivery is not taken for the record replaced, even at the same
	// revision: the store reads it (dlv_b is pending, not paused as the wrong was says).
	b := getDelivery(t, st, "dlv_b")
	wrong := getDelivery(t, st, "dlv_a")
	wrong.Status, wrong.Rev = gateway.StatusPaused, b.Rev
	b.Status, b.NextAttemptAt = gateway.StatusPaused, nil
	update("an update with another delivery's was", wrong, b)
	if ids, _ := listIDs(t, st, paused); !slices.Equal(ids, []string{"dlv_b"}) {
		t.Errorf("paused deliveries = %q, want [dlv_b]", ids)
	}
	wantJobs(t, "Lease once every lease has expired", lease(t, st, s.at(2*ttl), 10, ttl), "dlv_a")
}

// Writers racing on one delivery, each reading it and saving with the Rev it read, lose no
// update: every save that succeeded is in the stored record.
func (s *suite) testConcurrentUpdates(t *testing.T) {
	st, _ := s.fresh(t)
	add(t, st, event("evt_1", s.base), delivery("dlv_1", "evt_1", "ep", gateway.StatusPaused, s.base, nil))
	const writers, each = 8, 25
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; {
				d, err := st.Delivery(ctx, "dlv_1")
				if err != nil {
					t.Errorf("Delivery: %v", err)
					return
				}
				d.Attempts = append(d.Attempts, gateway.Attempt{At: s.base, Error: fmt.Sprintf("w%d-%d", w, i)})
				switch err := st.SaveDeliveries(ctx, d); {
				case errors.Is(err, gateway.ErrConflict):
				case err != nil:
					t.Errorf("SaveDeliveries: %v", err)
					return
				default:
					i++
				}
			}
		}()
	}
	wg.Wait()
	d := getDelivery(t, st, "dlv_1")
	if len(d.Attempts) != writers*each {
		t.Fatalf("%d attempts recorded, want %d (updates were lost)", len(d.Attempts), writers*each)
	}
	seen := map[string]bool{}
	for _, a := range d.Attempts {
		seen[a.Error] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct attempts, want %d", len(seen), writers*each)
	}
}

// listFixture stores n deliveries over three endpoints, created two per second (so that
// ties are ordered by id), of every status; it returns them in creation order.
func (s *suite) listFixture(t *testing.T, st gateway.Store, n int) []*gateway.Delivery {
	t.Helper()
	statuses := []gateway.DeliveryStatus{gateway.StatusSucceeded, gateway.StatusFailed, gateway.StatusPending, gateway.StatusPaused, gateway.StatusCanceled}
	var ds []*gateway.Delivery
	for i := 0; i < n; i++ {
		// Stored in an order that is neither creation's nor the ids'.
		j := (i * 7) % n
		d := delivery(id("dlv_", j), "evt", fmt.Sprintf("ep_%c", 'a'+j%3), statuses[j%len(statuses)], s.at(time.Duration(j/2)*time.Second), ptr(s.at(time.Hour)))
		ds = append(ds, d)
	}
	for i := 0; i < len(ds); i += 100 {
		save(t, st, ds[i:min(i+100, len(ds))]...)
	}
	slices.SortFunc(ds, func(a, b *gateway.Delivery) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return ds
}

// pick returns the ids of ds that keep accepts, reversed unless oldest.
func pick(ds []*gateway.Delivery, oldest bool, keep func(*gateway.Delivery) bool) []string {
	var ids []string
	for _, d := range ds {
		if keep == nil || keep(d) {
			ids = append(ids, d.ID)
		}
	}
	if !oldest {
		slices.Reverse(ids)
	}
	return ids
}

func listIDs(t *testing.T, st gateway.Store, q gateway.DeliveryQuery) ([]string, string) {
	t.Helper()
	r, err := st.ListDeliveries(ctx, q)
	if err != nil {
		t.Fatalf("ListDeliveries(%+v): %v", q, err)
	}
	return deliveryIDs(r.Deliveries), r.Next
}

// ListDeliveries orders by creation then id, newest first unless Oldest, per endpoint or
// across all, by status, and within Since (inclusive) and Until (exclusive).
func (s *suite) testListDeliveries(t *testing.T) {
	st, _ := s.fresh(t)
	ds := s.listFixture(t, st, 30)
	ep := func(e string) func(*gateway.Delivery) bool {
		return func(d *gateway.Delivery) bool { return d.EndpointID == e }
	}
	since, until := s.at(5*time.Second), s.at(10*time.Second)
	within := func(d *gateway.Delivery) bool { return !d.CreatedAt.Before(since) && d.CreatedAt.Before(until) }
	cases := []struct {
		name string
		q    gateway.DeliveryQuery
		keep func(*gateway.Delivery) bool
	}{
		{"all, newest first", gateway.DeliveryQuery{Limit: 100}, nil},
		{"all, oldest first", gateway.DeliveryQuery{Limit: 100, Oldest: true}, nil},
		{"ep_b, newest first", gateway.DeliveryQuery{Endpoint: "ep_b", Limit: 100}, ep("ep_b")},
		{"ep_a, oldest first", gateway.DeliveryQuery{Endpoint: "ep_a", Limit: 100, Oldest: true}, ep("ep_a")},
		{"failed", gateway.DeliveryQuery{Status: gateway.StatusFailed, Limit: 100}, func(d *gateway.Delivery) bool { return d.Status == gateway.StatusFailed }},
		{"ep_c paused, oldest first", gateway.DeliveryQuery{Endpoint: "ep_c", Status: gateway.StatusPaused, Limit: 100, Oldest: true},
			func(d *gateway.Delivery) bool { return d.EndpointID == "ep_c" && d.Status == gateway.StatusPaused }},
		{"since and until, oldest first", gateway.DeliveryQuery{Since: since, Until: until, Limit: 100, Oldest: true}, within},
		{"since and until, newest first", gateway.DeliveryQuery{Since: since, Until: until, Limit: 100}, within},
		{"ep_a since, newest first", gateway.DeliveryQuery{Endpoint: "ep_a", Since: since, Limit: 100},
			func(d *gateway.Delivery) bool { return d.EndpointID == "ep_a" && !d.CreatedAt.Before(since) }},
		{"ep_b until, oldest first", gateway.DeliveryQuery{Endpoint: "ep_b", Until: until, Limit: 100, Oldest: true},
			func(d *gateway.Delivery) bool { return d.EndpointID == "ep_b" && d.CreatedAt.Before(until) }},
		{"an endpoint without deliveries", gateway.DeliveryQuery{Endpoint: "ep_none", Limit: 100}, func(*gateway.Delivery) bool { return false }},
	}
	for _, c := range cases {
		got, next := listIDs(t, st, c.q)
		if want := pick(ds, c.q.Oldest, c.keep); !slices.Equal(got, want) || next != "" {
			t.Errorf("%s = %q, next %q; want %q, next empty", c.name, got, next, want)
		}
	}
	r, err := st.ListDeliveries(ctx, gateway.DeliveryQuery{Endpoint: "ep_a", Limit: 1})
	if err != nil || len(r.Deliveries) != 1 {
		t.Fatalf("ListDeliveries(ep_a, Limit 1) = %+v, %v", r, err)
	}
	for _, d := range ds {
		if d.ID == r.Deliveries[0].ID {
			sameDelivery(t, "a listed delivery", r.Deliveries[0], d)
		}
	}
}

// Paging with After visits every delivery once, in order, whatever the page size, and the
// page that reaches the end has no Next.
func (s *suite) testListPaging(t *testing.T) {
	st, _ := s.fresh(t)
	ds := s.listFixture(t, st, 30)
	for _, q := range []gateway.DeliveryQuery{
		{Limit: 7}, {Limit: 7, Oldest: true}, {Limit: 5}, {Limit: 1, Oldest: true},
		{Endpoint: "ep_b", Limit: 3}, {Endpoint: "ep_c", Limit: 4, Oldest: true},
		{Status: gateway.StatusPending, Limit: 2},
	} {
		want := pick(ds, q.Oldest, func(d *gateway.Delivery) bool {
			return (q.Endpoint == "" || d.EndpointID == q.Endpoint) && (q.Status == "" || d.Status == q.Status)
		})
		var got []string
		for page := 0; ; page++ {
			ids, next := listIDs(t, st, q)
			got = append(got, ids...)
			if next == "" {
				break
			}
			if page > 100 {
				t.Fatalf("%+v: paging never ends", q)
			}
			q.After = next
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages of %+v = %q, want %q", q, got, want)
		}
	}
	_, err := st.ListDeliveries(ctx, gateway.DeliveryQuery{After: "dlv_none"})
	wantNotFound(t, "ListDeliveries after a delivery that is not stored", err)
}

// MaxScan cuts a page short that would read too much, with Next set so that paging goes on.
func (s *suite) testListMaxScan(t *testing.T) {
	st, _ := s.fresh(t)
	var ds []*gateway.Delivery
	for i := 0; i < 40; i++ {
		status := gateway.StatusSucceeded
		if i%10 == 9 {
			status = gateway.StatusFailed
		}
		ds = append(ds, delivery(id("dlv_", i), "evt", "ep", status, s.at(time.Duration(i)*time.Second), nil))
	}
	save(t, st, ds...)
	q := gateway.DeliveryQuery{Endpoint: "ep", Status: gateway.StatusFailed, Oldest: true, Limit: 100, MaxScan: 15}
	ids, next := listIDs(t, st, q)
	if !slices.Equal(ids, []string{id("dlv_", 9)}) || next != id("dlv_", 14) {
		t.Errorf("first page with MaxScan 15 = %q, next %q; want [dlv_00009], next dlv_00014 (the last read)", ids, next)
	}
	var got []string
	q.After = ""
	for page := 0; ; page++ {
		ids, next := listIDs(t, st, q)
		got = append(got, ids...)
		if next == "" {
			break
		}
		if page > 100 {
			t.Fatal("paging with MaxScan never ends")
		}
		q.After = next
	}
	if want := []string{id("dlv_", 9), id("dlv_", 19), id("dlv_", 29), id("dlv_", 39)}; !slices.Equal(got, want) {
		t.Errorf("pages with MaxScan 15 = %q, want %q", got, want)
	}
	// Across endpoints too, newest first.
	ids, next = listIDs(t, st, gateway.DeliveryQuery{Status: gateway.StatusFailed, Limit: 100, MaxScan: 5})
	if !slices.Equal(ids, []string{id("dlv_", 39)}) || next != id("dlv_", 35) {
		t.Errorf("newest first with MaxScan 5 = %q, next %q; want [dlv_00039], next dlv_00035", ids, next)
	}
}

// Limit defaults to 50 and is at most 1000.
func (s *suite) testListLimit(t *testing.T) {
	st, _ := s.fresh(t)
	s.listFixture(t, st, 1100)
	for _, c := range []struct{ limit, want int }{{0, 50}, {-1, 50}, {999, 999}, {5000, 1000}} {
		r, err := st.ListDeliveries(ctx, gateway.DeliveryQuery{Limit: c.limit})
		if err != nil {
			t.Fatalf("ListDeliveries(Limit %d): %v", c.limit, err)
		}
		if len(r.Deliveries) != c.want || r.Next == "" {
			t.Errorf("ListDeliveries(Limit %d): %d deliveries, next %q; want %d and a next page", c.limit, len(r.Deliveries), r.Next, c.want)
		}
	}
}

// AddDeliveries adds deliveries to a stored event as if Append had: listed on the event,
// queued, keeping it from Trim while pending, and trimmed with it; all or none.
func (s *suite) testAddDeliveries(t *testing.T) {
	st, dir := s.fresh(t)
	add(t, st, event("evt_1", s.base), delivery("dlv_own", "evt_1", "ep_1", gateway.StatusSucceeded, s.base, nil))
	late := delivery("dlv_late", "evt_1", "ep_2", gateway.StatusPending, s.at(time.Hour), ptr(s.at(time.Hour)))
	if err := st.AddDeliveries(ctx, "evt_1", late); err != nil {
		t.Fatalf("AddDeliveries: %v", err)
	}
	if late.Rev == 0 {
		t.Errorf("AddDeliveries left the revision 0")
	}
	if err := st.AddDeliveries(ctx, "evt_1", delivery("dlv_x", "evt_1", "ep_3", gateway.StatusPending, s.base, ptr(s.base)), delivery("dlv_late", "evt_1", "ep_2", gateway.StatusPending, s.base, ptr(s.base))); !errors.Is(err, gateway.ErrConflict) {
		t.Errorf("AddDeliveries with a delivery already stored = %v, want ErrConflict", err)
	}
	if _, err := st.Delivery(ctx, "dlv_x"); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("a refused AddDeliveries stored dlv_x: %v", err)
	}
	if err := st.AddDeliveries(ctx, "evt_none", delivery("dlv_y", "evt_none", "ep", gateway.StatusPending, s.base, ptr(s.base))); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("AddDeliveries to an event not stored = %v, want ErrNotFound", err)
	}
	if !s.opts.Volatile {
		if err := st.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		st = s.reopen(t, dir)
	}
	ev, err := st.Event(ctx, "evt_1")
	if err != nil || !slices.Equal(ev.Deliveries, []string{"dlv_own", "dlv_late"}) {
		t.Fatalf("Event(evt_1) = %+v, %v, want it to list dlv_own and dlv_late", ev, err)
	}
	wantJobs(t, "Lease when the added delivery is due", lease(t, st, s.at(time.Hour), 10, time.Minute), "dlv_late")
	s.trim(t, st, s.at(2*time.Hour), 100, 0) // the added delivery is pending: the event stays
	d := getDelivery(t, st, "dlv_late")
	d.Status, d.NextAttemptAt = gateway.StatusSucceeded, nil
	save(t, st, d)
	s.trim(t, st, s.at(2*time.Hour), 100, 1)
	_, err = st.Delivery(ctx, "dlv_late")
	wantNotFound(t, "Delivery(dlv_late) after its event was trimmed", err)
}

package badger_test

import (
	"maps"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger"
)

// record saves d, which the test read as was, the way the dispatcher records an attempt
// (UpdateDelivery) or the way a caller without the old record does (SaveDeliveries).
type record func(st *badger.Store, was, d *gateway.Delivery) error

var records = []struct {
	name string
	save record
}{
	{"UpdateDelivery", func(st *badger.Store, was, d *gateway.Delivery) error { return st.UpdateDelivery(ctx, was, d) }},
	{"SaveDeliveries", func(st *badger.Store, _, d *gateway.Delivery) error { return st.SaveDeliveries(ctx, d) }},
}

// retry saves d again with step and next (nil: due at once) as its next attempt, as the
// dispatcher does after a failed attempt, and returns the saved delivery.
func retry(t *testing.T, st *badger.Store, save record, d *gateway.Delivery, step int, next *time.Time, status gateway.DeliveryStatus) *gateway.Delivery {
	t.Helper()
	c := *d
	c.Attempts = append(append([]gateway.Attempt(nil), d.Attempts...), gateway.Attempt{At: base, StatusCode: 500, DurationMS: 3})
	c.Status, c.Step, c.NextAttemptAt = status, step, next
	if err := save(st, d, &c); err != nil {
		t.Fatalf("saving %s at step %d: %v", d.ID, step, err)
	}
	return &c
}

// wantQueue checks what the store has queued, on disk (Backlog) and for Lease at now
// (after every lease has expired): want maps each queued delivery to its endpoint.
func wantQueue(t *testing.T, st *badger.Store, what string, now time.Time, want map[string]string) {
	t.Helper()
	b, err := st.Backlog(ctx)
	if err != nil {
		t.Fatalf("%s: Backlog: %v", what, err)
	}
	perEndpoint := map[string]int{}
	for _, ep := range want {
		perEndpoint[ep]++
	}
	if !maps.Equal(b.Pending, perEndpoint) {
		t.Errorf("%s: Backlog = %v, want %v", what, b.Pending, perEndpoint)
	}
	jobs, err := st.Lease(ctx, now, 100, time.Minute)
	if err != nil {
		t.Fatalf("%s: Lease: %v", what, err)
	}
	got := map[string]string{}
	for _, j := range jobs {
		got[j.Delivery] = j.Endpoint
		st.Release(j.Delivery)
	}
	if !maps.Equal(got, want) {
		t.Errorf("%s: Lease = %v, want %v", what, got, want)
	}
}

// A delivery retried several times (later, at once, later again), each save moving its
// job, then delivered, leaves no job behind: none on disk, none for Lease once every lease
// has expired, none after a reopen. While it is pending it has exactly one job, at its
// latest time.
func TestRetriedThenDeliveredLeavesNoJob(t *testing.T) {
	for _, r := range records {
		t.Run(r.name, func(t *testing.T) {
			dir := t.TempDir()
			st := open(t, dir)
			a := event("evt_1", base, "ep_a")
			appendOK(t, st, a)
			d := a.Deliveries[0]
			id := d.ID
			later := base.Add(48 * time.Hour) // past every due time and lease below

			for step, next := range []*time.Time{ptr(base.Add(time.Minute)), nil, ptr(base.Add(time.Hour)), ptr(base.Add(2 * time.Hour))} {
				jobs, err := st.Lease(ctx, later, 10, time.Hour)
				if err != nil || len(jobs) != 1 || jobs[0].Delivery != id {
					t.Fatalf("step %d: Lease = %+v, %v; want %s", step, jobs, err, id)
				}
				d = retry(t, st, r.save, d, step+1, next, gateway.StatusPending)
				wantQueue(t, st, "while pending", later, map[string]string{id: "ep_a"})
				jobs, err = st.Lease(ctx, later, 10, time.Hour)
				if err != nil || len(jobs) != 1 || !jobs[0].Due.Equal(dueOf(next)) {
					t.Fatalf("step %d: Lease of the retry = %+v, %v; want %s due %v", step, jobs, err, id, dueOf(next))
				}
				st.Release(id)
			}
			if _, err := st.Lease(ctx, later, 10, time.Hour); err != nil {
				t.Fatal(err)
			}
			d = retry(t, st, r.save, d, 5, nil, gateway.StatusSucceeded)
			wantQueue(t, st, "once delivered", later.Add(2*time.Hour), nil)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			st = open(t, dir)
			wantQueue(t, st, "once delivered, after a reopen", later, nil)
		})
	}
}

// Trim never takes an event with a pending delivery; once that delivery (retried, its job
// moved) has failed, Trim takes the event and leaves no job of it behind, while the job of
// a pending delivery of another event stays.
func TestTrimLeavesNoJob(t *testing.T) {
	for _, r := range records {
		t.Run(r.name, func(t *testing.T) {
			dir := t.TempDir()
			st := open(t, dir)
			a, b := event("evt_a", base, "ep_a"), event("evt_b", base.Add(time.Second), "ep_b")
			appendOK(t, st, a)
			appendOK(t, st, b)
			da, idb := a.Deliveries[0], b.Deliveries[0].ID
			later := base.Add(48 * time.Hour)
			da = retry(t, st, r.save, da, 1, ptr(base.Add(time.Minute)), gateway.StatusPending)
			da = retry(t, st, r.save, da, 2, ptr(base.Add(time.Hour)), gateway.StatusPending)
			if n, err := st.Trim(ctx, base.Add(time.Minute), 100); err != nil || n != 0 {
				t.Fatalf("Trim with both deliveries pending = %d, %v; want 0", n, err)
			}
			wantQueue(t, st, "both pending", later, map[string]string{da.ID: "ep_a", idb: "ep_b"})
			retry(t, st, r.save, da, 3, nil, gateway.StatusFailed)
			if n, err := st.Trim(ctx, base.Add(time.Minute), 100); err != nil || n != 1 {
				t.Fatalf("Trim once evt_a's delivery failed = %d, %v; want 1", n, err)
			}
			wantQueue(t, st, "after Trim", later.Add(2*time.Hour), map[string]string{idb: "ep_b"})
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			st = open(t, dir)
			wantQueue(t, st, "after Trim and a reopen", later, map[string]string{idb: "ep_b"})
		})
	}
}

func ptr(t time.Time) *time.Time { return &t }

// dueOf is when the job of a pending delivery whose NextAttemptAt is next is due: at once
// (1970) when next is nil.
func dueOf(next *time.Time) time.Time {
	if next == nil {
		return time.Unix(0, 0)
	}
	return *next
}

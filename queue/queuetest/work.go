package queuetest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// pending saves new pending deliveries of endpoint ep, each due at its time, and returns them.
// It saves 200 at a time: a backend may refuse a call too large for one transaction.
func (s *suite) pending(t *testing.T, st gateway.Store, ep string, due map[string]time.Time) map[string]*gateway.Delivery {
	t.Helper()
	out := map[string]*gateway.Delivery{}
	var ds []*gateway.Delivery
	for id, at := range due {
		d := delivery(id, "evt", ep, gateway.StatusPending, s.base, ptr(at))
		out[id] = d
		ds = append(ds, d)
	}
	for i := 0; i < len(ds); i += 200 {
		save(t, st, ds[i:min(i+200, len(ds))]...)
	}
	return out
}

// Lease returns the due jobs oldest due first, up to max, with their endpoint and due time;
// jobs not yet due stay queued.
func (s *suite) testLeaseOrder(t *testing.T) {
	st, _ := s.fresh(t)
	s.pending(t, st, "ep_1", map[string]time.Time{"d3": s.at(3 * time.Second), "d1": s.at(time.Second), "d5": s.at(5 * time.Second)})
	s.pending(t, st, "ep_2", map[string]time.Time{"d2": s.at(2 * time.Second), "d0": s.at(-time.Hour)})
	now := s.at(4 * time.Second)
	jobs := lease(t, st, now, 2, time.Minute)
	wantJobs(t, "Lease(max 2)", jobs, "d0", "d1")
	if len(jobs) == 2 {
		if j := jobs[0]; j.Endpoint != "ep_2" || !j.Due.Equal(s.at(-time.Hour)) {
			t.Errorf("first job = %+v, want endpoint ep_2, due %v", j, s.at(-time.Hour))
		}
		if j := jobs[1]; j.Endpoint != "ep_1" || !j.Due.Equal(s.at(time.Second)) {
			t.Errorf("second job = %+v, want endpoint ep_1, due %v", j, s.at(time.Second))
		}
	}
	wantJobs(t, "Lease(max 10) next", lease(t, st, now, 10, time.Minute), "d2", "d3")
	wantJobs(t, "Lease again at the same time", lease(t, st, now, 10, time.Minute))
	wantJobs(t, "Lease when the last is due", lease(t, st, s.at(5*time.Second), 10, time.Minute), "d5")
}

// A lease hides a job for ttl; then Lease returns it again, due at its time.
func (s *suite) testLeaseExpiry(t *testing.T) {
	st, _ := s.fresh(t)
	s.pending(t, st, "ep", map[string]time.Time{"d": s.base})
	wantJobs(t, "Lease", lease(t, st, s.base, 10, time.Minute), "d")
	wantJobs(t, "Lease 59 s later", lease(t, st, s.at(59*time.Second), 10, time.Minute))
	jobs := lease(t, st, s.at(time.Minute), 10, time.Minute)
	wantJobs(t, "Lease when the lease has expired", jobs, "d")
	if len(jobs) == 1 && !jobs[0].Due.Equal(s.base) {
		t.Errorf("the job again has Due %v, want %v", jobs[0].Due, s.base)
	}
	wantJobs(t, "Lease within the second lease", lease(t, st, s.at(90*time.Second), 10, time.Minute))
}

// Saving a leased delivery as pending at a later time is a retry: the lease is gone and the
// job is due at its new time, however long the lease had to run.
func (s *suite) testRetry(t *testing.T) {
	st, _ := s.fresh(t)
	s.pending(t, st, "ep", map[string]time.Time{"d": s.base})
	wantJobs(t, "Lease", lease(t, st, s.base, 10, 24*time.Hour), "d")
	d := getDelivery(t, st, "d")
	d.NextAttemptAt = ptr(s.at(10 * time.Minute))
	d.Step = 1
	d.Attempts = append(d.Attempts, gateway.Attempt{At: s.base, StatusCode: 503})
	save(t, st, d)
	wantNextDue(t, st, s.base, s.at(10*time.Minute), true)
	wantJobs(t, "Lease before the retry is due", lease(t, st, s.at(5*time.Minute), 10, time.Minute))
	jobs := lease(t, st, s.at(10*time.Minute), 10, time.Minute)
	wantJobs(t, "Lease when the retry is due", jobs, "d")
	if len(jobs) == 1 && !jobs[0].Due.Equal(s.at(10*time.Minute)) {
		t.Errorf("the retry has Due %v, want %v", jobs[0].Due, s.at(10*time.Minute))
	}
	// A pending delivery saved without a time is due now.
	d = getDelivery(t, st, "d")
	d.NextAttemptAt = nil
	save(t, st, d)
	wantJobs(t, "Lease of a retry without a time", lease(t, st, time.Now().Add(time.Minute), 10, time.Minute), "d")
}

// Saving a leased delivery as finished acks it: it never comes back.
func (s *suite) testAck(t *testing.T) {
	st, _ := s.fresh(t)
	s.pending(t, st, "ep", map[string]time.Time{"d": s.base, "e": s.base})
	wantJobs(t, "Lease", lease(t, st, s.base, 10, time.Minute), "d", "e")
	d, e := getDelivery(t, st, "d"), getDelivery(t, st, "e")
	d.Status, d.NextAttemptAt = gateway.StatusSucceeded, nil
	e.Status, e.NextAttemptAt = gateway.StatusFailed, nil
	save(t, st, d, e)
	wantJobs(t, "Lease after the lease would have expired", lease(t, st, s.at(48*time.Hour), 10, time.Minute))
	wantNextDue(t, st, s.base, time.Time{}, false)
}

// A paused (or canceled) delivery leaves the queue; saved pending again, it is back.
func (s *suite) testPausedLeavesQueue(t *testing.T) {
	st, _ := s.fresh(t)
	s.pending(t, st, "ep", map[string]time.Time{"d": s.base, "c": s.base})
	d, c := getDelivery(t, st, "d"), getDelivery(t, st, "c")
	d.Status, c.Status = gateway.StatusPaused, gateway.StatusCanceled
	save(t, st, d, c)
	wantJobs(t, "Lease of paused and canceled deliveries", lease(t, st, s.at(time.Hour), 10, time.Minute))
	wantNextDue(t, st, s.base, time.Time{}, false)
	d.Status, d.NextAttemptAt = gateway.StatusPending, ptr(s.at(time.Minute))
	save(t, st, d)
	wantJobs(t, "Lease once resumed", lease(t, st, s.at(time.Hour), 10, time.Minute), "d")
}

// Hold keeps a leased job hidden past its lease, until the time given.
func (s *suite) testHold(t *testing.T) {
	st, _ := s.fresh(t)
	s.pending(t, st, "ep", map[string]time.Time{"d": s.base, "e": s.base.Add(time.Millisecond)})
	wantJobs(t, "Lease", lease(t, st, s.base, 1, time.Minute), "d")
	st.Hold("d", s.at(10*time.Minute))
	wantJobs(t, "Lease past the lease, within the hold", lease(t, st, s.at(5*time.Minute), 10, time.Minute), "e")
	wantNextDue(t, st, s.at(5*time.Minute), s.at(6*time.Minute), true) // e's lease ends first
	st.Hold("e", s.at(20*time.Minute))
	wantNextDue(t, st, s.at(5*time.Minute), s.at(10*time.Minute), true)
	wantJobs(t, "Lease when the hold ends", lease(t, st, s.at(10*time.Minute), 10, time.Minute), "d")
	st.Hold("none", s.at(time.Hour)) // unknown ids are ignored
}

// Release gives a leased job back, due at once, and wakes the dispatcher.
func (s *suite) testRelease(t *testing.T) {
	st, _ := s.fresh(t)
	s.pending(t, st, "ep", map[string]time.Time{"d": s.base})
	wantJobs(t, "Lease", lease(t, st, s.base, 10, time.Hour), "d")
	drain(st.Wake())
	st.Release("d")
	if !signalled(st.Wake()) {
		t.Error("Release did not wake")
	}
	jobs := lease(t, st, s.base, 10, time.Hour)
	wantJobs(t, "Lease after Release", jobs, "d")
	if len(jobs) == 1 && !jobs[0].Due.Equal(s.base) {
		t.Errorf("the released job has Due %v, want %v", jobs[0].Due, s.base)
	}
	st.Release("none") // unknown ids are ignored
}

// NextDue is the earliest of the first due job and the first lease's end.
func (s *suite) testNextDue(t *testing.T) {
	st, _ := s.fresh(t)
	wantNextDue(t, st, s.base, time.Time{}, false)
	s.pending(t, st, "ep", map[string]time.Time{"late": s.at(time.Hour)})
	wantNextDue(t, st, s.base, s.at(time.Hour), true)
	s.pending(t, st, "ep", map[string]time.Time{"soon": s.at(30 * time.Minute)})
	wantNextDue(t, st, s.base, s.at(30*time.Minute), true)
	wantJobs(t, "Lease of soon", lease(t, st, s.at(30*time.Minute), 10, time.Hour), "soon")
	wantNextDue(t, st, s.at(30*time.Minute), s.at(time.Hour), true)
	wantJobs(t, "Lease of late", lease(t, st, s.at(time.Hour), 10, 10*time.Minute), "late")
	wantNextDue(t, st, s.at(time.Hour), s.at(70*time.Minute), true)
	for _, id := range []string{"soon", "late"} {
		d := getDelivery(t, st, id)
		d.Status = gateway.StatusSucceeded
		save(t, st, d)
	}
	wantNextDue(t, st, s.at(time.Hour), time.Time{}, false)
}

// Wake gets a value when work is queued by Append or SaveDeliveries.
func (s *suite) testWake(t *testing.T) {
	st, _ := s.fresh(t)
	drain(st.Wake())
	add(t, st, event("evt_1", s.base), delivery("d1", "evt_1", "ep", gateway.StatusPending, s.base, ptr(s.base)))
	if !signalled(st.Wake()) {
		t.Error("an Append with a pending delivery did not wake")
	}
	drain(st.Wake())
	s.pending(t, st, "ep", map[string]time.Time{"d2": s.at(time.Hour)})
	if !signalled(st.Wake()) {
		t.Error("saving a pending delivery did not wake")
	}
	// Many signals while nobody listens never block a writer.
	for i := 0; i < 10; i++ {
		s.pending(t, st, "ep", map[string]time.Time{id("w", i): s.base})
	}
}

// A backlog of 50,000 jobs (5,000 with -short, or Options.Backlog) comes out exactly once, in due order, while
// new jobs due earlier arrive, retries move jobs, and some leases stay out until they expire.
func (s *suite) testBacklog(t *testing.T) {
	st, _ := s.fresh(t)
	m := NewLeaseModel()
	const batch, per = 1000, 1000
	n := 50_000
	if testing.Short() {
		n = 5_000
	}
	if s.opts.Backlog > 0 {
		n = min(n, s.opts.Backlog)
	}
	ds := map[string]*gateway.Delivery{}
	perm := rand.Perm(n)
	for i := 0; i < n; i += batch {
		var chunk []*gateway.Delivery
		for _, j := range perm[i : i+batch] {
			due := s.at(time.Duration(j+1) * time.Millisecond)
			d := delivery(id("job", j), "evt", fmt.Sprintf("ep_%d", j%7), gateway.StatusPending, s.base, ptr(due))
			chunk = append(chunk, d)
			ds[d.ID] = d
			m.Schedule(d.ID, due)
		}
		save(t, st, chunk...)
	}
	wantNextDue(t, st, s.base, s.at(time.Millisecond), true)

	now := s.at(time.Hour)
	const ttl = 24 * time.Hour
	var kept []string // leased and never done: they come back when their lease expires
	for round := 0; ; round++ {
		jobs := lease(t, st, now, per, ttl)
		m.Check(t, fmt.Sprintf("round %d: Lease", round), now, per, ttl, leasedOf(jobs))
		if t.Failed() {
			t.FailNow()
		}
		if len(jobs) == 0 {
			break
		}
		var done []*gateway.Delivery
		for i, j := range jobs {
			if want := ds[j.Delivery].EndpointID; j.Endpoint != want {
				t.Fatalf("job %s: Endpoint %q, want %q", j.Delivery, j.Endpoint, want)
			}
			if i%5 == 0 {
				kept = append(kept, j.Delivery)
				continue
			}
			d := ds[j.Delivery]
			d.Status, d.NextAttemptAt = gateway.StatusSucceeded, nil
			done = append(done, d)
			m.Done(d.ID)
		}
		save(t, st, done...)
		if round == n/per/4 {
			// Mid-way: 100 new jobs due before everything left in the backlog, 10 backlog jobs
			// moved past now, and 5 leased jobs retried at once.
			var changed []*gateway.Delivery
			for i := 0; i < 100; i++ {
				due := s.at(time.Duration(i) * time.Microsecond)
				d := delivery(id("early", i), "evt", "ep_early", gateway.StatusPending, s.base, ptr(due))
				ds[d.ID] = d
				changed = append(changed, d)
				m.Schedule(d.ID, due)
			}
			moved := 0
			for _, id := range m.Unleased() {
				if ds[id].EndpointID != "ep_early" && moved < 10 {
					d := ds[id]
					d.NextAttemptAt = ptr(s.at(2 * time.Hour))
					changed = append(changed, d)
					m.Schedule(id, *d.NextAttemptAt)
					moved++
				}
			}
			for _, id := range kept[:5] {
				d := ds[id]
				d.NextAttemptAt = ptr(s.base)
				changed = append(changed, d)
				m.Schedule(id, s.base)
			}
			kept = kept[5:]
			save(t, st, changed...)
		}
	}
	if m.LeasedNow() != len(kept) {
		t.Fatalf("%d jobs leased after the backlog drained, want the %d kept", m.LeasedNow(), len(kept))
	}

	// The moved jobs come out when due; the kept ones when their leases expire.
	later := s.at(3 * time.Hour)
	jobs := lease(t, st, later, n, ttl)
	m.Check(t, "Lease of the moved jobs", later, n, ttl, leasedOf(jobs))
	if len(jobs) != 10 {
		t.Fatalf("Lease of the moved jobs returned %d, want 10", len(jobs))
	}
	expired := now.Add(ttl)
	jobs = lease(t, st, expired, n, ttl)
	m.Check(t, "Lease of the kept jobs once their leases expire", expired, n, ttl, leasedOf(jobs))
	if len(jobs) != len(kept) {
		t.Fatalf("Lease once leases expired returned %d, want the %d kept", len(jobs), len(kept))
	}
}

// Jobs due before a long run of leased ones: Lease still hands out every due job that is not
// leased, however many leased jobs sort between them.
func (s *suite) testBacklogBehindLeases(t *testing.T) {
	st, _ := s.fresh(t)
	m := NewLeaseModel()
	const leased, free, early = 1000, 100, 100
	due := map[string]time.Time{}
	for i := 0; i < leased+free; i++ {
		due[id("a", i)] = s.at(time.Duration(i) * time.Millisecond)
		m.Schedule(id("a", i), due[id("a", i)])
	}
	s.pending(t, st, "ep", due)
	now := s.at(time.Hour)
	for n := 0; n < leased; n += 100 {
		jobs := lease(t, st, now, 100, 24*time.Hour)
		m.Check(t, "Lease of the first 1,000", now, 100, 24*time.Hour, leasedOf(jobs))
	}
	due = map[string]time.Time{}
	for i := 0; i < early; i++ {
		due[id("e", i)] = s.at(-time.Duration(early-i) * time.Millisecond)
		m.Schedule(id("e", i), due[id("e", i)])
	}
	s.pending(t, st, "ep", due)
	jobs := lease(t, st, now, 1000, 24*time.Hour)
	m.Check(t, "Lease behind 1,000 leased jobs", now, 1000, 24*time.Hour, leasedOf(jobs))
	if len(jobs) != early+free {
		t.Errorf("Lease behind 1,000 leased jobs returned %d, want %d", len(jobs), early+free)
	}
}

// Dispatchers leasing at once, while a producer appends, get every job exactly once.
func (s *suite) testConcurrentLeases(t *testing.T) {
	st, _ := s.fresh(t)
	const queued, produced, workers = 2000, 500, 8
	due := map[string]time.Time{}
	for i := 0; i < queued; i++ {
		due[id("q", i)] = s.at(time.Duration(i%97) * time.Millisecond)
	}
	s.pending(t, st, "ep", due)
	now := s.at(time.Second)
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	wg.Add(1)
	go func() { // the producer
		defer wg.Done()
		for i := 0; i < produced; i++ {
			evID := id("evt_", i)
			d := delivery(id("p", i), evID, "ep", gateway.StatusPending, s.base, ptr(s.base))
			if _, err := st.Append(ctx, &gateway.Append{Event: event(evID, s.base, d.ID), Deliveries: []*gateway.Delivery{d}}); err != nil {
				t.Errorf("Append(%s): %v", evID, err)
				return
			}
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				mu.Lock()
				finished := len(seen) == queued+produced
				mu.Unlock()
				if finished {
					return
				}
				jobs, err := st.Lease(ctx, now, 10, time.Hour)
				if err != nil {
					t.Errorf("Lease: %v", err)
					return
				}
				if len(jobs) == 0 { // wait for the producer, as a dispatcher does
					select {
					case <-st.Wake():
					case <-time.After(10 * time.Millisecond):
					}
				}
				for _, j := range jobs {
					mu.Lock()
					seen[j.Delivery]++
					mu.Unlock()
					d, err := st.Delivery(ctx, j.Delivery)
					if err != nil {
						t.Errorf("Delivery(%s): %v", j.Delivery, err)
						return
					}
					d.Status, d.NextAttemptAt = gateway.StatusSucceeded, nil
					if err := st.SaveDeliveries(ctx, d); err != nil {
						t.Errorf("ack %s: %v", j.Delivery, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	if len(seen) != queued+produced {
		t.Errorf("%d jobs leased, want %d", len(seen), queued+produced)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("job %s leased %d times", id, n)
		}
	}
	wantNextDue(t, st, now, time.Time{}, false)
}

// Backlog counts the queued deliveries per endpoint, leased ones included, and reports the
// earliest due time; finished and paused deliveries leave it.
func (s *suite) testBacklogCounts(t *testing.T) {
	st, _ := s.fresh(t)
	backlog := func(label string, want map[string]int, oldest time.Time) {
		t.Helper()
		b, err := st.Backlog(t.Context())
		if err != nil {
			t.Fatalf("%s: Backlog: %v", label, err)
		}
		if fmt.Sprint(b.Pending) != fmt.Sprint(want) {
			t.Errorf("%s: Pending = %v, want %v", label, b.Pending, want)
		}
		if !b.OldestDue.Equal(oldest) {
			t.Errorf("%s: OldestDue = %v, want %v", label, b.OldestDue, oldest)
		}
	}
	backlog("empty", map[string]int{}, time.Time{})
	ds := s.pending(t, st, "ep_1", map[string]time.Time{"d1": s.at(time.Second), "d2": s.at(3 * time.Second)})
	s.pending(t, st, "ep_2", map[string]time.Time{"d3": s.at(2 * time.Second)})
	backlog("queued", map[string]int{"ep_1": 2, "ep_2": 1}, s.at(time.Second))
	wantJobs(t, "Lease", lease(t, st, s.at(time.Second), 1, time.Minute), "d1")
	backlog("one leased", map[string]int{"ep_1": 2, "ep_2": 1}, s.at(time.Second))
	d1 := ds["d1"]
	d1.Status, d1.NextAttemptAt = gateway.StatusSucceeded, nil
	save(t, st, d1)
	d2 := ds["d2"]
	d2.Status, d2.NextAttemptAt = gateway.StatusPaused, nil
	save(t, st, d2)
	backlog("one done, one paused", map[string]int{"ep_2": 1}, s.at(2*time.Second))
}

// leasedOf turns the jobs Lease returned into what a LeaseModel checks.
func leasedOf(jobs []gateway.Job) []Leased {
	out := make([]Leased, len(jobs))
	for i, j := range jobs {
		out[i] = Leased{ID: j.Delivery, Due: j.Due}
	}
	return out
}

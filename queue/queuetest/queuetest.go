// Package queuetest is the contract a storage backend passes, in the manner of testing/fstest
// (and of litestream's RunWithReplicaClient): a backend's own test calls Run with a function
// that opens it on a folder, and Run checks, in subtests, the behaviour the gateway relies on
// through gateway.Store — the event log's order, cursors and dedupe, deliveries and their
// compare-and-swap, the work queue and its leases, the registry and its watches, the request
// logs, retention, what survives a Close and reopen, Close itself, and that records are copies.
//
// The contract is about behaviour, not about how a backend gets there: nothing here looks at
// keys, files or what a backend holds in memory. The lease clock is the now passed to Lease
// and NextDue, and the dedupe window is measured between events' ReceivedAt, so both are
// tested by passing times, never by sleeping; only Wake, Appended, Watch and a request log
// entry's age are checked against the wall clock, by polling with a deadline.
//
// # Example
//
//	func TestStore(t *testing.T) {
//		queuetest.Run(t, func(t *testing.T, dir string) gateway.Store {
//			st, err := badger.Open(badger.Options{Dir: dir})
//			if err != nil {
//				t.Fatalf("Open(%q): %v", dir, err)
//			}
//			return st
//		})
//	}
//
// A backend that keeps nothing across a Close says so, and the subtests that reopen are skipped:
//
//	queuetest.Run(t, func(*testing.T, string) gateway.Store { return memory.New() },
//		queuetest.Options{Volatile: true})
package queuetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// Options describe the backend under test.
type Options struct {
	// Volatile says the backend keeps nothing across a Close (an in-memory store): the
	// subtests that close and reopen a store are skipped.
	Volatile bool
	// SharedLeases says leases and holds are stored with the work and outlive the process
	// that took them, as on a store several nodes share (queue/jetstream): a job leased
	// before a reopen stays hidden until its lease ends, instead of being due at once. The
	// reopen subtest then leases each round later than the leases of the round before.
	SharedLeases bool
	// Backlog, when set, caps the jobs of the work queue's backlog subtest (50,000; 5,000
	// with -short), for a backend each of whose writes is a network round trip to a
	// replicated log: the subtest's checks are the same at any size, and such a backend
	// measures its throughput in a benchmark instead.
	Backlog int
}

// Run checks the backend that open returns against the contract, in subtests.
//
// open must open (or create) a store in dir and fail t if it cannot. Run calls it with a
// fresh t.TempDir() for each subtest and, unless opts says the backend is Volatile, again on
// the same dir to check what survives a Close. Run closes every store it opens, sometimes
// more than once: a second Close must return nil at once. With -short the work queue's
// backlog is 5,000 jobs instead of 50,000.
func Run(t *testing.T, open func(t *testing.T, dir string) gateway.Store, opts ...Options) {
	s := &suite{open: open, base: time.Now().UTC().Truncate(time.Millisecond)}
	for _, o := range opts {
		s.opts = o
	}
	t.Run("Events", func(t *testing.T) {
		t.Run("AppendAndGet", s.testAppendAndGet)
		t.Run("Order", s.testEventOrder)
		t.Run("Since", s.testEventsSince)
		t.Run("Newest", s.testEventsNewest)
		t.Run("MatchAndMaxScan", s.testEventsMatch)
		t.Run("ConcurrentAppenders", s.testConcurrentAppenders)
		t.Run("Dedupe", s.testDedupe)
		t.Run("DedupeOnID", s.testDedupeOnID)
		t.Run("DedupeWindow", s.testDedupeWindow)
		t.Run("DuplicateID", s.testDuplicateID)
		t.Run("Appended", s.testAppended)
	})
	t.Run("Deliveries", func(t *testing.T) {
		t.Run("CreatedByAppend", s.testCreatedByAppend)
		t.Run("AddedToAnEvent", s.testAddDeliveries)
		t.Run("CompareAndSwap", s.testCAS)
		t.Run("UpdateFromRecordRead", s.testUpdateDelivery)
		t.Run("ConcurrentUpdates", s.testConcurrentUpdates)
		t.Run("List", s.testListDeliveries)
		t.Run("ListPaging", s.testListPaging)
		t.Run("ListMaxScan", s.testListMaxScan)
		t.Run("ListLimit", s.testListLimit)
	})
	t.Run("WorkQueue", func(t *testing.T) {
		t.Run("LeaseOrder", s.testLeaseOrder)
		t.Run("LeaseExpiry", s.testLeaseExpiry)
		t.Run("Retry", s.testRetry)
		t.Run("Ack", s.testAck)
		t.Run("Paused", s.testPausedLeavesQueue)
		t.Run("Hold", s.testHold)
		t.Run("Release", s.testRelease)
		t.Run("NextDue", s.testNextDue)
		t.Run("Wake", s.testWake)
		t.Run("Backlog", s.testBacklog)
		t.Run("BacklogBehindLeases", s.testBacklogBehindLeases)
		t.Run("BacklogCounts", s.testBacklogCounts)
		t.Run("ConcurrentLeases", s.testConcurrentLeases)
	})
	t.Run("Registry", func(t *testing.T) {
		t.Run("Endpoints", func(t *testing.T) {
			testRecords(t, s, gateway.Store.Endpoints, func(id, v string) *gateway.Endpoint {
				return &gateway.Endpoint{ID: id, URL: "https://example.com/" + v, Kind: "webhook", Events: []string{"*"}, Enabled: true,
					Headers: map[string]string{"X-V": v}, CreatedAt: s.base, UpdatedAt: s.base}
			}, func(e *gateway.Endpoint) { e.URL = "mutated"; e.Events[0] = "mutated"; e.Headers["X-V"] = "mutated" })
		})
		t.Run("Sources", func(t *testing.T) {
			testRecords(t, s, gateway.Store.Sources, func(id, v string) *gateway.Source {
				return &gateway.Source{ID: id, Name: v, Provider: "generic", Sample: json.RawMessage(`{"v":"` + v + `"}`), CreatedAt: s.base}
			}, func(src *gateway.Source) { src.Name = "mutated"; src.Sample[2] = 'X' })
		})
		t.Run("EventTypes", func(t *testing.T) {
			testRecords(t, s, gateway.Store.EventTypes, func(id, v string) *gateway.EventTypeRecord {
				return &gateway.EventTypeRecord{Name: id, Description: v, Schema: json.RawMessage(`{"type":"object"}`)}
			}, func(et *gateway.EventTypeRecord) { et.Description = "mutated"; et.Schema[2] = 'X' })
		})
		t.Run("Keys", func(t *testing.T) {
			testRecords(t, s, gateway.Store.Keys, func(id, v string) *gateway.APIKey {
				return &gateway.APIKey{ID: id, Name: v, Scopes: []gateway.Scope{gateway.ScopeRead}, Hash: "h" + v, Created: s.base}
			}, func(k *gateway.APIKey) { k.Name = "mutated"; k.Scopes[0] = "mutated" })
		})
		t.Run("OAuthClients", func(t *testing.T) {
			testRecords(t, s, gateway.Store.OAuthClients, func(id, v string) *gateway.OAuthClient {
				return &gateway.OAuthClient{ID: id, Name: v, RedirectURIs: []string{"https://example.com/" + v}, AuthMethod: "none", Created: s.base}
			}, func(c *gateway.OAuthClient) { c.Name = "mutated"; c.RedirectURIs[0] = "mutated" })
		})
		t.Run("Grants", func(t *testing.T) {
			testRecords(t, s, gateway.Store.Grants, func(id, v string) *gateway.Grant {
				return &gateway.Grant{ID: id, ClientID: v, Scopes: []gateway.Scope{gateway.ScopeRead}, AccessHash: "h" + v, Created: s.base}
			}, func(g *gateway.Grant) { g.ClientID = "mutated"; g.Scopes[0] = "mutated" })
		})
		t.Run("SlowWatcher", s.testSlowWatcher)
	})
	t.Run("RequestLog", func(t *testing.T) {
		t.Run("Order", s.testRequestOrder)
		t.Run("Entries", s.testRequestEntries)
		t.Run("Bytes", s.testRequestBytes)
		t.Run("MaxAge", s.testRequestMaxAge)
		t.Run("Drop", s.testRequestDrop)
	})
	t.Run("Trim", func(t *testing.T) {
		t.Run("FinishedOnly", s.testTrimFinishedOnly)
		t.Run("Max", s.testTrimMax)
		t.Run("AfterYoung", s.testTrimAfterYoung)
		t.Run("DedupeOutlivesEvent", s.testTrimDedupe)
	})
	t.Run("Copies", s.testCopies)
	t.Run("Reopen", s.testReopen)
	t.Run("CloseWithWritersInFlight", s.testCloseRacing)
	t.Run("Close", s.testClose)
}

type suite struct {
	open func(t *testing.T, dir string) gateway.Store
	opts Options
	// base is the origin of every time in the suite: the wall clock when Run started, in UTC
	// and to the millisecond (the precision of an event's wire form).
	base time.Time
}

var ctx = context.Background()

// fresh opens a store on a new folder, closed when t ends.
func (s *suite) fresh(t *testing.T) (gateway.Store, string) {
	t.Helper()
	dir := t.TempDir()
	return s.reopen(t, dir), dir
}

// reopen opens the store in dir, closed when t ends.
func (s *suite) reopen(t *testing.T, dir string) gateway.Store {
	t.Helper()
	st := s.open(t, dir)
	t.Cleanup(func() { st.Close() })
	return st
}

// persistent skips t for a Volatile backend.
func (s *suite) persistent(t *testing.T) {
	t.Helper()
	if s.opts.Volatile {
		t.Skip("the backend is volatile: nothing survives a Close")
	}
}

// at is base plus d.
func (s *suite) at(d time.Duration) time.Time { return s.base.Add(d) }

// event builds a stored event received at at, fanned out to the deliveries dls.
func event(id string, at time.Time, dls ...string) *gateway.StoredEvent {
	return &gateway.StoredEvent{
		Event:      gateway.Event{ID: id, Type: "test.happened", Source: "suite", Created: at, Data: json.RawMessage(`{"id":"` + id + `"}`)},
		ReceivedAt: at,
		Deliveries: dls,
	}
}

// delivery builds a delivery of ev to ep created at created; a pending one is due at due.
func delivery(id, ev, ep string, status gateway.DeliveryStatus, created time.Time, due *time.Time) *gateway.Delivery {
	return &gateway.Delivery{ID: id, EventID: ev, EndpointID: ep, EventType: "test.happened", Status: status,
		NextAttemptAt: due, CreatedAt: created, UpdatedAt: created, Attempts: []gateway.Attempt{}}
}

func ptr(t time.Time) *time.Time { return &t }

// add appends ev with dls (pending ones due at their NextAttemptAt) and fails t if that fails
// or is a duplicate.
func add(t *testing.T, st gateway.Store, ev *gateway.StoredEvent, dls ...*gateway.Delivery) *gateway.Appended {
	t.Helper()
	for _, d := range dls {
		ev.Deliveries = append(ev.Deliveries, d.ID)
	}
	res, err := st.Append(ctx, &gateway.Append{Event: ev, Deliveries: dls})
	if err != nil {
		t.Fatalf("Append(%s): %v", ev.ID, err)
	}
	if res.Duplicate || res.ID != ev.ID || res.Seq == 0 {
		t.Fatalf("Append(%s) = %+v, want a new event with a Seq", ev.ID, res)
	}
	return res
}

// save saves ds and fails t if that fails.
func save(t *testing.T, st gateway.Store, ds ...*gateway.Delivery) {
	t.Helper()
	if err := st.SaveDeliveries(ctx, ds...); err != nil {
		t.Fatalf("SaveDeliveries: %v", err)
	}
}

// getDelivery returns the stored delivery id, failing t if there is none.
func getDelivery(t *testing.T, st gateway.Store, id string) *gateway.Delivery {
	t.Helper()
	d, err := st.Delivery(ctx, id)
	if err != nil {
		t.Fatalf("Delivery(%s): %v", id, err)
	}
	return d
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("%s = %v, want %v", what, err, gateway.ErrNotFound)
	}
}

func wantConflict(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, gateway.ErrConflict) {
		t.Errorf("%s = %v, want %v", what, err, gateway.ErrConflict)
	}
}

// sameJSON fails t unless got and want encode alike.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: encode %T: %v", what, got, err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("%s: encode %T: %v", what, want, err)
	}
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// sameEvent fails t unless got is want, Seq included.
func sameEvent(t *testing.T, what string, got, want *gateway.StoredEvent) {
	t.Helper()
	if got.Seq != want.Seq {
		t.Errorf("%s: Seq %d, want %d", what, got.Seq, want.Seq)
	}
	sameJSON(t, what, got, want)
}

// sameDelivery fails t unless got is want, Rev included.
func sameDelivery(t *testing.T, what string, got, want *gateway.Delivery) {
	t.Helper()
	if got.Rev != want.Rev {
		t.Errorf("%s: Rev %d, want %d", what, got.Rev, want.Rev)
	}
	sameJSON(t, what, got, want)
}

// readAll reads the whole log oldest first in pages of page events.
func readAll(t *testing.T, st gateway.Store, page int) []*gateway.StoredEvent {
	t.Helper()
	var (
		out   []*gateway.StoredEvent
		after gateway.Seq
	)
	for i := 0; ; i++ {
		r, err := st.Events(ctx, gateway.EventQuery{After: after, Limit: page})
		if err != nil {
			t.Fatalf("Events(After %d): %v", after, err)
		}
		out = append(out, r.Events...)
		if !r.More {
			return out
		}
		if r.Next <= after {
			t.Fatalf("Events(After %d): More with Next %d", after, r.Next)
		}
		after = r.Next
		if i > 1_000_000 {
			t.Fatal("Events never ends")
		}
	}
}

func eventIDs(evs []*gateway.StoredEvent) []string {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	return ids
}

func deliveryIDs(ds []*gateway.Delivery) []string {
	ids := make([]string, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	return ids
}

func jobIDs(js []gateway.Job) []string {
	ids := make([]string, len(js))
	for i, j := range js {
		ids[i] = j.Delivery
	}
	return ids
}

// lease leases and fails t if that fails.
func lease(t *testing.T, st gateway.Store, now time.Time, max int, ttl time.Duration) []gateway.Job {
	t.Helper()
	jobs, err := st.Lease(ctx, now, max, ttl)
	if err != nil {
		t.Fatalf("Lease(%v, %d, %v): %v", now, max, ttl, err)
	}
	return jobs
}

// wantJobs fails t unless got are the jobs of the deliveries want, in that order.
func wantJobs(t *testing.T, what string, got []gateway.Job, want ...string) {
	t.Helper()
	if ids := jobIDs(got); !slices.Equal(ids, want) {
		t.Errorf("%s = %q, want %q", what, ids, want)
	}
}

func wantNextDue(t *testing.T, st gateway.Store, now, want time.Time, wantOK bool) {
	t.Helper()
	if next, ok := st.NextDue(now); ok != wantOK || ok && !next.Equal(want) {
		t.Errorf("NextDue(%v) = %v, %v; want %v, %v", now, next, ok, want, wantOK)
	}
}

// waitFor polls cond until it holds, failing t after within (nats-server's checkFor).
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drain empties a signal channel.
func drain(c <-chan struct{}) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// signalled waits up to 5 s for a value (or a close) on c.
func signalled(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}

func id(prefix string, i int) string { return fmt.Sprintf("%s%05d", prefix, i) }

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %T: %v", v, err)
	}
	return b
}

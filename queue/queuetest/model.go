package queuetest

import (
	"testing"
	"time"
)

// LeaseModel is what a work queue should hold, for checking what Lease returns: the suite's
// WorkQueue tests use it, and so may a backend's own tests of its engine (queue/badger's
// key-value engine does).
type LeaseModel struct {
	due    map[string]time.Time // every queued job, leased or not
	leased map[string]time.Time // leased job → lease expiry
}

// Leased is one job a Lease returned: its id and the time it was due.
type Leased struct {
	ID  string
	Due time.Time
}

// NewLeaseModel returns an empty model.
func NewLeaseModel() *LeaseModel {
	return &LeaseModel{due: map[string]time.Time{}, leased: map[string]time.Time{}}
}

// Schedule records that job id is queued (again) for due, and no longer leased.
func (m *LeaseModel) Schedule(id string, due time.Time) { m.due[id] = due; delete(m.leased, id) }

// Done records that job id left the queue.
func (m *LeaseModel) Done(id string) { delete(m.due, id); delete(m.leased, id) }

// Queued is how many jobs are queued, leased or not.
func (m *LeaseModel) Queued() int { return len(m.due) }

// LeasedNow is how many jobs are leased (as of the last Check).
func (m *LeaseModel) LeasedNow() int { return len(m.leased) }

// Unleased returns the queued jobs that are not leased, in no particular order.
func (m *LeaseModel) Unleased() []string {
	var out []string
	for id := range m.due {
		if _, leased := m.leased[id]; !leased {
			out = append(out, id)
		}
	}
	return out
}

// Check checks that got is what Lease(now, max, ttl) should return: min(max, eligible)
// jobs, all due and not leased, each due no later than any eligible job left out, in due
// order. Then it records the leases.
func (m *LeaseModel) Check(t *testing.T, what string, now time.Time, max int, ttl time.Duration, got []Leased) {
	t.Helper()
	for id, exp := range m.leased {
		if !now.Before(exp) {
			delete(m.leased, id)
		}
	}
	eligible := map[string]time.Time{}
	for id, due := range m.due {
		if _, leased := m.leased[id]; !leased && !due.After(now) {
			eligible[id] = due
		}
	}
	if want := min(max, len(eligible)); len(got) != want {
		t.Errorf("%s: %d jobs, want %d (%d due and not leased)", what, len(got), want, len(eligible))
	}
	for i, j := range got {
		due, ok := eligible[j.ID]
		switch {
		case !ok && m.due[j.ID].IsZero():
			t.Errorf("%s: job %s is not queued (done, or never scheduled)", what, j.ID)
		case !ok && m.due[j.ID].After(now):
			t.Errorf("%s: job %s is not due until %v", what, j.ID, m.due[j.ID])
		case !ok:
			t.Errorf("%s: job %s is leased, or was handed out twice", what, j.ID)
		case !j.Due.Equal(due):
			t.Errorf("%s: job %s has Due %v, want %v", what, j.ID, j.Due, due)
		}
		if i > 0 && j.Due.Before(got[i-1].Due) {
			t.Errorf("%s: job %s (due %v) after %s (due %v)", what, j.ID, j.Due, got[i-1].ID, got[i-1].Due)
		}
		delete(eligible, j.ID)
		m.leased[j.ID] = now.Add(ttl)
	}
	if len(got) > 0 {
		last := got[len(got)-1]
		for id, due := range eligible {
			if due.Before(last.Due) {
				t.Errorf("%s: job %s (due %v) left out for %s (due %v)", what, id, due, last.ID, last.Due)
				break
			}
		}
	}
}

package kv_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hookgate/hookgate/queue/badger/internal/kv"
)

// TestLeaseIDsTakesFreshJobsAheadOfAnOverdueBacklog: after a restart, 200 overdue jobs are
// on disk, more than the 16 the engine holds in memory; a job scheduled since then sorts
// after all of them, beyond the in-memory window, yet LeaseIDs hands it out at once, and
// Lease still goes oldest due first without handing it out again.
func TestLeaseIDsTakesFreshJobsAheadOfAnOverdueBacklog(t *testing.T) {
	dir := t.TempDir()
	open := opener(kv.Options{MemJobs: 16})
	base := time.Now().Add(-time.Hour)
	db := open(t, dir)
	if err := db.Update(ctx, func(tx *kv.Txn) error {
		for i := range 200 {
			tx.Schedule(fmt.Sprintf("old%03d", i), base.Add(time.Duration(i)*time.Second), []byte("ep"))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	db = open(t, dir)
	defer db.Close()
	now := time.Now()
	if got, err := db.Lease(now, 1, time.Minute); err != nil || len(got) != 1 || got[0].ID != "old000" {
		t.Fatalf("Lease after the restart = %v, %v; want old000", got, err)
	}
	if err := db.Update(ctx, func(tx *kv.Txn) error { tx.Schedule("fresh", now, []byte("ep")); return nil }); err != nil {
		t.Fatal(err)
	}
	got := db.LeaseIDs(now, []string{"fresh", "old150", "missing"}, time.Minute)
	if len(got) != 1 || got[0].ID != "fresh" || string(got[0].Data) != "ep" {
		t.Fatalf("LeaseIDs(fresh, old150 (only on disk), missing) = %v; want fresh alone", got)
	}
	if again := db.LeaseIDs(now, []string{"fresh"}, time.Minute); len(again) != 0 {
		t.Fatalf("LeaseIDs of a leased job = %v; want nothing", again)
	}
	seen := map[string]bool{"old000": true}
	for len(seen) < 200 {
		jobs, err := db.Lease(now, 50, time.Minute)
		if err != nil || len(jobs) == 0 {
			t.Fatalf("Lease = %v, %v after %d jobs", jobs, err, len(seen))
		}
		for _, j := range jobs {
			if j.ID == "fresh" || seen[j.ID] {
				t.Fatalf("Lease handed out %s again", j.ID)
			}
			if want := fmt.Sprintf("old%03d", len(seen)); j.ID != want {
				t.Fatalf("Lease handed out %s, want %s (oldest due first)", j.ID, want)
			}
			seen[j.ID] = true
		}
	}
}

package badger_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	bdb "github.com/dgraph-io/badger/v4"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger"
)

// writeLegacy leaves in dir what a hookgate from before the storage seam (layout 1) wrote
// for an endpoint ep_1, a source src_1, evt_1 with a pending delivery dlv_1 (queued), and
// evt_2, received by src_1's catch hook, with a paused delivery dlv_2.
func writeLegacy(t *testing.T, dir string) {
	t.Helper()
	db, err := bdb.Open(bdb.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	ns := func(at time.Time) []byte { return binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano())) }
	t1, t2 := base, base.Add(time.Second)
	ts := func(at time.Time) string { return at.Format(time.RFC3339Nano) }
	keys := map[string]string{
		"ep/ep_1":                               `{"id":"ep_1","url":"https://a.example/hook","kind":"webhook","events":["*"],"enabled":true,"failure_streak":0,"created_at":"` + ts(t1) + `","updated_at":"` + ts(t1) + `"}`,
		"ep/ep_2":                               `{"id":"ep_2","url":"https://api.telegram.org","kind":"telegram","events":["video.posted"],"enabled":true,"bot_token":"123:AbC","chat_id":"-1001","rate_limit_per_s":2,"failure_streak":0,"created_at":"` + ts(t1) + `","updated_at":"` + ts(t1) + `"}`,
		"src/src_1":                             `{"id":"src_1","name":"tp","provider":"tokportal","created_at":"` + ts(t1) + `","updated_at":"` + ts(t1) + `"}`,
		"et/custom.thing":                       `{"name":"custom.thing","description":"d","schema":{"type":"object"}}`,
		"ev/evt_1":                              `{"event":{"id":"evt_1","type":"video.posted","created":"` + t1.Format(gateway.TimeFormat) + `","data":{"views":1}},"received_at":"` + ts(t1) + `","deliveries":["dlv_1"]}`,
		"ev/evt_2":                              `{"event":{"id":"evt_2","type":"video.posted","source":"tokportal","created":"` + t2.Format(gateway.TimeFormat) + `","data":{"views":2}},"received_at":"` + ts(t2) + `","deliveries":["dlv_2"]}`,
		"evt/" + string(ns(t1)) + "evt_1":       "",
		"evt/" + string(ns(t2)) + "evt_2":       "",
		"dl/dlv_1":                              `{"id":"dlv_1","event_id":"evt_1","endpoint_id":"ep_1","event_type":"video.posted","status":"pending","attempts":[],"next_attempt_at":"` + ts(t1) + `","created_at":"` + ts(t1) + `","updated_at":"` + ts(t1) + `","step":0}`,
		"dl/dlv_2":                              `{"id":"dlv_2","event_id":"evt_2","endpoint_id":"ep_1","event_type":"video.posted","status":"paused","attempts":[],"next_attempt_at":null,"created_at":"` + ts(t2) + `","updated_at":"` + ts(t2) + `","step":0}`,
		"dle/ep_1/" + string(ns(t1)) + "dlv_1":  "",
		"dle/ep_1/" + string(ns(t2)) + "dlv_2":  "",
		"dlp/ep_1/dlv_2":                        "",
		"_q/" + string(ns(t1)) + "dlv_1":        "ep_1",
		"_j/dlv_1":                              string(ns(t1)),
		"srq/src_1/" + string(ns(t2)) + "req_1": `{"id":"req_1","received_at":"` + ts(t2) + `","verified":true,"status":200,"duplicate":false,"headers":{},"body_size":2}`,
	}
	err = db.Update(func(tx *bdb.Txn) error {
		for k, v := range keys {
			if err := tx.Set([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return tx.SetEntry(bdb.NewEntry([]byte("srd/src_1/evt_2"), nil).WithTTL(7 * 24 * time.Hour))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// A data folder written before the storage seam (layout 1) is migrated when opened: events
// in arrival order with Seqs, records and deliveries at revision 1, the queue and the
// paused index as they were, and dedupe as layout 1 did it (an event id, a catch hook's
// source/event id).
func TestLegacyFolderMigrated(t *testing.T) {
	dir := t.TempDir()
	writeLegacy(t, dir)
	st := open(t, dir)
	st.Close()
	st = open(t, dir) // a second open finds the layout marker

	ids, r := eventIDs(t, st, gateway.EventQuery{})
	if got := strings.Join(ids, " "); got != "evt_1@1 evt_2@2" || r.Next != 2 {
		t.Fatalf("Events = %s (next %d), want evt_1@1 evt_2@2", got, r.Next)
	}
	ev, err := st.Event(ctx, "evt_2")
	if err != nil || string(ev.Data) != `{"views":2}` || ev.Source != "tokportal" || !ev.ReceivedAt.Equal(base.Add(time.Second)) ||
		len(ev.Deliveries) != 1 || ev.Deliveries[0] != "dlv_2" {
		t.Fatalf("Event(evt_2) = %+v, %v", ev, err)
	}
	if d, err := st.Delivery(ctx, "dlv_1"); err != nil || d.Rev != 1 || d.Status != gateway.StatusPending {
		t.Fatalf("Delivery(dlv_1) = %+v, %v; want pending at rev 1", d, err)
	}
	page, err := st.ListDeliveries(ctx, gateway.DeliveryQuery{Endpoint: "ep_1", Status: gateway.StatusPaused})
	if err != nil || len(page.Deliveries) != 1 || page.Deliveries[0].ID != "dlv_2" {
		t.Fatalf("paused deliveries of ep_1 = %+v, %v; want dlv_2", page, err)
	}
	page, err = st.ListDeliveries(ctx, gateway.DeliveryQuery{})
	if err != nil || len(page.Deliveries) != 2 || page.Deliveries[0].ID != "dlv_2" {
		t.Fatalf("every delivery = %+v, %v; want dlv_2 then dlv_1", page, err)
	}
	jobs, err := st.Lease(ctx, base.Add(time.Hour), 10, time.Minute)
	if err != nil || len(jobs) != 1 || jobs[0].Delivery != "dlv_1" || jobs[0].Endpoint != "ep_1" {
		t.Fatalf("Lease = %+v, %v; want dlv_1 for ep_1", jobs, err)
	}
	if ep, rev, err := st.Endpoints().Get(ctx, "ep_1"); err != nil || rev != 1 || ep.URL != "https://a.example/hook" {
		t.Fatalf("Endpoints().Get = %+v, %d, %v", ep, rev, err)
	}
	// A record from before kinds' settings were the kind's own: its flat bot_token and
	// chat_id are its Settings.
	if ep, _, err := st.Endpoints().Get(ctx, "ep_2"); err != nil || string(ep.Settings) != `{"bot_token":"123:AbC","chat_id":"-1001"}` || ep.RateLimitPerS != 2 || ep.Kind != "telegram" {
		t.Fatalf("Endpoints().Get(ep_2) = %+v (settings %s), %v", ep, ep.Settings, err)
	}
	if _, rev, err := st.Sources().Get(ctx, "src_1"); err != nil || rev != 1 {
		t.Fatalf("Sources().Get = %d, %v", rev, err)
	}
	if rev, err := st.Endpoints().Put(ctx, "ep_1", &gateway.Endpoint{ID: "ep_1"}, 1); err != nil || rev <= 1 {
		t.Fatalf("Endpoints().Put over a migrated record = %d, %v; want a revision after 1", rev, err)
	}
	if et, rev, err := st.EventTypes().Get(ctx, "custom.thing"); err != nil || rev != 1 || et.Description != "d" {
		t.Fatalf("EventTypes().Get = %+v, %d, %v", et, rev, err)
	}
	if reqs, err := st.Requests(ctx, "src_1", 10); err != nil || len(reqs) != 1 || reqs[0].ID != "req_1" {
		t.Fatalf("Requests = %+v, %v", reqs, err)
	}
	later := base.Add(time.Hour)
	if res := appendOK(t, st, &gateway.Append{Event: event("evt_1", later).Event, Dedupe: "evt_1"}); !res.Duplicate || res.Seq != 1 {
		t.Fatalf("republishing evt_1: %+v, want a duplicate of seq 1", res)
	}
	if res := appendOK(t, st, &gateway.Append{Event: event("evt_x", later).Event, Dedupe: "src_1/evt_2", DedupeFor: 7 * 24 * time.Hour}); !res.Duplicate || res.ID != "evt_2" {
		t.Fatalf("the catch hook's evt_2 again: %+v, want a duplicate of evt_2", res)
	}
	if _, err := st.Append(ctx, event("evt_2", later)); !errors.Is(err, gateway.ErrConflict) {
		t.Fatalf("appending evt_2 without a dedupe key: %v, want ErrConflict", err)
	}
	if res := appendOK(t, st, event("evt_3", later, "ep_1")); res.Seq != 3 {
		t.Fatalf("a new event after the migration: Seq %d, want 3", res.Seq)
	}
}

// A migration from layout 1 cut short (the folder marked migrating, its records not yet
// rewritten) is resumed by the next Open, which leaves the folder at layout 4.
func TestInterruptedMigrationResumes(t *testing.T) {
	dir := t.TempDir()
	writeLegacy(t, dir)
	rawUpdate(t, dir, func(tx *bdb.Txn) error { return tx.Set([]byte("m/format"), []byte("4-migrating")) })

	st := open(t, dir)
	ids, _ := eventIDs(t, st, gateway.EventQuery{})
	if got := strings.Join(ids, " "); got != "evt_1@1 evt_2@2" {
		t.Fatalf("Events after resuming the migration = %s, want evt_1@1 evt_2@2", got)
	}
	if d, err := st.Delivery(ctx, "dlv_1"); err != nil || d.Rev != 1 {
		t.Fatalf("Delivery(dlv_1) = %+v, %v; want it at rev 1", d, err)
	}
	st.Close()
	if got := rawGet(t, dir, "m/format"); got != "4" {
		t.Errorf("m/format after the resumed migration = %q, want 4", got)
	}
}

// A folder of a layout this package does not know is refused.
func TestUnknownLayoutRefused(t *testing.T) {
	dir := t.TempDir()
	rawUpdate(t, dir, func(tx *bdb.Txn) error { return tx.Set([]byte("m/format"), []byte("9")) })
	if _, err := badger.Open(badger.Options{Dir: dir}); err == nil || !strings.Contains(err.Error(), `layout version "9"`) {
		t.Fatalf("Open on a layout-9 folder: %v, want an error naming the layout", err)
	}
}

// rawView runs fn in a read transaction of Badger itself on the closed store in dir.
func rawView(t *testing.T, dir string, fn func(tx *bdb.Txn) error) {
	t.Helper()
	db, err := bdb.Open(bdb.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(fn); err != nil {
		t.Fatal(err)
	}
}

// rawUpdate runs fn in a write transaction of Badger itself on the closed store in dir,
// as an older hookgate (or an operator) would have written it.
func rawUpdate(t *testing.T, dir string, fn func(tx *bdb.Txn) error) {
	t.Helper()
	db, err := bdb.Open(bdb.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		db.Close()
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// rawGet reads key from the closed store in dir, "" when it is absent.
func rawGet(t *testing.T, dir, key string) string {
	t.Helper()
	var v []byte
	rawView(t, dir, func(tx *bdb.Txn) error {
		item, err := tx.Get([]byte(key))
		if errors.Is(err, bdb.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	})
	return string(v)
}

// A layout-2 folder (jobs with _j/ pointers, event and delivery records in JSON) opens as
// layout 4, its event read, its pending delivery still queued, read and delivered once, and
// saved in the binary form;
// a hookgate of an older layout then refuses the folder rather than leave finished
// deliveries' jobs behind or misread their records. A layout-3 folder is layout 2 without
// the pointers: the same test covers it.
func TestLayout2FolderBecomesLayout4(t *testing.T) {
	for _, layout := range []string{"2", "3"} {
		t.Run("layout "+layout, func(t *testing.T) { testOlderLayout(t, layout) })
	}
}

func testOlderLayout(t *testing.T, layout string) {
	dir := t.TempDir()
	st := open(t, dir)
	appendOK(t, st, event("evt_1", base, "ep_1"))
	d, err := st.Delivery(ctx, "dlv_evt_1_ep_1")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := st.Event(ctx, "evt_1")
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if got := rawGet(t, dir, "m/format"); got != "4" {
		t.Fatalf("m/format of a new folder = %q, want 4", got)
	}
	if got := rawGet(t, dir, "dl/dlv_evt_1_ep_1"); len(got) < 9 || got[8] == '{' {
		t.Fatalf("a new delivery record is %q, want the binary form", got)
	}
	j, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	rawUpdate(t, dir, func(tx *bdb.Txn) error {
		if err := tx.Set([]byte("m/format"), []byte(layout)); err != nil {
			return err
		}
		if err := tx.Set([]byte("dl/dlv_evt_1_ep_1"), append(binary.BigEndian.AppendUint64(nil, d.Rev), j...)); err != nil {
			return err
		}
		// The event as layouts 2 and 3 stored it: version 1, the Seq, the length of the JSON
		// of its fields, that JSON, the data.
		meta, err := json.Marshal(map[string]any{"id": ev.ID, "type": ev.Type, "source": ev.Source, "created": ev.Created, "received_at": ev.ReceivedAt,
			"deliveries": ev.Deliveries, "dedupe": ev.ID})
		if err != nil {
			return err
		}
		old := binary.BigEndian.AppendUint64([]byte{1}, uint64(ev.Seq))
		old = append(binary.AppendUvarint(old, uint64(len(meta))), meta...)
		if err := tx.Set([]byte("ev/evt_1"), append(old, ev.Data...)); err != nil {
			return err
		}
		if layout != "2" {
			return nil
		}
		return tx.Set([]byte("_j/dlv_evt_1_ep_1"), binary.BigEndian.AppendUint64(nil, uint64(base.UnixNano())))
	})

	st = open(t, dir)
	if got, err := st.Event(ctx, "evt_1"); err != nil || !reflect.DeepEqual(got, ev) {
		t.Fatalf("the layout-%s event record reads as %+v, %v; want %+v", layout, got, err, ev)
	}
	if res, err := st.Append(ctx, &gateway.Append{Event: event("evt_1", base, "ep_1").Event, Dedupe: "evt_1"}); err != nil || !res.Duplicate {
		t.Fatalf("publishing evt_1 again over a layout-%s folder = %+v, %v; want a duplicate", layout, res, err)
	}
	jobs, err := st.Lease(ctx, base.Add(time.Minute), 10, time.Minute)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("Lease after reopening a layout-%s folder = %+v, %v; want its one pending delivery", layout, jobs, err)
	}
	was, err := st.Delivery(ctx, "dlv_evt_1_ep_1")
	if err != nil || !reflect.DeepEqual(was, d) {
		t.Fatalf("the layout-%s record reads as %+v, %v; want %+v", layout, was, err, d)
	}
	done := *was
	done.Status, done.NextAttemptAt = gateway.StatusSucceeded, nil
	done.Attempts = []gateway.Attempt{{At: base, StatusCode: 204, DurationMS: 3}}
	if err := st.UpdateDelivery(ctx, was, &done); err != nil {
		t.Fatalf("saving a delivery read from a layout-%s record: %v", layout, err)
	}
	if jobs, err := st.Lease(ctx, base.Add(time.Hour), 10, time.Minute); err != nil || len(jobs) != 0 {
		t.Fatalf("Lease after the delivery succeeded = %+v, %v; want none", jobs, err)
	}
	st.Close()
	if got := rawGet(t, dir, "m/format"); got != "4" {
		t.Errorf("m/format after opening a layout-%s folder = %q, want 4", layout, got)
	}
	if got := rawGet(t, dir, "_j/dlv_evt_1_ep_1"); got != "" {
		t.Errorf("a _j/ pointer is left after opening a layout-%s folder", layout)
	}
	if got := rawGet(t, dir, "dl/dlv_evt_1_ep_1"); len(got) < 9 || got[8] == '{' {
		t.Errorf("the saved delivery record is %q, want the binary form", got)
	}
	st = open(t, dir)
	if got, err := st.Delivery(ctx, "dlv_evt_1_ep_1"); err != nil || got.Status != gateway.StatusSucceeded || len(got.Attempts) != 1 {
		t.Errorf("the saved delivery reads as %+v, %v", got, err)
	}
}

// A request log entry written before the log recorded results has the HTTP status the
// catch hook answered instead; it is read as the result that status stood for.
func TestRequestLogStatusReadAsResult(t *testing.T) {
	dir := t.TempDir()
	open(t, dir).Close()
	db, err := bdb.Open(bdb.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	entries := []string{
		`{"id":"req_0","verified":true,"status":200,"duplicate":false,"headers":{},"body_size":2}`,
		`{"id":"req_1","verified":true,"status":200,"duplicate":true,"headers":{},"body_size":2}`,
		`{"id":"req_2","verified":false,"status":401,"error":"bad signature","duplicate":false,"headers":{},"body_size":2}`,
		`{"id":"req_3","verified":true,"status":400,"error":"not UTF-8","duplicate":false,"headers":{},"body_size":2}`,
		`{"id":"req_4","verified":true,"status":422,"error":"schema","duplicate":false,"headers":{},"body_size":2}`,
		`{"id":"req_5","verified":true,"status":500,"error":"disk","duplicate":false,"headers":{},"body_size":2}`,
		`{"id":"req_6","verified":true,"result":"accepted","duplicate":false,"headers":{},"body_size":2}`,
	}
	err = db.Update(func(tx *bdb.Txn) error {
		for i, v := range entries {
			k := "srq/src_1/" + string(binary.BigEndian.AppendUint64(nil, uint64(base.Add(time.Duration(i)*time.Second).UnixNano()))) + "req_" + string(rune('0'+i))
			if err := tx.Set([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	st := open(t, dir)
	reqs, err := st.Requests(ctx, "src_1", 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range reqs {
		got = append(got, r.ID+":"+string(r.Result)+map[bool]string{true: "/malformed"}[r.Malformed])
	}
	want := "req_6:accepted req_5:failed req_4:invalid req_3:invalid/malformed req_2:rejected req_1:duplicate req_0:accepted"
	if strings.Join(got, " ") != want {
		t.Fatalf("Requests = %s\nwant       %s", strings.Join(got, " "), want)
	}
}

// Layout 1 could leave a job away from its delivery's NextAttemptAt (moved by a rate-limit
// deferral) and the job of a delivery that was no longer pending (dropped only when next
// leased). The migration puts the first at its delivery's time and removes the others, so
// that finishing the delivery leaves nothing queued.
func TestLegacyQueueMigrated(t *testing.T) {
	dir := t.TempDir()
	writeLegacy(t, dir)
	db, err := bdb.Open(bdb.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	ns := func(at time.Time) string { return string(binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano()))) }
	deferred := base.Add(30 * time.Second)
	err = db.Update(func(tx *bdb.Txn) error {
		for k, v := range map[string]string{
			"_q/" + ns(deferred) + "dlv_1": "ep_1", // dlv_1's job, deferred past its next_attempt_at
			"_j/dlv_1":                     ns(deferred),
			"_q/" + ns(base) + "dlv_2":     "ep_1", // dlv_2 is paused
			"_j/dlv_2":                     ns(base),
			"_q/" + ns(base) + "dlv_gone":  "ep_1", // no such delivery
			"_j/dlv_gone":                  ns(base),
		} {
			if err := tx.Set([]byte(k), []byte(v)); err != nil {
				return err
			}
		}
		return tx.Delete([]byte("_q/" + ns(base) + "dlv_1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st := open(t, dir)
	later := base.Add(time.Hour)
	b, err := st.Backlog(ctx)
	if err != nil || len(b.Pending) != 1 || b.Pending["ep_1"] != 1 || !b.OldestDue.Equal(base) {
		t.Fatalf("Backlog after the migration = %+v, %v; want dlv_1 alone, due %v", b, err, base)
	}
	jobs, err := st.Lease(ctx, base, 10, time.Minute)
	if err != nil || len(jobs) != 1 || jobs[0].Delivery != "dlv_1" || jobs[0].Endpoint != "ep_1" || !jobs[0].Due.Equal(base) {
		t.Fatalf("Lease = %+v, %v; want dlv_1 for ep_1 due at its next_attempt_at %v", jobs, err, base)
	}
	d, err := st.Delivery(ctx, "dlv_1")
	if err != nil {
		t.Fatal(err)
	}
	d.Status, d.NextAttemptAt = gateway.StatusSucceeded, nil
	if err := st.SaveDeliveries(ctx, d); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st = open(t, dir)
	if b, err := st.Backlog(ctx); err != nil || len(b.Pending) != 0 {
		t.Fatalf("Backlog once dlv_1 succeeded = %+v, %v; want nothing queued", b, err)
	}
	if jobs, err := st.Lease(ctx, later, 10, time.Minute); err != nil || len(jobs) != 0 {
		t.Fatalf("Lease once dlv_1 succeeded = %+v, %v; want none", jobs, err)
	}
}

// dedupeKeysIn returns the dd/ keys of the closed store in dir.
func dedupeKeysIn(t *testing.T, dir string) []string {
	t.Helper()
	var keys []string
	rawView(t, dir, func(tx *bdb.Txn) error {
		it := tx.NewIterator(bdb.IteratorOptions{Prefix: []byte("dd/")})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, string(it.Item().Key()))
		}
		return nil
	})
	return keys
}

// An event deduplicated on its own id for as long as it is kept (the publish API's dedupe)
// gets no dd/ key: its record stands for it. One written before that (a dd/ key holding
// the event's own id) still dedupes, and goes with its event.
func TestDedupeOnOwnIDWritesNoKey(t *testing.T) {
	dir := t.TempDir()
	st := open(t, dir)
	a := event("evt_1", base)
	a.Dedupe = "evt_1"
	first := appendOK(t, st, a)
	old := event("evt_old", base)
	old.Dedupe = "evt_old"
	appendOK(t, st, old)
	st.Close()
	if keys := dedupeKeysIn(t, dir); len(keys) != 0 {
		t.Fatalf("dd/ keys after two Appends deduplicated on their ids: %q, want none", keys)
	}

	// What the store wrote for evt_old before: dd/evt_old → <seq><received><window 0><id>.
	db, err := bdb.Open(bdb.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	v := binary.BigEndian.AppendUint64(nil, 2)
	v = binary.BigEndian.AppendUint64(v, uint64(base.UnixNano()))
	v = binary.BigEndian.AppendUint64(v, 0)
	v = append(v, "evt_old"...)
	if err := db.Update(func(tx *bdb.Txn) error { return tx.Set([]byte("dd/evt_old"), v) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	st = open(t, dir)
	for _, id := range []string{"evt_1", "evt_old"} {
		again := event(id, base.Add(time.Hour))
		again.Dedupe = id
		if res := appendOK(t, st, again); !res.Duplicate || res.ID != id {
			t.Errorf("Append(%s) again = %+v, want a duplicate of it", id, res)
		}
	}
	if res := appendOK(t, st, func() *gateway.Append { a := event("evt_2", base); a.Dedupe = "evt_1"; return a }()); !res.Duplicate || res.Seq != first.Seq {
		t.Errorf("Append(evt_2) under evt_1's id = %+v, want a duplicate of evt_1 at Seq %d", res, first.Seq)
	}
	if n, err := st.Trim(ctx, base.Add(time.Minute), 100); err != nil || n != 2 {
		t.Fatalf("Trim = %d, %v; want both events", n, err)
	}
	st.Close()
	if keys := dedupeKeysIn(t, dir); len(keys) != 0 {
		t.Errorf("dd/ keys after their events were trimmed: %q, want none", keys)
	}
}

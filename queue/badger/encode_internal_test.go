package badger

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// deliveriesToStore are deliveries with every field set, and with none: escapes and broken
// UTF-8 in the strings, times in zones and at the zero time, negative numbers.
func deliveriesToStore() []*gateway.Delivery {
	now := time.Date(2026, 11, 28, 13, 0, 0, 123456789, time.UTC)
	next := now.Add(time.Minute).In(time.FixedZone("", -7*3600-30*60))
	return []*gateway.Delivery{
		{ID: "dlv_1", EventID: "evt_1", EndpointID: "ep_1", EventType: "video.posted", Status: gateway.StatusPending,
			Attempts: []gateway.Attempt{}, NextAttemptAt: &next, CreatedAt: now, UpdatedAt: now},
		{ID: "dlv_2", EventID: "evt_2", EndpointID: "ep_<2>", EventType: "a&b", Status: gateway.StatusFailed, Step: 3,
			Attempts: []gateway.Attempt{
				{At: now, StatusCode: 500, DurationMS: 12, Error: "boom \u2028 \u2029 \xff\xfe \b\f\n\r\t\x00\x1f\x7f \"q\" \\", ResponseBody: "<html>&amp;</html>\n", RequestBytes: 1024, RequestEnvelope: true},
				{At: next, StatusCode: -1, DurationMS: -5, RequestBody: `{"x":"<y>","é":"日本"}` + "\xe2\x80", RequestBytes: 11},
				{StatusCode: math.MinInt, DurationMS: math.MinInt64, RequestBytes: math.MaxInt},
			},
			CreatedAt: time.Time{}, UpdatedAt: next},
		{ID: "", Status: "", Attempts: nil},
	}
}

// sameDelivery reports whether a record read back is d: equal fields, times at the same
// instant with the same zone offset (what RFC 3339 JSON kept too).
func sameDelivery(got, d *gateway.Delivery) bool {
	norm := func(d *gateway.Delivery) *gateway.Delivery {
		c := *d
		c.Rev = 0
		c.CreatedAt, c.UpdatedAt = zoned(c.CreatedAt), zoned(c.UpdatedAt)
		if c.NextAttemptAt != nil {
			t := zoned(*c.NextAttemptAt)
			c.NextAttemptAt = &t
		}
		c.Attempts = slices.Clone(c.Attempts)
		for i := range c.Attempts {
			c.Attempts[i].At = zoned(c.Attempts[i].At)
		}
		return &c
	}
	return reflect.DeepEqual(norm(got), norm(d))
}

// zoned is t as an instant and an offset, the zone's name dropped.
func zoned(t time.Time) time.Time {
	_, off := t.Zone()
	return t.In(time.FixedZone("", off))
}

// TestDeliveryRecordRoundTrip: what encodeDelivery stores reads back as the delivery it
// was, revision included (strings byte for byte, broken UTF-8 too), and a record as layout 3
// stored it (the revision, then the JSON) reads back as that JSON says.
func TestDeliveryRecordRoundTrip(t *testing.T) {
	for i, d := range deliveriesToStore() {
		rev := uint64(i + 7)
		for range 3 { // the buffer is recycled: what it held before must not show
			b, err := encodeDelivery(rev, d)
			if err != nil {
				t.Fatal(err)
			}
			got, gotRev := readRecord(t, b)
			if gotRev != rev || !sameDelivery(got, d) {
				t.Fatalf("encodeDelivery(%s) reads back as rev %d %+v\nwant rev %d %+v", d.ID, gotRev, got, rev, d)
			}
		}
		// Layout 3's JSON replaced invalid UTF-8 with U+FFFD: its record reads back as the
		// delivery JSON made of d.
		want, j := throughJSON(t, *d)
		got, gotRev := readRecord(t, withRev(rev, j))
		if gotRev != rev || !sameDelivery(got, &want) {
			t.Fatalf("the JSON record of %s reads back as rev %d %+v\nwant rev %d %+v", d.ID, gotRev, got, rev, &want)
		}
	}
}

// readRecord decodes a stored delivery record as loadDelivery and loadDeliveryKeys do, and
// checks that the two agree.
func readRecord(t *testing.T, v []byte) (*gateway.Delivery, uint64) {
	t.Helper()
	rev, b, err := splitRev([]byte("dl/x"), v)
	if err != nil {
		t.Fatal(err)
	}
	d, err := decodeDelivery(b)
	if err != nil {
		t.Fatalf("decodeDelivery(%q): %v", b, err)
	}
	k, err := decodeDeliveryKeys(b)
	if err != nil {
		t.Fatalf("decodeDeliveryKeys(%q): %v", b, err)
	}
	want := &deliveryKeys{ID: d.ID, EndpointID: d.EndpointID, Status: d.Status, NextAttemptAt: d.NextAttemptAt, CreatedAt: d.CreatedAt}
	if !reflect.DeepEqual(k, want) {
		t.Fatalf("decodeDeliveryKeys = %+v, decodeDelivery's fields %+v", k, want)
	}
	return d, rev
}

// TestDeliveryRecordRandom round-trips random deliveries: strings of random bytes (ASCII,
// control characters, HTML, multi-byte and broken UTF-8), times in random zones, random
// numbers and omitted fields; and checks the binary form is shorter than the JSON.
func TestDeliveryRecordRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 42))
	pieces := []string{"a", "Z", "0", " ", "\"", "\\", "/", "<", ">", "&", "\x00", "\x01", "\x1f", "\x7f", "\b", "\f", "\n", "\r", "\t",
		"é", "日", "😀", "\u2028", "\u2029", "\xff", "\xc3", "\xe2\x80", "\xf0\x9f\x98", "\ufffd", "\u00ff"}
	str := func() string {
		var b []byte
		for range r.IntN(12) {
			b = append(b, pieces[r.IntN(len(pieces))]...)
		}
		return string(b)
	}
	when := func() time.Time {
		t := time.Unix(r.Int64N(253402300799), r.Int64N(1e9))
		switch r.IntN(3) {
		case 0:
			return t.UTC()
		case 1:
			return t.In(time.FixedZone("x", (r.IntN(48)-24)*1800))
		}
		return t.Truncate(time.Second).UTC()
	}
	for n := range 2000 {
		d := &gateway.Delivery{ID: str(), EventID: str(), EndpointID: str(), EventType: str(), Status: gateway.DeliveryStatus(str()),
			CreatedAt: when(), UpdatedAt: when(), Step: r.IntN(20) - 2}
		if r.IntN(2) == 0 {
			at := when()
			d.NextAttemptAt = &at
		}
		if r.IntN(4) > 0 {
			d.Attempts = []gateway.Attempt{}
		}
		for range r.IntN(4) {
			a := gateway.Attempt{At: when(), StatusCode: r.IntN(600), DurationMS: r.Int64N(1e6) - 10, RequestEnvelope: r.IntN(2) == 0}
			if r.IntN(2) == 0 {
				a.Error, a.ResponseBody, a.RequestBody, a.RequestBytes = str(), str(), str(), r.IntN(3)
			}
			d.Attempts = append(d.Attempts, a)
		}
		b, err := encodeDelivery(uint64(n), d)
		if err != nil {
			t.Fatal(err)
		}
		if got, rev := readRecord(t, b); rev != uint64(n) || !sameDelivery(got, d) {
			t.Fatalf("delivery %d reads back as rev %d %+v\nwant %+v", n, rev, got, d)
		}
		j, _ := json.Marshal(d)
		if len(b) >= 8+len(j) {
			t.Fatalf("delivery %d: the binary record takes %d bytes, its JSON %d", n, len(b)-8, len(j))
		}
	}
}

// TestDeliveryRecordRefusesWhatJSONCannotWrite: a time RFC 3339 can't express (a year
// outside 0 to 9999, a zone offset of a day or more) is an error, as it would be when the API
// answered with the delivery; for an event's times too.
func TestDeliveryRecordRefusesWhatJSONCannotWrite(t *testing.T) {
	for _, at := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 28, 13, 0, 0, 0, time.FixedZone("", 24*3600)), time.Date(2026, 11, 28, 13, 0, 0, 0, time.FixedZone("", -25*3600))} {
		if _, err := encodeEvent(&gateway.StoredEvent{Event: gateway.Event{ID: "evt_1", Created: at}}, ""); err == nil {
			t.Errorf("an event created at %v: encodeEvent succeeded, want an error", at)
		}
		d := &gateway.Delivery{ID: "dlv_1", CreatedAt: at}
		if _, jerr := json.Marshal(d); jerr == nil {
			t.Fatalf("json.Marshal of a delivery created at %v succeeded", at)
		}
		if _, err := encodeDelivery(1, d); err == nil {
			t.Errorf("created at %v: encodeDelivery succeeded, want an error", at)
		}
		d = &gateway.Delivery{ID: "dlv_1", Attempts: []gateway.Attempt{{At: at}}}
		if _, err := encodeDelivery(1, d); err == nil {
			t.Errorf("an attempt at %v: encodeDelivery succeeded, want an error", at)
		}
	}
}

// TestDeliveryRecordCorrupt: every cut of a record, and a record with a byte changed, is an
// error or some delivery, never a panic; cuts are always errors.
func TestDeliveryRecordCorrupt(t *testing.T) {
	for _, d := range deliveriesToStore() {
		b, err := encodeDelivery(1, d)
		if err != nil {
			t.Fatal(err)
		}
		body := b[8:]
		for i := range body {
			if _, err := decodeDelivery(body[:i]); !errors.Is(err, errCorrupt) {
				t.Fatalf("%s cut to %d of %d bytes: %v, want errCorrupt", d.ID, i, len(body), err)
			}
			for _, x := range []byte{0, 1, 0x7f, 0x80, 0xff} {
				c := bytes.Clone(body)
				c[i] = x
				decodeDelivery(c)
				decodeDeliveryKeys(c)
			}
		}
	}
}

// FuzzDecodeDelivery: any bytes are an error or a delivery that encodes back to a record
// of the same delivery.
func FuzzDecodeDelivery(f *testing.F) {
	for _, d := range deliveriesToStore() {
		b, err := encodeDelivery(1, d)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[8:])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeDelivery(b)
		if err != nil {
			return
		}
		again, err := encodeDelivery(1, d)
		if err != nil {
			return // a time JSON can't write, read from bytes the encoder never wrote
		}
		if got, _ := readRecord(t, again); !sameDelivery(got, d) {
			t.Fatalf("%q decodes to %+v, which reads back as %+v", b, d, got)
		}
	})
}

// TestDeliveryRecordFields fails when Delivery or Attempt gains, loses or renames a field:
// appendDeliveryRecord and decodeDelivery write and read them one by one and must be
// changed with them.
func TestDeliveryRecordFields(t *testing.T) {
	for _, c := range []struct {
		v    any
		want []string
	}{
		{gateway.Delivery{}, []string{"ID string `json:\"id\"`", "EventID string `json:\"event_id\"`", "EndpointID string `json:\"endpoint_id\"`",
			"EventType string `json:\"event_type\"`", "Status gateway.DeliveryStatus `json:\"status\"`", "Attempts []gateway.Attempt `json:\"attempts\"`",
			"NextAttemptAt *time.Time `json:\"next_attempt_at\"`", "CreatedAt time.Time `json:\"created_at\"`", "UpdatedAt time.Time `json:\"updated_at\"`",
			"Step int `json:\"step\"`", "Rev uint64 `json:\"-\"`"}},
		{gateway.Attempt{}, []string{"At time.Time `json:\"at\"`", "StatusCode int `json:\"status_code\"`", "DurationMS int64 `json:\"duration_ms\"`",
			"Error string `json:\"error,omitempty\"`", "ResponseBody string `json:\"response_body,omitempty\"`", "RequestBody string `json:\"request_body,omitempty\"`",
			"RequestBytes int `json:\"request_bytes,omitempty\"`", "RequestEnvelope bool `json:\"request_envelope,omitempty\"`"}},
	} {
		typ := reflect.TypeOf(c.v)
		var got []string
		for f := range typ.Fields() {
			got = append(got, f.Name+" "+f.Type.String()+" `"+string(f.Tag)+"`")
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s has the fields\n%q\nthe delivery record holds\n%q\nchange appendDeliveryRecord and decodeDelivery (queue/badger/deliverycodec.go) with the type", typ, got, c.want)
		}
	}
	if k := reflect.TypeOf(gateway.StatusPending).Kind(); k != reflect.String {
		t.Errorf("DeliveryStatus is a %s, the delivery record holds it as a string", k)
	}
}

// eventsToStore are stored events with every field set, and with none.
func eventsToStore() []*gateway.StoredEvent {
	now := time.Date(2026, 11, 28, 13, 0, 0, 123456789, time.UTC)
	return []*gateway.StoredEvent{
		{Event: gateway.Event{ID: "evt_1", Type: "video.posted", Source: "src_1", SourceEventID: "tp_9 <&>\xff",
			Created: now.In(time.FixedZone("", 5*3600+1800)), Data: json.RawMessage(`{"video_id":"v_1","é":"日本"}`)},
			ReceivedAt: now, Deliveries: []string{"dlv_1", "dlv_2"}, Seq: 42},
		{Event: gateway.Event{ID: "evt_2", Type: "post.failed", Created: now}, ReceivedAt: now, Deliveries: []string{}, Seq: 1},
		{},
	}
}

// TestEventRecordRoundTrip: what encodeEvent stores (the Seq set after, as Append does)
// reads back as the event it was, with its dedupe key; and a record as layouts before 4
// stored it (eventJSON: the meta as JSON) reads back the same.
func TestEventRecordRoundTrip(t *testing.T) {
	for _, ev := range eventsToStore() {
		for _, dedupe := range []string{"", ev.ID, "k:1"} {
			b, err := encodeEvent(&gateway.StoredEvent{Event: ev.Event, ReceivedAt: ev.ReceivedAt, Deliveries: ev.Deliveries}, dedupe)
			if err != nil {
				t.Fatal(err)
			}
			setEventSeq(b, ev.Seq)
			got, m, err := decodeEvent(b)
			if err != nil || !sameEvent(got, ev) || m.Dedupe != dedupe {
				t.Fatalf("encodeEvent(%s, %q) reads back as %+v, %+v, %v\nwant %+v", ev.ID, dedupe, got, m, err, ev)
			}

			meta, err := json.Marshal(eventMeta{ID: ev.ID, Type: ev.Type, Source: ev.Source, SourceEventID: ev.SourceEventID,
				Created: ev.Created, ReceivedAt: ev.ReceivedAt, Deliveries: ev.Deliveries, Dedupe: dedupe})
			if err != nil {
				t.Fatal(err)
			}
			old := binary.BigEndian.AppendUint64([]byte{eventJSON}, uint64(ev.Seq))
			old = append(binary.AppendUvarint(old, uint64(len(meta))), meta...)
			old = append(old, ev.Data...)
			want := *ev
			want.SourceEventID = strings.ToValidUTF8(ev.SourceEventID, "\ufffd") // what JSON kept of it
			got, m, err = decodeEvent(old)
			if err != nil || !sameEvent(got, &want) || m.Dedupe != dedupe {
				t.Fatalf("the JSON record of %s reads back as %+v, %+v, %v\nwant %+v", ev.ID, got, m, err, &want)
			}
		}
	}
}

// sameEvent reports whether an event read back is ev: equal fields, times at the same
// instant with the same zone offset.
func sameEvent(got, ev *gateway.StoredEvent) bool {
	norm := func(e *gateway.StoredEvent) gateway.StoredEvent {
		c := *e
		c.Created, c.ReceivedAt = zoned(c.Created), zoned(c.ReceivedAt)
		return c
	}
	return reflect.DeepEqual(norm(got), norm(ev))
}

// TestEventRecordCorrupt: every cut of a record before its data, and a record with a byte
// changed, is an error or some event, never a panic; such cuts are errors.
func TestEventRecordCorrupt(t *testing.T) {
	for _, ev := range eventsToStore() {
		b, err := encodeEvent(ev, "k")
		if err != nil {
			t.Fatal(err)
		}
		for i := range len(b) - len(ev.Data) {
			if _, _, err := decodeEvent(b[:i]); !errors.Is(err, errCorrupt) {
				t.Fatalf("%s cut to %d of %d bytes: %v, want errCorrupt", ev.ID, i, len(b), err)
			}
			for _, x := range []byte{0, 1, 2, 0x7f, 0x80, 0xff} {
				c := bytes.Clone(b)
				c[i] = x
				decodeEvent(c)
			}
		}
	}
}

// FuzzDecodeEvent: any bytes are an error or an event that encodes back to a record of the
// same event.
func FuzzDecodeEvent(f *testing.F) {
	for _, ev := range eventsToStore() {
		b, err := encodeEvent(ev, "k")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, m, err := decodeEvent(b)
		if err != nil {
			return
		}
		again, err := encodeEvent(ev, m.Dedupe)
		if err != nil {
			return // a time JSON can't write, read from bytes the encoder never wrote
		}
		got, gm, err := decodeEvent(again)
		if err != nil || !sameEvent(got, ev) || gm.Dedupe != m.Dedupe {
			t.Fatalf("%q decodes to %+v, which reads back as %+v, %v", b, ev, got, err)
		}
	})
}

// TestRecordTimesReadAsJSONReadThem: a time reads back from a record as time.Time's
// UnmarshalJSON reads its RFC 3339 text: UTC for a zero offset, time.Local when the offset is
// the local zone's at that instant, else a fixed zone. (Run with TZ=Europe/Paris to see the
// local case; under UTC the zero offset covers it.)
func TestRecordTimesReadAsJSONReadThem(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	for range 500 {
		at := time.Unix(r.Int64N(253402300799), r.Int64N(1e9))
		for _, in := range []*time.Location{time.Local, time.UTC, time.FixedZone("x", 3600), time.FixedZone("", -9*3600-1800)} {
			at := at.In(in)
			want, _ := throughJSON(t, at)
			b, err := appendTime(nil, at)
			if err != nil {
				t.Fatal(err)
			}
			rd := recordReader{b: b}
			if got := rd.time(); rd.bad || !reflect.DeepEqual(got, want) {
				t.Fatalf("%v in %v reads back as %v (bad %v), JSON as %v", at, in, got, rd.bad, want)
			}
		}
	}
}

// TestCorruptAttemptCountAllocatesLittle: a record claiming more attempts than its bytes can
// hold is refused before they are allocated.
func TestCorruptAttemptCountAllocatesLittle(t *testing.T) {
	b := append([]byte{deliveryBinary, 0, 0, 0, 0, 0}, binary.AppendUvarint(nil, 1<<20)...)
	b = append(b, make([]byte, 1<<20)...) // zeros: each 11 of them is a valid, empty attempt
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := decodeDelivery(b)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, errCorrupt) {
		t.Fatalf("decodeDelivery of %d attempts in %d bytes: %v, want errCorrupt", 1<<20-1, len(b), err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 { // 1<<20 attempts would take 112 MiB
		t.Errorf("decoding it allocated %d bytes", n)
	}
}

// throughJSON is v as encoding/json writes it and reads it back (what a JSON record of an
// older layout kept of it), with the JSON.
func throughJSON[T any](t *testing.T, v T) (T, []byte) {
	t.Helper()
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(j, &out); err != nil {
		t.Fatal(err)
	}
	return out, j
}

package badger

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// TestEncodeDeliveryIsMarshal checks that a delivery is stored as before encodeDelivery:
// the revision, then exactly what json.Marshal writes (HTML, control characters and U+2028
// escaped, invalid UTF-8 replaced, no trailing newline), with and without attempts.
func TestEncodeDeliveryIsMarshal(t *testing.T) {
	now := time.Date(2026, 11, 28, 13, 0, 0, 123456789, time.UTC)
	next := now.Add(time.Minute).In(time.FixedZone("", -7*3600-30*60))
	ds := []*gateway.Delivery{
		{ID: "dlv_1", EventID: "evt_1", EndpointID: "ep_1", EventType: "video.posted", Status: gateway.StatusPending,
			Attempts: []gateway.Attempt{}, NextAttemptAt: &next, CreatedAt: now, UpdatedAt: now},
		{ID: "dlv_2", EventID: "evt_2", EndpointID: "ep_<2>", EventType: "a&b", Status: gateway.StatusFailed, Step: 3,
			Attempts: []gateway.Attempt{
				{At: now, StatusCode: 500, DurationMS: 12, Error: "boom \u2028 \u2029 \xff\xfe \b\f\n\r\t\x00\x1f\x7f \"q\" \\", ResponseBody: "<html>&amp;</html>\n", RequestBytes: 1024, RequestEnvelope: true},
				{At: next, StatusCode: -1, DurationMS: -5, RequestBody: `{"x":"<y>","é":"日本"}` + "\xe2\x80", RequestBytes: 11},
			},
			CreatedAt: time.Time{}, UpdatedAt: next},
		{ID: "", Status: "", Attempts: nil},
	}
	for i, d := range ds {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		want := withRev(uint64(i+7), b)
		for range 3 { // the buffer is recycled: what it held before must not show
			got, err := encodeDelivery(uint64(i+7), d)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("encodeDelivery(%s) = %q, %v\nwant %q", d.ID, got, err, want)
			}
		}
	}
}

// TestAppendDeliveryIsMarshal compares appendDelivery with json.Marshal on random
// deliveries: strings of random bytes (ASCII, control characters, HTML, multi-byte and
// broken UTF-8), times in random zones, random numbers and omitted fields.
func TestAppendDeliveryIsMarshal(t *testing.T) {
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
			CreatedAt: when(), UpdatedAt: when(), Step: r.IntN(20) - 2, Rev: r.Uint64()}
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
		want, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendDelivery([]byte("prefix"), d)
		if err != nil || !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("delivery %d: appendDelivery = %q, %v\nwant prefix%q", n, got, err, want)
		}
	}
}

// TestAppendDeliveryRefusesWhatMarshalRefuses: a time RFC 3339 can't express is an error
// for both.
func TestAppendDeliveryRefusesWhatMarshalRefuses(t *testing.T) {
	for _, at := range []time.Time{time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)} {
		d := &gateway.Delivery{ID: "dlv_1", CreatedAt: at}
		_, jerr := json.Marshal(d)
		_, err := appendDelivery(nil, d)
		if jerr == nil || err == nil {
			t.Errorf("created at %v: json.Marshal error %v, appendDelivery error %v; want both to fail", at, jerr, err)
		}
		d = &gateway.Delivery{ID: "dlv_1", Attempts: []gateway.Attempt{{At: at}}}
		if _, err := appendDelivery(nil, d); err == nil {
			t.Errorf("an attempt at %v: appendDelivery succeeded, want an error", at)
		}
	}
}

// TestDeliveryJSONFields fails when Delivery or Attempt gains, loses or renames a field:
// appendDelivery writes them one by one and must be changed with them.
func TestDeliveryJSONFields(t *testing.T) {
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
			t.Errorf("%s has the fields\n%q\nappendDelivery writes\n%q\nchange appendDelivery (queue/badger/deliveryjson.go) with the type", typ, got, c.want)
		}
	}
	if k := reflect.TypeOf(gateway.StatusPending).Kind(); k != reflect.String {
		t.Errorf("DeliveryStatus is a %s, appendDelivery writes it as a string", k)
	}
}

package badger

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// TestEncodeRecordIsMarshal checks that a record is stored as it was before encodeRecord:
// the revision, then exactly what json.Marshal writes (HTML and U+2028 escaped, invalid
// UTF-8 replaced, no trailing newline), for deliveries with and without attempts.
func TestEncodeRecordIsMarshal(t *testing.T) {
	now := time.Date(2026, 11, 28, 13, 0, 0, 123456789, time.UTC)
	next := now.Add(time.Minute)
	ds := []*gateway.Delivery{
		{ID: "dlv_1", EventID: "evt_1", EndpointID: "ep_1", EventType: "video.posted", Status: gateway.StatusPending,
			Attempts: []gateway.Attempt{}, NextAttemptAt: &next, CreatedAt: now, UpdatedAt: now},
		{ID: "dlv_2", EventID: "evt_2", EndpointID: "ep_<2>", EventType: "a&b", Status: gateway.StatusFailed, Step: 3,
			Attempts: []gateway.Attempt{
				{At: now, StatusCode: 500, DurationMS: 12, Error: "boom \u2028 \xff", ResponseBody: "<html>&amp;</html>\n", RequestBytes: 1024, RequestEnvelope: true},
				{At: next, StatusCode: 200, RequestBody: `{"x":"<y>"}`, RequestBytes: 11},
			},
			CreatedAt: now, UpdatedAt: next},
	}
	for i, d := range ds {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		want := withRev(uint64(i+7), b)
		for range 3 { // the buffer is recycled: what it held before must not show
			got, err := encodeRecord(uint64(i+7), d)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("encodeRecord(%s) = %q, %v\nwant %q", d.ID, got, err, want)
			}
		}
	}
}

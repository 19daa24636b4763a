package gateway_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// TestPublishStoresCompactData publishes a payload with spaces, HTML characters and
// U+2028 on a Badger store: the store keeps it compact (one pass at publish, the only
// one), the endpoint receives the same envelope json.Marshal gives for the event as sent,
// and the event read back from the store has that same envelope.
func TestPublishStoresCompactData(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{Store: gatewaytest.Badger(t, t.TempDir())}, rec)
	endpoint(t, svc, "*")
	sent := "{ \"title\" : \"<b>Tom & Jerry</b>\u2028\" ,\n\t\"tags\" : [ \"a b\" , 1 , null ] }"
	created := time.Date(2026, 6, 24, 14, 0, 5, 123456789, time.UTC)
	res, err := svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(" " + sent + "\n"), Created: created})
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	ev, _, err := svc.GetEvent(ctx, res.ID)
	if err != nil {
		t.Fatalf("GetEvent: %v", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(sent)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ev.Data, compact.Bytes()) {
		t.Fatalf("stored data %s, want it compact: %s", ev.Data, compact.Bytes())
	}
	want, err := json.Marshal(struct {
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Created string          `json:"created"`
		Data    json.RawMessage `json:"data"`
	}{res.ID, "video.posted", "2026-06-24T14:00:05.123Z", json.RawMessage(sent)})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Want(t, 5*time.Second, 1)[0].Body; !bytes.Equal(got, want) {
		t.Fatalf("delivered envelope\n %s\nwant\n %s", got, want)
	}
	if got := ev.Body(); !bytes.Equal(got, want) {
		t.Fatalf("envelope of the stored event\n %s\nwant\n %s", got, want)
	}
}

package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// GET /v1/events?wait=… is a long poll: it answers as soon as a matching event is stored
// (events of other types don't end it), or with an empty page and the cursor when the wait
// ends. Before, wait was ignored and the answer came at once, empty.
func TestListEventsLongPoll(t *testing.T) {
	a := newAPI(t, gateway.Options{})
	ctx := context.Background()
	warm, err := a.svc.Publish(ctx, gateway.PublishInput{Type: "warm.up", Data: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		status int
		body   map[string]any
		took   time.Duration
	}
	got := make(chan answer, 1)
	go func() {
		start := time.Now()
		status, body := a.do(http.MethodGet, "/v1/events?type=video.posted&after="+warm.ID+"&wait=30s", "")
		got <- answer{status, body, time.Since(start)}
	}()
	var posted *gateway.PublishResult
	for _, typ := range []string{"post.failed", "video.posted"} {
		res, err := a.svc.Publish(ctx, gateway.PublishInput{Type: typ, Data: json.RawMessage(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		posted = res
	}
	var ans answer
	select {
	case ans = <-got:
	case <-time.After(20 * time.Second):
		t.Fatal("the long poll did not answer within 20 s of the matching event")
	}
	data, _ := ans.body["data"].([]any)
	if ans.status != http.StatusOK || len(data) != 1 || data[0].(map[string]any)["id"] != posted.ID {
		t.Fatalf("long poll = %d %v, want the video.posted event %s", ans.status, ans.body, posted.ID)
	}

	// Nothing matches: an empty page once the wait ends, with the cursor to wait again from.
	start := time.Now()
	status, body := a.do(http.MethodGet, "/v1/events?type=never.happens&after="+posted.ID+"&wait=300ms", "")
	if took := time.Since(start); status != http.StatusOK || took < 300*time.Millisecond {
		t.Fatalf("a wait of 300ms with nothing to find: %d after %s, %v", status, took, body)
	}
	if data, _ := body["data"].([]any); len(data) != 0 || body["next_cursor"] == nil || body["next_cursor"] == "" {
		t.Fatalf("empty long poll = %v, want no data and a next_cursor", body)
	}

	for _, q := range []string{"wait=2m", "wait=soon", "wait=-1s", "order=newest&wait=1s"} {
		status, body := a.do(http.MethodGet, "/v1/events?"+q, "")
		if code, field, _ := errorOf(t, body); status != http.StatusUnprocessableEntity || field != "wait" {
			t.Errorf("GET /v1/events?%s = %d %s %s, want 422 naming wait", q, status, code, field)
		}
	}
}

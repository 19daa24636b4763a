package jetstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/jetstream"
	"github.com/hookgate/hookgate/queue/jetstream/jstest"
)

const token = "test-token"

// call makes one API request and returns the status and the decoded JSON answer.
func call(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := map[string]any{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s = %d %s: not JSON: %v", method, url, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode, out
}

// TestNATSOutage: with the NATS server gone (killed, as in a crash) a publish is answered
// 503 store_unavailable and /readyz says store_unreachable; once the server is back on its
// port and folder, the node recovers by itself, and every event acknowledged before, during
// and after the outage is stored and delivered within 30 s — those whose attempt the crash
// cut short included, whose lease alone would keep them back for 80 s.
func TestNATSOutage(t *testing.T) {
	srv := jstest.Start(t)
	st, err := jetstream.Open(context.Background(), jetstream.Options{URL: srv.URL(), Logger: quiet, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, gateway.Options{Store: st}, rec)
	api := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token, Logger: quiet}))
	t.Cleanup(api.Close)

	if code, out := call(t, "POST", api.URL+"/v1/endpoints", `{"url":"https://receiver.example/hook","events":["*"]}`); code != 201 {
		t.Fatalf("create endpoint = %d %v", code, out)
	}
	var acked []string
	publish := func(id string) (int, map[string]any) {
		code, out := call(t, "POST", api.URL+"/v1/events", `{"type":"order.paid","id":"`+id+`","data":{"n":1}}`)
		if code == 202 {
			acked = append(acked, id)
		}
		return code, out
	}
	for i := 0; i < 10; i++ {
		if code, out := publish(fmt.Sprintf("before_%d", i)); code != 202 {
			t.Fatalf("publish before the outage = %d %v", code, out)
		}
	}

	srv.Kill()
	var (
		code int
		out  map[string]any
	)
	gatewaytest.WaitFor(t, 10*time.Second, "a publish refused with 503", func() bool {
		code, out = publish("during")
		return code != 202
	})
	if e, _ := out["error"].(map[string]any); code != 503 || e["code"] != "store_unavailable" {
		t.Errorf("publish while NATS is down = %d %v, want 503 store_unavailable", code, out)
	}
	code, out = call(t, "GET", api.URL+"/readyz", "")
	if reasons := fmt.Sprint(out["reasons"]); code != 503 || !strings.Contains(reasons, "store_unreachable") {
		t.Errorf("/readyz while NATS is down = %d %v, want 503 with store_unreachable", code, out)
	}

	srv.Restart()
	n := 0
	gatewaytest.WaitFor(t, 30*time.Second, "a publish accepted again", func() bool {
		n++
		code, _ := publish(fmt.Sprintf("after_%d", n))
		return code == 202
	})
	for i := 0; i < 10; i++ {
		if code, out := publish(fmt.Sprintf("later_%d", i)); code != 202 {
			t.Fatalf("publish after the outage = %d %v", code, out)
		}
	}
	gatewaytest.WaitFor(t, 10*time.Second, "/readyz ready again", func() bool {
		code, _ := call(t, "GET", api.URL+"/readyz", "")
		return code == 200
	})
	for _, id := range acked {
		if code, out := call(t, "GET", api.URL+"/v1/events/"+id, ""); code != 200 {
			t.Errorf("acknowledged event %s = %d %v", id, code, out)
		}
	}
	delivered := map[string]bool{}
	gatewaytest.WaitFor(t, 30*time.Second, "every acknowledged event delivered", func() bool {
		for _, c := range rec.Calls() {
			delivered[c.EventID] = true
		}
		for _, id := range acked {
			if !delivered[id] {
				return false
			}
		}
		return true
	})
}

// TestStreamCreatedAgainUnderANode: when the stream goes back below what a node has read
// (here it is deleted and created again, as an operator might; nats-server losing
// acknowledged messages looks the same), the node finds it without writing anything and
// stops answering from its view, which holds what the stream no longer has: /readyz is not
// ready, and a publish and a read get 503 store_unavailable, all saying to restart the
// node. A node opened afresh reads the stream as it is and works. (A write that finds it
// first is TestWaitOwnTellsALostWrite.)
func TestStreamCreatedAgainUnderANode(t *testing.T) {
	srv := jstest.Start(t)
	ctx := context.Background()
	st, err := jetstream.Open(ctx, jetstream.Options{URL: srv.URL(), Logger: quiet, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	svc := gatewaytest.New(t, gateway.Options{Store: st}, gatewaytest.NewRecorder())
	api := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token, Logger: quiet}))
	t.Cleanup(api.Close)
	for i := 0; i < 5; i++ {
		if code, out := call(t, "POST", api.URL+"/v1/events", fmt.Sprintf(`{"type":"order.paid","id":"evt_%d","data":{"n":1}}`, i)); code != 202 {
			t.Fatalf("publish = %d %v", code, out)
		}
	}

	js := jstest.JetStream(t, srv.URL())
	s, err := js.Stream(ctx, "HOOKGATE")
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	if err := js.DeleteStream(ctx, "HOOKGATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}

	// Nothing is written meanwhile: the node's check of the stream, every Timeout, finds it.
	gatewaytest.WaitFor(t, 15*time.Second, "/readyz to say the node must be restarted", func() bool {
		code, out := call(t, "GET", api.URL+"/readyz", "")
		return code == 503 && strings.Contains(fmt.Sprint(out["reasons"]), "restart this node")
	})
	code, out := call(t, "POST", api.URL+"/v1/events", `{"type":"order.paid","data":{"n":2}}`)
	if e, _ := out["error"].(map[string]any); code != 503 || e["code"] != "store_unavailable" || !strings.Contains(fmt.Sprint(e["message"]), "restart this node") {
		t.Errorf("publish after the stream went back = %d %v, want 503 store_unavailable saying to restart the node", code, out)
	}
	if code, out := call(t, "GET", api.URL+"/v1/events/evt_1", ""); code != 503 || !strings.Contains(fmt.Sprint(out), "diverged") {
		t.Errorf("reading an event the stream no longer has = %d %v, want 503 saying the view diverged", code, out)
	}

	fresh, err := jetstream.Open(ctx, jetstream.Options{URL: srv.URL(), Logger: quiet, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	if _, err := fresh.Event(ctx, "evt_1"); !errors.Is(err, gateway.ErrNotFound) {
		t.Errorf("a fresh node reading evt_1 from the new stream: %v, want ErrNotFound", err)
	}
	if _, err := fresh.Append(ctx, &gateway.Append{Event: &gateway.StoredEvent{Event: gateway.Event{ID: "evt_new", Type: "t"}, ReceivedAt: time.Now()}}); err != nil {
		t.Errorf("Append on a fresh node: %v", err)
	}
}

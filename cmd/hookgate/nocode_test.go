package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestZapierSubscribeDeliverGoneUnsubscribed runs a Zapier REST-hook cycle against the
// built binary: subscribe with the API key header, receive an event at the hook URL,
// answer 410, and the subscription is gone.
func TestZapierSubscribeDeliverGoneUnsubscribed(t *testing.T) {
	p := startServe(t, t.TempDir())
	var (
		mu     sync.Mutex
		bodies []map[string]any
		gone   bool
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var v map[string]any
		json.Unmarshal(b, &v)
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, v)
		if gone {
			w.WriteHeader(http.StatusGone)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"success"}`)
	}))
	defer hook.Close()

	zap := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, p.url+path, strings.NewReader(body))
		req.Header.Set("X-API-Key", e2eToken) // what Zapier's API-key auth sends
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	st, sub := zap("POST", "/v1/zapier/hooks", `{"hookUrl":"`+hook.URL+`/hooks/catch/123/abc","event":"video.posted"}`)
	if st != 201 || sub["id"] == nil {
		t.Fatalf("subscribe = %d %v", st, sub)
	}
	id := sub["id"].(string)

	// performList before any event: the catalog's sample, as an array.
	req, _ := http.NewRequest("GET", p.url+"/v1/zapier/samples?event=video.posted", nil)
	req.Header.Set("X-API-Key", e2eToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var samples []map[string]any
	json.NewDecoder(resp.Body).Decode(&samples)
	resp.Body.Close()
	if len(samples) != 1 || samples[0]["id"] == nil || samples[0]["type"] != "video.posted" {
		t.Fatalf("samples = %v", samples)
	}

	if st, err := p.call("POST", "/v1/events", map[string]any{"type": "video.posted", "source": "tokportal", "data": json.RawMessage(videoPosted)}, nil); st != 202 {
		t.Fatalf("publish = %d %v", st, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(bodies)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the hook URL never got the event")
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	got := bodies[0]
	gone = true
	mu.Unlock()
	if got["type"] != "video.posted" || got["data"].(map[string]any)["post_url"] == nil {
		t.Fatalf("Zapier received %v", got)
	}

	// The Zap is turned off: Zapier answers 410 and hookgate drops the subscription.
	p.call("POST", "/v1/events", map[string]any{"type": "video.posted", "source": "tokportal", "data": json.RawMessage(videoPosted)}, nil)
	for {
		if st, _ := p.call("GET", "/v1/endpoints/"+id, nil, nil); st == 404 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the subscription survived a 410")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st, _ := zap("DELETE", "/v1/zapier/hooks/"+id, ""); st != 204 {
		t.Errorf("unsubscribe after removal = %d, want 204 (already gone is a success)", st)
	}
}

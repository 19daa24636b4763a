package mcp_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	hgmcp "github.com/hookgate/hookgate/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// TestCancelledCallGetsNoResponseOverHTTP drives the Streamable HTTP handler as a remote
// client would: a cancelled call's stream carries no response for it (when the call had
// been upgraded to SSE by its progress notifications), or its POST is answered 202 with no
// body (when the answer would have been plain JSON).
func TestCancelledCallGetsNoResponseOverHTTP(t *testing.T) {
	e := newEnvUntyped(t)
	ts := httptest.NewServer(hgmcp.DropCancelledResponses(server.NewStreamableHTTPServer(hgmcp.NewServer(e.svc, hgmcp.Options{ProgressInterval: 20 * time.Millisecond}))))
	t.Cleanup(ts.Close)
	post := func(session, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ts.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		if session != "" {
			req.Header.Set("Mcp-Session-Id", session)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	open := func() string {
		t.Helper()
		res := post("", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
		session := res.Header.Get("Mcp-Session-Id")
		res.Body.Close()
		if session == "" {
			t.Fatal("no session")
		}
		post(session, `{"jsonrpc":"2.0","method":"notifications/initialized"}`).Body.Close()
		return session
	}
	var session string
	cancel := func(id string) {
		res := post(session, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":`+id+`}}`)
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			t.Errorf("cancellation: %s", res.Status)
		}
	}

	// Plain JSON: the POST is answered 202 with no body once the call is cancelled.
	session = open()
	done := make(chan *http.Response, 1)
	go func() {
		done <- post(session, `{"jsonrpc":"2.0","id":"a3","method":"tools/call","params":{"name":"await_event","arguments":{"type":"never.happens","timeout_seconds":60}}}`)
	}()
	var jsonRes *http.Response
	for deadline := time.Now().Add(10 * time.Second); jsonRes == nil; {
		if time.Now().After(deadline) {
			t.Fatal("the cancelled JSON call never ended")
		}
		cancel(`"a3"`) // until the call is in flight and ends
		select {
		case jsonRes = <-done:
		case <-time.After(50 * time.Millisecond):
		}
	}
	body, _ := io.ReadAll(jsonRes.Body)
	jsonRes.Body.Close()
	if jsonRes.StatusCode != http.StatusAccepted || len(body) != 0 {
		t.Fatalf("cancelled JSON call: %s %q", jsonRes.Status, body)
	}

	// Upgraded to SSE by progress: the stream ends without a response to id 2.
	session = open()
	res := post(session, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"await_event","arguments":{"type":"never.happens","timeout_seconds":60},"_meta":{"progressToken":"p"}}}`)
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("await with a progress token: %s %s", res.Status, ct)
	}
	sc := bufio.NewScanner(res.Body)
	cancelled := false
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: ") {
			continue
		}
		var m map[string]any
		json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &m)
		if m["id"] != nil {
			t.Fatalf("the cancelled call got a response: %s", line)
		}
		if m["method"] == "notifications/progress" && !cancelled {
			cancelled = true
			cancel("2")
		}
	}
	if !cancelled {
		t.Fatal("no progress before the stream ended")
	}

	// Calls that aren't cancelled are answered as before.
	res = post(session, `{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"get_cursor","arguments":{}}}`)
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"id":4`) || !strings.Contains(string(body), "cursor") {
		t.Fatalf("get_cursor: %s %s", res.Status, body)
	}
}

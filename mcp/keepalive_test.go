package mcp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	hgmcp "github.com/hookgate/hookgate/mcp"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// rawSession is a Streamable HTTP session driven by hand, as a proxy sees it.
type rawSession struct {
	t       *testing.T
	url, id string
}

func openRaw(t *testing.T, h http.Handler) *rawSession {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	s := &rawSession{t: t, url: ts.URL}
	res := s.post(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	s.id = res.Header.Get("Mcp-Session-Id")
	res.Body.Close()
	if s.id == "" {
		t.Fatal("no session")
	}
	s.post(`{"jsonrpc":"2.0","method":"notifications/initialized"}`).Body.Close()
	return s
}

func (s *rawSession) post(body string) *http.Response {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if s.id != "" {
		req.Header.Set("Mcp-Session-Id", s.id)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	return res
}

// chunk is what one read of a response body returned, and when.
type chunk struct {
	at   time.Time
	data string
}

// readChunks reads body to its end, noting when each piece arrived.
func readChunks(body io.Reader) []chunk {
	var out []chunk
	buf := make([]byte, 64<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			out = append(out, chunk{time.Now(), string(buf[:n])})
		}
		if err != nil {
			return out
		}
	}
}

// An await with no progress token over Streamable HTTP: the response is an SSE stream
// that carries a keep-alive comment at least every KeepAlive (200 ms here, 10 s by
// default) until the result, which comes as the stream's message event. Before, no byte
// was sent for the whole wait.
func TestLongAwaitStreamIsNeverSilent(t *testing.T) {
	e := newEnvUntyped(t)
	const interval = 200 * time.Millisecond
	s := openRaw(t, hgmcp.HTTPHandler(hgmcp.NewServer(e.svc, hgmcp.Options{ProgressInterval: time.Hour}), hgmcp.HTTPOptions{KeepAlive: interval}))
	start := time.Now()
	res := s.post(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"await_event","arguments":{"type":"never.happens","timeout_seconds":2}}}`)
	defer res.Body.Close()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("long await: %s %s, want a 200 event stream", res.Status, ct)
	}
	chunks := readChunks(res.Body)
	prev, keepAlives := start, 0
	var all strings.Builder
	for _, c := range chunks {
		if gap := c.at.Sub(prev); gap > 5*interval {
			t.Errorf("%s without a byte (keep-alive every %s)", gap.Round(time.Millisecond), interval)
		}
		prev = c.at
		keepAlives += strings.Count(c.data, ": keep-alive\n\n")
		all.WriteString(c.data)
	}
	if keepAlives < 3 {
		t.Errorf("%d keep-alive comments in a 2 s wait, want one every %s: %q", keepAlives, interval, all.String())
	}
	var result struct {
		ID     int `json:"id"`
		Result struct {
			StructuredContent struct {
				TimedOut bool `json:"timed_out"`
			} `json:"structuredContent"`
		} `json:"result"`
	}
	sc := bufio.NewScanner(strings.NewReader(all.String()))
	sc.Buffer(nil, 1<<20)
	found := false
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			if err := json.Unmarshal([]byte(line), &result); err != nil {
				t.Fatalf("event data %q: %v", line, err)
			}
			found = true
		}
	}
	if !found || result.ID != 2 || !result.Result.StructuredContent.TimedOut {
		t.Fatalf("the stream's message event: found %v, %+v in %q", found, result, all.String())
	}
}

// With a progress token the stream carries progress notifications (here every 100 ms, 5 s
// by default) and their total is the default timeout, 45 s, under a 60 s client timeout.
// A call cancelled after the stream started gets no response on it.
func TestAwaitProgressSaysTheDefaultTimeoutAndCancelStillDrops(t *testing.T) {
	e := newEnvUntyped(t)
	s := openRaw(t, hgmcp.HTTPHandler(hgmcp.NewServer(e.svc, hgmcp.Options{ProgressInterval: 100 * time.Millisecond}), hgmcp.HTTPOptions{KeepAlive: 50 * time.Millisecond}))
	res := s.post(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"await_event","arguments":{"type":"never.happens"},"_meta":{"progressToken":"p"}}}`)
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	progress := 0
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var m struct {
			ID     any    `json:"id"`
			Method string `json:"method"`
			Params struct {
				Total float64 `json:"total"`
			} `json:"params"`
		}
		json.Unmarshal([]byte(line), &m)
		if m.ID != nil {
			t.Fatalf("the cancelled call got a response: %s", line)
		}
		if m.Method != "notifications/progress" {
			continue
		}
		if m.Params.Total != 45 {
			t.Fatalf("progress total %v, want the default timeout 45 (s): %s", m.Params.Total, line)
		}
		if progress++; progress == 2 {
			s.post(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3}}`).Body.Close()
		}
	}
	if progress < 2 {
		t.Fatalf("%d progress notifications before the stream ended", progress)
	}
}

// mcp-go's own Streamable HTTP client reads a kept-alive await's result like any other.
func TestKeptAliveAwaitWithMCPClient(t *testing.T) {
	e := newEnvUntyped(t)
	ts := httptest.NewServer(hgmcp.HTTPHandler(hgmcp.NewServer(e.svc, hgmcp.Options{}), hgmcp.HTTPOptions{KeepAlive: 100 * time.Millisecond}))
	t.Cleanup(ts.Close)
	tr, err := transport.NewStreamableHTTP(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr)
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	// The description tells the agent the default and why.
	tools, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools.Tools {
		if tool.Name == "await_event" && (!strings.Contains(tool.Description, "default 45") || !strings.Contains(tool.Description, "60 s")) {
			t.Errorf("await_event's description doesn't say its 45 s default fits a 60 s client: %s", tool.Description)
		}
	}
	cursor := publish(t, e.svc, "warm.up", `{}`)
	go func() {
		time.Sleep(600 * time.Millisecond) // several keep-alives first
		if _, err := e.svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(`{"bundle_id":"b_1"}`)}); err != nil {
			t.Error(err)
		}
	}()
	req := mcp.CallToolRequest{}
	req.Params.Name = "await_event"
	req.Params.Arguments = map[string]any{"type": "video.posted", "after": cursor, "timeout_seconds": 20}
	res, err := c.CallTool(ctx, req)
	if err != nil || res.IsError {
		t.Fatalf("await over a kept-alive stream: %v %+v", err, res)
	}
	b, _ := json.Marshal(res.StructuredContent)
	if !strings.Contains(string(b), `"bundle_id":"b_1"`) {
		t.Fatalf("await result %s", b)
	}
}

// Sessions nobody uses expire after SessionIdleTTL and what the server kept for them is
// freed: the heap grows while 2,000 abandoned sessions are kept, and is back within 3 MiB
// of where it was once they expired. (Before, they were kept forever: about 10 KiB each.)
// BenchmarkAbandonedSessions measures 10,000.
func TestAbandonedSessionsAreFreed(t *testing.T) {
	svc := gatewaytest.New(t, gateway.Options{}, nil)
	h := hgmcp.HTTPHandler(hgmcp.NewServer(svc, hgmcp.Options{}), hgmcp.HTTPOptions{SessionIdleTTL: time.Second})
	defer runtime.KeepAlive(h) // the handler and what it keeps stay reachable
	before := heapMiB()
	abandonSessions(t, h, 2000)
	if opened := heapMiB(); opened-before < 10 {
		t.Fatalf("2,000 open sessions take %.1f MiB: the test can't see them go", opened-before)
	}
	var after float64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if after = heapMiB(); after-before < 3 {
			return
		}
	}
	t.Fatalf("20 s after 2,000 sessions were abandoned (idle TTL 1 s) the heap is %.1f MiB above where it was", after-before)
}

package mcp_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/connectors/connectortest"
	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	hgmcp "github.com/hookgate/hookgate/mcp"
	"github.com/hookgate/hookgate/schemas"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// env is a gateway in-process with an MCP client connected to it.
type env struct {
	t   *testing.T
	svc *gateway.Service
	s   *server.MCPServer
	c   *client.Client
}

// newEnv starts the gateway with the event catalog; the await tests publish free-form data of
// made-up shapes, so they run with newEnvUntyped.
func newEnv(t *testing.T) *env { return startEnv(t, true) }

func newEnvUntyped(t *testing.T) *env { return startEnv(t, false) }

func startEnv(t *testing.T, withCatalog bool) *env {
	t.Helper()
	policy := gateway.URLPolicy{AllowPrivate: true}
	var cat *schemas.Catalog
	if withCatalog {
		var err error
		if cat, err = schemas.New(); err != nil {
			t.Fatal(err)
		}
	}
	svc := gatewaytest.New(t, gateway.Options{Catalog: cat, Inbound: connectors.Inbound(), Senders: map[string]gateway.Sender{"webhook": webhook.New(webhook.Options{Policy: policy})}}, nil)
	s := hgmcp.NewServer(svc, hgmcp.Options{ProgressInterval: 50 * time.Millisecond, PublicURL: "https://hooks.example.com"})
	c, err := client.NewInProcessClient(s)
	if err != nil {
		t.Fatal(err)
	}
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
	return &env{t: t, svc: svc, s: s, c: c}
}

// call invokes a tool and returns its structured content as a map, failing on a tool error
// unless wantErr.
func (e *env) call(ctx context.Context, name string, args map[string]any, wantErr bool) map[string]any {
	e.t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := e.c.CallTool(ctx, req)
	if err != nil {
		e.t.Fatalf("%s: %v", name, err)
	}
	if res.IsError != wantErr {
		e.t.Fatalf("%s: isError = %v, want %v: %+v", name, res.IsError, wantErr, res.Content)
	}
	if wantErr {
		text := res.Content[0].(mcp.TextContent).Text
		return map[string]any{"error": text}
	}
	if len(res.Content) == 0 || res.Content[0].(mcp.TextContent).Text == "" {
		e.t.Errorf("%s: no text content", name)
	}
	e.checkOutput(ctx, name, res)
	b, _ := json.Marshal(res.StructuredContent)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		e.t.Fatalf("%s: structured content is not an object: %s", name, b)
	}
	return out
}

func TestToolsEndToEnd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rcv := connectortest.NewReceiver(t)

	tools, err := e.c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tool := range tools.Tools {
		names[tool.Name] = true
		if tool.Description == "" {
			t.Errorf("%s has no description", tool.Name)
		}
	}
	for _, n := range []string{"list_event_types", "get_event_schema", "publish_event", "create_webhook", "list_webhooks", "update_webhook", "delete_webhook", "send_test_event", "list_events", "get_event", "list_deliveries", "get_delivery", "retry_delivery", "await_event", "replay_deliveries", "rotate_webhook_secret", "create_source", "list_sources"} {
		if !names[n] {
			t.Errorf("tool %s missing", n)
		}
	}

	wh := e.call(ctx, "create_webhook", map[string]any{"url": rcv.URL() + "/hook", "events": []string{"video.*"}, "description": "agent"}, false)
	if !strings.HasPrefix(wh["secret"].(string), "whsec_") {
		t.Fatalf("create_webhook = %v", wh)
	}
	id := wh["webhook"].(map[string]any)["id"].(string)
	if bad := e.call(ctx, "create_webhook", map[string]any{"url": "ftp://x", "events": []string{"*"}}, true); !strings.Contains(bad["error"].(string), "url") {
		t.Fatalf("bad url error = %v", bad)
	}

	list := e.call(ctx, "list_webhooks", map[string]any{"event": "video.posted"}, false)
	if len(list["data"].([]any)) != 1 {
		t.Fatalf("list_webhooks = %v", list)
	}

	types := e.call(ctx, "list_event_types", map[string]any{"provider": "tokportal"}, false)
	if len(types["data"].([]any)) != 15 {
		t.Fatalf("list_event_types(tokportal) = %d types", len(types["data"].([]any)))
	}
	zap := e.call(ctx, "get_event_schema", map[string]any{"name": "video.posted", "format": "zapier"}, false)
	if len(zap["outputFields"].([]any)) < 5 {
		t.Fatalf("get_event_schema zapier = %v", zap)
	}
	mk := e.call(ctx, "get_event_schema", map[string]any{"name": "video.posted", "format": "make"}, false)
	if len(mk["spec"].([]any)) != 5 {
		t.Fatalf("get_event_schema make = %v", mk)
	}
	if bad := e.call(ctx, "get_event_schema", map[string]any{"name": "video.posted", "format": "pdf"}, true); !strings.Contains(bad["error"].(string), "format") {
		t.Fatalf("bad format = %v", bad)
	}
	// Publishing data that fails the catalog's schema is refused, naming the field.
	if bad := e.call(ctx, "publish_event", map[string]any{"type": "video.posted", "data": map[string]any{"video_id": "v"}}, true); !strings.Contains(bad["error"].(string), "/data/") {
		t.Fatalf("invalid video.posted = %v", bad)
	}
	posted := map[string]any{"video_id": "v_1", "bundle_id": "b_1", "platform": "tiktok", "post_url": "https://x", "post_id": "1", "posted_at": "2026-06-24T14:00:05Z", "views": 3}
	pub := e.call(ctx, "publish_event", map[string]any{"type": "video.posted", "id": "evt_mcp_1", "data": posted}, false)
	if pub["id"] != "evt_mcp_1" || pub["deliveries"].(float64) != 1 {
		t.Fatalf("publish_event = %v", pub)
	}
	dup := e.call(ctx, "publish_event", map[string]any{"type": "video.posted", "id": "evt_mcp_1", "data": posted}, false)
	if dup["duplicate"] != true {
		t.Fatalf("second publish = %v", dup)
	}
	req := rcv.Want(t, 5*time.Second, 1)[0]
	var env map[string]any
	json.Unmarshal(req.Body, &env)
	if env["id"] != "evt_mcp_1" || env["data"].(map[string]any)["views"].(float64) != 3 {
		t.Fatalf("receiver got %s", req.Body)
	}

	ev := e.call(ctx, "get_event", map[string]any{"id": "evt_mcp_1"}, false)
	dls := ev["deliveries"].([]any)
	if len(dls) != 1 {
		t.Fatalf("get_event = %v", ev)
	}
	did := dls[0].(map[string]any)["id"].(string)
	gatewaytest.WaitFor(t, 5*time.Second, "succeeded", func() bool {
		d := e.call(ctx, "get_delivery", map[string]any{"id": did}, false)
		return d["status"] == "succeeded" && len(d["attempts"].([]any)) == 1
	})
	if l := e.call(ctx, "list_deliveries", map[string]any{"endpoint_id": id, "status": "succeeded"}, false); len(l["data"].([]any)) != 1 {
		t.Fatalf("list_deliveries = %v", l)
	}
	if r := e.call(ctx, "retry_delivery", map[string]any{"id": did}, false); r["status"] != "pending" {
		t.Fatalf("retry_delivery = %v", r)
	}
	rcv.Want(t, 5*time.Second, 2)
	if ts := e.call(ctx, "send_test_event", map[string]any{"id": id}, false); !strings.HasPrefix(ts["delivery_id"].(string), "dlv_") {
		t.Fatalf("send_test_event = %v", ts)
	}
	rcv.Want(t, 5*time.Second, 3)
	if ev := e.call(ctx, "list_events", map[string]any{"type": "video.*"}, false); len(ev["data"].([]any)) != 1 || ev["next_cursor"] == "" {
		t.Fatalf("list_events = %v", ev)
	}
	if r := e.call(ctx, "replay_deliveries", map[string]any{"endpoint_id": id, "since": "2020-01-01T00:00:00Z"}, false); r["count"].(float64) != 0 {
		t.Fatalf("replay_deliveries = %v", r)
	}
	if r := e.call(ctx, "rotate_webhook_secret", map[string]any{"id": id}, false); !strings.HasPrefix(r["secret"].(string), "whsec_") {
		t.Fatalf("rotate = %v", r)
	}
	up := e.call(ctx, "update_webhook", map[string]any{"id": id, "enabled": false}, false)
	if up["webhook"].(map[string]any)["enabled"] != false {
		t.Fatalf("update_webhook = %v", up)
	}
	e.call(ctx, "delete_webhook", map[string]any{"id": id}, false)
	if nf := e.call(ctx, "get_delivery", map[string]any{"id": "dlv_nope"}, true); !strings.Contains(nf["error"].(string), "not found") {
		t.Fatalf("unknown delivery = %v", nf)
	}

	// Resources.
	rr := mcp.ReadResourceRequest{}
	rr.Params.URI = "hookgate://events/evt_mcp_1"
	res, err := e.c.ReadResource(ctx, rr)
	if err != nil || !strings.Contains(res.Contents[0].(mcp.TextResourceContents).Text, "evt_mcp_1") {
		t.Fatalf("read event resource = %v, %v", res, err)
	}
	rr.Params.URI = "hookgate://event-types/video.posted"
	res, err = e.c.ReadResource(ctx, rr)
	if err != nil || !strings.Contains(res.Contents[0].(mcp.TextResourceContents).Text, "post_url") {
		t.Fatalf("read event type = %v, %v", res, err)
	}
	rr.Params.URI = "hookgate://events"
	res, err = e.c.ReadResource(ctx, rr)
	if err != nil || !strings.Contains(res.Contents[0].(mcp.TextResourceContents).Text, "evt_mcp_1") {
		t.Fatalf("read recent events = %v, %v", res, err)
	}
}

func publish(t *testing.T, svc *gateway.Service, typ, data string) string {
	t.Helper()
	res, err := svc.Publish(context.Background(), gateway.PublishInput{Type: typ, Data: json.RawMessage(data)})
	if err != nil {
		t.Fatal(err)
	}
	return res.ID
}

func TestAwaitEventPublishedAfterTheCall(t *testing.T) {
	e := newEnvUntyped(t)
	go func() {
		time.Sleep(50 * time.Millisecond)
		publish(t, e.svc, "bundle.ready", `{"bundle_id":"b_1"}`)
		publish(t, e.svc, "video.posted", `{"bundle_id":"b_1"}`)
	}()
	start := time.Now()
	out := e.call(context.Background(), "await_event", map[string]any{"type": "video.posted", "timeout_seconds": 10}, false)
	ev := out["event"].(map[string]any)
	if ev["type"] != "video.posted" || out["cursor"] != ev["id"] || out["timed_out"] != false {
		t.Fatalf("await_event = %v", out)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("await took %s", time.Since(start))
	}
}

func TestAwaitEventSeesEventsAfterCursor(t *testing.T) {
	e := newEnvUntyped(t)
	ctx := context.Background()
	before := publish(t, e.svc, "x.other", `{}`)
	early := publish(t, e.svc, "video.posted", `{"n":1}`)
	// Already stored after the cursor: returned at once.
	out := e.call(ctx, "await_event", map[string]any{"type": "video.posted", "after": before, "timeout_seconds": 1}, false)
	if out["event"].(map[string]any)["id"] != early {
		t.Fatalf("await after cursor = %v", out)
	}
	// A time cursor works too.
	out = e.call(ctx, "await_event", map[string]any{"type": "video.*", "after": time.Now().Add(-time.Minute).Format(time.RFC3339Nano), "timeout_seconds": 1}, false)
	if out["event"].(map[string]any)["id"] != early {
		t.Fatalf("await after time = %v", out)
	}
	// Continuing from the returned cursor, nothing new: a clean timeout with the cursor.
	start := time.Now()
	out = e.call(ctx, "await_event", map[string]any{"type": "video.posted", "after": early, "timeout_seconds": 1}, false)
	cursor, _ := out["cursor"].(string)
	if out["timed_out"] != true || out["event"] != nil || cursor == "" || !strings.Contains(out["message"].(string), "no matching event within 1 s") {
		t.Fatalf("timeout result = %v", out)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Fatalf("timeout took %s", d)
	}
	// The cursor (the event log's sequence) picks up exactly where the wait ended.
	later := publish(t, e.svc, "video.posted", `{"n":2}`)
	out = e.call(ctx, "await_event", map[string]any{"type": "video.posted", "after": cursor, "timeout_seconds": 1}, false)
	if out["event"] == nil || out["event"].(map[string]any)["id"] != later {
		t.Fatalf("await after the timeout's cursor = %v, want %s", out, later)
	}
	// Bad arguments are tool errors naming the argument.
	if bad := e.call(ctx, "await_event", map[string]any{"type": "x", "filter": ".data |||"}, true); !strings.Contains(bad["error"].(string), "filter") {
		t.Fatalf("bad filter = %v", bad)
	}
	if bad := e.call(ctx, "await_event", map[string]any{"type": "x", "timeout_seconds": 601}, true); !strings.Contains(bad["error"].(string), "timeout_seconds") {
		t.Fatalf("bad timeout = %v", bad)
	}
}

func TestAwaitEventHonoursCancellationAndSendsProgress(t *testing.T) {
	e := newEnvUntyped(t)
	var (
		mu       sync.Mutex
		progress int
	)
	e.c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == "notifications/progress" {
			mu.Lock()
			progress++
			mu.Unlock()
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	req := mcp.CallToolRequest{}
	req.Params.Name = "await_event"
	req.Params.Arguments = map[string]any{"type": "never.happens", "timeout_seconds": 60}
	req.Params.Meta = &mcp.Meta{ProgressToken: "tok-1"}
	start := time.Now()
	res, err := e.c.CallTool(ctx, req)
	// The in-process transport hands the client's context to the handler, so the await
	// ends with the cancellation (over stdio or HTTP the client stops listening instead).
	if err == nil && (!res.IsError || !strings.Contains(res.Content[0].(mcp.TextContent).Text, "canceled")) {
		t.Fatalf("canceled await = %+v, want it to stop with the cancellation", res)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancellation took %s", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if progress == 0 {
		t.Fatal("no progress notifications while waiting")
	}
}

func TestHundredConcurrentAwaitsEachGetTheirOwnEvent(t *testing.T) {
	e := newEnvUntyped(t)
	const n = 100
	// The cursor is taken before the events are published, so an await that starts after
	// some of them (a loaded machine) still sees its own.
	cursor := publish(t, e.svc, "warm.up", `{}`)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req := mcp.CallToolRequest{}
			req.Params.Name = "await_event"
			req.Params.Arguments = map[string]any{"type": "video.posted", "filter": fmt.Sprintf(`.data.bundle_id == "b_%d"`, i), "after": cursor, "timeout_seconds": 20}
			res, err := e.c.CallTool(context.Background(), req)
			if err != nil || res.IsError {
				errs <- fmt.Errorf("await %d: %v %+v", i, err, res)
				return
			}
			b, _ := json.Marshal(res.StructuredContent)
			var out struct {
				Event struct {
					Data struct {
						BundleID string `json:"bundle_id"`
					}
				}
			}
			json.Unmarshal(b, &out)
			if out.Event.Data.BundleID != fmt.Sprintf("b_%d", i) {
				errs <- fmt.Errorf("await %d got %s", i, b)
			}
		}(i)
	}
	for i := n - 1; i >= 0; i-- {
		publish(t, e.svc, "video.posted", fmt.Sprintf(`{"bundle_id":"b_%d"}`, i))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestTokPortalAgentPipeline: await bundle.ready → publish a video request → await
// video.posted for that bundle, with a filter, never missing a fast answer.
func TestTokPortalAgentPipeline(t *testing.T) {
	e := newEnvUntyped(t)
	ctx := context.Background()
	// The "platform": when it sees a video request, it posts the video at once.
	go func() {
		time.Sleep(30 * time.Millisecond)
		publish(t, e.svc, "bundle.ready", `{"bundle_id":"b_42"}`)
		for {
			page, _ := e.svc.ListEvents(ctx, gateway.EventFilter{Type: "video.requested"})
			if len(page.Data) > 0 {
				publish(t, e.svc, "video.posted", `{"bundle_id":"b_other"}`)
				publish(t, e.svc, "video.posted", `{"bundle_id":"b_42","url":"https://www.tiktok.com/@me/video/42"}`)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	ready := e.call(ctx, "await_event", map[string]any{"type": "bundle.ready", "timeout_seconds": 10}, false)
	bundle := ready["event"].(map[string]any)["data"].(map[string]any)["bundle_id"].(string)
	cursor := ready["cursor"].(string)
	e.call(ctx, "publish_event", map[string]any{"type": "video.requested", "data": map[string]any{"bundle_id": bundle}}, false)
	posted := e.call(ctx, "await_event", map[string]any{"type": "video.posted", "after": cursor, "filter": fmt.Sprintf(`.data.bundle_id == %q`, bundle), "timeout_seconds": 10}, false)
	data := posted["event"].(map[string]any)["data"].(map[string]any)
	if data["bundle_id"] != "b_42" || data["url"] == nil {
		t.Fatalf("video.posted = %v", posted)
	}
}

func TestSourceTools(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const secret = "whsec_tP4nQ8rX2kVm7ZcY1bH5sL9d"
	out := e.call(ctx, "create_source", map[string]any{"name": "tiny", "provider": "tinyposter", "secret": secret}, false)
	src := out["source"].(map[string]any)
	id := src["id"].(string)
	if src["url"] != "https://hooks.example.com/in/"+id || src["secret"] == secret {
		t.Fatalf("create_source = %v (want the catch-hook URL and a masked secret)", src)
	}
	if bad := e.call(ctx, "create_source", map[string]any{"name": "x", "provider": "myspace"}, true); !strings.Contains(bad["error"].(string), "provider") {
		t.Errorf("bad provider = %v", bad)
	}
	up := e.call(ctx, "create_source", map[string]any{"name": "up", "provider": "uploadpost"}, false)["source"].(map[string]any)
	if u := up["url"].(string); !strings.HasPrefix(u, "https://hooks.example.com/in/"+up["id"].(string)+"/") || len(u) < 60 {
		t.Errorf("uploadpost url %q lacks its token", u)
	}
	list := e.call(ctx, "list_sources", map[string]any{}, false)
	if n := len(list["data"].([]any)); n != 2 {
		t.Fatalf("list_sources = %d sources", n)
	}

	// What the provider posts reaches an agent awaiting it.
	body := `{"id":"tp_evt_1","type":"post.failed","created":"2026-06-24T14:00:00.000Z","data":{"post":{"id":"p1","status":"failed","text":"hi","platforms":["TWITTER"],"title":null,"scheduled_at":null,"published_at":null,"error":"token expired","brand_id":"b1"}}}`
	ts := fmt.Sprint(time.Now().Unix())
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + body))
	go func() {
		time.Sleep(50 * time.Millisecond)
		_, err := e.svc.Receive(ctx, id, &gateway.InboundRequest{Body: []byte(body), Header: http.Header{"X-Tinyposter-Signature": {"t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))}}})
		if err != nil {
			t.Errorf("Receive: %v", err)
		}
	}()
	got := e.call(ctx, "await_event", map[string]any{"type": "post.failed", "source": "tinyposter", "timeout_seconds": 5}, false)
	if ev, _ := got["event"].(map[string]any); ev == nil || ev["source_event_id"] != "tp_evt_1" || !strings.HasPrefix(ev["id"].(string), "evt_") {
		t.Fatalf("await_event = %v", got)
	}
}

// TestAwaitFilterComparesBigNumbersExactly: 7383920011122334456 is the same float64 as
// 7383920011122334455, so a filter that saw numbers as floats matched both.
func TestAwaitFilterComparesBigNumbersExactly(t *testing.T) {
	e := newEnvUntyped(t)
	ctx := context.Background()
	before := publish(t, e.svc, "order.paid", `{}`)
	publish(t, e.svc, "order.paid", `{"n":7383920011122334456,"d":0.1}`)
	want := publish(t, e.svc, "order.paid", `{"n":7383920011122334455,"d":0.1}`)
	out := e.call(ctx, "await_event", map[string]any{"type": "order.paid", "after": before, "filter": ".data.n == 7383920011122334455", "timeout_seconds": 1}, false)
	if ev, _ := out["event"].(map[string]any); ev == nil || ev["id"] != want {
		t.Fatalf("await_event = %v; want %s, the event whose n is 7383920011122334455", out, want)
	}
	out = e.call(ctx, "await_event", map[string]any{"type": "order.paid", "after": before, "filter": ".data.d == 0.1 and .data.n > 7383920011122334455", "timeout_seconds": 1}, false)
	if ev, _ := out["event"].(map[string]any); ev == nil || ev["id"] == want {
		t.Fatalf("await_event(n > …455) = %v; want the …456 event", out)
	}
}

// TestAwaitFilterMustBeBoolean: one = assigns, so .data.bundle_id = "b_42" gives back every
// envelope, which matched every bundle. It is an error now, before any event arrives (the
// filter is tried on an empty envelope) and on an event (for values that only an event
// gives); a filter that fails on an event (a missing field) still just doesn't match it.
func TestAwaitFilterMustBeBoolean(t *testing.T) {
	e := newEnvUntyped(t)
	ctx := context.Background()
	before := publish(t, e.svc, "x.other", `{}`)
	publish(t, e.svc, "video.posted", `{"bundle_id":"b_other"}`)
	out := e.call(ctx, "await_event", map[string]any{"type": "video.posted", "after": before, "filter": `.data.bundle_id = "b_42"`, "timeout_seconds": 5}, true)
	if msg := out["error"].(string); !strings.Contains(msg, "filter") || !strings.Contains(msg, "must produce true or false, got an object") || !strings.Contains(msg, "==") {
		t.Fatalf("await_event(one =) = %q; want an error saying the filter must produce true or false", msg)
	}
	out = e.call(ctx, "await_event", map[string]any{"type": "video.posted", "after": before, "filter": `.data.bundle_id`, "timeout_seconds": 5}, true)
	if msg := out["error"].(string); !strings.Contains(msg, `must produce true or false, got a string ("b_other")`) {
		t.Fatalf("await_event(.data.bundle_id) = %q; want an error naming the string", msg)
	}
	// Fails on the first event (no items), matches the second.
	want := publish(t, e.svc, "video.posted", `{"items":[{"id":"x"}]}`)
	out = e.call(ctx, "await_event", map[string]any{"type": "video.posted", "after": before, "filter": `.data.items[0].id | test("x")`, "timeout_seconds": 5}, false)
	if ev, _ := out["event"].(map[string]any); ev == nil || ev["id"] != want {
		t.Fatalf("await_event(failing on some events) = %v; want %s", out, want)
	}
}

// TestAwaitFilterCantHang: a filter that never ends is stopped after its deadline and the
// call returns an error, whether it loops on any envelope or only on a real event.
func TestAwaitFilterCantHang(t *testing.T) {
	e := newEnvUntyped(t)
	before := publish(t, e.svc, "x.other", `{}`)
	publish(t, e.svc, "job.done", `{"spin":true}`)
	for _, filter := range []string{`until(false; .)`, `if .data.spin then until(false; .) else false end`} {
		type answer struct {
			res *mcp.CallToolResult
			err error
		}
		done := make(chan answer, 1)
		go func() {
			req := mcp.CallToolRequest{}
			req.Params.Name = "await_event"
			req.Params.Arguments = map[string]any{"type": "job.done", "after": before, "filter": filter, "timeout_seconds": 600}
			res, err := e.c.CallTool(context.Background(), req)
			done <- answer{res, err}
		}()
		select {
		case a := <-done:
			if a.err != nil || !a.res.IsError {
				t.Fatalf("await_event(%s) = %+v, %v; want a tool error", filter, a.res, a.err)
			}
			if msg := a.res.Content[0].(mcp.TextContent).Text; !strings.Contains(msg, "filter") || !strings.Contains(msg, "ran longer than 1s and was stopped") {
				t.Errorf("await_event(%s) = %q; want the filter's deadline error", filter, msg)
			}
		case <-time.After(60 * time.Second): // the deadline is 1 s; the machine is shared
			t.Fatalf("await_event(%s) still running after 60 s", filter)
		}
	}
}

// TestGetEventSchemaKeepsNumbersAsSent: the structured export carries a custom type's
// example numbers as written (a float64 made 7383920011122335000 of the id). mcp-go's client
// decodes results into float64s itself, so the test reads the server's JSON-RPC answer.
func TestGetEventSchemaKeepsNumbersAsSent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.AddEventType(ctx, gateway.EventTypeInput{Name: "order.paid", Schema: json.RawMessage(`{"type":"object","examples":[{"n":7383920011122334455,"d":0.1}]}`)}); err != nil {
		t.Fatal(err)
	}
	s := hgmcp.NewServer(e.svc, hgmcp.Options{})
	answer := s.HandleMessage(ctx, json.RawMessage(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_event_schema","arguments":{"name":"order.paid","format":"sample"}}}`))
	b, err := json.Marshal(answer)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"structuredContent":{"created":"2026-06-24T14:00:05.123Z","data":{"d":0.1,"n":7383920011122334455}`) {
		t.Errorf("get_event_schema answer = %s; want the example's numbers as sent in structuredContent", b)
	}
}

// An argument given as null is not given: create_webhook passes its arguments on as POST
// /v1/endpoints takes them, and a null output_schema (the one argument of any type) is no
// schema, not the schema null.
func TestCreateWebhookNullArguments(t *testing.T) {
	e := newEnvUntyped(t)
	wh := e.call(context.Background(), "create_webhook", map[string]any{"url": "https://example.com/hook", "events": []string{"*"}, "output_schema": nil}, false)
	ep, _ := wh["webhook"].(map[string]any)
	if _, ok := ep["output_schema"]; ok || ep["id"] == nil {
		t.Fatalf("create_webhook with output_schema null = %v, want a webhook without output_schema", wh)
	}
}

// create_webhook and update_webhook take a filter: checked on the subscribed types' samples
// (a non-boolean is a tool error naming it), and run when an event is published.
func TestWebhookFilterTools(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	bad := e.call(ctx, "create_webhook", map[string]any{"url": "https://example.com/hook", "events": []string{"video.posted"}, "filter": `.data.bundle_id = "b_42"`}, true)
	if msg := bad["error"].(string); !strings.Contains(msg, "filter") || !strings.Contains(msg, "true or false") {
		t.Fatalf("create_webhook with a non-boolean filter: %s", msg)
	}
	wh := e.call(ctx, "create_webhook", map[string]any{"url": "https://example.com/hook", "events": []string{"video.posted"}, "filter": `.data.bundle_id == "b_42"`}, false)
	ep, _ := wh["webhook"].(map[string]any)
	if ep["filter"] != `.data.bundle_id == "b_42"` {
		t.Fatalf("create_webhook = %v, want the filter shown", wh)
	}
	video := func(bundle string) string {
		return `{"video_id":"v_1","bundle_id":"` + bundle + `","platform":"tiktok","post_url":"https://www.tiktok.com/@a/video/1","post_id":"1","posted_at":"2026-06-24T14:00:05Z"}`
	}
	for bundle, want := range map[string]float64{"b_42": 1, "b_7": 0} {
		res := e.call(ctx, "publish_event", map[string]any{"type": "video.posted", "data": json.RawMessage(video(bundle))}, false)
		if res["deliveries"] != want {
			t.Fatalf("publish %s: %v, want %v deliveries", bundle, res, want)
		}
	}
	e.call(ctx, "update_webhook", map[string]any{"id": ep["id"], "filter": `.data.bundle_id == "b_7"`}, false)
	if got, err := e.svc.GetEndpoint(ctx, ep["id"].(string)); err != nil || got.Filter != `.data.bundle_id == "b_7"` {
		t.Fatalf("after update_webhook: %+v %v", got, err)
	}
	if res := e.call(ctx, "publish_event", map[string]any{"type": "video.posted", "data": json.RawMessage(video("b_7"))}, false); res["deliveries"] != float64(1) {
		t.Fatalf("after update_webhook, a b_7 video: %v", res)
	}
}

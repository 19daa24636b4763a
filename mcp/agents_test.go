package mcp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

// toolJSON is a tool as the server sends it.
type toolJSON struct {
	Name         string          `json:"name"`
	InputSchema  json.RawMessage `json:"inputSchema"`
	OutputSchema json.RawMessage `json:"outputSchema"`
}

// toolsJSON returns tools/list as the server answers it.
func (e *env) toolsJSON(ctx context.Context) []toolJSON {
	e.t.Helper()
	resp := e.s.HandleMessage(ctx, []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}`))
	b, err := json.Marshal(resp)
	if err != nil {
		e.t.Fatal(err)
	}
	var out struct {
		Result struct {
			Tools []toolJSON `json:"tools"`
		} `json:"result"`
	}
	if err := json.Unmarshal(b, &out); err != nil || len(out.Result.Tools) == 0 {
		e.t.Fatalf("tools/list = %s (%v)", b, err)
	}
	return out.Result.Tools
}

// outputSchemas compiles, once per client, every tool's declared outputSchema.
var outputSchemas sync.Map // *env → map[string]*jsonschema.Schema

// checkOutput fails the test unless res's structured content satisfies the tool's declared
// outputSchema and its text is a summary, not the structured content again.
func (e *env) checkOutput(ctx context.Context, name string, res *mcp.CallToolResult) {
	e.t.Helper()
	v, ok := outputSchemas.Load(e)
	if !ok {
		compiled := map[string]*jsonschema.Schema{}
		for _, tool := range e.toolsJSON(ctx) {
			if len(tool.OutputSchema) == 0 {
				e.t.Fatalf("%s declares no outputSchema", tool.Name)
			}
			c := jsonschema.NewCompiler()
			if err := c.AddResource("mem://"+tool.Name, bytes.NewReader(tool.OutputSchema)); err != nil {
				e.t.Fatal(err)
			}
			var err error
			if compiled[tool.Name], err = c.Compile("mem://" + tool.Name); err != nil {
				e.t.Fatalf("%s outputSchema: %v", tool.Name, err)
			}
		}
		v, _ = outputSchemas.LoadOrStore(e, compiled)
	}
	schema := v.(map[string]*jsonschema.Schema)[name]
	b, _ := json.Marshal(res.StructuredContent)
	var doc any
	json.Unmarshal(b, &doc)
	if err := schema.Validate(doc); err != nil {
		e.t.Fatalf("%s: structured content breaks its outputSchema: %v\n%s", name, err, b)
	}
	if len(b) > 80_000 {
		e.t.Errorf("%s: structured content is %d bytes", name, len(b))
	}
	text := res.Content[0].(mcp.TextContent).Text
	if len(b) > 200 && strings.Contains(text, string(b[:200])) {
		e.t.Errorf("%s: the text repeats the structured content: %.300s", name, text)
	}
}

// callRaw invokes a tool and returns its result as is.
func (e *env) callRaw(ctx context.Context, name string, args any) *mcp.CallToolResult {
	e.t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := e.c.CallTool(ctx, req)
	if err != nil {
		e.t.Fatalf("%s: %v", name, err)
	}
	return res
}

// toolError calls a tool that must fail and returns its message.
func (e *env) toolError(ctx context.Context, name string, args map[string]any) string {
	e.t.Helper()
	return e.call(ctx, name, args, true)["error"].(string)
}

func TestAnnotationsTellTheTruth(t *testing.T) {
	e := newEnv(t)
	tools, err := e.c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	readOnly := map[string]bool{"list_webhooks": true, "list_events": true, "get_event": true, "get_cursor": true, "list_deliveries": true, "get_delivery": true, "list_event_types": true, "get_event_schema": true, "list_sources": true, "await_event": true, "get_stats": true}
	idempotent := map[string]bool{"update_webhook": true, "delete_webhook": true}
	for _, tool := range tools.Tools {
		a := tool.Annotations
		if a.Title == "" || tool.Title == "" {
			t.Errorf("%s has no title", tool.Name)
		}
		if a.OpenWorldHint == nil || *a.OpenWorldHint {
			t.Errorf("%s: openWorldHint = %v, want false", tool.Name, a.OpenWorldHint)
		}
		if a.ReadOnlyHint == nil || *a.ReadOnlyHint != readOnly[tool.Name] {
			t.Errorf("%s: readOnlyHint = %v, want %v", tool.Name, a.ReadOnlyHint, readOnly[tool.Name])
		}
		if readOnly[tool.Name] {
			if a.DestructiveHint != nil && *a.DestructiveHint {
				t.Errorf("%s reads but says it is destructive", tool.Name)
			}
			continue
		}
		if a.DestructiveHint == nil || *a.DestructiveHint != (tool.Name == "delete_webhook") {
			t.Errorf("%s: destructiveHint = %v", tool.Name, a.DestructiveHint)
		}
		if a.IdempotentHint == nil || *a.IdempotentHint != idempotent[tool.Name] {
			t.Errorf("%s: idempotentHint = %v, want %v", tool.Name, a.IdempotentHint, idempotent[tool.Name])
		}
	}
	if len(tools.Tools) != 20 {
		t.Errorf("%d tools, want 20", len(tools.Tools))
	}
}

func TestArgumentsAreChecked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, c := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{"list_events", map[string]any{"sort": "newest"}, "unknown argument `sort`: list_events takes only after, limit, order, since, source, type"},
		{"list_events", map[string]any{"order": "sideways"}, "`order` must be one of oldest, newest"},
		{"list_events", map[string]any{"limit": "5"}, "`limit` must be an integer, not a string"},
		{"list_events", map[string]any{"limit": 1000}, "`limit` must be between 1 and 100, not 1000"},
		{"list_events", map[string]any{"since": "yesterday"}, "`since` must be an RFC 3339 time"},
		{"list_events", map[string]any{"order": "newest", "since": "2026-06-24T14:00:00Z"}, "leave it out with order newest"},
		{"get_event", map[string]any{}, "`id` is required"},
		{"get_event", map[string]any{"id": ""}, "`id` is required"},
		{"get_event", map[string]any{"id": 7}, "`id` must be a string, not an integer"},
		{"list_deliveries", map[string]any{"since": "yesterday"}, "`since` must be an RFC 3339 time"},
		{"create_webhook", map[string]any{"url": "https://example.com", "events": "video.posted"}, "`events` must be an array of strings, not a string"},
		{"create_webhook", map[string]any{"url": "https://example.com", "events": []any{"video.posted", 3}}, "`events[1]` must be a string, not an integer"},
		{"create_webhook", map[string]any{"events": []string{"*"}}, "`url` is required"},
		{"list_sources", map[string]any{"all": true}, "unknown argument `all`: list_sources takes no arguments"},
		{"await_event", map[string]any{"type": "x", "timeout_seconds": 0}, "`timeout_seconds` must be between 1 and 600"},
		{"update_webhook", map[string]any{"id": "ep_1", "enabled": "yes"}, "`enabled` must be a boolean, not a string"},
		{"update_webhook", map[string]any{"id": "ep_1", "auth": map[string]any{"type": 1}}, "`auth.type` must be a string, not a number"},
	} {
		if got := e.toolError(ctx, c.tool, c.args); !strings.Contains(got, c.want) {
			t.Errorf("%s %v: error %q, want it to contain %q", c.tool, c.args, got, c.want)
		}
	}

	// The input schema says what each kind requires: url, except for telegram. (Read from
	// the server's answer: mcp-go's client drops allOf when it decodes a schema.)
	for _, tool := range e.toolsJSON(ctx) {
		if tool.Name != "create_webhook" {
			continue
		}
		s := string(tool.InputSchema)
		if !strings.Contains(s, `"if":{"properties":{"kind":{"const":"telegram"}}`) || !strings.Contains(s, `"then":{"required":["bot_token","chat_id"]}`) || !strings.Contains(s, `"else":{"required":["url"]}`) {
			t.Errorf("create_webhook's schema doesn't say what each kind requires: %s", s)
		}
	}
}

func TestUpdateWebhookAppliesEverySetting(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	wh := e.call(ctx, "create_webhook", map[string]any{"url": "https://example.com/hook", "events": []string{"video.posted"}}, false)
	id := wh["webhook"].(map[string]any)["id"].(string)
	e.call(ctx, "update_webhook", map[string]any{
		"id": id, "mapping": "{post_url: .data.post_url}", "rate_limit_per_s": 7.5, "source": "tokportal-main",
		"output_schema": map[string]any{"type": "object", "properties": map[string]any{"post_url": map[string]any{"type": []string{"string", "null"}}}},
		"auth":          map[string]any{"type": "header", "name": "X-Key", "value": "k1"},
		"description":   "mapped", "headers": map[string]string{"X-Team": "growth"}, "events": []string{"video.*"},
	}, false)
	ep, err := e.svc.GetEndpoint(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ep.Mapping != "{post_url: .data.post_url}" || ep.RateLimitPerS != 7.5 || ep.Source != "tokportal-main" ||
		!strings.Contains(string(ep.OutputSchema), "post_url") || ep.Auth == nil || ep.Auth.Name != "X-Key" ||
		ep.Description != "mapped" || ep.Headers["X-Team"] == "" || ep.Events[0] != "video.*" {
		t.Fatalf("stored endpoint = %+v", ep)
	}
	// Clearing: "" and 0 remove a setting.
	e.call(ctx, "update_webhook", map[string]any{"id": id, "mapping": "", "rate_limit_per_s": 0, "source": ""}, false)
	if ep, _ = e.svc.GetEndpoint(ctx, id); ep.Mapping != "" || ep.RateLimitPerS != 0 || ep.Source != "" {
		t.Fatalf("after clearing = %+v", ep)
	}
	// A bad mapping is refused, naming it, and nothing changes.
	if msg := e.toolError(ctx, "update_webhook", map[string]any{"id": id, "mapping": ".data |||"}); !strings.Contains(msg, "mapping") {
		t.Fatalf("bad mapping = %q", msg)
	}
}

func TestNotFoundNamesWhatWasLookedFor(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for tool, want := range map[string]string{
		"get_event":      `not found: no event with id "evt_nope"`,
		"get_delivery":   `not found: no delivery with id "evt_nope"`,
		"delete_webhook": `not found: no webhook with id "evt_nope"`,
	} {
		if got := e.toolError(ctx, tool, map[string]any{"id": "evt_nope"}); !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q", tool, got, want)
		}
	}
	if got := e.toolError(ctx, "list_deliveries", map[string]any{"endpoint_id": "ep_nope"}); !strings.Contains(got, `no webhook with endpoint_id "ep_nope"`) {
		t.Errorf("list_deliveries: %q", got)
	}
	// A resource that doesn't exist is JSON-RPC error -32002 (-32602 from protocol
	// 2026-07-28 on, which this client negotiates), naming it.
	old := connect(t, e, mcp.ProtocolVersion20251125)
	for _, uri := range []string{"hookgate://events/evt_nope", "hookgate://deliveries/dlv_nope", "hookgate://event-types/no.such"} {
		rr := mcp.ReadResourceRequest{}
		rr.Params.URI = uri
		_, err := old.ReadResource(ctx, rr)
		if !errors.Is(err, mcp.ErrResourceNotFound) || !strings.Contains(err.Error(), uri) {
			t.Errorf("read %s (2025-11-25): %v, want -32002 naming it", uri, err)
		}
		_, err = e.c.ReadResource(ctx, rr)
		if !errors.Is(err, mcp.ErrInvalidParams) || !strings.Contains(err.Error(), uri) {
			t.Errorf("read %s (latest): %v, want -32602 naming it", uri, err)
		}
	}
}

// connect starts another in-process client of e's server that asks for a protocol version.
func connect(t *testing.T, e *env, version string) *client.Client {
	t.Helper()
	c, err := client.NewInProcessClient(e.s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = version
	init.Params.ClientInfo = mcp.Implementation{Name: "test-" + version, Version: "1"}
	res, err := c.Initialize(ctx, init)
	if err != nil {
		t.Fatal(err)
	}
	if res.ProtocolVersion != version {
		t.Fatalf("negotiated %s, want %s", res.ProtocolVersion, version)
	}
	return c
}

func TestListEventsOrderAndSince(t *testing.T) {
	e := newEnvUntyped(t)
	ctx := context.Background()
	var ids []string
	for i := range 5 {
		ids = append(ids, publish(t, e.svc, "x.n", fmt.Sprintf(`{"n":%d}`, i)))
	}
	newest := e.call(ctx, "list_events", map[string]any{"order": "newest", "limit": 2}, false)
	data := newest["data"].([]any)
	if len(data) != 2 || data[0].(map[string]any)["id"] != ids[4] || data[1].(map[string]any)["id"] != ids[3] {
		t.Fatalf("newest = %v", newest)
	}
	// Newest first pages back with next_cursor as after.
	if newest["has_more"] != true || newest["next_cursor"] == nil {
		t.Fatalf("newest page 1 = %v, want has_more and a next_cursor", newest)
	}
	older := e.call(ctx, "list_events", map[string]any{"order": "newest", "limit": 2, "after": newest["next_cursor"]}, false)
	if d := older["data"].([]any); len(d) != 2 || d[0].(map[string]any)["id"] != ids[2] || d[1].(map[string]any)["id"] != ids[1] || older["has_more"] != true {
		t.Fatalf("newest page 2 = %v, want %s, %s and more", older, ids[2], ids[1])
	}
	last := e.call(ctx, "list_events", map[string]any{"order": "newest", "limit": 2, "after": older["next_cursor"]}, false)
	if d := last["data"].([]any); len(d) != 1 || d[0].(map[string]any)["id"] != ids[0] || last["has_more"] != false {
		t.Fatalf("newest page 3 = %v, want %s alone, no more", last, ids[0])
	}
	// An event in a tool result is written as the REST API writes it.
	stored, _, err := e.svc.GetEvent(ctx, ids[4])
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	b, _ := json.Marshal(stored)
	json.Unmarshal(b, &want)
	if got := data[0].(map[string]any); !reflect.DeepEqual(got, want) {
		t.Fatalf("list_events item = %v, want the REST form %v", got, want)
	}
	// next_cursor is the event log's sequence of the last event listed (the second).
	oldest := e.call(ctx, "list_events", map[string]any{"limit": 2}, false)
	if d := oldest["data"].([]any); d[0].(map[string]any)["id"] != ids[0] || oldest["next_cursor"] != "2" {
		t.Fatalf("oldest = %v", oldest)
	}
	future := e.call(ctx, "list_events", map[string]any{"since": "2999-01-01T00:00:00Z"}, false)
	if len(future["data"].([]any)) != 0 {
		t.Fatalf("since the future = %v", future)
	}
	past := e.call(ctx, "list_events", map[string]any{"since": "2000-01-01T00:00:00Z"}, false)
	if len(past["data"].([]any)) != 5 {
		t.Fatalf("since 2000 = %v", past)
	}
}

func TestGetCursorIsNow(t *testing.T) {
	e := newEnvUntyped(t)
	ctx := context.Background()
	if c := e.call(ctx, "get_cursor", nil, false); c["cursor"] != "" {
		t.Fatalf("cursor with no events = %v", c)
	}
	publish(t, e.svc, "bundle.ready", `{"bundle_id":"b_old"}`)
	publish(t, e.svc, "video.posted", `{"bundle_id":"b_old"}`)
	last := publish(t, e.svc, "x.other", `{}`)
	cur := e.call(ctx, "get_cursor", map[string]any{}, false)["cursor"].(string)
	if cur != last {
		t.Fatalf("cursor = %q, want the newest event %q", cur, last)
	}
	// Awaiting from it sees the next video.posted, not the old one.
	next := publish(t, e.svc, "video.posted", `{"bundle_id":"b_new"}`)
	out := e.call(ctx, "await_event", map[string]any{"type": "video.posted", "after": cur, "timeout_seconds": 2}, false)
	if out["event"].(map[string]any)["id"] != next {
		t.Fatalf("await after get_cursor = %v", out)
	}
}

func TestOutputsAreBoundedAndSaidOnce(t *testing.T) {
	e := newEnvUntyped(t)
	ctx := context.Background()
	pad := strings.Repeat("x", 1500)
	for i := range 100 {
		publish(t, e.svc, "x.page", fmt.Sprintf(`{"n":%d,"pad":%q}`, i, pad))
	}
	// Default page: small.
	if d := e.call(ctx, "list_events", nil, false)["data"].([]any); len(d) != 20 {
		t.Fatalf("default page = %d events", len(d))
	}
	// A full page of 100 × 1.5 KB is over the bound: cut, with a note and a cursor to go on.
	res := e.callRaw(ctx, "list_events", map[string]any{"limit": 100})
	e.checkOutput(ctx, "list_events", res)
	b, _ := json.Marshal(res.StructuredContent)
	var page struct {
		Data []struct {
			ID string `json:"id"`
		} `json:"data"`
		NextCursor string `json:"next_cursor"`
		HasMore    bool   `json:"has_more"`
		Note       string `json:"note"`
	}
	json.Unmarshal(b, &page)
	if n := len(page.Data); n == 0 || n == 100 || page.NextCursor != page.Data[n-1].ID || !page.HasMore || !strings.Contains(page.Note, "cut") {
		t.Fatalf("cut page: %d events, next %q, more %v, note %q (%d bytes)", n, page.NextCursor, page.HasMore, page.Note, len(b))
	}
	text := res.Content[0].(mcp.TextContent).Text
	if !strings.Contains(text, "cut") || len(text) > 2000 || strings.Contains(text, pad[:100]) {
		t.Fatalf("text = %.500s (%d bytes)", text, len(text))
	}
	rest := e.call(ctx, "list_events", map[string]any{"limit": 100, "after": page.NextCursor}, false)
	if got := len(page.Data) + len(rest["data"].([]any)); rest["note"] == nil && got != 100 {
		t.Fatalf("after the cut: %d events in all", got)
	}

	// One 900 KB event: its data is left out of tool results, pointing at its resource,
	// which has it whole.
	big := fmt.Sprintf(`{"bundle_id":"b_big","blob":%q}`, strings.Repeat("é", 450_000))
	id := publish(t, e.svc, "video.posted", big)
	for _, c := range []struct {
		tool string
		args map[string]any
	}{
		{"get_event", map[string]any{"id": id}},
		{"await_event", map[string]any{"type": "video.posted", "after": page.Data[0].ID, "timeout_seconds": 1}},
		{"list_events", map[string]any{"order": "newest", "limit": 1}},
	} {
		res := e.callRaw(ctx, c.tool, c.args)
		if res.IsError {
			t.Fatalf("%s: %v", c.tool, res.Content)
		}
		e.checkOutput(ctx, c.tool, res)
		b, _ := json.Marshal(res.StructuredContent)
		if len(b) > 10_000 || !strings.Contains(string(b), `"resource":"hookgate://events/`+id+`"`) {
			t.Fatalf("%s: %d bytes: %.400s", c.tool, len(b), b)
		}
	}
	rr := mcp.ReadResourceRequest{}
	rr.Params.URI = "hookgate://events/" + id
	whole, err := e.c.ReadResource(ctx, rr)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Event struct {
			Data struct {
				Blob string `json:"blob"`
			} `json:"data"`
		} `json:"event"`
	}
	if err := json.Unmarshal([]byte(whole.Contents[0].(mcp.TextResourceContents).Text), &doc); err != nil || doc.Event.Data.Blob != strings.Repeat("é", 450_000) {
		t.Fatalf("resource has a blob of %d bytes, want 900,000 (%v)", len(doc.Event.Data.Blob), err)
	}
}

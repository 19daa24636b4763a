package mcp_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

func TestPromptsGuideTheTwoWorkflows(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	list, err := e.c.ListPrompts(ctx, mcp.ListPromptsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list.Prompts {
		names = append(names, p.Name)
		if p.Description == "" || len(p.Arguments) == 0 || !p.Arguments[0].Required {
			t.Errorf("prompt %s: %+v", p.Name, p)
		}
	}
	if !slices.Equal(names, []string{"wait_for_post", "wire_provider"}) {
		t.Fatalf("prompts = %v", names)
	}

	get := func(name string, args map[string]string) string {
		t.Helper()
		req := mcp.GetPromptRequest{}
		req.Params.Name = name
		req.Params.Arguments = args
		res, err := e.c.GetPrompt(ctx, req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return res.Messages[0].Content.(mcp.TextContent).Text
	}
	wire := get("wire_provider", map[string]string{"provider": "tokportal", "webhook_url": "https://example.com/hook", "events": "video.posted, post.failed"})
	for _, want := range []string{`create_source {name: "tokportal-main", provider: "tokportal"`, "TokPortal's webhook secret", `create_webhook {url: "https://example.com/hook", events: ["video.posted", "post.failed"]`, "send_test_event", "get_delivery"} {
		if !strings.Contains(wire, want) {
			t.Errorf("wire_provider lacks %q:\n%s", want, wire)
		}
	}
	if up := get("wire_provider", map[string]string{"provider": "uploadpost"}); !strings.Contains(up, "leave secret empty") || strings.Contains(up, "create_webhook") {
		t.Errorf("wire_provider uploadpost without a webhook:\n%s", up)
	}
	req := mcp.GetPromptRequest{}
	req.Params.Name = "wire_provider"
	req.Params.Arguments = map[string]string{"provider": "myspace"}
	if _, err := e.c.GetPrompt(ctx, req); err == nil || !strings.Contains(err.Error(), "tokportal") {
		t.Errorf("unknown provider: %v", err)
	}

	wait := get("wait_for_post", map[string]string{"bundle_id": "b_42", "trigger": "bundle.ready"})
	for _, want := range []string{`publish_event {type: "bundle.ready"`, "The id it returns is your cursor", `await_event {type: "video.posted", filter: ".data.bundle_id == \"b_42\"", after: <the cursor>}`, "not list_events", "timed_out"} {
		if !strings.Contains(strings.ReplaceAll(wait, "Don't use", "not"), want) {
			t.Errorf("wait_for_post lacks %q:\n%s", want, wait)
		}
	}
	if w := get("wait_for_post", map[string]string{"bundle_id": "b_7", "trigger": "ask TokPortal to post the bundle"}); !strings.Contains(w, "get_cursor first") {
		t.Errorf("wait_for_post with an action:\n%s", w)
	}
}

func TestCompletionsSuggestEventTypes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	complete := func(ref any, arg, value string) []string {
		t.Helper()
		req := mcp.CompleteRequest{}
		req.Params.Ref = ref
		req.Params.Argument.Name = arg
		req.Params.Argument.Value = value
		res, err := e.c.Complete(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return res.Completion.Values
	}
	prompt := mcp.PromptReference{Type: "ref/prompt", Name: "wait_for_post"}
	got := complete(prompt, "type", "video.p")
	if !slices.Contains(got, "video.posted") || slices.ContainsFunc(got, func(s string) bool { return !strings.HasPrefix(s, "video.p") }) {
		t.Fatalf("type completions for video.p = %v", got)
	}
	if got := complete(mcp.ResourceReference{Type: "ref/resource", URI: "hookgate://event-types/{name}"}, "name", "post."); !slices.Contains(got, "post.failed") {
		t.Fatalf("event-types name completions = %v", got)
	}
	if got := complete(mcp.PromptReference{Type: "ref/prompt", Name: "wire_provider"}, "provider", "t"); !slices.Equal(got, []string{"tinyposter", "tokportal"}) {
		t.Fatalf("provider completions = %v", got)
	}
}

func TestResourceTemplatesForEventsAndDeliveries(t *testing.T) {
	e := newEnvUntyped(t)
	ctx := context.Background()
	tpls, err := e.c.ListResourceTemplates(ctx, mcp.ListResourceTemplatesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var uris []string
	for _, tp := range tpls.ResourceTemplates {
		uris = append(uris, tp.URITemplate.Raw())
	}
	for _, want := range []string{"hookgate://events/{id}", "hookgate://deliveries/{id}", "hookgate://event-types/{name}"} {
		if !slices.Contains(uris, want) {
			t.Errorf("templates %v lack %s", uris, want)
		}
	}
	rcvURL := "http://127.0.0.1:9/hook"
	wh := e.call(ctx, "create_webhook", map[string]any{"url": rcvURL, "events": []string{"*"}}, false)
	did := e.call(ctx, "send_test_event", map[string]any{"id": wh["webhook"].(map[string]any)["id"]}, false)["delivery_id"].(string)
	rr := mcp.ReadResourceRequest{}
	rr.Params.URI = "hookgate://deliveries/" + did
	res, err := e.c.ReadResource(ctx, rr)
	if err != nil || !strings.Contains(res.Contents[0].(mcp.TextResourceContents).Text, `"id": "`+did+`"`) {
		t.Fatalf("read delivery = %+v, %v", res, err)
	}
}

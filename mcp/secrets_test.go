package mcp_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

// everything returns all a tool answered, text and structured content, as one string.
func (e *env) everything(ctx context.Context, name string, args map[string]any) string {
	e.t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	res, err := e.c.CallTool(ctx, req)
	if err != nil || res.IsError {
		e.t.Fatalf("%s: %v %+v", name, err, res)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text + "\n")
		}
	}
	s, _ := json.Marshal(res.StructuredContent)
	b.Write(s)
	return b.String()
}

// Credentials are write-only through MCP too: webhook header values are masked in every
// tool's answer, and an Upload-Post catch-hook token is shown by create_source only.
func TestToolsShowNoCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const apiKey = "sk_live_mcp_0123456789"
	created := e.call(ctx, "create_webhook", map[string]any{"url": "http://127.0.0.1:9/h", "events": []string{"*"}, "headers": map[string]string{"X-Api-Key": apiKey}}, false)
	id := created["webhook"].(map[string]any)["id"].(string)
	for name, args := range map[string]map[string]any{
		"create_webhook": {"url": "http://127.0.0.1:9/h2", "events": []string{"*"}, "headers": map[string]string{"X-Api-Key": apiKey}},
		"list_webhooks":  {},
		"update_webhook": {"id": id, "description": "x"},
	} {
		if got := e.everything(ctx, name, args); strings.Contains(got, apiKey) || !strings.Contains(got, "****6789") {
			t.Errorf("%s shows the header value (want ****6789): %s", name, got)
		}
	}

	up := e.call(ctx, "create_source", map[string]any{"name": "up", "provider": "uploadpost"}, false)["source"].(map[string]any)
	hook := up["url"].(string)
	token := hook[strings.LastIndex(hook, "/")+1:]
	if len(token) < 16 {
		t.Fatalf("create_source url %q lacks its token", hook)
	}
	if got := e.everything(ctx, "list_sources", map[string]any{}); strings.Contains(got, token) || !strings.Contains(got, "/****"+token[len(token)-4:]) {
		t.Errorf("list_sources shows the URL token (want it masked): %s", got)
	}
}

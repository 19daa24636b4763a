package mcp_test

import (
	"context"
	"strings"
	"testing"
)

func TestUnknownTypesOverMCP(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out := e.call(ctx, "create_webhook", map[string]any{"url": "https://example.com/hook", "events": []string{"vidoe.posted"}}, true)
	if msg := out["error"].(string); !strings.Contains(msg, "events[0]") || !strings.Contains(msg, "did you mean video.posted?") {
		t.Fatalf("create_webhook vidoe.posted: %q", msg)
	}
	pub := e.call(ctx, "publish_event", map[string]any{"type": "vidoe.posted", "data": map[string]any{"n": 1}}, false)
	w, _ := pub["warnings"].([]any)
	if len(w) != 1 || w[0] != "unknown type vidoe.posted; did you mean video.posted?" {
		t.Fatalf("publish_event vidoe.posted = %v", pub)
	}
}

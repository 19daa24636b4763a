package mcp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// list_deliveries without endpoint_id lists every webhook's deliveries, filtered by type and
// creation time like GET /v1/deliveries.
func TestListDeliveriesAcrossWebhooks(t *testing.T) {
	e := newEnvUntyped(t)
	ctx := context.Background()
	var eps []string
	for _, events := range [][]string{{"x.*"}, {"*"}} {
		ep, _, err := e.svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/hook", Events: events})
		if err != nil {
			t.Fatal(err)
		}
		eps = append(eps, ep.ID)
	}
	publish(t, e.svc, "x.a", `{}`)
	publish(t, e.svc, "y.b", `{}`)
	endpoints := func(out map[string]any) string {
		var ids []string
		for _, d := range out["data"].([]any) {
			ids = append(ids, d.(map[string]any)["endpoint_id"].(string))
		}
		return fmt.Sprint(ids)
	}
	// Newest first: y.b's delivery (to the second webhook), then x.a's two (one each).
	for _, c := range []struct {
		args map[string]any
		n    int
		want string // the endpoints, in order, when not ""
	}{
		{map[string]any{}, 3, ""},
		{map[string]any{"type": "y.*"}, 1, fmt.Sprint([]string{eps[1]})},
		{map[string]any{"endpoint_id": eps[0]}, 1, fmt.Sprint([]string{eps[0]})},
		{map[string]any{"since": "1h"}, 3, ""},
		{map[string]any{"until": "1h"}, 0, ""},
	} {
		out := e.call(ctx, "list_deliveries", c.args, false)
		if got := endpoints(out); len(out["data"].([]any)) != c.n || c.want != "" && got != c.want {
			t.Errorf("list_deliveries %v = %v, want %d deliveries %s", c.args, out, c.n, c.want)
		}
	}
	if all := e.call(ctx, "list_deliveries", map[string]any{}, false); all["data"].([]any)[0].(map[string]any)["event_type"] != "y.b" {
		t.Errorf("list_deliveries, newest first = %v, want y.b's delivery first", all)
	}
	first := e.call(ctx, "list_deliveries", map[string]any{"limit": 2}, false)
	rest := e.call(ctx, "list_deliveries", map[string]any{"limit": 2, "cursor": first["next_cursor"]}, false)
	if len(first["data"].([]any)) != 2 || len(rest["data"].([]any)) != 1 || rest["next_cursor"] != nil {
		t.Errorf("paged by 2: %v then %v", first, rest)
	}
}

// get_stats answers per webhook and in total over the window, with readiness.
func TestGetStats(t *testing.T) {
	e := newEnvUntyped(t)
	ctx := context.Background()
	ep, _, err := e.svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/hook", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	publish(t, e.svc, "x.a", `{}`)
	// Nothing listens on port 9: the first attempt fails and the delivery waits for the next.
	var out map[string]any
	gatewaytest.WaitFor(t, 10*time.Second, "a failed attempt", func() bool {
		out = e.call(ctx, "get_stats", map[string]any{"since": "1h"}, false)
		return out["totals"].(map[string]any)["failures"] == 1.0
	})
	whs := out["webhooks"].([]any)
	if len(whs) != 1 {
		t.Fatalf("get_stats = %v, want one webhook", out)
	}
	w := whs[0].(map[string]any)
	if w["webhook_id"] != ep.ID || w["attempts"] != 1.0 || w["success_ratio"] != 0.0 || w["pending"] != 1.0 || w["state"] != "enabled" || w["last_error"] == nil {
		t.Errorf("webhook = %v, want 1 failed attempt, 1 pending, a last error", w)
	}
	if out["ready"] != true || out["scan"].(map[string]any)["truncated"] != false {
		t.Errorf("get_stats = %v", out)
	}
	if msg := e.toolError(ctx, "get_stats", map[string]any{"since": "soon"}); !strings.Contains(msg, "`since` must be") {
		t.Errorf("since soon: %q", msg)
	}
}

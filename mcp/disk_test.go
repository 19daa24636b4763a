package mcp_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	hgmcp "github.com/hookgate/hookgate/mcp"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// Tools that write answer a full disk with a tool error carrying the Service's own text,
// the same message the HTTP API puts in its 507.
func TestWriteToolsSurfaceStorageFull(t *testing.T) {
	var free atomic.Uint64
	free.Store(4 << 30)
	svc := gatewaytest.New(t, gateway.Options{FreeSpace: func(string) (uint64, uint64, error) { return free.Load(), 10 << 30, nil }}, nil)
	s := hgmcp.NewServer(svc, hgmcp.Options{})
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
	e := &env{t: t, svc: svc, s: s, c: c}

	free.Store(300 << 20)
	_, want := svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: []byte(`{}`)})
	if !errors.Is(want, gateway.ErrStorageFull) {
		t.Fatalf("Publish = %v, want ErrStorageFull", want)
	}
	for _, call := range []struct {
		tool string
		args map[string]any
	}{
		{"publish_event", map[string]any{"type": "video.posted", "data": map[string]any{"n": 1}}},
		{"create_webhook", map[string]any{"url": "http://127.0.0.1:9/hook", "events": []any{"*"}}},
	} {
		got := e.call(ctx, call.tool, call.args, true)["error"].(string)
		if got != want.Error() || !strings.HasPrefix(got, "storage full: 300 MiB free") {
			t.Fatalf("%s on a full disk: %q, want %q", call.tool, got, want.Error())
		}
	}
	free.Store(600 << 20)
	e.call(ctx, "publish_event", map[string]any{"type": "video.posted", "data": map[string]any{"n": 2}}, false)
}

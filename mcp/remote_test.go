package mcp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	hgmcp "github.com/hookgate/hookgate/mcp"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
)

// Remote mode (hookgate mcp with HOOKGATE_URL): await_event long-polls the gateway's
// GET /v1/events?wait=… and wakes when the event is stored. The poll and progress
// intervals are an hour here, so an await that polled (as it did, once a second) would
// time out instead. The event is published once the await's first read has been answered.
func TestRemoteAwaitWakesOnTheEvent(t *testing.T) {
	e := newEnvUntyped(t)
	ctx := context.Background()
	cursor := publish(t, e.svc, "warm.up", `{}`)
	published := make(chan string, 1)
	var once sync.Once
	apiHandler := httpapi.New(httpapi.Options{Service: e.svc, Token: "tok"})
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		apiHandler.ServeHTTP(w, r)
		if r.Method == http.MethodGet && r.URL.Path == "/v1/events" {
			once.Do(func() {
				res, err := e.svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(`{"bundle_id":"b_7"}`)})
				if err != nil {
					t.Error(err)
					return
				}
				published <- res.ID
			})
		}
	}))
	t.Cleanup(api.Close)
	s := hgmcp.NewServer(httpapi.NewClient(api.URL, "tok", nil), hgmcp.Options{PollInterval: time.Hour, ProgressInterval: time.Hour})
	c, err := client.NewInProcessClient(s)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	req := mcp.CallToolRequest{}
	req.Params.Name = "await_event"
	req.Params.Arguments = map[string]any{"type": "video.posted", "after": cursor, "timeout_seconds": 3}
	res, err := c.CallTool(ctx, req)
	if err != nil || res.IsError {
		t.Fatalf("remote await: %v %+v", err, res)
	}
	var out struct {
		Event *struct {
			ID string `json:"id"`
		} `json:"event"`
	}
	b, _ := json.Marshal(res.StructuredContent)
	json.Unmarshal(b, &out)
	select {
	case id := <-published:
		if out.Event == nil || out.Event.ID != id {
			t.Fatalf("remote await returned %s, want the event %s published while it waited", b, id)
		}
	default:
		t.Fatalf("the await ended before anything was published: %s", b)
	}
}

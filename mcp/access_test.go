package mcp_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	hgmcp "github.com/hookgate/hookgate/mcp"
	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

const serveToken = "serve-token"

// hosted is a gateway served over loopback as serve does: the API, /mcp behind
// authentication and its secret URLs, every log line (debug up) captured.
type hosted struct {
	svc  *gateway.Service
	url  string
	logs *gatewaytest.Buffer
}

func newHosted(t *testing.T) *hosted {
	t.Helper()
	logs := &gatewaytest.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	svc := gatewaytest.New(t, gateway.Options{Logger: log}, nil)
	mcpHTTP := hgmcp.HTTPHandler(hgmcp.NewServer(svc, hgmcp.Options{}), hgmcp.HTTPOptions{Logger: log})
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: serveToken, Logger: log,
		Mount: []httpapi.Mount{{Path: "/mcp", Handler: mcpHTTP, Protected: true, SecretURL: true}}}))
	t.Cleanup(srv.Close)
	return &hosted{svc: svc, url: srv.URL, logs: logs}
}

// key makes a named key with scopes.
func (h *hosted) key(t *testing.T, scopes ...gateway.Scope) (string, string) {
	t.Helper()
	info, key, err := h.svc.CreateKey(context.Background(), gateway.KeyInput{Name: "test", Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	return key, info.ID
}

// noSecretsLogged fails the test when any of secrets appears in what the gateway logged.
func (h *hosted) noSecretsLogged(t *testing.T, secrets ...string) {
	t.Helper()
	logs := h.logs.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("a secret (%.8s…) appears in the log:\n%s", s, logs)
		}
	}
}

// connectHTTP starts an MCP client over Streamable HTTP at url with headers.
func connectHTTP(t *testing.T, url string, headers map[string]string) (*client.Client, error) {
	t.Helper()
	c, err := client.NewStreamableHttpClient(url, transport.WithHTTPHeaders(headers))
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		return nil, err
	}
	return c, nil
}

// callTool calls a tool and returns its result (err for a transport failure).
func callTool(c *client.Client, name string, args map[string]any) (*mcp.CallToolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	return c.CallTool(context.Background(), req)
}

func resultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// A read key, over MCP's HTTP transport, lists and awaits but publishing and creating a
// webhook are tool errors naming the scope they need.
func TestReadKeyOverMCP(t *testing.T) {
	h := newHosted(t)
	key, _ := h.key(t, gateway.ScopeRead)
	c, err := connectHTTP(t, h.url+"/mcp", map[string]string{"Authorization": "Bearer " + key})
	if err != nil {
		t.Fatal(err)
	}
	for name, args := range map[string]map[string]any{
		"list_events": {},
		"await_event": {"type": "video.posted", "timeout_seconds": 1},
	} {
		res, err := callTool(c, name, args)
		if err != nil || res.IsError {
			t.Fatalf("read key %s: %v %s", name, err, resultText(res))
		}
	}
	for name, want := range map[string]struct {
		args  map[string]any
		scope string
	}{
		"publish_event":  {map[string]any{"type": "video.posted", "data": map[string]any{}}, `"publish"`},
		"create_webhook": {map[string]any{"url": "https://example.com/hook", "events": []string{"*"}}, `"manage"`},
	} {
		res, err := callTool(c, name, want.args)
		if err != nil || !res.IsError || !strings.Contains(resultText(res), want.scope) || !strings.Contains(resultText(res), "forbidden") {
			t.Fatalf("read key %s: %v %+v, want a tool error naming %s", name, err, res, want.scope)
		}
	}
	page, err := h.svc.ListEvents(context.Background(), gateway.EventFilter{})
	if err != nil || len(page.Data) != 0 {
		t.Fatalf("events after the refused publish: %v %v", page, err)
	}
	h.noSecretsLogged(t, key)
}

// A secret URL serves MCP with no headers, with its key's scopes; revoking the key closes
// it: the next request is refused, and so is a new connection.
func TestSecretURLClosesOnRevocation(t *testing.T) {
	h := newHosted(t)
	key, id := h.key(t, gateway.ScopeRead, gateway.ScopePublish)
	secretURL := h.url + "/mcp/k/" + key
	c, err := connectHTTP(t, secretURL, nil)
	if err != nil {
		t.Fatalf("connect through the secret URL: %v", err)
	}
	res, err := callTool(c, "publish_event", map[string]any{"type": "video.posted", "data": map[string]any{"bundle_id": "b_1"}})
	if err != nil || res.IsError {
		t.Fatalf("publish through the secret URL: %v %s", err, resultText(res))
	}
	res, err = callTool(c, "create_webhook", map[string]any{"url": "https://example.com/hook", "events": []string{"*"}})
	if err != nil || !res.IsError || !strings.Contains(resultText(res), `"manage"`) {
		t.Fatalf("create_webhook through a read+publish secret URL: %v %+v, want refused naming manage", err, res)
	}

	if err := h.svc.RevokeKey(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if res, err := callTool(c, "list_events", map[string]any{}); err == nil {
		t.Fatalf("a call through the revoked key's URL succeeded: %+v", res)
	}
	if _, err := connectHTTP(t, secretURL, nil); err == nil {
		t.Fatal("a new connection through the revoked key's URL succeeded")
	}
	resp, err := http.Post(secretURL, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("revoked secret URL = %d, want 404", resp.StatusCode)
	}
	// The serve token is no secret URL.
	resp, err = http.Post(h.url+"/mcp/k/"+serveToken, "application/json", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"ping"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the serve token as a secret URL = %d, want 404", resp.StatusCode)
	}
	h.noSecretsLogged(t, key, serveToken)
}

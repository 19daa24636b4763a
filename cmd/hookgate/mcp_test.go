package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

func initialize(t *testing.T, c *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	init.Params.ClientInfo = mcp.Implementation{Name: "hookgate-test", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
}

func callTool(t *testing.T, c *client.Client, name string, args map[string]any) map[string]any {
	t.Helper()
	req := mcp.CallToolRequest{}
	req.Params.Name = name
	req.Params.Arguments = args
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := c.CallTool(ctx, req)
	if err != nil || res.IsError {
		t.Fatalf("%s: %v %+v", name, err, res)
	}
	b, _ := json.Marshal(res.StructuredContent)
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

// agentFlow lists the tools, creates a webhook to a local receiver, publishes, and checks the
// receiver gets the event.
func agentFlow(t *testing.T, c *client.Client) {
	t.Helper()
	tools, err := c.ListTools(context.Background(), mcp.ListToolsRequest{})
	if err != nil || len(tools.Tools) < 12 {
		t.Fatalf("list tools = %d, %v", len(tools.Tools), err)
	}
	r := newReceiver(t)
	wh := callTool(t, c, "create_webhook", map[string]any{"url": r.srv.URL + "/agent", "events": []string{"video.posted"}})
	r.secret.Store(wh["secret"].(string))
	id := "evt_agent_" + strings.ReplaceAll(t.Name(), "/", "_")
	callTool(t, c, "publish_event", map[string]any{"type": "video.posted", "id": id, "data": json.RawMessage(videoPosted)})
	deadline := time.Now().Add(10 * time.Second)
	for r.count([]string{id}) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the receiver never got the event")
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := callTool(t, c, "await_event", map[string]any{"type": "video.posted", "after": time.Now().Add(-time.Minute).Format(time.RFC3339), "timeout_seconds": 5})
	if got["event"].(map[string]any)["id"] != id {
		t.Fatalf("await_event = %v", got)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		t.Fatalf("receiver problems: %v", r.bad)
	}
}

func TestMCPStdioInProcessGateway(t *testing.T) {
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKGATE_") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOOKGATE_API_TOKEN="+e2eToken)
	c, err := client.NewStdioMCPClient(binary, env, "mcp", "--addr", "127.0.0.1:0", "--data", t.TempDir(), "--dev", "--log-level", "warn")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	initialize(t, c)
	agentFlow(t, c)
}

func TestMCPStdioAgainstRunningGateway(t *testing.T) {
	p := startServe(t, t.TempDir())
	env := append(os.Environ(), "HOOKGATE_URL="+p.url, "HOOKGATE_TOKEN="+e2eToken)
	c, err := client.NewStdioMCPClient(binary, env, "mcp", "--log-level", "warn")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	initialize(t, c)
	agentFlow(t, c)
}

func TestMCPStreamableHTTPNeedsTheToken(t *testing.T) {
	p := startServe(t, t.TempDir())
	c, err := client.NewStreamableHttpClient(p.url+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + e2eToken}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	initialize(t, c)
	agentFlow(t, c)

	bad, err := client.NewStreamableHttpClient(p.url+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer wrong"}))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	bad.Start(context.Background())
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
	if _, err := bad.Initialize(context.Background(), init); err == nil {
		t.Fatal("MCP over HTTP accepted a wrong token")
	}
}

// A second desktop agent: hookgate mcp on a data folder a running hookgate has open uses
// that gateway over its API (address file, token file) and says so on stderr, instead of
// failing to open the store (the client saw "Connection closed"). The address file goes
// when the gateway stops.
func TestMCPStdioSecondAgentUsesTheRunningGateway(t *testing.T) {
	dir := t.TempDir()
	// The token file the running gateway would have generated (it runs with the e2e token).
	if err := os.WriteFile(filepath.Join(dir, tokenFile), []byte(e2eToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, dir)
	if b, err := os.ReadFile(filepath.Join(dir, addressFile)); err != nil || strings.TrimSpace(string(b)) != p.url {
		t.Fatalf("address file = %q, %v; want %s", b, err, p.url)
	}
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKGATE_") {
			env = append(env, kv)
		}
	}
	c, err := client.NewStdioMCPClient(binary, env, "mcp", "--addr", "127.0.0.1:0", "--data", dir, "--dev")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var (
		mu        sync.Mutex
		logs      strings.Builder
		stderr, _ = client.GetStderr(c)
	)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			logs.WriteString(sc.Text() + "\n")
			mu.Unlock()
		}
	}()
	initialize(t, c)
	agentFlow(t, c)
	// The event the agent published went through the running gateway.
	var page struct {
		Data []map[string]any `json:"data"`
	}
	if _, err := p.call(http.MethodGet, "/v1/events?type=video.posted", nil, &page); err != nil || len(page.Data) != 1 {
		t.Fatalf("the running gateway's events = %v, %v; want the agent's one", page.Data, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		l := logs.String()
		mu.Unlock()
		if strings.Contains(l, "using it over its API") && strings.Contains(l, p.url) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hookgate mcp didn't say it uses the running gateway at %s: %s", p.url, l)
		}
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()
	if _, err := os.Stat(filepath.Join(dir, addressFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("address file after the gateway stopped: %v", err)
	}
}

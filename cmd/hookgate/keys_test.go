package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// cliAs runs the command line against p with token as the credential.
func cliAs(t *testing.T, p *proc, token string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), append(args, "--server", p.url, "--token", token), &out, &errb)
	return code, out.String(), errb.String()
}

// hookgate keys create, list and revoke against a real serve: a read key lists events but
// can't publish; its secret URL serves MCP; revoked, it and its URL stop working. The key
// never appears in the server's log.
func TestCLIKeys(t *testing.T) {
	p := startServe(t, t.TempDir(), "--log-level", "debug")
	code, out, errs := cli(t, p, "keys", "create", "--name", "chatgpt", "--scopes", "read", "--json")
	var k struct {
		ID, Key, Prefix string
		Scopes          []string
	}
	if code != 0 || json.Unmarshal([]byte(out), &k) != nil || !strings.HasPrefix(k.Key, "hgk_") || len(k.Scopes) != 1 || k.Scopes[0] != "read" {
		t.Fatalf("keys create: exit %d %q %q", code, out, errs)
	}
	code, out, _ = cli(t, p, "keys", "list")
	if code != 0 || !strings.Contains(out, k.ID) || !strings.Contains(out, "chatgpt") || !strings.Contains(out, k.Prefix) || strings.Contains(out, k.Key) {
		t.Fatalf("keys list = %q, want the key masked", out)
	}

	if code, out, errs := cliAs(t, p, k.Key, "events", "list"); code != 0 {
		t.Fatalf("events list with the read key: exit %d %q %q", code, out, errs)
	}
	if code, _, errs := cliAs(t, p, k.Key, "events", "publish", "--type", "video.posted", "--data", `{"bundle_id":"b_1"}`); code == 0 || !strings.Contains(errs, "forbidden") || !strings.Contains(errs, "publish") {
		t.Fatalf("publish with the read key: exit %d %q, want refused naming publish", code, errs)
	}

	initialize := func() int {
		req, _ := http.NewRequest("POST", p.url+"/mcp/k/"+k.Key, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := initialize(); status != http.StatusOK {
		t.Fatalf("initialize through the secret URL = %d", status)
	}

	if code, out, errs := cli(t, p, "keys", "revoke", k.ID); code != 0 || !strings.Contains(out, "revoked") {
		t.Fatalf("keys revoke: exit %d %q %q", code, out, errs)
	}
	if code, _, errs := cliAs(t, p, k.Key, "events", "list"); code == 0 || !strings.Contains(errs, "401") && !strings.Contains(errs, "unauthorized") && !strings.Contains(errs, "invalid bearer token") {
		t.Fatalf("events list with the revoked key: exit %d %q", code, errs)
	}
	if status := initialize(); status != http.StatusNotFound {
		t.Fatalf("the revoked key's secret URL = %d, want 404", status)
	}
	p.mu.Lock()
	logs := p.logs.String()
	p.mu.Unlock()
	if strings.Contains(logs, k.Key) || !strings.Contains(logs, "hookgate listening") {
		t.Fatalf("the key appears in the server's log (or nothing was logged):\n%s", logs)
	}
}

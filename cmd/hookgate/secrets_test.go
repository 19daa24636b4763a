package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Credentials are write-only through the CLI and never logged: an endpoint's header value
// is masked by every command yet delivered, and an Upload-Post catch-hook URL is shown whole
// by `sources create` and `sources url` only.
func TestCLIShowsNoCredentials(t *testing.T) {
	p := startServe(t, t.TempDir(), "--log-level", "debug")
	const key = "Bearer cli-secret-0123456789"
	got := make(chan string, 1)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("Authorization"):
		default:
		}
	}))
	t.Cleanup(rcv.Close)

	code, out, errs := cli(t, p, "endpoints", "create", "--url", rcv.URL+"/hook", "--events", "*", "--header", "Authorization="+key)
	if code != 0 || strings.Contains(out, key) || !strings.Contains(out, "ep_") {
		t.Fatalf("endpoints create: exit %d %q %q", code, out, errs)
	}
	id := out[strings.Index(out, "ep_"):]
	id = id[:strings.IndexAny(id, " \t\n")]
	for _, args := range [][]string{{"endpoints", "get", id}, {"endpoints", "list", "--json"}, {"endpoints", "update", id, "--description", "x"}} {
		if code, out, errs := cli(t, p, args...); code != 0 || strings.Contains(out, key) {
			t.Errorf("%v: exit %d, shows the header value: %q %q", args, code, out, errs)
		}
	}
	if code, out, errs := cli(t, p, "endpoints", "test", id); code != 0 {
		t.Fatalf("endpoints test: exit %d %q %q", code, out, errs)
	}
	select {
	case h := <-got:
		if h != key {
			t.Fatalf("delivered Authorization = %q, want the real value", h)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}

	code, out, errs = cli(t, p, "sources", "create", "--name", "up", "--provider", "uploadpost")
	if code != 0 || !strings.Contains(out, "/in/src_") {
		t.Fatalf("sources create: exit %d %q %q", code, out, errs)
	}
	hook := strings.TrimSpace(out[strings.LastIndex(out, "http"):])
	src := strings.Split(hook[strings.Index(hook, "/in/")+4:], "/")[0]
	token := hook[strings.LastIndex(hook, "/")+1:]
	if len(token) < 16 {
		t.Fatalf("created URL %q carries no token", hook)
	}
	for _, args := range [][]string{{"sources", "list"}, {"sources", "get", src}} {
		if code, out, errs := cli(t, p, args...); code != 0 || strings.Contains(out, token) || !strings.Contains(out, "/in/"+src+"/****") {
			t.Errorf("%v: exit %d, want the URL token masked: %q %q", args, code, out, errs)
		}
	}
	if code, out, errs := cli(t, p, "sources", "url", src); code != 0 || strings.TrimSpace(out) != hook {
		t.Errorf("sources url: exit %d %q %q, want %s", code, out, errs, hook)
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if logs := p.logs.String(); strings.Contains(logs, "cli-secret-0123456789") || strings.Contains(logs, token) {
		t.Errorf("the server log shows a credential:\n%s", logs)
	}
}

// The kind flags of `endpoints create` pass the kind's settings on: make's --api-key is
// shown masked (the --json answer keeps the signing secret), delivered whole, and a flag
// the kind does not read is refused, naming the setting.
func TestCLIKindSettings(t *testing.T) {
	p := startServe(t, t.TempDir())
	const key = "mk-cli-secret-0042"
	got := make(chan string, 1)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("X-Make-Apikey"):
		default:
		}
		io.WriteString(w, "Accepted")
	}))
	t.Cleanup(rcv.Close)

	code, out, errs := cli(t, p, "endpoints", "create", "--kind", "make", "--url", rcv.URL+"/hook", "--events", "*", "--api-key", key, "--json")
	var ep map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &ep) != nil || ep["api_key"] != "****0042" || !strings.HasPrefix(fmt.Sprint(ep["secret"]), "whsec_") {
		t.Fatalf("endpoints create --kind make --api-key: exit %d %q %q, want api_key masked and the secret", code, out, errs)
	}
	if code, out, errs := cli(t, p, "endpoints", "test", ep["id"].(string)); code != 0 {
		t.Fatalf("endpoints test: exit %d %q %q", code, out, errs)
	}
	select {
	case h := <-got:
		if h != key {
			t.Fatalf("delivered x-make-apikey = %q, want the real key", h)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
	code, out, errs = cli(t, p, "endpoints", "create", "--url", rcv.URL+"/hook", "--events", "*", "--bot-token", "1:a")
	if code == 0 || !strings.Contains(out+errs, "bot_token") {
		t.Fatalf("endpoints create --bot-token on a webhook: exit %d %q %q, want it refused naming bot_token", code, out, errs)
	}
}

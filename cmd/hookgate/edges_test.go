package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/gateway"
)

// runCLI runs the command line in-process and returns its exit code and output.
func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// envWithout is the environment without any HOOKGATE_ variable, plus extra.
func envWithout(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKGATE_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func TestServeReadsHOOKGATE_TOKEN(t *testing.T) {
	cmd := exec.Command(binary, serveArgs(t.TempDir())...)
	cmd.Env = envWithout("HOOKGATE_TOKEN=" + e2eToken)
	p := startProc(t, cmd)
	if code, err := p.call("GET", "/v1/endpoints", nil, nil); err != nil || code != 200 {
		t.Fatalf("GET /v1/endpoints with the HOOKGATE_TOKEN token = %d, %v", code, err)
	}
}

func TestCLITokenFromEnvAliasAndDataFolder(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, tokenFile), []byte(e2eToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startServe(t, dir)
	t.Setenv("HOOKGATE_TOKEN", "")
	t.Setenv("HOOKGATE_API_TOKEN", "")
	t.Setenv("HOOKGATE_DATA", "")

	if code, _, errs := runCLI("endpoints", "list", "--server", p.url, "--data", dir); code != 0 {
		t.Fatalf("endpoints list --data <folder with api-token>: exit %d: %s", code, errs)
	}
	code, _, errs := runCLI("endpoints", "list", "--server", p.url, "--data", t.TempDir())
	if code == 0 || !strings.Contains(errs, "no API token") || !strings.Contains(errs, "HOOKGATE_TOKEN") {
		t.Fatalf("no token anywhere: exit %d: %s", code, errs)
	}
	t.Setenv("HOOKGATE_DATA", dir)
	if code, _, errs := runCLI("events", "list", "--server", p.url); code != 0 {
		t.Fatalf("events list with HOOKGATE_DATA: exit %d: %s", code, errs)
	}
	t.Setenv("HOOKGATE_DATA", t.TempDir())
	t.Setenv("HOOKGATE_API_TOKEN", e2eToken)
	if code, _, errs := runCLI("endpoints", "list", "--server", p.url); code != 0 {
		t.Fatalf("endpoints list with HOOKGATE_API_TOKEN: exit %d: %s", code, errs)
	}
	t.Setenv("HOOKGATE_API_TOKEN", "")
	t.Setenv("HOOKGATE_TOKEN", e2eToken)
	if code, _, errs := runCLI("endpoints", "list", "--server", p.url); code != 0 {
		t.Fatalf("endpoints list with HOOKGATE_TOKEN: exit %d: %s", code, errs)
	}
}

func TestHelpNeverPrintsTheToken(t *testing.T) {
	const secret = "hg_secret_value_must_not_show"
	t.Setenv("HOOKGATE_TOKEN", secret)
	t.Setenv("HOOKGATE_API_TOKEN", secret+"_alias")
	for _, args := range [][]string{
		{"--help"}, {"serve", "--help"}, {"mcp", "--help"}, {"endpoints", "--help"}, {"endpoints", "list", "--help"},
		{"endpoints", "create", "--help"}, {"events", "publish", "--help"}, {"deliveries", "--help"},
		{"sources", "--help"}, {"event-types", "--help"}, {"schemas", "export", "--help"},
	} {
		code, out, errs := runCLI(args...)
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Fatalf("%v: exit %d %q %q", args, code, out, errs)
		}
		if strings.Contains(out+errs, secret) {
			t.Errorf("%v prints the token:\n%s", args, out)
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, errs := runCLI("version")
	if code != 0 || !strings.HasPrefix(out, "hookgate "+gateway.Version+" ") {
		t.Fatalf("version: exit %d %q %q", code, out, errs)
	}
	if code, out, _ := runCLI("--version"); code != 0 || !strings.Contains(out, gateway.Version) {
		t.Fatalf("--version: exit %d %q", code, out)
	}
}

func TestMCPInProcessListensOnLoopbackOnly(t *testing.T) {
	t.Setenv("HOOKGATE_URL", "")
	t.Setenv("HOOKGATE_ADDR", "")
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0"} {
		code, _, errs := runCLI("mcp", "--addr", addr, "--data", t.TempDir(), "--dev")
		if code == 0 || !strings.Contains(errs, "loopback only") {
			t.Errorf("mcp --addr %s: exit %d %q", addr, code, errs)
		}
	}
	_, out, _ := runCLI("mcp", "--help")
	if !strings.Contains(out, `(default "127.0.0.1:8080")`) {
		t.Errorf("mcp --help: the default --addr is not loopback:\n%s", out)
	}
}

func TestCLIUnknownTypes(t *testing.T) {
	p := startServe(t, t.TempDir())
	code, _, errs := cli(t, p, "endpoints", "create", "--url", "http://127.0.0.1:9/h", "--events", "video.*,vidoe.posted")
	if code == 0 || !strings.Contains(errs, "events[1]") || !strings.Contains(errs, "did you mean video.posted?") {
		t.Fatalf("create vidoe.posted: exit %d %q", code, errs)
	}
	code, out, errs := cli(t, p, "events", "publish", "--type", "vidoe.posted", "--data", `{"n":1}`)
	if code != 0 || !strings.Contains(out, "published") || !strings.Contains(errs, "warning: unknown type vidoe.posted; did you mean video.posted?") {
		t.Fatalf("publish vidoe.posted: exit %d %q %q", code, out, errs)
	}
}

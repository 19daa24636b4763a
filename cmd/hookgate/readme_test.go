package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// section returns the part of a Markdown document from the heading that starts with title
// to the next heading of the same level.
func section(t *testing.T, doc, title string) string {
	t.Helper()
	i := strings.Index(doc, "\n"+title)
	if i < 0 {
		t.Fatalf("no section %q", title)
	}
	rest := doc[i+1:]
	if j := strings.Index(rest[len(title):], "\n## "); j >= 0 {
		rest = rest[:len(title)+j]
	}
	return rest
}

// fence is one fenced code block: its language ("sh", or "" for output) and its text.
type fence struct{ lang, text string }

var fenceRE = regexp.MustCompile("(?ms)^```([a-z]*)\n(.*?)^```")

func fences(md string) []fence {
	var out []fence
	for _, m := range fenceRE.FindAllStringSubmatch(md, -1) {
		out = append(out, fence{m[1], m[2]})
	}
	return out
}

// samples are the answers a shell block says its commands print: the "# → …" comments.
func samples(block string) []string {
	var out []string
	for _, line := range strings.Split(block, "\n") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "# → "); ok {
			out = append(out, s)
		}
	}
	return out
}

var spaces = regexp.MustCompile(`\s+`)

// matchesInOrder reports whether each sample, read as fragments separated by "…" (anything),
// occurs in out, in order, whitespace runs counting as one space. It returns the first
// sample that does not.
func matchesInOrder(out string, want []string) (string, bool) {
	out = spaces.ReplaceAllString(out, " ")
	for _, w := range want {
		for _, frag := range strings.Split(spaces.ReplaceAllString(w, " "), "…") {
			frag = strings.TrimSpace(frag)
			i := strings.Index(out, frag)
			if i < 0 {
				return w, false
			}
			out = out[i+len(frag):]
		}
	}
	return "", true
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestReadmeQuickstart runs the Quickstart's shell blocks from README.md, in order, in one
// bash in an empty folder, against the built binary, and checks that what they print is
// what the README says they print ("# → …"), and that the receiver prints what the README
// shows. Only these are changed: `go run ./cmd/hookgate` is the built binary; the addresses
// the README puts in HOOKGATE_ADDR, HOOKGATE_URL and RECEIVER_PORT are free ports; the
// serve command (the README's "one terminal") runs in the background, logging to a file,
// and the script waits until it answers before going on.
func TestReadmeQuickstart(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the Quickstart needs %s: %v", tool, err)
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	quick := section(t, string(readme), "## Quickstart")
	gw, rcv := freePort(t), freePort(t)
	dir := t.TempDir()
	serveLog := filepath.Join(dir, "serve.log")

	var (
		script  strings.Builder
		blocks  []string
		outputs []string
	)
	script.WriteString("set -eu\n")
	for _, f := range fences(quick) {
		if f.lang == "" {
			outputs = append(outputs, f.text)
			continue
		}
		if f.lang != "sh" {
			continue
		}
		b := strings.ReplaceAll(f.text, "go run ./cmd/hookgate", binary)
		b = regexp.MustCompile(`HOOKGATE_ADDR=\S+`).ReplaceAllString(b, fmt.Sprintf("HOOKGATE_ADDR=127.0.0.1:%d", gw))
		b = regexp.MustCompile(`HOOKGATE_URL=\S+`).ReplaceAllString(b, fmt.Sprintf("HOOKGATE_URL=http://127.0.0.1:%d", gw))
		b = regexp.MustCompile(`RECEIVER_PORT=\S+`).ReplaceAllString(b, fmt.Sprintf("RECEIVER_PORT=%d", rcv))
		var lines []string
		for _, line := range strings.Split(b, "\n") {
			if strings.Contains(line, binary+" serve") {
				line += fmt.Sprintf(" >%q 2>&1 &\nuntil curl -sf http://127.0.0.1:%d/healthz >/dev/null; do sleep 0.05; done", serveLog, gw)
			}
			lines = append(lines, line)
		}
		fmt.Fprintf(&script, "echo '@@block %d'\n%s\n", len(blocks), strings.Join(lines, "\n"))
		blocks = append(blocks, f.text)
	}
	script.WriteString("echo '@@end'\nwait\n")
	if len(blocks) < 3 || len(outputs) == 0 {
		t.Fatalf("the Quickstart has %d shell blocks and %d output blocks", len(blocks), len(outputs))
	}

	cmd := exec.Command("bash", "-c", script.String())
	cmd.Dir = dir
	cmd.Env = envWithout()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out := &gatewaytest.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	})
	fail := func(format string, args ...any) {
		t.Helper()
		logs, _ := os.ReadFile(serveLog)
		t.Fatalf(format+"\n--- script output:\n%s\n--- serve log:\n%s", append(args, out.String(), logs)...)
	}

	// The receiver's lines come when the deliveries are made, after or during the blocks.
	var want []string
	for _, o := range outputs {
		want = append(want, strings.Split(strings.TrimSpace(o), "\n")...)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := out.String()
		_, received := matchesInOrder(got, want)
		if strings.Contains(got, "@@end") && received {
			break
		}
		select {
		case err := <-done:
			done <- err
			fail("the Quickstart ended early: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			if !strings.Contains(got, "@@end") {
				fail("the Quickstart did not finish")
			}
			fail("the receiver did not print what the README shows:\n%s", strings.Join(want, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}

	got := out.String()
	for i, b := range blocks {
		seg := got[strings.Index(got, fmt.Sprintf("@@block %d\n", i)):]
		if j := strings.Index(seg[1:], "@@"); j >= 0 {
			seg = seg[:j+1]
		}
		if s, ok := matchesInOrder(seg, samples(b)); !ok {
			fail("Quickstart block %d: the README says\n  %s\nbut it printed:\n%s", i+1, s, seg)
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"65536", 65536}, {"512MiB", 512 << 20}, {"512mib", 512 << 20}, {"1GB", 1e9},
		{"1 GiB", 1 << 30}, {"64KiB", 64 << 10}, {"2TB", 2e12}, {"10B", 10}, {"3MB", 3e6},
	} {
		if got, err := parseSize(tc.in); err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "MiB", "-1MiB", "1.5GiB", "12 parsecs", "99999999999TiB"} {
		if got, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", bad, got)
		}
	}
}

func TestMinFreeDiskFlag(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "0": -1, "1GiB": 1 << 30, "512MB": 512e6} {
		f := serveFlags{minFreeDisk: in}
		if got, err := f.minFreeDiskBytes(); err != nil || got != want {
			t.Errorf("--min-free-disk %q = %d, %v; want %d (0: default, -1: off)", in, got, err, want)
		}
	}
	f := serveFlags{minFreeDisk: "lots"}
	if _, err := f.minFreeDiskBytes(); err == nil || !strings.Contains(err.Error(), "--min-free-disk") {
		t.Errorf("--min-free-disk lots = %v, want an error naming the flag", err)
	}
}

// tmpfs mounts a fresh tmpfs of size bytes and unmounts it when the test ends (after the
// processes started later are killed: cleanups run last-in first-out). It skips where the
// test cannot mount (not root, no mount(8), a container without the capability).
func tmpfs(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs for the disk-full tests")
	}
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a tmpfs for the disk-full tests: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// freeSpace is the space an unprivileged writer has on dir's volume.
func freeSpace(t *testing.T, dir string) int64 {
	t.Helper()
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// fill allocates a file on dir's volume so that about leave bytes stay free, and returns
// its path.
func fill(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n := freeSpace(t, dir) - leave; n > 0 {
		if err := syscall.Fallocate(int(f.Fd()), 0, 0, n); err != nil {
			t.Fatalf("fallocate %d bytes: %v", n, err)
		}
	}
	if free := freeSpace(t, dir); free > leave+1<<20 || free < leave-1<<20 {
		t.Fatalf("free after filling = %d, want about %d", free, leave)
	}
	return path
}

// readyz returns the readiness answer.
func (p *proc) readyz() (int, map[string]any) {
	p.t.Helper()
	resp, err := http.Get(p.url + "/readyz")
	if err != nil {
		p.t.Fatalf("readyz: %v (the process died?)\n%s", err, p.logText())
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (p *proc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// alive fails the test if the process has exited (a SIGBUS in Badger would end it).
func (p *proc) alive() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.Signal(0)); err != nil {
		p.t.Fatalf("hookgate is not running: %v\n%s", err, p.logText())
	}
}

func (p *proc) errorCode(status int, out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

const (
	volumeSize  = 64 << 20
	minFreeDisk = 24 << 20
)

// Publishing large events onto a small volume fills it up to the watermark and no further:
// the answer turns to 507 storage_full, /readyz to 503, the process stays up (Badger would
// die of SIGBUS writing into its mmapped value log on a full tmpfs) — and once space is
// freed, writes resume without a restart.
func TestDiskFullOnARealVolume(t *testing.T) {
	vol := tmpfs(t, volumeSize)
	p := startServe(t, filepath.Join(vol, "data"), "--min-free-disk", fmt.Sprint(minFreeDisk))
	st, src := 0, map[string]any{}
	if st, _ = p.call("POST", "/v1/sources", map[string]any{"name": "shop", "provider": "generic", "verify": map[string]any{"type": "none"}, "mapping": "{type: .t, data: .}"}, &src); st != 201 {
		t.Fatalf("create source = %d %v", st, src)
	}
	// Leave 40 MiB: 16 MiB above the watermark, to be filled by events.
	filler := fill(t, vol, 40<<20)

	pad := strings.Repeat("x", 200<<10) // above the 32 KiB threshold: into the mmapped value log
	refused := false
	for i := 0; i < 400 && !refused; i++ {
		var out map[string]any
		st, err := p.call("POST", "/v1/events", map[string]any{"type": "disk.filled", "data": map[string]any{"pad": pad}}, &out)
		if err != nil {
			t.Fatalf("publish %d: %v\n%s", i, err, p.logText())
		}
		switch {
		case st == 202:
		case st == 507 && p.errorCode(st, out) == "storage_full":
			refused = true
		default:
			t.Fatalf("publish %d = %d %v\n%s", i, st, out, p.logText())
		}
	}
	if !refused {
		t.Fatalf("400 events of 200 KiB on a 64 MiB volume were all accepted; free now %d", freeSpace(t, vol))
	}
	if free := freeSpace(t, vol); free < 16<<20 {
		t.Fatalf("free space when refusing = %d: the watermark did not hold", free)
	}
	p.alive()
	var out map[string]any
	if st, _ := p.call("POST", "/in/"+src["id"].(string), map[string]any{"t": "order.paid", "id": "o1"}, &out); st != 507 || p.errorCode(st, out) != "storage_full" {
		t.Fatalf("catch hook on a full disk = %d %v", st, out)
	}
	if st, _ := p.call("POST", "/v1/endpoints", map[string]any{"url": "http://127.0.0.1:9/x", "events": []string{"*"}}, &out); st != 507 {
		t.Fatalf("create endpoint on a full disk = %d %v", st, out)
	}
	st, ready := p.readyz()
	if reasons, _ := ready["reasons"].([]any); st != 503 || len(reasons) != 1 || !strings.HasPrefix(reasons[0].(string), "storage_full: ") {
		t.Fatalf("readyz on a full disk = %d %v", st, ready)
	}
	var page map[string]any
	if st, _ := p.call("GET", "/v1/events?limit=1", nil, &page); st != 200 {
		t.Fatalf("list events on a full disk = %d %v", st, page)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if st, _ := p.call("POST", "/v1/events", map[string]any{"type": "disk.filled", "data": map[string]any{"n": 1}}, &out); st != 202 {
		t.Fatalf("publish after freeing space = %d %v", st, out)
	}
	if st, ready := p.readyz(); st != 200 || ready["status"] != "ready" {
		t.Fatalf("readyz after freeing space = %d %v", st, ready)
	}
	logs := p.logText()
	if !strings.Contains(logs, "level=WARN msg=\"storage full: refusing") || !strings.Contains(logs, "level=INFO msg=\"storage space recovered") {
		t.Fatalf("want one Warn entering and one Info leaving the refusing mode in:\n%s", logs)
	}
}

// A gateway started on a volume already below the watermark comes up refusing writes
// (rather than crashing in Badger's Open), and takes them once space is freed.
func TestStartOnAFullVolume(t *testing.T) {
	vol := tmpfs(t, volumeSize)
	data := filepath.Join(vol, "data")
	p := startServe(t, data, "--min-free-disk", fmt.Sprint(minFreeDisk))
	var out map[string]any
	if st, _ := p.call("POST", "/v1/events", map[string]any{"type": "disk.filled", "id": "evt_before", "data": map[string]any{"n": 1}}, &out); st != 202 {
		t.Fatalf("publish = %d %v", st, out)
	}
	p.kill() // SIGKILL: the next start replays the memtable log

	filler := fill(t, vol, 8<<20)
	p = startServe(t, data, "--min-free-disk", fmt.Sprint(minFreeDisk))
	if st, _ := p.call("POST", "/v1/events", map[string]any{"type": "disk.filled", "data": map[string]any{"n": 2}}, &out); st != 507 || p.errorCode(st, out) != "storage_full" {
		t.Fatalf("publish after starting on a full volume = %d %v", st, out)
	}
	if st, ready := p.readyz(); st != 503 {
		t.Fatalf("readyz after starting on a full volume = %d %v", st, ready)
	}
	if st, _ := p.call("GET", "/v1/events/evt_before", nil, &out); st != 200 {
		t.Fatalf("read after starting on a full volume = %d %v", st, out)
	}
	p.alive()

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if st, _ := p.call("POST", "/v1/events", map[string]any{"type": "disk.filled", "data": map[string]any{"n": 3}}, &out); st != 202 {
		t.Fatalf("publish after freeing space = %d %v", st, out)
	}
	if st, ready := p.readyz(); st != 200 {
		t.Fatalf("readyz after freeing space = %d %v", st, ready)
	}
}

// With no free space at all (less than opening the store safely needs), serve still comes up: alive,
// not ready, every write and read a 507 storage_full; freeing space opens the store and the
// API, no restart.
func TestStartWithNoRoomToOpenWaitsForSpace(t *testing.T) {
	vol := tmpfs(t, volumeSize)
	data := filepath.Join(vol, "data")
	p := startServe(t, data, "--min-free-disk", fmt.Sprint(minFreeDisk))
	var out map[string]any
	if st, _ := p.call("POST", "/v1/events", map[string]any{"type": "disk.filled", "id": "evt_before", "data": map[string]any{"n": 1}}, &out); st != 202 {
		t.Fatalf("publish = %d %v", st, out)
	}
	p.kill()

	filler := fill(t, vol, 0) // the old binary died of SIGBUS here, in Badger's Open
	p = startServe(t, data, "--min-free-disk", fmt.Sprint(minFreeDisk))
	st, ready := p.readyz()
	if reasons, _ := ready["reasons"].([]any); st != 503 || len(reasons) != 1 || !strings.Contains(reasons[0].(string), "the store needs to open") {
		t.Fatalf("readyz with no room to open = %d %v", st, ready)
	}
	for _, path := range []string{"/v1/events", "/v1/events/evt_before"} {
		if st, _ := p.call("GET", path, nil, &out); st != 507 || p.errorCode(st, out) != "storage_full" {
			t.Fatalf("GET %s with no room to open = %d %v", path, st, out)
		}
	}
	if st, _ := p.call("POST", "/v1/events", map[string]any{"type": "disk.filled", "data": map[string]any{}}, &out); st != 507 || p.errorCode(st, out) != "storage_full" {
		t.Fatalf("publish with no room to open = %d %v", st, out)
	}
	// The dashboard at / says so in a page, not the API's JSON.
	resp, err := http.Get(p.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(page), "the store needs to open") {
		t.Fatalf("GET / with no room to open = %d %s:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), page)
	}
	p.alive()

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		st, _ := p.call("GET", "/v1/events/evt_before", nil, &out)
		if st == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the store did not open after space was freed: %d %v\n%s", st, out, p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st, _ := p.call("POST", "/v1/events", map[string]any{"type": "disk.filled", "data": map[string]any{"n": 2}}, &out); st != 202 {
		t.Fatalf("publish once the store opened = %d %v", st, out)
	}
	if st, ready := p.readyz(); st != 200 {
		t.Fatalf("readyz once the store opened = %d %v", st, ready)
	}
}

// hookgate mcp (stdio) cannot serve without its store: with no room to open it, it exits
// with an error that says so — an exit code, not a signal.
func TestMCPWithNoRoomToOpenExitsCleanly(t *testing.T) {
	vol := tmpfs(t, volumeSize)
	fill(t, vol, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "mcp", "--addr", "127.0.0.1:0", "--data", filepath.Join(vol, "data"))
	cmd.Env = append(os.Environ(), "HOOKGATE_API_TOKEN="+e2eToken)
	out, err := cmd.CombinedOutput()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 1 {
		t.Fatalf("mcp on a full volume: %v, want exit code 1\n%s", err, out)
	}
	if ws := ee.Sys().(syscall.WaitStatus); ws.Signaled() {
		t.Fatalf("mcp died of %v\n%s", ws.Signal(), out)
	}
	if !strings.Contains(string(out), "storage full") || !strings.Contains(string(out), "cannot open the store") {
		t.Fatalf("the error does not say the disk is full:\n%s", out)
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
)

// stall opens n connections that send a request's full headers (plus header, a raw
// "Name: value\r\n" line or ""), announce a body of 100 bytes, and never send it. The
// connections are closed when the test ends.
func stall(t *testing.T, addr, path, header string, n int) []net.Conn {
	t.Helper()
	req := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n%s\r\n", path, addr, header)
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		conns[i] = c
	}
	return conns
}

// answer reads what the server answered on c before deadline: the response (nil if none
// came) and whether the server then closed the connection.
func answer(c net.Conn, deadline time.Time) (resp *http.Response, closed bool) {
	c.SetReadDeadline(deadline)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	_, err = br.ReadByte()
	return resp, err == io.EOF
}

// answers reads the answers of conns in parallel and counts them by status code; 0 counts
// the connections still held open without an answer at deadline.
func answers(conns []net.Conn, deadline time.Time) map[int]int {
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		counts = map[int]int{}
	)
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, closed := answer(c, deadline)
			code := 0
			if resp != nil {
				code = resp.StatusCode
				if !closed {
					code = -code // answered, but left open
				}
			}
			mu.Lock()
			counts[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return counts
}

// serveWithFileLimit runs hookgate serve with at most nofile open files, as a host with a
// low limit (ulimit -n) would: every connection the server holds takes one.
func serveWithFileLimit(t *testing.T, nofile int, extra ...string) *proc {
	t.Helper()
	args := append([]string{"-c", `ulimit -n ` + strconv.Itoa(nofile) + ` && exec "$0" "$@"`, binary}, serveArgs(t.TempDir(), extra...)...)
	return startProc(t, exec.Command("/bin/sh", args...))
}

// publishWithin publishes one event with the token, the client giving up after limit.
func publishWithin(t *testing.T, p *proc, limit time.Duration) {
	t.Helper()
	req, _ := http.NewRequest("POST", p.url+"/v1/events", strings.NewReader(`{"type":"conn.checked","data":{}}`))
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	resp, err := (&http.Client{Timeout: limit}).Do(req)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("publish = %d", resp.StatusCode)
	}
}

// Strangers who send headers and then stall their bodies must not keep the gateway from
// answering. Before, each of them held a connection (and a file) forever: the catch hook
// waited for the body, and a 401 waited for net/http to drain the announced body; once
// the process ran out of files, accept failed and nothing was answered. Here 2,000 of
// them (twice the server's file limit), on a catch hook and on the API without a token:
// /healthz and an authenticated publish still answer within 1 s.
func TestStalledBodiesDontHoldTheDoor(t *testing.T) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur < 2500 {
		t.Skipf("this test opens 2,000 connections; the open-file limit is %d (%v)", lim.Cur, err)
	}
	p := serveWithFileLimit(t, 1024, "--max-unauthenticated-reads", "100")
	addr := strings.TrimPrefix(p.url, "http://")
	hooks := stall(t, addr, "/in/src_nothing", "", 1000)
	api := stall(t, addr, "/v1/events", "", 1000)

	client := &http.Client{Timeout: time.Second}
	resp, err := client.Get(p.url + "/healthz")
	if err != nil {
		p.mu.Lock()
		defer p.mu.Unlock()
		t.Fatalf("healthz with stalled bodies open: %v\n%.3000s", err, p.logs)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("healthz = %d", resp.StatusCode)
	}
	publishWithin(t, p, time.Second)

	// What the strangers got: without a token, 401 and the connection closed; on the catch
	// hook, 100 are being read (held until --read-timeout, 30 s), the others 503 and closed.
	deadline := time.Now().Add(5 * time.Second)
	if got := answers(api, deadline); got[401] != len(api) {
		t.Errorf("stalled API calls without a token got %v, want 401 and closed for all %d", got, len(api))
	}
	if got := answers(hooks, deadline); got[0] != 100 || got[503] != len(hooks)-100 {
		t.Errorf("stalled catch-hook calls got %v, want 100 held and %d answered 503 and closed", got, len(hooks)-100)
	}
}

// A body that doesn't arrive within --read-timeout is cut off with 408, with or without
// a token; a request that sent its body may still take longer than that to answer (an
// MCP await over Streamable HTTP lives past the read timeout).
func TestReadTimeoutCutsOffBodiesNotAnswers(t *testing.T) {
	p := startServe(t, t.TempDir(), "--read-timeout", "500ms")
	addr := strings.TrimPrefix(p.url, "http://")
	start := time.Now()
	conns := stall(t, addr, "/v1/events", "Authorization: Bearer "+e2eToken+"\r\n", 1)
	conns = append(conns, stall(t, addr, "/in/src_nothing", "", 1)...)
	for i, c := range conns {
		resp, closed := answer(c, time.Now().Add(10*time.Second))
		if resp == nil || resp.StatusCode != 408 || !closed {
			t.Fatalf("stalled body %d: answer %v (closed %v), want 408 and closed", i, resp, closed)
		}
	}
	if took := time.Since(start); took < 500*time.Millisecond {
		t.Fatalf("cut off after %v, before the read timeout", took)
	}

	c, err := client.NewStreamableHttpClient(p.url+"/mcp", transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + e2eToken}))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	initialize(t, c)
	req := mcp.CallToolRequest{}
	req.Params.Name = "await_event"
	req.Params.Arguments = map[string]any{"type": "never.happens", "timeout_seconds": 2}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start = time.Now()
	res, err := c.CallTool(ctx, req)
	if err != nil || res.IsError {
		t.Fatalf("await_event past the read timeout: %v %+v", err, res)
	}
	if took := time.Since(start); took < 2*time.Second || !bytes.Contains([]byte(fmt.Sprint(res.StructuredContent)), []byte("timed_out:true")) {
		t.Fatalf("await_event ended after %v with %+v, want a timed-out result after 2 s", took, res.StructuredContent)
	}
}

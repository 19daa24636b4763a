package mcp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	hgmcp "github.com/hookgate/hookgate/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// serveStdio serves s over pipes until the test ends: what the test writes to in is the
// client's stdin, and each JSON message the server writes comes out of lines.
func serveStdio(t *testing.T, s *server.StdioServer) (in io.Writer, lines <-chan map[string]any) {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- hgmcp.ServeStdio(ctx, s, inR, outW) }()
	t.Cleanup(func() {
		cancel()
		inW.Close()
		outR.Close()
		<-done
	})
	out := make(chan map[string]any, 100)
	go func() {
		sc := bufio.NewScanner(outR)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				out <- m
			}
		}
		close(out)
	}()
	return inW, out
}

// TestCancelledCallGetsNoResponse drives the stdio server as a client process would: a
// call the client cancels gets no response, the calls around it do.
func TestCancelledCallGetsNoResponse(t *testing.T) {
	e := newEnvUntyped(t)
	s := server.NewStdioServer(hgmcp.NewServer(e.svc, hgmcp.Options{ProgressInterval: 20 * time.Millisecond}))
	server.WithWorkerPoolSize(1)(s) // tool calls answered in order: the one after the cancelled call comes after it
	inW, lines := serveStdio(t, s)
	send := func(msg string) {
		t.Helper()
		if _, err := fmt.Fprintln(inW, msg); err != nil {
			t.Fatal(err)
		}
	}
	// next returns the next message that satisfies ok, failing on a response to id 2.
	next := func(what string, ok func(map[string]any) bool) map[string]any {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case m, open := <-lines:
				if !open {
					t.Fatalf("stdout closed waiting for %s", what)
				}
				if m["id"] == float64(2) {
					t.Fatalf("the cancelled call got a response: %v", m)
				}
				if ok(m) {
					return m
				}
			case <-deadline:
				t.Fatalf("no %s", what)
			}
		}
	}
	send(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}`)
	next("initialize response", func(m map[string]any) bool { return m["id"] == float64(1) })
	send(`{"jsonrpc":"2.0","method":"notifications/initialized"}`)
	send(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"await_event","arguments":{"type":"never.happens","timeout_seconds":60},"_meta":{"progressToken":"p2"}}}`)
	next("progress of the await", func(m map[string]any) bool { return m["method"] == "notifications/progress" })
	send(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2,"reason":"the user changed their mind"}}`)
	send(`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_cursor","arguments":{}}}`)
	res := next("get_cursor response", func(m map[string]any) bool { return m["id"] == float64(3) })
	if !strings.Contains(fmt.Sprint(res["result"]), "cursor") {
		t.Fatalf("get_cursor = %v", res)
	}
	// A call that isn't cancelled still gets its answer, and a later id 2 is answered.
	send(`{"jsonrpc":"2.0","id":"2","method":"ping"}`)
	next("ping response", func(m map[string]any) bool { return m["id"] == "2" })
}

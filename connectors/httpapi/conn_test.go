package httpapi_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// rawRequest sends a request by hand (so that its body can be left unsent) and returns the
// connection.
func rawRequest(t *testing.T, addr, head string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	return c
}

// readAnswer reads the answer on c (within 10 s) and its error code, and reports whether
// the server closed the connection after it.
func readAnswer(t *testing.T, c net.Conn) (status int, code string, retryAfter string, closed bool) {
	t.Helper()
	resp, code, closed, err := tryAnswer(c, 10*time.Second)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	return resp.StatusCode, code, resp.Header.Get("Retry-After"), closed
}

// tryAnswer reads the answer on c within wait, its error code, and whether the server
// closed the connection after it.
func tryAnswer(c net.Conn, wait time.Duration) (resp *http.Response, code string, closed bool, err error) {
	c.SetReadDeadline(time.Now().Add(wait))
	br := bufio.NewReader(c)
	resp, err = http.ReadResponse(br, nil)
	if err != nil {
		return nil, "", false, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if i := strings.Index(string(body), `"code":"`); i >= 0 {
		code, _, _ = strings.Cut(string(body[i+len(`"code":"`):]), `"`)
	}
	_, err = br.ReadByte()
	return resp, code, err == io.EOF, nil
}

func TestSlowBodyIsCutOffWith408(t *testing.T) {
	svc := gatewaytest.New(t, gateway.Options{}, gatewaytest.NewRecorder())
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token, ReadTimeout: 300 * time.Millisecond}))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	start := time.Now()
	c := rawRequest(t, addr, fmt.Sprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{\"type\":", token))
	status, code, _, closed := readAnswer(t, c)
	if status != 408 || code != "request_timeout" || !closed {
		t.Fatalf("stalled publish = %d %s (closed %v), want 408 request_timeout and closed", status, code, closed)
	}
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Fatalf("cut off after %v, before the read timeout", took)
	}
}

// An answer given before the body arrived (no token, unknown route, GET /healthz with a
// body) closes the connection at once instead of waiting for the body.
func TestAnswerBeforeBodyClosesTheConnection(t *testing.T) {
	svc := gatewaytest.New(t, gateway.Options{}, gatewaytest.NewRecorder())
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token}))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	for _, tc := range []struct {
		head   string
		status int
	}{
		{"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", 401},
		{"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Length: 100\r\n\r\n", 401},
		{"POST /nowhere HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", 404},
		{"PUT /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", 405},
		{"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n", 200},
	} {
		start := time.Now()
		c := rawRequest(t, addr, tc.head)
		status, _, _, closed := readAnswer(t, c)
		if status != tc.status || !closed || time.Since(start) > 5*time.Second {
			t.Errorf("%q = %d (closed %v) after %v, want %d and closed at once", tc.head, status, closed, time.Since(start), tc.status)
		}
	}
	// A body read to its end leaves the connection open for the next request.
	body := `{"type":"x.y","data":{}}`
	c := rawRequest(t, addr, fmt.Sprintf("POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", token, len(body), body))
	resp, _, closed, err := tryAnswer(c, 2*time.Second)
	if err != nil || resp.StatusCode != 202 || closed || resp.Close {
		t.Fatalf("publish = %v %v (closed %v), want 202 on a connection kept open", resp, err, closed)
	}
}

// At most MaxUnauthenticatedReads catch-hook bodies are read at once; the next caller is
// answered 503 with Retry-After, and the API with its token is not affected.
func TestUnauthenticatedReadsAreCapped(t *testing.T) {
	svc := gatewaytest.New(t, gateway.Options{}, gatewaytest.NewRecorder())
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token, MaxUnauthenticatedReads: 2}))
	t.Cleanup(srv.Close)
	a := &api{t: t, url: srv.URL, svc: svc}
	addr := srv.Listener.Addr().String()
	// Stall catch hooks until one is refused: the ones before it are held, being read.
	held, resp, code, closed := stallUntilRefused(t, addr)
	if resp.StatusCode != 503 || code != "unavailable" || resp.Header.Get("Retry-After") != "1" || !closed {
		t.Fatalf("refused catch hook = %d %s Retry-After %q closed %v", resp.StatusCode, code, resp.Header.Get("Retry-After"), closed)
	}
	if len(held) != 2 {
		t.Fatalf("%d catch hooks held before one was refused, want 2", len(held))
	}
	if st, body := a.do("POST", "/v1/events", `{"type":"x.y","data":{}}`); st != 202 {
		t.Fatalf("publish with the catch hooks full = %d %v", st, body)
	}
	// The slots are free again once the held bodies are given up.
	for _, c := range held {
		c.Close()
	}
	gatewaytest.WaitFor(t, 5*time.Second, "a catch hook read again", func() bool {
		st, _ := a.do("POST", "/in/src_x", `{}`, "Authorization", "")
		return st != 503
	})
}

// The read deadline ends with the body: a handler that has read its body may answer long
// after the read timeout, its request context live (an MCP await_event).
func TestLongAnswerOutlivesTheReadTimeout(t *testing.T) {
	svc := gatewaytest.New(t, gateway.Options{}, gatewaytest.NewRecorder())
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		select {
		case <-r.Context().Done():
			fmt.Fprint(w, "canceled")
		case <-time.After(time.Second):
			fmt.Fprint(w, "answered")
		}
	})
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token, ReadTimeout: 200 * time.Millisecond,
		Mount: []httpapi.Mount{{Path: "/slow", Handler: slow}}}))
	t.Cleanup(srv.Close)
	resp, err := http.Post(srv.URL+"/slow", "application/json", strings.NewReader(`{"wait":true}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); string(b) != "answered" {
		t.Fatalf("long answer = %q, want answered (the request lived past the read timeout)", b)
	}
}

// The open OAuth endpoints (registration, token, revocation, the approval form) share the
// catch hooks' cap on unauthenticated reads: stalled bodies can't hold more connections.
func TestOAuthEndpointsShareTheUnauthenticatedCap(t *testing.T) {
	svc := gatewaytest.New(t, gateway.Options{}, nil)
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token, MaxUnauthenticatedReads: 1}))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	held := holdTheSlot(t, addr)
	for _, path := range []string{"/oauth/register", "/oauth/token", "/oauth/revoke", "/oauth/authorize"} {
		// A whole body: were the slot free, the request would be answered at once, not 503.
		c := rawRequest(t, addr, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2\r\n\r\nx=")
		resp, _, _, err := tryAnswer(c, 5*time.Second)
		c.Close()
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "1" {
			t.Fatalf("%s while the slot is held: %v %v, want 503 with Retry-After: 1", path, resp, err)
		}
	}
	held.Close()
}

// stallUntilRefused sends catch hooks whose bodies never come until one is refused, and
// returns the refusal and the stalled requests still being read: those holding the
// unauthenticated slots (one that came while another had the last slot was refused itself).
func stallUntilRefused(t *testing.T, addr string) (held []net.Conn, refused *http.Response, code string, closed bool) {
	t.Helper()
	const stall = "POST /in/src_x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
	var stalled []net.Conn
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		c := rawRequest(t, addr, stall)
		resp, code, closed, err := tryAnswer(c, time.Second)
		if err != nil {
			stalled = append(stalled, c) // being read, or not yet answered
			continue
		}
		c.Close()
		for _, s := range stalled {
			if _, _, _, err := tryAnswer(s, 10*time.Millisecond); err != nil {
				held = append(held, s)
				continue
			}
			s.Close()
		}
		return held, resp, code, closed
	}
	t.Fatal("no stalled catch hook was refused within 5s")
	return nil, nil, "", false
}

// holdTheSlot stalls catch-hook bodies in the server's one unauthenticated slot until one
// is refused, and returns the stalled request that holds the slot. (A single stalled
// request is not enough: a request that reaches the slot first takes it, and the stalled
// one is refused.)
func holdTheSlot(t *testing.T, addr string) net.Conn {
	t.Helper()
	held, resp, _, _ := stallUntilRefused(t, addr)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a stalled catch hook was answered %d, want 503 or no answer", resp.StatusCode)
	}
	if len(held) != 1 {
		t.Fatalf("%d stalled catch hooks hold the one slot", len(held))
	}
	return held[0]
}

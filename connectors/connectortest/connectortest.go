// Package connectortest has what tests of connectors share: a Receiver that records the
// requests it gets and answers from a script, a secret-leak check, and the suite every
// outbound Sender passes.
//
// # Example
//
//	rcv := connectortest.NewReceiver(t)
//	rcv.Respond(func(n int, r *http.Request) connectortest.Response { return connectortest.Response{Status: 500} })
//	… point a sender at rcv.URL() …
//	reqs := rcv.Want(t, 5*time.Second, 1)
package connectortest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// Request is one request the Receiver got.
type Request struct {
	At     time.Time
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   []byte
}

// Response is what the Receiver answers.
type Response struct {
	Status int
	Header http.Header
	Body   string
	Delay  time.Duration // wait this long first (or until the client gives up)
}

// Receiver is an HTTP server on loopback that records every request.
type Receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []Request
	respond func(n int, r *http.Request) Response
	arrived chan struct{}
}

// NewReceiver starts a Receiver that answers 200 until told otherwise; it closes when the
// test ends.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{arrived: make(chan struct{}, 1)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// URL is the receiver's base URL (http://127.0.0.1:port).
func (r *Receiver) URL() string { return r.srv.URL }

// Respond sets how the receiver answers; n counts requests from 1.
func (r *Receiver) Respond(f func(n int, req *http.Request) Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.respond = f
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.reqs = append(r.reqs, Request{At: time.Now(), Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header.Clone(), Body: body})
	n, f := len(r.reqs), r.respond
	r.mu.Unlock()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
	resp := Response{Status: http.StatusOK}
	if f != nil {
		resp = f(n, req)
	}
	if resp.Delay > 0 {
		select {
		case <-time.After(resp.Delay):
		case <-req.Context().Done():
			return
		}
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if resp.Status == 0 {
		resp.Status = http.StatusOK
	}
	w.WriteHeader(resp.Status)
	io.WriteString(w, resp.Body)
}

// Requests returns a copy of the requests so far.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Want waits until at least n requests arrived and returns them; it fails the test after
// within.
func (r *Receiver) Want(t testing.TB, within time.Duration, n int) []Request {
	t.Helper()
	deadline := time.After(within)
	for {
		if reqs := r.Requests(); len(reqs) >= n {
			return reqs
		}
		select {
		case <-r.arrived:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("Receiver: %d requests within %s, want %d", len(r.Requests()), within, n)
			return nil
		}
	}
}

// AssertNoSecretLeak fails the test if any secret appears in the outcome's error text.
func AssertNoSecretLeak(t testing.TB, out gateway.Outcome, secrets ...string) {
	t.Helper()
	if out.Err == nil {
		return
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(out.Err.Error(), s) {
			t.Errorf("error %q leaks the secret %q", out.Err, s)
		}
	}
}

// Message builds a gateway.Message to url for sender tests.
func Message(url string, secrets ...string) *gateway.Message {
	now := time.Now()
	ep := &gateway.Endpoint{ID: "ep_test", URL: url, Kind: gateway.KindWebhook, Enabled: true}
	for _, s := range secrets {
		ep.Secrets = append(ep.Secrets, gateway.Secret{Value: s})
	}
	ev := &gateway.Event{ID: "evt_test", Type: "video.posted", Source: "tokportal", Created: now, Data: []byte(`{"url":"https://x"}`)}
	return &gateway.Message{
		Delivery: &gateway.Delivery{ID: "dlv_test", EventID: ev.ID, EndpointID: ep.ID},
		Endpoint: ep, Event: ev, Body: ev.Body(), Attempt: 1, Now: now,
	}
}

// RunSenderSuite checks what every outbound Sender must do, against a Receiver. newSender
// returns the sender under test; secret is a signing secret for the messages; path is
// appended to the receiver URL and treated as a credential (like a catch-hook token).
func RunSenderSuite(t *testing.T, newSender func(t *testing.T) gateway.Sender, secret string) {
	const token = "/hooks/s3cr3t-token-123"
	t.Run("2xx is a success", func(t *testing.T) {
		rcv := NewReceiver(t)
		rcv.Respond(func(int, *http.Request) Response { return Response{Status: 202, Body: "Accepted"} })
		out := newSender(t).Send(context.Background(), Message(rcv.URL()+token, secret))
		if out.Err != nil || out.StatusCode != 202 || string(out.Body) != "Accepted" {
			t.Fatalf("Send = %+v", out)
		}
		rcv.Want(t, time.Second, 1)
	})
	t.Run("5xx is reported with its body", func(t *testing.T) {
		rcv := NewReceiver(t)
		rcv.Respond(func(int, *http.Request) Response { return Response{Status: 500, Body: "down"} })
		out := newSender(t).Send(context.Background(), Message(rcv.URL()+token, secret))
		if out.Err != nil || out.StatusCode != 500 || string(out.Body) != "down" {
			t.Fatalf("Send = %+v", out)
		}
	})
	t.Run("body is capped at 4 KiB", func(t *testing.T) {
		rcv := NewReceiver(t)
		rcv.Respond(func(int, *http.Request) Response { return Response{Status: 200, Body: strings.Repeat("a", 100<<10)} })
		out := newSender(t).Send(context.Background(), Message(rcv.URL()+token, secret))
		if len(out.Body) != gateway.MaxResponseBody {
			t.Fatalf("body = %d bytes, want %d", len(out.Body), gateway.MaxResponseBody)
		}
	})
	t.Run("transport error without leaking the URL", func(t *testing.T) {
		rcv := NewReceiver(t)
		url := rcv.URL() + token
		rcv.srv.Close()
		out := newSender(t).Send(context.Background(), Message(url, secret))
		if out.Err == nil || out.StatusCode != 0 {
			t.Fatalf("Send to a closed server = %+v", out)
		}
		AssertNoSecretLeak(t, out, token, strings.TrimPrefix(token, "/"), secret)
	})
	t.Run("context timeout is honoured", func(t *testing.T) {
		rcv := NewReceiver(t)
		rcv.Respond(func(int, *http.Request) Response { return Response{Delay: 5 * time.Second} })
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		out := newSender(t).Send(ctx, Message(rcv.URL()+token, secret))
		if out.Err == nil || time.Since(start) > 2*time.Second {
			t.Fatalf("Send = %+v after %s, want a timeout error quickly", out, time.Since(start))
		}
		AssertNoSecretLeak(t, out, token, secret)
	})
}

// Package connectortest has what tests of connectors share: a Receiver, an HTTP server on
// loopback that records the requests it gets and answers from a script; a secret-leak check
// for Outcomes; and the conformance suite every outbound Sender passes.
//
// # Example
//
//	func TestSender(t *testing.T) {
//		connectortest.RunSenderSuite(t, func(t *testing.T, url string) gateway.Sender {
//			return webhook.New(webhook.Options{Policy: gateway.URLPolicy{AllowPrivate: true}})
//		})
//	}
//
//	func TestRetryAfter(t *testing.T) {
//		rcv := connectortest.NewReceiver(t)
//		rcv.Queue(connectortest.Response{Status: 429, Header: http.Header{"Retry-After": {"7"}}})
//		out := sender.Send(ctx, connectortest.Message(rcv.URL()+"/hook", connectortest.Secret))
//		reqs := rcv.Want(t, 5*time.Second, 1) // polls; no fixed sleeps
//		…
//	}
package connectortest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// Response is what the Receiver answers. The zero value is an empty 200.
type Response struct {
	Status int
	Header http.Header
	Body   string
	// Delay holds the answer back this long, or until the client gives up or the Receiver
	// closes, whichever comes first.
	Delay time.Duration
}

// Receiver is an HTTP server on loopback that records every request and answers from a
// script: first the queued responses in order, then the Respond function, else 200. It is
// safe for concurrent use.
type Receiver struct {
	srv     *httptest.Server
	closing chan struct{}
	once    sync.Once
	arrived chan struct{} // signalled (without blocking) on every request

	mu      sync.Mutex
	reqs    []Request
	queue   []Response
	respond func(n int, r *http.Request) Response
}

// NewReceiver starts a Receiver that answers 200 until told otherwise; it is closed when
// the test ends.
func NewReceiver(t testing.TB) *Receiver {
	r := &Receiver{closing: make(chan struct{}), arrived: make(chan struct{}, 1)}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

// URL is the receiver's base URL (http://127.0.0.1:port).
func (r *Receiver) URL() string { return r.srv.URL }

// Respond sets how the receiver answers once its queue is empty; n counts requests from 1.
// f runs on the server's goroutine and must not call t.Fatal.
func (r *Receiver) Respond(f func(n int, req *http.Request) Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.respond = f
}

// Queue adds answers for the next requests, used in order before Respond's function.
func (r *Receiver) Queue(rs ...Response) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queue = append(r.queue, rs...)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.reqs = append(r.reqs, Request{At: time.Now(), Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header.Clone(), Body: body})
	n, f := len(r.reqs), r.respond
	var resp Response
	queued := len(r.queue) > 0
	if queued {
		resp, r.queue = r.queue[0], r.queue[1:]
	}
	r.mu.Unlock()
	select {
	case r.arrived <- struct{}{}:
	default:
	}
	if !queued && f != nil {
		resp = f(n, req)
	}
	if resp.Delay > 0 {
		timer := time.NewTimer(resp.Delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-req.Context().Done():
			return
		case <-r.closing:
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

// Requests returns a copy of the requests so far, in arrival order.
func (r *Receiver) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.reqs...)
}

// Count returns how many requests arrived so far.
func (r *Receiver) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.reqs)
}

// Want waits until at least n requests arrived and returns all requests so far; it fails
// the test if they don't arrive within the given time. Call it from the test's goroutine.
func (r *Receiver) Want(t testing.TB, within time.Duration, n int) []Request {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond) // in case a signal was taken by another waiter
	defer tick.Stop()
	for {
		if reqs := r.Requests(); len(reqs) >= n {
			return reqs
		}
		select {
		case <-r.arrived:
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("Receiver got %d requests within %s, want at least %d", r.Count(), within, n)
			return nil
		}
	}
}

// Close stops the receiver, cutting delayed answers short. Closing twice is harmless; the
// URL then refuses connections.
func (r *Receiver) Close() {
	r.once.Do(func() { close(r.closing) })
	r.srv.Close()
}

// AssertNoSecretLeak fails the test if any of secrets appears in the outcome's error text
// (empty strings are skipped), as Alertmanager's AssertNotifyLeaksNoSecret does.
func AssertNoSecretLeak(t testing.TB, out gateway.Outcome, secrets ...string) {
	t.Helper()
	if out.Err == nil {
		return
	}
	text := out.Err.Error()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("Outcome error %q leaks the secret %q", text, s)
		}
	}
}

// Secret is a signing secret for test messages (the Standard Webhooks test vector's).
const Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// Settings returns a kind's settings object (gateway.Endpoint.Settings) of key, value
// pairs, such as Settings("chat_id", "-1001", "bot_token", "1:a"); nil for no pairs.
func Settings(kv ...string) json.RawMessage {
	if len(kv) == 0 {
		return nil
	}
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// Message returns a gateway.Message for sender tests: event evt_test of type video.posted
// from tokportal, delivery dlv_test, a webhook endpoint ep_test at url signing with
// secrets, and Now set to the current time.
func Message(url string, secrets ...string) *gateway.Message {
	now := time.Now()
	ep := &gateway.Endpoint{ID: "ep_test", URL: url, Kind: gateway.KindWebhook, Enabled: true, Events: []string{"*"}}
	for _, s := range secrets {
		ep.Secrets = append(ep.Secrets, gateway.Secret{Value: s})
	}
	ev := &gateway.Event{ID: "evt_test", Type: "video.posted", Source: "tokportal", Created: now, Data: []byte(`{"url":"https://example.com/v/1","views":3}`)}
	return &gateway.Message{
		Delivery: &gateway.Delivery{ID: "dlv_test", EventID: ev.ID, EndpointID: ep.ID, EventType: ev.Type, Status: gateway.StatusPending},
		Endpoint: ep, Event: ev, Body: ev.Body(), Attempt: 1, Now: now,
	}
}

// SenderSuite is the conformance every outbound Sender passes. Only NewSender is required.
type SenderSuite struct {
	// NewSender returns the Sender under test. url is the Receiver's URL followed by a
	// secret path, as catch-hook URLs are; a Sender that takes its target from the Message
	// can ignore it, one that calls a configured API (a base URL) aims at it.
	NewSender func(t *testing.T, url string) gateway.Sender
	// NewMessage builds the message sent; default Message(url, Secret).
	NewMessage func(url string) *gateway.Message
	// Secrets are more strings that must never appear in an Outcome's error (tokens the
	// Sender was configured with); the URL's secret path and Secret are always checked.
	Secrets []string
}

// tokenPath is the credential part of the suite's URLs, like a Zapier hook's path.
const tokenPath = "/hooks/catch/123456/s3cr3t-t0ken"

// RunSenderSuite runs SenderSuite{NewSender: newSender}.
func RunSenderSuite(t *testing.T, newSender func(t *testing.T, url string) gateway.Sender) {
	SenderSuite{NewSender: newSender}.Run(t)
}

// Run checks, each in a subtest against a fresh Receiver: a 2xx is reported as an answer
// with its body, and the request body as the receiver got it as Sent; a 500 with its
// status and body; the body is capped at MaxResponseBody;
// Retry-After is read; redirects are not followed; a refused connection sets Err with
// status 0; a context deadline ends the attempt promptly with an Err that errors.Is
// context.DeadlineExceeded; and no error text leaks a secret.
func (s SenderSuite) Run(t *testing.T) {
	secrets := append([]string{tokenPath, strings.TrimPrefix(tokenPath, "/hooks/"), "s3cr3t-t0ken", Secret, strings.TrimPrefix(Secret, "whsec_")}, s.Secrets...)
	send := func(t *testing.T, ctx context.Context, rcv *Receiver) gateway.Outcome {
		t.Helper()
		url := rcv.URL() + tokenPath
		m := Message(url, Secret)
		if s.NewMessage != nil {
			m = s.NewMessage(url)
		}
		out := s.NewSender(t, url).Send(ctx, m)
		AssertNoSecretLeak(t, out, secrets...)
		return out
	}

	t.Run("2xx is an answer", func(t *testing.T) {
		rcv := NewReceiver(t)
		rcv.Queue(Response{Status: http.StatusAccepted, Body: "Accepted"})
		out := send(t, context.Background(), rcv)
		if out.Err != nil || out.StatusCode != http.StatusAccepted || string(out.Body) != "Accepted" {
			t.Fatalf("Send = %s, want 202 Accepted", describe(out))
		}
		if reqs := rcv.Want(t, 5*time.Second, 1); reqs[0].Method != http.MethodPost || len(reqs) != 1 {
			t.Fatalf("receiver got %d requests, first %s; want one POST", len(reqs), reqs[0].Method)
		}
	})
	t.Run("the body sent is reported", func(t *testing.T) {
		rcv := NewReceiver(t)
		out := send(t, context.Background(), rcv)
		reqs := rcv.Want(t, 5*time.Second, 1)
		if len(out.Sent) == 0 || !bytes.Equal(out.Sent, reqs[0].Body) {
			t.Fatalf("Send reported %q as sent; the receiver got %q", out.Sent, reqs[0].Body)
		}
	})
	t.Run("5xx is an answer with its body", func(t *testing.T) {
		rcv := NewReceiver(t)
		rcv.Queue(Response{Status: http.StatusInternalServerError, Body: "down"})
		out := send(t, context.Background(), rcv)
		if out.Err != nil || out.StatusCode != http.StatusInternalServerError || string(out.Body) != "down" {
			t.Fatalf("Send = %s, want 500 down", describe(out))
		}
	})
	t.Run("body is capped", func(t *testing.T) {
		rcv := NewReceiver(t)
		rcv.Queue(Response{Body: strings.Repeat("a", 100<<10)})
		out := send(t, context.Background(), rcv)
		if out.Err != nil || out.StatusCode != http.StatusOK || len(out.Body) != gateway.MaxResponseBody {
			t.Fatalf("Send = %s, want 200 with a %d-byte body", describe(out), gateway.MaxResponseBody)
		}
	})
	t.Run("Retry-After is read", func(t *testing.T) {
		rcv := NewReceiver(t)
		rcv.Queue(Response{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"30"}}})
		out := send(t, context.Background(), rcv)
		if out.Err != nil || out.StatusCode != http.StatusTooManyRequests || out.RetryAfter != 30*time.Second {
			t.Fatalf("Send = %s, want 429 retry after 30s", describe(out))
		}
	})
	t.Run("redirect is not followed", func(t *testing.T) {
		rcv := NewReceiver(t)
		rcv.Queue(Response{Status: http.StatusFound, Header: http.Header{"Location": {rcv.URL() + "/elsewhere"}}})
		out := send(t, context.Background(), rcv)
		if out.Err != nil || out.StatusCode != http.StatusFound {
			t.Fatalf("Send = %s, want 302 reported as is", describe(out))
		}
		if n := rcv.Count(); n != 1 {
			t.Fatalf("receiver got %d requests, want 1 (the redirect was followed)", n)
		}
	})
	t.Run("refused connection is an error", func(t *testing.T) {
		rcv := NewReceiver(t)
		rcv.Close()
		out := send(t, context.Background(), rcv)
		if out.Err == nil || out.StatusCode != 0 {
			t.Fatalf("Send to a closed server = %s, want an error and no status", describe(out))
		}
	})
	t.Run("context deadline is honoured", func(t *testing.T) {
		rcv := NewReceiver(t)
		rcv.Queue(Response{Delay: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		out := send(t, ctx, rcv)
		if took := time.Since(start); out.Err == nil || !errors.Is(out.Err, context.DeadlineExceeded) || took > 5*time.Second {
			t.Fatalf("Send = %s after %s, want a DeadlineExceeded error within 5s", describe(out), took)
		}
	})
}

// describe prints an Outcome for failure messages, eliding long bodies.
func describe(out gateway.Outcome) string {
	body := string(out.Body)
	if len(body) > 64 {
		body = fmt.Sprintf("%s… (%d bytes)", body[:64], len(out.Body))
	}
	return fmt.Sprintf("{status %d, body %q, retry after %s, err %v}", out.StatusCode, body, out.RetryAfter, out.Err)
}

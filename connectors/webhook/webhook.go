// Package webhook is the outbound Sender for plain HTTPS endpoints: one POST per attempt,
// signed with Standard Webhooks, no redirects followed, and an SSRF guard enforced when
// dialing.
//
// Every request carries Content-Type: application/json, User-Agent: hookgate/<version>,
// X-Hookgate-Event, X-Hookgate-Delivery, and the Standard Webhooks headers webhook-id (the
// event id, the same across retries and endpoints so that receivers can dedupe),
// webhook-timestamp and webhook-signature (one v1 entry per live secret of the endpoint).
// The endpoint's own headers, then its auth (a header such as n8n's Header Auth, or HTTP
// basic auth), are added first and cannot override these. Senders of other kinds (zapier,
// n8n, slack…) build on Post, which makes the same request with their own target and body.
//
// The address guard runs in the dialer's Control hook, after DNS resolution, so a hostname
// that resolves (or is rebound) to a private, loopback or link-local address is refused
// however the request got there. Redirects are not followed: a 3xx is an answer like any
// other non-2xx, and the dispatcher retries.
//
// Errors never carry the endpoint's path or query (catch-hook URLs are credentials) nor a
// secret: the URL in them is redacted to scheme and host.
//
// # Example
//
//	s := webhook.New(webhook.Options{Policy: gateway.URLPolicy{}, Logger: logger})
//	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
//	defer cancel()
//	out := s.Send(ctx, &gateway.Message{Delivery: d, Endpoint: ep, Event: ev, Body: ev.Body(), Attempt: 1, Now: time.Now()})
//	// out.StatusCode, out.Body (≤ 4 KiB), out.RetryAfter, out.Err
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hookgate/hookgate/connectors/signature"
	"github.com/hookgate/hookgate/gateway"
)

// Options configures a Sender. The zero value is the production setup.
type Options struct {
	// Policy decides which addresses may be dialed and whether http:// URLs are allowed.
	Policy gateway.URLPolicy
	// Client replaces the built-in HTTP client (tests). It should not follow redirects, and
	// only the built-in client enforces Policy when dialing.
	Client *http.Client
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Resolver looks up endpoint host names for the built-in client; default
	// net.DefaultResolver. Whatever it answers is checked by Policy before dialing.
	Resolver *net.Resolver
}

// Sender delivers to webhook endpoints. It is safe for concurrent use, and shares one
// pooled HTTP client across all of its deliveries.
type Sender struct {
	policy gateway.URLPolicy
	client *http.Client
	log    *slog.Logger
}

var _ gateway.Sender = (*Sender)(nil)

// New returns a Sender. Unless opts.Client is set it builds its client with NewClient.
func New(opts Options) *Sender {
	s := &Sender{policy: opts.Policy, client: opts.Client, log: opts.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.client == nil {
		s.client = newClient(opts.Policy, opts.Resolver)
	}
	return s
}

// NewClient returns the HTTP client outbound senders share: keep-alive connections pooled
// for many concurrent deliveries to one host, HTTP/2 where the server offers it, no proxy,
// no redirects, and policy.AllowDial on every address actually dialed. It has no overall
// timeout: each attempt's context bounds it.
func NewClient(policy gateway.URLPolicy) *http.Client {
	return newClient(policy, nil)
}

// newClient is NewClient looking host names up with resolver (nil: the default).
func newClient(policy gateway.URLPolicy, resolver *net.Resolver) *http.Client {
	dialer := &net.Dialer{
		Timeout:   10 * time.Second, // a cap; the attempt's context is usually shorter
		KeepAlive: 30 * time.Second,
		Resolver:  resolver,
		// Control runs after DNS resolution and before connecting, for every address tried.
		Control: func(network, address string, _ syscall.RawConn) error {
			return policy.AllowDial(network, address)
		},
	}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us and bypass the address check
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// maxDrain is how much of a long answer is read and discarded past MaxResponseBody so that
// the connection can be reused; past it the connection is closed instead.
const maxDrain = 64 << 10

// Send makes one POST of m to its endpoint and reports the answer. A status code of any
// kind is an answer (Err nil); Err is set only when no answer came: a refused URL or
// address, a transport failure, or ctx ending first (then errors.Is(Err,
// context.DeadlineExceeded) or context.Canceled holds).
func (s *Sender) Send(ctx context.Context, m *gateway.Message) gateway.Outcome {
	if m == nil || m.Endpoint == nil {
		return gateway.Outcome{Err: errors.New("webhook: incomplete message")}
	}
	return s.Post(ctx, m, m.Endpoint.URL, m.Body, nil)
}

// Post makes one POST of body to target on behalf of m and reports the answer as Send
// does, with body as the Outcome's Sent once a request is made; Send is Post to the
// endpoint's URL with m.Body. Senders of other kinds call it
// with their own target and body, so that every kind dials through the same guarded
// client. The request carries, a later one overriding an earlier one of the same name:
// the endpoint's headers, header (a kind's own, such as Make's x-make-apikey), the
// endpoint's Auth (a header or HTTP basic auth), and the headers of SetHeaders with a
// Standard Webhooks signature of body.
//
// target may hold credentials (a catch-hook token, a bot token in the path): errors and
// logs name it by scheme and host only.
func (s *Sender) Post(ctx context.Context, m *gateway.Message, target string, body []byte, header http.Header) gateway.Outcome {
	if m == nil || m.Endpoint == nil || m.Event == nil || m.Delivery == nil {
		return gateway.Outcome{Err: errors.New("webhook: incomplete message")}
	}
	redacted := gateway.RedactURL(target)
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return gateway.Outcome{Err: fmt.Errorf("endpoint URL %s: not an absolute URL", redacted)}
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && s.policy.AllowPrivate) {
		return gateway.Outcome{Err: fmt.Errorf("endpoint URL %s: only https is allowed", redacted)}
	}
	now := m.Now
	if now.IsZero() {
		now = time.Now()
	}
	sig, err := signature.Header(m.Endpoint.SigningSecrets(now), m.Event.ID, now, body)
	if err != nil {
		return gateway.Outcome{Err: fmt.Errorf("POST %s: %w", redacted, err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return gateway.Outcome{Err: redact(ctx, fmt.Errorf("build request: %w", err), target, u)}
	}
	for k, v := range m.Endpoint.Headers {
		req.Header.Set(k, v)
	}
	for k, vs := range header {
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	setAuth(req, m.Endpoint.Auth)
	SetHeaders(req.Header, m, now, sig)

	resp, err := s.client.Do(req)
	if err != nil {
		return gateway.Outcome{Err: redact(ctx, err, target, u), Sent: body}
	}
	defer resp.Body.Close()
	out := gateway.Outcome{StatusCode: resp.StatusCode, RetryAfter: RetryAfter(resp.Header.Get("Retry-After"), time.Now()), Sent: body}
	// The status line is the answer; a body cut short (or slower than ctx) doesn't change it.
	out.Body, err = io.ReadAll(io.LimitReader(resp.Body, gateway.MaxResponseBody))
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	}
	if s.log.Enabled(ctx, slog.LevelDebug) {
		log := s.log.With("kind", m.Endpoint.Kind, "endpoint", m.Endpoint.ID, "delivery", m.Delivery.ID, "url", redacted, "status", resp.StatusCode)
		if err != nil {
			log = log.With("body_err", redact(ctx, err, target, u))
		}
		log.DebugContext(ctx, "endpoint answered")
	}
	return out
}

// setAuth applies an endpoint's auth to req: a header (n8n's Header Auth) or HTTP basic
// auth. The gateway validated it when the endpoint was saved; an unknown type sends none.
func setAuth(req *http.Request, a *gateway.EndpointAuth) {
	if a == nil {
		return
	}
	switch a.Type {
	case "header":
		req.Header.Set(a.Name, a.Value)
	case "basic":
		req.SetBasicAuth(a.Username, a.Password)
	}
}

// SetHeaders sets the headers every hookgate delivery carries, overwriting any of the same
// name: Content-Type, User-Agent, X-Hookgate-Event, X-Hookgate-Delivery and the Standard
// Webhooks trio, with now as webhook-timestamp and sig (from signature.Header) as
// webhook-signature. Senders of other kinds call it too.
func SetHeaders(h http.Header, m *gateway.Message, now time.Time, sig string) {
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "hookgate/"+gateway.Version)
	h.Set("X-Hookgate-Event", m.Event.Type)
	h.Set("X-Hookgate-Delivery", m.Delivery.ID)
	h.Set(signature.HeaderID, m.Event.ID)
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(signature.HeaderSignature, sig)
}

// RetryAfter parses a Retry-After value, delay-seconds or an HTTP date, into a wait from
// now; it is 0 when the value is absent, unreadable or in the past.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(1<<63-1)/int64(time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// redact turns a client error into one that names the endpoint only by scheme and host:
// the *url.Error that quotes the full URL is dropped, and any copy of the URL, its path,
// query or user info left in the text is replaced. errors.Is and errors.As still reach
// the cause (*net.OpError…) and, when ctx is done, ctx.Err(): the client reports a
// deadline by its cause (context.WithTimeoutCause), but callers test for
// context.DeadlineExceeded.
func redact(ctx context.Context, err error, raw string, u *url.URL) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	text := err.Error()
	for _, s := range []string{raw, u.String(), u.RawQuery, u.EscapedPath(), u.Path, u.User.String()} {
		if len(s) > 1 {
			text = strings.ReplaceAll(text, s, "<redacted>")
		}
	}
	return &redactedError{text: "POST " + gateway.RedactURL(raw) + ": " + text, errs: []error{err, ctx.Err()}}
}

// redactedError is an error whose text has been scrubbed of credentials; Unwrap gives the
// causes for errors.Is and errors.As.
type redactedError struct {
	text string
	errs []error // the cause, and ctx.Err() (nil while ctx is live)
}

func (e *redactedError) Error() string   { return e.text }
func (e *redactedError) Unwrap() []error { return e.errs }

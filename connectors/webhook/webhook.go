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
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hookgate/hookgate/connectors/internal/memo"
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
	policy  gateway.URLPolicy
	client  *http.Client
	log     *slog.Logger
	targets targets
	// direct is the client's transport when the client is one NewClient made (see do).
	direct http.RoundTripper
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
	if c := s.client; c.Jar == nil && c.Timeout == 0 && c.CheckRedirect != nil &&
		reflect.ValueOf(c.CheckRedirect).Pointer() == reflect.ValueOf(noRedirects).Pointer() {
		s.direct = c.Transport
		if s.direct == nil {
			s.direct = http.DefaultTransport
		}
	}
	return s
}

// do sends req, whose URL is t's. A client made by NewClient has no jar, no timeout and
// follows no redirect, so all that http.Client.Do would add is a copy of the request's
// headers (kept for redirects it never follows) and basic auth from the URL's user info:
// its transport is called directly, with that auth set here. A 3xx is then an answer
// whatever its Location, where http.Client fails the request on a Location it can't parse.
func (s *Sender) do(req *http.Request, t *target) (*http.Response, error) {
	if s.direct == nil {
		return s.client.Do(req)
	}
	if t.basicAuth != "" && req.Header.Get("Authorization") == "" {
		req.Header["Authorization"] = []string{t.basicAuth}
	}
	return s.direct.RoundTrip(req)
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
	return &http.Client{Transport: tr, CheckRedirect: noRedirects}
}

// noRedirects is the CheckRedirect of NewClient's clients: a 3xx is the answer.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

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
	t := s.targets.parse(target)
	if t.u == nil {
		return gateway.Outcome{Err: fmt.Errorf("endpoint URL %s: not an absolute URL", t.redacted)}
	}
	if t.u.Scheme != "https" && !(t.u.Scheme == "http" && s.policy.AllowPrivate) {
		return gateway.Outcome{Err: fmt.Errorf("endpoint URL %s: only https is allowed", t.redacted)}
	}
	now := m.Now
	if now.IsZero() {
		now = time.Now()
	}
	var keep [4]string
	sig, err := signature.Header(m.Endpoint.AppendSigningSecrets(keep[:0], now), m.Event.ID, now, body)
	if err != nil {
		return gateway.Outcome{Err: fmt.Errorf("POST %s: %w", t.redacted, err)}
	}
	// One map, sized for every header the request carries, and one array for the values of
	// the endpoint's headers, which Set would allocate one by one.
	h := make(http.Header, len(m.Endpoint.Headers)+len(header)+ownHeaders+1)
	vals := make([]string, 0, len(m.Endpoint.Headers))
	for k, v := range m.Endpoint.Headers {
		vals = append(vals, v)
		h[http.CanonicalHeaderKey(k)] = vals[len(vals)-1:]
	}
	for k, vs := range header {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	req := newRequest(ctx, t, h, body)
	setAuth(req, m.Endpoint.Auth)
	SetHeaders(h, m, now, sig)

	resp, err := s.do(req, t)
	if err != nil {
		return gateway.Outcome{Err: redact(ctx, err, target, t), Sent: body}
	}
	defer resp.Body.Close()
	out := gateway.Outcome{StatusCode: resp.StatusCode, RetryAfter: RetryAfter(resp.Header.Get("Retry-After"), time.Now()), Sent: body}
	// The status line is the answer; a body cut short (or slower than ctx) doesn't change it.
	out.Body, err = readAnswer(resp.Body)
	if s.log.Enabled(ctx, slog.LevelDebug) {
		log := s.log.With("kind", m.Endpoint.Kind, "endpoint", m.Endpoint.ID, "delivery", m.Delivery.ID, "url", t.redacted, "status", resp.StatusCode)
		if err != nil {
			log = log.With("body_err", redact(ctx, err, target, t))
		}
		log.DebugContext(ctx, "endpoint answered")
	}
	return out
}

// newRequest is http.NewRequestWithContext(ctx, POST, t's URL, bytes.NewReader(body)) with
// h as its header, without parsing the URL again: t holds it parsed, shared read-only by
// every request to it (neither the client nor the transport changes a request's URL).
func newRequest(ctx context.Context, t *target, h http.Header, body []byte) *http.Request {
	req := &http.Request{
		Method: http.MethodPost, URL: t.u, Host: t.host, Header: h,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		ContentLength: int64(len(body)),
		Body:          http.NoBody,
		GetBody:       func() (io.ReadCloser, error) { return http.NoBody, nil },
	}
	if len(body) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return req.WithContext(ctx)
}

// answers recycles the buffers an answer is read into.
var answers = sync.Pool{New: func() any { return new([gateway.MaxResponseBody]byte) }}

// readAnswer reads the first MaxResponseBody bytes of an answer, then discards up to
// maxDrain more so that the connection can be reused (past that it is closed instead). It
// returns a copy of what it kept, nil for an empty answer, and the first read error other
// than io.EOF.
func readAnswer(r io.Reader) ([]byte, error) {
	buf := answers.Get().(*[gateway.MaxResponseBody]byte)
	defer answers.Put(buf)
	n, err := 0, error(nil)
	for n < len(buf) && err == nil {
		var k int
		k, err = r.Read(buf[n:])
		n += k
	}
	var kept []byte
	if n > 0 {
		kept = bytes.Clone(buf[:n])
	}
	for drained := 0; err == nil && drained < maxDrain; {
		var k int
		k, err = r.Read(buf[:min(len(buf), maxDrain-drained)])
		drained += k
	}
	if err == io.EOF {
		err = nil
	}
	return kept, err
}

// ownHeaders counts the headers SetHeaders sets.
const ownHeaders = 7

// targets keeps the URLs posted to, parsed: each is parsed once, not once per attempt (an
// endpoint whose URL changes posts to a new key; see memo.Cache for how old ones go).
type targets struct {
	c memo.Cache[*target]
}

// target is a URL posted to, parsed.
type target struct {
	u         *url.URL // nil when the URL is not absolute (or not a URL)
	host      string   // the request's Host: u.Host without an empty port
	redacted  string   // gateway.RedactURL of the URL, for errors and logs
	basicAuth string   // the Authorization header of the URL's user info, as http.Client makes it
}

// parse returns raw parsed, from the cache when it is there.
func (c *targets) parse(raw string) *target {
	t, _ := c.c.Get(raw, parseTarget)
	return t
}

// parseTarget parses a URL posted to; it never fails (an unusable URL has a nil u).
func parseTarget(raw string) (*target, error) {
	t := &target{redacted: gateway.RedactURL(raw)}
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		t.u, t.host = u, strings.TrimSuffix(u.Host, ":")
		if u.User != nil {
			password, _ := u.User.Password()
			t.basicAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+password))
		}
	}
	return t, nil
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
	// One array for the seven values (Set would allocate each), under keys already in
	// canonical form (Set would canonicalise the lower-case Standard Webhooks names anew).
	v := [ownHeaders]string{"application/json", userAgent(), m.Event.Type, m.Delivery.ID, m.Event.ID, strconv.FormatInt(now.Unix(), 10), sig}
	vs := v[:]
	for i, k := range ownHeaderKeys {
		h[k] = vs[i : i+1 : i+1]
	}
}

// ownHeaderKeys are the names SetHeaders sets, in canonical form, in the order of its values.
var ownHeaderKeys = [ownHeaders]string{"Content-Type", "User-Agent", "X-Hookgate-Event", "X-Hookgate-Delivery",
	http.CanonicalHeaderKey(signature.HeaderID), http.CanonicalHeaderKey(signature.HeaderTimestamp), http.CanonicalHeaderKey(signature.HeaderSignature)}

// ua is the User-Agent made from the gateway.Version it names.
type ua struct{ version, header string }

var lastUA atomic.Pointer[ua]

// userAgent returns "hookgate/" + gateway.Version, made once per version rather than per request.
func userAgent() string {
	if u := lastUA.Load(); u != nil && u.version == gateway.Version {
		return u.header
	}
	u := &ua{version: gateway.Version, header: "hookgate/" + gateway.Version}
	lastUA.Store(u)
	return u.header
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
func redact(ctx context.Context, err error, raw string, t *target) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	text, u := err.Error(), t.u
	for _, s := range []string{raw, u.String(), u.RawQuery, u.EscapedPath(), u.Path, u.User.String()} {
		if len(s) > 1 {
			text = strings.ReplaceAll(text, s, "<redacted>")
		}
	}
	return &redactedError{text: "POST " + t.redacted + ": " + text, errs: []error{err, ctx.Err()}}
}

// redactedError is an error whose text has been scrubbed of credentials; Unwrap gives the
// causes for errors.Is and errors.As.
type redactedError struct {
	text string
	errs []error // the cause, and ctx.Err() (nil while ctx is live)
}

func (e *redactedError) Error() string   { return e.text }
func (e *redactedError) Unwrap() []error { return e.errs }

// Package webhook is the outbound sender for plain HTTPS endpoints: one signed POST per
// attempt, Standard Webhooks headers, no redirects, and an SSRF guard enforced when dialing.
//
// The guard runs in the dialer's Control hook, after DNS resolution, so a hostname that
// resolves (or is rebound) to a private, loopback or link-local address is refused however the
// request got there, redirects included (which are not followed anyway).
//
// # Example
//
//	s := webhook.New(webhook.Options{Policy: gateway.URLPolicy{}})
//	out := s.Send(ctx, &gateway.Message{Delivery: d, Endpoint: ep, Event: ev, Body: ev.Body(), Now: time.Now()})
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
	"syscall"
	"time"

	"github.com/hookgate/hookgate/connectors/signature"
	"github.com/hookgate/hookgate/gateway"
)

// Options configures a Sender.
type Options struct {
	// Policy decides which addresses may be dialed and whether http:// is allowed.
	Policy gateway.URLPolicy
	// Client replaces the built-in HTTP client (tests); it must not follow redirects.
	Client *http.Client
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Sender delivers to webhook endpoints. It is safe for concurrent use.
type Sender struct {
	policy gateway.URLPolicy
	client *http.Client
	log    *slog.Logger
}

var _ gateway.Sender = (*Sender)(nil)

// New returns a Sender with a pooled HTTP client built for many concurrent deliveries.
func New(opts Options) *Sender {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Sender{policy: opts.Policy, client: opts.Client, log: opts.Logger}
	if s.client == nil {
		s.client = NewClient(opts.Policy)
	}
	return s
}

// NewClient returns the HTTP client senders share: pooled keep-alive connections, HTTP/2
// where offered, no redirects, and the policy's address check on every dial.
func NewClient(policy gateway.URLPolicy) *http.Client {
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
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
		ResponseHeaderTimeout: 0, // the attempt's context bounds the whole exchange
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// maxDrain is how much of a long answer is read (and discarded) past MaxResponseBody so
// the connection can be reused.
const maxDrain = 64 << 10

// Send makes one attempt.
func (s *Sender) Send(ctx context.Context, m *gateway.Message) gateway.Outcome {
	u, err := url.Parse(m.Endpoint.URL)
	if err != nil || (u.Scheme != "https" && !(u.Scheme == "http" && s.policy.AllowPrivate)) {
		return gateway.Outcome{Err: fmt.Errorf("endpoint URL %s: only https is allowed", gateway.RedactURL(m.Endpoint.URL))}
	}
	sig, err := signature.Header(m.Endpoint.SigningSecrets(m.Now), m.Event.ID, m.Now, m.Body)
	if err != nil {
		return gateway.Outcome{Err: fmt.Errorf("sign: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.Endpoint.URL, bytes.NewReader(m.Body))
	if err != nil {
		return gateway.Outcome{Err: fmt.Errorf("build request to %s: %w", gateway.RedactURL(m.Endpoint.URL), errors.Unwrap(err))}
	}
	for k, v := range m.Endpoint.Headers {
		req.Header.Set(k, v)
	}
	SetHeaders(req.Header, m, sig)
	resp, err := s.client.Do(req)
	if err != nil {
		return gateway.Outcome{Err: redact(err, m.Endpoint.URL)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, gateway.MaxResponseBody))
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrain))
	out := gateway.Outcome{StatusCode: resp.StatusCode, Body: body, RetryAfter: RetryAfter(resp.Header.Get("Retry-After"), m.Now)}
	if err != nil && ctx.Err() != nil {
		out.Err = redact(err, m.Endpoint.URL)
	}
	return out
}

// SetHeaders sets the headers every hookgate delivery carries; sig is the
// webhook-signature value. Senders of other kinds call it too.
func SetHeaders(h http.Header, m *gateway.Message, sig string) {
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "hookgate/"+gateway.Version)
	h.Set("X-Hookgate-Event", m.Event.Type)
	h.Set("X-Hookgate-Delivery", m.Delivery.ID)
	h.Set(signature.HeaderID, m.Event.ID)
	h.Set(signature.HeaderTimestamp, strconv.FormatInt(m.Now.Unix(), 10))
	h.Set(signature.HeaderSignature, sig)
}

// RetryAfter parses a Retry-After value (seconds or an HTTP date) relative to now; 0 when
// absent or unreadable.
func RetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// redact strips the URL (a credential for catch-hook endpoints) from a client error,
// keeping the cause.
func redact(err error, raw string) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("POST %s: %w", gateway.RedactURL(raw), context.DeadlineExceeded)
	}
	return fmt.Errorf("POST %s: %w", gateway.RedactURL(raw), err)
}

// Package makecom is the outbound Sender for Make (make.com) custom webhooks; it is not
// named make because that would shadow the builtin in every file that imports it, and
// its folder, connectors/makecom, bears the same name. The endpoint's URL is the webhook's address
// (https://hook.eu1.make.com/<token>); each attempt POSTs the payload as a plain webhook
// does (see connectors/webhook), plus x-make-apikey when the endpoint has an api_key (the
// webhook's API key restriction).
//
// Make answers 200 with the body "Accepted" when it queued the payload, 429 when the
// webhook is over its rate (about 300 requests per 10 s; the dispatcher honours
// Retry-After) and 410 when the webhook is deactivated or deleted: a subscription Make
// made through POST /v1/make/hooks is then deleted, an endpoint a user created through
// /v1/endpoints is disabled. CheckEndpoint sets rate_limit_per_s to 25 when it is unset, to stay under that
// rate.
//
// # Example
//
//	s := makecom.New(makecom.Options{Policy: gateway.URLPolicy{}})
//	out := s.Send(ctx, m) // m.Endpoint.URL = "https://hook.eu1.make.com/abc123"
package makecom

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/gateway"
)

// Kind is the endpoint kind this package sends to.
const Kind = "make"

// HeaderAPIKey carries the endpoint's api_key.
const HeaderAPIKey = "x-make-apikey"

// DefaultRateLimit is the rate (deliveries per second) CheckEndpoint sets when none is
// given, and MaxRateLimit the highest it accepts: Make takes about 300 requests per 10 s
// per webhook.
const (
	DefaultRateLimit = 25
	MaxRateLimit     = 30
)

// Options configures a Sender: the webhook Sender's options, whose client it uses.
type Options = webhook.Options

// Sender delivers to Make custom webhooks. It is safe for concurrent use.
type Sender struct {
	post *webhook.Sender
}

var (
	_ gateway.Sender            = (*Sender)(nil)
	_ gateway.SettingsChecker   = (*Sender)(nil)
	_ gateway.SettingsDescriber = (*Sender)(nil)
	_ gateway.SettingsRedactor  = (*Sender)(nil)
)

// New returns a Sender.
func New(opts Options) *Sender { return &Sender{post: webhook.New(opts)} }

// Send makes one POST of m's payload to the webhook's URL, with x-make-apikey when the
// endpoint has an api_key.
func (s *Sender) Send(ctx context.Context, m *gateway.Message) gateway.Outcome {
	if m == nil || m.Endpoint == nil {
		return gateway.Outcome{Err: errors.New("make: incomplete message")}
	}
	var st Settings
	if err := gateway.DecodeSettings(m.Endpoint, &st); err != nil {
		return gateway.Outcome{Err: fmt.Errorf("make: %w", err)}
	}
	var h http.Header
	if st.APIKey != "" {
		h = http.Header{http.CanonicalHeaderKey(HeaderAPIKey): {st.APIKey}}
	}
	return s.post.Post(ctx, m, m.Endpoint.URL, m.Body, h)
}

// CheckEndpoint sets rate_limit_per_s to DefaultRateLimit when it is 0 and refuses one
// above MaxRateLimit; refuses an api_key that is not one line of printable characters;
// and refuses any setting a Make endpoint does not read (see Settings).
func (s *Sender) CheckEndpoint(ep *gateway.Endpoint) error {
	var st Settings
	if err := gateway.DecodeSettings(ep, &st); err != nil {
		return err
	}
	switch {
	case ep.RateLimitPerS == 0:
		ep.RateLimitPerS = DefaultRateLimit
	case ep.RateLimitPerS < 0 || ep.RateLimitPerS > MaxRateLimit:
		return &gateway.ValidationError{Field: "rate_limit_per_s", Message: fmt.Sprintf("must be between 0 (the default, %d) and %d: Make accepts about 300 requests per 10 s per webhook", DefaultRateLimit, MaxRateLimit)}
	}
	if k := st.APIKey; len(k) > 256 || strings.IndexFunc(k, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
		return &gateway.ValidationError{Field: "api_key", Message: "must be one line of at most 256 printable ASCII characters"}
	}
	return nil
}

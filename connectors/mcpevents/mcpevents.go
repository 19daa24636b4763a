// Package mcpevents is the outbound Sender for MCP Events webhook subscriptions (endpoint
// kind gateway.KindMCPEvents, SEP-3415): one event occurrence per POST,
//
//	{"eventId":"evt_…","name":"video.posted","timestamp":"2026-06-24T14:00:05.123Z","data":{…},"cursor":"42"}
//
// signed with Standard Webhooks (webhook-id is the eventId; the subscriber's secret, and
// during a rotation the previous one too) and carrying X-MCP-Subscription-Id, the
// subscription's id. A body over gateway.MaxOccurrenceBytes (256 KiB) is not sent and not
// retried. Requests go through the webhook package's address-guarded client: no redirects,
// the SSRF guard at dial time.
//
// Challenge is the verification handshake: before a new callback URL gets anything, it is
// POSTed {"type":"verification","challenge":"<nonce>"} (signed, webhook-id
// msg_verification_<random>) and must answer 2xx with {"challenge":"<nonce>"}.
package mcpevents

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/gateway"
)

// HeaderSubscriptionID carries the subscription's id on every delivery and challenge.
const HeaderSubscriptionID = "X-MCP-Subscription-Id"

// ChallengeTimeout bounds the verification POST.
const ChallengeTimeout = 10 * time.Second

// Sender delivers to MCP Events subscriptions. It is safe for concurrent use.
type Sender struct {
	hook *webhook.Sender
}

var (
	_ gateway.Sender     = (*Sender)(nil)
	_ gateway.Challenger = (*Sender)(nil)
)

// New returns a Sender that posts through webhook.New(opts).
func New(opts webhook.Options) *Sender {
	return &Sender{hook: webhook.New(opts)}
}

// Send POSTs the occurrence of m's event.
func (s *Sender) Send(ctx context.Context, m *gateway.Message) gateway.Outcome {
	if m == nil || m.Endpoint == nil || m.Event == nil {
		return gateway.Outcome{Err: errors.New("mcpevents: incomplete message")}
	}
	body, err := json.Marshal(gateway.OccurrenceOf(m.Event, m.Seq))
	if err != nil {
		return gateway.Outcome{Err: fmt.Errorf("mcpevents: encode the occurrence: %w", err)}
	}
	if len(body) > gateway.MaxOccurrenceBytes {
		return gateway.Outcome{Err: fmt.Errorf("%w: the occurrence is %d bytes, over the %d bytes an MCP Events delivery may be", gateway.ErrUndeliverable, len(body), gateway.MaxOccurrenceBytes)}
	}
	return s.hook.Post(ctx, m, m.Endpoint.URL, body, http.Header{HeaderSubscriptionID: {m.Endpoint.ID}})
}

// Challenge POSTs a signed verification challenge to ep's URL and checks that the answer
// echoes it. A failure is a *gateway.CallbackError whose Reason is a category, never the
// endpoint's answer.
func (s *Sender) Challenge(ctx context.Context, ep *gateway.Endpoint, now time.Time) error {
	nonce, err := random(24)
	if err != nil {
		return err
	}
	msgID, err := random(8)
	if err != nil {
		return err
	}
	msgID = "msg_verification_" + msgID
	body, err := json.Marshal(map[string]string{"type": "verification", "challenge": nonce})
	if err != nil {
		return fmt.Errorf("mcpevents: encode the challenge: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, ChallengeTimeout)
	defer cancel()
	m := &gateway.Message{
		Delivery: &gateway.Delivery{ID: msgID, EndpointID: ep.ID},
		Endpoint: ep,
		Event:    &gateway.Event{ID: msgID, Type: "verification", Created: now},
		Attempt:  1,
		Now:      now,
	}
	out := s.hook.Post(ctx, m, ep.URL, body, http.Header{HeaderSubscriptionID: {ep.ID}})
	switch {
	case out.Err != nil:
		return &gateway.CallbackError{Reason: reason(out.Err), Err: out.Err}
	case out.StatusCode >= 500:
		return &gateway.CallbackError{Reason: gateway.ReasonHTTP5xx, Err: fmt.Errorf("the callback answered %d", out.StatusCode)}
	case out.StatusCode < 200 || out.StatusCode > 299:
		return &gateway.CallbackError{Reason: gateway.ReasonHTTP4xx, Err: fmt.Errorf("the callback answered %d", out.StatusCode)}
	}
	var echo struct {
		Challenge string `json:"challenge"`
	}
	if json.Unmarshal(out.Body, &echo) != nil || subtle.ConstantTimeCompare([]byte(echo.Challenge), []byte(nonce)) != 1 {
		return &gateway.CallbackError{Reason: gateway.ReasonChallengeFailed, Err: errors.New(`the callback did not answer {"challenge": <the challenge it was sent>}`)}
	}
	return nil
}

// reason sorts a transport failure into MCP Events' categories.
func reason(err error) string {
	var (
		verr *tls.CertificateVerificationError
		herr x509.HostnameError
		uerr x509.UnknownAuthorityError
		rerr tls.RecordHeaderError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return gateway.ReasonTimeout
	case errors.As(err, &verr), errors.As(err, &herr), errors.As(err, &uerr), errors.As(err, &rerr):
		return gateway.ReasonTLS
	default:
		return gateway.ReasonConnectionRefused
	}
}

// random returns n random bytes in hex.
func random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("mcpevents: random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

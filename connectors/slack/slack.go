// Package slack is the outbound Sender for Slack incoming webhooks: the endpoint's URL is
// the webhook's address (https://hooks.slack.com/services/T…/B…/…, a credential), and each
// attempt POSTs {"text": …} to it through the same address-guarded client as a plain
// webhook (see connectors/webhook).
//
// The text comes from the endpoint's template, a Go text/template over the payload, or a
// default for the event's type ("Video posted on {{.data.platform}}: {{.data.post_url}}");
// see connectors/render. Strings of the payload are escaped for Slack (&, <, >) so that an
// event can't ping @channel or forge a link; the template's own text is not, so it may use
// Slack's <url|label> links. Text longer than MaxText is cut.
//
// Slack answers 200 "ok"; 400 invalid_payload or no_text, 403 action_prohibited, 404
// no_service (the webhook was removed) and 410 channel_is_archived, which disables the
// endpoint. A template that fails on an event is an error of the attempt, retried like any.
//
// # Example
//
//	s := slack.New(slack.Options{Policy: gateway.URLPolicy{}})
//	out := s.Send(ctx, m) // m.Endpoint.URL = "https://hooks.slack.com/services/T000/B000/XXXX"
package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hookgate/hookgate/connectors/render"
	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/gateway"
)

// Kind is the endpoint kind this package sends to.
const Kind = "slack"

// MaxText is the longest text sent, in characters; Slack truncates past 40,000.
const MaxText = 40000

// Options configures a Sender: the webhook Sender's options, whose client it uses.
type Options = webhook.Options

// Sender delivers to Slack incoming webhooks. It is safe for concurrent use.
type Sender struct {
	post *webhook.Sender
}

var (
	_ gateway.Sender            = (*Sender)(nil)
	_ gateway.SettingsChecker   = (*Sender)(nil)
	_ gateway.SettingsDescriber = (*Sender)(nil)
)

// New returns a Sender.
func New(opts Options) *Sender { return &Sender{post: webhook.New(opts)} }

// Send renders m's text and makes one POST of {"text": …} to the webhook's URL.
func (s *Sender) Send(ctx context.Context, m *gateway.Message) gateway.Outcome {
	if m == nil || m.Endpoint == nil {
		return gateway.Outcome{Err: errors.New("slack: incomplete message")}
	}
	var st Settings
	if err := gateway.DecodeSettings(m.Endpoint, &st); err != nil {
		return gateway.Outcome{Err: fmt.Errorf("slack: %w", err)}
	}
	text, err := render.Text(m, st.Template, render.Options{Limit: MaxText, Escape: Escape})
	if err != nil {
		return gateway.Outcome{Err: fmt.Errorf("slack: template: %w", err)}
	}
	body, err := json.Marshal(struct {
		Text string `json:"text"`
	}{text})
	if err != nil {
		return gateway.Outcome{Err: fmt.Errorf("slack: %w", err)}
	}
	return s.post.Post(ctx, m, m.Endpoint.URL, body, nil)
}

// CheckEndpoint refuses a template that does not parse or fails on a sample envelope
// (see render.Check), and any setting a Slack endpoint does not read (see Settings).
func (s *Sender) CheckEndpoint(ep *gateway.Endpoint) error {
	var st Settings
	if err := gateway.DecodeSettings(ep, &st); err != nil {
		return err
	}
	return render.Check(st.Template, ep)
}

// escaper escapes Slack's control characters in message text.
var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Escape escapes &, < and > as Slack's message text requires.
func Escape(s string) string { return escaper.Replace(s) }

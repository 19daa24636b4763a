// Package telegram is the outbound Sender for Telegram bots: each attempt calls the Bot
// API's sendMessage, POST {url}/bot<bot_token>/sendMessage with {"chat_id", "text"},
// through the same address-guarded client as a plain webhook (see connectors/webhook).
// The endpoint's URL is the Bot API server, https://api.telegram.org unless it says
// otherwise (a local Bot API server, a test stand-in).
//
// The text comes from the endpoint's template, a Go text/template over the payload, or a
// default for the event's type, as for Slack (see connectors/render); it is sent as plain
// text (no parse_mode) and cut at MaxText characters.
//
// Telegram answers 200 {"ok":true,…}; 429 {"ok":false,"parameters":{"retry_after":N}},
// which becomes the Outcome's RetryAfter; 400 (chat not found…) and 403 (the bot was
// blocked or removed from the chat), which the dispatcher retries until it gives up.
//
// The bot token is a credential: it is in the request path only, and errors and logs name
// the server by scheme and host.
//
// # Example
//
//	s := telegram.New(telegram.Options{Policy: gateway.URLPolicy{}})
//	out := s.Send(ctx, m) // m.Endpoint.Settings = {"bot_token":"123456:ABC…","chat_id":"-1001234567890"}
package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/hookgate/hookgate/connectors/render"
	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/gateway"
)

// Kind is the endpoint kind this package sends to.
const Kind = "telegram"

// DefaultURL is the Bot API server used when an endpoint names none.
const DefaultURL = "https://api.telegram.org"

// MaxText is the longest text sent, in characters; sendMessage takes at most 4096.
const MaxText = 4096

// Options configures a Sender: the webhook Sender's options, whose client it uses.
type Options = webhook.Options

// Sender delivers to Telegram chats through a bot. It is safe for concurrent use.
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

// sendMessage is the body of the Bot API's sendMessage. chat_id is sent as a string: the
// API takes a numeric id or an @channel name either way.
type sendMessage struct {
	ChatID string `json:"chat_id"`
	Text   string `json:"text"`
}

// Send renders m's text and makes one sendMessage call to the endpoint's chat.
func (s *Sender) Send(ctx context.Context, m *gateway.Message) gateway.Outcome {
	if m == nil || m.Endpoint == nil {
		return gateway.Outcome{Err: errors.New("telegram: incomplete message")}
	}
	ep := m.Endpoint
	var st Settings
	if err := gateway.DecodeSettings(ep, &st); err != nil {
		return gateway.Outcome{Err: fmt.Errorf("telegram: %w", err)}
	}
	if st.BotToken == "" || st.ChatID == "" {
		return gateway.Outcome{Err: errors.New("telegram: the endpoint has no bot_token or chat_id")}
	}
	text, err := render.Text(m, st.Template, render.Options{Limit: MaxText})
	if err != nil {
		return gateway.Outcome{Err: fmt.Errorf("telegram: template: %w", err)}
	}
	body, err := json.Marshal(sendMessage{ChatID: st.ChatID, Text: text})
	if err != nil {
		return gateway.Outcome{Err: fmt.Errorf("telegram: %w", err)}
	}
	base := ep.URL
	if base == "" {
		base = DefaultURL
	}
	out := s.post.Post(ctx, m, strings.TrimRight(base, "/")+"/bot"+st.BotToken+"/sendMessage", body, nil)
	if out.StatusCode == http.StatusTooManyRequests && out.RetryAfter == 0 {
		out.RetryAfter = RetryAfter(out.Body)
	}
	return out
}

// RetryAfter reads parameters.retry_after (seconds) from a Bot API error answer; it is 0
// when the answer has none.
func RetryAfter(answer []byte) time.Duration {
	var a struct {
		Parameters struct {
			RetryAfter int64 `json:"retry_after"`
		} `json:"parameters"`
	}
	if json.Unmarshal(answer, &a) != nil || a.Parameters.RetryAfter <= 0 {
		return 0
	}
	return time.Duration(min(a.Parameters.RetryAfter, int64(24*time.Hour/time.Second))) * time.Second
}

var (
	botToken = regexp.MustCompile(`^[0-9]+:[A-Za-z0-9_-]+$`)
	chatID   = regexp.MustCompile(`^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{3,31})$`)
)

// CheckEndpoint sets url to DefaultURL when it is empty and refuses one with a query or
// a /bot path (the token goes in bot_token, which API answers mask, not in the URL);
// requires bot_token, as BotFather gives it (<digits>:<token>), and chat_id, a numeric
// chat id (-100… for channels and supergroups) or an @channel username; refuses a
// template that does not parse or fails on a sample envelope (see render.Check); and
// refuses any setting a Telegram endpoint does not read (see Settings).
func (s *Sender) CheckEndpoint(ep *gateway.Endpoint) error {
	var st Settings
	if err := gateway.DecodeSettings(ep, &st); err != nil {
		return err
	}
	if ep.URL == "" {
		ep.URL = DefaultURL
	}
	if u, err := url.Parse(ep.URL); err == nil && (u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.Contains(u.Path, "/bot")) {
		return &gateway.ValidationError{Field: "url", Message: "must be the Bot API server's base URL, such as " + DefaultURL + ", without a path to a bot or a query: the token goes in bot_token"}
	}
	if !botToken.MatchString(st.BotToken) {
		return &gateway.ValidationError{Field: "bot_token", Message: "is required: the token BotFather gave, <digits>:<letters, digits, _ or ->"}
	}
	if !chatID.MatchString(st.ChatID) {
		return &gateway.ValidationError{Field: "chat_id", Message: "is required: a numeric chat id (-100… for a channel or supergroup) or an @channel username"}
	}
	return render.Check(st.Template, ep)
}

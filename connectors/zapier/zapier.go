// Package zapier is the outbound Sender for Zapier REST Hooks: the endpoint's URL is the
// hookUrl Zapier handed over when a Zap subscribed (https://hooks.zapier.com/hooks/…),
// and each attempt POSTs one JSON object to it, signed and with the same headers as a
// plain webhook (see connectors/webhook), through the same address-guarded client.
//
// Zapier runs a Zap once per object it receives (an array would run it once per item), so
// a payload that is not an object, such as a mapping's array or number, is sent wrapped
// as {"data": …}. Zapier answers 410 Gone when the Zap was turned off or deleted. A
// subscription Zapier made through POST /v1/zapier/hooks belongs to Zapier and is then
// deleted (Zapier's unsubscribe rule); an endpoint a user created through /v1/endpoints is
// only disabled, as any endpoint that answers 410.
//
// # Example
//
//	s := zapier.New(zapier.Options{Policy: gateway.URLPolicy{}})
//	out := s.Send(ctx, m) // m.Endpoint.URL = "https://hooks.zapier.com/hooks/standard/…"
package zapier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"

	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/gateway"
)

// Kind is the endpoint kind this package sends to.
const Kind = "zapier"

// Options configures a Sender: the webhook Sender's options, whose client it uses.
type Options = webhook.Options

// Sender delivers to Zapier REST Hook subscriptions. It is safe for concurrent use.
type Sender struct {
	post *webhook.Sender
}

var (
	_ gateway.Sender          = (*Sender)(nil)
	_ gateway.SettingsChecker = (*Sender)(nil)
)

// New returns a Sender.
func New(opts Options) *Sender { return &Sender{post: webhook.New(opts)} }

// Send makes one POST of m's payload, as a JSON object, to the endpoint's hook URL.
func (s *Sender) Send(ctx context.Context, m *gateway.Message) gateway.Outcome {
	if m == nil || m.Endpoint == nil {
		return gateway.Outcome{Err: errors.New("zapier: incomplete message")}
	}
	body, err := Object(m.Body)
	if err != nil {
		return gateway.Outcome{Err: err}
	}
	return s.post.Post(ctx, m, m.Endpoint.URL, body, nil)
}

// CheckEndpoint refuses every kind setting (another kind's template, chat_id, api_key…,
// named in the error): a Zapier endpoint takes none. Header or basic auth, headers and a
// mapping are allowed.
func (s *Sender) CheckEndpoint(ep *gateway.Endpoint) error {
	return gateway.DecodeSettings(ep, &struct{}{})
}

// Object returns payload when it is a JSON object, else the payload wrapped as
// {"data": payload}; it fails when payload is not JSON.
func Object(payload []byte) ([]byte, error) {
	trimmed := bytes.TrimLeft(payload, " \t\r\n")
	if !json.Valid(trimmed) {
		return nil, errors.New("zapier: the payload is not JSON")
	}
	if trimmed[0] == '{' {
		return payload, nil
	}
	return json.Marshal(struct {
		Data json.RawMessage `json:"data"`
	}{trimmed})
}

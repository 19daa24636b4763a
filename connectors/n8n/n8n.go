// Package n8n is the outbound Sender for n8n's Webhook node: the endpoint's URL is the
// node's test URL (https://n8n.example.com/webhook-test/<path>, live only while the editor
// listens for a test event) or its production URL (…/webhook/<path>, live once the
// workflow is active). Each attempt POSTs the payload as a plain webhook does (see
// connectors/webhook), with the endpoint's auth matching the node's Authentication:
// Header Auth ({"type":"header","name":"X-N8N-Key","value":"…"}) or Basic Auth
// ({"type":"basic","username":"…","password":"…"}). n8n answers 401 or 403 when they
// don't match, 404 when the workflow is not active or not listening, and the dispatcher
// retries.
//
// docs/n8n-workflow.json is a workflow to import, with no credential to attach, that
// receives video.posted, checks the type, branches on the platform and answers once the run
// has finished (so a failed run is retried); docs/n8n-verify-signature.js checks hookgate's
// signature over the raw body in a Code node.
//
// # Example
//
//	s := n8n.New(n8n.Options{Policy: gateway.URLPolicy{}})
//	out := s.Send(ctx, m) // m.Endpoint.URL = "https://n8n.example.com/webhook/hookgate-video-posted"
package n8n

import (
	"context"

	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/gateway"
)

// Kind is the endpoint kind this package sends to.
const Kind = "n8n"

// Options configures a Sender: the webhook Sender's options, whose client it uses.
type Options = webhook.Options

// Sender delivers to n8n Webhook nodes. It is safe for concurrent use.
type Sender struct {
	post *webhook.Sender
}

var (
	_ gateway.Sender          = (*Sender)(nil)
	_ gateway.SettingsChecker = (*Sender)(nil)
)

// New returns a Sender.
func New(opts Options) *Sender { return &Sender{post: webhook.New(opts)} }

// Send makes one POST of m's payload to the node's URL, with the endpoint's auth.
func (s *Sender) Send(ctx context.Context, m *gateway.Message) gateway.Outcome {
	return s.post.Send(ctx, m)
}

// CheckEndpoint accepts no auth, header auth (name and value) or basic auth (a username),
// the n8n Webhook node's options besides JWT, and refuses every kind setting (another
// kind's template, chat_id, api_key…, named in the error): an n8n endpoint takes none.
// Test and production URLs are both accepted as they are.
func (s *Sender) CheckEndpoint(ep *gateway.Endpoint) error {
	if a := ep.Auth; a != nil {
		switch a.Type {
		case "header":
			if a.Name == "" || a.Value == "" {
				return &gateway.ValidationError{Field: "auth", Message: `header auth needs "name" (the header the Webhook node's credential names) and "value"`}
			}
		case "basic":
			if a.Username == "" {
				return &gateway.ValidationError{Field: "auth.username", Message: "is required for basic auth"}
			}
		default:
			return &gateway.ValidationError{Field: "auth.type", Message: `must be "header" or "basic" (n8n's Header Auth or Basic Auth)`}
		}
	}
	return gateway.DecodeSettings(ep, &struct{}{})
}

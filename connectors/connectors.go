// Package connectors lists everything hookgate talks to at its edge, in one place: the
// outbound Senders by endpoint kind. There is no registration by init(): what Senders
// returns is all there is.
package connectors

import (
	"log/slog"

	"github.com/hookgate/hookgate/connectors/makecom"
	"github.com/hookgate/hookgate/connectors/mcpevents"
	"github.com/hookgate/hookgate/connectors/n8n"
	"github.com/hookgate/hookgate/connectors/slack"
	"github.com/hookgate/hookgate/connectors/telegram"
	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/connectors/zapier"
	"github.com/hookgate/hookgate/gateway"
)

// Options configures the connectors.
type Options struct {
	// Policy decides which addresses outbound senders may dial.
	Policy gateway.URLPolicy
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Senders returns the outbound Sender for each endpoint kind: webhook, zapier, make, n8n,
// slack, telegram, and mcp-events (the endpoints MCP Events subscriptions own). They share one address-guarded HTTP client (webhook.NewClient), so
// one pool of connections.
func Senders(opts Options) map[string]gateway.Sender {
	o := webhook.Options{Policy: opts.Policy, Client: webhook.NewClient(opts.Policy), Logger: opts.Logger}
	return map[string]gateway.Sender{
		gateway.KindWebhook:   webhook.New(o),
		zapier.Kind:           zapier.New(o),
		makecom.Kind:          makecom.New(o),
		n8n.Kind:              n8n.New(o),
		slack.Kind:            slack.New(o),
		telegram.Kind:         telegram.New(o),
		gateway.KindMCPEvents: mcpevents.New(o),
	}
}

// Package connectors lists everything hookgate talks to at its edge, in one place: the
// outbound Senders by endpoint kind. There is no registration by init(): what Senders
// returns is all there is.
package connectors

import (
	"log/slog"

	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/gateway"
)

// Options configures the connectors.
type Options struct {
	// Policy decides which addresses outbound senders may dial.
	Policy gateway.URLPolicy
	// Logger; default slog.Default().
	Logger *slog.Logger
}

// Senders returns the outbound Sender for each endpoint kind.
func Senders(opts Options) map[string]gateway.Sender {
	return map[string]gateway.Sender{
		gateway.KindWebhook: webhook.New(webhook.Options{Policy: opts.Policy, Logger: opts.Logger}),
	}
}

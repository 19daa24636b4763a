package webhook

import (
	"fmt"
	"slices"

	"github.com/hookgate/hookgate/gateway"
)

// CheckUnused refuses the per-kind settings (template, chat_id, bot_token, api_key) that
// an endpoint of ep.Kind does not read, other than those named in used, so that a setting
// meant for another kind is not silently ignored. The error is a *gateway.ValidationError
// naming the setting. Senders of other kinds call it from their CheckEndpoint.
func CheckUnused(ep *gateway.Endpoint, used ...string) error {
	for _, s := range []struct{ field, value string }{
		{"template", ep.Template},
		{"chat_id", ep.ChatID},
		{"bot_token", ep.BotToken},
		{"api_key", ep.APIKey},
	} {
		if s.value != "" && !slices.Contains(used, s.field) {
			return &gateway.ValidationError{Field: s.field, Message: fmt.Sprintf("is not used by %s endpoints", ep.Kind)}
		}
	}
	return nil
}

package slack

import "github.com/hookgate/hookgate/gateway"

// Settings are a Slack endpoint's own settings, inline in its JSON (see
// gateway.Endpoint.Settings). The webhook's URL, a credential too, is the endpoint's url.
type Settings struct {
	// Template is a Go text/template over the delivered payload; empty: the default text of
	// the event's type (see connectors/render).
	Template string `json:"template,omitempty"`
}

// SettingsFields lists a Slack endpoint's settings: its template.
func (s *Sender) SettingsFields() []gateway.SettingField {
	return []gateway.SettingField{{Key: "template", Label: "Message template", Multiline: true,
		Help: "A Go text/template over the payload, such as New order {{.data.order}}; empty: the event type's default text."}}
}

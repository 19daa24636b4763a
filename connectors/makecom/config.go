package makecom

import (
	"encoding/json"

	"github.com/hookgate/hookgate/gateway"
)

// Settings are a Make endpoint's own settings, inline in its JSON (see
// gateway.Endpoint.Settings): {"api_key":"mk-…"}.
type Settings struct {
	// APIKey is sent as x-make-apikey, when the webhook restricts calls to an API key: a
	// credential, masked in answers.
	APIKey string `json:"api_key,omitempty"`
}

// RedactSettings returns settings with the API key masked (gateway.Mask), as answers show
// them; settings that are not a Make endpoint's come back as they are.
func (s *Sender) RedactSettings(settings json.RawMessage) json.RawMessage {
	var st Settings
	if json.Unmarshal(settings, &st) != nil || st.APIKey == "" {
		return settings
	}
	st.APIKey = gateway.Mask(st.APIKey)
	b, err := json.Marshal(st)
	if err != nil {
		return settings
	}
	return b
}

// SettingsFields lists a Make endpoint's settings: its API key.
func (s *Sender) SettingsFields() []gateway.SettingField {
	return []gateway.SettingField{{Key: "api_key", Label: "API key", Secret: true,
		Help: "Sent as x-make-apikey, when the Make webhook restricts calls to an API key."}}
}

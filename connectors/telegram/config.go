package telegram

import (
	"encoding/json"

	"github.com/hookgate/hookgate/gateway"
)

// Settings are a Telegram endpoint's own settings, inline in its JSON (see
// gateway.Endpoint.Settings): {"chat_id":"-1001234567890","bot_token":"123456:ABC…"}.
type Settings struct {
	// Template is a Go text/template over the delivered payload; empty: the default text of
	// the event's type (see connectors/render).
	Template string `json:"template,omitempty"`
	// ChatID is the chat to post to: a numeric id (-100… for a channel or supergroup) or an
	// @channel username.
	ChatID string `json:"chat_id,omitempty"`
	// BotToken is the bot's token, as BotFather gives it: a credential, masked in answers.
	BotToken string `json:"bot_token,omitempty"`
}

// RedactSettings returns settings with the bot token masked (gateway.Mask), as answers
// show them; settings that are not a Telegram endpoint's come back as they are.
func (s *Sender) RedactSettings(settings json.RawMessage) json.RawMessage {
	var st Settings
	if json.Unmarshal(settings, &st) != nil || st.BotToken == "" {
		return settings
	}
	st.BotToken = gateway.Mask(st.BotToken)
	b, err := json.Marshal(st)
	if err != nil {
		return settings
	}
	return b
}

// SettingsFields lists a Telegram endpoint's settings: chat, bot token and template.
func (s *Sender) SettingsFields() []gateway.SettingField {
	return []gateway.SettingField{
		{Key: "chat_id", Label: "Chat id", Help: "A numeric chat id (-100… for a channel or supergroup) or an @channel username."},
		{Key: "bot_token", Label: "Bot token", Secret: true, Help: "The token BotFather gave (123456:ABC…)."},
		{Key: "template", Label: "Message template", Multiline: true, Help: "A Go text/template over the payload; empty: the event type's default text."},
	}
}

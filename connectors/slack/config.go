package slack

// Settings are a Slack endpoint's own settings, inline in its JSON (see
// gateway.Endpoint.Settings). The webhook's URL, a credential too, is the endpoint's url.
type Settings struct {
	// Template is a Go text/template over the delivered payload; empty: the default text of
	// the event's type (see connectors/render).
	Template string `json:"template,omitempty"`
}

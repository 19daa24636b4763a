package gateway

import (
	"bytes"
	"encoding/json"
	"reflect"
	"time"
)

// Endpoint is a subscriber: where matching events are delivered and how.
type Endpoint struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Kind        string   `json:"kind"`
	Description string   `json:"description,omitempty"`
	Events      []string `json:"events"`
	// Source, when set, limits the endpoint to events from that source.
	Source  string            `json:"source,omitempty"`
	Enabled bool              `json:"enabled"`
	Headers map[string]string `json:"headers,omitempty"`
	// DisabledReason says why the gateway disabled the endpoint (empty when a user did).
	DisabledReason string     `json:"disabled_reason,omitempty"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	// ManagedBy names the platform that created the endpoint through its REST-hook
	// subscription ("zapier", "make"; see SubscribeEndpoint); empty for an endpoint a user
	// created. A 410 Gone deletes a managed endpoint (the platform dropped the subscription)
	// and only disables a user's one.
	ManagedBy string `json:"managed_by,omitempty"`
	// Owner is the principal whose MCP Events subscription the endpoint is (Principal.ID);
	// empty for every other endpoint.
	Owner string `json:"owner,omitempty"`
	// ExpiresAt, when set, is when the endpoint is removed unless refreshed first (an MCP
	// Events subscription's refreshBefore); no event fans out to it from then on.
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	// FailureStreak counts consecutive deliveries that ended failed; a success resets it.
	FailureStreak int       `json:"failure_streak"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`

	EndpointSettings

	// Settings is the kind's own settings object (a chat to post to, a token, an API key,
	// a message template…): the gateway stores and copies it and knows none of its
	// keys; the kind's Sender decodes and validates it (SettingsChecker, DecodeSettings) and
	// masks its credentials in answers (SettingsRedactor). In JSON its keys sit inline among
	// the endpoint's own, as the API takes and shows them: every top-level key that is not a
	// field of Endpoint is a setting (see MarshalJSON).
	Settings json.RawMessage `json:"-"`

	// Secrets sign deliveries: the first is current; older ones keep signing until Expires.
	// They are never part of an API answer except right after creation or rotation.
	Secrets []Secret `json:"secrets,omitempty"`
}

// EndpointSettings are the delivery options every kind shares; the gateway reads them
// itself. The settings of one kind are the endpoint's Settings, which only that kind reads.
type EndpointSettings struct {
	// Auth is sent with every delivery: a header (n8n's Header Auth) or HTTP basic auth.
	Auth *EndpointAuth `json:"auth,omitempty"`
	// RateLimitPerS caps deliveries to this endpoint per second (0: no cap; a make
	// endpoint defaults to 25, under Make's 300 per 10 s per webhook).
	RateLimitPerS float64 `json:"rate_limit_per_s,omitempty"`
	// Mapping is a jq program that reshapes the envelope before delivery.
	Mapping string `json:"mapping,omitempty"`
	// Filter is a jq boolean over the envelope: an event for which it is false makes no
	// delivery to the endpoint (see filter.go). Empty: every event the endpoint subscribes to.
	Filter string `json:"filter,omitempty"`
	// OutputSchema is a JSON Schema the mapped payload must satisfy.
	OutputSchema json.RawMessage `json:"output_schema,omitempty"`
}

// EndpointAuth is how a delivery authenticates to the target, besides the signature.
type EndpointAuth struct {
	// Type is "header" (Name: Value) or "basic" (Username, Password).
	Type     string `json:"type"`
	Name     string `json:"name,omitempty"`
	Value    string `json:"value,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
}

// SettingsChecker is implemented by Senders whose kind takes settings or checks an
// endpoint further: CheckEndpoint normalises ep (defaults), decodes and validates its
// Settings (refusing a setting the kind does not read, see DecodeSettings) and returns a
// *ValidationError naming the field that is wrong. An endpoint of a kind whose Sender is
// no SettingsChecker may have no Settings.
type SettingsChecker interface {
	CheckEndpoint(ep *Endpoint) error
}

// SettingsRedactor is implemented by Senders whose kind's settings hold credentials:
// RedactSettings returns a copy of settings (valid for the kind) with each credential
// masked (see Mask), as every answer shows them. A PATCH that sends a masked value back,
// equal to the value RedactSettings shows for the same key, keeps the stored value.
type SettingsRedactor interface {
	RedactSettings(settings json.RawMessage) json.RawMessage
}

// SettingsDescriber is implemented by Senders whose kind takes settings: SettingsFields
// lists them, in the order a form shows them, so that a form (the dashboard's) can offer
// each kind's own fields without a copy of their names.
type SettingsDescriber interface {
	SettingsFields() []SettingField
}

// SettingField is one setting of a kind.
type SettingField struct {
	// Key is the setting's JSON key ("chat_id").
	Key string
	// Label names it for people; Help says what it takes.
	Label, Help string
	// Secret marks a credential: answers mask it (see SettingsRedactor), and a form never
	// shows it, leaving it as it is when left blank.
	Secret bool
	// Multiline marks a long text (a template).
	Multiline bool
}

// Mask hides a secret in API answers, keeping its last four characters (none of a short
// one): the one masking of endpoint credentials, headers and kinds' settings alike.
func Mask(s string) string {
	if s == "" {
		return ""
	}
	if len(s) <= 8 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}

// Secret is one signing secret of an endpoint ("whsec_" + base64 of 24 random bytes).
type Secret struct {
	Value   string     `json:"value"`
	Expires *time.Time `json:"expires,omitempty"`
}

// SigningSecrets returns the secrets that sign a delivery made at now: the current one
// first, then every rotated-out secret still within its grace period.
func (ep *Endpoint) SigningSecrets(now time.Time) []string {
	return ep.AppendSigningSecrets(make([]string, 0, len(ep.Secrets)), now)
}

// AppendSigningSecrets appends SigningSecrets(now) to dst and returns it: a sender passes a
// small array of its own, so that signing a delivery allocates no slice.
func (ep *Endpoint) AppendSigningSecrets(dst []string, now time.Time) []string {
	for _, s := range ep.Secrets {
		if s.Expires == nil || now.Before(*s.Expires) {
			dst = append(dst, s.Value)
		}
	}
	return dst
}

// public returns a copy of ep without its secrets, as every answer (API, CLI, MCP) shows
// it: credentials are write-only, so the signing secrets are left out, the auth value and
// password and every custom header's value are masked, and the kind masks its settings'
// credentials (see SettingsRedactor).
func (s *Service) public(ep *Endpoint) *Endpoint {
	c := *ep
	c.Secrets = nil
	if c.Auth != nil {
		a := *c.Auth
		a.Value, a.Password = Mask(a.Value), Mask(a.Password)
		c.Auth = &a
	}
	if ep.Headers != nil {
		c.Headers = make(map[string]string, len(ep.Headers))
		for k, v := range ep.Headers {
			c.Headers[k] = Mask(v)
		}
	}
	if r, ok := s.opts.Senders[ep.Kind].(SettingsRedactor); ok && len(ep.Settings) > 0 {
		c.Settings = r.RedactSettings(ep.Settings)
	}
	return &c
}

// keepMask returns current when v is current masked (a credential read from an answer and
// sent back), else v.
func keepMask(v, current string) string {
	if current != "" && v != current && v == Mask(current) {
		return current
	}
	return v
}

// keepMasked returns the headers of a patch with every value that is the mask of the
// current value of the same header replaced by that value: an endpoint read and written
// back keeps its header credentials.
func keepMasked(patch, current map[string]string) map[string]string {
	out := make(map[string]string, len(patch))
	for k, v := range patch {
		out[k] = keepMask(v, current[k])
	}
	return out
}

// endpointState is the part of an Endpoint that changes without an edit of its
// configuration: the dispatcher counts failures and disables it, rotation changes secrets.
type endpointState struct {
	enabled        bool
	disabledReason string
	disabledAt     *time.Time
	failureStreak  int
	updatedAt      time.Time
	secrets        []Secret
}

func (ep *Endpoint) state() endpointState {
	return endpointState{ep.Enabled, ep.DisabledReason, ep.DisabledAt, ep.FailureStreak, ep.UpdatedAt, ep.Secrets}
}

func (ep *Endpoint) setState(st endpointState) {
	ep.Enabled, ep.DisabledReason, ep.DisabledAt, ep.FailureStreak, ep.UpdatedAt, ep.Secrets =
		st.enabled, st.disabledReason, st.disabledAt, st.failureStreak, st.updatedAt, st.secrets
}

// sameConfig reports whether ep and o have the same configuration (everything but their
// state): what checkEndpoint validates.
func (ep *Endpoint) sameConfig(o *Endpoint) bool {
	a, b := *ep, *o
	a.setState(endpointState{})
	b.setState(endpointState{})
	return reflect.DeepEqual(a, b)
}

// setConfig replaces ep's configuration with c's, keeping ep's state.
func (ep *Endpoint) setConfig(c *Endpoint) {
	st := ep.state()
	*ep = *c.clone()
	ep.setState(st)
}

// clone returns a deep-enough copy of ep for copy-on-write updates.
func (ep *Endpoint) clone() *Endpoint {
	c := *ep
	c.Events = append([]string(nil), ep.Events...)
	if ep.Headers != nil {
		c.Headers = make(map[string]string, len(ep.Headers))
		for k, v := range ep.Headers {
			c.Headers[k] = v
		}
	}
	c.Secrets = append([]Secret(nil), ep.Secrets...)
	c.Settings = bytes.Clone(ep.Settings)
	if ep.Auth != nil {
		a := *ep.Auth
		c.Auth = &a
	}
	return &c
}

package gateway

import (
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
	// FailureStreak counts consecutive deliveries that ended failed; a success resets it.
	FailureStreak int       `json:"failure_streak"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`

	// Secrets sign deliveries: the first is current; older ones keep signing until Expires.
	// They are never part of an API answer except right after creation or rotation.
	Secrets []Secret `json:"secrets,omitempty"`
}

// Secret is one signing secret of an endpoint ("whsec_" + base64 of 24 random bytes).
type Secret struct {
	Value   string     `json:"value"`
	Expires *time.Time `json:"expires,omitempty"`
}

// SigningSecrets returns the secrets that sign a delivery made at now: the current one
// first, then every rotated-out secret still within its grace period.
func (ep *Endpoint) SigningSecrets(now time.Time) []string {
	out := make([]string, 0, len(ep.Secrets))
	for _, s := range ep.Secrets {
		if s.Expires == nil || now.Before(*s.Expires) {
			out = append(out, s.Value)
		}
	}
	return out
}

// Public returns a copy of ep without its secrets, as the API shows it.
func (ep *Endpoint) Public() *Endpoint {
	c := *ep
	c.Secrets = nil
	return &c
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
	return &c
}

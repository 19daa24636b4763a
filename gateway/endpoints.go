package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// EndpointInput creates an endpoint.
type EndpointInput struct {
	URL         string            `json:"url"`
	Events      []string          `json:"events"`
	Kind        string            `json:"kind,omitempty"`
	Description string            `json:"description,omitempty"`
	Enabled     *bool             `json:"enabled,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	Source      string            `json:"source,omitempty"`
	// ManagedBy marks a REST-hook subscription made by a platform ("zapier", "make"); it is
	// set by the platform's subscribe route, never from a request body.
	ManagedBy string `json:"-"`
	EndpointSettings
	// Settings is the kind's own settings object (see Endpoint.Settings); in JSON, its keys
	// sit inline among the input's.
	Settings json.RawMessage `json:"-"`
}

// EndpointPatch changes an endpoint; nil fields are left as they are. Headers replaces the
// custom headers, except that a value equal to the masked current value of the same header
// (as answers show it) keeps that value; Settings sets the kind's settings it names, in the
// same way (see mergeSettings).
type EndpointPatch struct {
	URL         *string            `json:"url,omitempty"`
	Events      *[]string          `json:"events,omitempty"`
	Description *string            `json:"description,omitempty"`
	Enabled     *bool              `json:"enabled,omitempty"`
	Headers     *map[string]string `json:"headers,omitempty"`
	Source      *string            `json:"source,omitempty"`
	// Delivery options (see EndpointSettings); "" or 0 clears one.
	Auth          *EndpointAuth    `json:"auth,omitempty"`
	RateLimitPerS *float64         `json:"rate_limit_per_s,omitempty"`
	Mapping       *string          `json:"mapping,omitempty"`
	Filter        *string          `json:"filter,omitempty"`
	OutputSchema  *json.RawMessage `json:"output_schema,omitempty"`
	// DiscardPaused, with Enabled set to true, cancels the deliveries kept while the
	// endpoint was disabled instead of sending them.
	DiscardPaused bool `json:"discard_paused,omitempty"`
	// Settings are the kind's settings to change, a JSON object (in JSON, its keys sit
	// inline among the patch's): a key set to null or "" removes that setting, the others
	// are set; settings it does not name stay.
	Settings json.RawMessage `json:"-"`
}

// stateOnly reports whether p changes nothing but whether the endpoint is enabled and its
// description.
func (p *EndpointPatch) stateOnly() bool {
	c := *p
	c.Enabled, c.Description, c.DiscardPaused = nil, nil, false
	return reflect.ValueOf(c).IsZero()
}

// applySettings copies the patch's settings onto st; an empty auth type clears auth, and
// an auth of the stored type whose value or password is the stored one masked (as answers
// show it, see Mask) keeps the stored one, as headers and kinds' credentials do.
func (p *EndpointPatch) applySettings(st *EndpointSettings) {
	if p.Auth != nil {
		a := *p.Auth
		if old := st.Auth; old != nil && old.Type == a.Type {
			a.Value, a.Password = keepMask(a.Value, old.Value), keepMask(a.Password, old.Password)
		}
		st.Auth = &a
		if a.Type == "" {
			st.Auth = nil
		}
	}
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&st.Mapping, p.Mapping)
	set(&st.Filter, p.Filter)
	if p.RateLimitPerS != nil {
		st.RateLimitPerS = *p.RateLimitPerS
	}
	if p.OutputSchema != nil {
		st.OutputSchema = *p.OutputSchema
		if string(st.OutputSchema) == "null" {
			st.OutputSchema = nil
		}
	}
}

// KindWebhook is the default endpoint kind: a plain HTTPS POST signed with Standard Webhooks.
const KindWebhook = "webhook"

// maxHeaders caps an endpoint's custom headers.
const maxHeaders = 20

// reservedHeaders are set by hookgate on every delivery and can't be overridden.
var reservedHeaders = []string{"content-type", "content-length", "user-agent", "host", "webhook-id", "webhook-timestamp", "webhook-signature", "x-hookgate-event", "x-hookgate-delivery"}

// Kinds are the endpoint kinds this gateway can deliver to (Options.Senders) that a user
// can create, sorted: not KindMCPEvents, whose endpoints MCP Events subscriptions make.
func (s *Service) Kinds() []string {
	kinds := make([]string, 0, len(s.opts.Senders))
	for k := range s.opts.Senders {
		if k != KindMCPEvents {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	return kinds
}

// SettingsFields are the settings an endpoint of kind takes beyond those every kind shares
// (see SettingsDescriber); nil for a kind that takes none or that this gateway lacks.
func (s *Service) SettingsFields(kind string) []SettingField {
	if d, ok := s.opts.Senders[kind].(SettingsDescriber); ok {
		return d.SettingsFields()
	}
	return nil
}

func (s *Service) checkEndpoint(ep *Endpoint) error {
	if ep.Kind == "" {
		ep.Kind = KindWebhook
	}
	sender, ok := s.opts.Senders[ep.Kind]
	if !ok {
		return invalid("kind", "unknown endpoint kind %q (known: %s)", ep.Kind, strings.Join(s.Kinds(), ", "))
	}
	st, err := cleanSettings(ep.Settings)
	if err != nil {
		return err
	}
	ep.Settings = st
	if sc, ok := sender.(SettingsChecker); ok {
		if err := sc.CheckEndpoint(ep); err != nil {
			return err
		}
	} else if err := DecodeSettings(ep, &struct{}{}); err != nil {
		return err
	}
	if ep.Kind == KindMCPEvents && ep.ManagedBy != ManagedByMCPEvents {
		return invalid("kind", "%s endpoints are made by MCP Events subscriptions (events/subscribe), not through this API", KindMCPEvents)
	}
	if ep.URL == "" {
		return invalid("url", "is required")
	}
	if err := s.opts.Policy.CheckURL("url", ep.URL); err != nil {
		return err
	}
	if ep.RateLimitPerS < 0 || ep.RateLimitPerS > 10000 {
		return invalid("rate_limit_per_s", "must be between 0 (no limit) and 10000")
	}
	if a := ep.Auth; a != nil {
		switch a.Type {
		case "header":
			if !validHeaderName(a.Name) || a.Value == "" || strings.ContainsAny(a.Value, "\r\n\x00") {
				return invalid("auth", `header auth needs "name" (a header name) and a one-line "value"`)
			}
			if slices.Contains(reservedHeaders, strings.ToLower(a.Name)) {
				return invalid("auth.name", "is set by hookgate and can't be overridden")
			}
		case "basic":
			if a.Username == "" || strings.Contains(a.Username, ":") {
				return invalid("auth.username", "is required and must not contain ':'")
			}
		default:
			return invalid("auth.type", `must be "header" or "basic"`)
		}
	}
	if len(ep.Events) == 0 {
		return invalid("events", `is required: a list of event types, patterns such as "video.*", or ["*"]`)
	}
	for i, p := range ep.Events {
		if err := checkPattern(p); err != nil {
			return invalid(fmt.Sprintf("events[%d]", i), "%s", err)
		}
	}
	if err := s.checkMapping(ep); err != nil {
		return err
	}
	if err := s.checkFilter(ep); err != nil {
		return err
	}
	if len(ep.Description) > 1000 {
		return invalid("description", "must be at most 1000 characters")
	}
	if ep.Source != "" && !validName(ep.Source) {
		return invalid("source", "must be a source name (letters, digits, . _ : -)")
	}
	if len(ep.Headers) > maxHeaders {
		return invalid("headers", "at most %d headers", maxHeaders)
	}
	for name, v := range ep.Headers {
		field := "headers." + name
		if !validHeaderName(name) {
			return invalid(field, "is not a valid header name")
		}
		if slices.Contains(reservedHeaders, strings.ToLower(name)) {
			return invalid(field, "is set by hookgate and can't be overridden")
		}
		if strings.ContainsAny(v, "\r\n\x00") || len(v) > 4096 {
			return invalid(field, "must be a single line of at most 4096 bytes")
		}
	}
	return nil
}

// checkPattern validates a subscription pattern.
func checkPattern(p string) error {
	switch {
	case p == "*":
		return nil
	case p == "":
		return errors.New("must not be empty")
	case strings.HasSuffix(p, ".*"):
		p = strings.TrimSuffix(p, ".*")
	}
	if !validName(p) {
		return fmt.Errorf("%q is not an event type, a prefix pattern such as \"video.*\", or \"*\"", p)
	}
	return nil
}

func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return true
}

// CreateEndpoint registers an endpoint and returns it with its signing secret, which is
// shown only here and on rotation.
func (s *Service) CreateEndpoint(ctx context.Context, in EndpointInput) (*Endpoint, string, error) {
	if err := s.admit(); err != nil {
		return nil, "", err
	}
	now := s.now().UTC()
	ep := &Endpoint{
		ID:               newID("ep", now),
		URL:              in.URL,
		Kind:             in.Kind,
		Description:      in.Description,
		Events:           in.Events,
		Source:           in.Source,
		Enabled:          in.Enabled == nil || *in.Enabled,
		Headers:          in.Headers,
		ManagedBy:        in.ManagedBy,
		CreatedAt:        now,
		EndpointSettings: in.EndpointSettings,
		Settings:         in.Settings,
		UpdatedAt:        now,
		Secrets:          []Secret{{Value: NewSecret()}},
	}
	if err := s.checkEndpoint(ep); err != nil {
		return nil, "", err
	}
	if err := s.checkTypes(ep.Events, nil); err != nil {
		return nil, "", err
	}
	if !ep.Enabled {
		ep.DisabledAt = &now
	}
	rev, err := s.store.Endpoints().Put(ctx, ep.ID, ep, 0)
	if err != nil {
		return nil, "", fmt.Errorf("create endpoint: %w", err)
	}
	s.setEndpoint(ep.ID, ep.clone(), rev)
	return s.public(ep), ep.Secrets[0].Value, nil
}

// EndpointFilter selects endpoints for ListEndpoints.
type EndpointFilter struct {
	// Event keeps endpoints that would receive this event type.
	Event string
	// Enabled keeps endpoints in this state.
	Enabled *bool
	// Limit caps the page; default 50, at most 1000.
	Limit int
	// Cursor is the next_cursor of the previous page.
	Cursor string
}

// EndpointPage is one page of endpoints, oldest first.
type EndpointPage struct {
	Data []*Endpoint `json:"data"`
	Next string      `json:"next_cursor,omitempty"`
}

// ListEndpoints lists endpoints, oldest first, without their secrets.
func (s *Service) ListEndpoints(ctx context.Context, f EndpointFilter) (*EndpointPage, error) {
	limit := ClampLimit(f.Limit)
	s.mu.RLock()
	all := make([]*Endpoint, 0, len(s.endpoints))
	for _, ep := range s.endpoints {
		all = append(all, ep)
	}
	s.mu.RUnlock()
	slices.SortFunc(all, func(a, b *Endpoint) int { return strings.Compare(a.ID, b.ID) })
	page := &EndpointPage{Data: []*Endpoint{}}
	for _, ep := range all {
		if ep.ID <= f.Cursor ||
			f.Enabled != nil && ep.Enabled != *f.Enabled ||
			f.Event != "" && !ep.matches(&Event{Type: f.Event, Source: ep.Source}) {
			continue
		}
		if len(page.Data) == limit {
			page.Next = page.Data[len(page.Data)-1].ID
			break
		}
		page.Data = append(page.Data, s.public(ep))
	}
	return page, nil
}

// GetEndpoint returns an endpoint without its secrets.
func (s *Service) GetEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	ep, ok := s.endpoint(id)
	if !ok {
		return nil, fmt.Errorf("endpoint %s: %w", id, ErrNotFound)
	}
	return s.public(ep), nil
}

// UpdateEndpoint applies a patch. Re-enabling a disabled endpoint resets its failure streak
// and sends the deliveries kept while it was disabled (or cancels them with DiscardPaused).
//
// The patched endpoint is checked (its mapping run on the catalog samples) before it is
// written, and written by compare-and-swap on the revision that was checked: if the
// endpoint's configuration changed meanwhile, the patch is checked again on the new one
// (see edit). Its state (enabled, failure streak, secrets) may change meanwhile: the
// dispatcher's updates and the patch never lose each other.
func (s *Service) UpdateEndpoint(ctx context.Context, id string, p EndpointPatch) (*Endpoint, error) {
	if err := s.admit(); err != nil {
		return nil, err
	}
	var (
		out      *Endpoint
		resumed  bool
		switched bool // disabled by this patch
	)
	err := s.edit(func() error {
		base, _, err := s.store.Endpoints().Get(ctx, id)
		if err != nil {
			return err
		}
		if base.ManagedBy == ManagedByMCPEvents && !p.stateOnly() {
			return invalid("kind", "this endpoint is an MCP Events subscription: its host changes it (events/subscribe, events/unsubscribe); here only enabled and description can be set")
		}
		want := base.clone()
		if err := s.applyConfig(&p, want); err != nil {
			return err
		}
		if err := s.checkEndpoint(want); err != nil {
			return err
		}
		if err := s.checkTypes(want.Events, base.Events); err != nil {
			return err
		}
		out, err = s.changeEndpoint(ctx, id, func(ep *Endpoint, now time.Time) error {
			resumed, switched = false, false
			if !ep.sameConfig(base) {
				return errStale
			}
			ep.setConfig(want)
			if p.Enabled != nil && *p.Enabled != ep.Enabled {
				if *p.Enabled {
					ep.Enabled, ep.FailureStreak, ep.DisabledReason, ep.DisabledAt = true, 0, "", nil
					resumed = true
				} else {
					ep.Enabled, ep.DisabledReason, ep.DisabledAt = false, "", &now
					switched = true
				}
			} else if p.Enabled != nil && *p.Enabled {
				ep.FailureStreak = 0
			}
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", id, err)
	}
	switch {
	case resumed:
		s.log.Info("endpoint re-enabled", "endpoint", id, "why", "enabled through the API", "paused_deliveries", map[bool]string{true: "discarded", false: "resumed"}[p.DiscardPaused])
	case switched:
		s.log.Info("endpoint disabled", "endpoint", id, "why", "disabled through the API")
	}
	if resumed || (p.DiscardPaused && out.Enabled) {
		if _, err := s.drainPaused(ctx, id, !p.DiscardPaused); err != nil {
			return nil, err
		}
	}
	return s.public(out), nil
}

// applyConfig copies the patch's configuration (everything but enabled) onto ep; the
// kind's settings are merged, a masked credential sent back keeping the stored one.
func (s *Service) applyConfig(p *EndpointPatch, ep *Endpoint) error {
	if p.URL != nil {
		ep.URL = *p.URL
	}
	if p.Events != nil {
		ep.Events = *p.Events
	}
	if p.Description != nil {
		ep.Description = *p.Description
	}
	if p.Headers != nil {
		ep.Headers = keepMasked(*p.Headers, ep.Headers)
	}
	if p.Source != nil {
		ep.Source = *p.Source
	}
	p.applySettings(&ep.EndpointSettings)
	if len(p.Settings) == 0 {
		return nil
	}
	st, err := mergeSettings(ep.Settings, p.Settings, s.public(ep).Settings)
	if err != nil {
		return err
	}
	ep.Settings = st
	return nil
}

// maxEditTries bounds how often edit checks an admin edit again because its record changed
// between the check and the write.
const maxEditTries = 5

// errStale is what an edit's write returns when its record's checked part changed since
// the edit was checked; edit then checks it again.
var errStale = errors.New("the record changed while the edit was checked")

// edit runs an admin edit (a PATCH) whose checks (jq over the catalog samples, schema
// compilation) run before its compare-and-swap write. attempt reads the record, applies
// and checks the change, and writes it; it returns errStale if the record's checked part
// changed since it was read (a write that lost its compare-and-swap to a change of the
// rest only re-applies the change). Then the edit is tried again on the new record, up to
// maxEditTries times, before ErrConflict.
func (s *Service) edit(attempt func() error) error {
	for range maxEditTries {
		if err := attempt(); !errors.Is(err, errStale) {
			return err
		}
	}
	return fmt.Errorf("%w: it kept changing while this edit was checked; try again", ErrConflict)
}

// modifyEndpoint applies change to the current endpoint record by compare-and-swap, so
// concurrent changes (an API patch, the dispatcher's failure count) never lose each other.
func (s *Service) modifyEndpoint(ctx context.Context, id string, change func(ep *Endpoint, now time.Time) error) error {
	if _, err := s.changeEndpoint(ctx, id, change); err != nil {
		return fmt.Errorf("endpoint %s: %w", id, err)
	}
	return nil
}

// changeEndpoint applies change to the stored endpoint record and saves it by
// compare-and-swap, reading it again and re-applying change after a conflict; the in-memory
// snapshot follows at once. It returns the changed endpoint.
func (s *Service) changeEndpoint(ctx context.Context, id string, change func(ep *Endpoint, now time.Time) error) (*Endpoint, error) {
	ep, rev, err := casUpdate(ctx, s.store.Endpoints(), id, func(ep *Endpoint) (*Endpoint, error) {
		now := s.now().UTC()
		if err := change(ep, now); err != nil {
			return nil, err
		}
		ep.UpdatedAt = now
		return ep, nil
	})
	if err != nil {
		return nil, err
	}
	snap := ep.clone()
	s.setEndpoint(id, snap, rev)
	return snap, nil
}

// drainPaused moves every paused delivery of an endpoint back to pending (resume) or to
// canceled, in chunks, and reports how many it moved.
func (s *Service) drainPaused(ctx context.Context, epID string, resume bool) (int, error) {
	n, err := s.moveAll(ctx, DeliveryQuery{Endpoint: epID, Status: StatusPaused}, func(d *Delivery) bool {
		if d.Status != StatusPaused {
			return false
		}
		now := s.now().UTC()
		if resume {
			d.Status, d.NextAttemptAt = StatusPending, &now
		} else {
			d.Status, d.NextAttemptAt = StatusCanceled, nil
		}
		d.UpdatedAt = now
		return true
	})
	if err != nil {
		return n, fmt.Errorf("endpoint %s: paused deliveries: %w", epID, err)
	}
	return n, nil
}

// DeleteEndpoint removes an endpoint. Its queued and paused deliveries are canceled.
func (s *Service) DeleteEndpoint(ctx context.Context, id string) error {
	if err := s.admit(); err != nil {
		return err
	}
	return s.deleteEndpoint(ctx, id)
}

// deleteEndpoint is DeleteEndpoint without the free-space guard, for the dispatcher (a
// subscription that answered 410 is removed on a full disk too).
func (s *Service) deleteEndpoint(ctx context.Context, id string) error {
	if err := s.store.Endpoints().Delete(ctx, id); err != nil {
		return fmt.Errorf("delete endpoint %s: %w", id, err)
	}
	s.dropEndpoint(id)
	_, err := s.drainPaused(ctx, id, false)
	return err
}

// Unsubscribe deletes the REST-hook subscription id that platform ("zapier", "make") made.
// A subscription that is already gone is not an error (deleted is false), so a platform's
// unsubscribe always succeeds; an endpoint that exists but is not that platform's
// subscription is ErrNotFound and stays.
func (s *Service) Unsubscribe(ctx context.Context, platform, id string) (deleted bool, err error) {
	ep, ok := s.endpoint(id)
	if !ok {
		return false, nil
	}
	if ep.ManagedBy != platform {
		return false, fmt.Errorf("endpoint %s is not a %s subscription: %w", id, platform, ErrNotFound)
	}
	if err := s.DeleteEndpoint(ctx, id); errors.Is(err, ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// RotateSecret gives an endpoint a new signing secret and returns it. The previous secret
// keeps signing (as a second signature) for 24 hours, so receivers can switch without
// losing deliveries.
func (s *Service) RotateSecret(ctx context.Context, id string) (string, error) {
	if err := s.admit(); err != nil {
		return "", err
	}
	secret := NewSecret()
	err := s.modifyEndpoint(ctx, id, func(ep *Endpoint, now time.Time) error {
		if ep.ManagedBy == ManagedByMCPEvents {
			return fmt.Errorf("%w: the secret of an MCP Events subscription is its host's; the host rotates it with events/subscribe", ErrConflict)
		}
		ep.Secrets = rotated(ep.Secrets, secret, now)
		return nil
	})
	return secret, err
}

// rotated returns secrets with fresh as the current secret: the others that still sign at
// now keep signing until they expire, the current one until SecretGrace from now. fresh
// itself, if it was among them, is only the current one.
func rotated(secrets []Secret, fresh string, now time.Time) []Secret {
	expires := now.Add(SecretGrace)
	kept := []Secret{{Value: fresh}}
	for _, old := range secrets {
		if old.Value == fresh || old.Expires != nil && !now.Before(*old.Expires) {
			continue
		}
		if old.Expires == nil {
			old.Expires = &expires
		}
		kept = append(kept, old)
	}
	return kept
}

// SecretGrace is how long a rotated-out secret keeps signing.
const SecretGrace = 24 * time.Hour

// TestEndpoint sends a "ping" event to one endpoint only and returns the delivery id.
func (s *Service) TestEndpoint(ctx context.Context, id string) (string, error) {
	if err := s.admit(); err != nil {
		return "", err
	}
	ep, ok := s.endpoint(id)
	if !ok {
		return "", fmt.Errorf("endpoint %s: %w", id, ErrNotFound)
	}
	if !ep.Enabled {
		return "", fmt.Errorf("endpoint %s: %w: enable it before sending a test", id, ErrEndpointDisabled)
	}
	data := fmt.Appendf(nil, `{"message":"Test event from hookgate","endpoint_id":%q}`, ep.ID)
	res, err := s.publish(ctx, PublishInput{Type: "ping", Source: "hookgate", Data: data}, ep)
	if err != nil {
		return "", err
	}
	if len(res.DeliveryID) != 1 {
		return "", fmt.Errorf("endpoint %s: test event made %d deliveries", id, len(res.DeliveryID))
	}
	return res.DeliveryID[0], nil
}

package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/schemas"
)

// Event subscriptions: what MCP Events (SEP-3415, extension io.modelcontextprotocol/events)
// needs from the gateway, in its own words. A webhook subscription is an endpoint of kind
// KindMCPEvents owned by the principal that made it (Endpoint.Owner, ManagedBy
// ManagedByMCPEvents), so that the queue, the retries, the Standard Webhooks signing and the
// attempt log are the ones every endpoint has:
//
//   - its id is derived from (principal, callback URL, event name, arguments), so a repeat
//     is a refresh of the same subscription, never a second one;
//   - the arguments become its Source and Filter (an equality per argument);
//   - its secret is the subscriber's; a refresh with another one rotates it, the old one
//     still signing for SecretGrace;
//   - it expires at ExpiresAt unless refreshed (the background sweep deletes it), and a
//     410 from the callback deletes it as it does a platform's REST-hook subscription;
//   - before a new callback gets its first delivery, the kind's Sender (a Challenger) must
//     have it echo a signed challenge.
//
// Cursors are event log sequences in decimal. Poll reads the same log.

// KindMCPEvents is the endpoint kind of an MCP Events webhook subscription.
const KindMCPEvents = "mcp-events"

// ManagedByMCPEvents is the ManagedBy of the endpoints MCP Events subscriptions own.
const ManagedByMCPEvents = "mcp-events"

// Subscription limits and lifetimes.
const (
	// DefaultSubscriptionTTL is granted when the subscriber suggests none (or no expiry).
	DefaultSubscriptionTTL = 24 * time.Hour
	// MinSubscriptionTTL is the floor a shorter suggestion is raised to.
	MinSubscriptionTTL = time.Minute
	// MaxSubscriptionTTL is the longest grant.
	MaxSubscriptionTTL = 7 * 24 * time.Hour
	// MaxSubscriptionsPerPrincipal caps one principal's webhook subscriptions.
	MaxSubscriptionsPerPrincipal = 100
	// MaxOccurrenceBytes is the largest delivery body of a subscription (256 KiB); a larger
	// one is not sent, and not retried.
	MaxOccurrenceBytes = 256 << 10
)

// ErrTooManySubscriptions means the principal holds MaxSubscriptionsPerPrincipal already.
var ErrTooManySubscriptions = errors.New("too many subscriptions")

// ErrUndeliverable is what a Sender wraps in Outcome.Err when the delivery can never
// succeed as it is (a body over the kind's limit): the dispatcher gives up at once, as on a
// 413, instead of retrying.
var ErrUndeliverable = errors.New("undeliverable")

// Callback failure reasons: the categories MCP Events reports, never the endpoint's answer.
const (
	ReasonConnectionRefused = "connection_refused"
	ReasonTimeout           = "timeout"
	ReasonTLS               = "tls_error"
	ReasonHTTP4xx           = "http_4xx"
	ReasonHTTP5xx           = "http_5xx"
	ReasonChallengeFailed   = "challenge_failed"
)

// CallbackError is a callback URL that could not be verified: Reason is one of the Reason
// constants.
type CallbackError struct {
	Reason string
	Err    error
}

// Error says which check failed.
func (e *CallbackError) Error() string {
	if e.Err == nil {
		return "callback endpoint: " + e.Reason
	}
	return fmt.Sprintf("callback endpoint: %s: %v", e.Reason, e.Err)
}

// Unwrap returns the cause.
func (e *CallbackError) Unwrap() error { return e.Err }

// Challenger is implemented by the Sender of a kind whose endpoints must prove they want
// deliveries before the first one (KindMCPEvents): Challenge POSTs a signed challenge to
// ep and returns nil when ep echoed it, else a *CallbackError.
type Challenger interface {
	Challenge(ctx context.Context, ep *Endpoint, now time.Time) error
}

// principalOf returns the caller's principal: the one ctx carries, else the serve token's
// (a local caller: stdio MCP, in-process use; see Allow).
func principalOf(ctx context.Context) *Principal {
	if p, ok := PrincipalFrom(ctx); ok {
		return p
	}
	return RootPrincipal()
}

// Occurrence is an event as MCP Events delivers it: the body of a webhook delivery, an
// entry of a poll result.
type Occurrence struct {
	EventID   string          `json:"eventId"`
	Name      string          `json:"name"`
	Timestamp string          `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
	// Cursor is the event's place in the log, as a cursor (webhook deliveries; a poll
	// result carries one cursor for all its events).
	Cursor string `json:"cursor,omitempty"`
}

// OccurrenceOf is ev as an occurrence; seq, when not 0, is its cursor.
func OccurrenceOf(ev *Event, seq Seq) Occurrence {
	o := Occurrence{EventID: ev.ID, Name: ev.Type, Timestamp: ev.Created.UTC().Format(TimeFormat), Data: ev.Data}
	if seq != 0 {
		o.Cursor = strconv.FormatUint(uint64(seq), 10)
	}
	return o
}

// EventDescriptor is one event type as MCP Events lists it.
type EventDescriptor struct {
	Name        string
	Description string
	// PayloadSchema is the schema of the event's data.
	PayloadSchema json.RawMessage
	// InputSchema is the schema of the subscription arguments: source, and an equality
	// filter per top-level scalar field of the payload.
	InputSchema json.RawMessage
}

// EventDescriptors lists every event type of the catalog, built-in and custom, once per
// name (the first provider's, in catalog order, when several share it).
func (s *Service) EventDescriptors(ctx context.Context) ([]EventDescriptor, error) {
	if err := Allow(ctx, ScopeRead); err != nil {
		return nil, err
	}
	if s.opts.Catalog == nil {
		return []EventDescriptor{}, nil
	}
	seen := map[string]bool{}
	out := []EventDescriptor{}
	for _, t := range s.opts.Catalog.List("") {
		if seen[t.Name] {
			continue
		}
		seen[t.Name] = true
		in, err := json.Marshal(inputSchema(t))
		if err != nil {
			return nil, fmt.Errorf("event type %s: input schema: %w", t.Name, err)
		}
		desc := t.Description
		if desc == "" {
			desc = t.Title
		}
		out = append(out, EventDescriptor{Name: t.Name, Description: desc, PayloadSchema: t.Schema, InputSchema: in})
	}
	return out, nil
}

// scalarFields returns the top-level fields of t's payload whose type is a JSON scalar
// (string, number, integer, boolean), with that type.
func scalarFields(t *schemas.Type) map[string]string {
	var sch struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
	}
	out := map[string]string{}
	if err := json.Unmarshal(t.Schema, &sch); err != nil {
		return out
	}
	for name, p := range sch.Properties {
		types := []string{}
		switch v := p.Type.(type) {
		case string:
			types = append(types, v)
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok && s != "null" {
					types = append(types, s)
				}
			}
		}
		if len(types) == 1 && slices.Contains([]string{"string", "number", "integer", "boolean"}, types[0]) && name != "source" {
			out[name] = types[0]
		}
	}
	return out
}

// inputSchema is the JSON Schema of a subscription's arguments to t.
func inputSchema(t *schemas.Type) map[string]any {
	props := map[string]any{
		"source": map[string]any{"type": "string", "description": "Only events from this source (a provider or catch-hook name, e.g. tokportal)"},
	}
	for name, typ := range scalarFields(t) {
		props[name] = map[string]any{"type": typ, "description": fmt.Sprintf("Only events whose data.%s equals this", name)}
	}
	return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
}

// subscriptionFilter checks a subscription's arguments against the type's input schema
// and turns them into an endpoint's source and filter.
func (s *Service) subscriptionFilter(name string, args map[string]any) (source, filter string, err error) {
	var t *schemas.Type
	if s.opts.Catalog != nil {
		for _, c := range s.opts.Catalog.List("") {
			if c.Name == name {
				t = c
				break
			}
		}
	}
	if t == nil {
		return "", "", fmt.Errorf("event type %q: %w", name, ErrNotFound)
	}
	fields := scalarFields(t)
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var conds []string
	for _, k := range keys {
		v := args[k]
		if k == "source" {
			src, ok := v.(string)
			if !ok || !validName(src) {
				return "", "", invalid("arguments.source", "must be a source name (letters, digits, . _ : -)")
			}
			source = src
			continue
		}
		typ, ok := fields[k]
		if !ok {
			return "", "", invalid("arguments."+k, "is not an argument of %s (see its inputSchema: source and its top-level scalar fields)", name)
		}
		if !scalarOfType(v, typ) {
			return "", "", invalid("arguments."+k, "must be a %s", typ)
		}
		lit, err := json.Marshal(v)
		if err != nil {
			return "", "", invalid("arguments."+k, "%s", err)
		}
		conds = append(conds, fmt.Sprintf(".data[%s] == %s", strconv.Quote(k), lit))
	}
	return source, strings.Join(conds, " and "), nil
}

// scalarOfType reports whether v, as decoded with json.Number, is a JSON value of type typ.
func scalarOfType(v any, typ string) bool {
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	}
	return false
}

// SubscriptionID is the id of the subscription of principal to name with args, delivered
// to url: "sub_" and 32 hex digits of a SHA-256 over the four, args as canonical JSON.
func SubscriptionID(principal, url, name string, args map[string]any) string {
	if args == nil {
		args = map[string]any{} // no arguments are the empty object
	}
	canon, _ := json.Marshal([]any{principal, url, name, args}) // maps marshal with sorted keys
	sum := sha256.Sum256(canon)
	return "sub_" + hex.EncodeToString(sum[:16])
}

// DecodeArguments reads subscription arguments (a JSON object, or null/absent for none),
// keeping numbers as written.
func DecodeArguments(raw json.RawMessage) (map[string]any, error) {
	args := map[string]any{}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return args, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&args); err != nil {
		return nil, invalid("arguments", "must be an object")
	}
	return args, nil
}

// checkSecret checks a subscriber's signing secret: whsec_ and the base64 of 24 to 64 bytes.
func checkSecret(secret string) error {
	raw, ok := strings.CutPrefix(secret, "whsec_")
	b, err := base64.StdEncoding.DecodeString(raw)
	if !ok || err != nil || len(b) < 24 || len(b) > 64 {
		return invalid("delivery.secret", "must be whsec_ followed by the base64 of 24 to 64 random bytes")
	}
	return nil
}

// parseCursor reads a cursor as Subscribe and Poll return it: an event log sequence in
// decimal.
func parseCursor(cursor string) (Seq, error) {
	n, err := strconv.ParseUint(cursor, 10, 64)
	if err != nil {
		return 0, invalid("cursor", "must be a cursor this server returned, or null")
	}
	return Seq(n), nil
}

// SubscribeInput is an events/subscribe in webhook mode.
type SubscribeInput struct {
	Name      string
	Arguments map[string]any
	URL       string
	Secret    string
	// Cursor, when set, replays the events after it (an event log sequence, as delivered).
	Cursor *string
	// MaxAge, when set with Cursor, replays no event received longer ago than this.
	MaxAge time.Duration
	// TTL is the suggested lifetime; 0: the default. NoExpiry asks for none (a finite
	// grant is given).
	TTL      time.Duration
	NoExpiry bool
}

// SubscriptionResult is what events/subscribe answers.
type SubscriptionResult struct {
	ID            string
	RefreshBefore time.Time
	// Cursor is the newest position of the log: a watermark safe to persist.
	Cursor    string
	Truncated bool
	// Replayed counts the deliveries the cursor made.
	Replayed int
	// Refreshed is true when the subscription existed.
	Refreshed bool
	// Active is false when delivery had been suspended (the endpoint disabled after
	// failures); this refresh resumed it.
	Active bool
}

// Subscribe creates or refreshes the caller's webhook subscription (see the top of this
// file). A new callback URL, for this principal, is challenged first.
func (s *Service) Subscribe(ctx context.Context, in SubscribeInput) (*SubscriptionResult, error) {
	if err := Allow(ctx, ScopeRead); err != nil {
		return nil, err
	}
	p := principalOf(ctx)
	if err := s.admit(); err != nil {
		return nil, err
	}
	source, filter, err := s.subscriptionFilter(in.Name, in.Arguments)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(in.URL, "https://") {
		return nil, invalid("delivery.url", "must be an https URL")
	}
	if err := s.opts.Policy.CheckURL("delivery.url", in.URL); err != nil {
		return nil, err
	}
	if err := checkSecret(in.Secret); err != nil {
		return nil, err
	}
	var after Seq
	if in.Cursor != nil {
		if after, err = parseCursor(*in.Cursor); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	ttl := in.TTL
	if ttl == 0 || in.NoExpiry {
		ttl = DefaultSubscriptionTTL
	}
	ttl = min(max(ttl, MinSubscriptionTTL), MaxSubscriptionTTL)
	expires := now.Add(ttl)
	id := SubscriptionID(p.ID, in.URL, in.Name, in.Arguments)

	res := &SubscriptionResult{ID: id, RefreshBefore: expires, Active: true}
	cur, ok := s.endpoint(id)
	if ok && cur.ExpiresAt != nil && !now.Before(*cur.ExpiresAt) {
		// Expired but not swept yet: a fresh subscription.
		if err := s.deleteEndpoint(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		ok = false
	}
	if ok {
		res.Refreshed, res.Active = true, cur.Enabled
		if _, err := s.changeEndpoint(ctx, id, func(ep *Endpoint, now time.Time) error {
			ep.ExpiresAt = &expires
			if !ep.Enabled {
				ep.Enabled, ep.FailureStreak, ep.DisabledReason, ep.DisabledAt = true, 0, "", nil
			}
			if len(ep.Secrets) > 0 && ep.Secrets[0].Value != in.Secret {
				ep.Secrets = rotated(ep.Secrets, in.Secret, now)
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("refresh subscription %s: %w", id, err)
		}
		if !res.Active {
			if _, err := s.drainPaused(ctx, id, true); err != nil {
				return nil, err
			}
		}
	} else {
		ep := &Endpoint{
			ID: id, URL: in.URL, Kind: KindMCPEvents,
			Description: subscriptionDescription(in.Name, in.Arguments),
			Events:      []string{in.Name}, Source: source, Enabled: true,
			ManagedBy: ManagedByMCPEvents, Owner: p.ID, ExpiresAt: &expires,
			CreatedAt: now, UpdatedAt: now,
			Secrets: []Secret{{Value: in.Secret}},
		}
		ep.Filter = filter
		if err := s.checkEndpoint(ep); err != nil {
			return nil, err
		}
		if n := s.countOwned(p.ID); n >= MaxSubscriptionsPerPrincipal {
			return nil, fmt.Errorf("%w: %d is the most one principal may hold", ErrTooManySubscriptions, MaxSubscriptionsPerPrincipal)
		}
		if !s.verifiedCallback(p.ID, in.URL) {
			ch, ok := s.opts.Senders[KindMCPEvents].(Challenger)
			if !ok {
				return nil, fmt.Errorf("no sender for %s endpoints: this gateway was started without it", KindMCPEvents)
			}
			if err := ch.Challenge(ctx, ep, now); err != nil {
				return nil, err
			}
		}
		rev, err := s.store.Endpoints().Put(ctx, id, ep, 0)
		if errors.Is(err, ErrConflict) {
			return nil, fmt.Errorf("subscription %s was made meanwhile by the same subscriber: %w; subscribe again to refresh it", id, err)
		}
		if err != nil {
			return nil, fmt.Errorf("create subscription %s: %w", id, err)
		}
		s.setEndpoint(id, ep.clone(), rev)
		s.log.Info("MCP Events subscription created", "subscription", id, "event", in.Name, "principal", p.ID, "url", RedactURL(in.URL), "refresh_before", expires)
	}
	head, err := s.head(ctx)
	if err != nil {
		return nil, err
	}
	res.Cursor = strconv.FormatUint(uint64(head), 10)
	// A cursor replays into a new subscription only: a live one has delivered, or has queued,
	// everything since it began, so the cursor a refresh carries changes nothing.
	if in.Cursor != nil && after < head && !res.Refreshed {
		ep, _ := s.endpoint(id)
		n, truncated, err := s.replay(ctx, ep, after, head, in.MaxAge)
		if err != nil {
			return nil, err
		}
		res.Replayed, res.Truncated = n, truncated
	}
	return res, nil
}

// subscriptionDescription is the description of a subscription's endpoint.
func subscriptionDescription(name string, args map[string]any) string {
	a, _ := json.Marshal(args)
	return fmt.Sprintf("MCP Events subscription to %s %s", name, a)
}

// subscriptionOf reports whether ep is an MCP Events subscription principal owns.
func (ep *Endpoint) subscriptionOf(principal string) bool {
	return ep.ManagedBy == ManagedByMCPEvents && ep.Owner == principal
}

// countOwned counts the endpoints principal owns.
func (s *Service) countOwned(principal string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	for _, ep := range s.endpoints {
		if ep.subscriptionOf(principal) {
			n++
		}
	}
	return n
}

// verifiedCallback reports whether principal already has a subscription delivering to url:
// its challenge was answered, and covers every subscription of that principal to that URL.
func (s *Service) verifiedCallback(principal, url string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, ep := range s.endpoints {
		if ep.subscriptionOf(principal) && ep.URL == url {
			return true
		}
	}
	return false
}

// EndSubscription removes the caller's subscription to name with args at url. One that
// does not exist (never made, expired, ended by a 410) is no error: it is gone either way.
func (s *Service) EndSubscription(ctx context.Context, name string, args map[string]any, url string) error {
	if err := Allow(ctx, ScopeRead); err != nil {
		return err
	}
	p := principalOf(ctx)
	id := SubscriptionID(p.ID, url, name, args)
	ep, ok := s.endpoint(id)
	if !ok || !ep.subscriptionOf(p.ID) {
		return nil
	}
	if err := s.deleteEndpoint(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	s.log.Info("MCP Events subscription ended", "subscription", id, "event", name, "principal", p.ID)
	return nil
}

// expireSubscriptions deletes the endpoints whose ExpiresAt has passed, and the
// subscriptions whose principal was revoked (its key, or its OAuth grant) or lost the read
// scope.
func (s *Service) expireSubscriptions(ctx context.Context) {
	now := s.now()
	s.mu.RLock()
	gone := map[string]string{} // id → why
	owners := map[string][]string{}
	for id, ep := range s.endpoints {
		switch {
		case ep.ExpiresAt != nil && !now.Before(*ep.ExpiresAt):
			gone[id] = "not refreshed in time"
		case ep.ManagedBy == ManagedByMCPEvents && ep.Owner != "":
			owners[ep.Owner] = append(owners[ep.Owner], id)
		}
	}
	s.mu.RUnlock()
	for owner, ids := range owners {
		p, err := s.Principal(ctx, owner)
		switch {
		case errors.Is(err, ErrUnauthenticated):
			for _, id := range ids {
				gone[id] = "its key or grant was revoked"
			}
		case err != nil:
			s.log.Error("check a subscription's principal", "principal", owner, "err", err)
		case !p.Can(ScopeRead):
			for _, id := range ids {
				gone[id] = "its principal lost the read scope"
			}
		}
	}
	for id, why := range gone {
		if err := s.deleteEndpoint(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			s.log.Error("end a subscription", "subscription", id, "err", err)
			continue
		}
		s.log.Info("MCP Events subscription ended: "+why, "subscription", id)
	}
}

// endSubscriptionsOf ends the subscriptions principal owns (its key was revoked).
func (s *Service) endSubscriptionsOf(ctx context.Context, principal string) error {
	s.mu.RLock()
	var ids []string
	for id, ep := range s.endpoints {
		if ep.subscriptionOf(principal) {
			ids = append(ids, id)
		}
	}
	s.mu.RUnlock()
	for _, id := range ids {
		if err := s.deleteEndpoint(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("end subscription %s of %s: %w", id, principal, err)
		}
	}
	return nil
}

// head returns the sequence of the newest event appended: the newest one stored, or the
// newest this process appended if retention has removed it since (0 for a log that is
// empty, and has been since this process started).
func (s *Service) head(ctx context.Context) (Seq, error) {
	r, err := s.store.Events(ctx, EventQuery{Newest: true, Limit: 1})
	if err != nil {
		return 0, fmt.Errorf("read the log's head: %w", err)
	}
	if len(r.Events) > 0 {
		s.noteSeq(r.Events[0].Seq)
	}
	return Seq(s.lastSeq.Load()), nil
}

// noteSeq raises the head this process knows to seq.
func (s *Service) noteSeq(seq Seq) {
	for {
		cur := s.lastSeq.Load()
		if uint64(seq) <= cur || s.lastSeq.CompareAndSwap(cur, uint64(seq)) {
			return
		}
	}
}

// truncatedAfter reports whether retention removed events after the cursor after: the
// store numbers appends one after the other, so the first event kept after it is not
// after+1 (or none is kept though the head is past it) only when events were removed.
func (s *Service) truncatedAfter(ctx context.Context, after, head Seq) (bool, error) {
	if head <= after {
		return false, nil
	}
	r, err := s.store.Events(ctx, EventQuery{After: after, Limit: 1, MaxScan: 1})
	if err != nil {
		return false, fmt.Errorf("read the log after %d: %w", after, err)
	}
	return len(r.Events) == 0 || r.Events[0].Seq > after+1, nil
}

// maxReplay bounds the deliveries one subscribe's cursor makes.
const maxReplay = 10000

// replay queues a delivery to ep of every event after after, up to head, that ep would have
// received (its type, source and filter), none received longer than maxAge ago (0: no
// bound). It reports truncated when retention or maxAge left events out.
func (s *Service) replay(ctx context.Context, ep *Endpoint, after, head Seq, maxAge time.Duration) (int, bool, error) {
	truncated, err := s.truncatedAfter(ctx, after, head)
	if err != nil {
		return 0, false, err
	}
	tooOld := ageFloor(s.now(), maxAge, &truncated)
	n := 0
	for after < head && n < maxReplay {
		r, err := s.store.Events(ctx, EventQuery{After: after, Limit: 500, MaxScan: maxScan, Match: func(ev *StoredEvent) bool {
			return ev.Seq <= head && !tooOld(ev) && ep.matches(&ev.Event)
		}})
		if err != nil {
			return n, truncated, fmt.Errorf("replay: %w", err)
		}
		for _, ev := range r.Events {
			if len(s.passFilters(ctx, &ev.Event, []*Endpoint{ep})) == 0 {
				continue
			}
			now := s.now()
			d := &Delivery{ID: newID("dlv", now), EventID: ev.ID, EndpointID: ep.ID, EventType: ev.Type,
				Status: StatusPending, NextAttemptAt: &now, Attempts: []Attempt{}, CreatedAt: now, UpdatedAt: now}
			err := s.store.AddDeliveries(ctx, ev.ID, d)
			if errors.Is(err, ErrNotFound) {
				truncated = true // removed by retention since it was read
				continue
			}
			if err != nil {
				return n, truncated, fmt.Errorf("replay %s: %w", ev.ID, err)
			}
			n++
		}
		if !r.More || r.Next <= after {
			break
		}
		after = r.Next
	}
	return n, truncated, nil
}

// ageFloor returns a test for events received longer than maxAge before now (none when
// maxAge is 0), which sets *skipped when it leaves one out.
func ageFloor(now time.Time, maxAge time.Duration, skipped *bool) func(*StoredEvent) bool {
	floor := now.Add(-maxAge)
	return func(ev *StoredEvent) bool {
		if maxAge <= 0 || !ev.ReceivedAt.Before(floor) {
			return false
		}
		*skipped = true
		return true
	}
}

// PollInput is an events/poll.
type PollInput struct {
	Name      string
	Arguments map[string]any
	// Cursor is where the last poll stopped; nil starts from now.
	Cursor *string
	// MaxAge, when set, returns no event received longer ago than this.
	MaxAge    time.Duration
	MaxEvents int
}

// PollResult is what events/poll answers.
type PollResult struct {
	Events    []*StoredEvent
	Cursor    string
	Truncated bool
	HasMore   bool
}

// Poll reads the events of one subscription (name and arguments) after a cursor.
func (s *Service) Poll(ctx context.Context, in PollInput) (*PollResult, error) {
	if err := Allow(ctx, ScopeRead); err != nil {
		return nil, err
	}
	source, filter, err := s.subscriptionFilter(in.Name, in.Arguments)
	if err != nil {
		return nil, err
	}
	head, err := s.head(ctx)
	if err != nil {
		return nil, err
	}
	res := &PollResult{Events: []*StoredEvent{}, Cursor: strconv.FormatUint(uint64(head), 10)}
	if in.Cursor == nil {
		return res, nil
	}
	after, err := parseCursor(*in.Cursor)
	if err != nil {
		return nil, err
	}
	if res.Truncated, err = s.truncatedAfter(ctx, after, head); err != nil {
		return nil, err
	}
	ep := &Endpoint{Events: []string{in.Name}, Source: source}
	ep.Filter = filter
	tooOld := ageFloor(s.now(), in.MaxAge, &res.Truncated)
	r, err := s.store.Events(ctx, EventQuery{After: after, Limit: ClampLimit(in.MaxEvents), MaxScan: maxScan, Match: func(ev *StoredEvent) bool {
		return !tooOld(ev) && ep.matches(&ev.Event) && len(s.passFilters(ctx, &ev.Event, []*Endpoint{ep})) == 1
	}})
	if err != nil {
		return nil, fmt.Errorf("poll %s: %w", in.Name, err)
	}
	res.Events = append(res.Events, r.Events...)
	next := max(r.Next, after)
	if next == after && !r.More {
		next = max(head, after) // nothing left to read (what was removed included): from the head on
	}
	res.Cursor = strconv.FormatUint(uint64(next), 10)
	res.HasMore = r.More
	return res, nil
}

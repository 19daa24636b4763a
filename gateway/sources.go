package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"
)

// A Source is a catch hook: a URL (/in/{id}) a provider posts its webhooks to. Each call is
// verified with the provider's signature scheme, mapped to the envelope, validated,
// deduplicated on the provider's event id within the source, and published like POST
// /v1/events under a fresh event id (the provider's id is kept as source_event_id).
type Source struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Provider picks the verification and mapping preset: tokportal, tinyposter,
	// uploadpost, oktopost, standard-webhooks or generic.
	Provider string `json:"provider"`
	// Secret is what the provider signs with (for uploadpost, the token in the URL).
	Secret string `json:"secret,omitempty"`
	// Verify tunes verification (the header for oktopost; everything for generic).
	Verify json.RawMessage `json:"verify,omitempty"`
	// Mapping is a jq program from the provider's payload to {type, id?, created?, data}
	// (generic); Sample is the payload it was checked against.
	Mapping   string          `json:"mapping,omitempty"`
	Sample    json.RawMessage `json:"sample,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	// URL is the catch-hook URL to give the provider; not stored, filled in from the
	// gateway's public URL (Options.PublicURL) or by the API from the request.
	URL string `json:"url,omitempty"`
}

// CatchHookURL returns the URL the provider posts to, under base ("https://hooks.example.com").
// Upload-Post signs nothing, so its URL carries the source's token.
func (src *Source) CatchHookURL(base string) string {
	u := strings.TrimRight(base, "/") + "/in/" + src.ID
	if src.Provider == "uploadpost" {
		u += "/" + src.Secret
	}
	return u
}

// withURL fills in URL when the gateway knows its public address.
func (s *Service) withURL(src *Source) *Source {
	if s.opts.PublicURL != "" {
		src.URL = src.CatchHookURL(s.opts.PublicURL)
	}
	return src
}

// stored returns a copy of src as the registry keeps it: without its derived URL.
func (src *Source) stored() *Source {
	c := *src
	c.URL = ""
	return &c
}

// Presets the four social-media providers' webhooks map to: the envelope's source is the
// provider's name, so that their types are validated against their own schemas.
var providerSources = []string{"tokportal", "tinyposter", "uploadpost", "oktopost"}

// EventSource is the envelope "source" of what this source receives: the provider for the
// four presets, the source's name otherwise.
func (src *Source) EventSource() string {
	if slices.Contains(providerSources, src.Provider) {
		return src.Provider
	}
	return src.Name
}

// Public returns a copy of src as reads and lists show it (API, CLI, MCP): credentials are
// write-only, so the secret (a Basic password included: CheckSource moves it there) and the
// token in the catch-hook URL (uploadpost's /in/{id}/{token}) are masked. The whole URL is
// shown by CreatedView, once, and on request (GET /v1/sources/{id}/url).
func (src *Source) Public() *Source {
	c := *src
	c.Secret = Mask(c.Secret)
	if tok := "/" + src.Secret; src.Secret != "" && strings.HasSuffix(c.URL, tok) {
		c.URL = strings.TrimSuffix(c.URL, tok) + "/" + Mask(src.Secret)
	}
	return &c
}

// CreatedView returns a copy of src as the answer to its creation shows it: like Public, but
// with the whole catch-hook URL, which the provider must be given.
func (src *Source) CreatedView() *Source {
	c := src.Public()
	c.URL = src.URL
	return c
}

// SourceInput creates a source.
type SourceInput struct {
	Name     string          `json:"name"`
	Provider string          `json:"provider"`
	Secret   string          `json:"secret,omitempty"`
	Verify   json.RawMessage `json:"verify,omitempty"`
	Mapping  string          `json:"mapping,omitempty"`
	Sample   json.RawMessage `json:"sample,omitempty"`
}

// SourcePatch changes a source; nil fields are left as they are.
type SourcePatch struct {
	Name    *string          `json:"name,omitempty"`
	Secret  *string          `json:"secret,omitempty"`
	Verify  *json.RawMessage `json:"verify,omitempty"`
	Mapping *string          `json:"mapping,omitempty"`
	Sample  *json.RawMessage `json:"sample,omitempty"`
}

// InboundRequest is one call a catch hook received.
type InboundRequest struct {
	Header http.Header
	Body   []byte
	// PathToken is what followed /in/{id}/ in the URL, if anything.
	PathToken string
}

// InboundEvent is a received call mapped to the envelope.
type InboundEvent struct {
	// ID is the provider's event id (empty if it sends none): the source's dedupe key,
	// kept on the stored event as SourceEventID.
	ID      string
	Type    string
	Created time.Time
	Data    json.RawMessage
}

// Inbound verifies and maps what sources receive, per provider. connectors/inbound holds
// the presets; the gateway stores sources and publishes what Map returns.
type Inbound interface {
	// CheckSource validates and normalises a source's settings (secret, verify, mapping
	// run on the sample); it returns a *ValidationError naming the field.
	CheckSource(src *Source) error
	// Open authenticates a call and maps its payload to an envelope. A call that fails
	// authentication is an error wrapping ErrUnverified; one whose payload can't be mapped
	// is any other error. Both are shown to whoever configures the provider.
	Open(src *Source, r *InboundRequest, now time.Time) (*InboundEvent, error)
}

// ErrUnverified means a catch-hook call failed verification (bad or missing signature).
var ErrUnverified = errors.New("the request failed verification")

// DedupeWindow is how long a source remembers the provider event ids it received: a call
// repeating one within it is answered with the first event's id and stores nothing.
const DedupeWindow = 7 * 24 * time.Hour

// RequestLogTTL is how long a source's request log keeps a call (within its bound, see
// DefaultRequestLogEntries).
const RequestLogTTL = 7 * 24 * time.Hour

// maxLoggedBody caps the part of a verified call's body kept in the request log.
const maxLoggedBody = 4 << 10

// maxLoggedHeaders and maxLoggedHeader cap the headers a logged call keeps: how many (the
// first by name) and how long each value.
const (
	maxLoggedHeaders = 40
	maxLoggedHeader  = 512
)

// SourceRequest is one logged catch-hook call.
type SourceRequest struct {
	ID         string    `json:"id"`
	ReceivedAt time.Time `json:"received_at"`
	Verified   bool      `json:"verified"`
	// Result is what became of the call: one of the RequestResult constants. connectors/httpapi
	// shows it as the HTTP status the catch hook answered.
	Result RequestResult `json:"result"`
	// Malformed, with Result invalid, says the mapped data was not well-formed JSON text
	// (ErrMalformed) rather than data that can't be mapped or fails its schema.
	Malformed bool              `json:"malformed,omitempty"`
	Error     string            `json:"error,omitempty"`
	EventID   string            `json:"event_id,omitempty"`
	EventType string            `json:"event_type,omitempty"`
	Duplicate bool              `json:"duplicate"`
	Headers   map[string]string `json:"headers"`
	BodySize  int               `json:"body_size"`
	Body      string            `json:"body,omitempty"`
}

// RequestResult is what became of a catch-hook call, as the request log records it
// (SourceRequest.Result): an outcome of the gateway, not an HTTP status; connectors/httpapi
// decides the status a result is answered and shown with.
type RequestResult string

// The results of a catch-hook call.
const (
	ResultAccepted  RequestResult = "accepted"  // verified, valid and stored as a new event
	ResultDuplicate RequestResult = "duplicate" // verified and valid, a repeat of a stored event: nothing stored
	ResultRejected  RequestResult = "rejected"  // verification failed (ErrUnverified)
	ResultInvalid   RequestResult = "invalid"   // can't be mapped, fails its schema or is malformed (*ValidationError)
	ResultFailed    RequestResult = "failed"    // storing it failed
)

// inbound returns the configured Inbound, or an error when the Service runs without one.
func (s *Service) inbound() (Inbound, error) {
	if s.opts.Inbound == nil {
		return nil, fmt.Errorf("this gateway runs without catch hooks: %w", ErrConflict)
	}
	return s.opts.Inbound, nil
}

func (s *Service) checkSource(src *Source) error {
	in, err := s.inbound()
	if err != nil {
		return err
	}
	src.Name = strings.TrimSpace(src.Name)
	if src.Name == "" {
		return invalid("name", "is required")
	}
	if !validName(src.Name) {
		return invalid("name", "must be 1-200 letters, digits or . _ : - (it becomes the events' source for generic sources)")
	}
	return in.CheckSource(src)
}

// CreateSource registers a catch hook.
func (s *Service) CreateSource(ctx context.Context, in SourceInput) (*Source, error) {
	if err := s.admit(); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	src := &Source{ID: newID("src", now), Name: in.Name, Provider: in.Provider, Secret: in.Secret,
		Verify: in.Verify, Mapping: in.Mapping, Sample: in.Sample, CreatedAt: now, UpdatedAt: now}
	if err := s.checkSource(src); err != nil {
		return nil, err
	}
	if _, err := s.store.Sources().Put(ctx, src.ID, src.stored(), 0); err != nil {
		return nil, fmt.Errorf("create source: %w", err)
	}
	return s.withURL(src), nil
}

// GetSource returns a source with its secret (callers show Public()).
func (s *Service) GetSource(ctx context.Context, id string) (*Source, error) {
	src, err := s.loadSource(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.withURL(src), nil
}

// loadSource reads a source as stored.
func (s *Service) loadSource(ctx context.Context, id string) (*Source, error) {
	src, _, err := s.store.Sources().Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", id, err)
	}
	return src, nil
}

// ListSources lists every source, oldest first.
func (s *Service) ListSources(ctx context.Context) ([]*Source, error) {
	list, err := s.store.Sources().List(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	out := make([]*Source, 0, len(list))
	for _, src := range list {
		out = append(out, s.withURL(src))
	}
	return out, nil
}

// UpdateSource applies a patch; the result is checked like a new source before it is
// written by compare-and-swap on the revision that was checked (see edit): if the source
// changed meanwhile, the patch is checked again on the new one.
func (s *Service) UpdateSource(ctx context.Context, id string, p SourcePatch) (*Source, error) {
	if err := s.admit(); err != nil {
		return nil, err
	}
	var out *Source
	err := s.edit(func() error {
		src, rev, err := s.store.Sources().Get(ctx, id)
		if err != nil {
			return err
		}
		if p.Name != nil {
			src.Name = *p.Name
		}
		if p.Secret != nil {
			src.Secret = *p.Secret
		}
		if p.Verify != nil {
			src.Verify = *p.Verify
		}
		if p.Mapping != nil {
			src.Mapping = *p.Mapping
		}
		if p.Sample != nil {
			src.Sample = *p.Sample
		}
		if err := s.checkSource(src); err != nil {
			return err
		}
		src.UpdatedAt = s.now().UTC()
		if _, err := s.store.Sources().Put(ctx, id, src.stored(), rev); errors.Is(err, ErrConflict) {
			return errStale
		} else if err != nil {
			return err
		}
		out = s.withURL(src)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", id, err)
	}
	return out, nil
}

// DeleteSource removes a source; its catch-hook URL answers 404 from then on. Events it
// received stay.
func (s *Service) DeleteSource(ctx context.Context, id string) error {
	if err := s.admit(); err != nil {
		return err
	}
	if err := s.store.Sources().Delete(ctx, id); err != nil {
		return fmt.Errorf("source %s: %w", id, err)
	}
	if err := s.store.DropRequests(ctx, id); err != nil {
		return fmt.Errorf("source %s: drop its request log: %w", id, err)
	}
	return nil
}

// ReceiveResult is what a catch-hook call produced.
type ReceiveResult struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// Receive handles one catch-hook call: verify, map, dedupe, validate, publish — and log
// it, whatever the outcome. A failed verification wraps ErrUnverified; a payload that
// can't be mapped or fails its schema is a *ValidationError; an unknown source ErrNotFound.
func (s *Service) Receive(ctx context.Context, sourceID string, r *InboundRequest) (*ReceiveResult, error) {
	if err := s.admit(); err != nil {
		return nil, err
	}
	in, err := s.inbound()
	if err != nil {
		return nil, err
	}
	src, err := s.loadSource(ctx, sourceID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	entry := &SourceRequest{ID: newID("req", now), ReceivedAt: now, Headers: loggedHeaders(r.Header), BodySize: len(r.Body)}
	entry.Body = string(r.Body[:min(len(r.Body), maxLoggedBody)])

	ev, err := in.Open(src, r, now)
	if errors.Is(err, ErrUnverified) {
		// Anyone can send these: keep an excerpt only.
		entry.Body = string(r.Body[:min(len(r.Body), maxRejectedBody)])
		entry.Result, entry.Error = ResultRejected, err.Error()
		s.logRequest(ctx, src.ID, entry)
		return nil, err
	}
	entry.Verified = true
	if err != nil {
		entry.Result, entry.Error = ResultInvalid, err.Error()
		s.logRequest(ctx, src.ID, entry)
		return nil, &ValidationError{Field: "body", Message: "can't map the " + src.Provider + " payload: " + err.Error(), Err: err}
	}
	// The event gets its own hookgate id; the provider's id is kept on it and is the
	// dedupe key within this source only, so two sources whose providers both send id
	// 1001 never collide.
	pub := PublishInput{Type: ev.Type, Source: src.EventSource(), Created: ev.Created, Data: ev.Data, sourceEventID: ev.ID}
	entry.EventType = ev.Type
	if err := s.checkPublish(&pub); err != nil {
		entry.Result, entry.Error, entry.Malformed = ResultInvalid, err.Error(), errors.Is(err, ErrMalformed)
		s.logRequest(ctx, src.ID, entry)
		return nil, err
	}
	dedupe := ""
	if ev.ID != "" {
		dedupe = sourceDedupeKey(src.ID, ev.ID)
	}
	err = s.backpressure(ctx)
	var res *PublishResult
	if err == nil {
		res, err = s.publishWith(ctx, pub, nil, dedupe, DedupeWindow)
	}
	if err != nil {
		entry.Result, entry.Error = ResultFailed, err.Error()
		s.logRequest(context.WithoutCancel(ctx), src.ID, entry)
		return nil, err
	}
	entry.Result, entry.EventID, entry.Duplicate = ResultAccepted, res.ID, res.Duplicate
	if res.Duplicate {
		entry.Result = ResultDuplicate
	}
	s.logRequest(ctx, src.ID, entry)
	return &ReceiveResult{ID: res.ID, Duplicate: res.Duplicate}, nil
}

// sourceDedupeKey is the dedupe key of the provider's event id providerID received by the
// source srcID: "<source id>/<provider id>" (event ids, the publish API's keys, have no
// slash, so the two never collide; queue/badger migrates older catch-hook keys to it).
func sourceDedupeKey(srcID, providerID string) string {
	return srcID + "/" + inboundID(providerID)
}

// inboundID makes a provider's event id usable in a dedupe key: kept when it is a valid id,
// otherwise replaced by a digest of it (still the same for the same provider id).
func inboundID(id string) string {
	if id == "" || validName(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return "in_" + hex.EncodeToString(sum[:20])
}

// loggedHeaders keeps a call's headers for the request log, one value per name.
func loggedHeaders(h http.Header) map[string]string {
	names := slices.Sorted(maps.Keys(h))
	out := make(map[string]string, min(len(names), maxLoggedHeaders))
	for _, k := range names[:min(len(names), maxLoggedHeaders)] {
		if sensitiveHeader(k) {
			out[k] = "[redacted]"
			continue
		}
		v := strings.Join(h[k], ", ")
		if len(v) > maxLoggedHeader {
			v = strings.ToValidUTF8(v[:maxLoggedHeader], "") + "…"
		}
		out[k] = v
	}
	return out
}

// sensitiveHeader reports whether a header may carry a credential (a token, an API key, a
// password) rather than a signature, so the request log must not keep its value.
func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	if n == "cookie" || n == "authorization" || n == "proxy-authorization" {
		return true
	}
	for _, w := range []string{"token", "key", "secret", "auth", "password", "session"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// ListSourceRequests returns a source's latest logged calls, newest first.
func (s *Service) ListSourceRequests(ctx context.Context, sourceID string, limit int) ([]*SourceRequest, error) {
	if _, err := s.loadSource(ctx, sourceID); err != nil {
		return nil, err
	}
	out, err := s.store.Requests(ctx, sourceID, ClampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("source %s requests: %w", sourceID, err)
	}
	if out == nil {
		out = []*SourceRequest{}
	}
	return out, nil
}

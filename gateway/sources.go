package gateway

import (
	"bytes"
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

	"github.com/hookgate/hookgate/queue"
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

// saveSource writes a source without its derived URL.
func saveSource(tx *queue.Txn, src *Source) error {
	c := *src
	c.URL = ""
	return save(tx, sourceKey(c.ID), &c)
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
	c.Secret = mask(c.Secret)
	if tok := "/" + src.Secret; src.Secret != "" && strings.HasSuffix(c.URL, tok) {
		c.URL = strings.TrimSuffix(c.URL, tok) + "/" + mask(src.Secret)
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

// Keys:
//
//	src/<source id>                               → Source JSON
//	srd/<source id>/<provider event id>           → hookgate event id, with TTL DedupeWindow
//	srq/<source id>/<received ns, 8 bytes><id>    → SourceRequest JSON with TTL RequestLogTTL (bounded: requestlog.go)
const (
	pSource    = "src/"
	pSourceDup = "srd/"
	pSourceReq = "srq/"
)

func sourceKey(id string) []byte          { return []byte(pSource + id) }
func sourceDupKey(id, evID string) []byte { return []byte(pSourceDup + id + "/" + evID) }
func sourceReqPrefix(id string) []byte    { return []byte(pSourceReq + id + "/") }
func sourceReqKey(id string, ns int64, reqID string) []byte {
	return timeKey(sourceReqPrefix(id), ns, reqID)
}

// SourceRequest is one logged catch-hook call.
type SourceRequest struct {
	ID         string            `json:"id"`
	ReceivedAt time.Time         `json:"received_at"`
	Verified   bool              `json:"verified"`
	Status     int               `json:"status"`
	Error      string            `json:"error,omitempty"`
	EventID    string            `json:"event_id,omitempty"`
	EventType  string            `json:"event_type,omitempty"`
	Duplicate  bool              `json:"duplicate"`
	Headers    map[string]string `json:"headers"`
	BodySize   int               `json:"body_size"`
	Body       string            `json:"body,omitempty"`
}

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
	if !validName.MatchString(src.Name) {
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
	if err := s.db.Update(ctx, func(tx *queue.Txn) error { return saveSource(tx, src) }); err != nil {
		return nil, fmt.Errorf("create source: %w", err)
	}
	return s.withURL(src), nil
}

// GetSource returns a source with its secret (callers show Public()).
func (s *Service) GetSource(ctx context.Context, id string) (*Source, error) {
	src, err := s.loadSource(id)
	if err != nil {
		return nil, err
	}
	return s.withURL(src), nil
}

// loadSource reads a source as stored.
func (s *Service) loadSource(id string) (*Source, error) {
	var src Source
	err := s.db.View(func(r *queue.Reader) error { return load(r, sourceKey(id), &src) })
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", id, err)
	}
	return &src, nil
}

// ListSources lists every source, oldest first.
func (s *Service) ListSources(ctx context.Context) ([]*Source, error) {
	out := []*Source{}
	err := s.db.View(func(r *queue.Reader) error {
		return r.Scan([]byte(pSource), nil, false, func(k, v []byte) (bool, error) {
			var src Source
			if err := json.Unmarshal(v, &src); err != nil {
				return false, fmt.Errorf("decode %s: %w", k, err)
			}
			out = append(out, s.withURL(&src))
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return out, nil
}

// UpdateSource applies a patch; the result is checked like a new source, outside the
// store's write path (see edit): the write only saves it if the source is unchanged since.
func (s *Service) UpdateSource(ctx context.Context, id string, p SourcePatch) (*Source, error) {
	if err := s.admit(); err != nil {
		return nil, err
	}
	var out *Source
	err := s.edit(ctx, func() (func(tx *queue.Txn) error, error) {
		var (
			base []byte
			src  Source
		)
		err := s.db.View(func(r *queue.Reader) error {
			var err error
			if base, err = r.Get(sourceKey(id)); err != nil {
				return err
			}
			return load(r, sourceKey(id), &src)
		})
		if errors.Is(err, queue.ErrNotFound) {
			return nil, ErrNotFound
		} else if err != nil {
			return nil, err
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
		if err := s.checkSource(&src); err != nil {
			return nil, err
		}
		return func(tx *queue.Txn) error {
			cur, err := tx.Get(sourceKey(id))
			if errors.Is(err, queue.ErrNotFound) {
				return ErrNotFound
			} else if err != nil {
				return err
			}
			if !bytes.Equal(cur, base) {
				return errStale
			}
			src.UpdatedAt = s.now().UTC()
			out = s.withURL(&src)
			return saveSource(tx, &src)
		}, nil
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
	err := s.db.Update(ctx, func(tx *queue.Txn) error {
		if _, err := tx.Get(sourceKey(id)); errors.Is(err, queue.ErrNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		tx.Delete(sourceKey(id))
		tx.OnCommit(func() { s.reqLogs.forget(id) })
		return nil
	})
	if err != nil {
		return fmt.Errorf("source %s: %w", id, err)
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
	src, err := s.loadSource(sourceID)
	if err != nil {
		return nil, err
	}
	if err := s.loadRequestLog(ctx, src.ID); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	entry := &SourceRequest{ID: newID("req", now), ReceivedAt: now, Headers: loggedHeaders(r.Header), BodySize: len(r.Body)}
	entry.Body = string(r.Body[:min(len(r.Body), maxLoggedBody)])

	ev, err := in.Open(src, r, now)
	if errors.Is(err, ErrUnverified) {
		// Anyone can send these: keep an excerpt only.
		entry.Body = string(r.Body[:min(len(r.Body), maxRejectedBody)])
		entry.Status, entry.Error = http.StatusUnauthorized, err.Error()
		s.logRequest(ctx, src.ID, entry)
		return nil, err
	}
	entry.Verified = true
	if err != nil {
		entry.Status, entry.Error = http.StatusUnprocessableEntity, err.Error()
		s.logRequest(ctx, src.ID, entry)
		return nil, &ValidationError{Field: "body", Message: "can't map the " + src.Provider + " payload: " + err.Error(), Err: err}
	}
	// The event gets its own hookgate id; the provider's id is kept on it and is the
	// dedupe key within this source only, so two sources whose providers both send id
	// 1001 never collide.
	pub := PublishInput{Type: ev.Type, Source: src.EventSource(), Created: ev.Created, Data: ev.Data, sourceEventID: ev.ID}
	entry.EventType = ev.Type
	if err := s.checkPublish(&pub); err != nil {
		entry.Status, entry.Error = http.StatusUnprocessableEntity, err.Error()
		if errors.Is(err, ErrMalformed) {
			entry.Status = http.StatusBadRequest
		}
		s.logRequest(ctx, src.ID, entry)
		return nil, err
	}
	var dupKey []byte
	if ev.ID != "" {
		dupKey = sourceDupKey(src.ID, inboundID(ev.ID))
	}
	res, err := s.publishWith(ctx, pub, nil, func(tx *queue.Txn, res *PublishResult) (bool, error) {
		if dupKey == nil {
			return false, nil
		}
		first, err := tx.Get(dupKey)
		if errors.Is(err, queue.ErrNotFound) {
			return false, nil
		} else if err != nil {
			return false, err
		}
		res.ID = string(first)
		if res.ID == "" {
			// Recorded before dedupe keys held the event id: the event id was then the
			// provider's id, made usable.
			res.ID = inboundID(ev.ID)
		}
		return true, nil
	}, func(tx *queue.Txn, res *PublishResult) error {
		if dupKey != nil && !res.Duplicate {
			tx.SetTTL(dupKey, []byte(res.ID), DedupeWindow)
		}
		entry.Status, entry.EventID, entry.Duplicate = http.StatusOK, res.ID, res.Duplicate
		return s.putRequest(tx, src.ID, entry)
	})
	if err != nil {
		s.dropRequest(src.ID, entry)
		entry.Status, entry.Error = http.StatusInternalServerError, err.Error()
		s.logRequest(context.WithoutCancel(ctx), src.ID, entry)
		return nil, err
	}
	return &ReceiveResult{ID: res.ID, Duplicate: res.Duplicate}, nil
}

// inboundID makes a provider's event id usable in a dedupe key: kept when it is a valid id,
// otherwise replaced by a digest of it (still the same for the same provider id).
func inboundID(id string) string {
	if id == "" || validName.MatchString(id) {
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
	if _, err := s.loadSource(sourceID); err != nil {
		return nil, err
	}
	limit = clampLimit(limit)
	out := []*SourceRequest{}
	err := s.db.View(func(r *queue.Reader) error {
		return r.Scan(sourceReqPrefix(sourceID), nil, true, func(k, v []byte) (bool, error) {
			var e SourceRequest
			if err := json.Unmarshal(v, &e); err != nil {
				return false, fmt.Errorf("decode %s: %w", k, err)
			}
			out = append(out, &e)
			return len(out) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("source %s requests: %w", sourceID, err)
	}
	return out, nil
}

// Package inbound verifies and maps the webhooks that providers send to hookgate's catch
// hooks (POST /in/{source_id}): it holds the presets for TokPortal, tinyposter, Upload-Post
// and Oktopost, Standard Webhooks, and a generic source whose verification and jq mapping
// are configured. It knows nothing of HTTP routing or storage: the caller hands it a
// source's Config and the call it received, and gets back an error or an Envelope.
//
// A call goes through three steps:
//
//   - Check, once, when a source is created or changed: it validates the Config, fills in
//     defaults, compiles the jq mapping and runs it on the sample. Its errors are
//     *FieldError values naming the setting ("verify.algorithm", "mapping").
//   - Verify, on every call, before anything else: the provider's signature over the raw
//     body (or, for Upload-Post, which signs nothing, the source's token), compared in
//     constant time. Its errors are *VerifyError values whose Reason can be shown to whoever
//     configures the provider ("signature does not match").
//   - MapRequest, on every verified call: the provider's payload becomes hookgate's envelope
//     {id, type, created, data}. Its errors are *MapError values.
//
// schemas/README.md gives the mapping of each provider field by field; docs/providers.md
// says how to point each provider at hookgate.
//
// # Example
//
//	cfg := &inbound.Config{Provider: inbound.TokPortal, Secret: secret}
//	if err := inbound.Check(cfg); err != nil {
//		return err // *inbound.FieldError: err.FieldName() is "secret", "verify.header"…
//	}
//	req := inbound.Request{Header: r.Header, Body: body}
//	if err := inbound.Verify(cfg, req, time.Now()); err != nil {
//		return err // *inbound.VerifyError: "missing X-TokPortal-Signature header"
//	}
//	env, err := inbound.MapRequest(cfg, req)
//	if err != nil {
//		return err // *inbound.MapError: `body has no "event" field (…)`
//	}
//	// env.Type == "video.posted", env.ID == the provider's event_id, env.Data == its data
//
// Every function here is safe for concurrent use, and none panics, whatever the request.
package inbound

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Providers, the values of Config.Provider.
const (
	// TokPortal signs the raw body: hex HMAC-SHA256 in X-TokPortal-Signature.
	TokPortal = "tokportal"
	// Tinyposter signs "{t}.{body}": X-Tinyposter-Signature: t=<unix>,v1=<hex>.
	Tinyposter = "tinyposter"
	// UploadPost signs nothing: the source's token travels in the URL or X-Hookgate-Token.
	UploadPost = "uploadpost"
	// Oktopost signs the JSON body with the webhook's secret, hex HMAC-SHA256.
	Oktopost = "oktopost"
	// StandardWebhooks is any sender following standardwebhooks.com (hookgate itself among them).
	StandardWebhooks = "standard-webhooks"
	// Generic is verified as VerifyConfig says and mapped by a jq program.
	Generic = "generic"
)

// Providers returns the provider names Check accepts.
func Providers() []string {
	return []string{TokPortal, Tinyposter, UploadPost, Oktopost, StandardWebhooks, Generic}
}

// Header names the presets read.
const (
	TokPortalHeader  = "X-TokPortal-Signature"
	TinyposterHeader = "X-Tinyposter-Signature"
	// OktopostHeader is the default header of Oktopost's signature. Oktopost's document
	// shows how the signature is computed but not the header it travels in, so the name can
	// be changed with verify.header.
	OktopostHeader = "X-Oktopost-Signature"
	// TokenHeader carries an Upload-Post source's token when it is not in the URL.
	TokenHeader = "X-Hookgate-Token"

	StandardWebhooksIDHeader        = "webhook-id"
	StandardWebhooksTimestampHeader = "webhook-timestamp"
	StandardWebhooksSignatureHeader = "webhook-signature"
)

// DefaultTolerance is how far a signed timestamp may be from now (either way) when the
// source does not set verify.tolerance_seconds: 5 minutes, as tinyposter and Standard
// Webhooks say.
const DefaultTolerance = 300 * time.Second

// Config is a source's settings: which provider sends to it and how its calls are verified
// and mapped. Check validates it and fills in defaults; Verify and MapRequest read it. It
// is stored with the source, as JSON.
type Config struct {
	// Provider is one of TokPortal, Tinyposter, UploadPost, Oktopost, StandardWebhooks,
	// Generic.
	Provider string `json:"provider"`
	// Secret is what the provider signs with: the signing secret the provider shows (the
	// whole "whsec_…" string for tinyposter and Standard Webhooks), the HMAC key, API key or
	// Basic password of a generic source, or, for Upload-Post, the token the URL carries
	// (Check makes one when it is empty).
	Secret string `json:"secret,omitempty"`
	// Verify tunes verification: the header name for Oktopost, the tolerance for tinyposter
	// and Standard Webhooks, everything for a generic source.
	Verify *VerifyConfig `json:"verify,omitempty"`
	// Mapping is a generic source's jq program from the provider's payload to
	// {type, id?, created?, data}. Without one, the payload must be that object already.
	Mapping string `json:"mapping,omitempty"`
	// Sample is a payload the provider sends; Check maps it, so that a mapping (or, for the
	// presets, the payload) that does not give an envelope is refused when the source is
	// set up rather than when the first event arrives.
	Sample json.RawMessage `json:"sample,omitempty"`
}

// VerifyConfig says how a generic source's calls are authenticated (and, for the presets,
// the few things that may be tuned: Header for Oktopost, ToleranceSeconds for tinyposter
// and Standard Webhooks).
type VerifyConfig struct {
	// Type is "hmac" (the default), "basic", "api_key" or "none".
	Type string `json:"type,omitempty"`

	// Header is the header that carries the signature ("X-Hub-Signature-256").
	Header string `json:"header,omitempty"`
	// Algorithm is the HMAC hash: sha1, sha256 (default) or sha512.
	Algorithm string `json:"algorithm,omitempty"`
	// Encoding is how the signature is written: hex (default) or base64.
	Encoding string `json:"encoding,omitempty"`
	// Prefix precedes the signature in the header ("sha256=", as GitHub writes it).
	Prefix string `json:"prefix,omitempty"`
	// Template is the signed text: "{body}" (default), or with the timestamp, such as
	// "{timestamp}.{body}" or Slack's "v0:{timestamp}:{body}".
	Template string `json:"template,omitempty"`
	// TimestampHeader carries the unix time (seconds) that Template's {timestamp} stands for.
	TimestampHeader string `json:"timestamp_header,omitempty"`
	// ToleranceSeconds is how far that time may be from now; 300 when a timestamp is used.
	ToleranceSeconds int `json:"tolerance_seconds,omitempty"`

	// Username is the Basic user name; the password is Config.Secret.
	Username string `json:"username,omitempty"`
	// Password is accepted as input only: Check moves it to Config.Secret, which the API
	// masks when it shows a source.
	Password string `json:"password,omitempty"`

	// APIKeyHeader is the header that carries the API key (default X-API-Key); the key is
	// Config.Secret. "Authorization: Bearer <key>" works with APIKeyHeader "Authorization".
	APIKeyHeader string `json:"api_key_header,omitempty"`
}

// Generic verification types, the values of VerifyConfig.Type.
const (
	VerifyHMAC   = "hmac"
	VerifyBasic  = "basic"
	VerifyAPIKey = "api_key"
	VerifyNone   = "none"
)

// Request is one call a catch hook received.
type Request struct {
	// Header holds the call's headers; nil is read as none.
	Header http.Header
	// Body is the raw body, exactly as received: signatures are over these bytes.
	Body []byte
	// PathToken is what followed /in/{source_id}/ in the URL, if anything.
	PathToken string
}

// Envelope is a provider's payload mapped to hookgate's event: what the gateway validates
// against the catalog and publishes.
type Envelope struct {
	// ID is the dedupe key: the provider's event id, one derived from the payload when the
	// provider has none (Upload-Post, Oktopost), or empty (the gateway makes one).
	ID string `json:"id,omitempty"`
	// Type is the provider's own name of the event ("video.posted", "postSent").
	Type string `json:"type"`
	// Created is when the event happened, in UTC; zero when the payload does not say.
	Created time.Time `json:"created,omitzero"`
	// Data is the event's data, a JSON value (an object for every preset).
	Data json.RawMessage `json:"data"`
}

// FieldError is why Check refused a Config: Field names the setting ("secret",
// "verify.algorithm", "mapping", "sample"), Message says what is wrong with it.
type FieldError struct {
	Field   string
	Message string
}

// Error reads like `verify.algorithm: "md5" is not supported: use sha1, sha256 or sha512`.
func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

// FieldName returns the setting the error is about.
func (e *FieldError) FieldName() string { return e.Field }

func fieldErrorf(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// VerifyError is why Verify refused a call. Reason is meant for whoever configures the
// provider ("missing X-TokPortal-Signature header", "signature does not match"); it never
// quotes a secret or the expected signature.
type VerifyError struct {
	Reason string
}

// Error returns Reason.
func (e *VerifyError) Error() string { return e.Reason }

func verifyErrorf(format string, args ...any) *VerifyError {
	return &VerifyError{Reason: fmt.Sprintf(format, args...)}
}

// MapError is why a payload could not be mapped to an envelope: not JSON, no event type, a
// time that is not a time, a jq mapping that failed. Err is the underlying error, if any.
type MapError struct {
	Reason string
	Err    error
}

// Error returns Reason.
func (e *MapError) Error() string { return e.Reason }

// Unwrap returns the underlying error (a JSON syntax error, a jq error), if any.
func (e *MapError) Unwrap() error { return e.Err }

func mapErrorf(format string, args ...any) *MapError {
	return &MapError{Reason: fmt.Sprintf(format, args...)}
}

// NewToken returns a random token for an Upload-Post source's catch-hook URL: 26
// characters of base32 (A-Z, 2-7) carrying 128 random bits, safe in a URL path as is.
func NewToken() string {
	return rand.Text()
}

// provider returns cfg's provider as Check normalises it.
func provider(cfg *Config) string {
	return strings.ToLower(strings.TrimSpace(cfg.Provider))
}

// Verify checks that a call comes from the source's provider, as cfg says (see the
// provider constants), comparing signatures and tokens in constant time. now is the time
// signed timestamps are checked against. It returns nil or a *VerifyError.
func Verify(cfg *Config, r Request, now time.Time) error {
	if cfg == nil {
		return verifyErrorf("the source has no configuration")
	}
	switch p := provider(cfg); p {
	case TokPortal:
		return verifyHexBody(cfg, r, TokPortalHeader, false)
	case Oktopost:
		return verifyHexBody(cfg, r, headerOr(cfg.Verify, OktopostHeader), true)
	case Tinyposter:
		return verifyTinyposter(cfg, r, now)
	case StandardWebhooks:
		return verifyStandardWebhooks(cfg, r, now)
	case UploadPost:
		return verifyToken(cfg, r)
	case Generic:
		return verifyGeneric(cfg, r, now)
	default:
		return verifyErrorf("the source's provider %q is not one hookgate knows", p)
	}
}

// Map turns a payload into hookgate's envelope, as MapRequest does for a call without
// headers. Prefer MapRequest: a Standard Webhooks payload without an id takes the
// webhook-id header's.
func Map(cfg *Config, body []byte) (*Envelope, error) {
	return MapRequest(cfg, Request{Body: body})
}

// MapRequest turns a verified call's payload into hookgate's envelope, per provider (see
// schemas/README.md). It returns a *MapError when the body is not a JSON object, has no
// event type, or has a field the envelope can't take (a created time that is not a time).
func MapRequest(cfg *Config, r Request) (*Envelope, error) {
	if cfg == nil {
		return nil, mapErrorf("the source has no configuration")
	}
	p := provider(cfg)
	if p == Generic && strings.TrimSpace(cfg.Mapping) != "" {
		return mapJQ(cfg.Mapping, r.Body)
	}
	obj, err := decodeObject(r.Body, "body")
	if err != nil {
		return nil, err
	}
	switch p {
	case TokPortal:
		return mapTokPortal(obj)
	case Tinyposter:
		return mapTinyposter(obj)
	case UploadPost:
		return mapUploadPost(obj, r.Body)
	case Oktopost:
		return mapOktopost(obj)
	case StandardWebhooks:
		return mapEnvelope(obj, "body", "a Standard Webhooks payload is {type, id?, timestamp?, data}", firstHeader(r, StandardWebhooksIDHeader))
	case Generic:
		return mapEnvelope(obj, "body", "without a mapping the payload must be {type, id?, created?, data}; give the source a jq mapping otherwise", "")
	default:
		return nil, mapErrorf("the source's provider %q is not one hookgate knows", p)
	}
}

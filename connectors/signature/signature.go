// Package signature implements Standard Webhooks signing and verification — the whole
// contract in one file — plus the generic HMAC helpers that catch-hook presets build on.
//
// A Standard Webhooks signature is "v1," + base64(HMAC-SHA256(key, id + "." + timestamp +
// "." + body)), where key is the base64-decoded part of the secret after "whsec_" and
// timestamp is in unix seconds. It travels in three headers: webhook-id, webhook-timestamp
// and webhook-signature. During a secret rotation webhook-signature carries several
// space-separated entries, one per secret; a receiver accepts the message if any one matches.
//
// # Example
//
// Signing, as hookgate does for every delivery, and checking, as a receiver does:
//
//	secret := gateway.NewSecret() // "whsec_…", shown to the subscriber once
//	now := time.Now()
//	sig, _ := signature.Header([]string{secret}, "evt_1", now, body)
//	req.Header.Set(signature.HeaderID, "evt_1")
//	req.Header.Set(signature.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
//	req.Header.Set(signature.HeaderSignature, sig)
//
//	// on the receiving side
//	if err := signature.Verify([]string{secret}, req.Header, body, 0, time.Now()); err != nil {
//		// errors.Is(err, signature.ErrInvalidSignature), ErrTimestampTooOld, …
//	}
package signature

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookgate/hookgate/connectors/internal/memo"
)

// Header names of Standard Webhooks.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every secret NewSecret makes.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a timestamp may be from now before Verify refuses it, the
// value the Standard Webhooks libraries use.
const DefaultTolerance = 5 * time.Minute

// Failures of this package, tested with errors.Is.
var (
	// ErrMissingHeader means webhook-id, webhook-timestamp or webhook-signature is absent.
	ErrMissingHeader = errors.New("missing webhook header")
	// ErrInvalidHeader means a header is present but malformed (a timestamp that is not a
	// number, a "t=…,v1=…" header without t or v1).
	ErrInvalidHeader = errors.New("invalid webhook header")
	// ErrInvalidSignature means no signature entry matches any secret.
	ErrInvalidSignature = errors.New("no matching signature")
	// ErrTimestampTooOld means the timestamp is further in the past than the tolerance.
	ErrTimestampTooOld = errors.New("message timestamp too old")
	// ErrTimestampTooNew means the timestamp is further in the future than the tolerance.
	ErrTimestampTooNew = errors.New("message timestamp too new")
	// ErrInvalidSecret means a secret is not base64 (after an optional whsec_ prefix), or
	// there is no secret at all.
	ErrInvalidSecret = errors.New("invalid secret")
	// ErrUnknownAlgorithm means HMAC was asked for a hash other than sha1, sha256, sha512.
	ErrUnknownAlgorithm = errors.New("unknown HMAC algorithm")
)

// key decodes a secret into its HMAC key. Secrets without the whsec_ prefix are accepted,
// as the Standard Webhooks libraries do. The error never quotes the secret.
func key(secret string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(k) == 0 {
		return nil, fmt.Errorf("%w: want whsec_ followed by base64", ErrInvalidSecret)
	}
	return k, nil
}

// signers keeps, for each secret used lately, HMAC-SHA256 states keyed with it, so that a
// signature costs a Reset (a copy of the keyed state) rather than decoding the secret and
// keying a new HMAC (two SHA-256 blocks and five allocations), which every delivery and
// every verified catch hook paid.
var signers memo.Cache[*sync.Pool] // secret → pool of hash.Hash

// signer returns the pool of HMAC states keyed with secret.
func signer(secret string) (*sync.Pool, error) {
	return signers.Get(secret, func(secret string) (*sync.Pool, error) {
		k, err := key(secret)
		if err != nil {
			return nil, err
		}
		return &sync.Pool{New: func() any { return hmac.New(sha256.New, k) }}, nil
	})
}

// Sign returns the "v1,<base64>" signature of a message made with one secret.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	p, err := signer(secret)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", msgID, err)
	}
	return sign(p, msgID, ts.Unix(), body), nil
}

// sign signs id + "." + ts + "." + body with an HMAC state from p.
func sign(p *sync.Pool, msgID string, ts int64, body []byte) string {
	mac := p.Get().(hash.Hash)
	mac.Reset()
	var buf [64]byte
	b := append(buf[:0], msgID...)
	b = append(b, '.')
	b = strconv.AppendInt(b, ts, 10)
	mac.Write(append(b, '.'))
	mac.Write(body)
	var sum [sha256.Size]byte
	out := make([]byte, 3+base64.StdEncoding.EncodedLen(sha256.Size))
	copy(out, "v1,")
	base64.StdEncoding.Encode(out[3:], mac.Sum(sum[:0]))
	p.Put(mac)
	return string(out)
}

// Header returns the webhook-signature value for a message: one "v1,…" entry per secret,
// space-separated, in the order given (the current secret first, then rotated-out ones).
func Header(secrets []string, msgID string, ts time.Time, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", fmt.Errorf("sign %s: %w: none given", msgID, ErrInvalidSecret)
	}
	parts := make([]string, len(secrets))
	for i, s := range secrets {
		sig, err := Sign(s, msgID, ts, body)
		if err != nil {
			return "", err
		}
		parts[i] = sig
	}
	return strings.Join(parts, " "), nil
}

// Verify checks a Standard Webhooks message: the three headers are present, the timestamp
// is within tolerance of now (DefaultTolerance when tolerance is 0 or less), and one of the
// signature entries matches one of the secrets, compared in constant time. Entries of other
// versions ("v1a,…") are ignored. It returns nil or an error wrapping one of ErrMissingHeader,
// ErrInvalidHeader, ErrTimestampTooOld, ErrTimestampTooNew, ErrInvalidSecret or
// ErrInvalidSignature.
func Verify(secrets []string, h http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	id, tsText := h.Get(HeaderID), h.Get(HeaderTimestamp)
	var entries []string
	for _, v := range h.Values(HeaderSignature) {
		entries = append(entries, strings.Fields(v)...)
	}
	if id == "" || tsText == "" || len(entries) == 0 {
		return fmt.Errorf("%w: need %s, %s and %s", ErrMissingHeader, HeaderID, HeaderTimestamp, HeaderSignature)
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(tsText), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not a unix time", ErrInvalidHeader, HeaderTimestamp)
	}
	if err := CheckTimestamp(ts, tolerance, now); err != nil {
		return err
	}
	if len(secrets) == 0 {
		return fmt.Errorf("verify %s: %w: none given", HeaderSignature, ErrInvalidSecret)
	}
	for _, s := range secrets {
		p, err := signer(s)
		if err != nil {
			return fmt.Errorf("verify %s: %w", HeaderSignature, err)
		}
		want := sign(p, id, ts, body)
		for _, got := range entries {
			if Equal(got, want) {
				return nil
			}
		}
	}
	return ErrInvalidSignature
}

// CheckTimestamp refuses a unix timestamp further than tolerance (DefaultTolerance when 0
// or less) from now, with ErrTimestampTooOld or ErrTimestampTooNew.
func CheckTimestamp(ts int64, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	// Far-off values are decided in whole seconds first: time.Unix overflows near the
	// int64 limits, and a fuzzer (or an attacker) will send those.
	const far = 1 << 40 // seconds: ~35,000 years, beyond any tolerance
	n, t := now.Unix(), time.Unix(ts, 0)
	switch {
	case ts < n-far || ts <= n+far && now.Sub(t) > tolerance:
		return fmt.Errorf("%w: %d is more than %s before now", ErrTimestampTooOld, ts, tolerance)
	case ts > n+far || t.Sub(now) > tolerance:
		return fmt.Errorf("%w: %d is more than %s after now", ErrTimestampTooNew, ts, tolerance)
	}
	return nil
}

// Equal reports whether a and b are equal, in time that depends only on their lengths (a
// signature's length is no secret).
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// HMAC returns the HMAC of msg under key with alg: "sha1", "sha256" or "sha512" (any case).
func HMAC(alg string, key, msg []byte) ([]byte, error) {
	var h func() hash.Hash
	switch strings.ToLower(alg) {
	case "sha1":
		h = sha1.New
	case "sha256":
		h = sha256.New
	case "sha512":
		h = sha512.New
	default:
		return nil, fmt.Errorf("%w: %q (use sha1, sha256 or sha512)", ErrUnknownAlgorithm, alg)
	}
	mac := hmac.New(h, key)
	mac.Write(msg)
	return mac.Sum(nil), nil
}

// TV is a parsed "t=<unix>,v1=<sig>[,v1=<sig>…]" signature header, the style tinyposter and
// Stripe use (signed text "{t}.{body}").
type TV struct {
	// Timestamp is t, in unix seconds.
	Timestamp int64
	// V1 holds every non-empty v1 value, in order.
	V1 []string
}

// ParseTV parses a "t=…,v1=…" header. Spaces around entries are ignored, and so are entries
// with other keys (v0, a future v2) or without "="; a missing, repeated or malformed t, or no
// v1 value, is an ErrInvalidHeader. It never panics, whatever the input.
func ParseTV(header string) (TV, error) {
	var (
		out   TV
		haveT bool
	)
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "t":
			ts, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil || ts < 0 || haveT {
				return TV{}, fmt.Errorf("%w: want exactly one t=<unix seconds>", ErrInvalidHeader)
			}
			out.Timestamp, haveT = ts, true
		case "v1":
			if v = strings.TrimSpace(v); v != "" {
				out.V1 = append(out.V1, v)
			}
		}
	}
	if !haveT || len(out.V1) == 0 {
		return TV{}, fmt.Errorf("%w: want t=<unix seconds>,v1=<signature>", ErrInvalidHeader)
	}
	return out, nil
}

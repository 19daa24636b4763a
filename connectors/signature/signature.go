// Package signature implements Standard Webhooks signing and verification — the whole
// contract in one file — plus the HMAC helpers that catch-hook presets build on.
//
// A Standard Webhooks signature is "v1," + base64(HMAC-SHA256(key, id + "." + timestamp +
// "." + body)), where key is the base64-decoded part of the secret after "whsec_". Several
// space-separated entries may be sent (during a secret rotation); a receiver accepts the
// message if any one matches.
//
// # Example
//
//	sig, _ := signature.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
//		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
//	fmt.Println(sig) // v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
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
	"time"
)

// Header names of Standard Webhooks.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// DefaultTolerance is how far a timestamp may be from now before Verify refuses it.
const DefaultTolerance = 5 * time.Minute

// Verification failures, tested with errors.Is.
var (
	ErrMissingHeader    = errors.New("missing webhook header")
	ErrInvalidHeader    = errors.New("invalid webhook header")
	ErrNoMatch          = errors.New("no matching signature")
	ErrTimestampTooOld  = errors.New("message timestamp too old")
	ErrTimestampTooNew  = errors.New("message timestamp too new")
	ErrInvalidSecret    = errors.New("invalid secret")
	ErrUnknownAlgorithm = errors.New("unknown HMAC algorithm")
)

const secretPrefix = "whsec_"

// key decodes a secret into its HMAC key. Secrets without the whsec_ prefix are accepted,
// as the Standard Webhooks libraries do.
func key(secret string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, secretPrefix))
	if err != nil || len(k) == 0 {
		return nil, fmt.Errorf("%w: not whsec_ followed by base64", ErrInvalidSecret)
	}
	return k, nil
}

// Sign returns the "v1,…" signature of a message.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	k, err := key(secret)
	if err != nil {
		return "", err
	}
	return sign(k, msgID, ts.Unix(), body), nil
}

func sign(k []byte, msgID string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, k)
	mac.Write([]byte(msgID))
	mac.Write([]byte{'.'})
	mac.Write(strconv.AppendInt(nil, ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Header returns the webhook-signature value for a message: one "v1,…" entry per secret,
// space-separated, in the order given.
func Header(secrets []string, msgID string, ts time.Time, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", fmt.Errorf("%w: no secrets", ErrInvalidSecret)
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

// Verify checks a Standard Webhooks message: the three headers are present, the timestamp is
// within tolerance of now (DefaultTolerance when tolerance is 0), and one of the signatures
// matches one of the secrets, compared in constant time.
func Verify(secrets []string, h http.Header, body []byte, tolerance time.Duration, now time.Time) error {
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return fmt.Errorf("%w: need %s, %s and %s", ErrMissingHeader, HeaderID, HeaderTimestamp, HeaderSignature)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s is not a unix time", ErrInvalidHeader, HeaderTimestamp)
	}
	if err := CheckTimestamp(ts, tolerance, now); err != nil {
		return err
	}
	for _, s := range secrets {
		k, err := key(s)
		if err != nil {
			return err
		}
		want := sign(k, id, ts, body)
		for _, got := range strings.Fields(sigs) {
			if Equal(got, want) {
				return nil
			}
		}
	}
	return ErrNoMatch
}

// CheckTimestamp refuses a unix timestamp further than tolerance (DefaultTolerance when 0)
// from now.
func CheckTimestamp(ts int64, tolerance time.Duration, now time.Time) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	t := time.Unix(ts, 0)
	switch {
	case now.Sub(t) > tolerance:
		return fmt.Errorf("%w: %s is more than %s ago", ErrTimestampTooOld, t.UTC().Format(time.RFC3339), tolerance)
	case t.Sub(now) > tolerance:
		return fmt.Errorf("%w: %s is more than %s ahead", ErrTimestampTooNew, t.UTC().Format(time.RFC3339), tolerance)
	}
	return nil
}

// Equal compares two strings in constant time (for their common length).
func Equal(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// HMAC computes the HMAC of msg with key using alg: "sha1", "sha256" or "sha512".
func HMAC(alg string, key, msg []byte) ([]byte, error) {
	var h func() hash.Hash
	switch strings.ToLower(alg) {
	case "sha1":
		h = sha1.New
	case "sha256", "":
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

// TV is a parsed "t=<unix>,v1=<hex>[,v1=…]" signature header, as tinyposter and Stripe send.
type TV struct {
	Timestamp int64
	V1        []string
}

// ParseTV parses a "t=…,v1=…" header. Unknown keys are ignored; a missing or malformed t,
// or no v1 entry, is an ErrInvalidHeader.
func ParseTV(header string) (TV, error) {
	var (
		out   TV
		haveT bool
	)
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts, err := strconv.ParseInt(v, 10, 64)
			if err != nil || ts < 0 {
				return TV{}, fmt.Errorf("%w: t=%q is not a unix time", ErrInvalidHeader, v)
			}
			out.Timestamp, haveT = ts, true
		case "v1":
			if v != "" {
				out.V1 = append(out.V1, v)
			}
		}
	}
	if !haveT || len(out.V1) == 0 {
		return TV{}, fmt.Errorf("%w: want t=<unix>,v1=<signature>", ErrInvalidHeader)
	}
	return out, nil
}

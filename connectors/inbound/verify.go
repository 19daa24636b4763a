package inbound

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// hashFor returns the hash of an HMAC algorithm name, or nil.
func hashFor(alg string) func() hash.Hash {
	switch strings.ToLower(alg) {
	case "sha1":
		return sha1.New
	case "", "sha256":
		return sha256.New
	case "sha512":
		return sha512.New
	}
	return nil
}

// mac returns the HMAC of the concatenated parts.
func mac(h func() hash.Hash, key []byte, parts ...[]byte) []byte {
	m := hmac.New(h, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// headerOr returns v.Header, or def when it is not set.
func headerOr(v *VerifyConfig, def string) string {
	if v != nil && strings.TrimSpace(v.Header) != "" {
		return strings.TrimSpace(v.Header)
	}
	return def
}

// tolerance returns v's tolerance, DefaultTolerance when it is not set.
func tolerance(v *VerifyConfig) time.Duration {
	if v == nil || v.ToleranceSeconds <= 0 {
		return DefaultTolerance
	}
	return time.Duration(v.ToleranceSeconds) * time.Second
}

func requireSecret(cfg *Config) error {
	if strings.TrimSpace(cfg.Secret) == "" {
		return verifyErrorf("the source has no secret to check the signature with; set one")
	}
	return nil
}

// headerValues returns a header's values. Headers from net/http are keyed canonically;
// a Header built by hand may not be, so other spellings of the name are looked up too.
func headerValues(h http.Header, name string) []string {
	if v := h.Values(name); len(v) > 0 {
		return v
	}
	var out []string
	for k, v := range h {
		if strings.EqualFold(k, name) {
			out = append(out, v...)
		}
	}
	return out
}

// firstHeader returns the first non-empty value of a header, trimmed.
func firstHeader(r Request, name string) string {
	for _, v := range headerValues(r.Header, name) {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// verifyHexBody checks a hex HMAC-SHA256 of the raw body, the scheme of TokPortal and
// Oktopost. An optional "sha256=" prefix and either case of hex are accepted. With
// jsonForm, a signature over the body as JavaScript's JSON.stringify writes it is accepted
// too: Oktopost's document signs JSON.stringify(payload), not the bytes it sends.
func verifyHexBody(cfg *Config, r Request, header string, jsonForm bool) error {
	if err := requireSecret(cfg); err != nil {
		return err
	}
	got := firstHeader(r, header)
	if got == "" {
		return verifyErrorf("missing %s header", header)
	}
	got = trimPrefixFold(got, "sha256=")
	sig, err := hex.DecodeString(got)
	if err != nil || len(sig) != sha256.Size {
		return verifyErrorf("%s is not a hex HMAC-SHA256 (want %d hex digits)", header, 2*sha256.Size)
	}
	key := []byte(strings.TrimSpace(cfg.Secret))
	if hmac.Equal(sig, mac(sha256.New, key, r.Body)) {
		return nil
	}
	if jsonForm {
		if js, err := jsStringify(r.Body); err == nil && hmac.Equal(sig, mac(sha256.New, key, js)) {
			return nil
		}
	}
	return verifyErrorf("signature does not match: %s is not the HMAC-SHA256 of the body with the source's secret", header)
}

func trimPrefixFold(s, prefix string) string {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):]
	}
	return s
}

// checkTimestamp refuses a unix time further than tol from now.
func checkTimestamp(ts int64, tol time.Duration, now time.Time) error {
	// ts is never negative (parseUnix refuses that), so the difference can't overflow.
	diff := now.Unix() - ts
	dir := "in the past"
	if diff < 0 {
		diff, dir = -diff, "in the future"
	}
	if limit := int64(tol / time.Second); diff > limit {
		return verifyErrorf("timestamp %d is %d s away from now (%s); tolerance is %d s: check the sender's clock, or this is a replay", ts, diff, dir, limit)
	}
	return nil
}

// parseUnix parses unix seconds: digits only, no sign.
func parseUnix(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// TinyposterSignature is a parsed X-Tinyposter-Signature header: "t=<unix>,v1=<hex>"; a
// header may carry several v1 entries (as during a secret rotation), any of which may match.
type TinyposterSignature struct {
	// Timestamp is t, in unix seconds.
	Timestamp int64
	// TimestampText is t as written: the signed text starts with it.
	TimestampText string
	// V1 holds the v1 values, hex-decoded, in order.
	V1 [][]byte
}

// badTinyposter says what is wrong with an X-Tinyposter-Signature header.
func badTinyposter(what string) error {
	return fmt.Errorf(`%s; want "t=<unix seconds>,v1=<hex HMAC-SHA256>"`, what)
}

// ParseTinyposterSignature parses an X-Tinyposter-Signature header. Entries are separated
// by commas and may have spaces around them; entries of other versions (v0, a future v2)
// are ignored. A missing, repeated or non-numeric t, or no v1 that is hex, is an error.
func ParseTinyposterSignature(header string) (TinyposterSignature, error) {
	var (
		out   TinyposterSignature
		haveT bool
		badV1 bool
	)
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "t":
			ts, ok := parseUnix(v)
			if !ok {
				return TinyposterSignature{}, badTinyposter("t is not a unix time in seconds")
			}
			if haveT {
				return TinyposterSignature{}, badTinyposter("t appears twice")
			}
			out.Timestamp, out.TimestampText, haveT = ts, v, true
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) == 0 {
				badV1 = true
				continue
			}
			out.V1 = append(out.V1, sig)
		}
	}
	switch {
	case !haveT:
		return TinyposterSignature{}, badTinyposter("no t")
	case len(out.V1) == 0 && badV1:
		return TinyposterSignature{}, badTinyposter("v1 is not hex")
	case len(out.V1) == 0:
		return TinyposterSignature{}, badTinyposter("no v1")
	}
	return out, nil
}

// verifyTinyposter checks HMAC-SHA256("{t}.{body}") keyed with the secret exactly as
// tinyposter shows it (the whole "whsec_…" string, not base64-decoded, as its Node example
// does), then that t is within the tolerance.
func verifyTinyposter(cfg *Config, r Request, now time.Time) error {
	if err := requireSecret(cfg); err != nil {
		return err
	}
	h := firstHeader(r, TinyposterHeader)
	if h == "" {
		return verifyErrorf("missing %s header", TinyposterHeader)
	}
	sig, err := ParseTinyposterSignature(h)
	if err != nil {
		return verifyErrorf("malformed %s header: %s", TinyposterHeader, err)
	}
	want := mac(sha256.New, []byte(strings.TrimSpace(cfg.Secret)), []byte(sig.TimestampText), []byte{'.'}, r.Body)
	if !anyEqual(sig.V1, want) {
		return verifyErrorf("signature does not match: no v1 in %s is the HMAC-SHA256 of \"{t}.{body}\" with the source's secret", TinyposterHeader)
	}
	return checkTimestamp(sig.Timestamp, tolerance(cfg.Verify), now)
}

// anyEqual reports, in constant time for each candidate, whether one of sigs equals want.
func anyEqual(sigs [][]byte, want []byte) bool {
	ok := 0
	for _, s := range sigs {
		ok |= subtle.ConstantTimeCompare(s, want)
	}
	return ok == 1
}

// ParseStandardSignatures returns the v1 signatures of a webhook-signature header value:
// space-separated "v1,<base64>" entries. Entries of other versions ("v1a,…") and entries
// that are not base64 are skipped.
func ParseStandardSignatures(header string) [][]byte {
	var out [][]byte
	for _, entry := range strings.Fields(header) {
		ver, sig, ok := strings.Cut(entry, ",")
		if !ok || ver != "v1" {
			continue
		}
		if b, err := decodeBase64(sig); err == nil && len(b) > 0 {
			out = append(out, b)
		}
	}
	return out
}

// decodeBase64 decodes standard or URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not base64")
}

// standardKey decodes a Standard Webhooks secret: base64 after an optional "whsec_".
func standardKey(secret string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(secret), "whsec_"))
	if err != nil || len(k) == 0 {
		return nil, errors.New(`not "whsec_" followed by base64`)
	}
	return k, nil
}

// verifyStandardWebhooks checks a Standard Webhooks call: HMAC-SHA256 of
// "{webhook-id}.{webhook-timestamp}.{body}" keyed with the base64-decoded secret, any of
// the webhook-signature entries matching, and the timestamp within the tolerance.
func verifyStandardWebhooks(cfg *Config, r Request, now time.Time) error {
	key, err := standardKey(cfg.Secret)
	if err != nil {
		return verifyErrorf("the source's secret is %s; fix the source", err)
	}
	id := firstHeader(r, StandardWebhooksIDHeader)
	tsText := firstHeader(r, StandardWebhooksTimestampHeader)
	sigText := headerValues(r.Header, StandardWebhooksSignatureHeader)
	var missing []string
	if id == "" {
		missing = append(missing, StandardWebhooksIDHeader)
	}
	if tsText == "" {
		missing = append(missing, StandardWebhooksTimestampHeader)
	}
	if strings.TrimSpace(strings.Join(sigText, "")) == "" {
		missing = append(missing, StandardWebhooksSignatureHeader)
	}
	switch len(missing) {
	case 0:
	case 1:
		return verifyErrorf("missing %s header (Standard Webhooks sends %s, %s and %s)", missing[0], StandardWebhooksIDHeader, StandardWebhooksTimestampHeader, StandardWebhooksSignatureHeader)
	default:
		last := len(missing) - 1
		return verifyErrorf("missing %s and %s headers (Standard Webhooks sends all three)", strings.Join(missing[:last], ", "), missing[last])
	}
	ts, ok := parseUnix(tsText)
	if !ok {
		return verifyErrorf("%s %q is not a unix time in seconds", StandardWebhooksTimestampHeader, clip(tsText))
	}
	sigs := ParseStandardSignatures(strings.Join(sigText, " "))
	if len(sigs) == 0 {
		return verifyErrorf(`%s has no "v1,<base64>" entry`, StandardWebhooksSignatureHeader)
	}
	want := mac(sha256.New, key, []byte(id), []byte{'.'}, []byte(tsText), []byte{'.'}, r.Body)
	if !anyEqual(sigs, want) {
		return verifyErrorf(`signature does not match: no v1 entry of %s is the HMAC-SHA256 of "{id}.{timestamp}.{body}" with the source's secret`, StandardWebhooksSignatureHeader)
	}
	return checkTimestamp(ts, tolerance(cfg.Verify), now)
}

// clip shortens attacker-supplied text quoted in a reason.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// tokenDigest hashes a token so that comparing two takes the same time whatever their
// lengths.
func tokenDigest(s string) []byte {
	d := sha256.Sum256([]byte(s))
	return d[:]
}

// verifyToken checks an Upload-Post call: the token after /in/{source_id}/ or in
// X-Hookgate-Token must be the source's secret.
func verifyToken(cfg *Config, r Request) error {
	secret := strings.TrimSpace(cfg.Secret)
	if secret == "" {
		return verifyErrorf("the source has no token; set one (or leave it empty when creating the source to have one made)")
	}
	var got []string
	if t := strings.TrimSpace(r.PathToken); t != "" {
		got = append(got, t)
	}
	if t := firstHeader(r, TokenHeader); t != "" {
		got = append(got, t)
	}
	if len(got) == 0 {
		return verifyErrorf("missing token: use the source's URL /in/{source_id}/{token}, or send the token in the %s header", TokenHeader)
	}
	want := tokenDigest(secret)
	ok := 0
	for _, g := range got {
		ok |= subtle.ConstantTimeCompare(tokenDigest(g), want)
	}
	if ok != 1 {
		return verifyErrorf("token does not match the source's token")
	}
	return nil
}

// verifyGeneric checks a call as a generic source's VerifyConfig says.
func verifyGeneric(cfg *Config, r Request, now time.Time) error {
	v := cfg.Verify
	if v == nil {
		v = &VerifyConfig{}
	}
	switch typ := strings.ToLower(strings.TrimSpace(v.Type)); typ {
	case "", VerifyHMAC:
		return verifyHMAC(cfg, v, r, now)
	case VerifyBasic:
		return verifyBasic(cfg, v, r)
	case VerifyAPIKey:
		return verifyAPIKey(cfg, v, r)
	case VerifyNone:
		return nil
	default:
		return verifyErrorf("the source's verify.type %q is not one hookgate knows", clip(typ))
	}
}

// parseTemplate splits a signing template into literal text and the placeholders {body}
// (exactly once) and {timestamp} (at most once).
func parseTemplate(t string) ([]string, error) {
	var parts []string
	bodies, stamps := 0, 0
	for rest := t; rest != ""; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			parts = append(parts, rest)
			break
		}
		if i > 0 {
			parts = append(parts, rest[:i])
		}
		rest = rest[i:]
		switch {
		case strings.HasPrefix(rest, "{body}"):
			parts, bodies, rest = append(parts, "{body}"), bodies+1, rest[len("{body}"):]
		case strings.HasPrefix(rest, "{timestamp}"):
			parts, stamps, rest = append(parts, "{timestamp}"), stamps+1, rest[len("{timestamp}"):]
		default:
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				end = len(rest) - 1
			}
			return nil, errors.New("unknown placeholder " + strconv.Quote(rest[:end+1]) + ": use {body} and {timestamp}, e.g. \"{timestamp}.{body}\"")
		}
	}
	if bodies != 1 {
		return nil, errors.New("must contain {body} exactly once, e.g. \"{body}\" or \"{timestamp}.{body}\"")
	}
	if stamps > 1 {
		return nil, errors.New("may contain {timestamp} only once")
	}
	return parts, nil
}

// verifyHMAC checks a generic HMAC signature.
func verifyHMAC(cfg *Config, v *VerifyConfig, r Request, now time.Time) error {
	if err := requireSecret(cfg); err != nil {
		return err
	}
	header := strings.TrimSpace(v.Header)
	if header == "" {
		return verifyErrorf("the source has no verify.header naming the signature header; fix the source")
	}
	h := hashFor(v.Algorithm)
	if h == nil {
		return verifyErrorf("the source's verify.algorithm %q is not one hookgate knows", clip(v.Algorithm))
	}
	tmpl := v.Template
	if tmpl == "" {
		tmpl = "{body}"
	}
	parts, err := parseTemplate(tmpl)
	if err != nil {
		return verifyErrorf("the source's verify.template is invalid: %s", err)
	}
	values := headerValues(r.Header, header)
	if len(values) == 0 || strings.TrimSpace(strings.Join(values, "")) == "" {
		return verifyErrorf("missing %s header", header)
	}

	var ts int64
	tsText := ""
	if slices.Contains(parts, "{timestamp}") {
		name := strings.TrimSpace(v.TimestampHeader)
		if name == "" {
			return verifyErrorf("the source's verify.template signs {timestamp} but verify.timestamp_header is not set; fix the source")
		}
		if tsText = firstHeader(r, name); tsText == "" {
			return verifyErrorf("missing %s header", name)
		}
		var ok bool
		if ts, ok = parseUnix(tsText); !ok {
			return verifyErrorf("%s %q is not a unix time in seconds", name, clip(tsText))
		}
	}
	msg := make([][]byte, 0, len(parts))
	for _, p := range parts {
		switch p {
		case "{body}":
			msg = append(msg, r.Body)
		case "{timestamp}":
			msg = append(msg, []byte(tsText))
		default:
			msg = append(msg, []byte(p))
		}
	}
	want := mac(h, []byte(strings.TrimSpace(cfg.Secret)), msg...)

	var sigs [][]byte
	for _, val := range values {
		val = strings.TrimSpace(val)
		if v.Prefix != "" {
			if len(val) < len(v.Prefix) || !strings.EqualFold(val[:len(v.Prefix)], v.Prefix) {
				continue
			}
			val = val[len(v.Prefix):]
		}
		var sig []byte
		if strings.EqualFold(v.Encoding, "base64") {
			sig, err = decodeBase64(val)
		} else {
			sig, err = hex.DecodeString(val)
		}
		if err == nil {
			sigs = append(sigs, sig)
		}
	}
	if len(sigs) == 0 {
		enc := "hex"
		if strings.EqualFold(v.Encoding, "base64") {
			enc = "base64"
		}
		if v.Prefix != "" {
			return verifyErrorf("%s is not %q followed by a %s signature", header, v.Prefix, enc)
		}
		return verifyErrorf("%s is not a %s signature", header, enc)
	}
	if !anyEqual(sigs, want) {
		return verifyErrorf("signature does not match: %s is not the HMAC-%s of %q with the source's secret", header, strings.ToUpper(algName(v.Algorithm)), tmpl)
	}
	if tsText != "" {
		return checkTimestamp(ts, tolerance(v), now)
	}
	return nil
}

func algName(a string) string {
	if a == "" {
		return "sha256"
	}
	return strings.ToLower(a)
}

// verifyBasic checks "Authorization: Basic base64(user:password)".
func verifyBasic(cfg *Config, v *VerifyConfig, r Request) error {
	password := cfg.Secret
	if password == "" {
		password = v.Password
	}
	if v.Username == "" || password == "" {
		return verifyErrorf("the source has no Basic user name or password; fix the source")
	}
	auth := firstHeader(r, "Authorization")
	if auth == "" {
		return verifyErrorf("missing Authorization header (want Basic credentials)")
	}
	scheme, cred, _ := strings.Cut(auth, " ")
	if !strings.EqualFold(scheme, "Basic") {
		return verifyErrorf("Authorization is not Basic credentials")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return verifyErrorf("Authorization Basic credentials are not base64")
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return verifyErrorf("Authorization Basic credentials are not user:password")
	}
	u := subtle.ConstantTimeCompare(tokenDigest(user), tokenDigest(v.Username))
	p := subtle.ConstantTimeCompare(tokenDigest(pass), tokenDigest(password))
	if u&p != 1 {
		return verifyErrorf("user name or password does not match")
	}
	return nil
}

// verifyAPIKey checks that the API key header holds the source's secret; with the
// Authorization header, a "Bearer " scheme is accepted before the key.
func verifyAPIKey(cfg *Config, v *VerifyConfig, r Request) error {
	if err := requireSecret(cfg); err != nil {
		return err
	}
	header := strings.TrimSpace(v.APIKeyHeader)
	if header == "" {
		header = "X-API-Key"
	}
	got := firstHeader(r, header)
	if got == "" {
		return verifyErrorf("missing %s header", header)
	}
	if strings.EqualFold(header, "Authorization") {
		got = strings.TrimSpace(trimPrefixFold(got, "Bearer "))
	}
	if subtle.ConstantTimeCompare(tokenDigest(got), tokenDigest(strings.TrimSpace(cfg.Secret))) != 1 {
		return verifyErrorf("%s does not match the source's API key", header)
	}
	return nil
}

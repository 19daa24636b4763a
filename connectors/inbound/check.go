package inbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strings"

	"github.com/hookgate/hookgate/schemas/jq"
)

// minTokenLen is the shortest Upload-Post token Check takes: the token is the only thing
// standing between the URL and anyone who wants to post events to it.
const minTokenLen = 16

// urlSafe matches tokens that go in a URL path untouched.
var urlSafe = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

// Check validates cfg and normalises it in place: the provider name lowercased, the secret
// trimmed, defaults filled into Verify (the Oktopost header, the tolerance, a generic
// source's algorithm, encoding and template), a Basic password moved from verify.password
// to Secret, and for an Upload-Post source without a secret a new token (NewToken), which
// the caller must show to the user once, in the URL to give Upload-Post. A generic source's
// jq mapping is compiled (and cached), and when Sample is set the payload is mapped as a
// call would be, so that a mapping that gives no type is refused now. It returns nil or a
// *FieldError.
func Check(cfg *Config) error {
	if cfg == nil {
		return fieldErrorf("provider", "is required")
	}
	cfg.Provider = provider(cfg)
	cfg.Secret = strings.TrimSpace(cfg.Secret)
	if cfg.Verify != nil && *cfg.Verify == (VerifyConfig{}) {
		cfg.Verify = nil
	}
	var err error
	switch cfg.Provider {
	case "":
		return fieldErrorf("provider", "is required: one of %s", strings.Join(Providers(), ", "))
	case TokPortal:
		err = checkPreset(cfg, "TokPortal's webhook secret")
	case Tinyposter:
		err = checkPreset(cfg, "the endpoint's signing secret (whsec_…) shown once when you add the endpoint at /dashboard/webhooks", "tolerance_seconds")
	case Oktopost:
		err = checkPreset(cfg, "the Secret Oktopost returns when the webhook is created", "header")
		if err == nil {
			cfg.Verify = withDefault(cfg.Verify, func(v *VerifyConfig) {
				v.Header = headerOr(v, OktopostHeader)
			})
		}
	case StandardWebhooks:
		err = checkPreset(cfg, `the sender's signing secret ("whsec_" followed by base64)`, "tolerance_seconds")
		if err == nil {
			if _, kerr := standardKey(cfg.Secret); kerr != nil {
				err = fieldErrorf("secret", `is not a Standard Webhooks secret: want "whsec_" followed by base64`)
			}
		}
	case UploadPost:
		err = checkUploadPost(cfg)
	case Generic:
		err = checkGeneric(cfg)
	default:
		return fieldErrorf("provider", "%q is not supported: use one of %s", cfg.Provider, strings.Join(Providers(), ", "))
	}
	if err != nil {
		return err
	}
	if cfg.Provider == Tinyposter || cfg.Provider == StandardWebhooks {
		cfg.Verify = withDefault(cfg.Verify, func(v *VerifyConfig) {
			if v.ToleranceSeconds == 0 {
				v.ToleranceSeconds = int(DefaultTolerance.Seconds())
			}
		})
	}
	return checkMapping(cfg)
}

// withDefault applies set to a copy of v (a new VerifyConfig when v is nil).
func withDefault(v *VerifyConfig, set func(*VerifyConfig)) *VerifyConfig {
	c := VerifyConfig{}
	if v != nil {
		c = *v
	}
	set(&c)
	return &c
}

// checkPreset checks a signing preset: a secret, no mapping, and only the verify settings
// the preset lets the user change.
func checkPreset(cfg *Config, secretHelp string, allowed ...string) error {
	if cfg.Secret == "" {
		return fieldErrorf("secret", "is required: %s", secretHelp)
	}
	if cfg.Mapping != "" {
		return fieldErrorf("mapping", "only a generic source takes a jq mapping; %s payloads are mapped by the preset (see schemas/README.md)", cfg.Provider)
	}
	for _, f := range setVerifyFields(cfg.Verify) {
		if !slices.Contains(allowed, f) {
			return fieldErrorf("verify."+f, "can't be set for %s: %s", cfg.Provider, presetTunables(allowed))
		}
	}
	if cfg.Verify != nil {
		if cfg.Verify.ToleranceSeconds < 0 {
			return fieldErrorf("verify.tolerance_seconds", "must be a positive number of seconds (default 300)")
		}
		if h := cfg.Verify.Header; h != "" && !validHeaderName(h) {
			return fieldErrorf("verify.header", "%q is not a valid header name", h)
		}
	}
	return nil
}

func presetTunables(allowed []string) string {
	if len(allowed) == 0 {
		return "its signature scheme is fixed"
	}
	return "only verify." + strings.Join(allowed, ", verify.") + " may be set"
}

// setVerifyFields lists the JSON names of v's non-zero fields.
func setVerifyFields(v *VerifyConfig) []string {
	if v == nil {
		return nil
	}
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(v.Type != "", "type")
	add(v.Header != "", "header")
	add(v.Algorithm != "", "algorithm")
	add(v.Encoding != "", "encoding")
	add(v.Prefix != "", "prefix")
	add(v.Template != "", "template")
	add(v.TimestampHeader != "", "timestamp_header")
	add(v.ToleranceSeconds != 0, "tolerance_seconds")
	add(v.Username != "", "username")
	add(v.Password != "", "password")
	add(v.APIKeyHeader != "", "api_key_header")
	return out
}

// validHeaderName reports whether s is an HTTP header field name (an RFC 9110 token).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func checkUploadPost(cfg *Config) error {
	if cfg.Mapping != "" {
		return fieldErrorf("mapping", "only a generic source takes a jq mapping; uploadpost payloads are mapped by the preset (see schemas/README.md)")
	}
	if f := setVerifyFields(cfg.Verify); len(f) > 0 {
		return fieldErrorf("verify."+f[0], "can't be set for uploadpost: Upload-Post signs nothing, so the source checks its token (secret) in the URL or the %s header", TokenHeader)
	}
	switch {
	case cfg.Secret == "":
		cfg.Secret = NewToken()
	case len(cfg.Secret) < minTokenLen:
		return fieldErrorf("secret", "is the token in the catch-hook URL and must be at least %d characters (leave it empty to have one made)", minTokenLen)
	case len(cfg.Secret) > 200 || !urlSafe.MatchString(cfg.Secret):
		return fieldErrorf("secret", "is the token in the catch-hook URL: at most 200 letters, digits or . _ ~ - (leave it empty to have one made)")
	}
	return nil
}

func checkGeneric(cfg *Config) error {
	v := withDefault(cfg.Verify, func(v *VerifyConfig) {
		v.Type = strings.ToLower(strings.TrimSpace(v.Type))
		if v.Type == "" {
			v.Type = VerifyHMAC
		}
	})
	// only lists the settings of other types that are set.
	only := func(typ string, allowed ...string) error {
		for _, f := range setVerifyFields(v) {
			if f != "type" && !slices.Contains(allowed, f) {
				return fieldErrorf("verify."+f, "is not used with verify.type %q", typ)
			}
		}
		return nil
	}
	switch v.Type {
	case VerifyHMAC:
		if err := only(VerifyHMAC, "header", "algorithm", "encoding", "prefix", "template", "timestamp_header", "tolerance_seconds"); err != nil {
			return err
		}
		if err := checkHMAC(cfg, v); err != nil {
			return err
		}
	case VerifyBasic:
		if err := only(VerifyBasic, "username", "password"); err != nil {
			return err
		}
		if v.Username == "" {
			return fieldErrorf("verify.username", "is required with verify.type \"basic\"")
		}
		if strings.Contains(v.Username, ":") {
			return fieldErrorf("verify.username", "can't contain \":\" (Basic auth separates user and password with it)")
		}
		if v.Password != "" {
			if cfg.Secret != "" && cfg.Secret != v.Password {
				return fieldErrorf("verify.password", "give the password once: as secret (preferred, it is masked) or as verify.password")
			}
			cfg.Secret, v.Password = v.Password, ""
		}
		if cfg.Secret == "" {
			return fieldErrorf("secret", "is required with verify.type \"basic\": the password the sender uses")
		}
	case VerifyAPIKey:
		if err := only(VerifyAPIKey, "api_key_header"); err != nil {
			return err
		}
		if v.APIKeyHeader == "" {
			v.APIKeyHeader = "X-API-Key"
		}
		if !validHeaderName(v.APIKeyHeader) {
			return fieldErrorf("verify.api_key_header", "%q is not a valid header name", v.APIKeyHeader)
		}
		if cfg.Secret == "" {
			return fieldErrorf("secret", "is required with verify.type \"api_key\": the key the sender puts in %s", v.APIKeyHeader)
		}
	case VerifyNone:
		if err := only(VerifyNone); err != nil {
			return err
		}
		if cfg.Secret != "" {
			return fieldErrorf("secret", "is set but verify.type is \"none\", so nothing would check it; choose hmac, basic or api_key, or drop the secret")
		}
	default:
		return fieldErrorf("verify.type", "%q is not supported: use hmac, basic, api_key or none", v.Type)
	}
	cfg.Verify = v
	return nil
}

// checkHMAC checks and completes a generic HMAC configuration.
func checkHMAC(cfg *Config, v *VerifyConfig) error {
	if v.Header == "" {
		return fieldErrorf("verify.header", "is required for hmac verification: the header that carries the signature (or set verify.type to \"none\" to accept unsigned calls)")
	}
	if !validHeaderName(v.Header) {
		return fieldErrorf("verify.header", "%q is not a valid header name", v.Header)
	}
	if v.Algorithm = strings.ToLower(strings.TrimSpace(v.Algorithm)); v.Algorithm == "" {
		v.Algorithm = "sha256"
	}
	if hashFor(v.Algorithm) == nil {
		return fieldErrorf("verify.algorithm", "%q is not supported: use sha1, sha256 or sha512", v.Algorithm)
	}
	if v.Encoding = strings.ToLower(strings.TrimSpace(v.Encoding)); v.Encoding == "" {
		v.Encoding = "hex"
	}
	if v.Encoding != "hex" && v.Encoding != "base64" {
		return fieldErrorf("verify.encoding", "%q is not supported: use hex or base64", v.Encoding)
	}
	if v.Template == "" {
		v.Template = "{body}"
	}
	parts, err := parseTemplate(v.Template)
	if err != nil {
		return fieldErrorf("verify.template", "%s", err)
	}
	usesTS := slices.Contains(parts, "{timestamp}")
	switch {
	case usesTS && v.TimestampHeader == "":
		return fieldErrorf("verify.timestamp_header", "is required: verify.template signs {timestamp}, so name the header that carries it")
	case !usesTS && v.TimestampHeader != "":
		return fieldErrorf("verify.template", "must contain {timestamp} when verify.timestamp_header is set (an unsigned timestamp proves nothing), e.g. \"{timestamp}.{body}\"")
	case !usesTS && v.ToleranceSeconds != 0:
		return fieldErrorf("verify.tolerance_seconds", "applies only to a signed timestamp: set verify.timestamp_header and put {timestamp} in verify.template")
	case v.ToleranceSeconds < 0:
		return fieldErrorf("verify.tolerance_seconds", "must be a positive number of seconds (default 300)")
	}
	if usesTS {
		if !validHeaderName(v.TimestampHeader) {
			return fieldErrorf("verify.timestamp_header", "%q is not a valid header name", v.TimestampHeader)
		}
		if v.ToleranceSeconds == 0 {
			v.ToleranceSeconds = int(DefaultTolerance.Seconds())
		}
	}
	if cfg.Secret == "" {
		return fieldErrorf("secret", "is required for hmac verification: the key the sender signs with")
	}
	return nil
}

// checkMapping compiles a generic source's mapping and maps the sample, if any.
func checkMapping(cfg *Config) error {
	if cfg.Mapping != "" {
		if strings.TrimSpace(cfg.Mapping) == "" {
			cfg.Mapping = ""
		} else if _, err := jq.Compile(cfg.Mapping); err != nil {
			return fieldErrorf("mapping", "%s", err)
		}
	}
	sample := bytes.TrimSpace(cfg.Sample)
	if len(sample) == 0 || string(sample) == "null" {
		cfg.Sample = nil
		return nil
	}
	if !json.Valid(sample) {
		return fieldErrorf("sample", "is not JSON: give a payload as the provider sends it")
	}
	cfg.Sample = sample
	_, err := Map(cfg, sample)
	var me *MapError
	switch {
	case err == nil:
		return nil
	case cfg.Mapping != "" && errors.As(err, &me):
		return fieldErrorf("mapping", "on the sample: %s", me.Reason)
	default:
		return fieldErrorf("sample", "can't be mapped: %s", err)
	}
}

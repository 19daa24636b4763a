package inbound_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/connectors/inbound"
)

func TestCheckRefuses(t *testing.T) {
	hmac := func(v inbound.VerifyConfig) *inbound.VerifyConfig { return &v }
	cases := []struct {
		name      string
		cfg       inbound.Config
		wantField string
		wantMsg   string
	}{
		{"no provider", inbound.Config{}, "provider", "is required: one of tokportal, tinyposter, uploadpost, oktopost, standard-webhooks, generic"},
		{"unknown provider", inbound.Config{Provider: "mailchimp"}, "provider", `"mailchimp" is not supported`},

		{"tokportal without secret", inbound.Config{Provider: "tokportal", Secret: "  "}, "secret", "is required: TokPortal's webhook secret"},
		{"tokportal with mapping", inbound.Config{Provider: "tokportal", Secret: "s", Mapping: "."}, "mapping", "only a generic source takes a jq mapping; tokportal payloads are mapped by the preset"},
		{"tokportal with a header", inbound.Config{Provider: "tokportal", Secret: "s", Verify: hmac(inbound.VerifyConfig{Header: "X-Sig"})}, "verify.header", "can't be set for tokportal: its signature scheme is fixed"},
		{"tokportal sample without event", inbound.Config{Provider: "tokportal", Secret: "s", Sample: json.RawMessage(`{"type":"video.posted"}`)}, "sample", `can't be mapped: body has no "event" field`},

		{"tinyposter without secret", inbound.Config{Provider: "tinyposter"}, "secret", "is required: the endpoint's signing secret (whsec_…)"},
		{"tinyposter with an algorithm", inbound.Config{Provider: "tinyposter", Secret: "whsec_x", Verify: hmac(inbound.VerifyConfig{Algorithm: "sha1"})}, "verify.algorithm", "can't be set for tinyposter: only verify.tolerance_seconds may be set"},
		{"tinyposter negative tolerance", inbound.Config{Provider: "tinyposter", Secret: "whsec_x", Verify: hmac(inbound.VerifyConfig{ToleranceSeconds: -1})}, "verify.tolerance_seconds", "must be a positive number of seconds"},

		{"oktopost bad header name", inbound.Config{Provider: "oktopost", Secret: "s", Verify: hmac(inbound.VerifyConfig{Header: "X Signature"})}, "verify.header", `"X Signature" is not a valid header name`},
		{"oktopost with a prefix", inbound.Config{Provider: "oktopost", Secret: "s", Verify: hmac(inbound.VerifyConfig{Prefix: "sha256="})}, "verify.prefix", "only verify.header may be set"},

		{"standard-webhooks secret not base64", inbound.Config{Provider: "standard-webhooks", Secret: "whsec_not base64!"}, "secret", `is not a Standard Webhooks secret: want "whsec_" followed by base64`},
		{"standard-webhooks without secret", inbound.Config{Provider: "standard-webhooks"}, "secret", "is required"},

		{"uploadpost short token", inbound.Config{Provider: "uploadpost", Secret: "abc"}, "secret", "must be at least 16 characters (leave it empty to have one made)"},
		{"uploadpost token with a slash", inbound.Config{Provider: "uploadpost", Secret: "abcdefgh/ijklmnopq"}, "secret", "at most 200 letters, digits or . _ ~ -"},
		{"uploadpost with verify", inbound.Config{Provider: "uploadpost", Verify: hmac(inbound.VerifyConfig{Header: "X-Sig"})}, "verify.header", "Upload-Post signs nothing"},
		{"uploadpost with mapping", inbound.Config{Provider: "uploadpost", Mapping: "."}, "mapping", "only a generic source takes a jq mapping"},

		{"generic without verify", inbound.Config{Provider: "generic", Secret: "s"}, "verify.header", `is required for hmac verification: the header that carries the signature (or set verify.type to "none" to accept unsigned calls)`},
		{"generic hmac without secret", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Header: "X-Sig"})}, "secret", "is required for hmac verification"},
		{"generic md5", inbound.Config{Provider: "generic", Secret: "s", Verify: hmac(inbound.VerifyConfig{Header: "X-Sig", Algorithm: "md5"})}, "verify.algorithm", `"md5" is not supported: use sha1, sha256 or sha512`},
		{"generic base32", inbound.Config{Provider: "generic", Secret: "s", Verify: hmac(inbound.VerifyConfig{Header: "X-Sig", Encoding: "base32"})}, "verify.encoding", `"base32" is not supported: use hex or base64`},
		{"generic unknown placeholder", inbound.Config{Provider: "generic", Secret: "s", Verify: hmac(inbound.VerifyConfig{Header: "X-Sig", Template: "{ts}.{body}"})}, "verify.template", `unknown placeholder "{ts}": use {body} and {timestamp}`},
		{"generic template without body", inbound.Config{Provider: "generic", Secret: "s", Verify: hmac(inbound.VerifyConfig{Header: "X-Sig", Template: "{timestamp}", TimestampHeader: "X-Ts"})}, "verify.template", "must contain {body} exactly once"},
		{"generic template signs timestamp, no header", inbound.Config{Provider: "generic", Secret: "s", Verify: hmac(inbound.VerifyConfig{Header: "X-Sig", Template: "{timestamp}.{body}"})}, "verify.timestamp_header", "is required: verify.template signs {timestamp}"},
		{"generic timestamp header, unsigned", inbound.Config{Provider: "generic", Secret: "s", Verify: hmac(inbound.VerifyConfig{Header: "X-Sig", TimestampHeader: "X-Ts"})}, "verify.template", "must contain {timestamp} when verify.timestamp_header is set"},
		{"generic tolerance without timestamp", inbound.Config{Provider: "generic", Secret: "s", Verify: hmac(inbound.VerifyConfig{Header: "X-Sig", ToleranceSeconds: 60})}, "verify.tolerance_seconds", "applies only to a signed timestamp"},
		{"generic negative tolerance", inbound.Config{Provider: "generic", Secret: "s", Verify: hmac(inbound.VerifyConfig{Header: "X-Sig", Template: "{timestamp}.{body}", TimestampHeader: "X-Ts", ToleranceSeconds: -5})}, "verify.tolerance_seconds", "must be a positive number"},
		{"generic hmac with a username", inbound.Config{Provider: "generic", Secret: "s", Verify: hmac(inbound.VerifyConfig{Header: "X-Sig", Username: "u"})}, "verify.username", `is not used with verify.type "hmac"`},
		{"generic unknown type", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Type: "oauth"})}, "verify.type", `"oauth" is not supported: use hmac, basic, api_key or none`},
		{"basic without username", inbound.Config{Provider: "generic", Secret: "p", Verify: hmac(inbound.VerifyConfig{Type: "basic"})}, "verify.username", "is required"},
		{"basic username with colon", inbound.Config{Provider: "generic", Secret: "p", Verify: hmac(inbound.VerifyConfig{Type: "basic", Username: "a:b"})}, "verify.username", `can't contain ":"`},
		{"basic without password", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Type: "basic", Username: "u"})}, "secret", "is required with verify.type \"basic\""},
		{"basic two passwords", inbound.Config{Provider: "generic", Secret: "a", Verify: hmac(inbound.VerifyConfig{Type: "basic", Username: "u", Password: "b"})}, "verify.password", "give the password once"},
		{"basic with a header", inbound.Config{Provider: "generic", Secret: "a", Verify: hmac(inbound.VerifyConfig{Type: "basic", Username: "u", Header: "X-Sig"})}, "verify.header", `is not used with verify.type "basic"`},
		{"api_key without secret", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Type: "api_key"})}, "secret", "is required with verify.type \"api_key\": the key the sender puts in X-API-Key"},
		{"api_key bad header", inbound.Config{Provider: "generic", Secret: "k", Verify: hmac(inbound.VerifyConfig{Type: "api_key", APIKeyHeader: "X:Key"})}, "verify.api_key_header", "is not a valid header name"},
		{"none with a secret", inbound.Config{Provider: "generic", Secret: "s", Verify: hmac(inbound.VerifyConfig{Type: "none"})}, "secret", `is set but verify.type is "none"`},

		{"mapping syntax error", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Type: "none"}), Mapping: `{type: .a,, data: .}`}, "mapping", `not a jq program: unexpected token "," at line 1, column 11`},
		{"mapping syntax error on line 3", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Type: "none"}), Mapping: "{\n  type: .kind\n  data: .\n}"}, "mapping", `not a jq program: unexpected token "data" at line 3, column 3`},
		{"mapping unterminated", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Type: "none"}), Mapping: `{type: "x`}, "mapping", "not a jq program: unterminated string literal at the end of the program (line 1, column 10)"},
		{"mapping unknown function", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Type: "none"}), Mapping: `{type: nosuch, data: .}`}, "mapping", "not a jq program: function not defined: nosuch/0"},
		{"mapping input", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Type: "none"}), Mapping: `input`}, "mapping", "not a jq program: input(s)/0 is not allowed"},
		{"mapping gives no type on the sample", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Type: "none"}), Mapping: `{kind: .event, data: .}`, Sample: json.RawMessage(`{"event":"x"}`)}, "mapping", `on the sample: the mapping's output has no "type" field`},
		{"mapping fails on the sample", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Type: "none"}), Mapping: `{type: (.n + "x"), data: .}`, Sample: json.RawMessage(`{"n":1}`)}, "mapping", "on the sample: the mapping failed: cannot add: number (1) and string (\"x\")"},
		{"mapping gives a bad time on the sample", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Type: "none"}), Mapping: `{type: "t", created: .when, data: .}`, Sample: json.RawMessage(`{"when":"tomorrow"}`)}, "mapping", `on the sample: "created" is not a time`},
		{"sample not JSON", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Type: "none"}), Sample: json.RawMessage(`{"type":`)}, "sample", "is not JSON"},
		{"sample not an envelope", inbound.Config{Provider: "generic", Verify: hmac(inbound.VerifyConfig{Type: "none"}), Sample: json.RawMessage(`{"event":"x"}`)}, "sample", `can't be mapped: body has no "type" field`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			err := inbound.Check(&cfg)
			var fe *inbound.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Check = %v (%T), want a *FieldError on %s", err, err, tc.wantField)
			}
			if fe.FieldName() != tc.wantField || !strings.Contains(fe.Message, tc.wantMsg) {
				t.Errorf("Check = %q\nwant field %s with a message containing %q", err, tc.wantField, tc.wantMsg)
			}
			if !strings.HasPrefix(fe.Error(), tc.wantField+": ") {
				t.Errorf("Error() = %q, want it to start with the field", fe.Error())
			}
		})
	}
}

func TestCheckNormalises(t *testing.T) {
	cases := []struct {
		name string
		in   inbound.Config
		want inbound.Config
	}{
		{
			"provider name and secret trimmed",
			inbound.Config{Provider: " TokPortal ", Secret: " s3cret\n", Verify: &inbound.VerifyConfig{}},
			inbound.Config{Provider: "tokportal", Secret: "s3cret"},
		},
		{
			"tinyposter tolerance",
			inbound.Config{Provider: "tinyposter", Secret: "whsec_x"},
			inbound.Config{Provider: "tinyposter", Secret: "whsec_x", Verify: &inbound.VerifyConfig{ToleranceSeconds: 300}},
		},
		{
			"standard-webhooks own tolerance kept",
			inbound.Config{Provider: "standard-webhooks", Secret: vecSecret, Verify: &inbound.VerifyConfig{ToleranceSeconds: 60}},
			inbound.Config{Provider: "standard-webhooks", Secret: vecSecret, Verify: &inbound.VerifyConfig{ToleranceSeconds: 60}},
		},
		{
			"oktopost header",
			inbound.Config{Provider: "oktopost", Secret: "s"},
			inbound.Config{Provider: "oktopost", Secret: "s", Verify: &inbound.VerifyConfig{Header: "X-Oktopost-Signature"}},
		},
		{
			"generic hmac defaults",
			inbound.Config{Provider: "generic", Secret: "s", Verify: &inbound.VerifyConfig{Header: "X-Sig"}},
			inbound.Config{Provider: "generic", Secret: "s", Verify: &inbound.VerifyConfig{Type: "hmac", Header: "X-Sig", Algorithm: "sha256", Encoding: "hex", Template: "{body}"}},
		},
		{
			"generic hmac with a timestamp",
			inbound.Config{Provider: "generic", Secret: "s", Verify: &inbound.VerifyConfig{Type: "HMAC", Header: "X-Sig", Algorithm: "SHA512", Encoding: "Base64", Template: "{timestamp}.{body}", TimestampHeader: "X-Ts"}},
			inbound.Config{Provider: "generic", Secret: "s", Verify: &inbound.VerifyConfig{Type: "hmac", Header: "X-Sig", Algorithm: "sha512", Encoding: "base64", Template: "{timestamp}.{body}", TimestampHeader: "X-Ts", ToleranceSeconds: 300}},
		},
		{
			"basic password moved to secret",
			inbound.Config{Provider: "generic", Verify: &inbound.VerifyConfig{Type: "basic", Username: "zapier", Password: "pw"}},
			inbound.Config{Provider: "generic", Secret: "pw", Verify: &inbound.VerifyConfig{Type: "basic", Username: "zapier"}},
		},
		{
			"api key header",
			inbound.Config{Provider: "generic", Secret: "k", Verify: &inbound.VerifyConfig{Type: "api_key"}},
			inbound.Config{Provider: "generic", Secret: "k", Verify: &inbound.VerifyConfig{Type: "api_key", APIKeyHeader: "X-API-Key"}},
		},
		{
			"blank mapping and null sample dropped",
			inbound.Config{Provider: "generic", Verify: &inbound.VerifyConfig{Type: "none"}, Mapping: " \n", Sample: json.RawMessage(" null ")},
			inbound.Config{Provider: "generic", Verify: &inbound.VerifyConfig{Type: "none"}},
		},
		{
			"sample trimmed",
			inbound.Config{Provider: "tokportal", Secret: "s", Sample: json.RawMessage("\n" + tokportalPosted + "\n")},
			inbound.Config{Provider: "tokportal", Secret: "s", Sample: json.RawMessage(tokportalPosted)},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in
			if err := inbound.Check(&got); err != nil {
				t.Fatalf("Check = %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Check made\n%s\nwant\n%s", jsonOf(got), jsonOf(tc.want))
			}
			again := got
			if err := inbound.Check(&again); err != nil || !reflect.DeepEqual(again, got) {
				t.Errorf("Check of its own result = %v, %s; want no change", err, jsonOf(again))
			}
		})
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestCheckMakesUploadPostToken(t *testing.T) {
	cfg := inbound.Config{Provider: "uploadpost"}
	if err := inbound.Check(&cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Secret) < 22 {
		t.Fatalf("Check made token %q, want a NewToken", cfg.Secret)
	}
	if err := inbound.Verify(&cfg, inbound.Request{PathToken: cfg.Secret, Body: []byte(uploadConnected)}, now); err != nil {
		t.Errorf("Verify with the made token = %v", err)
	}
	kept := inbound.Config{Provider: "uploadpost", Secret: cfg.Secret}
	if err := inbound.Check(&kept); err != nil || kept.Secret != cfg.Secret {
		t.Errorf("Check of a set token = %v, token %q; want it kept", err, kept.Secret)
	}
}

// TestConfigJSON checks the names a source's settings have in the API.
func TestConfigJSON(t *testing.T) {
	const in = `{"provider":"generic","secret":"s","verify":{"type":"hmac","header":"X-Sig","algorithm":"sha1","encoding":"base64","prefix":"sha1=","template":"{timestamp}.{body}","timestamp_header":"X-Ts","tolerance_seconds":60},"mapping":"{type: .t, data: .}","sample":{"t":"x"}}`
	var cfg inbound.Config
	if err := json.Unmarshal([]byte(in), &cfg); err != nil {
		t.Fatal(err)
	}
	if err := inbound.Check(&cfg); err != nil {
		t.Fatal(err)
	}
	if out := jsonOf(cfg); out != in {
		t.Errorf("round trip:\n got %s\nwant %s", out, in)
	}
}

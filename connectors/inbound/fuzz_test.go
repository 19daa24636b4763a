package inbound_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/inbound"
)

// The fuzz targets' seed corpora are in testdata/fuzz/<target>/: for each provider, a
// call signed as its document says (at the tests' clock, now), and the payloads of the
// documents. Run one with
//
//	go test -run='^$' -fuzz=FuzzVerify -fuzztime=60s ./connectors/inbound

const fuzzToken = "Zk3q9LmV2pXc7RtY8wBn4HsJ"

// fuzzConfigs are the sources the fuzz targets call, picked by the first argument.
var fuzzConfigs = []inbound.Config{
	{Provider: "tokportal", Secret: tokportalSecret},
	{Provider: "tinyposter", Secret: tinyposterSecret},
	{Provider: "uploadpost", Secret: fuzzToken},
	{Provider: "oktopost", Secret: oktopostSecret},
	{Provider: "standard-webhooks", Secret: vecSecret},
	{Provider: "generic", Secret: "It's a Secret to Everybody", Verify: &inbound.VerifyConfig{
		Header: "X-Slack-Signature", Prefix: "v0=", Template: "v0:{timestamp}:{body}", TimestampHeader: "X-Slack-Request-Timestamp"}},
	{Provider: "generic", Secret: "s3cret-pass", Verify: &inbound.VerifyConfig{Type: "basic", Username: "zapier"}},
	{Provider: "generic", Verify: &inbound.VerifyConfig{Type: "none"}, Mapping: `{type: .kind, id: .id, created: .at, data: .}`},
}

func fuzzConfig(t *testing.T, which byte) *inbound.Config {
	cfg := fuzzConfigs[int(which)%len(fuzzConfigs)]
	if err := inbound.Check(&cfg); err != nil {
		t.Fatalf("Check(%s) = %v", cfg.Provider, err)
	}
	return &cfg
}

// parseHeaders reads "Name: value" lines; lines without a colon are skipped.
func parseHeaders(s string) http.Header {
	h := http.Header{}
	for line := range strings.SplitSeq(s, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			h.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return h
}

// firstValue returns a header's first non-empty value, trimmed.
func firstValue(h http.Header, name string) string {
	for _, v := range h.Values(name) {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

func FuzzParseTinyposterHeader(f *testing.F) {
	f.Add("t=1750772400,v1=9f86d08")
	f.Fuzz(func(t *testing.T, header string) {
		sig, err := inbound.ParseTinyposterSignature(header)
		if err != nil {
			if sig.Timestamp != 0 || sig.V1 != nil || !strings.Contains(err.Error(), "want \"t=<unix seconds>,v1=<hex HMAC-SHA256>\"") {
				t.Fatalf("ParseTinyposterSignature(%q) = %+v, %v; want nothing and an error saying what is expected", header, sig, err)
			}
			return
		}
		if ts, perr := strconv.ParseInt(sig.TimestampText, 10, 64); perr != nil || ts != sig.Timestamp || ts < 0 || len(sig.V1) == 0 {
			t.Fatalf("ParseTinyposterSignature(%q) = %+v", header, sig)
		}
		// What it parsed, written back the way tinyposter writes it, parses the same.
		again := "t=" + sig.TimestampText
		for _, v := range sig.V1 {
			again += ",v1=" + hex.EncodeToString(v)
		}
		sig2, err := inbound.ParseTinyposterSignature(again)
		if err != nil || sig2.Timestamp != sig.Timestamp || len(sig2.V1) != len(sig.V1) {
			t.Fatalf("re-parsing %q (from %q) = %+v, %v; want %+v", again, header, sig2, err, sig)
		}
		for i := range sig.V1 {
			if !bytes.Equal(sig.V1[i], sig2.V1[i]) {
				t.Fatalf("re-parsing %q: v1[%d] = %x, want %x", again, i, sig2.V1[i], sig.V1[i])
			}
		}
	})
}

func FuzzStandardWebhooksHeader(f *testing.F) {
	f.Add(vecID, strconv.Itoa(vecTS), vecSig, []byte(vecBody))
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(vecSecret, "whsec_"))
	cfg := &inbound.Config{Provider: "standard-webhooks", Secret: vecSecret}
	at := time.Unix(vecTS, 0)
	f.Fuzz(func(t *testing.T, id, timestamp, signature string, body []byte) {
		sigs := inbound.ParseStandardSignatures(signature)
		var rewritten []string
		for _, s := range sigs {
			if len(s) == 0 {
				t.Fatalf("ParseStandardSignatures(%q) returned an empty signature", signature)
			}
			rewritten = append(rewritten, "v1,"+base64.StdEncoding.EncodeToString(s))
		}
		if again := inbound.ParseStandardSignatures(strings.Join(rewritten, " ")); len(again) != len(sigs) {
			t.Fatalf("re-parsing %q gives %d signatures, want %d", rewritten, len(again), len(sigs))
		}

		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", timestamp)
		h.Set("webhook-signature", signature)
		err := inbound.Verify(cfg, inbound.Request{Header: h, Body: body}, at)
		var ve *inbound.VerifyError
		if err != nil && (!errors.As(err, &ve) || ve.Reason == "") {
			t.Fatalf("Verify = %v (%T), want nil or a *VerifyError with a reason", err, err)
		}
		if err != nil {
			return
		}
		// Accepted: the signature must be there, over what the headers say, and fresh.
		id, timestamp = strings.TrimSpace(id), strings.TrimSpace(timestamp)
		ts, perr := strconv.ParseInt(timestamp, 10, 64)
		if perr != nil || ts < vecTS-300 || ts > vecTS+300 {
			t.Fatalf("Verify accepted timestamp %q", timestamp)
		}
		want := hmacOf(sha256.New, key, id+"."+timestamp+"."+string(body))
		found := false
		for _, s := range sigs {
			found = found || bytes.Equal(s, want)
		}
		if !found {
			t.Fatalf("Verify accepted %q without the signature of %q.%q.%q", signature, id, timestamp, body)
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add(byte(0), "X-TokPortal-Signature: "+hexSHA256(tokportalSecret, tokportalPosted), []byte(tokportalPosted), "")
	f.Add(byte(2), "", []byte(uploadCompleted), fuzzToken)
	f.Fuzz(func(t *testing.T, which byte, headerLines string, body []byte, token string) {
		cfg := fuzzConfig(t, which)
		h := parseHeaders(headerLines)
		err := inbound.Verify(cfg, inbound.Request{Header: h, Body: body, PathToken: token}, now)
		if err != nil {
			var ve *inbound.VerifyError
			if !errors.As(err, &ve) || ve.Reason == "" {
				t.Fatalf("Verify = %v (%T), want nil or a *VerifyError with a reason", err, err)
			}
			if strings.Contains(ve.Reason, cfg.Secret) {
				t.Fatalf("Verify reason %q quotes the secret", ve.Reason)
			}
			return
		}
		// Accepted: check independently, for the providers whose rule is simple to restate.
		switch cfg.Provider {
		case "tokportal":
			want := hexSHA256(cfg.Secret, string(body))
			got := strings.ToLower(firstValue(h, "X-TokPortal-Signature"))
			if strings.TrimPrefix(got, "sha256=") != want {
				t.Fatalf("Verify accepted signature %q for a body whose signature is %s", got, want)
			}
		case "uploadpost":
			if strings.TrimSpace(token) != cfg.Secret && firstValue(h, "X-Hookgate-Token") != cfg.Secret {
				t.Fatalf("Verify accepted token %q / header %q", token, firstValue(h, "X-Hookgate-Token"))
			}
		case "tinyposter":
			header := firstValue(h, "X-Tinyposter-Signature")
			sig, perr := inbound.ParseTinyposterSignature(header)
			if perr != nil || sig.Timestamp < now.Unix()-300 || sig.Timestamp > now.Unix()+300 {
				t.Fatalf("Verify accepted header %q (%v)", header, perr)
			}
		}
	})
}

func FuzzMap(f *testing.F) {
	f.Add(byte(0), []byte(tokportalPosted), "")
	f.Add(byte(4), []byte(hookgateEvent), "msg_1")
	f.Fuzz(func(t *testing.T, which byte, body []byte, webhookID string) {
		cfg := fuzzConfig(t, which)
		r := inbound.Request{Header: http.Header{"Webhook-Id": {webhookID}}, Body: body}
		env, err := inbound.MapRequest(cfg, r)
		if err != nil {
			var me *inbound.MapError
			if !errors.As(err, &me) || me.Reason == "" {
				t.Fatalf("MapRequest = %v (%T), want a *MapError with a reason", err, err)
			}
			return
		}
		if env.Type == "" || strings.TrimSpace(env.Type) != env.Type {
			t.Fatalf("MapRequest(%q) gave type %q", body, env.Type)
		}
		if !json.Valid(env.Data) {
			t.Fatalf("MapRequest(%q) gave data that is not JSON: %q", body, env.Data)
		}
		if !env.Created.IsZero() && (env.Created.Location() != time.UTC || env.Created.Year() > 9999 || env.Created.Year() < 1) {
			t.Fatalf("MapRequest(%q) gave created %v", body, env.Created)
		}
		if _, err := json.Marshal(env); err != nil {
			t.Fatalf("the envelope of %q can't be written as JSON: %v", body, err)
		}
		// Mapping is a function of the call: the same call gives the same id (dedupe).
		again, err := inbound.MapRequest(cfg, r)
		if err != nil || again.ID != env.ID || again.Type != env.Type || !bytes.Equal(again.Data, env.Data) {
			t.Fatalf("mapping %q twice gave %+v then %+v, %v", body, env, again, err)
		}
	})
}

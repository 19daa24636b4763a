package inbound_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/hookgate/hookgate/connectors/inbound"
)

// A TokPortal call, from the source's settings to the envelope.
func Example() {
	cfg := &inbound.Config{Provider: "tokportal", Secret: "tp_secret"}
	if err := inbound.Check(cfg); err != nil {
		panic(err)
	}

	body := []byte(`{"event":"bundle.ready","event_id":"evt_42","timestamp":"2026-06-24T14:00:05Z","data":{"bundle_id":"b_8f2c1a","platform":"tiktok"}}`)
	mac := hmac.New(sha256.New, []byte("tp_secret")) // what TokPortal sends
	mac.Write(body)
	req := inbound.Request{Header: http.Header{"X-Tokportal-Signature": {hex.EncodeToString(mac.Sum(nil))}}, Body: body}

	if err := inbound.Verify(cfg, req, time.Now()); err != nil {
		panic(err)
	}
	env, err := inbound.MapRequest(cfg, req)
	if err != nil {
		panic(err)
	}
	fmt.Println(env.ID, env.Type, env.Created.Format(time.RFC3339))
	fmt.Println(string(env.Data))

	req.Body = []byte(`{"event":"bundle.ready","event_id":"evt_43"}`)
	fmt.Println(inbound.Verify(cfg, req, time.Now()))
	// Output:
	// evt_42 bundle.ready 2026-06-24T14:00:05Z
	// {"bundle_id":"b_8f2c1a","platform":"tiktok"}
	// signature does not match: X-TokPortal-Signature is not the HMAC-SHA256 of the body with the source's secret
}

// A generic source whose jq mapping is refused when it is saved.
func ExampleCheck() {
	cfg := &inbound.Config{
		Provider: "generic",
		Verify:   &inbound.VerifyConfig{Header: "X-Hub-Signature-256", Prefix: "sha256="},
		Secret:   "gh_secret",
		Mapping:  "{type: .action\n data: .}",
	}
	err := inbound.Check(cfg)
	fmt.Println(err)

	cfg.Mapping = `{type: .action, data: .}`
	cfg.Sample = []byte(`{"number":1}`)
	fmt.Println(inbound.Check(cfg))

	cfg.Sample = []byte(`{"action":"opened","number":1}`)
	fmt.Println(inbound.Check(cfg), cfg.Verify.Algorithm, cfg.Verify.Encoding, cfg.Verify.Template)
	// Output:
	// mapping: not a jq program: unexpected token "data" at line 2, column 2
	// mapping: on the sample: the mapping's output has no "type" field: the mapping must produce {type, id?, created?, data}
	// <nil> sha256 hex {body}
}

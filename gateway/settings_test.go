package gateway_test

import (
	"encoding/json"
	"testing"

	"github.com/hookgate/hookgate/gateway"
)

// An endpoint stored with its kind's settings among its fields (every record so far) reads
// with them as its Settings, and writes them back inline, where they were.
func TestFlatSettingsRecordLoads(t *testing.T) {
	old := `{"id":"ep_1","url":"https://api.telegram.org","kind":"telegram","events":["*"],"enabled":true,"headers":{"X-A":"b"},` +
		`"template":"{{.type}}","chat_id":"-1001","bot_token":"123:AbC","rate_limit_per_s":2,"mapping":".data","failure_streak":0,` +
		`"created_at":"2026-06-24T14:00:00Z","updated_at":"2026-06-24T14:00:00Z","secrets":[{"value":"whsec_x"}]}`
	var ep gateway.Endpoint
	if err := json.Unmarshal([]byte(old), &ep); err != nil {
		t.Fatal(err)
	}
	if string(ep.Settings) != `{"bot_token":"123:AbC","chat_id":"-1001","template":"{{.type}}"}` ||
		ep.RateLimitPerS != 2 || ep.Mapping != ".data" || ep.Headers["X-A"] != "b" || len(ep.Secrets) != 1 {
		t.Fatalf("read %+v with settings %s", ep, ep.Settings)
	}
	b, err := json.Marshal(&ep)
	if err != nil {
		t.Fatal(err)
	}
	var was, is map[string]any
	json.Unmarshal([]byte(old), &was)
	json.Unmarshal(b, &is)
	if len(was) != len(is) {
		t.Fatalf("written back as %s, want the keys of %s", b, old)
	}
	for k, v := range was {
		if w, _ := json.Marshal(v); string(w) != mustJSON(t, is[k]) {
			t.Errorf("%s written back as %s, want %s", k, mustJSON(t, is[k]), w)
		}
	}
}

// A PATCH's settings are the keys it has no field for; null is kept (it clears one).
func TestPatchSettingsInline(t *testing.T) {
	var p gateway.EndpointPatch
	if err := json.Unmarshal([]byte(`{"description":"d","api_key":null,"chat_id":"-1"}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.Description == nil || *p.Description != "d" || string(p.Settings) != `{"api_key":null,"chat_id":"-1"}` {
		t.Fatalf("patch = %+v with settings %s", p, p.Settings)
	}
	b, err := json.Marshal(p)
	if err != nil || string(b) != `{"description":"d","api_key":null,"chat_id":"-1"}` {
		t.Fatalf("marshalled = %s, %v", b, err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

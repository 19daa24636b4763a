package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// createKey makes a key with the serve token and returns it and its id.
func (a *api) createKey(name string, scopes ...string) (string, string) {
	a.t.Helper()
	sc, _ := json.Marshal(scopes)
	status, body := a.do("POST", "/v1/keys", `{"name":"`+name+`","scopes":`+string(sc)+`}`)
	if status != http.StatusCreated {
		a.t.Fatalf("POST /v1/keys = %d %v", status, body)
	}
	key, _ := body["key"].(string)
	id, _ := body["id"].(string)
	if !strings.HasPrefix(key, gateway.KeyPrefix) || id == "" {
		a.t.Fatalf("POST /v1/keys answered %v, want a key hgk_… and its id", body)
	}
	return key, id
}

// A read key lists and awaits events but is refused publishing and creating an endpoint,
// with 403 forbidden naming the scope it lacks.
func TestReadKeyCanListAndAwaitButNotPublishOrManage(t *testing.T) {
	a := newAPI(t, gateway.Options{})
	key, _ := a.createKey("reader", "read")
	as := []string{"Authorization", "Bearer " + key}

	if status, body := a.do("GET", "/v1/events", "", as...); status != http.StatusOK {
		t.Fatalf("read key GET /v1/events = %d %v", status, body)
	}
	if status, body := a.do("GET", "/v1/endpoints", "", as...); status != http.StatusOK {
		t.Fatalf("read key GET /v1/endpoints = %d %v", status, body)
	}
	type answer struct {
		status int
		body   map[string]any
	}
	awaited := make(chan answer, 1)
	go func() {
		s, b := a.do("GET", "/v1/events?type=video.posted&wait=20s", "", as...)
		awaited <- answer{s, b}
	}()
	// The await is answered by an event published (with the serve token) while it waits:
	// publish until it is (an event published before the await started is not seen by it).
	deadline := time.Now().Add(15 * time.Second)
	var got answer
	for got.status == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the read key's await never returned the published event")
		}
		if status, body := a.do("POST", "/v1/events", `{"type":"video.posted","data":{"bundle_id":"b_1"}}`); status != http.StatusAccepted {
			t.Fatalf("serve token publish = %d %v", status, body)
		}
		select {
		case got = <-awaited:
		case <-time.After(200 * time.Millisecond):
		}
	}
	if got.status != http.StatusOK || len(got.body["data"].([]any)) == 0 {
		t.Fatalf("read key await = %d %v", got.status, got.body)
	}

	status, body := a.do("POST", "/v1/events", `{"type":"video.posted","data":{}}`, as...)
	if code, field, msg := errorOf(t, body); status != http.StatusForbidden || code != "forbidden" || field != "scope" || !strings.Contains(msg, `"publish"`) {
		t.Fatalf("read key publish = %d %v, want 403 forbidden naming publish", status, body)
	}
	status, body = a.do("POST", "/v1/endpoints", `{"url":"https://example.com/hook","events":["*"]}`, as...)
	if code, _, msg := errorOf(t, body); status != http.StatusForbidden || code != "forbidden" || !strings.Contains(msg, `"manage"`) {
		t.Fatalf("read key create endpoint = %d %v, want 403 forbidden naming manage", status, body)
	}
	if status, body := a.do("GET", "/v1/keys", "", as...); status != http.StatusForbidden {
		t.Fatalf("read key GET /v1/keys = %d %v, want 403", status, body)
	}
}

// Keys are listed masked, can't be given more than their maker has, and stop working when
// revoked.
func TestKeysListMaskedAndRevoke(t *testing.T) {
	a := newAPI(t, gateway.Options{})
	key, id := a.createKey("ops", "manage", "read")

	status, body := a.do("GET", "/v1/keys", "")
	raw, _ := json.Marshal(body)
	if status != http.StatusOK || strings.Contains(string(raw), key) || strings.Contains(string(raw), "hash") {
		t.Fatalf("GET /v1/keys = %d %s: must list without the key or its hash", status, raw)
	}
	list := body["data"].([]any)
	k := list[0].(map[string]any)
	if len(list) != 1 || k["id"] != id || k["name"] != "ops" || !strings.HasPrefix(key, k["prefix"].(string)+"_") || len(k["prefix"].(string)) >= len(key)/2 ||
		strings.TrimPrefix(k["prefix"].(string), "hgk_") != strings.TrimPrefix(id, "key_") {
		t.Fatalf("listed %v, want the key's id, name and a short prefix of it", k)
	}
	if sc := k["scopes"].([]any); len(sc) != 2 || sc[0] != "read" || sc[1] != "manage" {
		t.Fatalf("scopes = %v, want [read manage]", sc)
	}

	// A manage key can make keys, but none with a scope it lacks.
	as := []string{"Authorization", "Bearer " + key}
	status, body = a.do("POST", "/v1/keys", `{"name":"escalate","scopes":["publish"]}`, as...)
	if code, field, _ := errorOf(t, body); status != http.StatusUnprocessableEntity || code != "invalid_field" || field != "scopes[0]" {
		t.Fatalf("manage key creating a publish key = %d %v, want 422 on scopes[0]", status, body)
	}
	status, body = a.do("POST", "/v1/keys", `{"name":"x","scopes":["write"]}`)
	if _, field, _ := errorOf(t, body); status != http.StatusUnprocessableEntity || field != "scopes[0]" {
		t.Fatalf("unknown scope = %d %v, want 422 on scopes[0]", status, body)
	}
	status, body = a.do("POST", "/v1/keys", `{"name":"","scopes":["read"]}`)
	if _, field, _ := errorOf(t, body); status != http.StatusUnprocessableEntity || field != "name" {
		t.Fatalf("no name = %d %v, want 422 on name", status, body)
	}

	if status, _ := a.do("GET", "/v1/endpoints", "", as...); status != http.StatusOK {
		t.Fatalf("key before revocation = %d", status)
	}
	// The same key id with another random part is refused.
	forged := key[:len(key)-4] + "AAAA"
	if status, _ := a.do("GET", "/v1/endpoints", "", "Authorization", "Bearer "+forged); status != http.StatusUnauthorized {
		t.Fatalf("forged key = %d, want 401", status)
	}
	if status, _ := a.do("DELETE", "/v1/keys/"+id, ""); status != http.StatusNoContent {
		t.Fatalf("DELETE /v1/keys/%s = %d", id, status)
	}
	status, body = a.do("GET", "/v1/endpoints", "", as...)
	if code, _, _ := errorOf(t, body); status != http.StatusUnauthorized || code != "unauthorized" {
		t.Fatalf("revoked key = %d %v, want 401", status, body)
	}
	if status, _ := a.do("DELETE", "/v1/keys/"+id, ""); status != http.StatusNotFound {
		t.Fatalf("revoking again = %d, want 404", status)
	}
}

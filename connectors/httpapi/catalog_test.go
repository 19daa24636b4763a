package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/schemas"
)

func newCatalogAPI(t *testing.T) *api {
	t.Helper()
	cat, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	return newAPI(t, gateway.Options{Catalog: cat})
}

// videoPosted is a TokPortal video.posted payload that satisfies the catalog.
const videoPosted = `{"video_id":"v_51d0e2","bundle_id":"b_8f2c1a","platform":"tiktok","post_url":"https://www.tiktok.com/@acme.daily/video/7383920011122334455","post_id":"7383920011122334455","posted_at":"2026-06-24T14:00:05Z"}`

func TestEventTypesOverHTTP(t *testing.T) {
	a := newCatalogAPI(t)
	st, body := a.do("GET", "/v1/event-types", "")
	if st != 200 {
		t.Fatalf("list = %d %v", st, body)
	}
	perProvider := map[string]int{}
	for _, it := range body["data"].([]any) {
		perProvider[it.(map[string]any)["provider"].(string)]++
	}
	want := map[string]int{"tokportal": 15, "uploadpost": 4, "oktopost": 19, "tinyposter": 7, "hookgate": 2}
	for p, n := range want {
		if perProvider[p] != n {
			t.Errorf("%s: %d types listed, the documents name %d", p, perProvider[p], n)
		}
	}
	st, body = a.do("GET", "/v1/event-types?provider=tinyposter", "")
	if st != 200 || len(body["data"].([]any)) != 7 {
		t.Fatalf("provider filter = %d, %d items", st, len(body["data"].([]any)))
	}

	st, body = a.do("GET", "/v1/event-types/video.posted", "")
	if st != 200 || body["provider"] != "tokportal" || body["schema"] == nil {
		t.Fatalf("get video.posted = %d %v", st, body)
	}
	st, body = a.do("GET", "/v1/event-types/ping?provider=tinyposter", "")
	if st != 200 || body["provider"] != "tinyposter" {
		t.Fatalf("get tinyposter ping = %d %v", st, body)
	}
	if st, body = a.do("GET", "/v1/event-types/nope.nothing", ""); st != 404 {
		t.Fatalf("unknown type = %d %v", st, body)
	}

	// A custom type: compiled on the way in, usable for validation, deletable.
	st, body = a.do("POST", "/v1/event-types", `{"name":"order.paid","description":"An order was paid","schema":{"type":"object","required":["amount"],"properties":{"amount":{"type":"integer"}},"examples":[{"amount":3}]}}`)
	if st != 201 || body["name"] != "order.paid" || body["builtin"] != false {
		t.Fatalf("add = %d %v", st, body)
	}
	st, body = a.do("POST", "/v1/event-types", `{"name":"order.paid","schema":{"type":"object"}}`)
	if st != 409 {
		t.Fatalf("add twice = %d %v", st, body)
	}
	st, body = a.do("POST", "/v1/event-types", `{"name":"video.posted","schema":{"type":"object"}}`)
	if st != 409 {
		t.Fatalf("add over a built-in = %d %v", st, body)
	}
	st, body = a.do("POST", "/v1/event-types", `{"name":"broken.schema","schema":{"type":"object","properties":{"n":{"type":"integr"}}}}`)
	if st != 422 {
		t.Fatalf("broken schema = %d %v", st, body)
	}
	if _, field, msg := errorOf(t, body); field != "schema/properties/n/type" && !strings.HasPrefix(field, "schema/properties/n") {
		t.Errorf("broken schema names %q, want the pointer to properties/n", field)
	} else if strings.Count(msg, field) != 1 {
		t.Errorf("broken schema message %q names the field %d times, want once", msg, strings.Count(msg, field))
	}
	st, body = a.do("POST", "/v1/events", `{"type":"order.paid","data":{"amount":"3"}}`)
	if st != 422 {
		t.Fatalf("invalid custom event = %d %v", st, body)
	}
	if _, field, msg := errorOf(t, body); field != "/data/amount" || !strings.Contains(msg, "integer") {
		t.Errorf("error = %q %q, want /data/amount expected integer", field, msg)
	}
	if st, body = a.do("POST", "/v1/events", `{"type":"order.paid","data":{"amount":3}}`); st != 202 {
		t.Fatalf("valid custom event = %d %v", st, body)
	}
	if st, body = a.do("DELETE", "/v1/event-types/video.posted", ""); st != 409 {
		t.Fatalf("delete built-in = %d %v", st, body)
	}
	if st, _ = a.do("DELETE", "/v1/event-types/order.paid", ""); st != 204 {
		t.Fatalf("delete custom = %d", st)
	}
	if st, _ = a.do("GET", "/v1/event-types/order.paid", ""); st != 404 {
		t.Fatalf("get deleted = %d", st)
	}
}

func TestPublishValidatesAgainstTheCatalog(t *testing.T) {
	a := newCatalogAPI(t)
	if st, body := a.do("POST", "/v1/endpoints", `{"url":"https://example.com/hook","events":["video.posted"]}`); st != 201 {
		t.Fatalf("create endpoint = %d %v", st, body)
	}
	var data map[string]any
	json.Unmarshal([]byte(videoPosted), &data)
	delete(data, "post_url")
	missing, _ := json.Marshal(map[string]any{"type": "video.posted", "data": data})
	st, body := a.do("POST", "/v1/events", string(missing))
	if st != 422 {
		t.Fatalf("video.posted without post_url = %d %v", st, body)
	}
	if code, field, msg := errorOf(t, body); code != "invalid_field" || field != "/data/post_url" || !strings.Contains(msg, "missing") {
		t.Errorf("error = %s %q %q", code, field, msg)
	}
	st, body = a.do("POST", "/v1/events", `{"type":"video.posted","data":{"video_id":"v","bundle_id":"b","platform":"myspace","post_url":"https://x.example/1","post_id":"1","posted_at":"2026-06-24T14:00:05Z"}}`)
	if _, field, _ := errorOf(t, body); st != 422 || field != "/data/platform" {
		t.Errorf("bad enum = %d %q", st, field)
	}
	st, body = a.do("POST", "/v1/events", `{"type":"video.posted","data":`+videoPosted+`}`)
	if st != 202 || body["deliveries"] != 1.0 {
		t.Fatalf("valid video.posted = %d %v", st, body)
	}
	calls := a.rec.Want(t, 5e9, 1)
	if !strings.Contains(string(calls[0].Body), `"post_url":"https://www.tiktok.com/@acme.daily/video/7383920011122334455"`) {
		t.Errorf("delivered %s", calls[0].Body)
	}
	// tinyposter's ping is checked against tinyposter's schema, not hookgate's.
	if st, body = a.do("POST", "/v1/events", `{"type":"ping","source":"tinyposter","data":{}}`); st != 202 {
		t.Errorf("tinyposter ping = %d %v", st, body)
	}
	// Unknown types pass untyped unless the server is strict.
	if st, body = a.do("POST", "/v1/events", `{"type":"app.anything","data":{"x":1}}`); st != 202 {
		t.Errorf("untyped = %d %v", st, body)
	}
}

func TestStrictTypesRefusesUnknownTypes(t *testing.T) {
	cat, _ := schemas.New()
	a := newAPI(t, gateway.Options{Catalog: cat, StrictTypes: true})
	st, body := a.do("POST", "/v1/events", `{"type":"app.anything","data":{"x":1}}`)
	if _, field, msg := errorOf(t, body); st != 422 || field != "type" || !strings.Contains(msg, "strict") {
		t.Errorf("strict = %d %q %q", st, field, msg)
	}
}

func TestSchemaExportsOverHTTP(t *testing.T) {
	a := newCatalogAPI(t)
	get := func(path string) (int, []byte) {
		req, _ := http.NewRequest("GET", a.url+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	for _, f := range []string{"jsonschema", "sample", "zapier", "make"} {
		st, b := get("/v1/event-types/video.posted/schema?format=" + f)
		if st != 200 || !json.Valid(b) {
			t.Fatalf("format %s = %d %s", f, st, b)
		}
		want, err := a.svc.ExportEventType(context.Background(), "video.posted", "", f)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != string(want) {
			t.Errorf("format %s over HTTP differs from the catalog's export", f)
		}
	}
	_, b := get("/v1/event-types/video.posted/schema?format=zapier")
	var z struct {
		OutputFields []struct{ Key, Label, Type string } `json:"outputFields"`
		Sample       map[string]any                      `json:"sample"`
	}
	if err := json.Unmarshal(b, &z); err != nil {
		t.Fatalf("zapier export: %v in %s", err, b)
	}
	keys := map[string]bool{}
	for _, f := range z.OutputFields {
		keys[f.Key] = true
	}
	if !keys["data__post_url"] || !keys["id"] || z.Sample["type"] != "video.posted" {
		t.Errorf("zapier fields %v, sample %v", keys, z.Sample)
	}
	if st, b := get("/v1/event-types/video.posted/schema?format=yaml"); st != 422 || !strings.Contains(string(b), "format") {
		t.Errorf("bad format = %d %s", st, b)
	}
}

func TestOpenAPIFromTheLiveServerIsValid(t *testing.T) {
	a := newCatalogAPI(t)
	req, _ := http.NewRequest("GET", a.url+"/v1/openapi.json", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("openapi.json = %d %s", resp.StatusCode, raw)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid OpenAPI document: %v", err)
	}
	for _, p := range []string{"/v1/events", "/v1/endpoints", "/v1/endpoints/{id}", "/v1/deliveries", "/v1/stats", "/v1/deliveries/{id}", "/v1/event-types", "/v1/event-types/{name}/schema", "/v1/sources", "/in/{id}", "/v1/zapier/hooks", "/v1/make/hooks/{id}", "/v1/keys", "/v1/keys/{id}", "/oauth/token", "/oauth/register", "/.well-known/oauth-protected-resource"} {
		if doc.Paths.Find(p) == nil {
			t.Errorf("path %s missing", p)
		}
	}
	if doc.Webhooks["video.posted"] == nil || doc.Webhooks["tinyposter/ping"] == nil || len(doc.Webhooks) != 47 {
		t.Errorf("%d webhooks; video.posted or tinyposter/ping missing", len(doc.Webhooks))
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != a.url {
		t.Errorf("servers = %v, want the URL it was fetched from", doc.Servers)
	}
}

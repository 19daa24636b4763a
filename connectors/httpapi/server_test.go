package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/memory"
)

const token = "test-token"

type api struct {
	t   *testing.T
	url string
	svc *gateway.Service
	rec *gatewaytest.Recorder
}

func newAPI(t *testing.T, opts gateway.Options) *api {
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, opts, rec)
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token, MaxBody: 64 << 10}))
	t.Cleanup(srv.Close)
	return &api{t: t, url: srv.URL, svc: svc, rec: rec}
}

// do sends a request and decodes the JSON answer (nil for an empty body).
func (a *api) do(method, path, body string, hdr ...string) (int, map[string]any) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if len(raw) == 0 {
		return resp.StatusCode, nil
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		a.t.Fatalf("%s %s: answer is not a JSON object: %s", method, path, raw)
	}
	return resp.StatusCode, out
}

func errorOf(t *testing.T, body map[string]any) (code, field, msg string) {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %v", body)
	}
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	msg, _ = e["message"].(string)
	if code == "" || msg == "" {
		t.Fatalf("error without code or message: %v", body)
	}
	return code, field, msg
}

func TestEndpointLifecycleOverHTTP(t *testing.T) {
	a := newAPI(t, gateway.Options{})
	st, ep := a.do("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/hook","events":["video.posted","post.*"],"description":"mine"}`)
	if st != 201 || !strings.HasPrefix(ep["secret"].(string), "whsec_") || ep["id"] == "" || ep["enabled"] != true {
		t.Fatalf("create = %d %v", st, ep)
	}
	id := ep["id"].(string)
	if _, ok := ep["secrets"]; ok {
		t.Fatalf("create leaks the secrets list: %v", ep)
	}
	st, got := a.do("GET", "/v1/endpoints/"+id, "")
	if st != 200 || got["url"] != "http://127.0.0.1:9/hook" || got["secret"] != nil || got["secrets"] != nil {
		t.Fatalf("get = %d %v", st, got)
	}
	st, list := a.do("GET", "/v1/endpoints?event=post.failed&enabled=true", "")
	if st != 200 || len(list["data"].([]any)) != 1 {
		t.Fatalf("list = %d %v", st, list)
	}
	st, list = a.do("GET", "/v1/endpoints?event=bundle.ready", "")
	if st != 200 || len(list["data"].([]any)) != 0 {
		t.Fatalf("list by other event = %d %v", st, list)
	}
	st, got = a.do("PATCH", "/v1/endpoints/"+id, `{"enabled":false,"description":"off"}`)
	if st != 200 || got["enabled"] != false || got["description"] != "off" {
		t.Fatalf("patch = %d %v", st, got)
	}
	st, got = a.do("POST", "/v1/endpoints/"+id+"/test", "")
	if st != 409 {
		t.Fatalf("test on disabled = %d %v", st, got)
	}
	a.do("PATCH", "/v1/endpoints/"+id, `{"enabled":true}`)
	st, got = a.do("POST", "/v1/endpoints/"+id+"/test", "")
	if st != 202 || !strings.HasPrefix(got["delivery_id"].(string), "dlv_") {
		t.Fatalf("test = %d %v", st, got)
	}
	did := got["delivery_id"].(string)
	a.rec.Want(t, 5*time.Second, 1)
	gatewaytest.WaitFor(t, 5*time.Second, "ping delivered", func() bool {
		_, d := a.do("GET", "/v1/deliveries/"+did, "")
		return d["status"] == "succeeded"
	})
	st, d := a.do("GET", "/v1/deliveries/"+did, "")
	atts := d["attempts"].([]any)
	if st != 200 || len(atts) != 1 || atts[0].(map[string]any)["status_code"].(float64) != 200 {
		t.Fatalf("delivery = %d %v", st, d)
	}
	st, list = a.do("GET", "/v1/endpoints/"+id+"/deliveries?status=succeeded", "")
	if st != 200 || len(list["data"].([]any)) != 1 {
		t.Fatalf("deliveries = %d %v", st, list)
	}
	st, got = a.do("POST", "/v1/endpoints/"+id+"/rotate-secret", "")
	if st != 200 || !strings.HasPrefix(got["secret"].(string), "whsec_") {
		t.Fatalf("rotate = %d %v", st, got)
	}
	st, got = a.do("POST", "/v1/endpoints/"+id+"/replay", `{"since":"2020-01-01T00:00:00Z"}`)
	if st != 202 || got["count"].(float64) != 0 {
		t.Fatalf("replay = %d %v", st, got)
	}
	st, got = a.do("POST", "/v1/deliveries/"+did+"/retry", "")
	if st != 202 || got["status"] != "pending" {
		t.Fatalf("retry = %d %v", st, got)
	}
	if st, _ := a.do("DELETE", "/v1/endpoints/"+id, ""); st != 204 {
		t.Fatalf("delete = %d", st)
	}
	if st, _ := a.do("GET", "/v1/endpoints/"+id, ""); st != 404 {
		t.Fatalf("get after delete = %d", st)
	}
}

func TestPublishOverHTTP(t *testing.T) {
	a := newAPI(t, gateway.Options{})
	a.do("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/hook","events":["*"]}`)
	st, res := a.do("POST", "/v1/events", `{"type":"video.posted","id":"evt_1","source":"tokportal","data":{"url":"https://x"}}`)
	if st != 202 || res["id"] != "evt_1" || res["deliveries"].(float64) != 1 {
		t.Fatalf("publish = %d %v", st, res)
	}
	st, res = a.do("POST", "/v1/events", `{"type":"video.posted","id":"evt_1","data":{}}`)
	if st != 200 || res["duplicate"] != true {
		t.Fatalf("duplicate = %d %v", st, res)
	}
	st, ev := a.do("GET", "/v1/events/evt_1", "")
	if st != 200 || ev["type"] != "video.posted" || ev["source"] != "tokportal" || len(ev["deliveries"].([]any)) != 1 {
		t.Fatalf("get event = %d %v", st, ev)
	}
	st, list := a.do("GET", "/v1/events?type=video.*&limit=10", "")
	if st != 200 || len(list["data"].([]any)) != 1 || list["next_cursor"] == "" || list["next_cursor"] == "evt_1" {
		t.Fatalf("list = %d %v, want one event and a sequence cursor", st, list)
	}
	for _, after := range []string{list["next_cursor"].(string), "evt_1"} { // a cursor, or an event id as before
		if st, list = a.do("GET", "/v1/events?after="+after, ""); st != 200 || len(list["data"].([]any)) != 0 {
			t.Fatalf("list after %s = %d %v, want none", after, st, list)
		}
	}
	a.rec.Want(t, 5*time.Second, 1)
}

func TestBadInputAnswers(t *testing.T) {
	a := newAPI(t, gateway.Options{})
	_, ep := a.do("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/hook","events":["*"]}`)
	id := ep["id"].(string)
	huge := `{"type":"x","data":"` + strings.Repeat("a", 70<<10) + `"}`
	cases := []struct {
		name, method, path, body string
		hdr                      []string
		status                   int
		code, field              string
	}{
		{"no token", "GET", "/v1/endpoints", "", []string{"Authorization", ""}, 401, "unauthorized", ""},
		{"bad token", "GET", "/v1/endpoints", "", []string{"Authorization", "Bearer nope"}, 401, "unauthorized", ""},
		{"basic auth", "GET", "/v1/events", "", []string{"Authorization", "Basic dGVzdDp0ZXN0"}, 401, "unauthorized", ""},
		{"unknown route", "GET", "/v1/nothing", "", nil, 404, "not_found", ""},
		{"wrong method", "PUT", "/v1/events", "{}", nil, 405, "method_not_allowed", ""},

		{"endpoint malformed", "POST", "/v1/endpoints", `{"url":`, nil, 400, "malformed_json", ""},
		{"endpoint not object", "POST", "/v1/endpoints", `[1,2]`, nil, 400, "malformed_json", ""},
		{"endpoint empty body", "POST", "/v1/endpoints", ``, nil, 400, "malformed_json", ""},
		{"endpoint two values", "POST", "/v1/endpoints", `{} {}`, nil, 400, "malformed_json", ""},
		{"endpoint missing url", "POST", "/v1/endpoints", `{"events":["*"]}`, nil, 422, "invalid_field", "url"},
		{"endpoint url type", "POST", "/v1/endpoints", `{"url":5,"events":["*"]}`, nil, 422, "invalid_field", "url"},
		{"endpoint events type", "POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/","events":"*"}`, nil, 422, "invalid_field", "events"},
		{"endpoint missing events", "POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/"}`, nil, 422, "invalid_field", "events"},
		{"endpoint unknown field", "POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/","events":["*"],"evnets":1}`, nil, 422, "invalid_field", "evnets"},
		{"endpoint huge", "POST", "/v1/endpoints", huge, nil, 413, "body_too_large", ""},
		{"endpoint enabled type", "PATCH", "/v1/endpoints/" + id, `{"enabled":"yes"}`, nil, 422, "invalid_field", "enabled"},
		{"patch malformed", "PATCH", "/v1/endpoints/" + id, `{`, nil, 400, "malformed_json", ""},
		{"patch unknown", "PATCH", "/v1/endpoints/ep_nope", `{}`, nil, 404, "not_found", ""},
		{"patch bad url", "PATCH", "/v1/endpoints/" + id, `{"url":"gopher://x"}`, nil, 422, "invalid_field", "url"},
		{"get unknown", "GET", "/v1/endpoints/ep_nope", ``, nil, 404, "not_found", ""},
		{"delete unknown", "DELETE", "/v1/endpoints/ep_nope", ``, nil, 404, "not_found", ""},
		{"test unknown", "POST", "/v1/endpoints/ep_nope/test", ``, nil, 404, "not_found", ""},
		{"rotate unknown", "POST", "/v1/endpoints/ep_nope/rotate-secret", ``, nil, 404, "not_found", ""},
		{"list limit", "GET", "/v1/endpoints?limit=lots", ``, nil, 422, "invalid_field", "limit"},
		{"list enabled", "GET", "/v1/endpoints?enabled=maybe", ``, nil, 422, "invalid_field", "enabled"},
		{"deliveries unknown endpoint", "GET", "/v1/endpoints/ep_nope/deliveries", ``, nil, 404, "not_found", ""},
		{"deliveries bad status", "GET", "/v1/endpoints/" + id + "/deliveries?status=lost", ``, nil, 422, "invalid_field", "status"},
		{"deliveries bad cursor", "GET", "/v1/endpoints/" + id + "/deliveries?cursor=dlv_nope", ``, nil, 422, "invalid_field", "cursor"},
		{"replay malformed", "POST", "/v1/endpoints/" + id + "/replay", `{"since":`, nil, 400, "malformed_json", ""},
		{"replay missing since", "POST", "/v1/endpoints/" + id + "/replay", `{}`, nil, 422, "invalid_field", "since"},
		{"replay bad since", "POST", "/v1/endpoints/" + id + "/replay", `{"since":"yesterday"}`, nil, 422, "invalid_field", "since"},
		{"replay bad status", "POST", "/v1/endpoints/" + id + "/replay", `{"since":"2026-01-01T00:00:00Z","status":"pending"}`, nil, 422, "invalid_field", "status"},

		{"publish malformed", "POST", "/v1/events", `{"type":"x",`, nil, 400, "malformed_json", ""},
		{"publish missing type", "POST", "/v1/events", `{"data":{}}`, nil, 422, "invalid_field", "type"},
		{"publish type type", "POST", "/v1/events", `{"type":7,"data":{}}`, nil, 422, "invalid_field", "type"},
		{"publish missing data", "POST", "/v1/events", `{"type":"x"}`, nil, 422, "invalid_field", "data"},
		{"publish null data", "POST", "/v1/events", `{"type":"x","data":null}`, nil, 422, "invalid_field", "data"},
		{"publish id type", "POST", "/v1/events", `{"type":"x","data":{},"id":1}`, nil, 422, "invalid_field", "id"},
		{"publish bad id", "POST", "/v1/events", `{"type":"x","data":{},"id":"a b"}`, nil, 422, "invalid_field", "id"},
		{"publish created", "POST", "/v1/events", `{"type":"x","data":{},"created":"noon"}`, nil, 422, "invalid_field", "created"},
		{"publish deliver_at far", "POST", "/v1/events", `{"type":"x","data":{},"deliver_at":"2999-01-01T00:00:00Z"}`, nil, 422, "invalid_field", "deliver_at"},
		{"publish huge", "POST", "/v1/events", huge, nil, 413, "body_too_large", ""},
		{"events after unknown", "GET", "/v1/events?after=evt_nope", ``, nil, 422, "invalid_field", "after"},
		{"events limit", "GET", "/v1/events?limit=-1", ``, nil, 422, "invalid_field", "limit"},
		{"events since", "GET", "/v1/events?since=today", ``, nil, 422, "invalid_field", "since"},
		{"event unknown", "GET", "/v1/events/evt_nope", ``, nil, 404, "not_found", ""},
		{"delivery unknown", "GET", "/v1/deliveries/dlv_nope", ``, nil, 404, "not_found", ""},
		{"retry unknown", "POST", "/v1/deliveries/dlv_nope/retry", ``, nil, 404, "not_found", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st, body := a.do(c.method, c.path, c.body, c.hdr...)
			if st != c.status {
				t.Fatalf("status = %d, want %d (%v)", st, c.status, body)
			}
			code, field, _ := errorOf(t, body)
			if code != c.code || field != c.field {
				t.Fatalf("error = %s/%q, want %s/%q (%v)", code, field, c.code, c.field, body)
			}
		})
	}
	if st, _ := a.do("GET", "/healthz", "", "Authorization", ""); st != 200 {
		t.Fatalf("healthz = %d", st)
	}
}

func TestPrivateURLRefusedWithoutDev(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	svc, err := gateway.New(gateway.Options{Store: memory.New(), Senders: map[string]gateway.Sender{"webhook": rec}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Stop(t.Context()) })
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token}))
	defer srv.Close()
	a := &api{t: t, url: srv.URL, svc: svc}
	st, body := a.do("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/x","events":["*"]}`)
	if _, field, _ := errorOf(t, body); st != 422 || field != "url" {
		t.Fatalf("private http URL = %d %v, want 422 on url", st, body)
	}
	for _, u := range []string{"https://10.0.0.1/x", "https://127.1/x", "https://0x7f000001/x", "https://2130706433/x", "https://localhost./x", "https://[64:ff9b::a00:1]/x", "https://[2002:a00:1::]/x"} {
		st, body = a.do("POST", "/v1/endpoints", `{"url":"`+u+`","events":["*"]}`)
		if _, field, _ := errorOf(t, body); st != 422 || field != "url" {
			t.Errorf("private https URL %s = %d %v, want 422 on url", u, st, body)
		}
	}
}

func TestPublishRefusesInvalidUTF8(t *testing.T) {
	a := newAPI(t, gateway.Options{})
	a.do("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/hook","events":["*"]}`)
	st, out := a.do("POST", "/v1/events", "{\"type\":\"video.posted\",\"data\":{\"title\":\"\xff\xfe\"}}")
	if code, field, _ := errorOf(t, out); st != 400 || code != httpapi.CodeMalformedJSON || field != "/data/title" {
		t.Fatalf("publish with invalid UTF-8 = %d %v, want 400 malformed_json on /data/title", st, out)
	}
	if st, list := a.do("GET", "/v1/events", ""); st != 200 || len(list["data"].([]any)) != 0 {
		t.Fatalf("events after the refusal = %d %v, want none stored", st, list)
	}
}

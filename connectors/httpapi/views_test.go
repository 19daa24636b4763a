package httpapi_test

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// ids returns the ids of a page's data.
func ids(t *testing.T, body map[string]any) []string {
	t.Helper()
	data, ok := body["data"].([]any)
	if !ok {
		t.Fatalf("no data in %v", body)
	}
	var out []string
	for _, d := range data {
		out = append(out, d.(map[string]any)["id"].(string))
	}
	return out
}

// GET /v1/events?order=newest pages back through the log: has_more while older events are
// left, and next_cursor continues from where the page stopped.
func TestEventsNewestPages(t *testing.T) {
	a := newAPI(t, gateway.Options{})
	var want []string
	for i := range 5 {
		st, body := a.do("POST", "/v1/events", fmt.Sprintf(`{"type":"x.n","data":{"n":%d}}`, i))
		if st != 202 {
			t.Fatalf("publish: %d %v", st, body)
		}
		want = append([]string{body["id"].(string)}, want...)
	}
	var got []string
	q := url.Values{"order": {"newest"}, "limit": {"2"}}
	for pages := 1; ; pages++ {
		st, body := a.do("GET", "/v1/events?"+q.Encode(), "")
		if st != 200 {
			t.Fatalf("page %d: %d %v", pages, st, body)
		}
		got = append(got, ids(t, body)...)
		if body["has_more"] != true {
			if pages != 3 {
				t.Fatalf("stopped after %d pages (%q), want 3", pages, got)
			}
			break
		}
		if pages == 3 {
			t.Fatalf("page 3 says has_more: %v", body)
		}
		q.Set("after", body["next_cursor"].(string))
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("newest first, paged by 2: %q, want %q", got, want)
	}
	// since takes a duration back from now, like the other lists.
	if st, body := a.do("GET", "/v1/events?since=1h", ""); st != 200 || len(ids(t, body)) != 5 {
		t.Fatalf("since=1h: %d %v", st, body)
	}
	if st, body := a.do("GET", "/v1/events?since=-1h", ""); st != 422 {
		t.Fatalf("since=-1h: %d %v, want 422", st, body)
	}
}

// crossEndpoint publishes three events to two endpoints, one of which fails every attempt
// (Schedule{0}: one attempt, then failed), and waits until the five deliveries are done.
// It returns the API, the failing endpoint's id and the healthy one's.
func crossEndpoint(t *testing.T) (a *api, bad, good string) {
	t.Helper()
	a = newAPI(t, gateway.Options{Schedule: gateway.Schedule{0}})
	st, body := a.do("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/bad","events":["x.*"]}`)
	if st != 201 {
		t.Fatalf("create: %d %v", st, body)
	}
	bad = body["id"].(string)
	st, body = a.do("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/good","events":["*"]}`)
	if st != 201 {
		t.Fatalf("create: %d %v", st, body)
	}
	good = body["id"].(string)
	a.rec.Script(func(_ int, m *gateway.Message) gateway.Outcome {
		if m.Endpoint.ID == bad {
			return gateway.Outcome{StatusCode: 500, Body: []byte("down")}
		}
		return gateway.Outcome{StatusCode: 200}
	})
	for _, typ := range []string{"x.a", "y.b", "x.c"} {
		if st, body := a.do("POST", "/v1/events", `{"type":"`+typ+`","data":{}}`); st != 202 {
			t.Fatalf("publish: %d %v", st, body)
		}
	}
	gatewaytest.WaitFor(t, 10*time.Second, "five finished deliveries", func() bool {
		_, f := a.do("GET", "/v1/deliveries?status=failed", "")
		_, s := a.do("GET", "/v1/deliveries?status=succeeded", "")
		return len(f["data"].([]any)) == 2 && len(s["data"].([]any)) == 3
	})
	return a, bad, good
}

// GET /v1/deliveries lists across endpoints, newest first, filtered by status, endpoint,
// event type and creation time, and pages by cursor.
func TestDeliveriesAcrossEndpoints(t *testing.T) {
	a, bad, good := crossEndpoint(t)
	field := func(body map[string]any, name string) []string {
		var out []string
		for _, d := range body["data"].([]any) {
			out = append(out, d.(map[string]any)[name].(string))
		}
		return out
	}
	st, all := a.do("GET", "/v1/deliveries", "")
	if st != 200 || len(all["data"].([]any)) != 5 || all["has_more"] != false {
		t.Fatalf("all: %d %v", st, all)
	}
	if types := field(all, "event_type"); types[0] != "x.c" || types[len(types)-1] != "x.a" {
		t.Fatalf("all, newest first: event types %q", types)
	}
	for _, c := range []struct {
		query string
		want  int
		check func(body map[string]any) bool
	}{
		{"status=failed", 2, func(b map[string]any) bool {
			return fmt.Sprint(field(b, "endpoint_id")) == fmt.Sprint([]string{bad, bad})
		}},
		{"status=failed&endpoint=" + good, 0, nil},
		{"endpoint=" + good, 3, nil},
		{"type=y.*", 1, func(b map[string]any) bool { return field(b, "endpoint_id")[0] == good }},
		{"type=x.c&status=failed", 1, func(b map[string]any) bool { return field(b, "event_type")[0] == "x.c" }},
		{"since=1h", 5, nil},
		{"until=1h", 0, nil},
		{"since=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), 0, nil},
	} {
		st, body := a.do("GET", "/v1/deliveries?"+c.query, "")
		if st != 200 || len(body["data"].([]any)) != c.want || c.check != nil && !c.check(body) {
			t.Errorf("?%s: %d %v, want %d deliveries", c.query, st, body, c.want)
		}
	}
	// Paging, also with the type filtered by the Service: every delivery once, in order.
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"limit=2", field(all, "id")},
		{"limit=1&type=x.*", nil},
	} {
		var got []string
		q, _ := url.ParseQuery(c.query)
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("?%s: more than 10 pages", c.query)
			}
			st, body := a.do("GET", "/v1/deliveries?"+q.Encode(), "")
			if st != 200 {
				t.Fatalf("?%s: %d %v", q.Encode(), st, body)
			}
			got = append(got, field(body, "id")...)
			if body["has_more"] != true {
				break
			}
			q.Set("cursor", body["next_cursor"].(string))
		}
		want := c.want
		if want == nil {
			_, body := a.do("GET", "/v1/deliveries?type=x.*", "")
			want = field(body, "id")
			if len(want) != 4 {
				t.Fatalf("type=x.*: %v, want 4", body)
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("?%s paged: %q, want %q", c.query, got, want)
		}
	}
	for _, c := range []struct{ query, field string }{
		{"status=lost", "status"}, {"since=yesterday", "since"}, {"until=-1h", "until"}, {"cursor=dlv_nope", "cursor"}, {"limit=x", "limit"},
	} {
		st, body := a.do("GET", "/v1/deliveries?"+c.query, "")
		if _, f, _ := errorOf(t, body); st != 422 || f != c.field {
			t.Errorf("?%s: %d %v, want 422 naming %s", c.query, st, body, c.field)
		}
	}
	if st, body := a.do("GET", "/v1/deliveries?endpoint=ep_nope", ""); st != 404 {
		t.Errorf("?endpoint=ep_nope: %d %v, want 404", st, body)
	}
}

// GET /v1/stats answers per endpoint and in total over the window, with readiness; since
// takes a duration or a time, and bad values are a 422 naming since.
func TestStatsOverHTTP(t *testing.T) {
	a, bad, good := crossEndpoint(t)
	st, body := a.do("GET", "/v1/stats?since=1h", "")
	if st != 200 {
		t.Fatalf("stats: %d %v", st, body)
	}
	by := map[string]map[string]any{}
	for _, e := range body["endpoints"].([]any) {
		e := e.(map[string]any)
		by[e["endpoint_id"].(string)] = e
	}
	b, g, tot := by[bad], by[good], body["totals"].(map[string]any)
	if b["attempts"] != 2.0 || b["failures"] != 2.0 || b["success_ratio"] != 0.0 || b["last_error"] != "HTTP 500" || b["gave_up"] != 2.0 || b["state"] != "enabled" {
		t.Errorf("failing endpoint = %v", b)
	}
	if g["attempts"] != 3.0 || g["successes"] != 3.0 || g["success_ratio"] != 1.0 || g["p50_ms"] == nil || g["p95_ms"] == nil || g["last_error"] != nil {
		t.Errorf("healthy endpoint = %v", g)
	}
	if tot["attempts"] != 5.0 || tot["successes"] != 3.0 || tot["failures"] != 2.0 || tot["pending"] != 0.0 {
		t.Errorf("totals = %v", tot)
	}
	if body["ready"] != true || body["scan"].(map[string]any)["truncated"] != false || body["disk"] == nil {
		t.Errorf("stats = %v, want ready, a scan not truncated, the disk", body)
	}
	since := url.QueryEscape(time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
	for _, q := range []string{"since=yesterday", "since=-1h", "since=" + since} {
		st, body := a.do("GET", "/v1/stats?"+q, "")
		if _, f, _ := errorOf(t, body); st != 422 || f != "since" {
			t.Errorf("?%s: %d %v, want 422 naming since", q, st, body)
		}
	}
}

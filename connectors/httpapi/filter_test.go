package httpapi_test

import (
	"strings"
	"testing"
	"time"
)

// An endpoint's filter decides at publish which events make a delivery to it: the event for
// another bundle makes none, over the API as the publisher sees it (the deliveries count)
// and as the receiver does (nothing is sent).
func TestEndpointFilterOverHTTP(t *testing.T) {
	a := newCatalogAPI(t)
	st, body := a.do("POST", "/v1/endpoints", `{"url":"https://example.com/hook","events":["video.posted"],"filter":".data.bundle_id == \"b_42\""}`)
	if st != 201 {
		t.Fatalf("create: %d %v", st, body)
	}
	id, _ := body["id"].(string)
	if body["filter"] != `.data.bundle_id == "b_42"` {
		t.Fatalf("the endpoint does not show its filter: %v", body)
	}
	other := strings.Replace(videoPosted, "b_8f2c1a", "b_7", 1)
	st, body = a.do("POST", "/v1/events", `{"type":"video.posted","data":`+other+`}`)
	if st != 202 && st != 201 || body["deliveries"] != float64(0) {
		t.Fatalf("an event for another bundle: %d %v, want no delivery", st, body)
	}
	mine := strings.Replace(videoPosted, "b_8f2c1a", "b_42", 1)
	st, body = a.do("POST", "/v1/events", `{"type":"video.posted","data":`+mine+`}`)
	if st != 202 && st != 201 || body["deliveries"] != float64(1) {
		t.Fatalf("an event for b_42: %d %v, want one delivery", st, body)
	}
	calls := a.rec.Want(t, 5*time.Second, 1)
	if !strings.Contains(string(calls[0].Body), `"b_42"`) {
		t.Fatalf("delivered %s, want the b_42 event", calls[0].Body)
	}

	// PATCH changes it; "" removes it.
	st, body = a.do("PATCH", "/v1/endpoints/"+id, `{"filter":".data.platform == \"youtube\""}`)
	if st != 200 || body["filter"] != `.data.platform == "youtube"` {
		t.Fatalf("patch: %d %v", st, body)
	}
	st, body = a.do("POST", "/v1/events", `{"type":"video.posted","data":`+mine+`}`)
	if body["deliveries"] != float64(0) {
		t.Fatalf("a tiktok event after the filter became youtube-only: %d %v", st, body)
	}
	st, body = a.do("PATCH", "/v1/endpoints/"+id, `{"filter":""}`)
	if st != 200 || body["filter"] != nil {
		t.Fatalf("patch removing the filter: %d %v", st, body)
	}
	st, body = a.do("POST", "/v1/events", `{"type":"video.posted","data":`+other+`}`)
	if body["deliveries"] != float64(1) {
		t.Fatalf("an event after the filter was removed: %d %v", st, body)
	}
}

// A filter that can't work is refused at registration with a 422 naming "filter": not jq,
// not a boolean on the subscribed type's sample (a single = gives back the object), or an
// error on it.
func TestEndpointFilterCheckedAtRegistration(t *testing.T) {
	a := newCatalogAPI(t)
	for _, tc := range []struct{ filter, want string }{
		{`.data.bundle_id ==`, "not a jq program"},
		{`.data.bundle_id = \"b_42\"`, "must produce true or false"},
		{`.data.views + 1 > 2`, ""},
		{`.data.bundle_id | test(1)`, "video.posted"},
	} {
		st, body := a.do("POST", "/v1/endpoints", `{"url":"https://example.com/hook","events":["video.posted"],"filter":"`+tc.filter+`"}`)
		if tc.want == "" {
			if st != 201 {
				t.Errorf("filter %s: %d %v, want it accepted", tc.filter, st, body)
			}
			continue
		}
		if st != 422 {
			t.Errorf("filter %s: %d %v, want 422", tc.filter, st, body)
			continue
		}
		code, field, msg := errorOf(t, body)
		if code != "invalid_field" || field != "filter" || !strings.Contains(msg, tc.want) {
			t.Errorf("filter %s: %s %s %q, want invalid_field on filter saying %q", tc.filter, code, field, msg, tc.want)
		}
	}
	st, body := a.do("POST", "/v1/endpoints", `{"url":"https://example.com/hook","events":["video.posted"]}`)
	if st != 201 {
		t.Fatalf("create: %d %v", st, body)
	}
	st, body = a.do("PATCH", "/v1/endpoints/"+body["id"].(string), `{"filter":".data"}`)
	if code, field, _ := errorOf(t, body); st != 422 || code != "invalid_field" || field != "filter" {
		t.Fatalf("patch with a non-boolean filter: %d %v", st, body)
	}
}

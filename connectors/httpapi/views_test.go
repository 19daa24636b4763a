package httpapi_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/hookgate/hookgate/gateway"
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
}

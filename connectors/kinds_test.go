package connectors_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// stand-in records the path and x-make-apikey of each call it receives and answers as
// the Bot API and Make do.
func standIn(t *testing.T) (string, <-chan string) {
	t.Helper()
	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.URL.Path + " " + r.Header.Get("X-Make-Apikey")
		if strings.HasSuffix(r.URL.Path, "/sendMessage") {
			fmt.Fprint(w, `{"ok":true,"result":{}}`)
			return
		}
		fmt.Fprint(w, "Accepted")
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

// wantCall fails unless the stand-in's next call is want.
func wantCall(t *testing.T, got <-chan string, want string) {
	t.Helper()
	select {
	case call := <-got:
		if call != want {
			t.Fatalf("delivered as %q, want %q", call, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no delivery, want %q", want)
	}
}

// The kinds' settings are the kinds' own: POST and PATCH /v1/endpoints take them inline
// as ever, every answer shows the kind's credentials masked by the kind (telegram's
// bot_token, make's api_key), a masked value sent back keeps the stored one (what a
// delivery uses), and a setting another kind reads is refused, naming it.
func TestKindSettingsOverHTTP(t *testing.T) {
	c, _ := liveGateway(t)
	base, got := standIn(t)
	const token, key = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", "mk-s3cret-key-0042"

	st, tg := c.api("POST", "/v1/endpoints", `{"kind":"telegram","url":"`+base+`","events":["*"],"bot_token":"`+token+`","chat_id":"-1001","template":"{{.type}}"}`)
	if st != 201 || tg["bot_token"] != "****Dsaw" || tg["chat_id"] != "-1001" || tg["template"] != "{{.type}}" || tg["secret"] == nil {
		t.Fatalf("create telegram = %d %v, want bot_token masked, chat_id and template as sent, and the secret", st, tg)
	}
	tgID := tg["id"].(string)
	st, mk := c.api("POST", "/v1/endpoints", `{"kind":"make","url":"`+base+`/hook","events":["*"],"api_key":"`+key+`"}`)
	if st != 201 || mk["api_key"] != "****0042" || mk["rate_limit_per_s"] != float64(25) {
		t.Fatalf("create make = %d %v, want api_key masked and the default rate", st, mk)
	}
	mkID := mk["id"].(string)

	for _, path := range []string{"/v1/endpoints/" + tgID, "/v1/endpoints/" + mkID, "/v1/endpoints"} {
		st, out := c.api("GET", path, "")
		if text := fmt.Sprint(out); st != 200 || strings.Contains(text, token) || strings.Contains(text, key) || !strings.Contains(text, "****") {
			t.Errorf("GET %s = %d %s, want the credentials masked", path, st, text)
		}
	}

	// Written back as read: the masked credentials stay what they were.
	st, out := c.api("PATCH", "/v1/endpoints/"+tgID, `{"bot_token":"`+tg["bot_token"].(string)+`","chat_id":"-1002"}`)
	if st != 200 || out["bot_token"] != tg["bot_token"] || out["chat_id"] != "-1002" || out["template"] != "{{.type}}" {
		t.Fatalf("patch telegram = %d %v", st, out)
	}
	if st, out := c.api("POST", "/v1/endpoints/"+tgID+"/test", ""); st != 202 {
		t.Fatalf("test telegram = %d %v", st, out)
	}
	wantCall(t, got, "/bot"+token+"/sendMessage ")
	if st, out = c.api("PATCH", "/v1/endpoints/"+mkID, `{"api_key":"****0042","description":"kept"}`); st != 200 || out["api_key"] != "****0042" {
		t.Fatalf("patch make = %d %v", st, out)
	}
	if st, out := c.api("POST", "/v1/endpoints/"+mkID+"/test", ""); st != 202 {
		t.Fatalf("test make = %d %v", st, out)
	}
	wantCall(t, got, "/hook "+key)

	// "" removes a setting.
	if st, out = c.api("PATCH", "/v1/endpoints/"+mkID, `{"api_key":""}`); st != 200 || out["api_key"] != nil {
		t.Fatalf("patch make api_key \"\" = %d %v, want it removed", st, out)
	}

	// Another kind's setting is refused, naming it; so is one no kind reads.
	for _, c2 := range []struct{ method, path, body, field string }{
		{"PATCH", "/v1/endpoints/" + tgID, `{"api_key":"k"}`, "api_key"},
		{"PATCH", "/v1/endpoints/" + mkID, `{"template":"x"}`, "template"},
		{"POST", "/v1/endpoints", `{"url":"` + base + `","events":["*"],"bot_token":"` + token + `"}`, "bot_token"},
		{"POST", "/v1/endpoints", `{"kind":"zapier","url":"` + base + `","events":["*"],"chat_id":"1"}`, "chat_id"},
		{"POST", "/v1/endpoints", `{"kind":"make","url":"` + base + `","events":["*"],"settings":{"api_key":"k"}}`, "settings"},
	} {
		st, out := c.api(c2.method, c2.path, c2.body)
		if e, _ := out["error"].(map[string]any); st != 422 || e["field"] != c2.field || !strings.Contains(fmt.Sprint(e["message"]), "is not used by") {
			t.Errorf("%s %s %s = %d %v, want 422 on %s", c2.method, c2.path, c2.body, st, out, c2.field)
		}
	}
}

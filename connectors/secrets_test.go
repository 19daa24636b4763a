package connectors_test

import (
	"fmt"
	"strings"
	"testing"
)

// An Upload-Post catch-hook URL carries its token: it is shown whole in the answer to the
// creation and by GET /v1/sources/{id}/url, and masked in every list, read and patch.
func TestCatchHookTokenIsShownOnlyOnCreateAndOnRequest(t *testing.T) {
	c := newCatchHooks(t)
	id, hook := c.source(`{"name":"up","provider":"uploadpost"}`)
	token := hook[strings.LastIndex(hook, "/")+1:]
	if len(token) < 16 || !strings.HasSuffix(hook, "/in/"+id+"/"+token) {
		t.Fatalf("created URL %q carries no token", hook)
	}
	st, got := c.api("GET", "/v1/sources/"+id+"/url", "")
	if st != 200 || got["url"] != hook || got["id"] != id {
		t.Fatalf("GET url = %d %v, want %s", st, got, hook)
	}
	// The whole URL is the one that works.
	if st, out := c.post(hook, `{"event":"upload_completed","job_id":"job_9","user_email":"user@example.com","profile_username":"me","platform":"instagram","media_type":"video","title":"My Video","caption":"hi","result":{"success":true,"url":"https://www.instagram.com/p/C1234567890/","publish_id":"1","post_id":"1","error":null},"created_at":"2024-03-15T14:30:00.000000"}`, nil); st != 200 {
		t.Fatalf("post to the whole URL = %d %v", st, out)
	}

	reads := map[string]func() (int, map[string]any){
		"get":   func() (int, map[string]any) { return c.api("GET", "/v1/sources/"+id, "") },
		"list":  func() (int, map[string]any) { return c.api("GET", "/v1/sources", "") },
		"patch": func() (int, map[string]any) { return c.api("PATCH", "/v1/sources/"+id, `{"name":"up2"}`) },
	}
	for name, read := range reads {
		st, out := read()
		text := fmt.Sprint(out)
		if st != 200 || strings.Contains(text, token) || !strings.Contains(text, "/in/"+id+"/****"+token[len(token)-4:]) {
			t.Errorf("%s = %d %s: want the URL with its token masked", name, st, text)
		}
	}
	if st, out := c.api("GET", "/v1/sources/src_nope/url", ""); st != 404 {
		t.Errorf("url of an unknown source = %d %v", st, out)
	}
}

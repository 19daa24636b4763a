package httpapi_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// TestGoneDeletesSubscriptionsDisablesUserEndpoints: a 410 from a subscription that Zapier
// or Make made through its REST-hook route deletes it; a 410 from an endpoint a user made
// through /v1/endpoints, whatever its kind, only disables it and announces
// endpoint.disabled. Unsubscribing a hook that is already gone is a 204.
func TestGoneDeletesSubscriptionsDisablesUserEndpoints(t *testing.T) {
	rec := gatewaytest.NewRecorder()
	rec.Script(func(_ int, m *gateway.Message) gateway.Outcome {
		if m.Endpoint.Kind == gateway.KindWebhook {
			return gateway.Outcome{StatusCode: 200}
		}
		return gateway.Outcome{StatusCode: 410}
	})
	svc := gatewaytest.New(t, gateway.Options{Senders: map[string]gateway.Sender{"zapier": rec, "make": rec}}, rec)
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token, MaxBody: 64 << 10}))
	t.Cleanup(srv.Close)
	a := &api{t: t, url: srv.URL, svc: svc, rec: rec}

	if st, body := a.do("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/watch","events":["endpoint.disabled"]}`); st != 201 {
		t.Fatalf("create watcher = %d %v", st, body)
	}
	subs, users := map[string]string{}, map[string]string{}
	for _, kind := range []string{"zapier", "make"} {
		st, sub := a.do("POST", "/v1/"+kind+"/hooks", `{"hookUrl":"http://127.0.0.1:9/sub-`+kind+`","event":"video.posted"}`)
		if st != 201 {
			t.Fatalf("%s subscribe = %d %v", kind, st, sub)
		}
		subs[kind] = sub["id"].(string)
		if st, ep := a.do("GET", "/v1/endpoints/"+subs[kind], ""); st != 200 || ep["managed_by"] != kind {
			t.Fatalf("%s subscription = %d %v, want managed_by %q", kind, st, ep, kind)
		}
		st, ep := a.do("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/user-`+kind+`","kind":"`+kind+`","events":["video.posted"]}`)
		if st != 201 {
			t.Fatalf("create %s endpoint = %d %v", kind, st, ep)
		}
		users[kind] = ep["id"].(string)
		if _, managed := ep["managed_by"]; managed {
			t.Fatalf("a user's endpoint says it is managed: %v", ep)
		}
	}

	if st, body := a.do("POST", "/v1/events", `{"type":"video.posted","data":{"post_id":"p1"}}`); st != 202 {
		t.Fatalf("publish = %d %v", st, body)
	}
	for kind, id := range subs {
		gatewaytest.WaitFor(t, 5*time.Second, kind+" subscription deleted by 410", func() bool {
			st, _ := a.do("GET", "/v1/endpoints/"+id, "")
			return st == 404
		})
	}
	for kind, id := range users {
		gatewaytest.WaitFor(t, 5*time.Second, kind+" user endpoint disabled by 410", func() bool {
			st, ep := a.do("GET", "/v1/endpoints/"+id, "")
			if st != 200 {
				t.Fatalf("a user's %s endpoint answered %d after a 410: it must be disabled, never deleted", kind, st)
			}
			return ep["enabled"] == false && strings.Contains(ep["disabled_reason"].(string), "410")
		})
	}
	// The watcher hears endpoint.disabled for both users' endpoints, and for no subscription.
	announced := map[string]bool{}
	gatewaytest.WaitFor(t, 5*time.Second, "endpoint.disabled for both user endpoints", func() bool {
		for _, c := range rec.Calls() {
			if c.EventType != "endpoint.disabled" {
				continue
			}
			for _, id := range users {
				if strings.Contains(string(c.Body), id) {
					announced[id] = true
				}
			}
			for _, id := range subs {
				if strings.Contains(string(c.Body), id) {
					t.Fatalf("endpoint.disabled announced for the deleted subscription %s: %s", id, c.Body)
				}
			}
		}
		return len(announced) == len(users)
	})

	for kind := range subs {
		if st, body := a.do("DELETE", "/v1/"+kind+"/hooks/"+subs[kind], ""); st != 204 {
			t.Errorf("%s unsubscribe of a hook a 410 removed = %d %v, want 204", kind, st, body)
		}
		if st, body := a.do("DELETE", "/v1/"+kind+"/hooks/"+users[kind], ""); st != 404 {
			t.Errorf("%s unsubscribe of a user's endpoint = %d %v, want 404", kind, st, body)
		}
		if st, _ := a.do("GET", "/v1/endpoints/"+users[kind], ""); st != 200 {
			t.Errorf("the user's %s endpoint is gone after an unsubscribe call", kind)
		}
		st, sub := a.do("POST", "/v1/"+kind+"/hooks", `{"hookUrl":"http://127.0.0.1:9/again","event":"post.*"}`)
		if st != 201 {
			t.Fatalf("%s subscribe = %d %v", kind, st, sub)
		}
		id := sub["id"].(string)
		if st, body := a.do("DELETE", "/v1/"+kind+"/hooks/"+id, ""); st != 200 || body["deleted"] != true {
			t.Errorf("%s unsubscribe = %d %v, want 200 deleted", kind, st, body)
		}
		if st, body := a.do("DELETE", "/v1/"+kind+"/hooks/"+id, ""); st != 204 {
			t.Errorf("%s second unsubscribe = %d %v, want 204", kind, st, body)
		}
	}
}

package httpapi_test

import (
	"strings"
	"testing"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/schemas"
)

func TestUnknownTypesOverHTTP(t *testing.T) {
	cat, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	rec := gatewaytest.NewRecorder()
	a := newAPI(t, gateway.Options{Catalog: cat, Senders: map[string]gateway.Sender{"zapier": rec, "make": rec}})
	st, body := a.do("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/h","events":["video.*","vidoe.posted"]}`)
	if st != 422 {
		t.Fatalf("subscribe to vidoe.posted = %d %v", st, body)
	}
	if code, field, msg := errorOf(t, body); field != "events[1]" || !strings.Contains(msg, "did you mean video.posted?") || !strings.Contains(msg, "/v1/event-types") {
		t.Fatalf("error = %s %s %q", code, field, msg)
	}
	for _, kind := range []string{"zapier", "make"} {
		st, body := a.do("POST", "/v1/"+kind+"/hooks", `{"hookUrl":"http://127.0.0.1:9/`+kind+`","event":"bundel.ready"}`)
		if st != 422 {
			t.Fatalf("%s subscribe to bundel.ready = %d %v", kind, st, body)
		}
		if _, field, msg := errorOf(t, body); field != "event" || !strings.Contains(msg, "did you mean bundle.ready?") {
			t.Fatalf("%s: field %q message %q", kind, field, msg)
		}
	}

	st, body = a.do("POST", "/v1/events", `{"type":"vidoe.posted","data":{"n":1}}`)
	w, _ := body["warnings"].([]any)
	if st != 202 || len(w) != 1 || w[0] != "unknown type vidoe.posted; did you mean video.posted?" {
		t.Fatalf("publish vidoe.posted = %d %v", st, body)
	}
	st, body = a.do("POST", "/v1/events", `{"type":"video.posted","data":`+videoPosted+`}`)
	if _, has := body["warnings"]; st != 202 || has {
		t.Fatalf("publish video.posted = %d %v", st, body)
	}
	// Now published, vidoe.posted can be subscribed to.
	if st, body := a.do("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/h","events":["vidoe.posted"]}`); st != 201 {
		t.Fatalf("subscribe to a published type = %d %v", st, body)
	}
}

package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// Endpoint headers are credentials (Authorization, X-Api-Key…): every answer masks their
// values, as it masks auth and bot_token, and a masked value sent back keeps the real one.
func TestEndpointHeaderValuesAreWriteOnly(t *testing.T) {
	a := newAPI(t, gateway.Options{})
	secrets := []string{"Bearer sk_live_0123456789", "key-abcdef-987654", "growth-team-secret"}
	st, ep := a.do("POST", "/v1/endpoints", `{"url":"http://127.0.0.1:9/hook","events":["*"],"headers":{"Authorization":"`+secrets[0]+`","X-Api-Key":"`+secrets[1]+`","X-Team":"`+secrets[2]+`"}}`)
	if st != 201 {
		t.Fatalf("create = %d %v", st, ep)
	}
	id := ep["id"].(string)
	answers := map[string]map[string]any{"create": ep}
	_, answers["get"] = a.do("GET", "/v1/endpoints/"+id, "")
	_, answers["list"] = a.do("GET", "/v1/endpoints", "")
	_, answers["patch"] = a.do("PATCH", "/v1/endpoints/"+id, `{"description":"still secret"}`)
	for name, body := range answers {
		text := fmt.Sprint(body)
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s answer shows the header value %q: %s", name, s, text)
			}
		}
		if !strings.Contains(text, "Authorization:****6789") {
			t.Errorf("%s answer: want Authorization masked to ****6789: %s", name, text)
		}
	}

	// Written back as read (masked), the values are kept; a new value replaces its own.
	st, got := a.do("PATCH", "/v1/endpoints/"+id, `{"headers":{"Authorization":"****6789","X-Api-Key":"new-key-0000000001"}}`)
	if st != 200 {
		t.Fatalf("patch headers = %d %v", st, got)
	}
	// What a delivery sends is the real values.
	sent := make(chan map[string]string, 1)
	a.rec.Script(func(_ int, m *gateway.Message) gateway.Outcome {
		sent <- m.Endpoint.Headers
		return gateway.Outcome{StatusCode: 200}
	})
	if st, got := a.do("POST", "/v1/endpoints/"+id+"/test", ""); st != 202 {
		t.Fatalf("test = %d %v", st, got)
	}
	select {
	case h := <-sent:
		if h["Authorization"] != secrets[0] || h["X-Api-Key"] != "new-key-0000000001" || len(h) != 2 {
			t.Fatalf("delivered headers after a masked patch = %v", h)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
}

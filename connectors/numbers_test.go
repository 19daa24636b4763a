package connectors_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/connectors/connectortest"
	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/schemas"
)

// bigN and tenth are numbers a float64 changes or may write otherwise: 7383920011122334455
// becomes 7383920011122335000, and 0.1 must not become 0.10000000000000001.
const (
	bigN  = `7383920011122334455`
	tenth = `0.1`
)

// liveGateway is the whole path over loopback: the API, the catalog, the catch-hook presets
// and the real senders, delivering to a connectortest.Receiver.
func liveGateway(t *testing.T) (*catchHooks, *connectortest.Receiver) {
	t.Helper()
	cat, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	policy := gateway.URLPolicy{AllowPrivate: true}
	svc := gatewaytest.New(t, gateway.Options{Catalog: cat, Inbound: connectors.Inbound(), Senders: connectors.Senders(connectors.Options{Policy: policy})}, nil)
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token}))
	t.Cleanup(srv.Close)
	return &catchHooks{t: t, url: srv.URL}, connectortest.NewReceiver(t)
}

// asSent matches both numbers written as sent (0.1 not followed by more digits).
var asSent = []*regexp.Regexp{regexp.MustCompile(`"n":` + bigN + `[,}\]]`), regexp.MustCompile(`"d":0\.1[,}\]]`)}

// wantNumbers fails unless body holds both numbers exactly as sent.
func wantNumbers(t *testing.T, what string, body []byte) {
	t.Helper()
	for _, re := range asSent {
		if !re.Match(body) {
			t.Errorf("%s = %s; want n = %s and d = %s as sent", what, body, bigN, tenth)
			return
		}
	}
}

// TestMappedNumbersArriveAsSent: a publish through an endpoint with a jq mapping reaches a
// real receiver with its numbers byte for byte, and so do the exports of what the endpoint
// receives (schema sample through the mapping, Zapier samples of stored events).
func TestMappedNumbersArriveAsSent(t *testing.T) {
	c, rcv := liveGateway(t)
	// A custom type whose example has the numbers: the mapping is checked on it when the
	// endpoint is saved, and exported through it.
	if st, out := c.api("POST", "/v1/event-types", `{"name":"order.paid","schema":{"type":"object","properties":{"n":{"type":"integer"},"d":{"type":"number"}},"examples":[{"n":`+bigN+`,"d":`+tenth+`}]}}`); st != 201 {
		t.Fatalf("add type = %d %v", st, out)
	}
	st, ep := c.api("POST", "/v1/endpoints", `{"url":"`+rcv.URL()+`/mapped","events":["order.paid"],"mapping":"{n: .data.n, d: .data.d, id}"}`)
	if st != 201 {
		t.Fatalf("create endpoint = %d %v", st, ep)
	}
	if st, out := c.api("POST", "/v1/events", `{"type":"order.paid","id":"evt_big","data":{"n":`+bigN+`,"d":`+tenth+`}}`); st != 202 {
		t.Fatalf("publish = %d %v", st, out)
	}
	req := rcv.Want(t, 10*time.Second, 1)[0]
	wantNumbers(t, "the mapped delivery", req.Body)

	// Zapier's performList: the stored event as it was published.
	wantNumbers(t, "/v1/zapier/samples", get(t, c.url+"/v1/zapier/samples?event=order.paid"))

	// What the endpoint receives, described from the mapped sample.
	epID := ep["id"].(string)
	wantNumbers(t, "the endpoint's sample", compact(get(t, c.url+"/v1/event-types/order.paid/schema?format=sample&endpoint="+epID)))
	zap := compact(get(t, c.url+"/v1/event-types/order.paid/schema?format=zapier&endpoint="+epID))
	wantNumbers(t, "the endpoint's Zapier export", zap)
	if !strings.Contains(string(zap), `"key":"n","label":"N","type":"integer"`) {
		t.Errorf("the endpoint's Zapier export = %s; want n typed integer", zap)
	}
	openapi := get(t, c.url+"/v1/openapi.json")
	if !strings.Contains(string(compact(openapi)), `"data":{"n":`+bigN+`,"d":`+tenth+`}}]`) {
		t.Errorf("/v1/openapi.json: the order.paid example lost its numbers")
	}
}

// TestCatchHookMappedNumbersArriveAsSent: a generic catch hook whose jq mapping builds the
// envelope delivers the payload's numbers byte for byte.
func TestCatchHookMappedNumbersArriveAsSent(t *testing.T) {
	c, rcv := liveGateway(t)
	if st, ep := c.api("POST", "/v1/endpoints", `{"url":"`+rcv.URL()+`/all","events":["*"]}`); st != 201 {
		t.Fatalf("create endpoint = %d %v", st, ep)
	}
	_, hook := c.source(`{"name":"shop","provider":"generic","verify":{"type":"none"},"mapping":"{type: \"order.\\(.status)\", id: \"o-\\(.order_id)\", data: {n: .order_id, d: .amount}}"}`)
	if st, out := c.post(hook, `{"status":"paid","order_id":`+bigN+`,"amount":`+tenth+`}`, nil); st != 202 && st != 200 {
		t.Fatalf("catch hook = %d %v", st, out)
	}
	req := rcv.Want(t, 10*time.Second, 1)[0]
	wantNumbers(t, "the delivered catch hook", req.Body)
	if !strings.Contains(string(req.Body), `"o-`+bigN+`"`) {
		t.Errorf("delivered = %s; want the id o-%s", req.Body, bigN)
	}
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	if _, err := io.Copy(&b, resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, b.String())
	}
	return []byte(b.String())
}

// compact removes the indentation of an export.
func compact(b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return b
	}
	return out.Bytes()
}

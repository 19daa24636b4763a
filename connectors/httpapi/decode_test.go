package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// decodeCases are request bodies with what the API answers them: the status and, for an
// error, the whole error object. The answers were recorded from the API as it was before
// the body was read and decoded with fewer copies (issue 17); they must not change.
var decodeCases = []struct {
	name, path, body string
	status           int
	err              string // the error object as JSON; "" for a success
}{
	{"empty", "/v1/events", ``, 400, `{"code":"malformed_json","message":"request body is empty; send a JSON object"}`},
	{"blank", "/v1/events", " \n\t ", 400, `{"code":"malformed_json","message":"request body is empty; send a JSON object"}`},
	{"nbsp only", "/v1/events", "\u00a0", 400, `{"code":"malformed_json","message":"request body is empty; send a JSON object"}`},
	{"truncated", "/v1/events", `{"type":"x",`, 400, `{"code":"malformed_json","message":"malformed JSON: unexpected end of input"}`},
	{"truncated data", "/v1/events", `{"type":"x","data":{"a":[1,2`, 400, `{"code":"malformed_json","message":"malformed JSON: unexpected end of input"}`},
	{"truncated literal", "/v1/events", `tru`, 400, `{"code":"malformed_json","message":"malformed JSON: unexpected end of input"}`},
	{"bad value", "/v1/events", `{"type":x}`, 400, `{"code":"malformed_json","message":"malformed JSON at byte 9: invalid character 'x' looking for beginning of value"}`},
	{"bad data", "/v1/events", `{"type":"x","data":{"a":tru}}`, 400, `{"code":"malformed_json","message":"malformed JSON at byte 28: invalid character '}' in literal true (expecting 'e')"}`},
	{"leading space bad", "/v1/events", "  \n{\"type\" \"x\"}", 400, `{"code":"malformed_json","message":"malformed JSON at byte 12: invalid character '\"' after object key"}`},
	{"two values", "/v1/events", `{"type":"x","data":{}} {"a":1}`, 400, `{"code":"malformed_json","message":"malformed JSON: more than one value in the body"}`},
	{"trailing garbage", "/v1/events", `{"type":"x","data":{}} xyz`, 400, `{"code":"malformed_json","message":"malformed JSON: more than one value in the body"}`},
	{"trailing brace", "/v1/events", `{"type":"x","data":{}} }`, 202, ``},
	{"trailing newline", "/v1/events", "{\"type\":\"x\",\"data\":{}}\r\n", 202, ``},
	{"array", "/v1/events", `[1,2]`, 400, `{"code":"malformed_json","message":"the body must be a JSON object, not array"}`},
	{"string", "/v1/events", `"s"`, 400, `{"code":"malformed_json","message":"the body must be a JSON object, not string"}`},
	{"number", "/v1/events", ` 12 `, 400, `{"code":"malformed_json","message":"the body must be a JSON object, not number"}`},
	{"null", "/v1/events", `null`, 422, `{"code":"invalid_field","message":"type: is required","field":"type"}`},
	{"type type", "/v1/events", `{"type":7,"data":{}}`, 422, `{"code":"invalid_field","message":"type: expected string, got number","field":"type"}`},
	{"created type", "/v1/events", `{"type":"x","data":{},"created":{"a":1}}`, 422, `{"code":"invalid_field","message":"created: expected string, got object","field":"created"}`},
	{"type error then unknown", "/v1/events", `{"type":7,"data":{},"extra":1}`, 422, `{"code":"invalid_field","message":"type: expected string, got number","field":"type"}`},
	{"unknown then type error", "/v1/events", `{"extra":1,"type":7,"data":{}}`, 422, `{"code":"invalid_field","message":"extra: unknown field","field":"extra"}`},
	{"unknown field", "/v1/events", `{"type":"x","data":{},"extra":1}`, 422, `{"code":"invalid_field","message":"extra: unknown field","field":"extra"}`},
	{"unknown escaped field", "/v1/events", `{"type":"x","data":{},"ex\u0074ra":1}`, 422, `{"code":"invalid_field","message":"extra: unknown field","field":"extra"}`},
	{"escaped known field", "/v1/events", `{"ty\u0070e":"x","data":{}}`, 202, ``},
	{"field in capitals", "/v1/events", `{"TYPE":"x","Data":{}}`, 202, ``},
	{"field twice", "/v1/events", `{"type":"a b","type":"x","data":{}}`, 202, ``},
	{"unknown inside data", "/v1/events", `{"type":"x","data":{"extra":{"more":[1,{"x":null}]}}}`, 202, ``},
	{"spaced data", "/v1/events", "{ \"type\" : \"x\" ,\n \"data\" : { \"a\" : [ 1 , 2 ] , \"b\" : \"c d\" } }", 202, ``},
	{"data scalar", "/v1/events", `{"type":"x","data":"s"}`, 202, ``},
	{"data null", "/v1/events", `{"type":"x","data":null}`, 422, `{"code":"invalid_field","message":"data: is required: the event's payload as a JSON value, usually an object","field":"data"}`},
	{"data missing", "/v1/events", `{"type":"x"}`, 422, `{"code":"invalid_field","message":"data: is required: the event's payload as a JSON value, usually an object","field":"data"}`},
	{"data invalid UTF-8", "/v1/events", "{\"type\":\"x\",\"data\":{\"a\":[\"ok\",\"\xff\"]}}", 400, `{"code":"malformed_json","message":"/data/a/1: a string that is not valid UTF-8 (JSON text must be UTF-8, RFC 8259)","field":"/data/a/1"}`},
	{"data key invalid UTF-8", "/v1/events", "{\"type\":\"x\",\"data\":{\"\xfe\":1}}", 400, `{"code":"malformed_json","message":"/data/\ufffd: a member name that is not valid UTF-8 (JSON text must be UTF-8, RFC 8259)","field":"/data/\ufffd"}`},
	{"type invalid UTF-8", "/v1/events", "{\"type\":\"\xff\",\"data\":{}}", 422, `{"code":"invalid_field","message":"type: must be 1-200 letters, digits or . _ : - (starting with a letter or digit)","field":"type"}`},
	{"control character", "/v1/events", "{\"type\":\"x\",\"data\":\"a\x01\"}", 400, `{"code":"malformed_json","message":"malformed JSON at byte 22: invalid character '\\x01' in string literal"}`},

	{"endpoint unknown field", "/v1/endpoints", `{"url":"http://127.0.0.1:9/","events":["*"],"evnets":1}`, 422, `{"code":"invalid_field","message":"evnets: is not used by webhook endpoints","field":"evnets"}`},
	{"endpoint two values", "/v1/endpoints", `{} {}`, 400, `{"code":"malformed_json","message":"malformed JSON: more than one value in the body"}`},
	{"endpoint events type", "/v1/endpoints", `{"url":"http://127.0.0.1:9/","events":"*"}`, 422, `{"code":"invalid_field","message":"events: expected array, got string","field":"events"}`},
	{"endpoint", "/v1/endpoints", `{"url":"http://127.0.0.1:9/","events":["*"]}`, 201, ``},
}

// TestDecodeAnswersUnchanged sends each of decodeCases and compares the whole answer: the
// status and every field of the error object, message included.
func TestDecodeAnswersUnchanged(t *testing.T) {
	a := newAPI(t, gateway.Options{})
	record := os.Getenv("HOOKGATE_RECORD_DECODE") != ""
	for _, tc := range decodeCases {
		st, out := a.do("POST", tc.path, tc.body)
		got := ""
		if e, ok := out["error"]; ok {
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			got = string(b)
		}
		if record {
			t.Logf("%s: %d %s", tc.name, st, got)
			continue
		}
		if want := canonical(t, tc.err); st != tc.status || got != want {
			t.Errorf("%s: POST %s %q = %d %s, want %d %s", tc.name, tc.path, tc.body, st, got, tc.status, want)
		}
	}
}

// canonical re-encodes a JSON object the way the test decodes and encodes answers (keys
// sorted).
func canonical(t *testing.T, s string) string {
	t.Helper()
	if strings.TrimSpace(s) == "" {
		return ""
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad expectation %s: %v", s, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestBodySizes reads bodies around the limit and past the size readBody allocates up
// front, with and without Content-Length: a body of exactly the limit is read, one byte more
// is 413, and a body longer than the first buffer arrives whole.
func TestBodySizes(t *testing.T) {
	const limit = 512 << 10
	svc := gatewaytest.New(t, gateway.Options{}, nil)
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token, MaxBody: limit}))
	t.Cleanup(srv.Close)
	// event is a publish body of exactly n bytes whose data holds a string of padding.
	event := func(n int) string {
		head, tail := `{"type":"x","data":{"pad":"`, `"}}`
		return head + strings.Repeat("p", n-len(head)-len(tail)) + tail
	}
	post := func(body string, chunked bool) (int, map[string]any) {
		t.Helper()
		var r io.Reader = strings.NewReader(body)
		if chunked {
			r = io.MultiReader(r) // hides the length: the request is sent chunked
		}
		req, err := http.NewRequest("POST", srv.URL+"/v1/events", r)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, out
	}
	for _, chunked := range []bool{false, true} {
		for _, n := range []int{100, 300 << 10, limit} {
			st, out := post(event(n), chunked)
			if st != 202 {
				t.Fatalf("%d-byte body (chunked %v) = %d %v, want 202", n, chunked, st, out)
			}
			ev, _, err := svc.GetEvent(t.Context(), out["id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if want := event(n)[len(`{"type":"x","data":`) : n-1]; string(ev.Data) != want {
				t.Fatalf("%d-byte body (chunked %v) stored %d bytes of data, want %d", n, chunked, len(ev.Data), len(want))
			}
		}
		if st, out := post(event(limit+1), chunked); st != 413 || out["error"].(map[string]any)["code"] != httpapi.CodeBodyTooLarge {
			t.Fatalf("body one byte over the limit (chunked %v) = %d %v, want 413 body_too_large", chunked, st, out)
		}
	}
}

package connectors_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/schemas"
)

const token = "test-token"

// catchHooks is a gateway with the catalog and the provider presets, its API on loopback,
// and one endpoint subscribed to everything.
type catchHooks struct {
	t   *testing.T
	url string
	rec *gatewaytest.Recorder
}

func newCatchHooks(t *testing.T) *catchHooks { return newCatchHooksWith(t, gateway.Options{}) }

// newCatchHooksWith is newCatchHooks with more options.
func newCatchHooksWith(t *testing.T, opts gateway.Options) *catchHooks {
	cat, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	opts.Catalog, opts.Inbound = cat, connectors.Inbound()
	rec := gatewaytest.NewRecorder()
	svc := gatewaytest.New(t, opts, rec)
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token}))
	t.Cleanup(srv.Close)
	if _, _, err := svc.CreateEndpoint(t.Context(), gateway.EndpointInput{URL: "http://127.0.0.1:9/all", Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	return &catchHooks{t: t, url: srv.URL, rec: rec}
}

// api calls the management API with the token.
func (c *catchHooks) api(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	return do(c.t, req)
}

// post sends a provider's call to a catch-hook URL (no API token).
func (c *catchHooks) post(hookURL, body string, header http.Header) (int, map[string]any) {
	c.t.Helper()
	req, _ := http.NewRequest("POST", hookURL, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	return do(c.t, req)
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 && json.Unmarshal(raw, &out) != nil {
		t.Fatalf("%s %s: not a JSON object: %s", req.Method, req.URL.Path, raw)
	}
	return resp.StatusCode, out
}

func (c *catchHooks) source(body string) (id, hookURL string) {
	c.t.Helper()
	st, out := c.api("POST", "/v1/sources", body)
	if st != 201 {
		c.t.Fatalf("create source %s = %d %v", body, st, out)
	}
	return out["id"].(string), out["url"].(string)
}

func hexHMAC(key, msg string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

type provider struct {
	name, create, body string
	sign               func(body string, now time.Time) http.Header
	wantType, wantID   string
	wantData           string // a fragment of the delivered data
}

var providers = []provider{{
	name:   "tokportal",
	create: `{"name":"tp","provider":"tokportal","secret":"tp_secret_1"}`,
	body:   `{"event":"video.posted","event_id":"evt_01J0TP5V3K","timestamp":"2026-06-24T14:00:05.123Z","data":{"video_id":"v_51d0e2","bundle_id":"b_8f2c1a","platform":"tiktok","post_url":"https://www.tiktok.com/@acme.daily/video/7383920011122334455","post_id":"7383920011122334455","posted_at":"2026-06-24T14:00:05Z"}}`,
	// TokPortal: X-TokPortal-Signature = hex HMAC-SHA256 of the raw body with the secret.
	sign: func(body string, _ time.Time) http.Header {
		return http.Header{"X-Tokportal-Signature": {hexHMAC("tp_secret_1", body)}}
	},
	wantType: "video.posted", wantID: "evt_01J0TP5V3K", wantData: `"post_url":"https://www.tiktok.com/@acme.daily/video/7383920011122334455"`,
}, {
	name:   "tinyposter",
	create: `{"name":"tiny","provider":"tinyposter","secret":"whsec_tP4nQ8rX2kVm7ZcY1bH5sL9d"}`,
	body:   `{"id":"f1e2d3c4-0001","type":"post.published","created":"2026-06-24T14:00:00.000Z","data":{"post":{"id":"9a8b7c6d","status":"published","text":"Friday recap","platforms":["TWITTER","LINKEDIN"],"title":null,"scheduled_at":"2026-06-24T14:00:00.000Z","published_at":"2026-06-24T14:00:05.000Z","error":null,"brand_id":"b1"}}}`,
	// tinyposter: t=<unix>,v1=hex HMAC-SHA256 of "{t}.{body}" keyed with the whole whsec_ string.
	sign: func(body string, now time.Time) http.Header {
		ts := fmt.Sprint(now.Unix())
		return http.Header{"X-Tinyposter-Signature": {"t=" + ts + ",v1=" + hexHMAC("whsec_tP4nQ8rX2kVm7ZcY1bH5sL9d", ts+"."+body)}}
	},
	wantType: "post.published", wantID: "f1e2d3c4-0001", wantData: `"status":"published"`,
}, {
	name:   "uploadpost",
	create: `{"name":"up","provider":"uploadpost"}`,
	body:   `{"event":"upload_completed","job_id":"job_77","user_email":"user@example.com","profile_username":"me","platform":"instagram","media_type":"video","title":"My Video","caption":"hi","result":{"success":true,"url":"https://www.instagram.com/p/C1234567890/","publish_id":"1","post_id":"1","error":null},"created_at":"2024-03-15T14:30:00.000000"}`,
	// Upload-Post signs nothing: the token is in the URL the source gave.
	sign:     func(string, time.Time) http.Header { return nil },
	wantType: "upload_completed", wantData: `"job_id":"job_77"`,
}, {
	name:   "oktopost",
	create: `{"name":"okto","provider":"oktopost","secret":"a1b2c3d4e5f6a7b8c9d0e1f2"}`,
	body:   `{"event":"postSent","timestamp":1705315200,"webhookId":"0WA000000000001","data":{"postId":"0PL000000000001","network":"LinkedIn","campaignId":"002000000000001","sentAt":"2024-01-15 10:30:00"}}`,
	// Oktopost: hex HMAC-SHA256 of the body with the webhook's secret.
	sign: func(body string, _ time.Time) http.Header {
		return http.Header{"X-Oktopost-Signature": {hexHMAC("a1b2c3d4e5f6a7b8c9d0e1f2", body)}}
	},
	wantType: "postSent", wantData: `"webhookId":"0WA000000000001"`,
}}

func TestCatchHooksVerifyMapAndDeliver(t *testing.T) {
	for _, p := range providers {
		t.Run(p.name, func(t *testing.T) {
			c := newCatchHooks(t)
			srcID, hook := c.source(p.create)
			if !strings.HasPrefix(hook, c.url+"/in/"+srcID) {
				t.Fatalf("catch-hook URL %s", hook)
			}
			now := time.Now()
			st, out := c.post(hook, p.body, p.sign(p.body, now))
			if st != 200 || out["id"] == nil || out["duplicate"] != nil {
				t.Fatalf("first call = %d %v", st, out)
			}
			calls := c.rec.Want(t, 5*time.Second, 1)
			var env struct {
				ID, Type, Source string
				SourceEventID    string `json:"source_event_id"`
				Data             json.RawMessage
			}
			if err := json.Unmarshal(calls[0].Body, &env); err != nil {
				t.Fatal(err)
			}
			if env.Type != p.wantType || env.Source != p.name || !bytes.Contains(env.Data, []byte(p.wantData)) ||
				!strings.HasPrefix(env.ID, "evt_") || env.ID != out["id"] || env.SourceEventID == "" || (p.wantID != "" && env.SourceEventID != p.wantID) {
				t.Fatalf("delivered %s", calls[0].Body)
			}

			// A replay of the same call: 200, duplicate, nothing sent.
			st, out = c.post(hook, p.body, p.sign(p.body, now))
			if st != 200 || out["duplicate"] != true || out["id"] != env.ID {
				t.Fatalf("replay = %d %v", st, out)
			}
			// A tampered body.
			tampered := strings.Replace(p.body, `"`+p.wantType+`"`, `"`+p.wantType+`" `, 1)
			tampered = strings.Replace(tampered, "LinkedIn", "Linkedln", 1)
			tampered = strings.Replace(tampered, "tiktok.com/@acme", "tiktok.com/@evil", 1)
			tampered = strings.Replace(tampered, "recap", "scam", 1)
			if p.name == "uploadpost" {
				// Unsigned: the defence is the token. A wrong one is refused.
				st, out = c.post(strings.TrimSuffix(hook, hook[strings.LastIndex(hook, "/"):])+"/wrong-token-0123456789", p.body, nil)
			} else {
				st, out = c.post(hook, tampered, p.sign(p.body, now))
			}
			if st != 401 || out["error"].(map[string]any)["code"] != "invalid_signature" {
				t.Fatalf("tampered = %d %v", st, out)
			}
			// No signature at all.
			if p.name != "uploadpost" {
				if st, out = c.post(hook, p.body, nil); st != 401 || !strings.Contains(fmt.Sprint(out), "missing") {
					t.Fatalf("unsigned = %d %v", st, out)
				}
			}
			time.Sleep(100 * time.Millisecond)
			if n := len(c.rec.Calls()); n != 1 {
				t.Fatalf("%d deliveries; the replay or a rejected call was sent", n)
			}
			// The request log shows each call, newest first, with why it was refused.
			st, out = c.api("GET", "/v1/sources/"+srcID+"/requests?limit=10", "")
			reqs, _ := out["data"].([]any)
			if st != 200 || len(reqs) < 3 {
				t.Fatalf("request log = %d %v", st, out)
			}
			first := reqs[len(reqs)-1].(map[string]any)
			if first["verified"] != true || first["event_id"] != env.ID || first["duplicate"] != false {
				t.Errorf("logged first call = %v", first)
			}
			if last := reqs[0].(map[string]any); last["verified"] != false || last["error"] == "" {
				t.Errorf("logged refused call = %v", last)
			}
		})
	}
}

// tokportalCall is a signed TokPortal video.posted call with the given event id.
func tokportalCall(secret, eventID string) (string, http.Header) {
	body := `{"event":"video.posted","event_id":"` + eventID + `","timestamp":"2026-06-24T14:00:05.123Z","data":{"video_id":"v_1","bundle_id":"b_1","platform":"tiktok","post_url":"https://www.tiktok.com/@a/video/1","post_id":"1","posted_at":"2026-06-24T14:00:05Z"}}`
	return body, http.Header{"X-Tokportal-Signature": {hexHMAC(secret, body)}}
}

func TestDedupeIsPerSource(t *testing.T) {
	c := newCatchHooks(t)
	_, hookA := c.source(`{"name":"tp-a","provider":"tokportal","secret":"secret-a"}`)
	_, hookB := c.source(`{"name":"tp-b","provider":"tokportal","secret":"secret-b"}`)

	// Both providers send their own event 1001: two events, both delivered.
	bodyA, sigA := tokportalCall("secret-a", "1001")
	bodyB, sigB := tokportalCall("secret-b", "1001")
	stA, outA := c.post(hookA, bodyA, sigA)
	stB, outB := c.post(hookB, bodyB, sigB)
	if stA != 200 || stB != 200 || outA["duplicate"] != nil || outB["duplicate"] != nil {
		t.Fatalf("A = %d %v, B = %d %v: the second source's event was taken for a duplicate", stA, outA, stB, outB)
	}
	idA, idB := outA["id"].(string), outB["id"].(string)
	if idA == idB || !strings.HasPrefix(idA, "evt_") || !strings.HasPrefix(idB, "evt_") {
		t.Fatalf("event ids %q and %q: want two fresh hookgate ids", idA, idB)
	}
	c.rec.Want(t, 5*time.Second, 2)

	// Each event is found by its own id and shows the provider's id.
	for _, id := range []string{idA, idB} {
		st, ev := c.api("GET", "/v1/events/"+id, "")
		if st != 200 || ev["id"] != id || ev["source_event_id"] != "1001" {
			t.Fatalf("GET /v1/events/%s = %d %v", id, st, ev)
		}
	}

	// A replay on the same source is still a duplicate, answered with the original id.
	st, out := c.post(hookA, bodyA, sigA)
	if st != 200 || out["duplicate"] != true || out["id"] != idA {
		t.Fatalf("replay on A = %d %v, want duplicate of %s", st, out, idA)
	}
	// Another provider id on the same source is a new event.
	bodyA2, sigA2 := tokportalCall("secret-a", "1002")
	if st, out = c.post(hookA, bodyA2, sigA2); st != 200 || out["duplicate"] != nil {
		t.Fatalf("new id on A = %d %v", st, out)
	}
	c.rec.Want(t, 5*time.Second, 3)
	st, page := c.api("GET", "/v1/events?limit=10", "")
	if evs, _ := page["data"].([]any); st != 200 || len(evs) != 3 {
		t.Fatalf("events = %d %v, want 3 stored", st, page)
	}
	if n := len(c.rec.Calls()); n != 3 {
		t.Fatalf("%d deliveries, want 3 (the replay must not be sent)", n)
	}
}

func TestCatchHookRefusesInvalidUTF8(t *testing.T) {
	c := newCatchHooks(t)
	srcID, hook := c.source(`{"name":"tp","provider":"tokportal","secret":"s3cret"}`)
	body, _ := tokportalCall("s3cret", "1001")
	body = strings.Replace(body, `"post_id":"1"`, "\"post_id\":\"\xff\xfe\"", 1)
	st, out := c.post(hook, body, http.Header{"X-Tokportal-Signature": {hexHMAC("s3cret", body)}})
	if e, _ := out["error"].(map[string]any); st != 400 || e["code"] != "malformed_json" || e["field"] != "/data/post_id" {
		t.Fatalf("validly signed call with invalid UTF-8 = %d %v, want 400 malformed_json on /data/post_id", st, out)
	}
	if st, page := c.api("GET", "/v1/events", ""); st != 200 || len(page["data"].([]any)) != 0 {
		t.Fatalf("events = %d %v, want none stored", st, page)
	}
	st, out = c.api("GET", "/v1/sources/"+srcID+"/requests", "")
	if reqs, _ := out["data"].([]any); st != 200 || len(reqs) != 1 || reqs[0].(map[string]any)["status"] != float64(400) {
		t.Fatalf("request log = %d %v, want the call logged as 400", st, out)
	}
}

func TestCatchHookRefusals(t *testing.T) {
	c := newCatchHooks(t)
	_, tiny := c.source(`{"name":"tiny","provider":"tinyposter","secret":"whsec_tP4nQ8rX2kVm7ZcY1bH5sL9d"}`)
	body := providers[1].body
	// A stale tinyposter timestamp: 10 minutes old, correctly signed.
	st, out := c.post(tiny, body, providers[1].sign(body, time.Now().Add(-10*time.Minute)))
	if st != 401 || !strings.Contains(fmt.Sprint(out), "tolerance") {
		t.Errorf("stale timestamp = %d %v", st, out)
	}
	// Signed with the wrong secret.
	ts := fmt.Sprint(time.Now().Unix())
	st, _ = c.post(tiny, body, http.Header{"X-Tinyposter-Signature": {"t=" + ts + ",v1=" + hexHMAC("whsec_other", ts+"."+body)}})
	if st != 401 {
		t.Errorf("wrong secret = %d", st)
	}
	// A signed payload that fails its schema: 422 naming the field, nothing sent.
	_, tp := c.source(`{"name":"tp","provider":"tokportal","secret":"s3cret"}`)
	bad := `{"event":"video.posted","event_id":"evt_bad","timestamp":"2026-06-24T14:00:05Z","data":{"video_id":"v","bundle_id":"b","platform":"tiktok"}}`
	st, out = c.post(tp, bad, http.Header{"X-Tokportal-Signature": {hexHMAC("s3cret", bad)}})
	if st != 422 || !strings.Contains(fmt.Sprint(out), "/data/post_url") {
		t.Errorf("invalid data = %d %v", st, out)
	}
	// Not JSON.
	st, _ = c.post(tp, "nope", http.Header{"X-Tokportal-Signature": {hexHMAC("s3cret", "nope")}})
	if st != 422 {
		t.Errorf("not JSON = %d", st)
	}
	// Unknown source, oversized body.
	if st, _ = c.post(c.url+"/in/src_nope", body, nil); st != 404 {
		t.Errorf("unknown source = %d", st)
	}
	if st, _ = c.post(tp, strings.Repeat("x", 2<<20), nil); st != 413 {
		t.Errorf("oversized = %d", st)
	}
	// Bad source settings are refused naming the field.
	for _, c2 := range []struct{ body, field string }{
		{`{"name":"x","provider":"myspace","secret":"s"}`, "provider"},
		{`{"name":"x","provider":"tokportal"}`, "secret"},
		{`{"name":"x","provider":"generic","verify":{"type":"hmac","header":"X-Sig","algorithm":"md5"},"secret":"s","mapping":"{type: .t, data: .}"}`, "verify.algorithm"},
		{`{"name":"x","provider":"generic","verify":{"type":"none"},"mapping":"{type: .t, data: .","sample":{"t":"a.b"}}`, "mapping"},
	} {
		st, out := c.api("POST", "/v1/sources", c2.body)
		if e, _ := out["error"].(map[string]any); st != 422 || e["field"] != c2.field {
			t.Errorf("%s = %d %v, want 422 on %s", c2.body, st, out, c2.field)
		}
	}
	if len(c.rec.Calls()) != 0 {
		t.Errorf("refused calls were delivered: %d", len(c.rec.Calls()))
	}
}

func TestSourcesCRUD(t *testing.T) {
	c := newCatchHooks(t)
	id, hook := c.source(`{"name":"tp","provider":"tokportal","secret":"s3cret-value-123"}`)
	st, out := c.api("GET", "/v1/sources/"+id, "")
	if st != 200 || out["url"] != hook || strings.Contains(fmt.Sprint(out), "s3cret-value-123") {
		t.Fatalf("get = %d %v (the secret must be masked)", st, out)
	}
	if st, out = c.api("PATCH", "/v1/sources/"+id, `{"name":"tokportal-main"}`); st != 200 || out["name"] != "tokportal-main" {
		t.Fatalf("patch = %d %v", st, out)
	}
	if st, out = c.api("GET", "/v1/sources", ""); st != 200 || len(out["data"].([]any)) != 1 {
		t.Fatalf("list = %d %v", st, out)
	}
	if st, _ = c.api("DELETE", "/v1/sources/"+id, ""); st != 204 {
		t.Fatalf("delete = %d", st)
	}
	if st, _ = c.post(hook, `{}`, nil); st != 404 {
		t.Fatalf("catch hook of a deleted source = %d", st)
	}
}

// requestLog lists a source's whole request log and the bytes its entries take as stored.
func (c *catchHooks) requestLog(srcID string) ([]httpapi.SourceRequest, int) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.url+"/v1/sources/"+srcID+"/requests?limit=1000", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct{ Data []httpapi.SourceRequest }
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil || resp.StatusCode != 200 {
		c.t.Fatalf("request log = %d, %v", resp.StatusCode, err)
	}
	size := 0
	for _, e := range page.Data {
		b, _ := json.Marshal(e.SourceRequest) // as stored, without the status the API adds
		size += len(b)
	}
	return page.Data, size
}

func TestRequestLogIsBoundedPerSource(t *testing.T) {
	stranger := func(c *catchHooks, hook string, n int) {
		for i := range n {
			body := fmt.Sprintf(`{"event":"video.posted","event_id":"x%d","pad":"%s"}`, i, strings.Repeat("A", 8<<10))
			if st, _ := c.post(hook, body, http.Header{"X-Tokportal-Signature": {"bad"}}); st != 401 {
				t.Fatalf("bad signature = %d", st)
			}
		}
	}
	t.Run("entries", func(t *testing.T) {
		c := newCatchHooksWith(t, gateway.Options{RequestLogEntries: 30})
		id, hook := c.source(`{"name":"tp","provider":"tokportal","secret":"s3cret"}`)
		otherID, other := c.source(`{"name":"tp2","provider":"tokportal","secret":"s3cret"}`)
		stranger(c, other, 5)
		stranger(c, hook, 100)
		log, _ := c.requestLog(id)
		if len(log) != 30 {
			t.Fatalf("%d entries after 100 calls, want the bound, 30", len(log))
		}
		// The newest are kept, each with an excerpt of the body only.
		if !strings.Contains(log[0].Body, `"x99"`) || !strings.Contains(log[29].Body, `"x70"`) {
			t.Fatalf("kept %.40q … %.40q, want calls 99 … 70", log[0].Body, log[29].Body)
		}
		for _, e := range log {
			if len(e.Body) > 256 || e.BodySize < 8<<10 || e.Status != 401 {
				t.Fatalf("entry keeps %d of %d body bytes (status %d), want at most 256", len(e.Body), e.BodySize, e.Status)
			}
		}
		// Another source's log is its own.
		if log, _ := c.requestLog(otherID); len(log) != 5 {
			t.Fatalf("other source: %d entries, want 5", len(log))
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		c := newCatchHooksWith(t, gateway.Options{RequestLogEntries: 30})
		id, hook := c.source(`{"name":"tp","provider":"tokportal","secret":"s3cret"}`)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 25 {
					body := fmt.Sprintf(`{"event":"video.posted","event_id":"g%d-%d"}`, g, i)
					req, _ := http.NewRequest("POST", hook, strings.NewReader(body))
					req.Header.Set("X-Tokportal-Signature", "bad")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != 401 {
						t.Errorf("bad signature = %d", resp.StatusCode)
					}
				}
			})
		}
		wg.Wait()
		if log, _ := c.requestLog(id); len(log) != 30 {
			t.Fatalf("%d entries after 200 concurrent calls, want the bound, 30", len(log))
		}
	})
	t.Run("bytes", func(t *testing.T) {
		const bound = 16 << 10
		c := newCatchHooksWith(t, gateway.Options{RequestLogBytes: bound})
		id, hook := c.source(`{"name":"tp","provider":"tokportal","secret":"s3cret"}`)
		stranger(c, hook, 100)
		// A verified call keeps more of its body, and counts as much.
		body, sig := tokportalCall("s3cret", "ok-1")
		if st, out := c.post(hook, body, sig); st != 200 {
			t.Fatalf("signed call = %d %v", st, out)
		}
		log, size := c.requestLog(id)
		if size > bound || len(log) < 10 || len(log) >= 100 {
			t.Fatalf("%d entries of %d bytes, want within %d bytes (and not empty)", len(log), size, bound)
		}
		if log[0].Status != 200 || log[0].Body != body {
			t.Fatalf("newest entry = %+v, want the signed call", log[0])
		}
	})
}

// The request log records what became of each call (result) and shows the HTTP status the
// catch hook answered it with (status), which connectors/httpapi decides from the result.
func TestRequestLogStatusIsTheAnswer(t *testing.T) {
	c := newCatchHooks(t)
	srcID, hook := c.source(`{"name":"tp","provider":"tokportal","secret":"s3cret"}`)
	signed := func(body string) http.Header {
		return http.Header{"X-Tokportal-Signature": {hexHMAC("s3cret", body)}}
	}
	good, sig := tokportalCall("s3cret", "1001")
	schemaBad := `{"event":"video.posted","event_id":"evt_bad","timestamp":"2026-06-24T14:00:05Z","data":{"video_id":"v","bundle_id":"b","platform":"tiktok"}}`
	notUTF8 := strings.Replace(good, `"post_id":"1"`, "\"post_id\":\"\xff\xfe\"", 1)
	calls := []struct {
		body   string
		header http.Header
		result gateway.RequestResult
	}{
		{good, sig, gateway.ResultAccepted},
		{good, sig, gateway.ResultDuplicate},
		{good, nil, gateway.ResultRejected},
		{schemaBad, signed(schemaBad), gateway.ResultInvalid},
		{"nope", signed("nope"), gateway.ResultInvalid},
		{notUTF8, signed(notUTF8), gateway.ResultInvalid},
	}
	answered := make([]int, len(calls))
	for i, call := range calls {
		answered[i], _ = c.post(hook, call.body, call.header)
	}
	if want := []int{200, 200, 401, 422, 422, 400}; fmt.Sprint(answered) != fmt.Sprint(want) {
		t.Fatalf("answers = %v, want %v", answered, want)
	}
	log, _ := c.requestLog(srcID)
	if len(log) != len(calls) {
		t.Fatalf("%d logged calls, want %d", len(log), len(calls))
	}
	for i, call := range calls {
		e := log[len(log)-1-i] // newest first
		if e.Status != answered[i] || e.Result != call.result {
			t.Errorf("call %d logged as status %d result %q, want %d %q", i, e.Status, e.Result, answered[i], call.result)
		}
	}
}

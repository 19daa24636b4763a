package mcp_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/connectors/mcpevents"
	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	hgmcp "github.com/hookgate/hookgate/mcp"
	"github.com/hookgate/hookgate/schemas"
)

// clock is the gateway's injected clock: it stands still unless a test moves it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// received is one POST the host's callback received and verified.
type received struct {
	subscription string
	webhookID    string
	body         map[string]any
	signatures   int // how many v1 signatures the header carried
	verifiedBy   []string
}

// host plays ChatGPT's side of MCP Events: a TLS callback that checks every POST's Standard
// Webhooks signature with its own code (not hookgate's signature package), answers the
// verification challenge, and records the occurrences; and raw JSON-RPC over Streamable
// HTTP at protocol 2026-07-28.
type host struct {
	t        *testing.T
	mcpURL   string
	callback *httptest.Server
	clock    *clock
	gw       *gateway.Service // behind the MCP server: the test publishes through it

	mu       sync.Mutex
	secrets  []string // the secrets the host accepts (it generated them)
	answer   int      // the status events get (0: 200)
	echo     bool     // whether it echoes challenges
	got      []received
	bad      []string // POSTs that failed verification
	arrivals chan struct{}
}

func newSecret(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "whsec_" + base64.StdEncoding.EncodeToString(b)
}

// verify is an independent Standard Webhooks check: HMAC-SHA256 over id.timestamp.body
// with the base64-decoded secret, any of the space-separated v1 signatures matching.
func verify(secret, id, ts string, body []byte, header string) bool {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.", id, ts)
	mac.Write(body)
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, sig := range strings.Fields(header) {
		if v, ok := strings.CutPrefix(sig, "v1,"); ok && hmac.Equal([]byte(v), []byte(want)) {
			return true
		}
	}
	return false
}

func newHost(t *testing.T) *host { return newHostWith(t, gateway.Options{}) }

// newHostWith is newHost with the gateway options opts (the test's catalog, senders and
// clock are set on them).
func newHostWith(t *testing.T, opts gateway.Options) *host {
	t.Helper()
	h := &host{t: t, echo: true, arrivals: make(chan struct{}, 100), clock: &clock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}}
	h.callback = httptest.NewTLSServer(http.HandlerFunc(h.receive))
	t.Cleanup(h.callback.Close)

	cat, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	client := h.callback.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	senders := map[string]gateway.Sender{
		gateway.KindMCPEvents: mcpevents.New(webhook.Options{Policy: gateway.URLPolicy{AllowPrivate: true}, Client: client}),
	}
	opts.Catalog, opts.Senders, opts.Now, opts.RetentionEvery = cat, senders, h.clock.Now, 20*time.Millisecond
	svc := gatewaytest.New(t, opts, nil)
	// MCP as serve mounts it, reached as ChatGPT does: the secret URL of a key with read.
	mcpHTTP := hgmcp.HTTPHandler(hgmcp.NewServer(svc, hgmcp.Options{}), hgmcp.HTTPOptions{KeepAlive: 200 * time.Millisecond})
	api := httpapi.New(httpapi.Options{Service: svc, Token: "serve-token", MaxBody: 4 << 20,
		Mount: []httpapi.Mount{{Path: "/mcp", Handler: mcpHTTP, Protected: true, SecretURL: true}}})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	_, key, err := svc.CreateKey(context.Background(), gateway.KeyInput{Name: "chatgpt", Scopes: []gateway.Scope{gateway.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	h.mcpURL = srv.URL + "/mcp/k/" + key
	h.gw = svc
	return h
}

func (h *host) receive(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	id, ts, sig := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")
	h.mu.Lock()
	defer h.mu.Unlock()
	var by []string
	for _, s := range h.secrets {
		if verify(s, id, ts, body, sig) {
			by = append(by, s)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if len(by) == 0 || err != nil || h.clock.Now().Sub(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		h.bad = append(h.bad, string(body))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		h.bad = append(h.bad, string(body))
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if m["type"] == "verification" {
		if !strings.HasPrefix(id, "msg_verification_") || !h.echo {
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, `{}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"challenge": m["challenge"]})
		h.got = append(h.got, received{subscription: r.Header.Get("X-MCP-Subscription-Id"), webhookID: id, body: m})
		return
	}
	h.got = append(h.got, received{subscription: r.Header.Get("X-MCP-Subscription-Id"), webhookID: id, body: m, signatures: len(strings.Fields(sig)), verifiedBy: by})
	select {
	case h.arrivals <- struct{}{}:
	default:
	}
	if h.answer != 0 {
		w.WriteHeader(h.answer)
	}
}

// events returns the occurrences received so far (not the challenges).
func (h *host) events() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []received
	for _, g := range h.got {
		if g.body["type"] == nil {
			out = append(out, g)
		}
	}
	return out
}

// call sends one JSON-RPC request at protocol 2026-07-28 and returns its result or error.
func (h *host) call(method string, params map[string]any) (result map[string]any, rpcErr map[string]any) {
	h.t.Helper()
	if params == nil {
		params = map[string]any{}
	}
	params["_meta"] = map[string]any{
		"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
		"io.modelcontextprotocol/clientInfo":         map[string]any{"name": "chatgpt-stand-in", "version": "1"},
		"io.modelcontextprotocol/clientCapabilities": map[string]any{"extensions": map[string]any{hgmcp.EventsExtension: map[string]any{}}},
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
	req, _ := http.NewRequest(http.MethodPost, h.mcpURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	req.Header.Set("Mcp-Method", method)
	if n, ok := params["name"].(string); ok {
		req.Header.Set("Mcp-Name", n)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		sc := bufio.NewScanner(bytes.NewReader(raw))
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				raw = []byte(d)
			}
		}
	}
	var out struct {
		Result map[string]any `json:"result"`
		Error  map[string]any `json:"error"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		h.t.Fatalf("%s: %d %s", method, resp.StatusCode, raw)
	}
	return out.Result, out.Error
}

// ok is call for a request that must succeed.
func (h *host) ok(method string, params map[string]any) map[string]any {
	h.t.Helper()
	res, e := h.call(method, params)
	if e != nil {
		h.t.Fatalf("%s: error %v", method, e)
	}
	if res["resultType"] != "complete" {
		h.t.Fatalf("%s: resultType %v, want complete", method, res["resultType"])
	}
	return res
}

// publish publishes a video.posted for bundle.
func (h *host) publish(bundle string) *gateway.PublishResult {
	h.t.Helper()
	data := fmt.Sprintf(`{"video_id":"v_%s","bundle_id":%q,"platform":"tiktok","post_url":"https://www.tiktok.com/@acme/video/1","post_id":"1","posted_at":"2026-06-24T14:00:05Z"}`, bundle, bundle)
	res, err := h.gw.Publish(context.Background(), gateway.PublishInput{Type: "video.posted", Source: "tokportal", Data: json.RawMessage(data)})
	if err != nil {
		h.t.Fatal(err)
	}
	return res
}

// settled waits until every delivery of the event has finished, and returns them.
func (h *host) settled(id string) []*gateway.Delivery {
	h.t.Helper()
	var dls []*gateway.Delivery
	gatewaytest.WaitFor(h.t, 10*time.Second, "the event's deliveries to finish", func() bool {
		_, ds, err := h.gw.GetEvent(context.Background(), id)
		if err != nil {
			return false
		}
		for _, d := range ds {
			if d.Status == gateway.StatusPending {
				return false
			}
		}
		dls = ds
		return true
	})
	return dls
}

func (h *host) subscribeParams(secret string, args map[string]any) map[string]any {
	return map[string]any{
		"name":      "video.posted",
		"arguments": args,
		"delivery":  map[string]any{"mode": "webhook", "url": h.callback.URL + "/hooks/chatgpt", "secret": secret},
		"ttlMs":     3600000,
	}
}

// The test: a host plays ChatGPT over Streamable HTTP at protocol 2026-07-28.
func TestMCPEventsPlayingChatGPT(t *testing.T) {
	h := newHost(t)

	// Discover the capability.
	disc := h.ok("server/discover", nil)
	caps, _ := disc["capabilities"].(map[string]any)
	ext, _ := caps["extensions"].(map[string]any)
	if _, ok := ext[hgmcp.EventsExtension]; !ok {
		t.Fatalf("server/discover: no %s in capabilities.extensions: %v", hgmcp.EventsExtension, caps)
	}
	if _, ok := caps["events"]; !ok {
		t.Fatalf("server/discover: no top-level events capability (what ChatGPT reads): %v", caps)
	}
	if !strings.Contains(fmt.Sprint(disc["supportedVersions"]), "2026-07-28") {
		t.Fatalf("server/discover: supportedVersions %v lack 2026-07-28", disc["supportedVersions"])
	}

	// List the events.
	list := h.ok("events/list", nil)
	var video map[string]any
	for _, e := range list["events"].([]any) {
		if e.(map[string]any)["name"] == "video.posted" {
			video = e.(map[string]any)
		}
	}
	if video == nil {
		t.Fatalf("events/list lacks video.posted: %v", list)
	}
	props := video["inputSchema"].(map[string]any)["properties"].(map[string]any)
	if props["bundle_id"] == nil || props["source"] == nil || video["payloadSchema"] == nil || !strings.Contains(fmt.Sprint(video["delivery"]), "webhook") {
		t.Fatalf("video.posted as listed: %v", video)
	}

	// Subscribe: the callback is challenged before anything else.
	s1 := newSecret(t)
	h.mu.Lock()
	h.secrets = []string{s1}
	h.mu.Unlock()
	args := map[string]any{"bundle_id": "b_42"}
	sub := h.ok("events/subscribe", h.subscribeParams(s1, args))
	id, _ := sub["id"].(string)
	if !strings.HasPrefix(id, "sub_") || sub["refreshBefore"] != "2026-11-28T13:00:00Z" {
		t.Fatalf("events/subscribe: %v", sub)
	}
	if ep, err := h.gw.GetEndpoint(context.Background(), id); err != nil || !strings.HasPrefix(ep.Owner, "key_") || ep.Kind != gateway.KindMCPEvents {
		t.Fatalf("the subscription as an endpoint: %+v %v, want kind mcp-events owned by the secret URL's key", ep, err)
	}
	h.mu.Lock()
	if len(h.got) != 1 || h.got[0].body["type"] != "verification" || h.got[0].subscription != id {
		t.Fatalf("the callback saw %v before the subscription was active, want one verification challenge", h.got)
	}
	h.mu.Unlock()

	// A video for another bundle makes no delivery; one for b_42 arrives, signed.
	other := h.publish("b_7")
	if other.Deliveries != 0 {
		t.Fatalf("a video for b_7 made %d deliveries to the b_42 subscription", other.Deliveries)
	}
	mine := h.publish("b_42")
	h.settled(mine.ID)
	h.settled(other.ID)
	evs := h.events()
	if len(evs) != 1 {
		t.Fatalf("the callback received %d occurrences, want the b_42 one only: %v", len(evs), evs)
	}
	got := evs[0]
	data, _ := got.body["data"].(map[string]any)
	if got.subscription != id || got.webhookID != mine.ID || got.body["eventId"] != mine.ID || got.body["name"] != "video.posted" ||
		data["bundle_id"] != "b_42" || got.body["timestamp"] == nil || got.body["cursor"] == nil {
		t.Fatalf("the occurrence: %+v", got)
	}

	// Refresh: the same id, a later refreshBefore.
	// The refresh carries the host's last cursor, as a host does: on a live subscription it
	// replays nothing.
	h.clock.add(30 * time.Minute)
	refresh := h.subscribeParams(s1, map[string]any{"bundle_id": "b_42"})
	refresh["cursor"] = sub["cursor"]
	again := h.ok("events/subscribe", refresh)
	if again["id"] != id || again["refreshBefore"] != "2026-11-28T13:30:00Z" {
		t.Fatalf("refresh: %v, want id %s and refreshBefore 13:30", again, id)
	}
	if _, dls, err := h.gw.GetEvent(context.Background(), mine.ID); err != nil || len(dls) != 1 {
		t.Fatalf("after a refresh with an old cursor the b_42 event has %d deliveries (%v), want its one", len(dls), err)
	}

	// Rotate the secret: deliveries are signed with the new one, and the old one as well
	// during the grace window.
	s2 := newSecret(t)
	h.mu.Lock()
	h.secrets = []string{s1, s2}
	h.mu.Unlock()
	rot := h.ok("events/subscribe", h.subscribeParams(s2, map[string]any{"bundle_id": "b_42"}))
	if rot["id"] != id {
		t.Fatalf("rotation changed the id: %v", rot)
	}
	after := h.publish("b_42")
	h.settled(after.ID)
	evs = h.events()
	if len(evs) != 2 || evs[1].webhookID != after.ID || evs[1].signatures != 2 || len(evs[1].verifiedBy) != 2 {
		t.Fatalf("after the rotation: %+v, want the event signed with both secrets", evs)
	}

	// Unsubscribe, twice (idempotent): nothing more arrives.
	h.ok("events/unsubscribe", map[string]any{"name": "video.posted", "arguments": map[string]any{"bundle_id": "b_42"}, "delivery": map[string]any{"url": h.callback.URL + "/hooks/chatgpt"}})
	h.ok("events/unsubscribe", map[string]any{"name": "video.posted", "arguments": map[string]any{"bundle_id": "b_42"}, "delivery": map[string]any{"url": h.callback.URL + "/hooks/chatgpt"}})
	last := h.publish("b_42")
	if last.Deliveries != 0 {
		t.Fatalf("after unsubscribe, a b_42 video made %d deliveries", last.Deliveries)
	}
	if n := len(h.events()); n != 2 {
		t.Fatalf("after unsubscribe the callback received %d occurrences, want still 2", n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.bad) != 0 {
		t.Fatalf("POSTs that failed verification: %v", h.bad)
	}
}

// Errors come back with the extension's codes.
func TestMCPEventsErrors(t *testing.T) {
	h := newHost(t)
	s := newSecret(t)
	h.mu.Lock()
	h.secrets = []string{s}
	h.echo = false
	h.mu.Unlock()
	for _, tc := range []struct {
		name   string
		params map[string]any
		code   float64
		data   string
	}{
		{"a callback that does not echo", h.subscribeParams(s, nil), -32027, "challenge_failed"},
		{"http", map[string]any{"name": "video.posted", "delivery": map[string]any{"mode": "webhook", "url": "http://example.com/x", "secret": s}}, -32602, "delivery.url"},
		{"a short secret", h.subscribeParams("whsec_"+base64.StdEncoding.EncodeToString([]byte("short")), nil), -32602, "delivery.secret"},
		{"an unknown argument", h.subscribeParams(s, map[string]any{"nope": 1}), -32602, "arguments.nope"},
		{"an unknown event", map[string]any{"name": "no.such", "delivery": map[string]any{"mode": "webhook", "url": h.callback.URL, "secret": s}}, -32023, "event"},
		{"push mode", map[string]any{"name": "video.posted", "delivery": map[string]any{"mode": "push"}}, -32026, "deliveryMode"},
	} {
		res, e := h.call("events/subscribe", tc.params)
		if e == nil || e["code"] != tc.code || !strings.Contains(fmt.Sprint(e["data"]), tc.data) {
			t.Errorf("%s: result %v error %v, want code %v with %q", tc.name, res, e, tc.code, tc.data)
		}
	}
	page, err := h.gw.ListEndpoints(context.Background(), gateway.EndpointFilter{})
	if err != nil || len(page.Data) != 0 {
		t.Fatalf("failed subscribes left endpoints: %v %v", page, err)
	}

	// A key without read can't subscribe or list.
	_, key, err := h.gw.CreateKey(context.Background(), gateway.KeyInput{Name: "publisher", Scopes: []gateway.Scope{gateway.ScopePublish}})
	if err != nil {
		t.Fatal(err)
	}
	h.mcpURL = h.mcpURL[:strings.Index(h.mcpURL, "/mcp/k/")] + "/mcp/k/" + key
	h.mu.Lock()
	h.echo = true
	h.mu.Unlock()
	for _, method := range []string{"events/subscribe", "events/list"} {
		if res, e := h.call(method, h.subscribeParams(s, nil)); e == nil || e["code"] != float64(-32024) {
			t.Errorf("%s with a publish-only key: result %v error %v, want -32024 Forbidden", method, res, e)
		}
	}
}

// 410 ends the subscription; 413 is not retried; an unrefreshed subscription expires.
func TestMCPEventsDeliveryAnswersAndExpiry(t *testing.T) {
	h := newHost(t)
	s := newSecret(t)
	h.mu.Lock()
	h.secrets = []string{s}
	h.answer = http.StatusRequestEntityTooLarge
	h.mu.Unlock()
	sub := h.ok("events/subscribe", h.subscribeParams(s, map[string]any{"bundle_id": "b_1"}))
	id := sub["id"].(string)

	ev := h.publish("b_1")
	dls := h.settled(ev.ID)
	if len(dls) != 1 || dls[0].Status != gateway.StatusFailed || len(dls[0].Attempts) != 1 {
		t.Fatalf("after a 413: %+v, want failed after one attempt", dls)
	}

	h.mu.Lock()
	h.answer = http.StatusGone
	h.mu.Unlock()
	ev = h.publish("b_1")
	h.settled(ev.ID)
	gatewaytest.WaitFor(t, 5*time.Second, "the subscription to end after a 410", func() bool {
		_, err := h.gw.GetEndpoint(context.Background(), id)
		return err != nil
	})

	// Not refreshed: once refreshBefore passes nothing fans out to it, and it is removed.
	h.mu.Lock()
	h.answer = 0
	h.mu.Unlock()
	sub = h.ok("events/subscribe", h.subscribeParams(s, map[string]any{"bundle_id": "b_2"}))
	h.clock.add(61 * time.Minute)
	if res := h.publish("b_2"); res.Deliveries != 0 {
		t.Fatalf("an expired subscription got %d deliveries", res.Deliveries)
	}
	gatewaytest.WaitFor(t, 5*time.Second, "the expired subscription to be removed", func() bool {
		_, err := h.gw.GetEndpoint(context.Background(), sub["id"].(string))
		return err != nil
	})
}

// A cursor on subscribe replays what came after it; events/poll reads the same log.
func TestMCPEventsCursorReplayAndPoll(t *testing.T) {
	h := newHost(t)
	s := newSecret(t)
	h.mu.Lock()
	h.secrets = []string{s}
	h.mu.Unlock()

	start := h.ok("events/poll", map[string]any{"name": "video.posted", "arguments": map[string]any{"bundle_id": "b_9"}, "cursor": nil})
	cursor := start["cursor"].(string)
	if evs := start["events"].([]any); len(evs) != 0 {
		t.Fatalf("a poll from now returned %v", evs)
	}
	missed := h.publish("b_9")
	h.publish("b_8")
	poll := h.ok("events/poll", map[string]any{"name": "video.posted", "arguments": map[string]any{"bundle_id": "b_9"}, "cursor": cursor})
	evs := poll["events"].([]any)
	if len(evs) != 1 || evs[0].(map[string]any)["eventId"] != missed.ID || poll["truncated"] != false || poll["cursor"] == cursor {
		t.Fatalf("poll: %v, want the b_9 event and a new cursor", poll)
	}

	params := h.subscribeParams(s, map[string]any{"bundle_id": "b_9"})
	params["cursor"] = cursor
	sub := h.ok("events/subscribe", params)
	if sub["truncated"] != false {
		t.Fatalf("subscribe with a cursor: %v", sub)
	}
	gatewaytest.WaitFor(t, 10*time.Second, "the replayed event", func() bool {
		evs := h.events()
		return len(evs) == 1 && evs[0].webhookID == missed.ID
	})
	// The replay is a delivery of the event like its others: listed on it, kept with it.
	dls := h.settled(missed.ID)
	if len(dls) != 1 || dls[0].EndpointID != sub["id"] || dls[0].Status != gateway.StatusSucceeded {
		t.Fatalf("the replayed event's deliveries: %+v", dls)
	}
}

// truncated is true only when events after the cursor were left out: removed by retention,
// or older than maxAgeMs; a cursor with nothing missing after it is not truncated.
func TestMCPEventsTruncatedOnlyWhenEventsWereRemoved(t *testing.T) {
	h := newHostWith(t, gateway.Options{Retention: time.Hour})
	args := map[string]any{"bundle_id": "b_5"}
	start := h.ok("events/poll", map[string]any{"name": "video.posted", "arguments": args, "cursor": nil})["cursor"].(string)
	h.publish("b_5")
	h.publish("b_5")
	if p := h.ok("events/poll", map[string]any{"name": "video.posted", "arguments": args, "cursor": start}); p["truncated"] != false || len(p["events"].([]any)) != 2 {
		t.Fatalf("a poll with nothing removed: %v", p)
	}
	if p := h.ok("events/poll", map[string]any{"name": "video.posted", "arguments": args, "cursor": start, "maxAgeMs": 1}); p["truncated"] != false || len(p["events"].([]any)) != 2 {
		t.Fatalf("a poll whose maxAgeMs leaves nothing out (the clock stood still): %v", p)
	}
	h.clock.add(30 * time.Minute) // within the retention of an hour
	if p := h.ok("events/poll", map[string]any{"name": "video.posted", "arguments": args, "cursor": start, "maxAgeMs": 60000}); p["truncated"] != true || len(p["events"].([]any)) != 0 {
		t.Fatalf("a poll whose maxAgeMs left both events out: %v", p)
	}
	h.clock.add(time.Hour)
	gatewaytest.WaitFor(t, 5*time.Second, "retention to remove the events", func() bool {
		page, err := h.gw.ListEvents(context.Background(), gateway.EventFilter{})
		return err == nil && len(page.Data) == 0
	})
	p := h.ok("events/poll", map[string]any{"name": "video.posted", "arguments": args, "cursor": start})
	if p["truncated"] != true || len(p["events"].([]any)) != 0 {
		t.Fatalf("a poll after retention removed the events: %v", p)
	}
	if p := h.ok("events/poll", map[string]any{"name": "video.posted", "arguments": args, "cursor": p["cursor"]}); p["truncated"] != false {
		t.Fatalf("a poll from the fresh cursor: %v", p)
	}
}

// Over stdio, initialize advertises the extension and events/* requests are answered,
// between mcp-go's own answers.
func TestMCPEventsOverStdio(t *testing.T) {
	e := newEnv(t)
	inW, answers := serveStdio(t, hgmcp.NewStdioServer(hgmcp.NewServer(e.svc, hgmcp.Options{})))
	byID := map[float64]map[string]any{}
	ask := func(id float64, method, params string) map[string]any {
		t.Helper()
		if _, err := fmt.Fprintf(inW, `{"jsonrpc":"2.0","id":%v,"method":%q,"params":%s}`+"\n", id, method, params); err != nil {
			t.Fatal(err)
		}
		deadline := time.After(10 * time.Second)
		for byID[id] == nil {
			select {
			case m, ok := <-answers:
				if !ok {
					t.Fatalf("stdout closed waiting for %s", method)
				}
				if n, isAnswer := m["id"].(float64); isAnswer {
					byID[n] = m
				}
			case <-deadline:
				t.Fatalf("no answer to %s", method)
			}
		}
		return byID[id]
	}
	init := ask(1, "initialize", `{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}`)
	ext := fmt.Sprint(init["result"].(map[string]any)["capabilities"])
	if !strings.Contains(ext, hgmcp.EventsExtension) {
		t.Fatalf("initialize over stdio: capabilities %s lack %s", ext, hgmcp.EventsExtension)
	}
	list := ask(2, "events/list", `{}`)
	if !strings.Contains(fmt.Sprint(list["result"]), "video.posted") {
		t.Fatalf("events/list over stdio: %v", list)
	}
	poll := ask(3, "events/poll", `{"name":"video.posted","arguments":{"bundle_id":"b_1"},"cursor":null}`)
	if r, _ := poll["result"].(map[string]any); r == nil || r["cursor"] == nil {
		t.Fatalf("events/poll over stdio: %v", poll)
	}
	if tools := ask(4, "tools/list", `{}`); tools["result"] == nil {
		t.Fatalf("tools/list after the events requests: %v", tools)
	}

	// Push: notifications on stdout, routed by the request's id, until cancelled.
	fmt.Fprintln(inW, `{"jsonrpc":"2.0","id":5,"method":"events/stream","params":{"name":"video.posted","arguments":{"bundle_id":"b_1"},"cursor":null}}`)
	notification := func(method string) map[string]any {
		t.Helper()
		return pushed(t, answers, method, float64(5))
	}
	notification("notifications/events/active")
	id := publish(t, e.svc, "video.posted", `{"video_id":"v_1","bundle_id":"b_1","platform":"tiktok","post_url":"https://www.tiktok.com/@a/video/1","post_id":"1","posted_at":"2026-06-24T14:00:05Z"}`)
	if ev := notification("notifications/events/event"); ev["eventId"] != id {
		t.Fatalf("pushed %v, want %s", ev, id)
	}
	fmt.Fprintln(inW, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}}`)
}

// Push: events/stream over Streamable HTTP is an SSE stream that opens with
// notifications/events/active, carries each matching event and, when quiet, heartbeats,
// every notification naming the request's id.
func TestMCPEventsPushStream(t *testing.T) {
	h := newHost(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": "s1", "method": "events/stream", "params": map[string]any{
		"name": "video.posted", "arguments": map[string]any{"bundle_id": "b_3"}, "cursor": nil,
		"_meta": map[string]any{"io.modelcontextprotocol/protocolVersion": "2026-07-28"},
	}})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, h.mcpURL, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("MCP-Protocol-Version", "2026-07-28")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events/stream answered %s", resp.Header.Get("Content-Type"))
	}
	frames := make(chan map[string]any, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var m map[string]any
				if json.Unmarshal([]byte(d), &m) == nil {
					frames <- m
				}
			}
		}
		close(frames)
	}()
	next := func(method string) map[string]any {
		t.Helper()
		return pushed(t, frames, method, "s1")
	}
	active := next("notifications/events/active")
	if active["cursor"] == nil || active["truncated"] != false {
		t.Fatalf("active: %v", active)
	}
	h.publish("b_4")
	mine := h.publish("b_3")
	ev := next("notifications/events/event")
	if ev["eventId"] != mine.ID || ev["cursor"] == nil {
		t.Fatalf("event: %v, want %s", ev, mine.ID)
	}
	if hb := next("notifications/events/heartbeat"); hb["cursor"] == nil {
		t.Fatalf("heartbeat: %v", hb)
	}
}

// A request too large to be an events/* one reaches mcp-go whole.
func TestLargeRequestPassesThroughWhole(t *testing.T) {
	h := newHost(t)
	res, e := h.call("tools/list", map[string]any{"pad": strings.Repeat("x", 1<<20+1000)})
	if e != nil || res == nil {
		t.Fatalf("a 1 MiB tools/list: result %v error %v", res, e)
	}
}

// A subscription's callback, event, arguments and secret are its host's: the API can't
// point it elsewhere (past the challenge) or swap the secret; it can disable it.
func TestMCPEventsSubscriptionIsTheHosts(t *testing.T) {
	h := newHost(t)
	s := newSecret(t)
	h.mu.Lock()
	h.secrets = []string{s}
	h.mu.Unlock()
	id := h.ok("events/subscribe", h.subscribeParams(s, nil))["id"].(string)
	ctx := context.Background()
	elsewhere := "https://elsewhere.example/hook"
	var ve *gateway.ValidationError
	if _, err := h.gw.UpdateEndpoint(ctx, id, gateway.EndpointPatch{URL: &elsewhere}); !errors.As(err, &ve) {
		t.Fatalf("PATCH url of a subscription = %v, want a validation error", err)
	}
	if _, err := h.gw.RotateSecret(ctx, id); !errors.Is(err, gateway.ErrConflict) {
		t.Fatalf("rotate-secret of a subscription = %v, want ErrConflict", err)
	}
	off := false
	if ep, err := h.gw.UpdateEndpoint(ctx, id, gateway.EndpointPatch{Enabled: &off}); err != nil || ep.Enabled || ep.URL != h.callback.URL+"/hooks/chatgpt" {
		t.Fatalf("disabling a subscription: %+v %v", ep, err)
	}
}

// pushed returns the params of the next push notification method of the stream id, failing
// t on one of another stream, on an event while it waits for something else, or after 10 s.
func pushed(t *testing.T, msgs <-chan map[string]any, method string, id any) map[string]any {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("the stream ended waiting for %s", method)
			}
			if m["method"] == nil {
				continue // an answer to a request
			}
			params, _ := m["params"].(map[string]any)
			meta, _ := params["_meta"].(map[string]any)
			switch {
			case meta["io.modelcontextprotocol/subscriptionId"] != id:
				t.Fatalf("a notification of another stream: %v", m)
			case m["method"] == method:
				return params
			case m["method"] == "notifications/events/event":
				t.Fatalf("waiting for %s, got an event: %v", method, m)
			}
		case <-deadline:
			t.Fatalf("no %s", method)
		}
	}
}

// A subscription is its principal's: it ends when the principal's key is revoked, and one
// principal's subscription is not another's (the id differs, unsubscribe can't reach it).
func TestMCPEventsSubscriptionEndsWithItsKey(t *testing.T) {
	h := newHost(t)
	s := newSecret(t)
	h.mu.Lock()
	h.secrets = []string{s}
	h.mu.Unlock()
	ctx := context.Background()
	key, _, err := h.gw.CreateKey(ctx, gateway.KeyInput{Name: "chatgpt", Scopes: []gateway.Scope{gateway.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := h.gw.Principal(ctx, key.ID)
	if err != nil {
		t.Fatal(err)
	}
	in := gateway.SubscribeInput{Name: "video.posted", Arguments: map[string]any{"bundle_id": "b_42"}, URL: h.callback.URL + "/hooks/chatgpt", Secret: s}
	mine, err := h.gw.Subscribe(gateway.WithPrincipal(ctx, p), in)
	if err != nil {
		t.Fatal(err)
	}
	roots, err := h.gw.Subscribe(ctx, in) // the serve token's, same URL and arguments
	if err != nil || roots.ID == mine.ID {
		t.Fatalf("another principal's subscription: %+v %v, want its own id", roots, err)
	}
	if err := h.gw.EndSubscription(ctx, in.Name, in.Arguments, in.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := h.gw.GetEndpoint(ctx, mine.ID); err != nil {
		t.Fatalf("the root's unsubscribe ended the key's subscription: %v", err)
	}
	if err := h.gw.RevokeKey(ctx, key.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := h.gw.GetEndpoint(ctx, mine.ID); !errors.Is(err, gateway.ErrNotFound) {
		t.Fatalf("after its key was revoked the subscription is still there: %v", err)
	}
}

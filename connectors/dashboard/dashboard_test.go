package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/connectors/dashboard"
	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
	"github.com/hookgate/hookgate/queue/memory"
	"github.com/hookgate/hookgate/schemas"
)

const token = "dash-test-token"

// browser is an HTTP client with a cookie jar that does not follow redirects, so tests see
// each answer.
type browser struct {
	t   *testing.T
	url string
	c   *http.Client
}

func newServer(t *testing.T) (*browser, *gateway.Service) {
	t.Helper()
	return newServerDone(t, nil)
}

// newServerDone is newServer with the dashboard's Options.Done.
func newServerDone(t *testing.T, done <-chan struct{}) (*browser, *gateway.Service) {
	t.Helper()
	cat, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	policy := gateway.URLPolicy{AllowPrivate: true}
	log := slog.New(slog.DiscardHandler)
	svc, err := gateway.New(gateway.Options{Store: memory.New(), Catalog: cat, Logger: log, Policy: policy,
		Senders: connectors.Senders(connectors.Options{Policy: policy, Logger: log}), Inbound: connectors.Inbound()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Stop(t.Context()) })
	dash := dashboard.New(dashboard.Options{Service: svc, Token: token, Logger: slog.New(slog.DiscardHandler), Done: done})
	srv := httptest.NewServer(httpapi.New(httpapi.Options{Service: svc, Token: token, Logger: slog.New(slog.DiscardHandler), Mount: dashboard.Mounts(dash),
		Session: dashboard.SessionPrincipal(dash)}))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, url: srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}, svc
}

// do sends a request; form, when not nil, is posted with the given Origin ("" for none).
func (b *browser) do(method, path string, form url.Values, origin string) (*http.Response, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.url+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp, string(raw)
}

func TestSignInSessionCookieAndSignOut(t *testing.T) {
	b, _ := newServer(t)
	if resp, _ := b.do("GET", "/", nil, ""); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login" {
		t.Fatalf("GET / signed out = %d → %q, want 303 to /ui/login", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := b.do("POST", "/ui/login", url.Values{"token": {"wrong"}}, b.url); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("sign in with a wrong token = %d, want 401", resp.StatusCode)
	}
	if resp, _ := b.do("POST", "/ui/login", url.Values{"token": {token}}, ""); resp.StatusCode != http.StatusForbidden || len(resp.Cookies()) != 0 {
		t.Fatalf("sign in without Origin = %d with cookies %v, want 403 and none", resp.StatusCode, resp.Cookies())
	}
	resp, body := b.do("POST", "/ui/login", url.Values{"token": {token}}, b.url)
	if resp.StatusCode != http.StatusSeeOther || len(resp.Cookies()) != 1 {
		t.Fatalf("sign in = %d, cookies %v, want 303 and a session cookie", resp.StatusCode, resp.Cookies())
	}
	c := resp.Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || strings.Contains(c.Value, token) {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, not the token", c)
	}
	if strings.Contains(resp.Header.Get("Location"), token) || strings.Contains(body, token) {
		t.Fatal("the token is echoed in the sign-in answer")
	}
	for _, p := range []string{"/", "/ui/endpoints", "/ui/events", "/ui/sources", "/ui/event-types"} {
		resp, body := b.do("GET", p, nil, "")
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s = %d, want 200", p, resp.StatusCode)
		}
		for _, name := range []string{">Overview<", ">Endpoints<", ">Events<", ">Sources<", ">Event types<", ">Sign out<"} {
			if !strings.Contains(body, name) {
				t.Errorf("GET %s: no %s in the page", p, name)
			}
		}
		if strings.Contains(body, token) {
			t.Errorf("GET %s shows the API token", p)
		}
	}
	if resp, _ := b.do("POST", "/ui/logout", url.Values{}, b.url); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out = %d, want 303", resp.StatusCode)
	}
	// The old cookie, replayed after sign-out, is refused too.
	b.c.Jar.SetCookies(mustURL(t, b.url), []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/"}})
	if resp, _ := b.do("GET", "/ui/endpoints", nil, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET after sign-out = %d, want 303 to sign in", resp.StatusCode)
	}
	if resp, _ := b.do("POST", "/ui/endpoints", url.Values{"url": {"http://127.0.0.1:9/x"}, "events": {"*"}}, b.url); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST after sign-out = %d, want 401", resp.StatusCode)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func signIn(t *testing.T, b *browser) {
	t.Helper()
	if resp, _ := b.do("POST", "/ui/login", url.Values{"token": {token}}, b.url); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in = %d", resp.StatusCode)
	}
}

func TestActionsNeedSameOrigin(t *testing.T) {
	b, svc := newServer(t)
	signIn(t, b)
	form := url.Values{"url": {"http://127.0.0.1:9/x"}, "events": {"*"}, "kind": {"webhook"}}
	for _, origin := range []string{"", "https://evil.example", "null"} {
		if resp, _ := b.do("POST", "/ui/endpoints", form, origin); resp.StatusCode != http.StatusForbidden {
			t.Errorf("create with Origin %q = %d, want 403", origin, resp.StatusCode)
		}
	}
	if pg, _ := svc.ListEndpoints(t.Context(), gateway.EndpointFilter{}); len(pg.Data) != 0 {
		t.Fatalf("a cross-origin request created %d endpoints", len(pg.Data))
	}
	resp, body := b.do("POST", "/ui/endpoints", form, b.url)
	if resp.StatusCode != 200 || !strings.Contains(body, "whsec_") {
		t.Fatalf("create same-origin = %d, want 200 showing the secret once:\n%s", resp.StatusCode, body)
	}
}

func TestErrorsAnswerTheAPIsStatus(t *testing.T) {
	b, _ := newServer(t)
	signIn(t, b)
	if resp, body := b.do("POST", "/ui/endpoints", url.Values{"url": {"ftp://x"}, "events": {"*"}}, b.url); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "url") {
		t.Fatalf("bad URL = %d, want 422 naming the url", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/ui/endpoints/ep_nope", nil, ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown endpoint = %d, want 404", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/ui/nope", nil, ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown page = %d, want 404", resp.StatusCode)
	}
	// The JSON API is unchanged beside the dashboard.
	if resp, body := b.do("GET", "/v1/endpoints", nil, ""); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `"code":"unauthorized"`) {
		t.Fatalf("/v1 without the bearer token, with a session cookie = %d %s, want the API's 401", resp.StatusCode, body)
	}
}

func TestEditDeleteAndFilters(t *testing.T) {
	b, svc := newServer(t)
	signIn(t, b)
	ep, _, err := svc.CreateEndpoint(t.Context(), gateway.EndpointInput{URL: "http://127.0.0.1:9/a", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	path := "/ui/endpoints/" + ep.ID
	resp, _ := b.do("POST", path+"/edit", url.Values{"url": {"http://127.0.0.1:9/b"}, "events": {"order.*, shop.*"}, "description": {"shop"}}, b.url)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit = %d, want 303", resp.StatusCode)
	}
	got, err := svc.GetEndpoint(t.Context(), ep.ID)
	if err != nil || got.URL != "http://127.0.0.1:9/b" || strings.Join(got.Events, ",") != "order.*,shop.*" || got.Description != "shop" {
		t.Fatalf("after edit: %+v, %v", got, err)
	}
	if resp, body := b.do("POST", path+"/edit", url.Values{"url": {"ftp://x"}, "events": {"*"}}, b.url); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "url") {
		t.Fatalf("edit with a bad URL = %d, want 422 naming the url", resp.StatusCode)
	}
	// A delivery list filtered by status and time, and its live rows.
	if _, err := svc.Publish(t.Context(), gateway.PublishInput{Type: "order.created", Data: []byte(`{"n":1}`)}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"?since=1h", "?status=failed", "?status=pending&since=15m"} {
		if resp, _ := b.do("GET", path+q, nil, ""); resp.StatusCode != 200 {
			t.Errorf("GET %s%s = %d, want 200", path, q, resp.StatusCode)
		}
	}
	if resp, _ := b.do("GET", path+"?since=-1h", nil, ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("since=-1h = %d, want 400", resp.StatusCode)
	}
	if resp, body := b.do("GET", path+"/deliveries?status=failed", nil, ""); resp.StatusCode != 200 || !strings.Contains(body, "No deliveries.") || strings.Contains(body, "<html") {
		t.Errorf("failed rows = %d %q, want just an empty list's row", resp.StatusCode, body)
	}
	if resp, body := b.do("GET", path+"/deliveries", nil, ""); resp.StatusCode != 200 || !strings.Contains(body, "order.created") {
		t.Errorf("rows = %d %q, want the delivery", resp.StatusCode, body)
	}
	if resp, body := b.do("GET", "/ui/events/rows?type=order.*", nil, ""); resp.StatusCode != 200 || !strings.Contains(body, "order.created") || strings.Contains(body, "<html") {
		t.Errorf("event rows = %d %q, want the event's row alone", resp.StatusCode, body)
	}
	// Delete asks first, then deletes.
	if resp, body := b.do("GET", path+"/delete", nil, ""); resp.StatusCode != 200 || !strings.Contains(body, ">Delete endpoint<") {
		t.Fatalf("delete confirmation = %d, want a page with a Delete endpoint button", resp.StatusCode)
	}
	if _, err := svc.GetEndpoint(t.Context(), ep.ID); err != nil {
		t.Fatalf("the confirmation page deleted the endpoint: %v", err)
	}
	if resp, _ := b.do("POST", path+"/delete", url.Values{}, "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin delete = %d, want 403", resp.StatusCode)
	}
	if resp, _ := b.do("POST", path+"/delete", url.Values{}, b.url); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete = %d, want 303", resp.StatusCode)
	}
	if _, err := svc.GetEndpoint(t.Context(), ep.ID); err == nil {
		t.Fatal("the endpoint is still there")
	}
}

func TestNewEndpointFormOffersTheGatewaysKinds(t *testing.T) {
	b, svc := newServer(t)
	signIn(t, b)
	_, body := b.do("GET", "/ui/endpoints", nil, "")
	for _, k := range svc.Kinds() {
		if !strings.Contains(body, ">"+k+"</option>") {
			t.Errorf("the kind picker lacks %s", k)
		}
	}
	if len(svc.Kinds()) < 2 || !strings.Contains(body, "<option selected>webhook</option>") {
		t.Errorf("kinds %v; want webhook among them, picked by default", svc.Kinds())
	}
	// Event types are offered from the catalog.
	if !strings.Contains(body, `<option value="video.posted">`) {
		t.Error("the event type list lacks the catalog's video.posted")
	}
}

func TestEventTypesByProvider(t *testing.T) {
	b, _ := newServer(t)
	signIn(t, b)
	resp, body := b.do("GET", "/ui/event-types?provider=tokportal", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "video.posted") || strings.Contains(body, `>tinyposter</td>`) {
		t.Fatalf("tokportal's types = %d, want video.posted and no tinyposter type", resp.StatusCode)
	}
	resp, body = b.do("GET", "/ui/event-types/video.posted?provider=tokportal", nil, "")
	for _, s := range []string{"Copy jsonschema", "Download zapier", "Copy make", "$schema", ">Sample data<", "Copy sample", "post_url"} {
		if resp.StatusCode != 200 || !strings.Contains(body, s) {
			t.Errorf("video.posted page = %d, lacks %q", resp.StatusCode, s)
		}
	}
}

// The new-endpoint form has each kind's own settings fields (a credential as a password
// field); only the picked kind's are read.
func TestNewEndpointWithKindSettings(t *testing.T) {
	b, svc := newServer(t)
	signIn(t, b)
	_, page := b.do("GET", "/ui/endpoints", nil, "")
	for _, want := range []string{`<fieldset data-kind="telegram">`, `name="telegram.chat_id"`, `name="telegram.bot_token" type="password"`, `name="slack.template"`, `name="make.api_key" type="password"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the new-endpoint form lacks %s", want)
		}
	}
	form := url.Values{"kind": {"telegram"}, "events": {"video.posted"}, "telegram.bot_token": {"123456:ABC-DEF"}, "telegram.chat_id": {"-1001234567890"}, "slack.template": {"not for telegram"}}
	if resp, body := b.do("POST", "/ui/endpoints", form, b.url); resp.StatusCode != 200 || !strings.Contains(body, "whsec_") {
		t.Fatalf("telegram endpoint = %d:\n%s", resp.StatusCode, body)
	}
	pg, _ := svc.ListEndpoints(t.Context(), gateway.EndpointFilter{})
	if len(pg.Data) != 1 || pg.Data[0].Kind != "telegram" || !strings.Contains(string(pg.Data[0].Settings), "-1001234567890") || strings.Contains(string(pg.Data[0].Settings), "not for telegram") {
		t.Fatalf("endpoints = %+v, want the telegram one with its chat id and no other kind's setting", pg.Data)
	}
	form.Del("telegram.bot_token")
	if resp, body := b.do("POST", "/ui/endpoints", form, b.url); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "bot_token") {
		t.Fatalf("telegram without a bot token = %d, want 422 naming bot_token", resp.StatusCode)
	}
}

func TestOverviewChartsAttempts(t *testing.T) {
	b, svc := newServer(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) }))
	t.Cleanup(down.Close)
	svc.Start()
	signIn(t, b)
	ep, _, err := svc.CreateEndpoint(t.Context(), gateway.EndpointInput{URL: down.URL, Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Publish(t.Context(), gateway.PublishInput{Type: "order.created", Data: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, ds, err := svc.GetEvent(t.Context(), res.ID)
		if err == nil && len(ds) == 1 && len(ds[0].Attempts) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no attempt was made")
		}
		time.Sleep(10 * time.Millisecond)
	}
	resp, body := b.do("GET", "/", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, "Activity, last hour") || !strings.Contains(body, ">Attempts per minute<") || !strings.Contains(body, `fill="#c93636"`) || !strings.Contains(body, "0 succeeded, 1 failed") {
		t.Fatalf("overview = %d, want an attempts chart with the failed attempt:\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, ">Events per minute<") || !strings.Contains(body, `fill="#3b6fb6"`) || !strings.Contains(body, ": 1 event</title>") || !strings.Contains(body, "1 received") {
		t.Fatalf("overview: want an events chart with the published event:\n%s", body)
	}
	if !strings.Contains(body, ep.ID) || !strings.Contains(body, "HTTP 502") {
		t.Error("the overview does not list the failing endpoint with its last error")
	}
	if resp, body := b.do("GET", "/?window=24h", nil, ""); resp.StatusCode != 200 || !strings.Contains(body, ">Attempts per 24 minutes<") || !strings.Contains(body, ">Events per 24 minutes<") || !strings.Contains(body, "last 24 hours") {
		t.Errorf("a day's overview = %d, want 24-minute steps", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/?window=2h", nil, ""); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("window=2h = %d, want 400", resp.StatusCode)
	}
}

func TestSourcesShowTheirURLAndWhyACallWasRejected(t *testing.T) {
	b, svc := newServer(t)
	signIn(t, b)
	src, err := svc.CreateSource(t.Context(), gateway.SourceInput{Name: "tok", Provider: "tokportal", Secret: "s3cr3t-value"})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(b.url+"/in/"+src.ID, "application/json", strings.NewReader(`{"event":"video.posted"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned catch hook = %d, want 401", resp.StatusCode)
	}
	_, body := b.do("GET", "/ui/sources", nil, "")
	if want := b.url + "/in/" + src.ID; !strings.Contains(body, want) || !strings.Contains(body, ">Copy</button>") {
		t.Fatalf("sources page lacks the catch-hook URL %s with a Copy button:\n%s", want, body)
	}
	_, body = b.do("GET", "/ui/sources/"+src.ID, nil, "")
	if !strings.Contains(body, "rejected") || !strings.Contains(body, "failed verification: missing X-TokPortal-Signature") {
		t.Fatalf("source page lacks the rejected call and why:\n%s", body)
	}
	if strings.Contains(body, "s3cr3t-value") {
		t.Fatal("the source page shows the source's secret")
	}
}

// While the store is too full to open, the dashboard's pages say so in HTML (503, reloading
// itself) instead of the API's JSON, and its stylesheet is still served.
func TestWaitingForSpaceShowsAPage(t *testing.T) {
	full := fmt.Errorf("cannot open the store in /data: %w", &gateway.StorageFullError{Free: 64 << 10, Watermark: 2 << 20, Opening: true})
	current := func() error { return full }
	srv := httptest.NewServer(httpapi.Waiting(httpapi.Options{Token: token, Logger: slog.New(slog.DiscardHandler), Mount: dashboard.Mounts(dashboard.Waiting(current))}, current))
	t.Cleanup(srv.Close)
	b := &browser{t: t, url: srv.URL, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	for _, p := range []string{"/", "/ui/endpoints", "/ui/login"} {
		resp, body := b.do("GET", p, nil, "")
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "64 KiB free, below the 2 MiB the store needs to open") ||
			!strings.Contains(body, `http-equiv="refresh"`) {
			t.Fatalf("GET %s while waiting = %d %s, want a 503 page saying the store is too full to open:\n%s", p, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if resp, body := b.do("GET", "/ui/assets/app.css", nil, ""); resp.StatusCode != 200 || !strings.Contains(body, "{") {
		t.Fatalf("stylesheet while waiting = %d", resp.StatusCode)
	}
	// The API keeps its JSON answer.
	if resp, body := b.do("POST", "/in/src_1", url.Values{}, ""); resp.StatusCode != http.StatusInsufficientStorage || !strings.Contains(body, `"code":"storage_full"`) {
		t.Fatalf("catch hook while waiting = %d %s", resp.StatusCode, body)
	}
}

// A delivery shows its payload byte for byte as its kind sent it: Slack's {"text":…} from
// the endpoint's template, a webhook's jq mapping output. Editing the endpoint afterwards
// does not change what the page says was sent.
func TestDeliveryShowsThePayloadAsSent(t *testing.T) {
	b, svc := newServer(t)
	var mu sync.Mutex
	got := map[string]string{}
	var failSlack atomic.Bool
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/slack" && failSlack.Swap(false) {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		mu.Lock()
		got[r.URL.Path] = string(raw)
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)
	svc.Start()
	signIn(t, b)
	slackEP, _, err := svc.CreateEndpoint(t.Context(), gateway.EndpointInput{URL: recv.URL + "/slack", Kind: "slack", Events: []string{"order.*"},
		Settings: json.RawMessage(`{"template":"Order {{.data.order}} <b> shipped"}`)})
	if err != nil {
		t.Fatal(err)
	}
	jqEP, _, err := svc.CreateEndpoint(t.Context(), gateway.EndpointInput{URL: recv.URL + "/jq", Events: []string{"order.*"},
		EndpointSettings: gateway.EndpointSettings{Mapping: `{id: .data.order, total: .data.total}`}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.Publish(t.Context(), gateway.PublishInput{Type: "order.shipped", Data: []byte(`{"order":"A-7","total":42}`)})
	if err != nil {
		t.Fatal(err)
	}
	var ds []*gateway.Delivery
	gatewaytest.WaitFor(t, 10*time.Second, "both deliveries to succeed", func() bool {
		_, ds, err = svc.GetEvent(t.Context(), res.ID)
		return err == nil && len(ds) == 2 && ds[0].Status == gateway.StatusSucceeded && ds[1].Status == gateway.StatusSucceeded
	})
	// Change the Slack template: the page must still show what went out.
	tmpl := json.RawMessage(`{"template":"changed {{.type}}"}`)
	if _, err := svc.UpdateEndpoint(t.Context(), slackEP.ID, gateway.EndpointPatch{Settings: tmpl}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	for _, d := range ds {
		path := map[string]string{slackEP.ID: "/slack", jqEP.ID: "/jq"}[d.EndpointID]
		want := got[path]
		if want == "" {
			t.Fatalf("the receiver got nothing at %s", path)
		}
		resp, body := b.do("GET", "/ui/deliveries/"+d.ID, nil, "")
		sent := sentOf(body)
		if resp.StatusCode != 200 || sent != want {
			t.Errorf("delivery to %s shows as sent %q; the receiver got %q", path, sent, want)
		}
	}
	if !strings.Contains(got["/slack"], `"text":"Order A-7 \u003cb\u003e shipped"`) || got["/jq"] != `{"id":"A-7","total":42}` {
		t.Errorf("sent %q and %q, want Slack's text and the mapping's output", got["/slack"], got["/jq"])
	}
	mu.Unlock()

	// An attempt fails, the endpoint is edited, the retry sends another body: the page
	// shows the newest as sent, and the first attempt's body apart.
	failSlack.Store(true)
	res, err = svc.Publish(t.Context(), gateway.PublishInput{Type: "order.updated", Data: []byte(`{"order":"A-8"}`)})
	if err != nil {
		t.Fatal(err)
	}
	wait := func(what string, ok func(d *gateway.Delivery) bool) (found *gateway.Delivery) {
		t.Helper()
		gatewaytest.WaitFor(t, 10*time.Second, what, func() bool {
			_, ds, err := svc.GetEvent(t.Context(), res.ID)
			for _, d := range ds {
				if err == nil && d.EndpointID == slackEP.ID && ok(d) {
					found = d
					return true
				}
			}
			return false
		})
		return found
	}
	d := wait("the first attempt fails", func(d *gateway.Delivery) bool { return len(d.Attempts) == 1 })
	if _, err := svc.UpdateEndpoint(t.Context(), slackEP.ID, gateway.EndpointPatch{Settings: json.RawMessage(`{"template":"third {{.type}}"}`)}); err != nil {
		t.Fatal(err)
	}
	if err := svc.RetryDelivery(t.Context(), d.ID); err != nil {
		t.Fatal(err)
	}
	wait("the retry succeeds", func(d *gateway.Delivery) bool { return d.Status == gateway.StatusSucceeded })
	_, page := b.do("GET", "/ui/deliveries/"+d.ID, nil, "")
	if sent := sentOf(page); sent != `{"text":"third order.updated"}` {
		t.Errorf("after an edit and a retry, the page shows as sent %q", sent)
	}
	if text := html.UnescapeString(page); !strings.Contains(text, "Attempt 1 (") || !strings.Contains(text, `{"text":"changed order.updated"}`) {
		t.Errorf("the first attempt's other body is not shown:\n%s", page)
	}
}

// sentOf is the text of the page's #sent element: the payload as sent.
func sentOf(page string) string {
	_, rest, ok := strings.Cut(page, `id="sent">`)
	if !ok {
		return ""
	}
	text, _, _ := strings.Cut(rest, "</pre>")
	return html.UnescapeString(text)
}

// GET /ui/live is a stream of server-sent events: "change" when an event is published and
// when its delivery is attempted, so that live lists fetch their rows again; signed out,
// it is refused, and signing out ends it at the next change.
func TestLiveStreamSaysWhenListsChange(t *testing.T) {
	b, svc := newServer(t)
	recv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(recv.Close)
	svc.Start()
	if resp, _ := b.do("GET", "/ui/live", nil, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("live signed out = %d, want 303 to sign in", resp.StatusCode)
	}
	signIn(t, b)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp := openLive(ctx, b)
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	// next returns the next line that is not blank, or "EOF" when the stream ended.
	next := func() string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					return "EOF"
				}
				if l != "" {
					return l
				}
			case <-ctx.Done():
				t.Fatal("no message from the live stream in time")
			}
		}
	}
	if l := next(); l != "retry: 2000" {
		t.Fatalf("first line %q, want the reconnect delay", l)
	}
	if _, _, err := svc.CreateEndpoint(t.Context(), gateway.EndpointInput{URL: recv.URL, Events: []string{"*"}}); err != nil {
		t.Fatal(err)
	}
	res, err := svc.Publish(t.Context(), gateway.PublishInput{Type: "order.created", Data: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if l := next(); l != "event: change" {
		t.Fatalf("after a publish: %q, want event: change", l)
	}
	// The attempt is a change too: wait for the delivery to succeed, reading each change.
	for {
		if l := next(); l != "data: {}" {
			t.Fatalf("message data %q", l)
		}
		_, ds, err := svc.GetEvent(t.Context(), res.ID)
		if err == nil && len(ds) == 1 && ds[0].Status == gateway.StatusSucceeded {
			break
		}
		if l := next(); l != "event: change" {
			t.Fatalf("while the delivery is attempted: %q, want event: change", l)
		}
	}
	// Signed out, the stream ends at the next change.
	if resp, _ := b.do("POST", "/ui/logout", url.Values{}, b.url); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign out = %d", resp.StatusCode)
	}
	if _, err := svc.Publish(t.Context(), gateway.PublishInput{Type: "order.created", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	for {
		if l := next(); l == "EOF" {
			break
		}
	}
}

// Deliveries are paged by the server, 50 a page; only the first page is a live list (an
// older page fetched live would turn into the first).
func TestDeliveriesArePagedAndOnlyTheFirstPageIsLive(t *testing.T) {
	b, svc := newServer(t)
	signIn(t, b)
	ep, _, err := svc.CreateEndpoint(t.Context(), gateway.EndpointInput{URL: "http://127.0.0.1:9/a", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 51 {
		if _, err := svc.Publish(t.Context(), gateway.PublishInput{Type: "order.created", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	_, first := b.do("GET", "/ui/endpoints/"+ep.ID, nil, "")
	if n := strings.Count(first, `<tr data-status=`); n != 50 || !strings.Contains(first, `data-live="/ui/endpoints/`) {
		t.Fatalf("first page: %d rows, live %v; want 50, live", n, strings.Contains(first, "data-live"))
	}
	_, more, ok := strings.Cut(first, `cursor=`)
	cursor, _, _ := strings.Cut(more, `"`)
	if !ok || cursor == "" {
		t.Fatal("the first page has no link to older deliveries")
	}
	_, older := b.do("GET", "/ui/endpoints/"+ep.ID+"?cursor="+html.UnescapeString(cursor), nil, "")
	if n := strings.Count(older, `<tr data-status=`); n != 1 || strings.Contains(older, "data-live") {
		t.Fatalf("older page: %d rows, live %v; want 1, not live", n, strings.Contains(older, "data-live"))
	}
}

// call is one request a test receiver got.
type call struct{ path, body, xkey, basicUser, basicPass string }

// recorder is a receiver that answers as the Bot API does and hands each request over.
func recorder(t *testing.T) (string, <-chan call) {
	t.Helper()
	got := make(chan call, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		u, p, _ := r.BasicAuth()
		got <- call{path: r.URL.Path, body: string(raw), xkey: r.Header.Get("X-Key"), basicUser: u, basicPass: p}
		io.WriteString(w, `{"ok":true,"result":{}}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

// next is the receiver's next request.
func next(t *testing.T, got <-chan call) call {
	t.Helper()
	select {
	case c := <-got:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no delivery")
	}
	return call{}
}

// The edit form changes a kind's settings and the endpoint's auth. Credentials are
// write-only: the page never shows them, a blank field keeps the stored one (the next
// delivery still uses it), and Remove clears it.
func TestEditKindSettingsAndAuth(t *testing.T) {
	b, svc := newServer(t)
	base, got := recorder(t)
	svc.Start()
	signIn(t, b)
	const token1, token2 = "111111:first-bot-token-value", "222222:second-bot-token-value"
	tg, _, err := svc.CreateEndpoint(t.Context(), gateway.EndpointInput{URL: base, Kind: "telegram", Events: []string{"order.*"},
		Settings: json.RawMessage(`{"bot_token":"` + token1 + `","chat_id":"-1001","template":"old {{.type}}"}`)})
	if err != nil {
		t.Fatal(err)
	}
	path := "/ui/endpoints/" + tg.ID
	_, page := b.do("GET", path, nil, "")
	for _, want := range []string{`name="setting.chat_id" value="-1001"`, `name="setting.bot_token" type="password"`, "stored; leave blank to keep it", ">old {{.type}}</textarea>", `name="clear.bot_token"`} {
		if !strings.Contains(html.UnescapeString(page), want) {
			t.Errorf("the edit form lacks %s", want)
		}
	}
	if strings.Contains(page, token1) || strings.Contains(page, "****") {
		t.Fatal("the endpoint page shows the bot token, or its mask")
	}
	publish := func() {
		t.Helper()
		if _, err := svc.Publish(t.Context(), gateway.PublishInput{Type: "order.created", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	edit := func(form url.Values) {
		t.Helper()
		form.Set("url", base)
		form.Set("events", "order.*")
		if resp, body := b.do("POST", path+"/edit", form, b.url); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("edit %v = %d:\n%s", form, resp.StatusCode, body)
		}
	}
	// New chat and template, the token left blank: the stored token still sends.
	edit(url.Values{"setting.chat_id": {"-1002"}, "setting.template": {"new {{.type}}"}, "setting.bot_token": {""}})
	publish()
	if c := next(t, got); c.path != "/bot"+token1+"/sendMessage" || c.body != `{"chat_id":"-1002","text":"new order.created"}` {
		t.Fatalf("after editing chat and template: %+v", c)
	}
	// A new token replaces it.
	edit(url.Values{"setting.bot_token": {token2}})
	publish()
	if c := next(t, got); c.path != "/bot"+token2+"/sendMessage" {
		t.Fatalf("after a new token: %+v", c)
	}
	// Removing the token is refused: telegram needs one.
	if resp, body := b.do("POST", path+"/edit", url.Values{"url": {base}, "events": {"order.*"}, "setting.bot_token": {""}, "clear.bot_token": {"1"}}, b.url); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "bot_token") {
		t.Fatalf("removing the token = %d, want 422 naming bot_token", resp.StatusCode)
	}

	// Auth on a webhook endpoint: header, its value kept when left blank, then basic, then none.
	wh, _, err := svc.CreateEndpoint(t.Context(), gateway.EndpointInput{URL: base + "/hook", Events: []string{"shop.*"},
		EndpointSettings: gateway.EndpointSettings{Auth: &gateway.EndpointAuth{Type: "header", Name: "X-Key", Value: "key-value-one"}}})
	if err != nil {
		t.Fatal(err)
	}
	path = "/ui/endpoints/" + wh.ID
	if _, page := b.do("GET", path, nil, ""); strings.Contains(page, "key-value-one") || !strings.Contains(page, `value="X-Key"`) {
		t.Fatal("the page shows the auth value, or not the header's name")
	}
	if _, page := b.do("GET", path, nil, ""); strings.Contains(page, `name="setting.`) {
		t.Fatal("a webhook endpoint's form offers kind settings it does not take")
	}
	send := func() call {
		t.Helper()
		if _, err := svc.Publish(t.Context(), gateway.PublishInput{Type: "shop.opened", Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		return next(t, got)
	}
	editAuth := func(form url.Values) {
		t.Helper()
		form.Set("url", base+"/hook")
		form.Set("events", "shop.*")
		if resp, body := b.do("POST", path+"/edit", form, b.url); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("edit %v = %d:\n%s", form, resp.StatusCode, body)
		}
	}
	editAuth(url.Values{"auth_type": {"header"}, "auth_name": {"X-Key"}, "auth_value": {""}, "mapping": {"{t: .type}"}, "rate_limit_per_s": {""}})
	if c := send(); c.xkey != "key-value-one" || c.body != `{"t":"shop.opened"}` {
		t.Fatalf("header auth left blank, with a mapping: %+v", c)
	}
	editAuth(url.Values{"auth_type": {"basic"}, "auth_username": {"ann"}, "auth_password": {"pw-1"}, "mapping": {""}})
	if c := send(); c.basicUser != "ann" || c.basicPass != "pw-1" || c.xkey != "" {
		t.Fatalf("basic auth: %+v", c)
	}
	editAuth(url.Values{"auth_type": {"basic"}, "auth_username": {"bob"}, "auth_password": {""}})
	if c := send(); c.basicUser != "bob" || c.basicPass != "pw-1" {
		t.Fatalf("basic auth, password left blank: %+v", c)
	}
	editAuth(url.Values{"auth_type": {""}})
	if c := send(); c.basicUser != "" || c.xkey != "" {
		t.Fatalf("no auth: %+v", c)
	}
}

// Closing Options.Done (the server shuts down) ends the live streams, so that shutting
// down does not wait for open pages.
func TestLiveStreamEndsWhenDone(t *testing.T) {
	done := make(chan struct{})
	b, _ := newServerDone(t, done)
	signIn(t, b)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	resp := openLive(ctx, b)
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() || sc.Text() != "retry: 2000" {
		t.Fatalf("live = %d, first line %q", resp.StatusCode, sc.Text())
	}
	close(done)
	for sc.Scan() {
	}
	if err := sc.Err(); err != nil || ctx.Err() != nil {
		t.Fatalf("the stream did not end when Done was closed: %v %v", err, ctx.Err())
	}
}

// openLive opens the live stream for as long as ctx lasts; it must answer 200
// text/event-stream. The body is closed when the test ends.
func openLive(ctx context.Context, b *browser) *http.Response {
	b.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", b.url+"/ui/live", nil)
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b.t.Fatalf("live = %d %s, want 200 text/event-stream", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return resp
}

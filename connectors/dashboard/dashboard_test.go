package dashboard_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors"
	"github.com/hookgate/hookgate/connectors/dashboard"
	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
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
	dash := dashboard.New(dashboard.Options{Service: svc, Token: token, Logger: slog.New(slog.DiscardHandler)})
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
	for _, s := range []string{"Copy jsonschema", "Download zapier", "Copy make", "$schema"} {
		if resp.StatusCode != 200 || !strings.Contains(body, s) {
			t.Errorf("video.posted page = %d, lacks %q", resp.StatusCode, s)
		}
	}
}

func TestNewEndpointWithKindSettings(t *testing.T) {
	b, svc := newServer(t)
	signIn(t, b)
	form := url.Values{"kind": {"telegram"}, "events": {"video.posted"}, "settings": {`{"bot_token":"123456:ABC-DEF","chat_id":"-1001234567890"}`}}
	if resp, body := b.do("POST", "/ui/endpoints", form, b.url); resp.StatusCode != 200 || !strings.Contains(body, "whsec_") {
		t.Fatalf("telegram endpoint = %d:\n%s", resp.StatusCode, body)
	}
	pg, _ := svc.ListEndpoints(t.Context(), gateway.EndpointFilter{})
	if len(pg.Data) != 1 || pg.Data[0].Kind != "telegram" || !strings.Contains(string(pg.Data[0].Settings), "-1001234567890") {
		t.Fatalf("endpoints = %+v, want the telegram one with its chat id", pg.Data)
	}
	form.Set("settings", "[1,2]")
	if resp, body := b.do("POST", "/ui/endpoints", form, b.url); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "kind settings") {
		t.Fatalf("settings not an object = %d, want 400 naming the kind settings", resp.StatusCode)
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
	if resp.StatusCode != 200 || !strings.Contains(body, "Attempts per minute, last hour") || !strings.Contains(body, `fill="#c93636"`) || !strings.Contains(body, "0 succeeded, 1 failed") {
		t.Fatalf("overview = %d, want a chart with the failed attempt:\n%s", resp.StatusCode, body)
	}
	if !strings.Contains(body, ep.ID) || !strings.Contains(body, "HTTP 502") {
		t.Error("the overview does not list the failing endpoint with its last error")
	}
	if resp, body := b.do("GET", "/?window=24h", nil, ""); resp.StatusCode != 200 || !strings.Contains(body, "Attempts per 24 minutes, last 24 hours") {
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

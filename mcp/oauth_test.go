package mcp_test

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/gateway"
)

// oauthHost plays an MCP host (Claude.ai, ChatGPT) with nothing but net/http.
type oauthHost struct {
	t      *testing.T
	client *http.Client
}

func newOAuthHost(t *testing.T) *oauthHost {
	return &oauthHost{t: t, client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request and returns the answer with its body read.
func (o *oauthHost) do(req *http.Request) (*http.Response, []byte) {
	o.t.Helper()
	resp, err := o.client.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		o.t.Fatal(err)
	}
	return resp, b
}

func (o *oauthHost) getJSON(u string, v any) {
	o.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	resp, b := o.do(req)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, v) != nil {
		o.t.Fatalf("GET %s = %d %s", u, resp.StatusCode, b)
	}
}

func (o *oauthHost) postForm(u string, form url.Values) (int, map[string]any) {
	o.t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, b := o.do(req)
	var out map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			o.t.Fatalf("POST %s: %d %s", u, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, out
}

// rpc sends one JSON-RPC message to /mcp with the bearer token and returns the HTTP status,
// the session id and the JSON-RPC answer (read from JSON or from an SSE stream).
func (o *oauthHost) rpc(mcpURL, token, session string, msg map[string]any) (int, string, map[string]any) {
	o.t.Helper()
	msg["jsonrpc"] = "2.0"
	body, _ := json.Marshal(msg)
	req, _ := http.NewRequest("POST", mcpURL, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
	}
	resp, b := o.do(req)
	if resp.StatusCode != http.StatusOK || len(b) == 0 {
		return resp.StatusCode, "", nil
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				b = []byte(d)
			}
		}
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		o.t.Fatalf("MCP answer is not JSON: %s", b)
	}
	return resp.StatusCode, resp.Header.Get("Mcp-Session-Id"), out
}

// callTool initializes an MCP session with token and calls a tool: the HTTP status of the
// first refused request, or 200 with the tool result.
func (o *oauthHost) callTool(mcpURL, token, name string, args map[string]any) (int, map[string]any) {
	o.t.Helper()
	status, session, _ := o.rpc(mcpURL, token, "", map[string]any{"id": 1, "method": "initialize", "params": map[string]any{
		"protocolVersion": "2025-06-18", "capabilities": map[string]any{}, "clientInfo": map[string]any{"name": "host", "version": "1"}}})
	if status != http.StatusOK {
		return status, nil
	}
	o.rpc(mcpURL, token, session, map[string]any{"method": "notifications/initialized"})
	status, _, out := o.rpc(mcpURL, token, session, map[string]any{"id": 2, "method": "tools/call", "params": map[string]any{"name": name, "arguments": args}})
	if status != http.StatusOK {
		return status, nil
	}
	res, _ := out["result"].(map[string]any)
	if res == nil {
		o.t.Fatalf("tools/call %s: %v", name, out)
	}
	return status, res
}

var resourceMetadata = regexp.MustCompile(`resource_metadata="([^"]+)"`)

// The whole OAuth flow, as an MCP host runs it, with a plain HTTP client: a 401 from /mcp
// points to the protected-resource metadata, which names the authorization server; its
// metadata gives the endpoints; the host registers itself, sends the person to approve
// (signed in with a key, choosing scopes) with a PKCE S256 challenge, trades the code for
// tokens, calls a tool with the access token, refreshes (the refresh token rotates and the
// old one is refused) and revokes, after which the token is refused with 401. Nothing
// secret is logged.
func TestOAuthFlowWithPlainHTTP(t *testing.T) {
	h := newHosted(t)
	o := newOAuthHost(t)
	approverKey, _ := h.key(t, gateway.ScopeRead, gateway.ScopePublish)

	// Discovery from the 401.
	req, _ := http.NewRequest("POST", h.url+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}`))
	req.Header.Set("Content-Type", "application/json")
	resp, _ := o.do(req)
	m := resourceMetadata.FindStringSubmatch(resp.Header.Get("WWW-Authenticate"))
	if resp.StatusCode != http.StatusUnauthorized || m == nil || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer ") {
		t.Fatalf("/mcp without a token = %d, WWW-Authenticate %q: want 401 naming resource_metadata", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	var prm struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
		Scopes               []string `json:"scopes_supported"`
	}
	o.getJSON(m[1], &prm)
	if prm.Resource != h.url+"/mcp" || len(prm.AuthorizationServers) != 1 {
		t.Fatalf("protected resource metadata %+v", prm)
	}
	var plain struct {
		Resource string `json:"resource"`
	}
	o.getJSON(h.url+"/.well-known/oauth-protected-resource", &plain)
	if plain.Resource != prm.Resource {
		t.Fatalf("the unsuffixed protected resource metadata names %q", plain.Resource)
	}
	var as struct {
		Issuer     string   `json:"issuer"`
		Authorize  string   `json:"authorization_endpoint"`
		Token      string   `json:"token_endpoint"`
		Register   string   `json:"registration_endpoint"`
		Revoke     string   `json:"revocation_endpoint"`
		Challenges []string `json:"code_challenge_methods_supported"`
	}
	o.getJSON(prm.AuthorizationServers[0]+"/.well-known/oauth-authorization-server", &as)
	if as.Issuer != prm.AuthorizationServers[0] || len(as.Challenges) != 1 || as.Challenges[0] != "S256" || as.Register == "" || as.Revoke == "" {
		t.Fatalf("authorization server metadata %+v", as)
	}

	// Dynamic client registration.
	redirect := "https://host.example/oauth/callback"
	req, _ = http.NewRequest("POST", as.Register, strings.NewReader(`{"client_name":"Test host","redirect_uris":["`+redirect+`"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"response_types":["code"],"logo_uri":"https://host.example/logo.png"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, b := o.do(req)
	var reg struct {
		ClientID string `json:"client_id"`
		Secret   string `json:"client_secret"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(b, &reg) != nil || reg.ClientID == "" || reg.Secret != "" {
		t.Fatalf("registration = %d %s", resp.StatusCode, b)
	}
	req, _ = http.NewRequest("POST", as.Register, strings.NewReader(`{"redirect_uris":["http://evil.example/cb"]}`))
	if resp, b := o.do(req); resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `"error":"invalid_redirect_uri"`) {
		t.Fatalf("registering a plain-http redirect = %d %s", resp.StatusCode, b)
	}

	// Authorization with PKCE: the approval page, then the form.
	raw := make([]byte, 32)
	rand.Read(raw)
	verifier := base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	params := url.Values{"response_type": {"code"}, "client_id": {reg.ClientID}, "redirect_uri": {redirect}, "state": {"st-1"},
		"scope": {"read publish offline_access"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}, "resource": {prm.Resource}}
	req, _ = http.NewRequest("GET", as.Authorize+"?"+params.Encode(), nil)
	resp, b = o.do(req)
	// (offline_access, which hookgate has no use for, is ignored: the page preselects what
	// the client asked for that exists.)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "Test host") || !strings.Contains(string(b), `name="code_challenge" value="`+challenge+`"`) ||
		!strings.Contains(string(b), `value="publish" checked`) || strings.Contains(string(b), `value="manage" checked`) {
		t.Fatalf("approval page = %d %s", resp.StatusCode, b)
	}
	plainPKCE := url.Values{}
	for k, v := range params {
		plainPKCE[k] = v
	}
	plainPKCE.Set("code_challenge_method", "plain")
	req, _ = http.NewRequest("GET", as.Authorize+"?"+plainPKCE.Encode(), nil)
	if resp, _ := o.do(req); resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "error=invalid_request") {
		t.Fatalf("PKCE plain = %d to %q, want the client sent back an invalid_request", resp.StatusCode, resp.Header.Get("Location"))
	}
	approve := func(key string, grant ...string) *http.Response {
		form := url.Values{"key": {key}, "decision": {"approve"}, "grant": grant}
		for k, v := range params {
			form[k] = v
		}
		req, _ := http.NewRequest("POST", as.Authorize, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, _ := o.do(req)
		return resp
	}
	if resp := approve("hgk_nope_nope", "read"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("approving with an unknown key = %d, want 401", resp.StatusCode)
	}
	if resp := approve(approverKey, "read", "manage"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("approving manage with a read+publish key = %d, want 422", resp.StatusCode)
	}
	resp = approve(approverKey, "read", "publish")
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), redirect+"?") || loc.Query().Get("state") != "st-1" ||
		loc.Query().Get("iss") != as.Issuer || loc.Query().Get("code") == "" {
		t.Fatalf("approval = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	code := loc.Query().Get("code")

	// The token, with the wrong verifier first.
	tokenForm := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirect}, "client_id": {reg.ClientID}, "code_verifier": {strings.Repeat("x", 43)}}
	if status, out := o.postForm(as.Token, tokenForm); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("a wrong code_verifier = %d %v, want 400 invalid_grant", status, out)
	}
	tokenForm.Set("code_verifier", verifier)
	status, tok := o.postForm(as.Token, tokenForm)
	access, _ := tok["access_token"].(string)
	refresh, _ := tok["refresh_token"].(string)
	if status != http.StatusOK || access == "" || refresh == "" || tok["token_type"] != "Bearer" || tok["scope"] != "read publish" || tok["expires_in"].(float64) > 3600 {
		t.Fatalf("token = %d %v", status, tok)
	}

	// A tool call with the access token; manage was not granted.
	if status, res := o.callTool(h.url+"/mcp", access, "publish_event", map[string]any{"type": "video.posted", "data": map[string]any{"bundle_id": "b_9"}}); status != http.StatusOK || res["isError"] == true {
		t.Fatalf("publish_event with the access token = %d %v", status, res)
	}
	if status, res := o.callTool(h.url+"/mcp", access, "create_webhook", map[string]any{"url": "https://example.com/h", "events": []string{"*"}}); status != http.StatusOK || res["isError"] != true {
		t.Fatalf("create_webhook with a read+publish token = %d %v, want a tool error", status, res)
	}

	// Refresh: new tokens; the old refresh token is spent.
	status, tok2 := o.postForm(as.Token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {reg.ClientID}})
	access2, _ := tok2["access_token"].(string)
	refresh2, _ := tok2["refresh_token"].(string)
	if status != http.StatusOK || access2 == "" || refresh2 == "" || access2 == access || refresh2 == refresh {
		t.Fatalf("refresh = %d %v", status, tok2)
	}
	if status, res := o.callTool(h.url+"/mcp", access2, "list_events", map[string]any{}); status != http.StatusOK || res["isError"] == true {
		t.Fatalf("list_events with the refreshed token = %d %v", status, res)
	}
	if status, _ := o.callTool(h.url+"/mcp", access, "list_events", map[string]any{}); status != http.StatusUnauthorized {
		t.Fatalf("the access token from before the refresh = %d, want 401", status)
	}

	// Revocation (RFC 7009): the grant ends, its access token is refused.
	if status, out := o.postForm(as.Revoke, url.Values{"token": {refresh2}, "client_id": {reg.ClientID}}); status != http.StatusOK {
		t.Fatalf("revoke = %d %v", status, out)
	}
	if status, _ := o.callTool(h.url+"/mcp", access2, "list_events", map[string]any{}); status != http.StatusUnauthorized {
		t.Fatalf("a tool call after revocation = %d, want 401", status)
	}
	if status, out := o.postForm(as.Token, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh2}, "client_id": {reg.ClientID}}); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("refresh after revocation = %d %v", status, out)
	}
	h.noSecretsLogged(t, approverKey, code, verifier, access, refresh, access2, refresh2)
}

// A refresh token used twice (a copy was stolen) revokes the grant: the tokens issued by
// the first use stop working too. So does a code used twice.
func TestOAuthReuseRevokesTheGrant(t *testing.T) {
	h := newHosted(t)
	o := newOAuthHost(t)
	key, _ := h.key(t, gateway.ScopeRead)
	ctx := gateway.WithPrincipal(t.Context(), &gateway.Principal{ID: "root", Scopes: gateway.AllScopes})
	reg, err := h.svc.RegisterClient(ctx, gateway.ClientRegistration{RedirectURIs: []string{"http://127.0.0.1:1/cb"}, TokenEndpointAuthMethod: "client_secret_post"})
	if err != nil || reg.ClientSecret == "" {
		t.Fatalf("register a confidential client: %v %+v", err, reg)
	}
	grant := func() (string, string) {
		verifier := strings.Repeat("v", 50)
		sum := sha256.Sum256([]byte(verifier))
		p, err := h.svc.Authenticate(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		code, err := h.svc.Approve(gateway.WithPrincipal(ctx, p), gateway.AuthorizeRequest{ResponseType: "code", ClientID: reg.ClientID, RedirectURI: "http://127.0.0.1:1/cb",
			Challenge: base64.RawURLEncoding.EncodeToString(sum[:]), ChallengeMeth: "S256"}, []gateway.Scope{gateway.ScopeRead})
		if err != nil {
			t.Fatal(err)
		}
		return code, verifier
	}
	token := url.Values{"client_id": {reg.ClientID}, "client_secret": {reg.ClientSecret}, "redirect_uri": {"http://127.0.0.1:1/cb"}, "grant_type": {"authorization_code"}}

	code, verifier := grant()
	token.Set("code", code)
	token.Set("code_verifier", verifier)
	noSecret := url.Values{}
	for k, v := range token {
		noSecret[k] = v
	}
	noSecret.Del("client_secret")
	if status, out := o.postForm(h.url+"/oauth/token", noSecret); status != http.StatusUnauthorized || out["error"] != "invalid_client" {
		t.Fatalf("a confidential client without its secret = %d %v, want 401 invalid_client", status, out)
	}
	status, first := o.postForm(h.url+"/oauth/token", token)
	if status != http.StatusOK {
		t.Fatalf("token = %d %v", status, first)
	}
	if status, out := o.postForm(h.url+"/oauth/token", token); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("the code again = %d %v", status, out)
	}
	if _, err := h.svc.Authenticate(ctx, first["access_token"].(string)); !errors.Is(err, gateway.ErrUnauthenticated) {
		t.Fatalf("the access token after its code was reused: %v, want ErrUnauthenticated", err)
	}

	code, verifier = grant()
	token.Set("code", code)
	token.Set("code_verifier", verifier)
	_, first = o.postForm(h.url+"/oauth/token", token)
	refresh := url.Values{"client_id": {reg.ClientID}, "client_secret": {reg.ClientSecret}, "grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}}
	status, second := o.postForm(h.url+"/oauth/token", refresh)
	if status != http.StatusOK {
		t.Fatalf("refresh = %d %v", status, second)
	}
	if status, out := o.postForm(h.url+"/oauth/token", refresh); status != http.StatusBadRequest || out["error"] != "invalid_grant" {
		t.Fatalf("the old refresh token again = %d %v", status, out)
	}
	if _, err := h.svc.Authenticate(ctx, second["access_token"].(string)); !errors.Is(err, gateway.ErrUnauthenticated) {
		t.Fatalf("the access token after its refresh token was reused: %v, want ErrUnauthenticated", err)
	}
}

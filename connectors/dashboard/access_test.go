package dashboard_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/gateway"
)

// A named key signs in to the dashboard and its session carries that key's scopes: a read
// key sees the pages but can't press Retry or create an endpoint (403); a read+manage key
// can. Revoking the key ends its sessions.
func TestKeySessionCarriesItsScopes(t *testing.T) {
	b, svc := newServer(t)
	info, readKey, err := svc.CreateKey(t.Context(), gateway.KeyInput{Name: "viewer", Scopes: []gateway.Scope{gateway.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.do("POST", "/ui/login", url.Values{"token": {readKey}}, b.url); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in with a read key = %d, want 303", resp.StatusCode)
	}
	for _, p := range []string{"/", "/ui/endpoints", "/ui/events"} {
		if resp, _ := b.do("GET", p, nil, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s with a read key's session = %d", p, resp.StatusCode)
		}
	}
	if resp, body := b.do("POST", "/ui/deliveries/dl_any/retry", url.Values{}, b.url); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "manage") {
		t.Fatalf("Retry with a read key's session = %d, want 403 naming manage:\n%s", resp.StatusCode, body)
	}
	if resp, _ := b.do("POST", "/ui/endpoints", url.Values{"url": {"http://127.0.0.1:9/x"}, "events": {"*"}}, b.url); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("create endpoint with a read key's session = %d, want 403", resp.StatusCode)
	}
	if err := svc.RevokeKey(t.Context(), info.ID); err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.do("GET", "/ui/endpoints", nil, ""); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET after the key was revoked = %d, want 303 to sign in", resp.StatusCode)
	}

	_, opsKey, err := svc.CreateKey(t.Context(), gateway.KeyInput{Name: "ops", Scopes: []gateway.Scope{gateway.ScopeRead, gateway.ScopeManage}})
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.do("POST", "/ui/login", url.Values{"token": {opsKey}}, b.url); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in with a manage key = %d", resp.StatusCode)
	}
	if resp, _ := b.do("POST", "/ui/deliveries/dl_nope/retry", url.Values{}, b.url); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("Retry of an unknown delivery with a manage key's session = %d, want 404 (allowed, not found)", resp.StatusCode)
	}
}

// The OAuth approval page approves as the dashboard session when no key is typed, from a
// page of this site only, and never grants more than the session's key has.
func TestOAuthApprovalWithTheDashboardSession(t *testing.T) {
	b, svc := newServer(t)
	_, key, err := svc.CreateKey(t.Context(), gateway.KeyInput{Name: "me", Scopes: []gateway.Scope{gateway.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.do("POST", "/ui/login", url.Values{"token": {key}}, b.url); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in = %d", resp.StatusCode)
	}
	reg, err := svc.RegisterClient(t.Context(), gateway.ClientRegistration{ClientName: "Claude", RedirectURIs: []string{"https://claude.example/cb"}, TokenEndpointAuthMethod: "none"})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(strings.Repeat("v", 43)))
	form := url.Values{"response_type": {"code"}, "client_id": {reg.ClientID}, "redirect_uri": {"https://claude.example/cb"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "state": {"s"}}
	resp, body := b.do("GET", "/oauth/authorize?"+form.Encode(), nil, "")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "approve as me") {
		t.Fatalf("approval page with a session = %d, want it to offer the session:\n%s", resp.StatusCode, body)
	}
	form.Set("decision", "approve")
	form["grant"] = []string{"read", "publish"}
	if resp, _ := b.do("POST", "/oauth/authorize", form, b.url); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("approving publish with a read key's session = %d, want 422", resp.StatusCode)
	}
	form["grant"] = []string{"read"}
	if resp, _ := b.do("POST", "/oauth/authorize", form, "https://evil.example"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("approving with the session from another site = %d, want 401", resp.StatusCode)
	}
	resp, _ = b.do("POST", "/oauth/authorize", form, b.url)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "s" {
		t.Fatalf("approving with the session = %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

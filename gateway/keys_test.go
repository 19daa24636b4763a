package gateway_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// approve registers a client and has the key approve a grant for it with scopes; it returns
// the code, its verifier and the client.
func approve(t *testing.T, svc *gateway.Service, key string, scopes ...gateway.Scope) (string, string, *gateway.RegisteredClient) {
	t.Helper()
	reg, err := svc.RegisterClient(ctx, gateway.ClientRegistration{RedirectURIs: []string{"https://host.example/cb"}, TokenEndpointAuthMethod: "none"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Authenticate(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	code, err := svc.Approve(gateway.WithPrincipal(ctx, p), gateway.AuthorizeRequest{ResponseType: "code", ClientID: reg.ClientID,
		RedirectURI: "https://host.example/cb", Challenge: base64.RawURLEncoding.EncodeToString(sum[:]), ChallengeMeth: "S256"}, scopes)
	if err != nil {
		t.Fatal(err)
	}
	return code, verifier, reg
}

// A key's last use is recorded, at most once a minute of the Service's clock.
func TestKeyLastUsed(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	svc := gatewaytest.New(t, gateway.Options{Now: clk.Now}, nil)
	info, key, err := svc.CreateKey(ctx, gateway.KeyInput{Name: "ci", Scopes: []gateway.Scope{gateway.ScopePublish}})
	if err != nil || info.LastUsed != nil {
		t.Fatalf("CreateKey: %v %+v", err, info)
	}
	lastUsed := func() time.Time {
		keys, err := svc.ListKeys(ctx)
		if err != nil || len(keys) != 1 || keys[0].LastUsed == nil {
			t.Fatalf("ListKeys: %v %+v", err, keys)
		}
		return *keys[0].LastUsed
	}
	p, err := svc.Authenticate(ctx, key)
	if err != nil || p.ID != info.ID || !p.Can(gateway.ScopePublish) || p.Can(gateway.ScopeRead) {
		t.Fatalf("Authenticate: %v %+v", err, p)
	}
	first := clk.Now()
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("last used %v, want %v", got, first)
	}
	clk.set(first.Add(30 * time.Second))
	svc.Authenticate(ctx, key)
	if got := lastUsed(); !got.Equal(first) {
		t.Fatalf("last used %v after a use 30 s later, want it left at %v", got, first)
	}
	clk.set(first.Add(2 * time.Minute))
	svc.Authenticate(ctx, key)
	if got := lastUsed(); !got.Equal(first.Add(2 * time.Minute)) {
		t.Fatalf("last used %v after a use 2 min later", got)
	}
}

// An OAuth grant dies with the key that approved it, and its access token ends with its
// lifetime on the Service's clock.
func TestGrantEndsWithItsKeyAndItsLifetime(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	svc := gatewaytest.New(t, gateway.Options{Now: clk.Now}, nil)
	info, key, err := svc.CreateKey(ctx, gateway.KeyInput{Name: "me", Scopes: []gateway.Scope{gateway.ScopeRead, gateway.ScopeManage}})
	if err != nil {
		t.Fatal(err)
	}
	code, verifier, reg := approve(t, svc, key, gateway.ScopeRead)
	var oe *gateway.OAuthError
	if _, err := svc.Token(ctx, gateway.TokenRequest{GrantType: "authorization_code", Code: code, CodeVerifier: verifier, RedirectURI: "https://other.example/cb", ClientID: reg.ClientID}); !errors.As(err, &oe) || oe.Code != "invalid_grant" {
		t.Fatalf("a token request with another redirect_uri: %v, want invalid_grant", err)
	}
	// OAuth 2.1 lets the token request leave redirect_uri out.
	tok, err := svc.Token(ctx, gateway.TokenRequest{GrantType: "authorization_code", Code: code, CodeVerifier: verifier, ClientID: reg.ClientID})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Authenticate(ctx, tok.AccessToken)
	if err != nil || !p.Can(gateway.ScopeRead) || p.Can(gateway.ScopeManage) || !strings.HasPrefix(p.ID, "grant_") {
		t.Fatalf("access token: %v %+v, want the grant's read scope only", err, p)
	}
	clk.set(clk.Now().Add(gateway.AccessTTL))
	if _, err := svc.Authenticate(ctx, tok.AccessToken); !errors.Is(err, gateway.ErrUnauthenticated) {
		t.Fatalf("an access token at its end: %v, want ErrUnauthenticated", err)
	}
	tok, err = svc.Token(ctx, gateway.TokenRequest{GrantType: "refresh_token", RefreshToken: tok.RefreshToken, ClientID: reg.ClientID})
	if err != nil {
		t.Fatalf("refresh after the access token ended: %v", err)
	}
	if err := svc.RevokeKey(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, tok.AccessToken); !errors.Is(err, gateway.ErrUnauthenticated) {
		t.Fatalf("an access token after its approver's key was revoked: %v, want ErrUnauthenticated", err)
	}
	if _, err := svc.Token(ctx, gateway.TokenRequest{GrantType: "refresh_token", RefreshToken: tok.RefreshToken, ClientID: reg.ClientID}); !errors.As(err, &oe) || oe.Code != "invalid_grant" {
		t.Fatalf("a refresh after the approver's key was revoked: %v, want invalid_grant", err)
	}
}

// Retention removes OAuth grants that can't be used any more: a code never exchanged, once
// it expired, and a grant whose refresh token ended; a live grant stays. A client no one
// approved goes after a day; an approved one stays.
func TestRetentionRemovesEndedGrants(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	st := gatewaytest.Badger(t, t.TempDir())
	svc := gatewaytest.New(t, gateway.Options{Store: st, Now: clk.Now, Retention: time.Hour, RetentionEvery: 5 * time.Millisecond}, nil)
	_, key, err := svc.CreateKey(ctx, gateway.KeyInput{Name: "me", Scopes: []gateway.Scope{gateway.ScopeRead}})
	if err != nil {
		t.Fatal(err)
	}
	approve(t, svc, key, gateway.ScopeRead) // never exchanged
	code, verifier, reg := approve(t, svc, key, gateway.ScopeRead)
	if _, err := svc.Token(ctx, gateway.TokenRequest{GrantType: "authorization_code", Code: code, CodeVerifier: verifier, RedirectURI: "https://host.example/cb", ClientID: reg.ClientID}); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		gs, err := st.Grants().List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(gs)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d grants, want 2", n)
	}
	unapproved, err := svc.RegisterClient(ctx, gateway.ClientRegistration{RedirectURIs: []string{"https://host.example/cb"}, TokenEndpointAuthMethod: "none"})
	if err != nil {
		t.Fatal(err)
	}
	clientGone := func(id string) bool {
		_, _, err := st.OAuthClients().Get(ctx, id)
		return errors.Is(err, gateway.ErrNotFound)
	}
	clk.set(clk.Now().Add(gateway.CodeTTL))
	gatewaytest.WaitFor(t, 5*time.Second, "the unexchanged grant to be removed", func() bool { return count() == 1 })
	if clientGone(unapproved.ClientID) {
		t.Fatal("a client no one approved was removed within its first day")
	}
	clk.set(clk.Now().Add(gateway.UnapprovedClientTTL))
	gatewaytest.WaitFor(t, 5*time.Second, "the unapproved client to be removed", func() bool { return clientGone(unapproved.ClientID) })
	clk.set(clk.Now().Add(gateway.RefreshTTL))
	gatewaytest.WaitFor(t, 5*time.Second, "the ended grant to be removed", func() bool { return count() == 0 })
	if clientGone(reg.ClientID) {
		t.Fatal("an approved client was removed")
	}
}

package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// OAuth 2.1 for hosted MCP clients (Claude.ai, ChatGPT): hookgate is the authorization
// server. Clients register themselves (RFC 7591) and get a client id; a person approves a
// grant on hookgate's page, signed in with a key, choosing scopes; the client trades the
// one-time code (with its PKCE S256 verifier) for a short-lived access token and a refresh
// token, which rotates on every use. Everything lives in the registry (OAuthClients,
// Grants), so that every node of a cluster honours it, and every code and token is stored
// as its SHA-256 only. One grant is one principal ("grant_…"): its record holds the hash of
// its current code, access token and refresh token; each of them names the grant
// ("hga_<grant>_<random>"), so that checking one is one read.
//
// A refresh token used a second time (it was rotated: someone holds a copy) revokes the
// whole grant, as does a code used twice (OAuth 2.1 §4.3.1, §6.1). A grant approved with a
// key dies with the key.

// The lifetimes of what the authorization server issues.
const (
	// CodeTTL is how long an authorization code may wait to be exchanged.
	CodeTTL = 5 * time.Minute
	// AccessTTL is the life of an access token.
	AccessTTL = time.Hour
	// RefreshTTL is the life of a refresh token; each refresh issues a new one.
	RefreshTTL = 30 * 24 * time.Hour
)

// The prefixes of what the authorization server issues, recognisable in logs and to secret
// scanners.
const (
	accessPrefix  = "hga_"
	refreshPrefix = "hgr_"
	codePrefix    = "hgc_"
)

// OAuth client authentication methods (RFC 7591 token_endpoint_auth_method).
const (
	AuthMethodNone       = "none"
	AuthMethodSecretPost = "client_secret_post"
	AuthMethodSecretBase = "client_secret_basic"
)

// OAuthClient is a registered OAuth client (RFC 7591). A confidential client's secret is
// stored hashed.
type OAuthClient struct {
	ID           string    `json:"client_id"`
	Name         string    `json:"client_name,omitempty"`
	RedirectURIs []string  `json:"redirect_uris"`
	AuthMethod   string    `json:"token_endpoint_auth_method"`
	SecretHash   string    `json:"secret_hash,omitempty"`
	Created      time.Time `json:"created"`
	// Approved is set when a person first approves a grant for the client: a client never
	// approved is removed by retention after UnapprovedClientTTL.
	Approved bool `json:"approved,omitempty"`
}

// UnapprovedClientTTL is how long a registered client that no one approved is kept: hosts
// register anew on each attempt to connect, and registration is open.
const UnapprovedClientTTL = 24 * time.Hour

// Grant is what a person approved for a client: scopes, and the current code and tokens
// (hashed), with when each ends.
type Grant struct {
	ID         string    `json:"id"`
	ClientID   string    `json:"client_id"`
	ClientName string    `json:"client_name,omitempty"`
	Scopes     []Scope   `json:"scopes"`
	ApprovedBy string    `json:"approved_by"`
	Created    time.Time `json:"created"`

	CodeHash    string    `json:"code_hash,omitempty"`
	CodeExpires time.Time `json:"code_expires,omitzero"`
	CodeUsed    bool      `json:"code_used,omitempty"`
	Challenge   string    `json:"challenge,omitempty"`
	RedirectURI string    `json:"redirect_uri,omitempty"`

	AccessHash      string    `json:"access_hash,omitempty"`
	AccessExpires   time.Time `json:"access_expires,omitzero"`
	RefreshHash     string    `json:"refresh_hash,omitempty"`
	RefreshExpires  time.Time `json:"refresh_expires,omitzero"`
	PrevRefreshHash string    `json:"prev_refresh_hash,omitempty"`
}

// OAuthError is an OAuth error response (RFC 6749 §5.2): Code is the error code
// (invalid_request, invalid_client, invalid_grant, …), Description says what is wrong.
type OAuthError struct {
	Code        string
	Description string
}

// Error implements error.
func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

func oauthErr(code, format string, args ...any) *OAuthError {
	return &OAuthError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// ClientRegistration is an RFC 7591 registration request (the fields hookgate uses; others
// are ignored, as the RFC allows).
type ClientRegistration struct {
	RedirectURIs            []string `json:"redirect_uris"`
	ClientName              string   `json:"client_name"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
}

// RegisteredClient is the answer to a registration: the client, its secret when it is
// confidential (shown once), and the grant and response types it may use.
type RegisteredClient struct {
	ClientID                string   `json:"client_id"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	ClientName              string   `json:"client_name,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
}

// RegisterClient registers an OAuth client (RFC 7591). Redirect URIs must be https, or
// http on a loopback address (RFC 8252 native apps); only the authorization code and
// refresh token grants exist.
func (s *Service) RegisterClient(ctx context.Context, in ClientRegistration) (*RegisteredClient, error) {
	if err := s.admit(); err != nil {
		return nil, err
	}
	if len(in.RedirectURIs) == 0 || len(in.RedirectURIs) > 10 {
		return nil, oauthErr("invalid_redirect_uri", "redirect_uris: give 1 to 10 redirect URIs")
	}
	for _, u := range in.RedirectURIs {
		if err := checkRedirectURI(u); err != nil {
			return nil, oauthErr("invalid_redirect_uri", "redirect_uris: %s: %v", u, err)
		}
	}
	for _, gt := range in.GrantTypes {
		if gt != "authorization_code" && gt != "refresh_token" {
			return nil, oauthErr("invalid_client_metadata", "grant_types: %q is not supported (authorization_code, refresh_token)", gt)
		}
	}
	for _, rt := range in.ResponseTypes {
		if rt != "code" {
			return nil, oauthErr("invalid_client_metadata", "response_types: %q is not supported (code)", rt)
		}
	}
	method := in.TokenEndpointAuthMethod
	switch method {
	case "":
		method = AuthMethodSecretBase // RFC 7591 §2's default
	case AuthMethodNone, AuthMethodSecretPost, AuthMethodSecretBase:
	default:
		return nil, oauthErr("invalid_client_metadata", "token_endpoint_auth_method: %q is not supported (none, client_secret_post, client_secret_basic)", method)
	}
	if len(in.ClientName) > 200 {
		return nil, oauthErr("invalid_client_metadata", "client_name: at most 200 characters")
	}
	now := s.now().UTC()
	c := &OAuthClient{ID: newID("client", now), Name: strings.TrimSpace(in.ClientName), RedirectURIs: in.RedirectURIs, AuthMethod: method, Created: now}
	var secret string
	if method != AuthMethodNone {
		secret = "hgs_" + randomPart()
		c.SecretHash = hashSecret(secret)
	}
	if _, err := s.store.OAuthClients().Put(ctx, c.ID, c, 0); err != nil {
		return nil, fmt.Errorf("register client: %w", err)
	}
	out := &RegisteredClient{ClientID: c.ID, ClientSecret: secret, ClientIDIssuedAt: now.Unix(), ClientName: c.Name,
		RedirectURIs: c.RedirectURIs, TokenEndpointAuthMethod: method,
		GrantTypes: []string{"authorization_code", "refresh_token"}, ResponseTypes: []string{"code"}}
	if secret != "" {
		never := int64(0)
		out.ClientSecretExpiresAt = &never
	}
	return out, nil
}

// checkRedirectURI accepts an absolute https URL without a fragment, or http on a loopback
// host.
func checkRedirectURI(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return errors.New("must be an absolute URL")
	}
	if u.Fragment != "" {
		return errors.New("must not have a fragment")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
	}
	return errors.New("must use https (http only on localhost)")
}

// AuthorizeRequest is an authorization request (RFC 6749 §4.1.1 with PKCE, RFC 7636).
// Scopes are what the client asks for: they preselect the approval page's choices; scopes
// hookgate doesn't have (offline_access, openid…) are ignored, as RFC 6749 §3.3 lets a
// server grant less than asked, rather than failing the connection.
type AuthorizeRequest struct {
	ResponseType  string
	ClientID      string
	RedirectURI   string
	State         string
	Scopes        []Scope
	Challenge     string
	ChallengeMeth string
}

// pkceChallenge is an S256 code challenge: base64url of a SHA-256, 43 characters.
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// CheckAuthorize validates an authorization request before the person is asked, and
// returns the client. An error about the client or its redirect URI (*OAuthError with
// Redirect false) must be shown, not sent to the redirect URI; others are sent there.
func (s *Service) CheckAuthorize(ctx context.Context, r AuthorizeRequest) (*OAuthClient, *AuthorizeError) {
	c, _, err := s.store.OAuthClients().Get(ctx, r.ClientID)
	if err != nil || r.ClientID == "" {
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, &AuthorizeError{OAuthError: oauthErr("server_error", "could not read the client")}
		}
		return nil, &AuthorizeError{OAuthError: oauthErr("invalid_request", "unknown client_id %q: register the client first", r.ClientID)}
	}
	if !slices.Contains(c.RedirectURIs, r.RedirectURI) {
		return nil, &AuthorizeError{OAuthError: oauthErr("invalid_request", "redirect_uri %q is not one the client registered", r.RedirectURI)}
	}
	redirect := func(e *OAuthError) *AuthorizeError { return &AuthorizeError{OAuthError: e, Redirect: true} }
	switch {
	case r.ResponseType != "code":
		return c, redirect(oauthErr("unsupported_response_type", "response_type must be code"))
	case r.ChallengeMeth != "S256":
		return c, redirect(oauthErr("invalid_request", "code_challenge_method must be S256 (PKCE is required)"))
	case !pkceChallenge.MatchString(r.Challenge):
		return c, redirect(oauthErr("invalid_request", "code_challenge must be the base64url SHA-256 of the code verifier (43 characters)"))
	}
	return c, nil
}

// AuthorizeError is a failed authorization request; Redirect says whether it goes back to
// the client's redirect URI (the client and redirect URI were valid) or is shown.
type AuthorizeError struct {
	*OAuthError
	Redirect bool
}

// Approve makes a grant for the authorization request r, approved by the principal in ctx
// (who must be signed in) with scopes (no more than that principal has), and returns the
// authorization code to send back to the client.
func (s *Service) Approve(ctx context.Context, r AuthorizeRequest, scopes []Scope) (string, error) {
	if err := s.admit(); err != nil {
		return "", err
	}
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return "", ErrUnauthenticated
	}
	c, aerr := s.CheckAuthorize(ctx, r)
	if aerr != nil {
		return "", aerr.OAuthError
	}
	scopes, err := checkScopes(ctx, "scopes", scopes)
	if err != nil {
		return "", err
	}
	now := s.now().UTC()
	id := newID("grant", now)
	code := newCredential(codePrefix, strings.TrimPrefix(id, "grant_"))
	g := &Grant{ID: id, ClientID: c.ID, ClientName: c.Name, Scopes: scopes, ApprovedBy: p.ID, Created: now,
		CodeHash: hashSecret(code), CodeExpires: now.Add(CodeTTL), Challenge: r.Challenge, RedirectURI: r.RedirectURI}
	if _, err := s.store.Grants().Put(ctx, id, g, 0); err != nil {
		return "", fmt.Errorf("approve: %w", err)
	}
	if !c.Approved {
		_, _, err := casUpdate(ctx, s.store.OAuthClients(), c.ID, func(cur *OAuthClient) (*OAuthClient, error) {
			cur.Approved = true
			return cur, nil
		})
		if err != nil {
			return "", fmt.Errorf("approve: mark the client approved: %w", err)
		}
	}
	return code, nil
}

// TokenRequest is a token endpoint request (RFC 6749 §4.1.3, §6).
type TokenRequest struct {
	GrantType    string
	Code         string
	RedirectURI  string
	CodeVerifier string
	RefreshToken string
	ClientID     string
	ClientSecret string
	// SecretIn says how the client authenticated: "" (none), client_secret_post or
	// client_secret_basic.
	SecretIn string
}

// Tokens is a token endpoint answer (RFC 6749 §5.1).
type Tokens struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// pkceVerifier is a PKCE code verifier (RFC 7636 §4.1).
var pkceVerifier = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// Token answers a token request: an authorization code (with its PKCE verifier) or a
// refresh token, traded for a new access token and a new refresh token.
func (s *Service) Token(ctx context.Context, r TokenRequest) (*Tokens, error) {
	c, err := s.authenticateClient(ctx, r)
	if err != nil {
		return nil, err
	}
	switch r.GrantType {
	case "authorization_code":
		return s.exchangeCode(ctx, c, r)
	case "refresh_token":
		return s.refresh(ctx, c, r)
	case "":
		return nil, oauthErr("invalid_request", "grant_type is required")
	}
	return nil, oauthErr("unsupported_grant_type", "grant_type %q is not supported (authorization_code, refresh_token)", r.GrantType)
}

// authenticateClient finds the client and checks its secret the way it registered to send it.
func (s *Service) authenticateClient(ctx context.Context, r TokenRequest) (*OAuthClient, error) {
	if r.ClientID == "" {
		return nil, oauthErr("invalid_client", "client_id is required")
	}
	c, _, err := s.store.OAuthClients().Get(ctx, r.ClientID)
	if errors.Is(err, ErrNotFound) {
		return nil, oauthErr("invalid_client", "unknown client_id")
	}
	if err != nil {
		return nil, fmt.Errorf("read client: %w", err)
	}
	if c.AuthMethod == AuthMethodNone {
		return c, nil
	}
	if r.SecretIn == "" || !hashMatches(r.ClientSecret, c.SecretHash) {
		return nil, oauthErr("invalid_client", "client authentication failed")
	}
	return c, nil
}

// grantOf reads the grant a code or token names; ok is false when it names none.
func (s *Service) grantOf(ctx context.Context, secret, prefix string) (*Grant, uint64, bool, error) {
	ulid, ok := splitCredential(secret, prefix)
	if !ok {
		return nil, 0, false, nil
	}
	g, rev, err := s.store.Grants().Get(ctx, "grant_"+ulid)
	if errors.Is(err, ErrNotFound) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, fmt.Errorf("read grant: %w", err)
	}
	return g, rev, true, nil
}

// exchangeCode trades a code for the grant's first tokens. A code used twice revokes the grant.
func (s *Service) exchangeCode(ctx context.Context, c *OAuthClient, r TokenRequest) (*Tokens, error) {
	if !pkceVerifier.MatchString(r.CodeVerifier) {
		return nil, oauthErr("invalid_request", "code_verifier is required (43 to 128 characters of [A-Za-z0-9._~-])")
	}
	g, rev, ok, err := s.grantOf(ctx, r.Code, codePrefix)
	if err != nil {
		return nil, err
	}
	if !ok || g.ClientID != c.ID || !hashMatches(r.Code, g.CodeHash) {
		return nil, oauthErr("invalid_grant", "the authorization code is unknown or not this client's")
	}
	if g.CodeUsed {
		if err := s.store.Grants().Delete(ctx, g.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("revoke a grant whose code was reused: %w", err)
		}
		return nil, oauthErr("invalid_grant", "the authorization code was already used; the grant is revoked")
	}
	now := s.now().UTC()
	if !now.Before(g.CodeExpires) {
		return nil, oauthErr("invalid_grant", "the authorization code expired; authorize again")
	}
	// OAuth 2.1 lets the token request leave redirect_uri out (PKCE binds the code to the
	// client that asked for it); one that is sent must be the authorization request's.
	if r.RedirectURI != "" && r.RedirectURI != g.RedirectURI {
		return nil, oauthErr("invalid_grant", "redirect_uri differs from the authorization request's")
	}
	sum := sha256.Sum256([]byte(r.CodeVerifier))
	if base64.RawURLEncoding.EncodeToString(sum[:]) != g.Challenge {
		return nil, oauthErr("invalid_grant", "code_verifier does not match the code_challenge")
	}
	g.CodeUsed = true
	return s.issue(ctx, g, rev, now)
}

// refresh rotates a grant's refresh token. The previous refresh token used again revokes
// the grant.
func (s *Service) refresh(ctx context.Context, c *OAuthClient, r TokenRequest) (*Tokens, error) {
	g, rev, ok, err := s.grantOf(ctx, r.RefreshToken, refreshPrefix)
	if err != nil {
		return nil, err
	}
	if !ok || g.ClientID != c.ID {
		return nil, oauthErr("invalid_grant", "the refresh token is unknown, revoked or not this client's")
	}
	if hashMatches(r.RefreshToken, g.PrevRefreshHash) {
		if err := s.store.Grants().Delete(ctx, g.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("revoke a grant whose refresh token was reused: %w", err)
		}
		return nil, oauthErr("invalid_grant", "the refresh token was already used; the grant is revoked")
	}
	now := s.now().UTC()
	if !hashMatches(r.RefreshToken, g.RefreshHash) || !now.Before(g.RefreshExpires) {
		return nil, oauthErr("invalid_grant", "the refresh token is unknown, revoked or expired")
	}
	if _, err := s.grantPrincipal(ctx, g); errors.Is(err, ErrUnauthenticated) {
		return nil, oauthErr("invalid_grant", "the key that approved this grant was revoked")
	} else if err != nil {
		return nil, err
	}
	g.PrevRefreshHash = g.RefreshHash
	return s.issue(ctx, g, rev, now)
}

// issue gives g a new access token and refresh token and stores it if it is still at rev
// (a concurrent exchange or refresh with the same code or token loses).
func (s *Service) issue(ctx context.Context, g *Grant, rev uint64, now time.Time) (*Tokens, error) {
	ulid := strings.TrimPrefix(g.ID, "grant_")
	access := newCredential(accessPrefix, ulid)
	refresh := newCredential(refreshPrefix, ulid)
	g.AccessHash, g.AccessExpires = hashSecret(access), now.Add(AccessTTL)
	g.RefreshHash, g.RefreshExpires = hashSecret(refresh), now.Add(RefreshTTL)
	if _, err := s.store.Grants().Put(ctx, g.ID, g, rev); err != nil {
		if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
			return nil, oauthErr("invalid_grant", "the code or refresh token was used at the same time by another request")
		}
		return nil, fmt.Errorf("issue tokens: %w", err)
	}
	return &Tokens{AccessToken: access, TokenType: "Bearer", ExpiresIn: int64(AccessTTL / time.Second),
		RefreshToken: refresh, Scope: JoinScopes(g.Scopes, " ")}, nil
}

// ParseScopes reads an OAuth scope parameter (space-separated); empty gives none.
func ParseScopes(v string) []Scope {
	var out []Scope
	for _, f := range strings.Fields(v) {
		out = append(out, Scope(f))
	}
	return out
}

// RevokeToken revokes a refresh token (the whole grant) or an access token (RFC 7009).
// An unknown token is not an error: the RFC answers 200 either way.
func (s *Service) RevokeToken(ctx context.Context, token, clientID, secret, secretIn string) error {
	c, err := s.authenticateClient(ctx, TokenRequest{ClientID: clientID, ClientSecret: secret, SecretIn: secretIn})
	if err != nil {
		return err
	}
	prefix := refreshPrefix
	if strings.HasPrefix(token, accessPrefix) {
		prefix = accessPrefix
	}
	g, _, ok, err := s.grantOf(ctx, token, prefix)
	if err != nil || !ok || g.ClientID != c.ID {
		return err
	}
	if !hashMatches(token, g.AccessHash) && !hashMatches(token, g.RefreshHash) {
		return nil
	}
	if err := s.store.Grants().Delete(ctx, g.ID); err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("revoke: %w", err)
	}
	return nil
}

// authenticateAccess checks an access token and returns its grant's principal.
func (s *Service) authenticateAccess(ctx context.Context, token string) (*Principal, error) {
	g, _, ok, err := s.grantOf(ctx, token, accessPrefix)
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if !ok || !hashMatches(token, g.AccessHash) || !s.now().Before(g.AccessExpires) {
		return nil, ErrUnauthenticated
	}
	return s.grantPrincipal(ctx, g)
}

// grantPrincipal is g's principal, or ErrUnauthenticated when the key that approved it was
// revoked.
func (s *Service) grantPrincipal(ctx context.Context, g *Grant) (*Principal, error) {
	if strings.HasPrefix(g.ApprovedBy, "key_") {
		if _, err := credential(ctx, s.store.Keys(), g.ApprovedBy); err != nil {
			return nil, err
		}
	}
	name := g.ClientName
	if name == "" {
		name = g.ClientID
	}
	return &Principal{ID: g.ID, Name: "OAuth: " + name, Scopes: g.Scopes}, nil
}

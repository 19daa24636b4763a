package httpapi

import (
	"context"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/hookgate/hookgate/gateway"
)

// OAuth 2.1 for /mcp (see gateway/oauth.go for the grants and tokens): the discovery
// documents, dynamic client registration, the approval page, the token and revocation
// endpoints. An MCP host that gets a 401 from /mcp reads WWW-Authenticate's
// resource_metadata, then the authorization server's metadata, registers itself, sends the
// person to /oauth/authorize and trades the code at /oauth/token.

// The OAuth paths.
const (
	protectedResourcePath = "/.well-known/oauth-protected-resource"
	authServerPath        = "/.well-known/oauth-authorization-server"
	authorizePath         = "/oauth/authorize"
	tokenPath             = "/oauth/token"
	registerPath          = "/oauth/register"
	revokePath            = "/oauth/revoke"
)

// oauthRoutes adds the OAuth endpoints to r.
func (s *server) oauthRoutes(r *gin.Engine) {
	for _, p := range []string{protectedResourcePath, protectedResourcePath + "/mcp"} {
		r.GET(p, s.cors, s.protectedResource)
		r.OPTIONS(p, s.cors)
	}
	for _, p := range []string{authServerPath, authServerPath + "/mcp"} {
		r.GET(p, s.cors, s.authServer)
		r.OPTIONS(p, s.cors)
	}
	r.POST(registerPath, s.cors, s.register)
	r.OPTIONS(registerPath, s.cors)
	r.POST(tokenPath, s.cors, s.tokenEndpoint)
	r.OPTIONS(tokenPath, s.cors)
	r.POST(revokePath, s.cors, s.revoke)
	r.OPTIONS(revokePath, s.cors)
	r.GET(authorizePath, s.authorizePage)
	r.POST(authorizePath, s.approve)
}

// cors lets browser-based MCP clients read the discovery documents and call the
// registration, token and revocation endpoints (none of which use cookies).
func (s *server) cors(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, MCP-Protocol-Version")
	if c.Request.Method == http.MethodOptions {
		c.AbortWithStatus(http.StatusNoContent)
		return
	}
	c.Next()
}

// scopeNames are the scopes, as metadata lists them.
func scopeNames() []string {
	out := make([]string, len(gateway.AllScopes))
	for i, sc := range gateway.AllScopes {
		out[i] = string(sc)
	}
	return out
}

// protectedResource is the RFC 9728 metadata of /mcp.
func (s *server) protectedResource(c *gin.Context) {
	base := s.publicURL(c.Request)
	c.JSON(http.StatusOK, gin.H{
		"resource":                 base + "/mcp",
		"authorization_servers":    []string{base},
		"scopes_supported":         scopeNames(),
		"bearer_methods_supported": []string{"header"},
		"resource_name":            "hookgate",
	})
}

// authServer is the RFC 8414 authorization server metadata.
func (s *server) authServer(c *gin.Context) {
	base := s.publicURL(c.Request)
	c.JSON(http.StatusOK, gin.H{
		"issuer":                                         base,
		"authorization_endpoint":                         base + authorizePath,
		"token_endpoint":                                 base + tokenPath,
		"registration_endpoint":                          base + registerPath,
		"revocation_endpoint":                            base + revokePath,
		"scopes_supported":                               scopeNames(),
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "refresh_token"},
		"code_challenge_methods_supported":               []string{"S256"},
		"token_endpoint_auth_methods_supported":          []string{gateway.AuthMethodNone, gateway.AuthMethodSecretPost, gateway.AuthMethodSecretBase},
		"revocation_endpoint_auth_methods_supported":     []string{gateway.AuthMethodNone, gateway.AuthMethodSecretPost, gateway.AuthMethodSecretBase},
		"authorization_response_iss_parameter_supported": true,
	})
}

// register is RFC 7591 dynamic client registration (open, as MCP hosts expect).
func (s *server) register(c *gin.Context) {
	body, err := s.readUnauthenticatedBody(c)
	if err != nil {
		s.writeOAuthError(c, err)
		return
	}
	var in gateway.ClientRegistration
	if err := json.Unmarshal(body, &in); err != nil { // unknown metadata is ignored (RFC 7591 §2)
		s.writeOAuthError(c, &gateway.OAuthError{Code: "invalid_client_metadata", Description: "the body must be a JSON object of client metadata: " + err.Error()})
		return
	}
	out, err := s.svc.RegisterClient(c.Request.Context(), in)
	if err != nil {
		s.writeOAuthError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, out)
}

// clientCredentials reads a client's id and secret from HTTP Basic or the form, and says
// which it was.
func clientCredentials(c *gin.Context) (id, secret, in string) {
	if u, p, ok := c.Request.BasicAuth(); ok {
		uid, _ := url.QueryUnescape(u)
		pw, _ := url.QueryUnescape(p)
		return uid, pw, gateway.AuthMethodSecretBase
	}
	id = c.PostForm("client_id")
	if secret = c.PostForm("client_secret"); secret != "" {
		return id, secret, gateway.AuthMethodSecretPost
	}
	return id, "", ""
}

// tokenEndpoint is the token endpoint: authorization_code (with PKCE) and refresh_token.
func (s *server) tokenEndpoint(c *gin.Context) {
	if _, err := s.readForm(c); err != nil {
		s.writeOAuthError(c, err)
		return
	}
	id, secret, in := clientCredentials(c)
	t, err := s.svc.Token(c.Request.Context(), gateway.TokenRequest{
		GrantType: c.PostForm("grant_type"), Code: c.PostForm("code"), RedirectURI: c.PostForm("redirect_uri"),
		CodeVerifier: c.PostForm("code_verifier"), RefreshToken: c.PostForm("refresh_token"),
		ClientID: id, ClientSecret: secret, SecretIn: in,
	})
	if err != nil {
		s.writeOAuthError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, t)
}

// revoke is RFC 7009 token revocation: 200 whether or not the token was valid.
func (s *server) revoke(c *gin.Context) {
	if _, err := s.readForm(c); err != nil {
		s.writeOAuthError(c, err)
		return
	}
	id, secret, in := clientCredentials(c)
	if err := s.svc.RevokeToken(c.Request.Context(), c.PostForm("token"), id, secret, in); err != nil {
		s.writeOAuthError(c, err)
		return
	}
	c.Status(http.StatusOK)
}

// readForm reads an application/x-www-form-urlencoded body within the body limit, in one of
// the unauthenticated slots (the OAuth endpoints are open, like catch hooks).
func (s *server) readForm(c *gin.Context) (url.Values, error) {
	body, err := s.readUnauthenticatedBody(c)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, &gateway.OAuthError{Code: "invalid_request", Description: "the body must be application/x-www-form-urlencoded"}
	}
	c.Request.PostForm = form
	c.Request.Form = form
	return form, nil
}

// authorizeRequest reads the authorization request's parameters (query or form).
func authorizeRequest(v url.Values) gateway.AuthorizeRequest {
	return gateway.AuthorizeRequest{ResponseType: v.Get("response_type"), ClientID: v.Get("client_id"),
		RedirectURI: v.Get("redirect_uri"), State: v.Get("state"), Scopes: gateway.ParseScopes(v.Get("scope")),
		Challenge: v.Get("code_challenge"), ChallengeMeth: v.Get("code_challenge_method")}
}

// approvalPage is what the approval page shows.
type approvalPage struct {
	Client   string
	Redirect string
	Params   map[string]string
	Scopes   []scopeChoice
	Error    string
	Session  string // the dashboard session's principal, when signed in there
}

type scopeChoice struct {
	Name    string
	Checked bool
	Meaning string
}

var scopeMeaning = map[gateway.Scope]string{
	gateway.ScopeRead:    "list and read events, deliveries, webhooks and types; wait for events",
	gateway.ScopePublish: "publish events",
	gateway.ScopeManage:  "create, change and delete webhooks, catch hooks, event types and keys",
}

// authorizePage shows the approval form, or the error of a bad request: on the page when
// the client or its redirect URI is wrong, else back at the redirect URI.
func (s *server) authorizePage(c *gin.Context) {
	q := c.Request.URL.Query()
	r := authorizeRequest(q)
	client, aerr := s.svc.CheckAuthorize(c.Request.Context(), r)
	if aerr != nil {
		s.authorizeFailed(c, r, aerr)
		return
	}
	s.renderApproval(c, http.StatusOK, client, r, q, "")
}

// authorizeFailed sends an authorization error back to the client, or shows it.
func (s *server) authorizeFailed(c *gin.Context, r gateway.AuthorizeRequest, aerr *gateway.AuthorizeError) {
	if aerr.Redirect {
		s.redirectBack(c, r, url.Values{"error": {aerr.Code}, "error_description": {aerr.Description}})
		return
	}
	renderApprovalHTML(c, http.StatusBadRequest, approvalPage{Error: aerr.Description})
}

// redirectBack sends the browser to the client's redirect URI with v, the state and the
// issuer (RFC 9207).
func (s *server) redirectBack(c *gin.Context, r gateway.AuthorizeRequest, v url.Values) {
	u, err := url.Parse(r.RedirectURI)
	if err != nil {
		renderApprovalHTML(c, http.StatusBadRequest, approvalPage{Error: "bad redirect_uri"})
		return
	}
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	if r.State != "" {
		q.Set("state", r.State)
	}
	q.Set("iss", s.publicURL(c.Request))
	u.RawQuery = q.Encode()
	c.Redirect(http.StatusSeeOther, u.String())
}

// renderApproval shows the approval form for r, keeping its parameters in hidden fields.
func (s *server) renderApproval(c *gin.Context, status int, client *gateway.OAuthClient, r gateway.AuthorizeRequest, q url.Values, msg string) {
	name := client.Name
	if name == "" {
		name = client.ID
	}
	host := r.RedirectURI
	if u, err := url.Parse(r.RedirectURI); err == nil {
		host = u.Host
	}
	page := approvalPage{Client: name, Redirect: host, Params: map[string]string{}, Error: msg}
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "state", "scope", "code_challenge", "code_challenge_method", "resource"} {
		if v := q.Get(k); v != "" {
			page.Params[k] = v
		}
	}
	for _, sc := range gateway.AllScopes {
		page.Scopes = append(page.Scopes, scopeChoice{Name: string(sc), Meaning: scopeMeaning[sc],
			Checked: len(r.Scopes) == 0 || slices.Contains(r.Scopes, sc)})
	}
	if p := s.sessionPrincipal(c.Request); p != nil {
		page.Session = p.Name
	}
	renderApprovalHTML(c, status, page)
}

// sessionPrincipal is the principal of the dashboard session the request carries, if any.
func (s *server) sessionPrincipal(r *http.Request) *gateway.Principal {
	if s.session == nil {
		return nil
	}
	return s.session(r)
}

// approve handles the approval form: signed in with a key (or the dashboard session), the
// person grants the checked scopes (no more than they have) or denies.
func (s *server) approve(c *gin.Context) {
	form, err := s.readForm(c)
	if err != nil {
		status, d := s.classify(err)
		renderApprovalHTML(c, status, approvalPage{Error: d.Message})
		return
	}
	r := authorizeRequest(form)
	client, aerr := s.svc.CheckAuthorize(c.Request.Context(), r)
	if aerr != nil {
		s.authorizeFailed(c, r, aerr)
		return
	}
	if form.Get("decision") != "approve" {
		s.redirectBack(c, r, url.Values{"error": {"access_denied"}, "error_description": {"the request was denied"}})
		return
	}
	ctx := c.Request.Context()
	p, err := s.approver(ctx, c.Request, form.Get("key"))
	if err != nil {
		s.renderApproval(c, http.StatusUnauthorized, client, r, form, err.Error())
		return
	}
	var scopes []gateway.Scope
	for _, v := range form["grant"] {
		scopes = append(scopes, gateway.Scope(v))
	}
	code, err := s.svc.Approve(gateway.WithPrincipal(ctx, p), r, scopes)
	if err != nil {
		status, d := s.classify(err)
		if status >= 500 {
			s.log.Error("approve an OAuth grant", "err", err)
		}
		s.renderApproval(c, status, client, r, form, d.Message)
		return
	}
	s.redirectBack(c, r, url.Values{"code": {code}})
}

// approver is who approves: the key typed into the form, else the dashboard session (only
// from a page of this site, so that another site can't approve with a visitor's session).
func (s *server) approver(ctx context.Context, r *http.Request, key string) (*gateway.Principal, error) {
	if strings.TrimSpace(key) != "" {
		p, err := Authenticate(ctx, s.svc, s.token, key)
		if err != nil {
			return nil, fail(http.StatusUnauthorized, CodeUnauthorized, "key", "that key is unknown or revoked")
		}
		return p, nil
	}
	if p := s.sessionPrincipal(r); p != nil && SameOrigin(r) {
		return p, nil
	}
	return nil, fail(http.StatusUnauthorized, CodeUnauthorized, "key", "sign in: paste an API key (hgk_…) or the serve token")
}

// SameOrigin reports whether a state-changing request came from a page of this site: its
// Origin header (which browsers send on every POST) names the host the request was sent
// to. A request without Origin is refused.
func SameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil {
		return false
	}
	host := r.Host
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
		host = fh
	}
	return strings.EqualFold(u.Host, host)
}

// renderApprovalHTML writes the page, unframeable and uncached.
func renderApprovalHTML(c *gin.Context, status int, page approvalPage) {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' https: http://localhost:* http://127.0.0.1:*; frame-ancestors 'none'")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	c.Status(status)
	if err := approvalTemplate.Execute(c.Writer, page); err != nil {
		c.Error(err) //nolint:errcheck // the page is half written; nothing more to send
	}
	c.Abort()
}

var approvalTemplate = template.Must(template.New("approve").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connect to hookgate</title>
<style>body{font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#222}
fieldset{border:1px solid #ccc;border-radius:6px;margin:1rem 0}label{display:block;margin:.4rem 0}
input[type=password]{width:100%;padding:.4rem;box-sizing:border-box}.err{color:#a00}small{color:#666}
button{padding:.5rem 1rem;margin-right:.5rem}</style></head><body>
{{if .Client}}
<h1>Connect {{.Client}} to hookgate?</h1>
<p>{{.Client}} asks for access to this hookgate. After you approve, it is sent back to <b>{{.Redirect}}</b>.</p>
{{if .Error}}<p class="err" role="alert">{{.Error}}</p>{{end}}
<form method="post" action="/oauth/authorize">
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}
<fieldset><legend>Allow it to</legend>
{{range .Scopes}}<label><input type="checkbox" name="grant" value="{{.Name}}"{{if .Checked}} checked{{end}}> <b>{{.Name}}</b>: {{.Meaning}}</label>
{{end}}<small>You can only give scopes your own key has.</small></fieldset>
<label for="key">Sign in with an API key (hgk_…) or the serve token{{if .Session}}, or leave it empty to approve as {{.Session}} (your dashboard session){{end}}</label>
<input type="password" id="key" name="key" autocomplete="off">
<p><button type="submit" name="decision" value="approve">Approve</button><button type="submit" name="decision" value="deny">Deny</button></p>
</form>
{{else}}
<h1>Can't connect</h1><p class="err" role="alert">{{.Error}}</p>
{{end}}
</body></html>
`))

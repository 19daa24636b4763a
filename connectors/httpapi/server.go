// Package httpapi is hookgate's HTTP face: the management and publish API under /v1, the
// health check, and the one error writer every route shares. It is a thin layer over
// *gateway.Service: it decodes and bounds input, calls the Service, and encodes the answer.
// Client (client.go) is the same API seen from the other side, for the CLI and remote MCP.
// What one connection may hold (a body's read timeout, the cap on unauthenticated reads) is
// in conn.go.
//
// Every error answer is a 4xx (or 503 while stopping or too busy reading catch hooks, 507
// while the disk is below its free-space watermark) with the body
//
//	{"error":{"code":"invalid_field","message":"url: must use https","field":"url"}}
//
// # Example
//
//	h := httpapi.New(httpapi.Options{Service: svc, Token: token})
//	srv := &http.Server{Addr: ":8080", Handler: h}
//	go srv.ListenAndServe()
//
//	curl -H "Authorization: Bearer $TOKEN" -d '{"type":"video.posted","data":{}}' localhost:8080/v1/events
package httpapi

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hookgate/hookgate/gateway"
)

// DefaultMaxBody is the default request body limit: 1 MiB.
const DefaultMaxBody = 1 << 20

// Options configures the handler.
type Options struct {
	// Service is the gateway the API drives. Required.
	Service *gateway.Service
	// Token is the bearer token every /v1 route requires. Required.
	Token string
	// MaxBody limits request bodies; default DefaultMaxBody.
	MaxBody int64
	// Logger; default slog.Default().
	Logger *slog.Logger
	// PublicURL is the gateway's address as the outside world sees it
	// ("https://hooks.example.com"): the base of catch-hook URLs and the OpenAPI server.
	// Empty: taken from each request (Host, X-Forwarded-Proto).
	PublicURL string
	// ReadTimeout bounds how long a request body may take to arrive once the headers are
	// in; a body cut off is answered 408. Default DefaultReadTimeout. It does not limit how
	// long an answer may take (an MCP await streams for up to 10 minutes).
	ReadTimeout time.Duration
	// MaxUnauthenticatedReads caps the catch-hook bodies (callers without the API token)
	// read at once; past it a caller is answered 503 with Retry-After: 1. Default
	// DefaultMaxUnauthenticatedReads.
	MaxUnauthenticatedReads int
	// Session, when set, returns the principal of the dashboard session a request carries
	// (nil without one), so that the OAuth approval page can approve as that principal.
	Session func(*http.Request) *gateway.Principal
	// Mount adds more routes (for example MCP at /mcp) to the same engine; each handler is
	// served under the path, behind the bearer token when Protected is set.
	Mount []Mount
}

// Mount is an extra handler served by the API's engine.
type Mount struct {
	Path      string
	Handler   http.Handler
	Protected bool
	// SecretURL serves the handler at Path/k/{key} too, authenticated by the named key in
	// the path (for MCP hosts that send no headers).
	SecretURL bool
}

type server struct {
	svc         *gateway.Service
	token       []byte
	maxBody     int64
	readTimeout time.Duration
	unauth      slots
	log         *slog.Logger
	public      string
	session     func(*http.Request) *gateway.Principal
}

// publicURL is the base URL clients reach this gateway at, for links in answers.
func (s *server) publicURL(r *http.Request) string {
	if s.public != "" {
		return strings.TrimRight(s.public, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// New returns the API as an http.Handler.
func New(opts Options) http.Handler {
	if opts.MaxBody <= 0 {
		opts.MaxBody = DefaultMaxBody
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = DefaultReadTimeout
	}
	if opts.MaxUnauthenticatedReads <= 0 {
		opts.MaxUnauthenticatedReads = DefaultMaxUnauthenticatedReads
	}
	s := &server{svc: opts.Service, token: []byte(opts.Token), maxBody: opts.MaxBody, readTimeout: opts.ReadTimeout,
		unauth: make(slots, opts.MaxUnauthenticatedReads), log: opts.Logger, public: opts.PublicURL, session: opts.Session}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(s.guardBody, s.recover)
	r.NoRoute(func(c *gin.Context) {
		s.writeError(c, fail(http.StatusNotFound, CodeNotFound, "", "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		s.writeError(c, fail(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "", "method %s is not allowed on %s", c.Request.Method, c.Request.URL.Path))
	})
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok", "version": gateway.Version}) })
	r.GET("/readyz", s.ready)

	v1 := r.Group("/v1", s.auth, s.authorize)
	v1.POST("/endpoints", s.createEndpoint)
	v1.GET("/endpoints", s.listEndpoints)
	v1.GET("/endpoints/:id", s.getEndpoint)
	v1.PATCH("/endpoints/:id", s.updateEndpoint)
	v1.DELETE("/endpoints/:id", s.deleteEndpoint)
	v1.POST("/endpoints/:id/test", s.testEndpoint)
	v1.POST("/endpoints/:id/rotate-secret", s.rotateSecret)
	v1.GET("/endpoints/:id/deliveries", s.listDeliveries)
	v1.POST("/endpoints/:id/replay", s.replay)
	v1.POST("/events", s.publish)
	v1.GET("/events", s.listEvents)
	v1.GET("/events/:id", s.getEvent)
	v1.GET("/deliveries", s.listDeliveries)
	v1.GET("/stats", s.stats)
	v1.GET("/deliveries/:id", s.getDelivery)
	v1.POST("/deliveries/:id/retry", s.retryDelivery)
	v1.GET("/event-types", s.listEventTypes)
	v1.POST("/event-types", s.addEventType)
	v1.GET("/event-types/:name", s.getEventType)
	v1.DELETE("/event-types/:name", s.deleteEventType)
	v1.GET("/event-types/:name/schema", s.exportEventType)
	v1.GET("/openapi.json", s.openapi)
	v1.POST("/sources", s.createSource)
	v1.GET("/sources", s.listSources)
	v1.GET("/sources/:id", s.getSource)
	v1.PATCH("/sources/:id", s.updateSource)
	v1.DELETE("/sources/:id", s.deleteSource)
	v1.GET("/sources/:id/requests", s.listSourceRequests)
	v1.GET("/sources/:id/url", s.getSourceURL)
	v1.POST("/zapier/hooks", s.subscribe("zapier"))
	v1.DELETE("/zapier/hooks/:id", s.unsubscribe("zapier"))
	v1.GET("/zapier/samples", s.samples)
	v1.POST("/make/hooks", s.subscribe("make"))
	v1.DELETE("/make/hooks/:id", s.unsubscribe("make"))
	v1.GET("/make/samples", s.samples)
	v1.POST("/keys", s.createKey)
	v1.GET("/keys", s.listKeys)
	v1.DELETE("/keys/:id", s.revokeKey)
	s.oauthRoutes(r)
	r.POST("/in/:id", s.receive)
	r.POST("/in/:id/:token", s.receive)

	for _, m := range opts.Mount {
		h := gin.WrapH(m.Handler)
		if m.Protected {
			r.Any(m.Path, s.auth, h)
		} else {
			r.Any(m.Path, h)
		}
		if m.SecretURL {
			r.Any(strings.TrimRight(m.Path, "/")+"/k/:key", s.keyInPath, h)
		}
	}
	return r
}

// Waiting returns the API as it answers while the store cannot be opened because the data
// volume is too full to open it safely (gateway.New failed with a *gateway.StorageFullError
// whose Opening is set): /healthz answers 200; /readyz 503 with the reason; every route of
// the API and catch hooks, and each Mount, answers the error current returns (507
// storage_full) — /v1 and protected mounts behind the token, as in New — except a Mount
// that has a Handler, which answers in its own way (the dashboard's page saying the store
// is too full to open). opts.Service is not used. The caller swaps in New's handler once
// the store opens.
func Waiting(opts Options, current func() error) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &server{token: []byte(opts.Token), log: opts.Logger}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.Use(s.recover)
	r.NoRoute(func(c *gin.Context) {
		s.writeError(c, fail(http.StatusNotFound, CodeNotFound, "", "no route %s %s", c.Request.Method, c.Request.URL.Path))
	})
	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok", "version": gateway.Version}) })
	r.GET("/readyz", func(c *gin.Context) {
		err := current()
		reason := "store_unavailable: " + err.Error()
		var sf *gateway.StorageFullError
		if errors.As(err, &sf) {
			reason = sf.Reason()
		}
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "not_ready", "reasons": []string{reason}, "version": gateway.Version})
	})
	refuse := func(c *gin.Context) { s.writeError(c, current()) }
	r.Any("/v1/*path", s.auth, refuse)
	r.Any("/in/*path", refuse)
	for _, m := range opts.Mount {
		h := refuse
		if m.Handler != nil {
			h = gin.WrapH(m.Handler)
		}
		if m.Protected {
			r.Any(m.Path, s.auth, h)
		} else {
			r.Any(m.Path, h)
		}
	}
	return r
}

// ready answers the readiness probe (no token): 200 {"status":"ready",…} when the store
// takes writes and the dispatcher runs, else 503 {"status":"not_ready","reasons":[…]}.
func (s *server) ready(c *gin.Context) {
	r := s.svc.Ready()
	body := gin.H{"status": "ready", "disk": r.Disk, "version": gateway.Version}
	status := http.StatusOK
	if !r.Ready {
		status = http.StatusServiceUnavailable
		body["status"], body["reasons"] = "not_ready", r.Reasons
	}
	c.JSON(status, body)
}

// auth requires a credential and puts its principal in the request's context
// (gateway.WithPrincipal), for the scope check, MCP tools and whatever else reads it. The
// credential is "Authorization: Bearer <credential>" (the scheme is case-insensitive, RFC
// 7235) or "X-API-Key: <credential>" (what Zapier's and Make's API-key authentication send
// most easily): the serve token, a named key (hgk_…) or an OAuth access token (hga_…).
// A 401 from /mcp points at the protected-resource metadata (RFC 9728), which is how an MCP
// host finds out how to get a token.
func (s *server) auth(c *gin.Context) {
	tok, ok := bearerToken(c.GetHeader("Authorization"))
	if k := c.GetHeader("X-API-Key"); !ok && k != "" {
		tok, ok = k, true
	}
	var (
		p   *gateway.Principal
		err error
	)
	if ok {
		p, err = Authenticate(c.Request.Context(), s.svc, s.token, tok)
	}
	if !ok || err != nil {
		if err != nil && !errors.Is(err, gateway.ErrUnauthenticated) {
			s.writeError(c, err)
			return
		}
		challenge := `Bearer realm="hookgate"`
		if strings.HasPrefix(c.Request.URL.Path, "/mcp") && s.svc != nil {
			challenge += `, resource_metadata="` + s.publicURL(c.Request) + protectedResourcePath + `/mcp"`
		}
		c.Header("WWW-Authenticate", challenge)
		msg := "missing bearer token: send Authorization: Bearer <token>"
		if ok {
			msg = "invalid bearer token: unknown, revoked or expired"
		}
		s.writeError(c, fail(http.StatusUnauthorized, CodeUnauthorized, "", "%s", msg))
		return
	}
	c.Request = c.Request.WithContext(gateway.WithPrincipal(c.Request.Context(), p))
	c.Next()
}

// Authenticate returns the principal a presented credential stands for: root (the serve
// token, compared in constant time), a named API key or an OAuth access token (looked up
// in svc, which may be nil when only the serve token counts). Anything else is
// gateway.ErrUnauthenticated. It is the one check of credentials, for the API, MCP and the
// dashboard's sign-in.
func Authenticate(ctx context.Context, svc *gateway.Service, root []byte, secret string) (*gateway.Principal, error) {
	secret = strings.TrimSpace(secret)
	if len(root) > 0 && subtle.ConstantTimeCompare([]byte(secret), root) == 1 {
		return gateway.RootPrincipal(), nil
	}
	if svc == nil || secret == "" {
		return nil, gateway.ErrUnauthenticated
	}
	return svc.Authenticate(ctx, secret)
}

// keyInPath authenticates a secret URL (a mount's Path/k/{key}): the named key in the path
// is the credential, for hosts that send no headers (ChatGPT's "No authentication" with a
// secret URL). Only named keys work there (not the serve token, which should never sit in
// a URL); a revoked key's URL answers 404, like one that never existed.
func (s *server) keyInPath(c *gin.Context) {
	key := c.Param("key")
	var p *gateway.Principal
	err := gateway.ErrUnauthenticated
	if strings.HasPrefix(key, gateway.KeyPrefix) {
		p, err = s.svc.Authenticate(c.Request.Context(), key)
	}
	if err != nil {
		if errors.Is(err, gateway.ErrUnauthenticated) {
			err = fail(http.StatusNotFound, CodeNotFound, "", "no such secret URL: the key is unknown or was revoked")
		}
		s.writeError(c, err)
		return
	}
	c.Request = c.Request.WithContext(gateway.WithPrincipal(c.Request.Context(), p))
	c.Next()
}

// authorize checks that the principal may call the route: the scope routeScopes names for
// it. A route missing from the table needs manage (and a test keeps the table complete).
func (s *server) authorize(c *gin.Context) {
	scope, ok := routeScopes[c.Request.Method+" "+c.FullPath()]
	if !ok {
		scope = gateway.ScopeManage
	}
	if err := gateway.Allow(c.Request.Context(), scope); err != nil {
		s.writeError(c, err)
		return
	}
	c.Next()
}

// bearerToken reads the token of an "Authorization: Bearer <token>" header. The scheme is
// matched case-insensitively and may be followed by several spaces (RFC 7235 §2.1).
func bearerToken(h string) (string, bool) {
	scheme, tok, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// recover turns a panic into a logged 500 with the JSON error body.
func (s *server) recover(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.writeError(c, fmt.Errorf("panic: %v", v))
		}
	}()
	c.Next()
}

// query helpers: each failure names the parameter.

func queryInt(c *gin.Context, name string) (int, error) {
	v := c.Query(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fail(http.StatusUnprocessableEntity, CodeInvalidField, name, "%s: must be a non-negative integer", name)
	}
	return n, nil
}

// queryWait reads GET /v1/events' wait: a duration ("30s") or seconds ("30"), at most
// gateway.MaxEventWait; empty is no wait.
func queryWait(c *gin.Context) (time.Duration, error) {
	v := c.Query("wait")
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, fail(http.StatusUnprocessableEntity, CodeInvalidField, "wait", "wait: must be a duration such as 30s, or seconds")
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 || d > gateway.MaxEventWait {
		return 0, fail(http.StatusUnprocessableEntity, CodeInvalidField, "wait", "wait: must be between 0 and %s", gateway.MaxEventWait)
	}
	return d, nil
}

func queryBool(c *gin.Context, name string) (*bool, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return nil, fail(http.StatusUnprocessableEntity, CodeInvalidField, name, "%s: must be true or false", name)
	}
	return &b, nil
}

// querySince reads an optional time bound: an RFC 3339 time, or a duration back from the
// Service's clock ("1h", "30m").
func (s *server) querySince(c *gin.Context, name string) (time.Time, error) {
	v := c.Query(name)
	if d, err := time.ParseDuration(v); err == nil && v != "" {
		if d < 0 {
			return time.Time{}, fail(http.StatusUnprocessableEntity, CodeInvalidField, name, "%s: a duration back from now must not be negative", name)
		}
		return s.svc.Now().Add(-d), nil
	}
	t, err := parseTime(name, v)
	if err != nil {
		return time.Time{}, fail(http.StatusUnprocessableEntity, CodeInvalidField, name, "%s: must be an RFC 3339 time such as 2026-06-24T14:00:00Z, or a duration back from now such as 1h", name)
	}
	return t, nil
}

// parseTime reads an optional RFC 3339 time; an empty string is the zero time.
func parseTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fail(http.StatusUnprocessableEntity, CodeInvalidField, name, "%s: must be an RFC 3339 time such as 2026-06-24T14:00:00Z", name)
	}
	return t, nil
}

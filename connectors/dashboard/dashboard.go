// Package dashboard is hookgate's web dashboard: server-rendered pages (html/template, with
// its stylesheet and a small script embedded by go:embed; nothing to build, no Node) over
// *gateway.Service, served by `hookgate serve` at / next to the JSON API under /v1.
//
// Sign-in is with the API token or a named key (hgk_…), pasted once into the sign-in form:
// the browser then holds a random session id in an HttpOnly, SameSite=Strict cookie
// (sessions live in memory; a restart signs everyone out). The session carries that
// principal: pages need the read scope, every action (create, edit, retry…) manage, and a
// revoked key's session ends with it. The token never appears in a URL or a page. Every
// POST must carry an Origin header naming this host. SessionPrincipal lets the OAuth
// approval page (httpapi) approve as the signed-in principal.
//
// The pages are Overview (/), Endpoints (/ui/endpoints, and each endpoint's deliveries),
// Events, Sources and Event types. The delivery and event lists stay current without a
// reload: the page listens to GET /ui/live, a stream of server-sent events that says
// "change" whenever an event is appended or a delivery saved (Service.Changed, and
// Service.WaitFor for other processes' events), and fetches its rows again; where the
// stream cannot be had, it fetches them every few seconds instead.
//
// # Example
//
//	dash := dashboard.New(dashboard.Options{Service: svc, Token: token})
//	api := httpapi.New(httpapi.Options{Service: svc, Token: token, Mount: dashboard.Mounts(dash)})
package dashboard

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
)

//go:embed assets templates
var files embed.FS

// Options configures the dashboard.
type Options struct {
	// Service is the gateway the pages show and drive. Required.
	Service *gateway.Service
	// Token is the API token the sign-in form takes (named keys are checked in Service).
	// Required.
	Token string
	// PublicURL is the gateway's address as providers reach it, the base of the catch-hook
	// URLs the Sources page shows; empty: taken from each request.
	PublicURL string
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Done, when closed, ends the live streams (GET /ui/live), which otherwise last as long
	// as the page: close it when the server shuts down, before http.Server.Shutdown waits
	// for the requests in flight.
	Done <-chan struct{}
}

// Mounts are the routes of the API's engine that the dashboard h answers (its root page and
// everything under /ui/), for httpapi.Options.Mount. They are not behind the bearer token:
// the dashboard has its own sign-in.
func Mounts(h http.Handler) []httpapi.Mount {
	return []httpapi.Mount{{Path: "/", Handler: h}, {Path: "/ui/*path", Handler: h}}
}

type handler struct {
	done     <-chan struct{}
	svc      *gateway.Service
	token    []byte
	public   string
	log      *slog.Logger
	sessions *sessions
	pages    map[string]*template.Template
	mux      *http.ServeMux
}

// New returns the dashboard as an http.Handler answering the routes in Mounts.
func New(opts Options) http.Handler {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	h := &handler{svc: opts.Service, done: opts.Done, token: []byte(opts.Token), public: opts.PublicURL, log: opts.Logger,
		sessions: &sessions{ids: map[string]session{}, now: opts.Service.Now}}
	h.pages = mustParse()
	m := http.NewServeMux()
	m.Handle("GET /ui/assets/", assetServer())
	m.HandleFunc("GET /ui/login", h.loginPage)
	m.HandleFunc("POST /ui/login", h.login)
	m.HandleFunc("POST /ui/logout", h.post(gateway.ScopeRead, h.logout))
	m.HandleFunc("GET /{$}", h.get(h.overview))
	m.HandleFunc("GET /ui/{$}", h.get(h.overview))
	m.HandleFunc("GET /ui/endpoints", h.get(h.endpoints))
	m.HandleFunc("POST /ui/endpoints", h.post(gateway.ScopeManage, h.createEndpoint))
	m.HandleFunc("GET /ui/endpoints/{id}", h.get(h.endpoint))
	m.HandleFunc("GET /ui/endpoints/{id}/deliveries", h.get(h.deliveryRows))
	m.HandleFunc("POST /ui/endpoints/{id}/edit", h.post(gateway.ScopeManage, h.editEndpoint))
	m.HandleFunc("GET /ui/endpoints/{id}/delete", h.get(h.confirmDelete))
	m.HandleFunc("POST /ui/endpoints/{id}/delete", h.post(gateway.ScopeManage, h.deleteEndpoint))
	m.HandleFunc("POST /ui/endpoints/{id}/enable", h.post(gateway.ScopeManage, h.setEnabled(true)))
	m.HandleFunc("POST /ui/endpoints/{id}/disable", h.post(gateway.ScopeManage, h.setEnabled(false)))
	m.HandleFunc("POST /ui/endpoints/{id}/test", h.post(gateway.ScopeManage, h.sendTest))
	m.HandleFunc("POST /ui/endpoints/{id}/rotate-secret", h.post(gateway.ScopeManage, h.rotateSecret))
	m.HandleFunc("POST /ui/endpoints/{id}/replay", h.post(gateway.ScopeManage, h.replayFailed))
	m.HandleFunc("GET /ui/deliveries/{id}", h.get(h.delivery))
	m.HandleFunc("POST /ui/deliveries/{id}/retry", h.post(gateway.ScopeManage, h.retry))
	m.HandleFunc("GET /ui/events", h.get(h.events))
	m.HandleFunc("GET /ui/events/rows", h.get(h.eventRows))
	m.HandleFunc("GET /ui/events/{id}", h.get(h.event))
	m.HandleFunc("GET /ui/sources", h.get(h.sources))
	m.HandleFunc("GET /ui/sources/{id}", h.get(h.source))
	m.HandleFunc("GET /ui/event-types", h.get(h.eventTypes))
	m.HandleFunc("GET /ui/event-types/{name}", h.get(h.eventType))
	m.HandleFunc("GET /ui/live", h.get(h.live))
	h.mux = m
	return h
}

// waitRefresh is how often, in seconds, the page shown while the store cannot be opened
// reloads itself.
const waitRefresh = 5

// Waiting returns the dashboard as it answers while the store cannot be opened because the
// data volume is too full (see httpapi.Waiting), for httpapi.Options.Mount with Mounts:
// every page is one that says so, with the reason current returns, answered 503 with
// Retry-After. It reloads itself every few seconds, so that once space is freed and the
// store opens, the browser finds the dashboard (its sign-in) without a hand on it.
func Waiting(current func() error) http.Handler {
	h := &handler{log: slog.Default(), sessions: &sessions{ids: map[string]session{}, now: time.Now}, pages: mustParse()}
	m := http.NewServeMux()
	m.Handle("GET /ui/assets/", assetServer())
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", strconv.Itoa(waitRefresh))
		h.render(w, r, http.StatusServiceUnavailable, "waiting", page{Title: "Waiting for storage space", Refresh: waitRefresh, Message: current().Error()})
	})
	h.mux = m
	return h
}

// assetServer serves the embedded stylesheet and script under /ui/assets/.
func assetServer() http.Handler {
	assets, err := fs.Sub(files, "assets")
	if err != nil {
		panic(err) // the embedded folder is part of the binary
	}
	return http.StripPrefix("/ui/assets/", http.FileServerFS(assets))
}

// ServeHTTP answers a dashboard request. Every answer forbids framing and caching.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Cache-Control", "no-store")
	h.mux.ServeHTTP(w, r)
}

// get wraps a page that needs a session (with the read scope): without one, the browser is
// sent to sign in.
func (h *handler) get(page func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := h.principal(r)
		if p == nil {
			http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
			return
		}
		r = r.WithContext(gateway.WithPrincipal(r.Context(), p))
		if err := gateway.Allow(r.Context(), gateway.ScopeRead); err != nil {
			h.fail(w, r, err)
			return
		}
		if err := page(w, r); err != nil {
			h.fail(w, r, err)
		}
	}
}

// post wraps a state-changing action: it needs a session with scope (manage for every
// action that changes endpoints or their deliveries) and a same-origin request.
func (h *handler) post(scope gateway.Scope, action func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !httpapi.SameOrigin(r) {
			h.render(w, r, http.StatusForbidden, "error", page{Title: "Refused", Message: "This request did not come from a page of this dashboard (its Origin header is missing or names another site)."})
			return
		}
		p := h.principal(r)
		if p == nil {
			h.render(w, r, http.StatusUnauthorized, "error", page{Title: "Signed out", Message: "Sign in to do this."})
			return
		}
		r = r.WithContext(gateway.WithPrincipal(r.Context(), p))
		if err := gateway.Allow(r.Context(), scope); err != nil {
			h.fail(w, r, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := action(w, r); err != nil {
			h.fail(w, r, err)
		}
	}
}

// fail shows an error page with the status the error calls for.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	msg := err.Error()
	if status >= 500 {
		h.log.Error("dashboard request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		msg = "internal error; see the server log"
	}
	h.render(w, r, status, "error", page{Title: http.StatusText(status), Message: msg})
}

// statusOf is the HTTP status of an error: the JSON API's (httpapi.StatusOf), or 400 for a
// form field the dashboard could not read.
func statusOf(err error) int {
	var br badRequest
	if errors.As(err, &br) {
		return http.StatusBadRequest
	}
	return httpapi.StatusOf(err)
}

// badRequest is a form field the dashboard itself could not read.
type badRequest string

func (b badRequest) Error() string { return string(b) }

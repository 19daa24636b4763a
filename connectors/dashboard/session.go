package dashboard

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// cookieName is the session cookie's name.
const cookieName = "hookgate_session"

// sessionTTL is how long a sign-in lasts.
const sessionTTL = 12 * time.Hour

// sessions are the signed-in browsers: a random id, kept in memory only, with whose
// session it is (a principal id: root for the serve token, a key's id) and when it ends. A
// restart signs everyone out.
type sessions struct {
	mu  sync.Mutex
	ids map[string]session
	now func() time.Time
}

// session is one signed-in browser.
type session struct {
	principal string
	end       time.Time
}

// start makes a new session for the principal id and returns its id.
func (s *sessions) start(principal string) (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.ids {
		if !now.Before(v.end) {
			delete(s.ids, k)
		}
	}
	s.ids[id] = session{principal: principal, end: now.Add(sessionTTL)}
	return id, nil
}

// lookup returns the principal id of a live session.
func (s *sessions) lookup(id string) (string, bool) {
	if id == "" {
		return "", false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.ids[id]
	return v.principal, ok && s.now().Before(v.end)
}

// end signs a session out.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ids, id)
}

// principal returns who r's session cookie signs in, as that principal is now (a revoked
// key's session ends with it), or nil.
func (h *handler) principal(r *http.Request) *gateway.Principal {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	id, ok := h.sessions.lookup(c.Value)
	if !ok {
		return nil
	}
	p, err := h.svc.Principal(r.Context(), id)
	if err != nil {
		if !errors.Is(err, gateway.ErrUnauthenticated) {
			h.log.Warn("dashboard session", "err", err)
		}
		return nil
	}
	return p
}

// signedIn reports whether r carries a live session cookie.
func (h *handler) signedIn(r *http.Request) bool {
	return h.principal(r) != nil
}

// SessionPrincipal returns a function giving the principal of the dashboard session a
// request carries (nil without one), for httpapi.Options.Session. dash is what New returned.
func SessionPrincipal(dash http.Handler) func(*http.Request) *gateway.Principal {
	h, ok := dash.(*handler)
	if !ok {
		return nil
	}
	return h.principal
}

// secure reports whether the browser reached us over HTTPS (directly or through a proxy
// that says so), so the cookie can be marked Secure.
func secure(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// setSession gives the browser its session cookie: HttpOnly, SameSite=Strict.
func setSession(w http.ResponseWriter, r *http.Request, id string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: secure(r)})
}

package dashboard

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// cookieName is the session cookie's name.
const cookieName = "hookgate_session"

// sessionTTL is how long a sign-in lasts.
const sessionTTL = 12 * time.Hour

// sessions are the signed-in browsers: a random id, kept in memory only, and when it ends.
// A restart signs everyone out.
type sessions struct {
	mu  sync.Mutex
	ids map[string]time.Time
	now func() time.Time
}

// start makes a new session and returns its id.
func (s *sessions) start() (string, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, end := range s.ids {
		if !now.Before(end) {
			delete(s.ids, k)
		}
	}
	s.ids[id] = now.Add(sessionTTL)
	return id, nil
}

// valid reports whether id is a live session.
func (s *sessions) valid(id string) bool {
	if id == "" {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	end, ok := s.ids[id]
	return ok && s.now().Before(end)
}

// end signs a session out.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.ids, id)
}

// signedIn reports whether r carries a live session cookie.
func (h *handler) signedIn(r *http.Request) bool {
	c, err := r.Cookie(cookieName)
	return err == nil && h.sessions.valid(c.Value)
}

// tokenMatches compares a pasted token with the API token in constant time.
func (h *handler) tokenMatches(tok string) bool {
	return len(h.token) > 0 && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), h.token) == 1
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

// sameOrigin reports whether a state-changing request came from a page of this dashboard:
// its Origin header (which browsers send on every POST) names the host the request was
// sent to. A request without Origin is refused.
func sameOrigin(r *http.Request) bool {
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

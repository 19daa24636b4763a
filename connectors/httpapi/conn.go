package httpapi

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// DefaultReadTimeout is how long a request body may take to arrive, by default.
const DefaultReadTimeout = 30 * time.Second

// DefaultMaxUnauthenticatedReads is how many request bodies from unauthenticated callers
// (catch hooks) are read at once, by default.
const DefaultMaxUnauthenticatedReads = 256

// How connections are kept from holding the server (see README, "Connections"):
//
//   - A request body must arrive within the read timeout: guardBody sets a read deadline
//     on the connection when the handler starts and clears it when the body has been read
//     to its end, so that a long answer (an MCP await streamed for minutes) is not cut.
//     A body cut off this way is answered 408.
//   - An answer written before the body was read to its end (a 401 for a missing token, a
//     404, a 503) closes the connection and abandons the rest of the body, instead of
//     net/http waiting for it to be discarded.
//   - Unauthenticated bodies (the catch hooks) are read at most maxUnauth at a time; past
//     that the caller is answered 503 with Retry-After straight away.
//
// Together these bound what a stranger can hold: at most maxUnauth connections, each for
// at most the read timeout; everything else a stranger opens is answered and closed.

// guardBody is the first middleware of every route: it bounds the time the request body
// may take (see above) and closes the connection after an answer that left the body unread.
func (s *server) guardBody(c *gin.Context) {
	r := c.Request
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		c.Next()
		return
	}
	rc := http.NewResponseController(c.Writer)
	// Not every ResponseWriter can set deadlines (httptest.ResponseRecorder); then the
	// body is simply not timed.
	_ = rc.SetReadDeadline(time.Now().Add(s.readTimeout))
	b := &timedBody{ReadCloser: r.Body, rc: rc}
	r.Body = b
	c.Writer = &closingWriter{ResponseWriter: c.Writer, body: b}
	c.Next()
}

// timedBody is a request body read under a deadline; reaching its end lifts the deadline.
type timedBody struct {
	io.ReadCloser
	rc *http.ResponseController
	// ended is set when the body was read to its end, or abandoned: either way nothing more
	// will be waited for.
	ended atomic.Bool
}

// Read reads the body. At its end it clears the read deadline, so that a long answer (an
// MCP await) is not cut: the connection's background read, which net/http starts once the
// body is consumed, would cancel the request context on hitting it. (net/http clears it
// too when it starts that read; this doesn't rely on it.) After any other error (the
// deadline passed) the deadline stays: the answer will close the connection (see abandon).
func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) && !b.ended.Swap(true) {
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// abandon gives up on the unread rest of the body, if any: the answer closes the connection
// (Connection: close) and the read deadline moves to now, so that net/http, which drains
// a request body before it closes, doesn't wait for bytes that may never come.
func (b *timedBody) abandon(h http.Header) {
	if b.ended.Swap(true) {
		return
	}
	h.Set("Connection", "close")
	_ = b.rc.SetReadDeadline(time.Now())
}

// closingWriter abandons the request body when the answer starts before the body was read.
type closingWriter struct {
	gin.ResponseWriter
	body *timedBody
}

// WriteHeader starts the answer.
func (w *closingWriter) WriteHeader(code int) {
	w.body.abandon(w.Header())
	w.ResponseWriter.WriteHeader(code)
}

// WriteHeaderNow writes the status line and headers.
func (w *closingWriter) WriteHeaderNow() {
	w.body.abandon(w.Header())
	w.ResponseWriter.WriteHeaderNow()
}

// Write writes part of the answer's body.
func (w *closingWriter) Write(p []byte) (int, error) {
	w.body.abandon(w.Header())
	return w.ResponseWriter.Write(p)
}

// WriteString writes part of the answer's body.
func (w *closingWriter) WriteString(s string) (int, error) {
	w.body.abandon(w.Header())
	return w.ResponseWriter.WriteString(s)
}

// Unwrap gives http.ResponseController the underlying writer.
func (w *closingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// isTimeout reports whether a body read failed because the read deadline passed.
func isTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded)
}

// slots is a counting semaphore that never waits: a full one refuses.
type slots chan struct{}

// tryAcquire takes a slot if one is free and returns its release function.
func (s slots) tryAcquire() (release func(), ok bool) {
	select {
	case s <- struct{}{}:
		var once atomic.Bool
		return func() {
			if !once.Swap(true) {
				<-s
			}
		}, true
	default:
		return nil, false
	}
}

// readUnauthenticatedBody reads the body of a request that carries no API token (a catch
// hook) in one of the server's unauthenticated slots; when all are taken it answers 503
// with Retry-After instead of reading.
func (s *server) readUnauthenticatedBody(c *gin.Context) ([]byte, error) {
	release, ok := s.unauth.tryAcquire()
	if !ok {
		c.Header("Retry-After", "1")
		return nil, fail(http.StatusServiceUnavailable, CodeUnavailable, "", "too many unauthenticated requests are being read at once; retry shortly")
	}
	defer release()
	return s.readBody(c)
}

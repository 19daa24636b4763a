package mcp

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// HTTPOptions configures HTTPHandler.
type HTTPOptions struct {
	// KeepAlive is the longest a response stream stays silent: a call still running after
	// it (an await_event) is answered as an SSE stream, and an SSE comment line is sent every
	// KeepAlive until the result, so that proxies and clients that cut idle connections
	// don't. The listening GET stream gets mcp-go's heartbeat at the same interval.
	// Default 10 s.
	KeepAlive time.Duration
	// SessionIdleTTL is how long a session may go without a request before it is forgotten
	// (a client that never sends DELETE); default 30 min, longer than the longest await.
	SessionIdleTTL time.Duration
	// Logger receives the transport's warnings and errors (its per-session notes, such as
	// each expired session, are left out); default slog.Default().
	Logger *slog.Logger
}

// DefaultKeepAlive and DefaultSessionIdleTTL are HTTPOptions' defaults.
const (
	DefaultKeepAlive      = 10 * time.Second
	DefaultSessionIdleTTL = 30 * time.Minute
)

// HTTPHandler serves s over Streamable HTTP with what real clients and proxies need: idle
// sessions expire, a long call's response is kept alive (KeepAlive), and a cancelled call
// gets no response (DropCancelledResponses, so that it also drops a response KeepAlive
// turned into an SSE event). When s offers MCP Events (NewServer got a gateway that has
// them), the events/* requests are answered in front of all that (see events.go).
func HTTPHandler(s *server.MCPServer, o HTTPOptions) http.Handler {
	if o.KeepAlive <= 0 {
		o.KeepAlive = DefaultKeepAlive
	}
	if o.SessionIdleTTL <= 0 {
		o.SessionIdleTTL = DefaultSessionIdleTTL
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	h := server.NewStreamableHTTPServer(s,
		server.WithHeartbeatInterval(o.KeepAlive),
		server.WithSessionIdleTTL(o.SessionIdleTTL),
		server.WithStreamableHTTPLogger(slog.New(warnOnly{o.Logger.Handler()})),
	)
	out := DropCancelledResponses(KeepAlive(h, o.KeepAlive))
	if r := routerOf(s); r != nil {
		out = eventsHandler(out, r, min(o.KeepAlive, DefaultHeartbeat))
	}
	return out
}

// KeepAlive wraps the Streamable HTTP handler so that the response to a POST is never
// silent for longer than interval when the client accepts text/event-stream (as every
// Streamable HTTP client must). mcp-go sends a plain JSON response, and nothing at all
// until it is ready, unless the call sends a notification (await_event's progress, when
// the client gave a progress token). When the handler has written nothing after
// interval, KeepAlive starts the response as an SSE stream itself and sends a comment
// line (": keep-alive") every interval until the handler is done; a JSON answer written
// after that goes out as the stream's "message" event, as a Streamable HTTP client reads
// it. When the handler streams SSE itself, the comments go between its events.
func KeepAlive(h http.Handler, interval time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			h.ServeHTTP(w, r)
			return
		}
		kw := &keepAliveWriter{w: w, header: http.Header{}}
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-r.Context().Done():
					return
				case <-t.C:
					kw.tick()
				}
			}
		}()
		h.ServeHTTP(kw, r)
		close(stop)
		<-done
		kw.finish()
	})
}

// keepAliveWriter is the handler's ResponseWriter under KeepAlive. The handler's headers
// are its own (copied out when it starts the response), so that the ticker can start the
// stream while the handler still sets them.
type keepAliveWriter struct {
	w      http.ResponseWriter
	header http.Header // the handler's

	mu       sync.Mutex
	started  bool         // the status line has gone out (the handler's or ours)
	upgraded bool         // we started it, as SSE
	sse      bool         // what the handler writes is SSE
	pending  bytes.Buffer // a JSON answer written after we upgraded: sent as an event at the end
}

func (k *keepAliveWriter) Header() http.Header { return k.header }

// sse reports whether the handler's headers say it writes an event stream.
func (k *keepAliveWriter) handlerSSE() bool {
	return strings.HasPrefix(k.header.Get("Content-Type"), "text/event-stream")
}

func (k *keepAliveWriter) WriteHeader(code int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.writeHeader(code)
}

// writeHeader starts the response for the handler, unless it has started. Callers hold k.mu.
func (k *keepAliveWriter) writeHeader(code int) {
	k.sse = k.handlerSSE()
	if k.started {
		return
	}
	k.started = true
	for key, v := range k.header {
		k.w.Header()[key] = v
	}
	k.w.WriteHeader(code)
}

func (k *keepAliveWriter) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.started {
		k.writeHeader(http.StatusOK)
	}
	if k.upgraded && !k.handlerSSE() {
		return k.pending.Write(p)
	}
	return k.w.Write(p)
}

// Flush sends what was written so far (SSE events as they are written).
func (k *keepAliveWriter) Flush() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.flush()
}

func (k *keepAliveWriter) flush() {
	if f, ok := k.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer.
func (k *keepAliveWriter) Unwrap() http.ResponseWriter { return k.w }

// tick keeps the response alive: it starts it as an SSE stream if nothing was written yet,
// then sends a comment line, unless the handler is writing a plain (non-SSE) body.
func (k *keepAliveWriter) tick() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.started {
		h := k.w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		k.w.WriteHeader(http.StatusOK)
		k.started, k.upgraded = true, true
	}
	if !k.upgraded && !k.sse {
		return
	}
	if _, err := k.w.Write([]byte(": keep-alive\n\n")); err != nil {
		return
	}
	k.flush()
}

// finish sends a JSON answer held back because the stream had been started as SSE: as the
// stream's message event.
func (k *keepAliveWriter) finish() {
	k.mu.Lock()
	defer k.mu.Unlock()
	body := bytes.TrimSpace(k.pending.Bytes())
	if len(body) == 0 {
		return
	}
	var ev bytes.Buffer
	ev.WriteString("event: message\n")
	for _, line := range bytes.Split(body, []byte("\n")) {
		ev.WriteString("data: ")
		ev.Write(line)
		ev.WriteByte('\n')
	}
	ev.WriteByte('\n')
	if _, err := k.w.Write(ev.Bytes()); err == nil {
		k.flush()
	}
}

// warnOnly passes on records at Warn and above.
type warnOnly struct{ slog.Handler }

func (w warnOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && w.Handler.Enabled(ctx, l)
}
func (w warnOnly) WithAttrs(as []slog.Attr) slog.Handler { return warnOnly{w.Handler.WithAttrs(as)} }
func (w warnOnly) WithGroup(g string) slog.Handler       { return warnOnly{w.Handler.WithGroup(g)} }

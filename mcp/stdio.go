package mcp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"sync"

	"github.com/mark3labs/mcp-go/server"
)

// ServeStdio serves s over in and out (a client's stdin and stdout) until ctx ends or in
// closes. A call the client cancels (notifications/cancelled) gets no response, as the
// protocol asks: mcp-go cancels the handler's context but still writes its result, so
// ServeStdio notes the cancelled request ids as it reads them and drops those responses
// when they are written. A response already written when the cancellation arrives has
// gone; the client ignores it.
//
// A server made by NewStdioServer from a server that offers MCP Events gets its events/*
// requests answered here, in front of mcp-go, each on its own goroutine (a subscribe waits
// for the callback's challenge), the answers written between mcp-go's whole messages.
func ServeStdio(ctx context.Context, s *server.StdioServer, in io.Reader, out io.Writer) error {
	f := &cancelFilter{cancelled: map[string]bool{}}
	w := &lockedWriter{w: out}
	if r := routerOf(s); r != nil {
		in = &eventsReader{ctx: ctx, r: bufio.NewReaderSize(in, 64<<10), router: r, out: w}
	}
	return s.Listen(ctx, &cancelReader{r: in, f: f}, &cancelWriter{w: w, f: f})
}

// NewStdioServer is server.NewStdioServer(s) that ServeStdio knows to answer MCP Events
// for, when s offers them.
func NewStdioServer(s *server.MCPServer) *server.StdioServer {
	ss := server.NewStdioServer(s)
	if r := routerOf(s); r != nil {
		eventsOf.Store(ss, r)
	}
	return ss
}

// lockedWriter writes each message whole, whoever writes it: mcp-go's stdio server, or an
// events/* answer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// eventsReader passes the client's lines on to mcp-go, except the events/* requests, which
// it answers itself: an events/stream runs until the client cancels it
// (notifications/cancelled, which mcp-go sees too).
type eventsReader struct {
	ctx     context.Context
	r       *bufio.Reader
	router  *eventsRouter
	out     io.Writer
	pending []byte // the rest of a line being passed on

	mu      sync.Mutex
	streams map[string]context.CancelFunc // open events/stream requests, by compact id
}

func (e *eventsReader) Read(p []byte) (int, error) {
	for len(e.pending) == 0 {
		line, err := e.r.ReadBytes('\n')
		if len(line) > 0 && !e.answer(line) {
			e.pending = line
			break
		}
		if err != nil {
			return 0, err
		}
	}
	n := copy(p, e.pending)
	e.pending = e.pending[n:]
	return n, nil
}

// answer reports whether line is an events/* request, answering it on its own goroutine.
func (e *eventsReader) answer(line []byte) bool {
	if !bytes.Contains(line, []byte(`"events/`)) {
		e.cancelStream(line)
		return false
	}
	var msg rpcRequest
	if json.Unmarshal(line, &msg) != nil || !isEventsMethod(msg.Method) {
		return false
	}
	if msg.Method == "events/stream" && len(msg.ID) > 0 {
		go e.stream(&msg)
		return true
	}
	go func() {
		if resp := e.router.handle(e.ctx, &msg); resp != nil {
			_, _ = e.out.Write(append(resp, '\n'))
		}
	}()
	return true
}

// maxCancelled bounds the cancelled ids kept for a response not yet written: one whose
// response had gone before the cancellation would otherwise stay forever.
const maxCancelled = 1024

// cancelFilter holds the ids (as compact JSON) of the requests the client cancelled.
type cancelFilter struct {
	mu        sync.Mutex
	cancelled map[string]bool
	order     []string
}

func (f *cancelFilter) add(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancelled[id] {
		return
	}
	if len(f.order) == maxCancelled {
		delete(f.cancelled, f.order[0])
		f.order = f.order[1:]
	}
	f.cancelled[id] = true
	f.order = append(f.order, id)
}

// pending reports whether any cancelled request awaits its response.
func (f *cancelFilter) pending() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.cancelled) > 0
}

// take reports whether id was cancelled, forgetting it.
func (f *cancelFilter) take(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.cancelled[id] {
		return false
	}
	delete(f.cancelled, id)
	for i, o := range f.order {
		if o == id {
			f.order = append(f.order[:i], f.order[i+1:]...)
			break
		}
	}
	return true
}

// compactID is a JSON id in a form that compares equal however it was spaced.
func compactID(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// maxWatchedLine is how much of an incoming line cancelReader keeps to look at: a
// cancellation is short, and longer lines (a large publish_event) are passed on unread.
const maxWatchedLine = 4 << 10

// cancelReader passes the client's messages on unchanged, noting each cancellation before
// the server can read it, so that the note is there when the cancelled handler returns.
type cancelReader struct {
	r    io.Reader
	f    *cancelFilter
	line []byte
	long bool // the current line is over maxWatchedLine: skip to its end
}

func (c *cancelReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for rest := p[:n]; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		part := rest
		if i >= 0 {
			part = rest[:i]
		}
		if !c.long {
			if len(c.line)+len(part) > maxWatchedLine {
				c.long, c.line = true, c.line[:0]
			} else {
				c.line = append(c.line, part...)
			}
		}
		if i < 0 {
			break
		}
		if !c.long {
			c.observe(c.line)
		}
		c.line, c.long, rest = c.line[:0], false, rest[i+1:]
	}
	return n, err
}

func (c *cancelReader) observe(line []byte) {
	if id, ok := cancelledID(line); ok {
		c.f.add(id)
	}
}

// cancelledID returns the request id (compact) that a notifications/cancelled line names.
func cancelledID(line []byte) (string, bool) {
	if !bytes.Contains(line, []byte("notifications/cancelled")) {
		return "", false
	}
	var msg struct {
		Method string `json:"method"`
		Params struct {
			RequestID json.RawMessage `json:"requestId"`
		} `json:"params"`
	}
	if json.Unmarshal(line, &msg) != nil || msg.Method != "notifications/cancelled" || len(msg.Params.RequestID) == 0 {
		return "", false
	}
	return compactID(msg.Params.RequestID), true
}

// cancelWriter writes the server's messages (one per Write, as mcp-go's stdio server
// does), dropping the response to a cancelled request.
type cancelWriter struct {
	w io.Writer
	f *cancelFilter
}

func (c *cancelWriter) Write(p []byte) (int, error) {
	if !c.f.pending() {
		return c.w.Write(p)
	}
	var msg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
	}
	if json.Unmarshal(p, &msg) == nil && msg.Method == "" && len(msg.ID) > 0 && c.f.take(compactID(msg.ID)) {
		return len(p), nil
	}
	return c.w.Write(p)
}

// stream runs an events/stream until the client cancels it or the server stops.
func (e *eventsReader) stream(msg *rpcRequest) {
	write := func(b []byte) error {
		_, err := e.out.Write(append(b, '\n'))
		return err
	}
	st, rerr := e.router.openStream(e.ctx, msg)
	if rerr != nil {
		_ = write(errorResponse(msg.ID, rerr))
		return
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	id := compactID(msg.ID)
	e.mu.Lock()
	if e.streams == nil {
		e.streams = map[string]context.CancelFunc{}
	}
	e.streams[id] = cancel
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.streams, id)
		e.mu.Unlock()
	}()
	st.run(ctx, DefaultHeartbeat, write)
}

// cancelStream ends the stream a notifications/cancelled line names, if it is one.
func (e *eventsReader) cancelStream(line []byte) {
	id, ok := cancelledID(line)
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if cancel, ok := e.streams[id]; ok {
		cancel()
	}
}

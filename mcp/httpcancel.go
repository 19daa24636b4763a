package mcp

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// DropCancelledResponses wraps the Streamable HTTP handler (server.NewStreamableHTTPServer)
// so that a call the client cancels gets no response, as the protocol asks. mcp-go cancels
// the handler's context on notifications/cancelled but still sends its result on the call's
// stream. The wrapper notes each cancellation (per Mcp-Session-Id) before mcp-go sees it,
// and drops the response to that request when it is written: the SSE event is left out, or,
// when the answer would have been a plain JSON body, the POST gets 202 Accepted and no body.
func DropCancelledResponses(h http.Handler) http.Handler {
	f := &cancelFilter{cancelled: map[string]bool{}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			h.ServeHTTP(w, r)
			return
		}
		session := r.Header.Get("Mcp-Session-Id")
		// A cancellation is short: look at the start of the body, then hand all of it on.
		head := make([]byte, maxWatchedLine+1)
		n, err := io.ReadFull(r.Body, head)
		head = head[:n]
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			http.Error(w, "reading the request: "+err.Error(), http.StatusBadRequest)
			return
		}
		if n <= maxWatchedLine {
			for _, id := range cancelledIDs(head) {
				f.add(session + "\x00" + id)
			}
		}
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
		cw := &cancelResponseWriter{ResponseWriter: w, f: f, session: session}
		h.ServeHTTP(cw, r)
		cw.writeHeader()
	})
}

// cancelledIDs returns the request ids a message (or batch) cancels, as compact JSON.
func cancelledIDs(body []byte) []string {
	if !bytes.Contains(body, []byte("notifications/cancelled")) {
		return nil
	}
	type cancel struct {
		Method string `json:"method"`
		Params struct {
			RequestID json.RawMessage `json:"requestId"`
		} `json:"params"`
	}
	var msgs []cancel
	if body = bytes.TrimSpace(body); len(body) > 0 && body[0] == '[' {
		if json.Unmarshal(body, &msgs) != nil {
			return nil
		}
	} else {
		var m cancel
		if json.Unmarshal(body, &m) != nil {
			return nil
		}
		msgs = []cancel{m}
	}
	var ids []string
	for _, m := range msgs {
		if m.Method == "notifications/cancelled" && len(m.Params.RequestID) > 0 {
			ids = append(ids, compactID(m.Params.RequestID))
		}
	}
	return ids
}

// cancelResponseWriter holds the status back until the first write, so that a plain JSON
// response to a cancelled request can become 202 with no body, and leaves out the SSE
// event or JSON body that answers a cancelled request.
type cancelResponseWriter struct {
	http.ResponseWriter
	f       *cancelFilter
	session string
	status  int  // held back by WriteHeader
	wrote   bool // the status has gone out
}

func (c *cancelResponseWriter) WriteHeader(code int) {
	if c.wrote || c.status != 0 {
		return
	}
	c.status = code
}

// writeHeader sends the held-back status, if any.
func (c *cancelResponseWriter) writeHeader() {
	if c.wrote {
		return
	}
	c.wrote = true
	if c.status != 0 {
		c.ResponseWriter.WriteHeader(c.status)
	}
}

func (c *cancelResponseWriter) Write(p []byte) (int, error) {
	if c.f.pending() {
		sse := bytes.HasPrefix(p, []byte("event: message\ndata: "))
		msg := p
		if sse {
			msg = bytes.TrimPrefix(p, []byte("event: message\ndata: "))
		}
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
		}
		if json.Unmarshal(bytes.TrimSpace(msg), &m) == nil && m.Method == "" && len(m.ID) > 0 && c.f.take(c.session+"\x00"+compactID(m.ID)) {
			if !sse && !c.wrote {
				c.Header().Del("Content-Type")
				c.status = http.StatusAccepted
			}
			return len(p), nil
		}
	}
	c.writeHeader()
	return c.ResponseWriter.Write(p)
}

// Flush sends what was written so far (SSE events as they are written).
func (c *cancelResponseWriter) Flush() {
	c.writeHeader()
	if fl, ok := c.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

// Unwrap gives http.ResponseController the underlying writer (write deadlines).
func (c *cancelResponseWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

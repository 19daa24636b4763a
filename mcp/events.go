package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/mark3labs/mcp-go/server"
)

// MCP Events (SEP-3415, extension io.modelcontextprotocol/events, protocol 2026-07-28):
// a host lists hookgate's event types (events/list), subscribes a callback URL to one of
// them with arguments (events/subscribe, webhook mode), refreshes before refreshBefore,
// and unsubscribes (events/unsubscribe); or polls (events/poll). mcp-go has no hook for
// custom methods, so these requests are answered in front of its handler (eventsHandler
// for Streamable HTTP, the stdio reader for stdio); the extension is advertised in the
// capabilities of initialize and server/discover under extensions (as the SEP says), and
// in server/discover's also as a top-level "events" (as ChatGPT reads it).
//
// Push (events/stream) is served too (eventstream.go): as an SSE response over Streamable
// HTTP, as notifications on stdout over stdio.

// EventsExtension is the identifier of the MCP Events extension.
const EventsExtension = "io.modelcontextprotocol/events"

// The extension's error codes (SEP-3415, Error Handling), and JSON-RPC's own.
const (
	codeInvalidParams         = -32602
	codeInternal              = -32603
	codeNotFound              = -32023
	codeForbidden             = -32024
	codeResourceExhausted     = -32025
	codeUnsupported           = -32026
	codeCallbackEndpointError = -32027
)

// nextPollMs is the interval events/poll recommends when nothing more is waiting.
const nextPollMs = 5000

// Events is what MCP Events needs from the gateway. *gateway.Service has it; a Gateway that
// lacks it (*httpapi.Client) serves MCP without the extension.
type Events interface {
	EventDescriptors(ctx context.Context) ([]gateway.EventDescriptor, error)
	Subscribe(ctx context.Context, in gateway.SubscribeInput) (*gateway.SubscriptionResult, error)
	EndSubscription(ctx context.Context, name string, args map[string]any, url string) error
	Poll(ctx context.Context, in gateway.PollInput) (*gateway.PollResult, error)
}

var _ Events = (*gateway.Service)(nil)

// eventsOf remembers, for each server NewServer (or NewStdioServer) made, the gateway that
// answers its events/* requests, so that the transports route to the one the server
// advertises.
var eventsOf sync.Map // *server.MCPServer or *server.StdioServer → *eventsRouter

// routerOf returns the events router of s, nil when s offers no MCP Events.
func routerOf[S *server.MCPServer | *server.StdioServer](s S) *eventsRouter {
	r, _ := eventsOf.Load(s)
	er, _ := r.(*eventsRouter)
	return er
}

// eventsRouter answers the events/* requests.
type eventsRouter struct {
	ev  Events
	log *slog.Logger
}

// rpcRequest is one JSON-RPC message as the router reads it.
type rpcRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method"`
	Params  json.RawMessage `json:"params,omitempty"`
}

// rpcError is a JSON-RPC error object.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

// isEventsMethod reports whether method is one the router answers.
func isEventsMethod(method string) bool {
	return strings.HasPrefix(method, "events/")
}

// handle answers one events/* request and returns the response, or nil for a notification.
func (r *eventsRouter) handle(ctx context.Context, req *rpcRequest) []byte {
	result, rerr := r.dispatch(ctx, req)
	if len(req.ID) == 0 {
		return nil
	}
	resp := map[string]any{"jsonrpc": "2.0", "id": req.ID}
	if rerr != nil {
		resp["error"] = rerr
	} else {
		resp["result"] = result
	}
	b, err := json.Marshal(resp)
	if err != nil {
		r.log.Error("MCP Events: encode a response", "method", req.Method, "err", err)
		b = errorResponse(req.ID, &rpcError{Code: codeInternal, Message: "internal error"})
	}
	return b
}

// errorResponse is the JSON-RPC response carrying e to the request with id.
func errorResponse(id json.RawMessage, e *rpcError) []byte {
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "error": e}) // an id read from JSON and an error of strings and numbers
	return b
}

func (r *eventsRouter) dispatch(ctx context.Context, req *rpcRequest) (any, *rpcError) {
	switch req.Method {
	case "events/list":
		return r.list(ctx)
	case "events/subscribe":
		return r.subscribe(ctx, req.Params)
	case "events/unsubscribe":
		return r.unsubscribe(ctx, req.Params)
	case "events/poll":
		return r.poll(ctx, req.Params)
	case "events/stream":
		// Reached only where no stream can be held: an HTTP request that does not accept
		// text/event-stream.
		return nil, &rpcError{Code: codeUnsupported, Message: "Unsupported: events/stream needs a response stream (Accept: text/event-stream)",
			Data: map[string]string{"feature": "deliveryMode", "value": "push"}}
	default:
		return nil, &rpcError{Code: -32601, Message: "Method " + req.Method + " not found"}
	}
}

// list answers events/list: every catalog and custom event type.
func (r *eventsRouter) list(ctx context.Context) (any, *rpcError) {
	ds, err := r.ev.EventDescriptors(ctx)
	if err != nil {
		return nil, r.fail("events/list", err)
	}
	events := make([]map[string]any, 0, len(ds))
	for _, d := range ds {
		events = append(events, map[string]any{
			"name":          d.Name,
			"description":   d.Description,
			"delivery":      []string{"webhook", "poll", "push"},
			"inputSchema":   d.InputSchema,
			"payloadSchema": d.PayloadSchema,
		})
	}
	return map[string]any{"resultType": "complete", "events": events}, nil
}

// subscriptionParams are the params of events/subscribe, events/unsubscribe and events/poll.
type subscriptionParams struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
	Delivery  struct {
		Mode   string `json:"mode"`
		URL    string `json:"url"`
		Secret string `json:"secret"`
	} `json:"delivery"`
	Cursor    *string `json:"cursor"`
	MaxAgeMs  int64   `json:"maxAgeMs"`
	MaxEvents int     `json:"maxEvents"`
	// TTLMs is events/subscribe's ttlMs as sent: empty when absent, null for no expiry.
	TTLMs json.RawMessage `json:"ttlMs"`
}

// decodeParams reads params into p and the subscription arguments.
func decodeParams(raw json.RawMessage, p *subscriptionParams) (map[string]any, *rpcError) {
	if len(raw) == 0 {
		raw = json.RawMessage(`{}`)
	}
	if err := json.Unmarshal(raw, p); err != nil {
		return nil, &rpcError{Code: codeInvalidParams, Message: "Invalid params: " + err.Error()}
	}
	if p.Name == "" {
		return nil, &rpcError{Code: codeInvalidParams, Message: "Invalid params: name is required", Data: map[string]string{"field": "name"}}
	}
	args, err := gateway.DecodeArguments(p.Arguments)
	if err != nil {
		return nil, invalidParams(err)
	}
	return args, nil
}

// subscribe answers events/subscribe (webhook mode).
func (r *eventsRouter) subscribe(ctx context.Context, raw json.RawMessage) (any, *rpcError) {
	var p subscriptionParams
	args, rerr := decodeParams(raw, &p)
	if rerr != nil {
		return nil, rerr
	}
	if p.Delivery.Mode != "webhook" {
		return nil, &rpcError{Code: codeUnsupported, Message: "Unsupported: events/subscribe takes delivery.mode webhook (poll with events/poll)",
			Data: map[string]string{"feature": "deliveryMode", "value": p.Delivery.Mode}}
	}
	in := gateway.SubscribeInput{Name: p.Name, Arguments: args, URL: p.Delivery.URL, Secret: p.Delivery.Secret, Cursor: p.Cursor, MaxAge: maxAge(p.MaxAgeMs)}
	switch ttl := string(p.TTLMs); ttl {
	case "":
	case "null":
		in.NoExpiry = true
	default:
		ms, err := strconv.ParseInt(ttl, 10, 64)
		if err != nil || ms <= 0 {
			return nil, &rpcError{Code: codeInvalidParams, Message: "Invalid params: ttlMs must be a positive number of milliseconds, or null", Data: map[string]string{"field": "ttlMs"}}
		}
		in.TTL = time.Duration(min(ms, int64(gateway.MaxSubscriptionTTL/time.Millisecond))) * time.Millisecond
	}
	res, err := r.ev.Subscribe(ctx, in)
	if err != nil {
		return nil, r.fail("events/subscribe", err)
	}
	out := map[string]any{
		"resultType":    "complete",
		"id":            res.ID,
		"refreshBefore": res.RefreshBefore.UTC().Format(time.RFC3339),
		"cursor":        res.Cursor,
		"truncated":     res.Truncated,
	}
	if res.Refreshed {
		out["deliveryStatus"] = map[string]any{"active": res.Active}
	}
	return out, nil
}

// unsubscribe answers events/unsubscribe: idempotent, so an unknown subscription is gone
// already and answers the same empty result.
func (r *eventsRouter) unsubscribe(ctx context.Context, raw json.RawMessage) (any, *rpcError) {
	var p subscriptionParams
	args, rerr := decodeParams(raw, &p)
	if rerr != nil {
		return nil, rerr
	}
	if p.Delivery.URL == "" {
		return nil, &rpcError{Code: codeInvalidParams, Message: "Invalid params: delivery.url is required", Data: map[string]string{"field": "delivery.url"}}
	}
	if err := r.ev.EndSubscription(ctx, p.Name, args, p.Delivery.URL); err != nil {
		return nil, r.fail("events/unsubscribe", err)
	}
	return map[string]any{"resultType": "complete"}, nil
}

// poll answers events/poll.
func (r *eventsRouter) poll(ctx context.Context, raw json.RawMessage) (any, *rpcError) {
	var p subscriptionParams
	args, rerr := decodeParams(raw, &p)
	if rerr != nil {
		return nil, rerr
	}
	res, err := r.ev.Poll(ctx, gateway.PollInput{Name: p.Name, Arguments: args, Cursor: p.Cursor, MaxAge: maxAge(p.MaxAgeMs), MaxEvents: p.MaxEvents})
	if err != nil {
		return nil, r.fail("events/poll", err)
	}
	events := make([]gateway.Occurrence, 0, len(res.Events))
	for _, ev := range res.Events {
		events = append(events, gateway.OccurrenceOf(&ev.Event, 0))
	}
	out := map[string]any{"resultType": "complete", "events": events, "cursor": res.Cursor, "truncated": res.Truncated, "hasMore": res.HasMore}
	if !res.HasMore {
		out["nextPollMs"] = nextPollMs
	}
	return out, nil
}

// maxAge is a maxAgeMs as a duration (0, none, when not positive).
func maxAge(ms int64) time.Duration {
	if ms <= 0 {
		return 0
	}
	return time.Duration(min(ms, int64(365*24*time.Hour/time.Millisecond))) * time.Millisecond
}

// fail turns a gateway error into the extension's error.
func (r *eventsRouter) fail(method string, err error) *rpcError {
	var (
		ve *gateway.ValidationError
		ce *gateway.CallbackError
		fe *gateway.ForbiddenError
	)
	switch {
	case errors.As(err, &ve):
		return invalidParams(err)
	case errors.As(err, &ce):
		return &rpcError{Code: codeCallbackEndpointError, Message: "Callback endpoint error: " + ce.Reason, Data: map[string]string{"reason": ce.Reason}}
	case errors.Is(err, gateway.ErrNotFound):
		return &rpcError{Code: codeNotFound, Message: "Not found: " + err.Error(), Data: map[string]string{"kind": "event"}}
	case errors.As(err, &fe):
		return &rpcError{Code: codeForbidden, Message: "Forbidden: " + err.Error()}
	case errors.Is(err, gateway.ErrTooManySubscriptions):
		return &rpcError{Code: codeResourceExhausted, Message: "Resource exhausted: " + err.Error(),
			Data: map[string]any{"limit": "subscriptions", "max": gateway.MaxSubscriptionsPerPrincipal}}
	}
	r.log.Error("MCP Events: request failed", "method", method, "err", err)
	return &rpcError{Code: codeInternal, Message: "internal error: " + err.Error()}
}

// invalidParams is InvalidParams naming the field a *gateway.ValidationError names.
func invalidParams(err error) *rpcError {
	e := &rpcError{Code: codeInvalidParams, Message: "Invalid params: " + err.Error()}
	var ve *gateway.ValidationError
	if errors.As(err, &ve) && ve.Field != "" {
		e.Data = map[string]string{"field": ve.Field}
	}
	return e
}

// maxEventsRequest bounds the body of a request the events handler reads.
const maxEventsRequest = 1 << 20

// eventsHandler answers events/* requests POSTed to the MCP endpoint and passes everything
// else on to h; the capabilities of a server/discover answer gain the top-level "events"
// that ChatGPT reads (the SEP's extensions entry, in initialize too, comes from mcp-go).
func eventsHandler(h http.Handler, r *eventsRouter, heartbeat time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost {
			h.ServeHTTP(w, req)
			return
		}
		raw, err := io.ReadAll(io.LimitReader(req.Body, maxEventsRequest+1))
		if err != nil {
			http.Error(w, "read the request: "+err.Error(), http.StatusBadRequest)
			return
		}
		var msg rpcRequest
		if len(raw) > maxEventsRequest || !mayBeOurs(raw) || json.Unmarshal(raw, &msg) != nil {
			// Too large to be ours, another method, a batch, or not JSON: mcp-go answers
			// it, whole.
			req.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(raw), req.Body), req.Body}
			h.ServeHTTP(w, req)
			return
		}
		req.Body = io.NopCloser(bytes.NewReader(raw))
		switch {
		case msg.Method == "events/stream" && len(msg.ID) > 0 && strings.Contains(req.Header.Get("Accept"), "text/event-stream"):
			serveStream(w, req, r, &msg, heartbeat)
		case isEventsMethod(msg.Method):
			resp := r.handle(req.Context(), &msg)
			if resp == nil {
				w.WriteHeader(http.StatusAccepted)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(resp)
		case msg.Method == "server/discover":
			advertiseEvents(h, w, req)
		default:
			h.ServeHTTP(w, req)
		}
	})
}

// serveStream answers an events/stream request with an SSE stream of its notifications,
// until the client goes away.
func serveStream(w http.ResponseWriter, req *http.Request, r *eventsRouter, msg *rpcRequest, heartbeat time.Duration) {
	st, rerr := r.openStream(req.Context(), msg)
	if rerr != nil {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(errorResponse(msg.ID, rerr))
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	st.run(req.Context(), heartbeat, func(b []byte) error {
		if _, err := fmt.Fprintf(w, "event: message\ndata: %s\n\n", b); err != nil {
			return err
		}
		return rc.Flush()
	})
}

// mayBeOurs reports whether a request body may be one the events handler answers or
// rewrites, so that every other request (each session's initialize, tool calls) is passed
// on without being decoded twice.
func mayBeOurs(raw []byte) bool {
	return bytes.Contains(raw, []byte(`"events/`)) || bytes.Contains(raw, []byte(`"server/discover"`))
}

// advertiseEvents serves req with h and adds "events": {} to the capabilities of its
// JSON answer (a plain JSON body, or the data lines of an SSE one).
func advertiseEvents(h http.Handler, w http.ResponseWriter, req *http.Request) {
	rec := &bufferedWriter{header: http.Header{}, code: http.StatusOK}
	h.ServeHTTP(rec, req)
	body := rec.body.Bytes()
	if strings.HasPrefix(rec.header.Get("Content-Type"), "text/event-stream") {
		lines := bytes.Split(body, []byte("\n"))
		for i, line := range lines {
			if rest, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
				lines[i] = append([]byte("data: "), withEventsCapability(rest)...)
			}
		}
		body = bytes.Join(lines, []byte("\n"))
	} else {
		body = withEventsCapability(body)
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.code)
	_, _ = w.Write(body)
}

// withEventsCapability adds "events": {} to result.capabilities of a JSON-RPC response;
// anything else comes back as it was.
func withEventsCapability(b []byte) []byte {
	var resp map[string]json.RawMessage
	if json.Unmarshal(b, &resp) != nil || resp["result"] == nil {
		return b
	}
	var result map[string]json.RawMessage
	if json.Unmarshal(resp["result"], &result) != nil || result["capabilities"] == nil {
		return b
	}
	var caps map[string]json.RawMessage
	if json.Unmarshal(result["capabilities"], &caps) != nil {
		return b
	}
	caps["events"] = json.RawMessage(`{}`)
	var err error
	if result["capabilities"], err = json.Marshal(caps); err != nil {
		return b
	}
	if resp["result"], err = json.Marshal(result); err != nil {
		return b
	}
	out, err := json.Marshal(resp)
	if err != nil {
		return b
	}
	return out
}

// bufferedWriter keeps what a handler writes, to be rewritten before it is sent.
type bufferedWriter struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) WriteHeader(code int)        { b.code = code }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.body.Write(p) }
func (b *bufferedWriter) Flush()                      {}

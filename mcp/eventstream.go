package mcp

import (
	"context"
	"encoding/json"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// Push delivery (events/stream): one long-lived request per subscription. The stream opens
// with notifications/events/active {cursor, truncated}, then carries
// notifications/events/event for each matching event (its occurrence, cursor after it) and
// notifications/events/heartbeat {cursor} whenever it has been quiet for a heartbeat
// interval, every notification naming the request's id in
// _meta["io.modelcontextprotocol/subscriptionId"]. It ends when the client goes away (the
// HTTP request ends) or cancels it (notifications/cancelled, on stdio); nothing is kept
// for it afterwards: the client reconnects with its last cursor.

// metaSubscriptionID is the _meta key that routes a push notification to its stream.
const metaSubscriptionID = "io.modelcontextprotocol/subscriptionId"

// DefaultHeartbeat is how often a quiet push stream sends a heartbeat (the SEP asks for at
// least every 30 s).
const DefaultHeartbeat = 15 * time.Second

// streamBatch is how many events one read of the log hands to a stream.
const streamBatch = 100

// waiterFor is what a stream waits on: *gateway.Service wakes it when an event of its type
// is appended; without it, the stream looks every heartbeat.
type waiterFor interface {
	WaitFor(pattern, source string) *gateway.Waiter
}

// openStream checks an events/stream request: its params, and where it starts. A request
// that can't be served is an error response, and no stream opens.
func (r *eventsRouter) openStream(ctx context.Context, req *rpcRequest) (*eventStream, *rpcError) {
	var p subscriptionParams
	args, rerr := decodeParams(req.Params, &p)
	if rerr != nil {
		return nil, rerr
	}
	in := gateway.PollInput{Name: p.Name, Arguments: args, Cursor: p.Cursor, MaxAge: maxAge(p.MaxAgeMs), MaxEvents: streamBatch}
	first, err := r.ev.Poll(ctx, in)
	if err != nil {
		return nil, r.fail("events/stream", err)
	}
	source, _ := args["source"].(string)
	return &eventStream{router: r, id: req.ID, in: in, first: first, source: source}, nil
}

// eventStream is one open events/stream.
type eventStream struct {
	router *eventsRouter
	id     json.RawMessage
	in     gateway.PollInput
	first  *gateway.PollResult
	source string
}

// notification is one notifications/events/* message of the stream.
func (st *eventStream) notification(method string, params map[string]any) []byte {
	params["_meta"] = map[string]any{metaSubscriptionID: st.id}
	b, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": method, "params": params})
	if err != nil {
		st.router.log.Error("MCP Events: encode a stream notification", "method", method, "err", err)
		return nil
	}
	return b
}

// run sends the stream's notifications with emit until ctx ends or emit fails.
func (st *eventStream) run(ctx context.Context, heartbeat time.Duration, emit func([]byte) error) {
	var wake <-chan struct{}
	if wf, ok := st.router.ev.(waiterFor); ok {
		w := wf.WaitFor(st.in.Name, st.source)
		defer w.Close()
		wake = w.Ready()
	}
	res := st.first
	cursor := res.Cursor
	if emit(st.notification("notifications/events/active", map[string]any{"cursor": cursor, "truncated": res.Truncated})) != nil {
		return
	}
	t := time.NewTimer(heartbeat)
	defer t.Stop()
	for {
		for _, ev := range res.Events {
			o := gateway.OccurrenceOf(&ev.Event, ev.Seq)
			params := map[string]any{"eventId": o.EventID, "name": o.Name, "timestamp": o.Timestamp, "data": o.Data, "cursor": o.Cursor}
			if emit(st.notification("notifications/events/event", params)) != nil {
				return
			}
		}
		cursor = res.Cursor
		if res.Truncated && res != st.first {
			if emit(st.notification("notifications/events/active", map[string]any{"cursor": cursor, "truncated": true})) != nil {
				return
			}
		}
		if !res.HasMore {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			case <-t.C:
				if emit(st.notification("notifications/events/heartbeat", map[string]any{"cursor": cursor})) != nil {
					return
				}
				t.Reset(heartbeat)
			}
		}
		in := st.in
		in.Cursor, in.MaxAge = &cursor, 0
		next, err := st.router.ev.Poll(ctx, in)
		if err != nil {
			if ctx.Err() == nil {
				st.router.log.Warn("MCP Events: a push stream could not read the log", "event", st.in.Name, "err", err)
				e := st.router.fail("events/stream", err)
				_ = emit(st.notification("notifications/events/error", map[string]any{"error": e})) // a failed emit ends the stream at the next one
			}
			next = &gateway.PollResult{Cursor: cursor}
		}
		res = next
	}
}

package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/schemas/jq"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

const awaitDescription = `Wait for an event and return the first one that matches, with a cursor.
- type: exact (video.posted), prefix (video.*) or *.
- filter: optional jq boolean over the envelope {id,type,source,created,data}, e.g. .data.bundle_id == "b_42". It must produce true or false (a single = assigns: it is an error, not a match); an event it fails on (a missing field) doesn't match; it may run 1 s per event. Numbers compare exactly: .data.n == 7383920011122334455.
- after: a cursor, an event id or an RFC 3339 time; events stored after it count. Use the id publish_event returned for the event that starts the action, get_cursor's cursor taken before triggering it, or the cursor of the previous await_event: then none can be missed. Not list_events' next_cursor: that is where a listing stopped, not now, and awaiting after it returns old events. Without after, only events that arrive after the call count.
- timeout_seconds: default 45, which fits a client that allows a tool call 60 s (most do); at most 600, if your client allows that long. Over HTTP the wait sends progress (with a progress token) or keep-alives, so idle-timeout proxies don't cut it.
If nothing matches in time the result says so (it is not an error) and carries the cursor to call again from: loop with after=<cursor> to see every event exactly once.`

type awaitArgs struct {
	Type           string `json:"type" jsonschema:"Event type to wait for: exact (video.posted), prefix (video.*) or *"`
	Source         string `json:"source,omitempty" jsonschema:"Only events from this source"`
	Filter         string `json:"filter,omitempty" jsonschema:"jq boolean over the envelope, e.g. .data.bundle_id == \"b_42\""`
	After          string `json:"after,omitempty" jsonschema:"Cursor, event id or RFC 3339 time: events stored after it count. The id publish_event returned, get_cursor's cursor, or the cursor of the previous await_event; not list_events' next_cursor"`
	TimeoutSeconds int    `json:"timeout_seconds,omitempty" jsonschema:"How long to wait in seconds, default 45 (fits a 60 s client timeout), 1 to 600"`
}

// awaitResult is await_event's structured result.
type awaitResult struct {
	Event    *gateway.StoredEvent `json:"event"`
	Cursor   string               `json:"cursor"`
	TimedOut bool                 `json:"timed_out"`
	Message  string               `json:"message"`
}

const (
	defaultAwait = 45 * time.Second
	maxAwait     = 600 * time.Second
)

func (t *tools) await(ctx context.Context, req mcp.CallToolRequest, a awaitArgs) (*mcp.CallToolResult, error) {
	start := time.Now()
	if a.Type == "" {
		return nil, &gateway.ValidationError{Field: "type", Message: `is required (use "*" for any event)`}
	}
	timeout := defaultAwait
	if a.TimeoutSeconds != 0 {
		if a.TimeoutSeconds < 0 || time.Duration(a.TimeoutSeconds)*time.Second > maxAwait {
			return nil, &gateway.ValidationError{Field: "timeout_seconds", Message: "must be between 1 and 600"}
		}
		timeout = time.Duration(a.TimeoutSeconds) * time.Second
	}
	var filter *jq.Program
	if a.Filter != "" {
		var err error
		if filter, err = jq.Compile(a.Filter); err != nil {
			return nil, &gateway.ValidationError{Field: "filter", Message: err.Error(), Err: err}
		}
		if err := probe(ctx, filter, a); err != nil {
			return nil, err
		}
	}

	// The cursor: an event id once one has been seen, else a time.
	var (
		afterID string
		since   = start
	)
	if a.After != "" {
		if t, err := time.Parse(time.RFC3339Nano, a.After); err == nil {
			since = t
		} else {
			afterID = a.After
		}
	}
	cursor := func() string {
		if afterID != "" {
			return afterID
		}
		return since.UTC().Format(time.RFC3339Nano)
	}

	end := start.Add(timeout)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	progress := time.NewTicker(t.opts.ProgressInterval)
	defer progress.Stop()
	var (
		wake     <-chan struct{}
		poll     <-chan time.Time
		lp       longPoller
		waitNext time.Duration // the long poll of the next read (a remote gateway)
	)
	if n, ok := t.gw.(notifier); ok {
		w := n.WaitFor(a.Type, a.Source) // registered before the first read, so nothing stored in between is missed
		defer w.Close()
		wake = w.Ready()
	} else if p, ok := t.gw.(longPoller); ok {
		lp = p
	} else {
		tk := time.NewTicker(t.opts.PollInterval)
		defer tk.Stop()
		poll = tk.C
	}
	for {
		for more := true; more; {
			f := gateway.EventFilter{Type: a.Type, Source: a.Source, After: afterID, Limit: 100}
			if afterID == "" {
				f.Since = since
			}
			var (
				page *gateway.EventPage
				err  error
			)
			if waitNext > 0 {
				page, err = lp.WaitEvents(ctx, f, waitNext)
				waitNext = 0
			} else {
				page, err = t.gw.ListEvents(ctx, f)
			}
			if err != nil && ctx.Err() != nil {
				return nil, fmt.Errorf("await_event canceled: %w", context.Cause(ctx))
			}
			if err != nil {
				return nil, err
			}
			for _, ev := range page.Data {
				afterID = ev.ID
				if ok, err := matches(ctx, filter, &ev.Event); err != nil {
					return nil, err
				} else if ok {
					res := awaitResult{Event: ev, Cursor: ev.ID, Message: fmt.Sprintf("%s %s arrived", ev.Type, ev.ID)}
					return result(res, fmt.Sprintf("%s; cursor %s: %s", res.Message, ev.ID, toJSON(ev))), nil
				}
			}
			if page.Next != "" {
				afterID = page.Next
			}
			more = page.More
		}
		// A remote gateway is long-polled: the next read waits on it for a matching event,
		// in slices short enough for the progress notifications.
		var next <-chan time.Time
		if lp != nil {
			if waitNext = min(time.Until(end), t.opts.ProgressInterval, maxLongPoll); waitNext >= minLongPoll {
				c := make(chan time.Time)
				close(c)
				next = c // ready at once: check the deadline and progress, then read
			} else {
				waitNext = 0
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("await_event canceled: %w", context.Cause(ctx))
		case <-deadline.C:
			res := awaitResult{Cursor: cursor(), TimedOut: true, Message: fmt.Sprintf("no matching event within %d s; call again with after=%q to keep waiting", int(timeout.Seconds()), cursor())}
			return result(res, res.Message), nil
		case <-progress.C:
			notifyProgress(ctx, req, time.Since(start), timeout, a.Type)
		case <-wake:
		case <-poll:
		case <-next:
		}
	}
}

// longPoller is implemented by a Gateway that can wait on the server for a matching event
// (*httpapi.Client: GET /v1/events?wait=…); await_event then long-polls it instead of
// polling every PollInterval.
type longPoller interface {
	WaitEvents(ctx context.Context, f gateway.EventFilter, wait time.Duration) (*gateway.EventPage, error)
}

// maxLongPoll bounds one long poll (the API allows 60 s; the Client's timeout is 30 s);
// below minLongPoll the await waits for its deadline instead.
const (
	maxLongPoll = 25 * time.Second
	minLongPoll = 10 * time.Millisecond
)

// matches runs the jq filter on ev's envelope; no filter matches everything. An event the
// filter fails on (a missing field, a type mismatch) doesn't match it; a filter that runs
// out of time or produces something other than true or false is the agent's error.
func matches(ctx context.Context, filter *jq.Program, ev *gateway.Event) (bool, error) {
	if filter == nil {
		return true, nil
	}
	ok, err := filter.Bool(ctx, ev.Body())
	var runtime *jq.RuntimeError
	switch {
	case err == nil:
		return ok, nil
	case errors.As(err, &runtime):
		return false, nil
	case ctx.Err() != nil:
		return false, fmt.Errorf("await_event canceled: %w", context.Cause(ctx))
	}
	return false, &gateway.ValidationError{Field: "filter", Message: fmt.Sprintf("the filter %s (on event %s)", err, ev.ID), Err: err}
}

// probe runs the filter once on an envelope of the awaited type with empty data, so that a
// filter that can't work is an error at once rather than when the first event arrives: one
// that runs out of time, or that produces a value other than true, false or null (what a
// test of a missing field gives), such as the object .data.bundle_id = "b_42" makes.
func probe(ctx context.Context, filter *jq.Program, a awaitArgs) error {
	ev := gateway.Event{ID: "evt_probe", Type: a.Type, Source: a.Source, Created: time.Now(), Data: json.RawMessage(`{}`)}
	_, err := filter.Bool(ctx, ev.Body())
	var nb *jq.NotBooleanError
	switch {
	case errors.Is(err, jq.ErrTimeout), errors.As(err, &nb) && nb.Kind != "null":
		return &gateway.ValidationError{Field: "filter", Message: "the filter " + err.Error(), Err: err}
	case ctx.Err() != nil:
		return fmt.Errorf("await_event canceled: %w", context.Cause(ctx))
	}
	return nil
}

// notifyProgress sends an MCP progress notification if the client asked for them.
func notifyProgress(ctx context.Context, req mcp.CallToolRequest, elapsed, total time.Duration, what string) {
	if req.Params.Meta == nil || req.Params.Meta.ProgressToken == nil {
		return
	}
	s := server.ServerFromContext(ctx)
	if s == nil {
		return
	}
	_ = s.SendNotificationToClient(ctx, "notifications/progress", map[string]any{
		"progressToken": req.Params.Meta.ProgressToken,
		"progress":      int(elapsed.Seconds()),
		"total":         int(total.Seconds()),
		"message":       fmt.Sprintf("waiting for %s (%d s of %d s)", what, int(elapsed.Seconds()), int(total.Seconds())),
	})
}

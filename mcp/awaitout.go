package mcp

import (
	"context"
	"errors"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
)

// awaitOut is await_event's result as the agent gets it: the event (its data cut when
// large), the cursor to call again from, and whether the wait timed out.
type awaitOut struct {
	Event    *eventView `json:"event" jsonschema:"The first matching event; null when timed_out"`
	Cursor   string     `json:"cursor" jsonschema:"Pass as after to the next await_event to see every later event exactly once"`
	TimedOut bool       `json:"timed_out" jsonschema:"Nothing matched in time (not an error): call again with after=cursor"`
	Message  string     `json:"message"`
}

func (o *awaitOut) summary() string {
	if o.Event == nil {
		return o.Message
	}
	s := fmt.Sprintf("%s; next cursor %s", o.Message, o.Cursor)
	if o.Event.DataCut != nil {
		s += fmt.Sprintf("; its data is %d bytes, left out: read %s", o.Event.DataCut.Bytes, o.Event.DataCut.Resource)
	}
	return s
}

// awaitTool runs await_event and shapes its result: the event's data bounded like
// get_event's, and a text that says what arrived without repeating the JSON.
func (t *tools) awaitTool(ctx context.Context, req mcp.CallToolRequest, a awaitArgs) (*awaitOut, error) {
	res, err := t.await(ctx, req, a)
	if err != nil {
		return nil, err
	}
	if res.IsError {
		if len(res.Content) > 0 {
			if tc, ok := res.Content[0].(mcp.TextContent); ok {
				return nil, errors.New(tc.Text)
			}
		}
		return nil, errors.New("await_event failed")
	}
	r, ok := res.StructuredContent.(awaitResult)
	if !ok {
		return nil, fmt.Errorf("await_event: unexpected result %T", res.StructuredContent)
	}
	out := &awaitOut{Cursor: r.Cursor, TimedOut: r.TimedOut, Message: r.Message}
	if r.Event != nil {
		out.Event = viewEvent(r.Event, maxDataInResult)
	}
	return out, nil
}

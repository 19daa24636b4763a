// Package mcp is hookgate's Model Context Protocol server: the tools and resources an AI
// agent uses to register webhooks, publish events, wait for an event such as video.posted,
// and inspect or retry deliveries. It is built on github.com/mark3labs/mcp-go and served over
// stdio (hookgate mcp) and Streamable HTTP (/mcp on hookgate serve).
//
// The server calls a Gateway: *gateway.Service when the gateway runs in the same process,
// *httpapi.Client when it talks to a running gateway. Tool arguments mirror the REST bodies
// (create_webhook takes url, events, description…; publish_event takes type, data, id,
// source), so what an agent learns from one works in the other. Failures the agent can act
// on (a bad URL, an unknown id) come back as tool results with isError set, not as protocol
// errors.
//
// Each tool is declared once (addTool) with a title, annotations that say whether it reads,
// writes or deletes, and input and output schemas generated from its Go types. Arguments
// are checked against the input schema before the handler runs, so an unknown, missing or
// mistyped argument is an error naming it. Results are structured content that matches
// the output schema, bounded to maxResultBytes (lists cut with a note, large event data
// replaced by a preview and the hookgate://events/{id} resource), with a short text
// summary. Two prompts (wire_provider, wait_for_post) guide the common workflows.
//
// Over HTTP each call carries the principal that authenticated it (the serve token, a named
// key, a secret URL's key, an OAuth access token; gateway.PrincipalFrom): every tool needs
// the scope toolScopes names and every resource read, and a call without it is a tool error
// naming the scope. Calls over stdio or in-process carry no principal: they are the local
// user's.
//
// # Example
//
//	s := mcp.NewServer(svc, mcp.Options{})
//	mcp.ServeStdio(ctx, mcp.NewStdioServer(s), os.Stdin, os.Stdout) // or:
//	http.Handle("/mcp", mcp.HTTPHandler(s, mcp.HTTPOptions{})) // keep-alive, session expiry, cancellation
package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/schemas"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Gateway is what the MCP server needs from hookgate. *gateway.Service and
// *httpapi.Client both satisfy it.
type Gateway interface {
	CreateEndpoint(ctx context.Context, in gateway.EndpointInput) (*gateway.Endpoint, string, error)
	ListEndpoints(ctx context.Context, f gateway.EndpointFilter) (*gateway.EndpointPage, error)
	GetEndpoint(ctx context.Context, id string) (*gateway.Endpoint, error)
	UpdateEndpoint(ctx context.Context, id string, p gateway.EndpointPatch) (*gateway.Endpoint, error)
	DeleteEndpoint(ctx context.Context, id string) error
	TestEndpoint(ctx context.Context, id string) (string, error)
	RotateSecret(ctx context.Context, id string) (string, error)
	ListDeliveries(ctx context.Context, endpointID string, f gateway.DeliveryFilter) (*gateway.DeliveryPage, error)
	ReplayEndpoint(ctx context.Context, id string, since time.Time, status gateway.DeliveryStatus) (int, error)
	Publish(ctx context.Context, in gateway.PublishInput) (*gateway.PublishResult, error)
	ListEvents(ctx context.Context, f gateway.EventFilter) (*gateway.EventPage, error)
	GetEvent(ctx context.Context, id string) (*gateway.StoredEvent, []*gateway.Delivery, error)
	GetDelivery(ctx context.Context, id string) (*gateway.Delivery, error)
	RetryDelivery(ctx context.Context, id string) error
	ListEventTypes(ctx context.Context, provider string) ([]*schemas.Type, error)
	GetEventType(ctx context.Context, name, provider string) (*schemas.Type, error)
	ExportEventType(ctx context.Context, name, provider, format string) (json.RawMessage, error)
	CreateSource(ctx context.Context, in gateway.SourceInput) (*gateway.Source, error)
	ListSources(ctx context.Context) ([]*gateway.Source, error)
	Stats(ctx context.Context, since time.Time) (*gateway.Stats, error)
}

// notifier is implemented by a Gateway that can wake a waiter when an event of its type
// arrives (*gateway.Service); await_event then waits on it instead of polling.
type notifier interface {
	WaitFor(pattern, source string) *gateway.Waiter
}

var (
	_ Gateway  = (*gateway.Service)(nil)
	_ notifier = (*gateway.Service)(nil)
)

// Options configures the server.
type Options struct {
	// PollInterval is how often await_event looks for new events when the Gateway can
	// neither wake it (*gateway.Service) nor be long-polled (*httpapi.Client); default 1 s.
	PollInterval time.Duration
	// ProgressInterval is how often await_event reports progress while waiting, to a client
	// that gave a progress token; default 5 s.
	ProgressInterval time.Duration
	// PublicURL is the base of catch-hook URLs when the Gateway leaves them empty.
	PublicURL string
}

// Version of the MCP server, as announced to clients.
const serverName = "hookgate"

// NewServer returns the MCP server with every tool, resource and prompt registered.
func NewServer(gw Gateway, opts Options) *server.MCPServer {
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = 5 * time.Second
	}
	hooks := &server.Hooks{}
	hooks.AddBeforeReadResource(missingResources(gw))
	ev, offersEvents := gw.(Events)
	extensions := map[string]any{}
	if offersEvents {
		extensions[EventsExtension] = map[string]any{}
	}
	s := server.NewMCPServer(serverName, gateway.Version,
		server.WithExtensions(extensions),
		server.WithToolCapabilities(false),
		server.WithResourceCapabilities(false, false),
		server.WithPromptCapabilities(false),
		server.WithCompletions(),
		server.WithPromptCompletionProvider(completions{gw}),
		server.WithResourceCompletionProvider(completions{gw}),
		server.WithHooks(hooks),
		server.WithRecovery(),
		server.WithToolHandlerMiddleware(checkScope),
		server.WithResourceHandlerMiddleware(checkReadScope),
		server.WithOutputSchemaValidation(), // a result that breaks its tool's outputSchema is an error, not sent
		server.WithInstructions(instructions),
	)
	if offersEvents {
		eventsOf.Store(s, &eventsRouter{ev: ev, log: slog.Default()})
	}
	t := &tools{gw: gw, opts: opts}
	t.register(s)
	registerResources(s, gw)
	registerPrompts(s)
	return s
}

const instructions = `hookgate is an event gateway. Events (video.posted, post.failed, bundle.ready, …) are published to it and delivered, signed and with retries, to registered webhooks.
- To wait for the result of an action without missing it, take a cursor BEFORE the action: the id publish_event returns when you publish the event that starts it, or else get_cursor (the newest event's id). Then call await_event {type, filter, after: <cursor>}, e.g. filter .data.bundle_id == "b_42".
- After a match or a timeout, call await_event again with after=<the cursor it returned>: every later event is seen exactly once.
- list_events' next_cursor is where that (oldest-first) listing stopped, not "now": awaiting after it returns old events, possibly another bundle's.
- Without after, await_event counts only events that arrive after the call.
- create_webhook registers an HTTPS endpoint; its signing secret is returned only once.
- Lists are paged (20 by default); a large event payload is cut in tool results and readable whole at the resource hookgate://events/{id}.`

// tools holds what the tool handlers share.
type tools struct {
	gw   Gateway
	opts Options
}

// result returns v as structured content with a short text for clients that only read text.
func result(v any, text string) *mcp.CallToolResult {
	return mcp.NewToolResultStructured(v, text)
}

// toJSON marshals v for a text fallback.
func toJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}

package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/schemas"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Tool arguments. Names mirror the REST API's JSON bodies and query parameters.

type publishArgs struct {
	Type   string `json:"type" jsonschema:"Event type, e.g. video.posted"`
	Data   any    `json:"data" jsonschema:"The event payload: any JSON value, usually an object"`
	ID     string `json:"id,omitempty" jsonschema:"Event id, the dedupe key; generated when empty. Publishing the same id twice sends nothing the second time."`
	Source string `json:"source,omitempty" jsonschema:"Name of the producer, e.g. tokportal"`
}

type createWebhookArgs struct {
	URL         string            `json:"url" jsonschema:"HTTPS URL that receives the events"`
	Events      []string          `json:"events" jsonschema:"Event types to receive: exact names (video.posted), prefixes (post.*) or * for all"`
	Description string            `json:"description,omitempty" jsonschema:"A note for humans"`
	Enabled     *bool             `json:"enabled,omitempty" jsonschema:"Create it enabled (default true)"`
	Headers     map[string]string `json:"headers,omitempty" jsonschema:"Extra headers sent with every delivery"`
	Source      string            `json:"source,omitempty" jsonschema:"Only receive events from this source"`
	endpointSettingsArgs
}

// endpointSettingsArgs are the delivery options and per-kind settings of create_webhook,
// as in POST /v1/endpoints: the schema the agent reads. The tool passes its arguments on
// as POST /v1/endpoints takes them (see kindArgs).
type endpointSettingsArgs struct {
	Kind          string                `json:"kind,omitempty" jsonschema:"webhook (default), zapier, make, n8n, slack or telegram"`
	RateLimitPerS float64               `json:"rate_limit_per_s,omitempty" jsonschema:"At most this many deliveries per second to this webhook (make defaults to 25)"`
	Mapping       string                `json:"mapping,omitempty" jsonschema:"A jq program that reshapes the envelope before delivery, e.g. {post_url: .data.post_url, at: .created}"`
	Filter        string                `json:"filter,omitempty" jsonschema:"A jq boolean over the envelope: only events for which it is true are delivered, e.g. .data.bundle_id == \"b_42\""`
	OutputSchema  any                   `json:"output_schema,omitempty" jsonschema:"A JSON Schema the mapped payload must satisfy"`
	Template      string                `json:"template,omitempty" jsonschema:"slack, telegram: a Go text/template over the payload, e.g. Video posted on {{.data.platform}}: {{.data.post_url}}"`
	ChatID        string                `json:"chat_id,omitempty" jsonschema:"telegram: the chat to post to"`
	BotToken      string                `json:"bot_token,omitempty" jsonschema:"telegram: the bot token (123456:ABC…)"`
	APIKey        string                `json:"api_key,omitempty" jsonschema:"make: sent as x-make-apikey"`
	Auth          *gateway.EndpointAuth `json:"auth,omitempty" jsonschema:"n8n (or any kind): {type: header, name, value} or {type: basic, username, password}"`
}

// kindArgs decodes a tool's arguments, already checked against its schema, into v, a
// gateway input (gateway.EndpointInput, gateway.EndpointPatch) whose own JSON decoding
// passes every argument it has no field for to the endpoint's kind as a setting: the
// per-kind arguments the schema lists (template, chat_id, bot_token, api_key) document
// them for the agent, and the kind's package reads and checks them. The arguments named
// in leave (such as the id of the webhook), and those given as null, are not passed on.
func kindArgs(args any, v any, leave ...string) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("arguments: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("arguments: %w", err)
	}
	for _, k := range leave {
		delete(m, k)
	}
	for k, v := range m {
		if string(v) == "null" { // an argument given as null is not given
			delete(m, k)
		}
	}
	if raw, err = json.Marshal(m); err != nil {
		return fmt.Errorf("arguments: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("arguments: %w", err)
	}
	return nil
}

type listWebhooksArgs struct {
	Event   string `json:"event,omitempty" jsonschema:"Only webhooks that would receive this event type"`
	Enabled *bool  `json:"enabled,omitempty" jsonschema:"Only enabled (true) or disabled (false) webhooks"`
	Limit   int    `json:"limit,omitempty" jsonschema:"Page size, default 20, at most 100"`
	Cursor  string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page"`
}

// updateWebhookArgs is a PATCH: only the arguments given change.
type updateWebhookArgs struct {
	ID            string                `json:"id" jsonschema:"Webhook (endpoint) id"`
	URL           *string               `json:"url,omitempty" jsonschema:"New URL"`
	Events        *[]string             `json:"events,omitempty" jsonschema:"New event types or patterns"`
	Description   *string               `json:"description,omitempty" jsonschema:"New description"`
	Enabled       *bool                 `json:"enabled,omitempty" jsonschema:"Enable or disable. Enabling resets the failure streak and sends the deliveries kept while disabled."`
	Headers       *map[string]string    `json:"headers,omitempty" jsonschema:"Replace the extra headers"`
	Source        *string               `json:"source,omitempty" jsonschema:"Only receive events from this source; empty string: from any source"`
	RateLimitPerS *float64              `json:"rate_limit_per_s,omitempty" jsonschema:"At most this many deliveries per second; 0 removes the limit"`
	Mapping       *string               `json:"mapping,omitempty" jsonschema:"A jq program that reshapes the envelope before delivery; empty string removes it"`
	Filter        *string               `json:"filter,omitempty" jsonschema:"A jq boolean over the envelope: only events for which it is true are delivered; empty string removes it"`
	OutputSchema  *json.RawMessage      `json:"output_schema,omitempty" jsonschema:"A JSON Schema the mapped payload must satisfy; {} accepts anything"`
	Template      *string               `json:"template,omitempty" jsonschema:"slack, telegram: a Go text/template over the payload; empty string: the default text"`
	ChatID        *string               `json:"chat_id,omitempty" jsonschema:"telegram: the chat to post to"`
	BotToken      *string               `json:"bot_token,omitempty" jsonschema:"telegram: the bot token (123456:ABC…)"`
	APIKey        *string               `json:"api_key,omitempty" jsonschema:"make: sent as x-make-apikey; empty string removes it"`
	Auth          *gateway.EndpointAuth `json:"auth,omitempty" jsonschema:"{type: header, name, value} or {type: basic, username, password}; {type: \"\"} removes it"`
	DiscardPaused bool                  `json:"discard_paused,omitempty" jsonschema:"With enabled=true: cancel the deliveries kept while disabled instead of sending them"`
}

type listEventTypesArgs struct {
	Provider string `json:"provider,omitempty" jsonschema:"tokportal, uploadpost, oktopost, tinyposter, hookgate or custom; empty for all"`
}

type getEventSchemaArgs struct {
	Name     string `json:"name" jsonschema:"Event type, e.g. video.posted"`
	Format   string `json:"format,omitempty" jsonschema:"jsonschema (default), sample (an example envelope exactly as delivered), zapier (outputFields) or make (data structure)"`
	Provider string `json:"provider,omitempty" jsonschema:"Pick this provider's type when several share the name (ping)"`
}

type createSourceArgs struct {
	Name     string `json:"name" jsonschema:"A name for the source, e.g. tokportal-main"`
	Provider string `json:"provider" jsonschema:"tokportal, tinyposter, uploadpost, oktopost, standard-webhooks or generic"`
	Secret   string `json:"secret,omitempty" jsonschema:"The signing secret the provider gave you (for uploadpost: leave empty and hookgate makes a URL token)"`
	Verify   any    `json:"verify,omitempty" jsonschema:"Verification settings: {header} for oktopost; for generic {type: hmac|basic|api_key|none, header, algorithm, encoding, prefix, template, timestamp_header, tolerance_seconds, username, password, api_key_header}"`
	Mapping  string `json:"mapping,omitempty" jsonschema:"generic only: a jq program from the payload to {type, id?, created?, data}, e.g. {type: .event, id: .uuid, data: .payload}"`
	Sample   any    `json:"sample,omitempty" jsonschema:"generic only: a sample payload the mapping is checked against"`
}

type webhookIDArgs struct {
	ID string `json:"id" jsonschema:"Webhook (endpoint) id, ep_…"`
}

type eventIDArgs struct {
	ID string `json:"id" jsonschema:"Event id"`
}

type deliveryIDArgs struct {
	ID string `json:"id" jsonschema:"Delivery id, dlv_…"`
}

type listEventsArgs struct {
	Type   string `json:"type,omitempty" jsonschema:"Event type or pattern (video.*, *)"`
	Source string `json:"source,omitempty" jsonschema:"Only events from this source"`
	After  string `json:"after,omitempty" jsonschema:"The next_cursor of a previous call (or an event id): only events stored after it, or before it with order newest"`
	Since  string `json:"since,omitempty" jsonschema:"RFC 3339 time, or a duration back from now such as 1h: only events received since then (when after is empty); oldest order only"`
	Order  string `json:"order,omitempty" jsonschema:"oldest (default): arrival order; newest: the most recent events first. Both page with next_cursor"`
	Limit  int    `json:"limit,omitempty" jsonschema:"Page size, default 20, at most 100"`
}

type listDeliveriesArgs struct {
	EndpointID string `json:"endpoint_id,omitempty" jsonschema:"Webhook (endpoint) id whose deliveries to list; leave out to list every webhook's"`
	Status     string `json:"status,omitempty" jsonschema:"pending, paused, succeeded, failed or canceled"`
	Type       string `json:"type,omitempty" jsonschema:"Event type or pattern (video.*)"`
	Since      string `json:"since,omitempty" jsonschema:"Created since: an RFC 3339 time, or a duration back from now such as 1h"`
	Until      string `json:"until,omitempty" jsonschema:"Created before: an RFC 3339 time, or a duration back from now"`
	Limit      int    `json:"limit,omitempty" jsonschema:"Page size, default 20, at most 100"`
	Cursor     string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page"`
}

type replayArgs struct {
	EndpointID string `json:"endpoint_id" jsonschema:"Webhook (endpoint) id"`
	Since      string `json:"since" jsonschema:"RFC 3339 time: deliveries created since then are queued again"`
	Status     string `json:"status,omitempty" jsonschema:"Which deliveries: failed (default), canceled or succeeded"`
}

// Page sizes of the list tools: small by default, as an agent rarely needs more, and
// capped so that a page stays within maxResultBytes.
const (
	defaultPage = 20
	maxPage     = 100
)

func pageSize(n int) int {
	if n == 0 {
		return defaultPage
	}
	return n
}

// Hints for "not found" errors: where the agent finds the ids that exist.
const (
	findWebhooks   = "list_webhooks shows the webhooks"
	findEvents     = "list_events shows the events"
	findDeliveries = "list_deliveries shows a webhook's deliveries"
	findTypes      = "list_event_types shows the types"
)

func (t *tools) register(s *server.MCPServer) {
	addTool(s, toolDef{name: "publish_event", title: "Publish an event", effect: adds, idempotent: false,
		description: "Publish an event. It is validated, stored durably and delivered to every webhook subscribed to its type. Returns the event id and how many deliveries were made; a repeated id is reported as a duplicate and sends nothing. The returned id is the cursor to await the event's consequences from: await_event {after: <id>}."},
		t.publish)
	addTool(s, toolDef{name: "create_webhook", title: "Create a webhook", effect: adds,
		description: "Register a webhook (an HTTPS endpoint, or a zapier, make, n8n, slack or telegram destination) for some event types. Returns the webhook with its signing secret (whsec_…), which is shown only this once: deliveries carry Standard Webhooks signatures made with it. url is required except for telegram, which needs bot_token and chat_id.",
		input:       perKindRequired}, t.createWebhook)
	addTool(s, toolDef{name: "list_webhooks", title: "List webhooks", effect: reads,
		description: "List registered webhooks, oldest first, with their state (enabled, failure streak, why disabled). 20 per page by default; pass next_cursor as cursor for the next page.",
		input:       setRange("limit", 1, maxPage)}, t.listWebhooks)
	addTool(s, toolDef{name: "update_webhook", title: "Change a webhook", effect: adds, idempotent: true,
		description: "Change a webhook: only the arguments given change (URL, event types, description, headers, source, enabled, filter, and the per-kind settings: rate_limit_per_s, mapping, output_schema, template, chat_id, bot_token, api_key, auth). Re-enabling sends the events kept while it was disabled (unless discard_paused). Returns the webhook as stored."},
		t.updateWebhook)
	addTool(s, toolDef{name: "delete_webhook", title: "Delete a webhook", effect: destroys, idempotent: true,
		description: "Delete a webhook. Its queued deliveries are canceled."}, t.deleteWebhook)
	addTool(s, toolDef{name: "rotate_webhook_secret", title: "Rotate a webhook's secret", effect: adds,
		description: "Give a webhook a new signing secret (returned once). The old secret keeps signing alongside for 24 hours."}, t.rotateSecret)
	addTool(s, toolDef{name: "send_test_event", title: "Send a test event", effect: adds,
		description: "Send a ping event to one webhook only, to check it is reachable. Returns the delivery id; see get_delivery for the outcome."}, t.sendTest)
	addTool(s, toolDef{name: "list_events", title: "List events", effect: reads,
		description: "List stored events. order oldest (default): arrival order from the start (or from after / since), pass next_cursor as after to continue; this next_cursor is where the listing stopped, not \"now\": to wait for what happens next, use get_cursor or the id publish_event returned. order newest: the most recent events first, pass next_cursor as after (with order newest) for older ones. 20 per page by default; data over 2 KB is cut to a preview with the event's resource URI.",
		input:       func(s map[string]any) { setRange("limit", 1, maxPage)(s); setEnum(s, "order", "oldest", "newest") }}, t.listEvents)
	addTool(s, toolDef{name: "get_event", title: "Get an event", effect: reads,
		description: "Get one event with its deliveries (one per webhook it was sent to). Data over 32 KB is cut to a preview; read the resource hookgate://events/{id} for all of it."}, t.getEvent)
	addTool(s, toolDef{name: "get_cursor", title: "Get the current cursor", effect: reads,
		description: "Return the id of the newest stored event (\"\" when there is none): pass it as after to await_event to wait for events stored from now on, none missed. Take it before triggering an action whose result you will await."}, t.getCursor)
	addTool(s, toolDef{name: "list_deliveries", title: "List deliveries", effect: reads,
		description: "List deliveries newest first, of every webhook or of one (endpoint_id), optionally by status (pending, paused, succeeded, failed, canceled), event type and creation time (since, until: \"what failed in the last hour?\" is status failed, since 1h), each with its newest attempts. 20 per page by default; pass next_cursor as cursor for the next page (a page may come back short, even empty, with a next_cursor when many deliveries were passed over).",
		input:       setRange("limit", 1, maxPage)}, t.listDeliveries)
	addTool(s, toolDef{name: "get_stats", title: "How deliveries went", effect: reads,
		description: "The first thing to ask when something seems off: per webhook and in total over a window (since, default the last hour), the attempts, successes, failures, success ratio, p50/p95 attempt duration in ms, deliveries given up, pending and paused now, the last error and when, and the webhook's state; with whether the gateway is ready (and why not), its free disk and its lag (how late the oldest due delivery is). scan.truncated says the counts cover only the newest deliveries read.",
	}, t.getStats)
	addTool(s, toolDef{name: "get_delivery", title: "Get a delivery", effect: reads,
		description: "Get one delivery with every attempt: time, HTTP status, duration, error and the start of the response body."}, t.getDelivery)
	addTool(s, toolDef{name: "retry_delivery", title: "Retry a delivery", effect: adds,
		description: "Attempt a delivery again now, with a fresh retry schedule (for failed or canceled deliveries)."}, t.retryDelivery)
	addTool(s, toolDef{name: "replay_deliveries", title: "Replay a webhook's deliveries", effect: adds,
		description: "Queue again every failed delivery of a webhook created since a time, e.g. after fixing the receiver."}, t.replay)
	addTool(s, toolDef{name: "list_event_types", title: "List event types", effect: reads,
		description: "List the event types hookgate knows (TokPortal, Upload-Post, Oktopost, tinyposter, its own, and custom ones), with what each means."}, t.listEventTypes)
	addTool(s, toolDef{name: "get_event_schema", title: "Get an event type's schema", effect: reads,
		description: "Get an event type's schema: the JSON Schema of its data, a sample envelope exactly as delivered, Zapier output fields or a Make data structure.",
		input:       func(s map[string]any) { setEnum(s, "format", "jsonschema", "sample", "zapier", "make") }}, t.getEventSchema)
	addTool(s, toolDef{name: "create_source", title: "Create a catch hook", effect: adds,
		description: "Create a catch hook: a URL to paste into a provider's webhook settings (TokPortal, tinyposter, Upload-Post, Oktopost, any Standard Webhooks sender, or a generic one). Every call to it is verified with the provider's signature, mapped to hookgate's envelope, deduplicated, validated and delivered to the matching webhooks. Returns the source and its url."},
		t.createSource)
	addTool(s, toolDef{name: "list_sources", title: "List catch hooks", effect: reads,
		description: "List the catch hooks (sources) with their URLs and providers. Secrets and URL tokens are masked: the whole URL is shown when a source is created, or by GET /v1/sources/{id}/url."},
		t.listSources)
	addTool(s, toolDef{name: "await_event", title: "Wait for an event", effect: reads,
		description: awaitDescription, input: setRange("timeout_seconds", 1, int(maxAwait/time.Second))}, t.awaitTool)
}

// perKindRequired marks what create_webhook requires per kind: url, except for telegram
// (which defaults it to the Bot API) where bot_token and chat_id are.
func perKindRequired(s map[string]any) {
	s["required"] = []string{"events"}
	s["allOf"] = []any{map[string]any{
		"if":   map[string]any{"properties": map[string]any{"kind": map[string]any{"const": "telegram"}}, "required": []string{"kind"}},
		"then": map[string]any{"required": []string{"bot_token", "chat_id"}},
		"else": map[string]any{"required": []string{"url"}},
	}}
	setRange("rate_limit_per_s", 0, 10000)(s)
}

// Results.

type publishOut struct {
	ID         string   `json:"id" jsonschema:"The event id: pass it as after to await_event to wait for what follows it"`
	Type       string   `json:"type"`
	Deliveries int      `json:"deliveries" jsonschema:"How many webhooks it was sent to"`
	Duplicate  bool     `json:"duplicate" jsonschema:"The id was published before: nothing was sent"`
	Warnings   []string `json:"warnings,omitempty" jsonschema:"About an event stored all the same, e.g. a type unknown to the catalog and never published (a typo?)"`
}

func (o *publishOut) summary() string {
	if o.Duplicate {
		return fmt.Sprintf("%s was already published; nothing sent", o.ID)
	}
	msg := fmt.Sprintf("published %s (%s) to %d webhook(s); await its consequences with after=%q", o.ID, o.Type, o.Deliveries, o.ID)
	for _, w := range o.Warnings {
		msg += "\nwarning: " + w
	}
	return msg
}

func (t *tools) publish(ctx context.Context, _ mcp.CallToolRequest, a publishArgs) (*publishOut, error) {
	in := gateway.PublishInput{Type: a.Type, ID: a.ID, Source: a.Source}
	if a.Data != nil {
		b, err := json.Marshal(a.Data)
		if err != nil {
			return nil, &gateway.ValidationError{Field: "data", Message: err.Error()}
		}
		in.Data = b
	}
	res, err := t.gw.Publish(ctx, in)
	if err != nil {
		return nil, err
	}
	return &publishOut{ID: res.ID, Type: a.Type, Deliveries: res.Deliveries, Duplicate: res.Duplicate, Warnings: res.Warnings}, nil
}

type createWebhookOut struct {
	Webhook *gateway.Endpoint `json:"webhook"`
	Secret  string            `json:"secret" jsonschema:"The signing secret, shown only now"`
}

func (o *createWebhookOut) summary() string {
	return fmt.Sprintf("created %s webhook %s for %v → %s; signing secret %s (shown only now)", o.Webhook.Kind, o.Webhook.ID, o.Webhook.Events, o.Webhook.URL, o.Secret)
}

func (t *tools) createWebhook(ctx context.Context, req mcp.CallToolRequest, _ createWebhookArgs) (*createWebhookOut, error) {
	var in gateway.EndpointInput
	if err := kindArgs(req.Params.Arguments, &in); err != nil {
		return nil, err
	}
	ep, secret, err := t.gw.CreateEndpoint(ctx, in)
	if err != nil {
		return nil, err
	}
	return &createWebhookOut{Webhook: ep, Secret: secret}, nil
}

type webhookPage struct {
	Data       []*gateway.Endpoint `json:"data"`
	NextCursor string              `json:"next_cursor,omitempty" jsonschema:"Pass as cursor for the next page; empty on the last"`
	Note       string              `json:"note,omitempty"`
}

func (o *webhookPage) summary() string {
	s := fmt.Sprintf("%d webhook(s)", len(o.Data))
	if o.NextCursor != "" {
		s += fmt.Sprintf(", more with cursor=%q", o.NextCursor)
	}
	return s + lines(o.Data, func(ep *gateway.Endpoint) string {
		return fmt.Sprintf("%s %s %v → %s enabled=%v", ep.ID, ep.Kind, ep.Events, ep.URL, ep.Enabled)
	})
}

func (o *webhookPage) bound(max int) string {
	if size(o) <= max {
		return ""
	}
	n := fit(o.Data, max-1000)
	o.Note = cutNote(fmt.Sprintf("%d of %d webhooks shown; the rest with cursor=next_cursor", n, len(o.Data)))
	o.Data = o.Data[:n]
	if n > 0 {
		o.NextCursor = o.Data[n-1].ID
	}
	return o.Note
}

func (t *tools) listWebhooks(ctx context.Context, _ mcp.CallToolRequest, a listWebhooksArgs) (*webhookPage, error) {
	page, err := t.gw.ListEndpoints(ctx, gateway.EndpointFilter{Event: a.Event, Enabled: a.Enabled, Limit: pageSize(a.Limit), Cursor: a.Cursor})
	if err != nil {
		return nil, err
	}
	return &webhookPage{Data: page.Data, NextCursor: page.Next}, nil
}

type webhookOut struct {
	Webhook *gateway.Endpoint `json:"webhook"`
}

func (o *webhookOut) summary() string {
	ep := o.Webhook
	return fmt.Sprintf("updated %s webhook %s: %v → %s, enabled=%v", ep.Kind, ep.ID, ep.Events, ep.URL, ep.Enabled)
}

func (t *tools) updateWebhook(ctx context.Context, req mcp.CallToolRequest, a updateWebhookArgs) (*webhookOut, error) {
	var p gateway.EndpointPatch
	if err := kindArgs(req.Params.Arguments, &p, "id"); err != nil {
		return nil, err
	}
	ep, err := t.gw.UpdateEndpoint(ctx, a.ID, p)
	if err != nil {
		return nil, lookup(err, "webhook", "id", a.ID, findWebhooks)
	}
	return &webhookOut{Webhook: ep}, nil
}

type deletedOut struct {
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

func (o *deletedOut) summary() string { return "deleted webhook " + o.ID }

func (t *tools) deleteWebhook(ctx context.Context, _ mcp.CallToolRequest, a webhookIDArgs) (*deletedOut, error) {
	if err := t.gw.DeleteEndpoint(ctx, a.ID); err != nil {
		return nil, lookup(err, "webhook", "id", a.ID, findWebhooks)
	}
	return &deletedOut{ID: a.ID, Deleted: true}, nil
}

type secretOut struct {
	ID     string `json:"id"`
	Secret string `json:"secret" jsonschema:"The new signing secret, shown only now"`
}

func (o *secretOut) summary() string {
	return "new signing secret " + o.Secret + " for " + o.ID + " (the old one keeps signing for 24 h)"
}

func (t *tools) rotateSecret(ctx context.Context, _ mcp.CallToolRequest, a webhookIDArgs) (*secretOut, error) {
	secret, err := t.gw.RotateSecret(ctx, a.ID)
	if err != nil {
		return nil, lookup(err, "webhook", "id", a.ID, findWebhooks)
	}
	return &secretOut{ID: a.ID, Secret: secret}, nil
}

type testOut struct {
	DeliveryID string `json:"delivery_id"`
}

func (o *testOut) summary() string {
	return "ping queued as delivery " + o.DeliveryID + "; call get_delivery to see the outcome"
}

func (t *tools) sendTest(ctx context.Context, _ mcp.CallToolRequest, a webhookIDArgs) (*testOut, error) {
	did, err := t.gw.TestEndpoint(ctx, a.ID)
	if err != nil {
		return nil, lookup(err, "webhook", "id", a.ID, findWebhooks)
	}
	return &testOut{DeliveryID: did}, nil
}

type eventPage struct {
	Data       []*eventView `json:"data"`
	NextCursor string       `json:"next_cursor,omitempty" jsonschema:"Pass as after, with the same order, for the next page (where this listing stopped, not the newest event)"`
	HasMore    bool         `json:"has_more"`
	Note       string       `json:"note,omitempty"`
	newest     bool
}

func (o *eventPage) summary() string {
	s := fmt.Sprintf("%d event(s)", len(o.Data))
	switch {
	case o.newest && o.HasMore:
		s += fmt.Sprintf(", newest first; older ones with order=newest after=%q", o.NextCursor)
	case o.newest:
		s += ", newest first"
	case o.NextCursor != "":
		s += fmt.Sprintf(", oldest first; next page with after=%q", o.NextCursor)
	}
	return s + lines(o.Data, func(ev *eventView) string {
		return fmt.Sprintf("%s %s %s", ev.ID, ev.Type, ev.Created)
	})
}

func (o *eventPage) bound(max int) string {
	if size(o) <= max {
		return ""
	}
	n := fit(o.Data, max-1000)
	total := len(o.Data)
	o.Data = o.Data[:n]
	o.Note = cutNote(fmt.Sprintf("%d of %d events shown; the rest with after=next_cursor", n, total))
	if o.newest {
		o.Note = cutNote(fmt.Sprintf("%d of %d events shown; older ones with order=newest after=next_cursor", n, total))
	}
	o.HasMore = true
	if n > 0 {
		o.NextCursor = o.Data[n-1].ID
	}
	return o.Note
}

func (t *tools) listEvents(ctx context.Context, _ mcp.CallToolRequest, a listEventsArgs) (*eventPage, error) {
	f := gateway.EventFilter{Type: a.Type, Source: a.Source, After: a.After, Limit: pageSize(a.Limit), Newest: a.Order == "newest"}
	var err error
	if f.Since, err = sinceArg("since", a.Since); err != nil {
		return nil, err
	}
	if f.Newest && a.Since != "" {
		return nil, argErrorf("`since` starts a listing oldest first: leave it out with order newest (page back with after), or use order oldest")
	}
	page, err := t.gw.ListEvents(ctx, f)
	if err != nil {
		return nil, lookup(err, "event", "after", a.After, findEvents)
	}
	out := &eventPage{Data: make([]*eventView, len(page.Data)), HasMore: page.More, NextCursor: page.Next, newest: f.Newest}
	for i, ev := range page.Data {
		out.Data[i] = viewEvent(ev, maxDataInList)
	}
	return out, nil
}

type eventOut struct {
	Event      *eventView          `json:"event"`
	Deliveries []*gateway.Delivery `json:"deliveries" jsonschema:"One per webhook the event was sent to"`
	Note       string              `json:"note,omitempty"`
}

func (o *eventOut) summary() string {
	ev := o.Event
	s := fmt.Sprintf("%s %s from %q created %s, %d deliveries", ev.ID, ev.Type, ev.Source, ev.Created, len(o.Deliveries))
	if ev.DataCut != nil {
		s += fmt.Sprintf("; data is %d bytes, left out: read %s", ev.DataCut.Bytes, ev.DataCut.Resource)
	}
	return s
}

func (o *eventOut) bound(max int) string {
	if size(o) <= max {
		return ""
	}
	n := fit(o.Deliveries, max-size(o.Event)-1000)
	o.Note = cutNote(fmt.Sprintf("%d of %d deliveries shown; read %s for all", n, len(o.Deliveries), eventURI(o.Event.ID)))
	o.Deliveries = o.Deliveries[:n]
	return o.Note
}

func (t *tools) getEvent(ctx context.Context, _ mcp.CallToolRequest, a eventIDArgs) (*eventOut, error) {
	ev, dls, err := t.gw.GetEvent(ctx, a.ID)
	if err != nil {
		return nil, lookup(err, "event", "id", a.ID, findEvents)
	}
	if dls == nil {
		dls = []*gateway.Delivery{}
	}
	return &eventOut{Event: viewEvent(ev, maxDataInResult), Deliveries: dls}, nil
}

type cursorOut struct {
	Cursor string `json:"cursor" jsonschema:"The newest event's id, or empty when there are no events: pass it as after to await_event"`
}

func (o *cursorOut) summary() string {
	if o.Cursor == "" {
		return `no events stored yet: call await_event without after (or with after="") to wait for the first`
	}
	return fmt.Sprintf("cursor %s: await_event with after=%q sees every event stored from now on", o.Cursor, o.Cursor)
}

func (t *tools) getCursor(ctx context.Context, _ mcp.CallToolRequest, _ struct{}) (*cursorOut, error) {
	page, err := t.gw.ListEvents(ctx, gateway.EventFilter{Newest: true, Limit: 1})
	if err != nil {
		return nil, err
	}
	out := &cursorOut{}
	if len(page.Data) > 0 {
		out.Cursor = page.Data[0].ID
	}
	return out, nil
}

type deliveryPage struct {
	Data       []*deliveryView `json:"data"`
	NextCursor string          `json:"next_cursor,omitempty" jsonschema:"Pass as cursor for the next page; empty on the last"`
	Note       string          `json:"note,omitempty"`
}

func (o *deliveryPage) summary() string {
	s := fmt.Sprintf("%d deliveries, newest first", len(o.Data))
	if o.NextCursor != "" {
		s += fmt.Sprintf("; more with cursor=%q", o.NextCursor)
	}
	return s + lines(o.Data, (*deliveryView).line)
}

func (o *deliveryPage) bound(max int) string {
	if size(o) <= max {
		return ""
	}
	n := fit(o.Data, max-1000)
	o.Note = cutNote(fmt.Sprintf("%d of %d deliveries shown; the rest with cursor=next_cursor", n, len(o.Data)))
	o.Data = o.Data[:n]
	if n > 0 {
		o.NextCursor = o.Data[n-1].ID
	}
	return o.Note
}

func (t *tools) listDeliveries(ctx context.Context, _ mcp.CallToolRequest, a listDeliveriesArgs) (*deliveryPage, error) {
	f := gateway.DeliveryFilter{Status: gateway.DeliveryStatus(a.Status), Type: a.Type, Limit: pageSize(a.Limit), Cursor: a.Cursor}
	var err error
	if f.Since, err = sinceArg("since", a.Since); err != nil {
		return nil, err
	}
	if f.Until, err = sinceArg("until", a.Until); err != nil {
		return nil, err
	}
	page, err := t.gw.ListDeliveries(ctx, a.EndpointID, f)
	if err != nil {
		return nil, lookup(err, "webhook", "endpoint_id", a.EndpointID, findWebhooks)
	}
	out := &deliveryPage{Data: make([]*deliveryView, len(page.Data)), NextCursor: page.Next}
	for i, d := range page.Data {
		out.Data[i] = viewDelivery(d, attemptsInList)
	}
	return out, nil
}

type statsArgs struct {
	Since string `json:"since,omitempty" jsonschema:"The window's start: an RFC 3339 time, or a duration back from now such as 1h (default 1h)"`
}

// endpointStatsView is one webhook's stats as get_stats shows them: the ratio and the
// percentiles are left out when there was no attempt.
type endpointStatsView struct {
	WebhookID    string     `json:"webhook_id,omitempty"`
	Kind         string     `json:"kind,omitempty"`
	State        string     `json:"state,omitempty" jsonschema:"enabled, disabled or deleted"`
	Disabled     string     `json:"disabled_reason,omitempty"`
	Attempts     int        `json:"attempts"`
	Successes    int        `json:"successes"`
	Failures     int        `json:"failures"`
	SuccessRatio *float64   `json:"success_ratio,omitempty" jsonschema:"successes / attempts; left out without attempts"`
	GaveUp       int        `json:"gave_up" jsonschema:"Deliveries that failed for good in the window"`
	P50MS        *int64     `json:"p50_ms,omitempty"`
	P95MS        *int64     `json:"p95_ms,omitempty"`
	Pending      int        `json:"pending"`
	Paused       int        `json:"paused"`
	LastError    string     `json:"last_error,omitempty"`
	LastErrorAt  *time.Time `json:"last_error_at,omitempty"`
}

func viewStats(e *gateway.EndpointStats) *endpointStatsView {
	return &endpointStatsView{WebhookID: e.EndpointID, Kind: e.Kind, State: e.State, Disabled: e.DisabledReason, Attempts: e.Attempts, Successes: e.Successes,
		Failures: e.Failures, SuccessRatio: e.SuccessRatio, GaveUp: e.GaveUp, P50MS: e.P50MS, P95MS: e.P95MS, Pending: e.Pending, Paused: e.Paused,
		LastError: e.LastError, LastErrorAt: e.LastErrorAt}
}

func (e *endpointStatsView) line() string {
	s := fmt.Sprintf("%s %s: %d attempts, %d failed", e.WebhookID, e.State, e.Attempts, e.Failures)
	if e.Pending+e.Paused > 0 {
		s += fmt.Sprintf(", %d pending, %d paused", e.Pending, e.Paused)
	}
	if e.LastError != "" {
		s += fmt.Sprintf("; last error %s at %s", e.LastError, e.LastErrorAt.Format(time.RFC3339))
	}
	return s
}

type statsOut struct {
	Since      time.Time            `json:"since"`
	Until      time.Time            `json:"until"`
	Webhooks   []*endpointStatsView `json:"webhooks"`
	Totals     *endpointStatsView   `json:"totals"`
	LagSeconds float64              `json:"lag_seconds" jsonschema:"How late the oldest due, undelivered delivery is"`
	Ready      bool                 `json:"ready"`
	Reasons    []string             `json:"reasons,omitempty" jsonschema:"Why the gateway is not ready"`
	FreeBytes  uint64               `json:"free_bytes" jsonschema:"Free space on the data volume (0 when not measured)"`
	Scan       gateway.StatsScan    `json:"scan"`
	Note       string               `json:"note,omitempty"`
}

func (o *statsOut) summary() string {
	t := o.Totals
	s := fmt.Sprintf("since %s: %d attempts, %d failed, %d gave up; %d pending, %d paused; lag %.0fs", o.Since.Format(time.RFC3339), t.Attempts, t.Failures, t.GaveUp, t.Pending, t.Paused, o.LagSeconds)
	if !o.Ready {
		s += "; NOT READY: " + strings.Join(o.Reasons, "; ")
	}
	if o.Scan.Truncated {
		s += fmt.Sprintf("; counts cover only the newest %d deliveries", o.Scan.Deliveries)
	}
	return s + lines(o.Webhooks, (*endpointStatsView).line)
}

func (o *statsOut) bound(max int) string {
	if size(o) <= max {
		return ""
	}
	// The webhooks with the most failures first, so that what is cut is what went well.
	slices.SortStableFunc(o.Webhooks, func(a, b *endpointStatsView) int { return b.Failures - a.Failures })
	n := fit(o.Webhooks, max-2000)
	o.Note = cutNote(fmt.Sprintf("the %d of %d webhooks with the most failures shown; the totals count all", n, len(o.Webhooks)))
	o.Webhooks = o.Webhooks[:n]
	return o.Note
}

func (t *tools) getStats(ctx context.Context, _ mcp.CallToolRequest, a statsArgs) (*statsOut, error) {
	since, err := sinceArg("since", a.Since)
	if err != nil {
		return nil, err
	}
	st, err := t.gw.Stats(ctx, since)
	if err != nil {
		return nil, err
	}
	out := &statsOut{Since: st.Since, Until: st.Until, Webhooks: make([]*endpointStatsView, len(st.Endpoints)), Totals: viewStats(&st.Totals),
		LagSeconds: st.LagSeconds, Ready: st.Ready, Reasons: st.Reasons, FreeBytes: st.Disk.Free, Scan: st.Scan}
	for i, e := range st.Endpoints {
		out.Webhooks[i] = viewStats(e)
	}
	return out, nil
}

// sinceArg reads a time bound argument: an RFC 3339 time, or a duration back from now
// ("1h"); empty is the zero time.
func sinceArg(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, argErrorf("`%s` must be an RFC 3339 time such as 2026-06-24T14:00:00Z or a duration back from now such as 1h, not %q", name, v)
}

type deliveryOut struct {
	deliveryView
	Note string `json:"note,omitempty"`
}

func (o *deliveryOut) summary() string { return o.line() }

func (o *deliveryOut) bound(max int) string {
	if size(o) <= max {
		return ""
	}
	total := len(o.Attempts)
	newestFirst := slices.Clone(o.Attempts)
	slices.Reverse(newestFirst)
	o.Attempts = o.Attempts[total-fit(newestFirst, max-1000):]
	o.Note = cutNote(fmt.Sprintf("the newest %d of %d attempts shown; read %s for all", len(o.Attempts), total, deliveryURI(o.ID)))
	return o.Note
}

func (t *tools) getDelivery(ctx context.Context, _ mcp.CallToolRequest, a deliveryIDArgs) (*deliveryOut, error) {
	d, err := t.gw.GetDelivery(ctx, a.ID)
	if err != nil {
		return nil, lookup(err, "delivery", "id", a.ID, findDeliveries)
	}
	return &deliveryOut{deliveryView: *viewDelivery(d, len(d.Attempts))}, nil
}

type retryOut struct {
	ID     string                 `json:"id"`
	Status gateway.DeliveryStatus `json:"status"`
}

func (o *retryOut) summary() string { return o.ID + " queued for another attempt" }

func (t *tools) retryDelivery(ctx context.Context, _ mcp.CallToolRequest, a deliveryIDArgs) (*retryOut, error) {
	if err := t.gw.RetryDelivery(ctx, a.ID); err != nil {
		return nil, lookup(err, "delivery", "id", a.ID, findDeliveries)
	}
	return &retryOut{ID: a.ID, Status: gateway.StatusPending}, nil
}

type replayOut struct {
	Count int `json:"count" jsonschema:"How many deliveries were queued again"`
}

func (o *replayOut) summary() string { return fmt.Sprintf("%d deliveries queued again", o.Count) }

func (t *tools) replay(ctx context.Context, _ mcp.CallToolRequest, a replayArgs) (*replayOut, error) {
	since, err := time.Parse(time.RFC3339Nano, a.Since)
	if err != nil {
		return nil, argErrorf("`since` must be an RFC 3339 time such as 2026-06-24T14:00:00Z, not %q", a.Since)
	}
	n, err := t.gw.ReplayEndpoint(ctx, a.EndpointID, since, gateway.DeliveryStatus(a.Status))
	if err != nil {
		return nil, lookup(err, "webhook", "endpoint_id", a.EndpointID, findWebhooks)
	}
	return &replayOut{Count: n}, nil
}

type typeItem struct {
	Name        string `json:"name"`
	Provider    string `json:"provider"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Builtin     bool   `json:"builtin"`
}

type typesOut struct {
	Data []typeItem `json:"data"`
}

func (o *typesOut) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d event type(s)", len(o.Data))
	for _, ty := range o.Data {
		fmt.Fprintf(&b, "\n%s (%s)", ty.Name, ty.Provider)
	}
	return b.String()
}

func (t *tools) listEventTypes(ctx context.Context, _ mcp.CallToolRequest, a listEventTypesArgs) (*typesOut, error) {
	types, err := t.gw.ListEventTypes(ctx, a.Provider)
	if err != nil {
		return nil, err
	}
	out := &typesOut{Data: make([]typeItem, len(types))}
	for i, ty := range types {
		out.Data[i] = typeItem{Name: ty.Name, Provider: ty.Provider, Title: ty.Title, Description: ty.Description, Builtin: ty.Builtin}
	}
	return out, nil
}

// schemaOut is an export of an event type in the format asked for: a JSON Schema, a
// sample envelope, Zapier's outputFields; Make's list of fields comes as {spec: […]}
// (structured content must be an object).
type schemaOut map[string]any

func (o schemaOut) summary() string {
	keys := make([]string, 0, len(o))
	for k := range o {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return fmt.Sprintf("the export, an object with %s: see the structured result", strings.Join(keys, ", "))
}

func (t *tools) getEventSchema(ctx context.Context, _ mcp.CallToolRequest, a getEventSchemaArgs) (*schemaOut, error) {
	out, err := t.gw.ExportEventType(ctx, a.Name, a.Provider, a.Format)
	if err != nil {
		return nil, lookup(err, "event type", "name", a.Name, findTypes)
	}
	v, err := schemas.DecodeJSON(out) // numbers as written: a float64 would round big ids
	if err != nil {
		return nil, fmt.Errorf("decode export: %w", err)
	}
	obj, isObject := v.(map[string]any)
	if !isObject {
		obj = map[string]any{"spec": v}
	}
	so := schemaOut(obj)
	return &so, nil
}

type sourceOut struct {
	Source *gateway.Source `json:"source"`
}

func (o *sourceOut) summary() string {
	where := o.Source.URL
	if where == "" {
		where = "/in/" + o.Source.ID + " on the gateway's public address"
	}
	return fmt.Sprintf("created %s source %s; give the provider this URL: %s", o.Source.Provider, o.Source.ID, where)
}

func (t *tools) createSource(ctx context.Context, _ mcp.CallToolRequest, a createSourceArgs) (*sourceOut, error) {
	in := gateway.SourceInput{Name: a.Name, Provider: a.Provider, Secret: a.Secret, Mapping: a.Mapping}
	var err error
	if in.Verify, err = rawJSON(a.Verify); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	if in.Sample, err = rawJSON(a.Sample); err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	src, err := t.gw.CreateSource(ctx, in)
	if err != nil {
		return nil, err
	}
	t.fillURL(src)
	return &sourceOut{Source: src.CreatedView()}, nil // the one answer with the whole URL (an uploadpost token in it)
}

type sourcesOut struct {
	Data []*gateway.Source `json:"data"`
	Note string            `json:"note,omitempty"`
}

func (o *sourcesOut) summary() string {
	return fmt.Sprintf("%d source(s)", len(o.Data)) + lines(o.Data, func(src *gateway.Source) string {
		return fmt.Sprintf("%s %s (%s) %s", src.ID, src.Name, src.Provider, src.URL)
	})
}

func (o *sourcesOut) bound(max int) string {
	if size(o) <= max {
		return ""
	}
	n := fit(o.Data, max-1000)
	o.Note = cutNote(fmt.Sprintf("%d of %d sources shown; GET /v1/sources lists them all", n, len(o.Data)))
	o.Data = o.Data[:n]
	return o.Note
}

func (t *tools) listSources(ctx context.Context, _ mcp.CallToolRequest, _ struct{}) (*sourcesOut, error) {
	srcs, err := t.gw.ListSources(ctx)
	if err != nil {
		return nil, err
	}
	for i, src := range srcs {
		t.fillURL(src)
		srcs[i] = src.Public()
	}
	if srcs == nil {
		srcs = []*gateway.Source{}
	}
	return &sourcesOut{Data: srcs}, nil
}

// fillURL sets a source's catch-hook URL from the server's public URL when the Gateway
// didn't (an in-process gateway started without --public-url).
func (t *tools) fillURL(src *gateway.Source) {
	if src.URL == "" && t.opts.PublicURL != "" {
		src.URL = src.CatchHookURL(t.opts.PublicURL)
	}
}

// rawJSON re-encodes a decoded tool argument (nil stays nil).
func rawJSON(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

package mcp

import (
	"context"
	"encoding/json"
	"fmt"
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

// endpointSettingsArgs are the per-kind settings of create_webhook, as in POST /v1/endpoints.
type endpointSettingsArgs struct {
	Kind          string                `json:"kind,omitempty" jsonschema:"webhook (default), zapier, make, n8n, slack or telegram"`
	RateLimitPerS float64               `json:"rate_limit_per_s,omitempty" jsonschema:"At most this many deliveries per second to this webhook (make defaults to 25)"`
	Mapping       string                `json:"mapping,omitempty" jsonschema:"A jq program that reshapes the envelope before delivery, e.g. {post_url: .data.post_url, at: .created}"`
	OutputSchema  any                   `json:"output_schema,omitempty" jsonschema:"A JSON Schema the mapped payload must satisfy"`
	Template      string                `json:"template,omitempty" jsonschema:"slack, telegram: a Go text/template over the payload, e.g. Video posted on {{.data.platform}}: {{.data.post_url}}"`
	ChatID        string                `json:"chat_id,omitempty" jsonschema:"telegram: the chat to post to"`
	BotToken      string                `json:"bot_token,omitempty" jsonschema:"telegram: the bot token (123456:ABC…)"`
	APIKey        string                `json:"api_key,omitempty" jsonschema:"make: sent as x-make-apikey"`
	Auth          *gateway.EndpointAuth `json:"auth,omitempty" jsonschema:"n8n (or any kind): {type: header, name, value} or {type: basic, username, password}"`
}

func (a endpointSettingsArgs) settings() (gateway.EndpointSettings, error) {
	st := gateway.EndpointSettings{RateLimitPerS: a.RateLimitPerS, Mapping: a.Mapping, Template: a.Template,
		ChatID: a.ChatID, BotToken: a.BotToken, APIKey: a.APIKey, Auth: a.Auth}
	var err error
	st.OutputSchema, err = rawJSON(a.OutputSchema)
	return st, err
}

type listWebhooksArgs struct {
	Event   string `json:"event,omitempty" jsonschema:"Only webhooks that would receive this event type"`
	Enabled *bool  `json:"enabled,omitempty" jsonschema:"Only enabled (true) or disabled (false) webhooks"`
	Limit   int    `json:"limit,omitempty" jsonschema:"Page size, default 50"`
	Cursor  string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page"`
}

type updateWebhookArgs struct {
	ID            string             `json:"id" jsonschema:"Webhook (endpoint) id"`
	URL           *string            `json:"url,omitempty" jsonschema:"New URL"`
	Events        *[]string          `json:"events,omitempty" jsonschema:"New event types or patterns"`
	Description   *string            `json:"description,omitempty" jsonschema:"New description"`
	Enabled       *bool              `json:"enabled,omitempty" jsonschema:"Enable or disable. Enabling resets the failure streak and sends the deliveries kept while disabled."`
	Headers       *map[string]string `json:"headers,omitempty" jsonschema:"Replace the extra headers"`
	DiscardPaused bool               `json:"discard_paused,omitempty" jsonschema:"With enabled=true: cancel the deliveries kept while disabled instead of sending them"`
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

type idArgs struct {
	ID string `json:"id" jsonschema:"The id"`
}

type listEventsArgs struct {
	Type   string `json:"type,omitempty" jsonschema:"Event type or pattern (video.*, *)"`
	Source string `json:"source,omitempty" jsonschema:"Only events from this source"`
	After  string `json:"after,omitempty" jsonschema:"Only events stored after this event id (the next_cursor of a previous call)"`
	Limit  int    `json:"limit,omitempty" jsonschema:"Page size, default 50"`
}

type listDeliveriesArgs struct {
	EndpointID string `json:"endpoint_id" jsonschema:"Webhook (endpoint) id"`
	Status     string `json:"status,omitempty" jsonschema:"pending, paused, succeeded, failed or canceled"`
	Limit      int    `json:"limit,omitempty" jsonschema:"Page size, default 50"`
	Cursor     string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page"`
}

type replayArgs struct {
	EndpointID string `json:"endpoint_id" jsonschema:"Webhook (endpoint) id"`
	Since      string `json:"since" jsonschema:"RFC 3339 time: deliveries created since then are queued again"`
	Status     string `json:"status,omitempty" jsonschema:"Which deliveries: failed (default), canceled or succeeded"`
}

// handler adapts a typed function to a tool handler that turns errors into tool results.
func handler[T any](f func(ctx context.Context, req mcp.CallToolRequest, args T) (*mcp.CallToolResult, error)) server.ToolHandlerFunc {
	return mcp.NewTypedToolHandler(func(ctx context.Context, req mcp.CallToolRequest, args T) (*mcp.CallToolResult, error) {
		res, err := f(ctx, req, args)
		if err != nil {
			return failure(err), nil
		}
		return res, nil
	})
}

func (t *tools) register(s *server.MCPServer) {
	s.AddTool(mcp.NewTool("publish_event",
		mcp.WithDescription("Publish an event. It is validated, stored durably and delivered to every webhook subscribed to its type. Returns the event id and how many deliveries were made; a repeated id is reported as a duplicate and sends nothing."),
		mcp.WithInputSchema[publishArgs](),
	), handler(t.publish))
	s.AddTool(mcp.NewTool("create_webhook",
		mcp.WithDescription("Register a webhook (an HTTPS endpoint) for some event types. Returns the webhook with its signing secret (whsec_…), which is shown only this once: deliveries carry Standard Webhooks signatures made with it."),
		mcp.WithInputSchema[createWebhookArgs](),
	), handler(t.createWebhook))
	s.AddTool(mcp.NewTool("list_webhooks",
		mcp.WithDescription("List registered webhooks, oldest first, with their state (enabled, failure streak, why disabled)."),
		mcp.WithInputSchema[listWebhooksArgs](),
	), handler(t.listWebhooks))
	s.AddTool(mcp.NewTool("update_webhook",
		mcp.WithDescription("Change a webhook: URL, event types, description, headers, or enabled. Re-enabling sends the events kept while it was disabled (unless discard_paused)."),
		mcp.WithInputSchema[updateWebhookArgs](),
	), handler(t.updateWebhook))
	s.AddTool(mcp.NewTool("delete_webhook",
		mcp.WithDescription("Delete a webhook. Its queued deliveries are canceled."),
		mcp.WithInputSchema[idArgs](),
	), handler(t.deleteWebhook))
	s.AddTool(mcp.NewTool("rotate_webhook_secret",
		mcp.WithDescription("Give a webhook a new signing secret (returned once). The old secret keeps signing alongside for 24 hours."),
		mcp.WithInputSchema[idArgs](),
	), handler(t.rotateSecret))
	s.AddTool(mcp.NewTool("send_test_event",
		mcp.WithDescription("Send a ping event to one webhook only, to check it is reachable. Returns the delivery id; see get_delivery for the outcome."),
		mcp.WithInputSchema[idArgs](),
	), handler(t.sendTest))
	s.AddTool(mcp.NewTool("list_events",
		mcp.WithDescription("List stored events in arrival order (oldest first). Pass next_cursor as after to continue."),
		mcp.WithInputSchema[listEventsArgs](),
	), handler(t.listEvents))
	s.AddTool(mcp.NewTool("get_event",
		mcp.WithDescription("Get one event with its deliveries (one per webhook it was sent to)."),
		mcp.WithInputSchema[idArgs](),
	), handler(t.getEvent))
	s.AddTool(mcp.NewTool("list_deliveries",
		mcp.WithDescription("List a webhook's deliveries, newest first, optionally by status (pending, paused, succeeded, failed, canceled)."),
		mcp.WithInputSchema[listDeliveriesArgs](),
	), handler(t.listDeliveries))
	s.AddTool(mcp.NewTool("get_delivery",
		mcp.WithDescription("Get one delivery with every attempt: time, HTTP status, duration, error and the start of the response body."),
		mcp.WithInputSchema[idArgs](),
	), handler(t.getDelivery))
	s.AddTool(mcp.NewTool("retry_delivery",
		mcp.WithDescription("Attempt a delivery again now, with a fresh retry schedule (for failed or canceled deliveries)."),
		mcp.WithInputSchema[idArgs](),
	), handler(t.retryDelivery))
	s.AddTool(mcp.NewTool("replay_deliveries",
		mcp.WithDescription("Queue again every failed delivery of a webhook created since a time, e.g. after fixing the receiver."),
		mcp.WithInputSchema[replayArgs](),
	), handler(t.replay))
	s.AddTool(mcp.NewTool("list_event_types",
		mcp.WithDescription("List the event types hookgate knows (TokPortal, Upload-Post, Oktopost, tinyposter, its own, and custom ones), with what each means."),
		mcp.WithInputSchema[listEventTypesArgs](),
	), handler(t.listEventTypes))
	s.AddTool(mcp.NewTool("get_event_schema",
		mcp.WithDescription("Get an event type's schema: the JSON Schema of its data, a sample envelope exactly as delivered, Zapier output fields or a Make data structure."),
		mcp.WithInputSchema[getEventSchemaArgs](),
	), handler(t.getEventSchema))
	s.AddTool(mcp.NewTool("create_source",
		mcp.WithDescription("Create a catch hook: a URL to paste into a provider's webhook settings (TokPortal, tinyposter, Upload-Post, Oktopost, any Standard Webhooks sender, or a generic one). Every call to it is verified with the provider's signature, mapped to hookgate's envelope, deduplicated, validated and delivered to the matching webhooks. Returns the source and its url."),
		mcp.WithInputSchema[createSourceArgs](),
	), handler(t.createSource))
	s.AddTool(mcp.NewTool("list_sources",
		mcp.WithDescription("List the catch hooks (sources) with their URLs and providers. Secrets and URL tokens are masked: the whole URL is shown when a source is created, or by GET /v1/sources/{id}/url."),
		mcp.WithInputSchema[struct{}](),
	), handler(t.listSources))
	s.AddTool(mcp.NewTool("await_event",
		mcp.WithDescription(awaitDescription),
		mcp.WithInputSchema[awaitArgs](),
	), handler(t.await))
}

func (t *tools) publish(ctx context.Context, _ mcp.CallToolRequest, a publishArgs) (*mcp.CallToolResult, error) {
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
	out := map[string]any{"id": res.ID, "deliveries": res.Deliveries, "duplicate": res.Duplicate}
	if res.Duplicate {
		return result(out, fmt.Sprintf("%s was already published; nothing sent", res.ID)), nil
	}
	return result(out, fmt.Sprintf("published %s (%s) to %d webhook(s)", res.ID, a.Type, res.Deliveries)), nil
}

func (t *tools) createWebhook(ctx context.Context, _ mcp.CallToolRequest, a createWebhookArgs) (*mcp.CallToolResult, error) {
	st, err := a.settings()
	if err != nil {
		return nil, fmt.Errorf("output_schema: %w", err)
	}
	ep, secret, err := t.gw.CreateEndpoint(ctx, gateway.EndpointInput{URL: a.URL, Events: a.Events, Description: a.Description, Enabled: a.Enabled, Headers: a.Headers, Source: a.Source, Kind: a.Kind, EndpointSettings: st})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"webhook": ep, "secret": secret}
	return result(out, fmt.Sprintf("created webhook %s for %v → %s; signing secret %s (shown only now)", ep.ID, ep.Events, ep.URL, secret)), nil
}

func (t *tools) listWebhooks(ctx context.Context, _ mcp.CallToolRequest, a listWebhooksArgs) (*mcp.CallToolResult, error) {
	page, err := t.gw.ListEndpoints(ctx, gateway.EndpointFilter{Event: a.Event, Enabled: a.Enabled, Limit: a.Limit, Cursor: a.Cursor})
	if err != nil {
		return nil, err
	}
	return result(page, fmt.Sprintf("%d webhook(s): %s", len(page.Data), toJSON(page.Data))), nil
}

func (t *tools) updateWebhook(ctx context.Context, _ mcp.CallToolRequest, a updateWebhookArgs) (*mcp.CallToolResult, error) {
	ep, err := t.gw.UpdateEndpoint(ctx, a.ID, gateway.EndpointPatch{URL: a.URL, Events: a.Events, Description: a.Description, Enabled: a.Enabled, Headers: a.Headers, DiscardPaused: a.DiscardPaused})
	if err != nil {
		return nil, err
	}
	return result(map[string]any{"webhook": ep}, fmt.Sprintf("updated webhook %s (enabled=%v)", ep.ID, ep.Enabled)), nil
}

func (t *tools) deleteWebhook(ctx context.Context, _ mcp.CallToolRequest, a idArgs) (*mcp.CallToolResult, error) {
	if err := t.gw.DeleteEndpoint(ctx, a.ID); err != nil {
		return nil, err
	}
	return result(map[string]any{"id": a.ID, "deleted": true}, "deleted webhook "+a.ID), nil
}

func (t *tools) rotateSecret(ctx context.Context, _ mcp.CallToolRequest, a idArgs) (*mcp.CallToolResult, error) {
	secret, err := t.gw.RotateSecret(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return result(map[string]any{"id": a.ID, "secret": secret}, "new signing secret "+secret+" (the old one keeps signing for 24 h)"), nil
}

func (t *tools) sendTest(ctx context.Context, _ mcp.CallToolRequest, a idArgs) (*mcp.CallToolResult, error) {
	did, err := t.gw.TestEndpoint(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return result(map[string]any{"delivery_id": did}, "ping queued as delivery "+did+"; call get_delivery to see the outcome"), nil
}

func (t *tools) listEvents(ctx context.Context, _ mcp.CallToolRequest, a listEventsArgs) (*mcp.CallToolResult, error) {
	page, err := t.gw.ListEvents(ctx, gateway.EventFilter{Type: a.Type, Source: a.Source, After: a.After, Limit: a.Limit})
	if err != nil {
		return nil, err
	}
	return result(page, fmt.Sprintf("%d event(s), next_cursor %q: %s", len(page.Data), page.Next, toJSON(page.Data))), nil
}

func (t *tools) getEvent(ctx context.Context, _ mcp.CallToolRequest, a idArgs) (*mcp.CallToolResult, error) {
	ev, dls, err := t.gw.GetEvent(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	if dls == nil {
		dls = []*gateway.Delivery{}
	}
	out := map[string]any{"event": ev, "deliveries": dls}
	return result(out, toJSON(out)), nil
}

func (t *tools) listDeliveries(ctx context.Context, _ mcp.CallToolRequest, a listDeliveriesArgs) (*mcp.CallToolResult, error) {
	page, err := t.gw.ListDeliveries(ctx, a.EndpointID, gateway.DeliveryFilter{Status: gateway.DeliveryStatus(a.Status), Limit: a.Limit, Cursor: a.Cursor})
	if err != nil {
		return nil, err
	}
	return result(page, fmt.Sprintf("%d deliveries: %s", len(page.Data), toJSON(page.Data))), nil
}

func (t *tools) getDelivery(ctx context.Context, _ mcp.CallToolRequest, a idArgs) (*mcp.CallToolResult, error) {
	d, err := t.gw.GetDelivery(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return result(d, toJSON(d)), nil
}

func (t *tools) retryDelivery(ctx context.Context, _ mcp.CallToolRequest, a idArgs) (*mcp.CallToolResult, error) {
	if err := t.gw.RetryDelivery(ctx, a.ID); err != nil {
		return nil, err
	}
	return result(map[string]any{"id": a.ID, "status": gateway.StatusPending}, a.ID+" queued for another attempt"), nil
}

func (t *tools) replay(ctx context.Context, _ mcp.CallToolRequest, a replayArgs) (*mcp.CallToolResult, error) {
	since, err := time.Parse(time.RFC3339Nano, a.Since)
	if err != nil {
		return nil, &gateway.ValidationError{Field: "since", Message: "must be an RFC 3339 time such as 2026-06-24T14:00:00Z"}
	}
	n, err := t.gw.ReplayEndpoint(ctx, a.EndpointID, since, gateway.DeliveryStatus(a.Status))
	if err != nil {
		return nil, err
	}
	return result(map[string]any{"count": n}, fmt.Sprintf("%d deliveries queued again", n)), nil
}

func (t *tools) listEventTypes(ctx context.Context, _ mcp.CallToolRequest, a listEventTypesArgs) (*mcp.CallToolResult, error) {
	types, err := t.gw.ListEventTypes(ctx, a.Provider)
	if err != nil {
		return nil, err
	}
	items := make([]map[string]any, len(types))
	var text strings.Builder
	for i, ty := range types {
		items[i] = map[string]any{"name": ty.Name, "provider": ty.Provider, "title": ty.Title, "description": ty.Description, "builtin": ty.Builtin}
		fmt.Fprintf(&text, "%s (%s): %s\n", ty.Name, ty.Provider, ty.Description)
	}
	return result(map[string]any{"data": items}, text.String()), nil
}

func (t *tools) getEventSchema(ctx context.Context, _ mcp.CallToolRequest, a getEventSchemaArgs) (*mcp.CallToolResult, error) {
	out, err := t.gw.ExportEventType(ctx, a.Name, a.Provider, a.Format)
	if err != nil {
		return nil, err
	}
	v, err := schemas.DecodeJSON(out) // numbers as written: a float64 would round big ids
	if err != nil {
		return nil, fmt.Errorf("decode export: %w", err)
	}
	if _, isObject := v.(map[string]any); !isObject {
		v = map[string]any{"spec": v} // structured content must be an object (Make's spec is a list)
	}
	return result(v, string(out)), nil
}

func (t *tools) createSource(ctx context.Context, _ mcp.CallToolRequest, a createSourceArgs) (*mcp.CallToolResult, error) {
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
	src = src.CreatedView() // the one answer with the whole URL (an uploadpost token in it)
	where := src.URL
	if where == "" {
		where = "/in/" + src.ID + " on the gateway's public address"
	}
	return result(map[string]any{"source": src}, fmt.Sprintf("created %s source %s; give the provider this URL: %s", src.Provider, src.ID, where)), nil
}

func (t *tools) listSources(ctx context.Context, _ mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, error) {
	srcs, err := t.gw.ListSources(ctx)
	if err != nil {
		return nil, err
	}
	var text strings.Builder
	for i, src := range srcs {
		t.fillURL(src)
		src = src.Public()
		srcs[i] = src
		fmt.Fprintf(&text, "%s %s (%s) %s\n", src.ID, src.Name, src.Provider, src.URL)
	}
	return result(map[string]any{"data": srcs}, fmt.Sprintf("%d source(s)\n%s", len(srcs), text.String())), nil
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

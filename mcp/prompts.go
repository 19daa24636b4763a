package mcp

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Prompt names.
const (
	promptWireProvider = "wire_provider"
	promptWaitForPost  = "wait_for_post"
)

// sourceProviders are the providers create_source has a preset for, as the wire_provider
// prompt offers them.
var sourceProviders = []string{"tokportal", "tinyposter", "uploadpost", "oktopost", "standard-webhooks", "generic"}

// providerSecrets says, per provider, where the signing secret comes from.
var providerSecrets = map[string]string{
	"tokportal":         "TokPortal's webhook secret",
	"tinyposter":        "the endpoint's signing secret (whsec_…) tinyposter shows once when you add the endpoint at /dashboard/webhooks",
	"uploadpost":        "none: leave secret empty and hookgate puts a token in the URL (Upload-Post signs nothing)",
	"oktopost":          "the Secret Oktopost returns when the webhook is created",
	"standard-webhooks": "the sender's signing secret (whsec_ followed by base64)",
	"generic":           "depends on the sender: also pass verify {type: hmac|basic|api_key|none, …} and a mapping",
}

// registerPrompts adds the two guided workflows: wiring a provider in, and waiting for a
// post's outcome without missing it.
func registerPrompts(s *server.MCPServer) {
	s.AddPrompt(mcp.NewPrompt(promptWireProvider,
		mcp.WithPromptTitle("Wire a provider"),
		mcp.WithPromptDescription("Connect a provider (TokPortal, tinyposter, Upload-Post, Oktopost…) to hookgate: create its catch hook, subscribe a webhook to its events, send a test."),
		mcp.WithArgument("provider", mcp.RequiredArgument(), mcp.ArgumentDescription("tokportal, tinyposter, uploadpost, oktopost, standard-webhooks or generic")),
		mcp.WithArgument("webhook_url", mcp.ArgumentDescription("HTTPS URL that should receive the provider's events (optional: skip the webhook without it)")),
		mcp.WithArgument("events", mcp.ArgumentDescription("Event types or patterns to subscribe the webhook to, comma-separated (default *)")),
	), wireProvider)
	s.AddPrompt(mcp.NewPrompt(promptWaitForPost,
		mcp.WithPromptTitle("Wait for a post"),
		mcp.WithPromptDescription("Start a post (publish an event or trigger the provider) and wait for its outcome event for one bundle, with a cursor taken first so that it can't be missed."),
		mcp.WithArgument("bundle_id", mcp.RequiredArgument(), mcp.ArgumentDescription("The bundle whose post to wait for, e.g. b_42")),
		mcp.WithArgument("type", mcp.ArgumentDescription("The event type to wait for (default video.posted)")),
		mcp.WithArgument("trigger", mcp.ArgumentDescription("What starts the post: an event type to publish (e.g. bundle.ready), or a description of the action to take")),
	), waitForPost)
}

func wireProvider(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	args := req.Params.Arguments
	provider := args["provider"]
	secret, ok := providerSecrets[provider]
	if !ok {
		return nil, fmt.Errorf("provider must be one of %s, not %q", strings.Join(sourceProviders, ", "), provider)
	}
	events := "*"
	if e := strings.TrimSpace(args["events"]); e != "" {
		events = e
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Connect %s to hookgate, step by step, with hookgate's tools:\n\n", provider)
	fmt.Fprintf(&b, "1. Call create_source {name: %q, provider: %q, secret: <secret>}. The secret: %s. Ask me for it if you don't have it.\n", provider+"-main", provider, secret)
	b.WriteString("2. Give me the source's url from the result and tell me where to paste it in the provider's webhook settings. It is shown whole only this once.\n")
	if u := strings.TrimSpace(args["webhook_url"]); u != "" {
		evs := strings.Split(events, ",")
		for i := range evs {
			evs[i] = fmt.Sprintf("%q", strings.TrimSpace(evs[i]))
		}
		fmt.Fprintf(&b, "3. Call create_webhook {url: %q, events: [%s], source: <the source id>} so that the provider's events are delivered there. Keep the secret it returns (shown once): the receiver checks signatures with it.\n", u, strings.Join(evs, ", "))
		b.WriteString("4. Call send_test_event {id: <the webhook id>}, then get_delivery {id: <the delivery id>} until its status is succeeded or failed, and tell me the outcome (on failure, the HTTP status and error of the last attempt).\n")
	} else {
		b.WriteString("3. No webhook_url was given: skip subscribing a webhook. Events from the provider can be awaited with await_event {type, source: <the source id>}.\n")
	}
	b.WriteString("Use list_event_types {provider} to see which events this provider sends.")
	return mcp.NewGetPromptResult("Wire "+provider+" into hookgate", []mcp.PromptMessage{
		mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(b.String())),
	}), nil
}

func waitForPost(_ context.Context, req mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	args := req.Params.Arguments
	bundle := strings.TrimSpace(args["bundle_id"])
	if bundle == "" {
		return nil, fmt.Errorf("bundle_id is required")
	}
	typ := strings.TrimSpace(args["type"])
	if typ == "" {
		typ = "video.posted"
	}
	filter := fmt.Sprintf(".data.bundle_id == %q", bundle)
	var b strings.Builder
	fmt.Fprintf(&b, "Wait for %s for bundle %s, without missing it:\n\n", typ, bundle)
	switch trigger := strings.TrimSpace(args["trigger"]); {
	case trigger != "" && !strings.Contains(trigger, " "):
		fmt.Fprintf(&b, "1. Call publish_event {type: %q, data: {bundle_id: %q, …}}. The id it returns is your cursor: events stored after it are the ones this action can cause.\n", trigger, bundle)
	case trigger != "":
		fmt.Fprintf(&b, "1. Call get_cursor first and keep its cursor (the newest event's id). Then: %s.\n", trigger)
	default:
		b.WriteString("1. Call get_cursor first and keep its cursor (the newest event's id). Then start the post (publish its event or trigger the provider).\n")
	}
	fmt.Fprintf(&b, "2. Call await_event {type: %q, filter: %q, after: <the cursor>}. Don't use list_events' next_cursor as the cursor: it is where a listing stopped, possibly long ago, and would return old events.\n", typ, filter)
	b.WriteString("3. If it times out (timed_out true), call await_event again with after set to the cursor it returned, until the event arrives or I say to stop.\n")
	fmt.Fprintf(&b, "4. Report the event's data (for video.posted: platform and post_url). Also watch for post.failed: await_event {type: \"post.failed\", filter: %q, after: <the same cursor>} tells you if it failed instead.", filter)
	return mcp.NewGetPromptResult("Wait for "+typ+" of "+bundle, []mcp.PromptMessage{
		mcp.NewPromptMessage(mcp.RoleUser, mcp.NewTextContent(b.String())),
	}), nil
}

// completions suggests event type names (the wait_for_post prompt's type and trigger, the
// event-types resource's name) and providers (wire_provider's provider).
type completions struct{ gw Gateway }

var (
	_ server.PromptCompletionProvider   = completions{}
	_ server.ResourceCompletionProvider = completions{}
)

// CompletePromptArgument completes a prompt argument from what hookgate knows.
func (c completions) CompletePromptArgument(ctx context.Context, prompt string, arg mcp.CompleteArgument, _ mcp.CompleteContext) (*mcp.Completion, error) {
	switch {
	case prompt == promptWireProvider && arg.Name == "provider":
		return complete(sourceProviders, arg.Value), nil
	case prompt == promptWaitForPost && (arg.Name == "type" || arg.Name == "trigger"):
		return c.typeNames(ctx, arg.Value)
	}
	return complete(nil, ""), nil
}

// CompleteResourceArgument completes a resource template's variable.
func (c completions) CompleteResourceArgument(ctx context.Context, uri string, arg mcp.CompleteArgument, _ mcp.CompleteContext) (*mcp.Completion, error) {
	if uri == eventTypeTemplate && arg.Name == "name" {
		return c.typeNames(ctx, arg.Value)
	}
	return complete(nil, ""), nil
}

func (c completions) typeNames(ctx context.Context, prefix string) (*mcp.Completion, error) {
	types, err := c.gw.ListEventTypes(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list event types: %w", err)
	}
	names := make([]string, 0, len(types))
	for _, t := range types {
		names = append(names, t.Name)
	}
	return complete(names, prefix), nil
}

// complete returns the values that start with prefix, sorted, without repeats, at most
// 100 (the protocol's limit) with the total.
func complete(values []string, prefix string) *mcp.Completion {
	var out []string
	for _, v := range values {
		if strings.HasPrefix(v, prefix) {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	c := &mcp.Completion{Values: out, Total: len(out)}
	if c.Values == nil {
		c.Values = []string{}
	}
	if len(out) > 100 {
		c.Values, c.HasMore = out[:100], true
	}
	return c
}

package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hookgate/hookgate/gateway"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Resource templates.
const (
	eventTemplate     = "hookgate://events/{id}"
	deliveryTemplate  = "hookgate://deliveries/{id}"
	eventTypeTemplate = "hookgate://event-types/{name}"
)

// registerResources adds the read-only views: recent events, one event or delivery by id
// (whole: this is where a tool result that cut a large payload points), and an event
// type's schema.
func registerResources(s *server.MCPServer, gw Gateway) {
	s.AddResource(mcp.NewResource("hookgate://events", "Recent events",
		mcp.WithResourceDescription("The 50 most recent events, newest first, with their envelopes."),
		mcp.WithMIMEType("application/json"),
	), func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		page, err := gw.ListEvents(ctx, gateway.EventFilter{Newest: true, Limit: 50})
		if err != nil {
			return nil, err
		}
		return jsonContents(req.Params.URI, page.Data)
	})
	s.AddResourceTemplate(mcp.NewResourceTemplate(eventTypeTemplate, "Event type schema",
		mcp.WithTemplateDescription("The JSON Schema of an event type's data (completions suggest the names)."),
		mcp.WithTemplateMIMEType("application/schema+json"),
	), func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		t, err := gw.GetEventType(ctx, strings.TrimPrefix(req.Params.URI, "hookgate://event-types/"), "")
		if err != nil {
			return nil, err
		}
		return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "application/schema+json", Text: string(t.Schema)}}, nil
	})
	s.AddResourceTemplate(mcp.NewResourceTemplate(eventTemplate, "Event",
		mcp.WithTemplateDescription("One event, its data whole however large, with its deliveries and their attempts."),
		mcp.WithTemplateMIMEType("application/json"),
	), func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		ev, dls, err := gw.GetEvent(ctx, strings.TrimPrefix(req.Params.URI, "hookgate://events/"))
		if err != nil {
			return nil, err
		}
		if dls == nil {
			dls = []*gateway.Delivery{}
		}
		return jsonContents(req.Params.URI, map[string]any{"event": ev, "deliveries": dls})
	})
	s.AddResourceTemplate(mcp.NewResourceTemplate(deliveryTemplate, "Delivery",
		mcp.WithTemplateDescription("One delivery with every attempt: time, HTTP status, duration, error and the start of the response body."),
		mcp.WithTemplateMIMEType("application/json"),
	), func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		d, err := gw.GetDelivery(ctx, strings.TrimPrefix(req.Params.URI, "hookgate://deliveries/"))
		if err != nil {
			return nil, err
		}
		return jsonContents(req.Params.URI, d)
	})
}

// missingResources is a BeforeReadResource hook that makes a read of an event, delivery
// or event type that doesn't exist a "resource not found" error (-32002; -32602 from
// protocol 2026-07-28 on) rather than an internal error: mcp-go answers every error a
// resource handler returns with -32603, and "not found" only for a URI no resource or
// template matches, so the hook points such a read at a URI that matches none, saying what
// was missing.
func missingResources(gw Gateway) server.OnBeforeReadResourceFunc {
	return func(ctx context.Context, _ any, req *mcp.ReadResourceRequest) {
		uri := req.Params.URI
		var (
			what string
			err  error
		)
		switch {
		case strings.HasPrefix(uri, "hookgate://events/"):
			what = "event"
			_, _, err = gw.GetEvent(ctx, strings.TrimPrefix(uri, "hookgate://events/"))
		case strings.HasPrefix(uri, "hookgate://deliveries/"):
			what = "delivery"
			_, err = gw.GetDelivery(ctx, strings.TrimPrefix(uri, "hookgate://deliveries/"))
		case strings.HasPrefix(uri, "hookgate://event-types/"):
			what = "event type"
			_, err = gw.GetEventType(ctx, strings.TrimPrefix(uri, "hookgate://event-types/"), "")
		default:
			return
		}
		if errors.Is(err, gateway.ErrNotFound) {
			req.Params.URI = fmt.Sprintf("no such %s: %s", what, uri)
		}
	}
}

func jsonContents(uri string, v any) ([]mcp.ResourceContents, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", uri, err)
	}
	return []mcp.ResourceContents{mcp.TextResourceContents{URI: uri, MIMEType: "application/json", Text: string(b)}}, nil
}

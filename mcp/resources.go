package mcp

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hookgate/hookgate/gateway"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// registerResources adds the read-only views: recent events, one event by id, and an event
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
	s.AddResourceTemplate(mcp.NewResourceTemplate("hookgate://event-types/{name}", "Event type schema",
		mcp.WithTemplateDescription("The JSON Schema of an event type's data."),
		mcp.WithTemplateMIMEType("application/schema+json"),
	), func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		name := strings.TrimPrefix(req.Params.URI, "hookgate://event-types/")
		t, err := gw.GetEventType(ctx, name, "")
		if err != nil {
			return nil, err
		}
		return []mcp.ResourceContents{mcp.TextResourceContents{URI: req.Params.URI, MIMEType: "application/schema+json", Text: string(t.Schema)}}, nil
	})
	s.AddResourceTemplate(mcp.NewResourceTemplate("hookgate://events/{id}", "Event",
		mcp.WithTemplateDescription("One event with its deliveries and their attempts."),
		mcp.WithTemplateMIMEType("application/json"),
	), func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		id := strings.TrimPrefix(req.Params.URI, "hookgate://events/")
		ev, dls, err := gw.GetEvent(ctx, id)
		if err != nil {
			return nil, err
		}
		if dls == nil {
			dls = []*gateway.Delivery{}
		}
		return jsonContents(req.Params.URI, map[string]any{"event": ev, "deliveries": dls})
	})
}

func jsonContents(uri string, v any) ([]mcp.ResourceContents, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", uri, err)
	}
	return []mcp.ResourceContents{mcp.TextResourceContents{URI: uri, MIMEType: "application/json", Text: string(b)}}, nil
}

package mcp

import (
	"context"

	"github.com/hookgate/hookgate/gateway"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// toolScopes is the scope each tool needs, the MCP side of httpapi's route table: read for
// lists, gets, awaits and exports; publish for publish_event; manage for changing webhooks,
// catch hooks and deliveries. checkScope reads it for every call; a tool missing here needs
// manage (TestEveryToolHasAScope keeps it complete). Every resource needs read.
var toolScopes = map[string]gateway.Scope{
	"publish_event":         gateway.ScopePublish,
	"create_webhook":        gateway.ScopeManage,
	"list_webhooks":         gateway.ScopeRead,
	"update_webhook":        gateway.ScopeManage,
	"delete_webhook":        gateway.ScopeManage,
	"rotate_webhook_secret": gateway.ScopeManage,
	"send_test_event":       gateway.ScopeManage,
	"list_events":           gateway.ScopeRead,
	"get_event":             gateway.ScopeRead,
	"get_cursor":            gateway.ScopeRead,
	"list_deliveries":       gateway.ScopeRead,
	"get_stats":             gateway.ScopeRead,
	"get_delivery":          gateway.ScopeRead,
	"retry_delivery":        gateway.ScopeManage,
	"replay_deliveries":     gateway.ScopeManage,
	"list_event_types":      gateway.ScopeRead,
	"get_event_schema":      gateway.ScopeRead,
	"create_source":         gateway.ScopeManage,
	"list_sources":          gateway.ScopeRead,
	"await_event":           gateway.ScopeRead,
}

// ToolScope is the scope the tool name needs.
func ToolScope(name string) gateway.Scope {
	if sc, ok := toolScopes[name]; ok {
		return sc
	}
	return gateway.ScopeManage
}

// checkScope refuses a tool call whose principal (put in the context by the HTTP
// transport's authentication) lacks the tool's scope: a tool error naming the scope. A
// call without a principal comes over stdio or in-process, from the local user.
func checkScope(next server.ToolHandlerFunc) server.ToolHandlerFunc {
	return func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if err := gateway.Allow(ctx, ToolScope(req.Params.Name)); err != nil {
			return mcp.NewToolResultError(err.Error()), nil
		}
		return next(ctx, req)
	}
}

// checkReadScope refuses a resource read whose principal lacks the read scope.
func checkReadScope(next server.ResourceHandlerFunc) server.ResourceHandlerFunc {
	return func(ctx context.Context, req mcp.ReadResourceRequest) ([]mcp.ResourceContents, error) {
		if err := gateway.Allow(ctx, gateway.ScopeRead); err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

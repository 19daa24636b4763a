package httpapi

import (
	"fmt"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/schemas"
)

// OpenAPI returns the OpenAPI 3.1 document of the whole API: every route below, the objects
// they exchange, and a webhooks entry per event type of the catalog c.
func OpenAPI(c *schemas.Catalog, serverURL string) ([]byte, error) {
	return c.OpenAPI(schemas.OpenAPIInfo{
		Title:       "hookgate",
		Version:     gateway.Version,
		Description: "A durable event gateway: publish events, register endpoints, inspect and retry deliveries. Every /v1 route needs Authorization: Bearer <credential>: the serve token (every scope), a named key (hgk_…, made by POST /v1/keys) or an OAuth access token (hga_…); each route needs one scope (read, publish or manage) and answers 403 forbidden naming it otherwise. Errors are {\"error\":{\"code\",\"message\",\"field\"}}.",
		ServerURL:   serverURL,
	}, apiPaths(), apiComponents())
}

// catalogOf returns the Service's catalog, or a conflict when it runs without one.
func catalogOf(svc *gateway.Service) (*schemas.Catalog, error) {
	c := svc.Catalog()
	if c == nil {
		return nil, fmt.Errorf("this gateway runs without an event catalog: %w", gateway.ErrConflict)
	}
	return c, nil
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func jsonBody(schema map[string]any) map[string]any {
	return map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
}

func resp(desc string, schema map[string]any) map[string]any {
	r := map[string]any{"description": desc}
	if schema != nil {
		r["content"] = map[string]any{"application/json": map[string]any{"schema": schema}}
	}
	return r
}

func param(name, in, desc string, required bool) map[string]any {
	return map[string]any{"name": name, "in": in, "description": desc, "required": required, "schema": map[string]any{"type": "string"}}
}

// op builds an operation with the error answers every route shares.
func op(id, summary string, params []any, body map[string]any, ok string, okResp map[string]any) map[string]any {
	responses := map[string]any{
		ok:    okResp,
		"400": resp("Malformed JSON, or a string that is not valid UTF-8 (error.field names it)", ref("Error")),
		"401": resp("No or wrong bearer token", ref("Error")),
		"403": resp("forbidden: the key or token lacks the scope this route needs (the message names it; error.field is scope)", ref("Error")),
		"404": resp("Unknown id", ref("Error")),
		"408": resp("The body did not arrive within the read timeout (--read-timeout)", ref("Error")),
		"413": resp("Body over the limit", ref("Error")),
		"422": resp("A field fails validation; error.field names it", ref("Error")),
	}
	o := map[string]any{"operationId": id, "summary": summary, "responses": responses}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if body != nil {
		o["requestBody"] = body
	}
	return o
}

// gone adds a REST-hook unsubscribe's 204: the subscription was already gone (a 410
// removed it, or an earlier unsubscribe did), which is a success.
func gone(o map[string]any) map[string]any {
	o["responses"].(map[string]any)["204"] = map[string]any{"description": "Already gone: nothing to unsubscribe"}
	return o
}

func page(item string) map[string]any {
	return map[string]any{"type": "object", "properties": map[string]any{
		"data":        map[string]any{"type": "array", "items": ref(item)},
		"next_cursor": map[string]any{"type": "string"},
		"has_more":    map[string]any{"type": "boolean"},
	}}
}

func apiPaths() map[string]any {
	id := param("id", "path", "The id", true)
	limit := param("limit", "query", "Page size (default 50, at most 1000)", false)
	cursor := param("cursor", "query", "next_cursor of the previous page", false)
	deliveryFilters := []any{
		param("status", "query", "pending, paused, succeeded, failed or canceled", false),
		param("type", "query", "Event type or pattern (video.*)", false),
		param("since", "query", "Created since: RFC 3339 time, or a duration back from now (1h)", false),
		param("until", "query", "Created before: RFC 3339 time, or a duration back from now", false),
		limit, cursor,
	}
	num := map[string]any{"type": []any{"number", "null"}}
	endpointStats := map[string]any{"type": "object", "properties": map[string]any{
		"endpoint_id": str("Endpoint id"), "kind": str("Kind"), "state": map[string]any{"type": "string", "enum": []any{"enabled", "disabled", "deleted"}},
		"attempts": map[string]any{"type": "integer"}, "successes": map[string]any{"type": "integer"}, "failures": map[string]any{"type": "integer"},
		"success_ratio": num, "gave_up": map[string]any{"type": "integer"}, "p50_ms": num, "p95_ms": num,
		"pending": map[string]any{"type": "integer"}, "paused": map[string]any{"type": "integer"},
		"last_error": str("The newest failed attempt's error or HTTP status"), "last_error_at": map[string]any{"type": "string", "format": "date-time"},
	}}
	statsSchema := map[string]any{"type": "object", "properties": map[string]any{
		"since": map[string]any{"type": "string", "format": "date-time"}, "until": map[string]any{"type": "string", "format": "date-time"},
		"endpoints": map[string]any{"type": "array", "items": endpointStats}, "totals": endpointStats,
		"lag_seconds": map[string]any{"type": "number"}, "ready": map[string]any{"type": "boolean"},
		"reasons": map[string]any{"type": "array", "items": map[string]any{"type": "string"}}, "disk": map[string]any{"type": "object"},
		"scan":   map[string]any{"type": "object", "properties": map[string]any{"created_since": map[string]any{"type": "string", "format": "date-time"}, "deliveries": map[string]any{"type": "integer"}, "events": map[string]any{"type": "integer"}, "max_scan": map[string]any{"type": "integer"}, "truncated": map[string]any{"type": "boolean"}}},
		"events": map[string]any{"type": "integer", "description": "The events received in the window"},
		"series": map[string]any{"type": "array", "description": "The window's events and attempts in at most 60 equal steps, oldest first", "items": map[string]any{"type": "object", "properties": map[string]any{
			"start": map[string]any{"type": "string", "format": "date-time"}, "events": map[string]any{"type": "integer"}, "successes": map[string]any{"type": "integer"}, "failures": map[string]any{"type": "integer"}}}},
		"step_seconds": map[string]any{"type": "integer", "description": "The length of a step of series: a whole number of minutes"},
	}}
	sourceInput := map[string]any{"type": "object", "properties": map[string]any{
		"name": str("A name (the events' source for generic sources)"), "provider": map[string]any{"type": "string", "enum": []any{"tokportal", "tinyposter", "uploadpost", "oktopost", "standard-webhooks", "generic"}},
		"secret": str("The provider's signing secret (uploadpost: the URL token; made when empty)"), "verify": map[string]any{"type": "object"},
		"mapping": str("generic: a jq program to {type, id?, created?, data}"), "sample": map[string]any{"type": "object"},
	}}
	sourceSchema := map[string]any{"type": "object", "properties": map[string]any{"id": str("Source id"), "name": str("Name"), "provider": str("Provider"), "url": str("The catch-hook URL to give the provider; its token (uploadpost) is masked but in the answer to the creation and GET /v1/sources/{id}/url"), "secret": str("Masked")}}
	scopesSchema := map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"type": "string", "enum": []any{"read", "publish", "manage"}},
		"description": "read: lists, gets, awaits, exports; publish: POST /v1/events; manage: endpoints, sources, event types, keys"}
	restHook := map[string]any{"type": "object", "required": []any{"hookUrl", "event"}, "properties": map[string]any{"hookUrl": str("The URL the trigger gave"), "event": str("Event type or pattern"), "source": str("Only events from this source"), "api_key": str("make: sent as x-make-apikey")}}
	paths := map[string]any{
		"/v1/endpoints": map[string]any{
			"post": op("createEndpoint", "Register an endpoint; the answer carries its signing secret, shown only here", nil, jsonBody(ref("EndpointInput")), "201", resp("Created", ref("EndpointWithSecret"))),
			"get":  op("listEndpoints", "List endpoints", []any{param("event", "query", "Only endpoints that receive this type", false), param("enabled", "query", "true or false", false), limit, cursor}, nil, "200", resp("A page", page("Endpoint"))),
		},
		"/v1/endpoints/{id}": map[string]any{
			"get":    op("getEndpoint", "Get an endpoint", []any{id}, nil, "200", resp("The endpoint", ref("Endpoint"))),
			"patch":  op("updateEndpoint", "Change an endpoint; enabling resets the failure streak and sends paused deliveries", []any{id}, jsonBody(ref("EndpointPatch")), "200", resp("The endpoint", ref("Endpoint"))),
			"delete": op("deleteEndpoint", "Delete an endpoint", []any{id}, nil, "204", resp("Deleted", nil)),
		},
		"/v1/endpoints/{id}/test": map[string]any{
			"post": op("testEndpoint", "Send a ping event to this endpoint only", []any{id}, nil, "202", resp("Queued", map[string]any{"type": "object", "properties": map[string]any{"delivery_id": map[string]any{"type": "string"}}})),
		},
		"/v1/endpoints/{id}/rotate-secret": map[string]any{
			"post": op("rotateSecret", "New signing secret; the old one keeps signing for 24 h", []any{id}, nil, "200", resp("The new secret", map[string]any{"type": "object", "properties": map[string]any{"secret": map[string]any{"type": "string"}}})),
		},
		"/v1/endpoints/{id}/deliveries": map[string]any{
			"get": op("listEndpointDeliveries", "An endpoint's deliveries, newest first (GET /v1/deliveries?endpoint= is the same list)", append([]any{id}, deliveryFilters...), nil, "200", resp("A page", page("Delivery"))),
		},
		"/v1/deliveries": map[string]any{
			"get": op("listDeliveries", "Deliveries across every endpoint, newest first; a page may be short, even empty, with has_more when many records were passed over", append([]any{param("endpoint", "query", "Only this endpoint's", false)}, deliveryFilters...), nil, "200", resp("A page", page("Delivery"))),
		},
		"/v1/stats": map[string]any{
			"get": op("getStats", "Per endpoint and in total: attempts, successes, failures, success ratio, p50/p95 attempt duration, pending, paused, last error, state; with readiness, disk and lag", []any{param("since", "query", "The window's start: RFC 3339 time, or a duration back from now (default 1h)", false)}, nil, "200", resp("The stats; scan.truncated says the counts cover only the newest deliveries read", statsSchema)),
		},
		"/v1/endpoints/{id}/replay": map[string]any{
			"post": op("replayEndpoint", "Queue again the endpoint's failed deliveries since a time", []any{id}, jsonBody(map[string]any{"type": "object", "required": []any{"since"}, "properties": map[string]any{"since": map[string]any{"type": "string", "format": "date-time"}, "status": map[string]any{"type": "string", "enum": []any{"failed", "canceled", "succeeded"}}}}), "202", resp("How many were queued", map[string]any{"type": "object", "properties": map[string]any{"count": map[string]any{"type": "integer"}}})),
		},
		"/v1/events": map[string]any{
			"post": op("publishEvent", "Publish an event; 202 once it and its deliveries are on disk, 200 for a duplicate id", nil, jsonBody(ref("PublishInput")), "202", resp("Stored", map[string]any{"type": "object", "properties": map[string]any{"id": map[string]any{"type": "string"}, "deliveries": map[string]any{"type": "integer"}, "duplicate": map[string]any{"type": "boolean"}}})),
			"get":  op("listEvents", "List events in arrival order, or newest first", []any{param("type", "query", "Type or pattern", false), param("source", "query", "Source", false), param("after", "query", "The next_cursor of a previous page (a sequence), or an event id: events after it (before it with order=newest)", false), param("since", "query", "RFC 3339 time, or a duration back from now (1h)", false), param("order", "query", "oldest (default) or newest; both page with next_cursor while has_more", false), param("wait", "query", "Long poll: when no event matches yet, wait up to this long (30s; at most 60s) for one and answer as soon as it is stored; an empty page when the wait ends. Oldest first only", false), limit}, nil, "200", resp("A page", page("Event"))),
		},
		"/v1/events/{id}": map[string]any{
			"get": op("getEvent", "An event and its deliveries", []any{id}, nil, "200", resp("The event", ref("Event"))),
		},
		"/v1/deliveries/{id}": map[string]any{
			"get": op("getDelivery", "A delivery with every attempt", []any{id}, nil, "200", resp("The delivery", ref("Delivery"))),
		},
		"/v1/deliveries/{id}/retry": map[string]any{
			"post": op("retryDelivery", "Attempt a delivery again now", []any{id}, nil, "202", resp("Queued", nil)),
		},
		"/v1/event-types": map[string]any{
			"get":  op("listEventTypes", "The event catalog, built-in and custom", []any{param("provider", "query", "tokportal, uploadpost, oktopost, tinyposter, hookgate or custom", false)}, nil, "200", resp("The types", map[string]any{"type": "object", "properties": map[string]any{"data": map[string]any{"type": "array", "items": ref("EventType")}}})),
			"post": op("addEventType", "Add a custom event type; a schema that doesn't compile is a 422 naming the JSON pointer", nil, jsonBody(map[string]any{"type": "object", "required": []any{"name", "schema"}, "properties": map[string]any{"name": map[string]any{"type": "string"}, "description": map[string]any{"type": "string"}, "schema": map[string]any{"type": "object"}}}), "201", resp("Added", ref("EventType"))),
		},
		"/v1/event-types/{name}": map[string]any{
			"get":    op("getEventType", "One event type with its schema", []any{param("name", "path", "Type name", true), param("provider", "query", "Pick this provider's type of the name", false)}, nil, "200", resp("The type", ref("EventType"))),
			"delete": op("deleteEventType", "Delete a custom event type", []any{param("name", "path", "Type name", true)}, nil, "204", resp("Deleted", nil)),
		},
		"/v1/event-types/{name}/schema": map[string]any{
			"get": op("exportEventType", "Export a type: jsonschema, sample, zapier or make", []any{param("name", "path", "Type name", true), param("format", "query", "jsonschema (default), sample, zapier or make", false), param("provider", "query", "Pick this provider's type of the name", false)}, nil, "200", resp("The export", map[string]any{})),
		},
		"/v1/sources": map[string]any{
			"post": op("createSource", "Create a catch hook for a provider; the answer's url is what the provider posts to", nil, jsonBody(sourceInput), "201", resp("Created", sourceSchema)),
			"get":  op("listSources", "List catch hooks", nil, nil, "200", resp("The sources", map[string]any{"type": "object", "properties": map[string]any{"data": map[string]any{"type": "array", "items": sourceSchema}}})),
		},
		"/v1/sources/{id}": map[string]any{
			"get":    op("getSource", "Get a catch hook", []any{id}, nil, "200", resp("The source", sourceSchema)),
			"patch":  op("updateSource", "Change a catch hook (name, secret, verify, mapping, sample)", []any{id}, jsonBody(sourceInput), "200", resp("The source", sourceSchema)),
			"delete": op("deleteSource", "Delete a catch hook; its URL answers 404 from then on", []any{id}, nil, "204", resp("Deleted", nil)),
		},
		"/v1/sources/{id}/url": map[string]any{
			"get": op("getSourceURL", "The whole catch-hook URL, token included (lists and reads mask it)", []any{id}, nil, "200", resp("The URL", map[string]any{"type": "object", "properties": map[string]any{"id": str("Source id"), "url": str("The catch-hook URL to give the provider")}})),
		},
		"/v1/sources/{id}/requests": map[string]any{
			"get": op("listSourceRequests", "The latest calls the catch hook received, newest first: verified or why not, event, duplicate. The log keeps the last 1,000 calls or 16 MiB per source, whichever comes first, at most 7 days; a call that failed verification keeps 256 bytes of its body", []any{id, limit}, nil, "200", resp("The calls", map[string]any{"type": "object"})),
		},
		"/in/{id}": map[string]any{
			"post": map[string]any{"operationId": "receive", "summary": "A catch hook: the provider's signature is the authentication (no token)", "security": []any{},
				"parameters": []any{id}, "requestBody": jsonBody(map[string]any{"type": "object"}),
				"responses": map[string]any{"200": resp("Stored under a fresh event id, or a duplicate of the provider's event id already received by this source", map[string]any{"type": "object", "properties": map[string]any{"id": str("Event id (of the first event, for a duplicate)"), "duplicate": map[string]any{"type": "boolean"}}}), "400": resp("A string in the payload is not valid UTF-8 (error.field names it); nothing is stored", ref("Error")), "401": resp("Verification failed", ref("Error")), "422": resp("Can't be mapped or fails its schema", ref("Error")),
					"408": resp("The body did not arrive within the read timeout", ref("Error")), "503": resp("Too many unauthenticated bodies being read at once; retry after Retry-After", ref("Error"))}},
		},
		"/v1/zapier/hooks": map[string]any{
			"post": op("zapierSubscribe", "Subscribe a Zapier REST hook", nil, jsonBody(restHook), "201", resp("Subscribed", map[string]any{"type": "object", "properties": map[string]any{"id": str("Subscription (endpoint) id")}})),
		},
		"/v1/zapier/hooks/{id}": map[string]any{
			"delete": gone(op("zapierUnsubscribe", "Unsubscribe a Zapier REST hook", []any{id}, nil, "200", resp("Unsubscribed", map[string]any{"type": "object"}))),
		},
		"/v1/zapier/samples": map[string]any{
			"get": op("zapierSamples", "The latest events of a type (or its catalog sample), for performList", []any{param("event", "query", "Event type", true), limit}, nil, "200", resp("Events", map[string]any{"type": "array", "items": map[string]any{"type": "object"}})),
		},
		"/v1/make/hooks": map[string]any{
			"post": op("makeSubscribe", "Attach a Make webhook", nil, jsonBody(restHook), "201", resp("Attached", map[string]any{"type": "object", "properties": map[string]any{"id": str("Subscription (endpoint) id")}})),
		},
		"/v1/make/hooks/{id}": map[string]any{
			"delete": gone(op("makeUnsubscribe", "Detach a Make webhook", []any{id}, nil, "200", resp("Detached", map[string]any{"type": "object"}))),
		},
		"/v1/make/samples": map[string]any{
			"get": op("makeSamples", "The latest events of a type (or its catalog sample)", []any{param("event", "query", "Event type", true), limit}, nil, "200", resp("Events", map[string]any{"type": "array", "items": map[string]any{"type": "object"}})),
		},
		"/v1/keys": map[string]any{
			"post": op("createKey", "Create a named API key with scopes (no more than your own); the key is in the answer only", nil,
				jsonBody(map[string]any{"type": "object", "required": []any{"name", "scopes"}, "properties": map[string]any{"name": str("What the key is for, e.g. chatgpt"), "scopes": scopesSchema}}),
				"201", resp("The key, with \"key\" (hgk_…) shown this once", map[string]any{"allOf": []any{ref("Key"), map[string]any{"type": "object", "properties": map[string]any{"key": str("The key: send it as Authorization: Bearer <key>, or use the secret URL /mcp/k/<key>")}}}})),
			"get": op("listKeys", "List keys, masked (no key, no hash)", nil, nil, "200", resp("Keys", map[string]any{"type": "object", "properties": map[string]any{"data": map[string]any{"type": "array", "items": ref("Key")}}})),
		},
		"/v1/keys/{id}": map[string]any{
			"delete": op("revokeKey", "Revoke a key: it, its secret URL and the OAuth grants it approved stop working at once", []any{id}, nil, "204", resp("Revoked", nil)),
		},
		"/.well-known/oauth-protected-resource": map[string]any{
			"get": map[string]any{"operationId": "protectedResource", "summary": "RFC 9728 metadata of /mcp (no token; also at /.well-known/oauth-protected-resource/mcp)", "security": []any{},
				"responses": map[string]any{"200": resp("Metadata", map[string]any{"type": "object"})}},
		},
		"/.well-known/oauth-authorization-server": map[string]any{
			"get": map[string]any{"operationId": "authorizationServer", "summary": "RFC 8414 authorization server metadata (no token)", "security": []any{},
				"responses": map[string]any{"200": resp("Metadata", map[string]any{"type": "object"})}},
		},
		"/oauth/register": map[string]any{
			"post": map[string]any{"operationId": "registerClient", "summary": "RFC 7591 dynamic client registration (no token): redirect_uris must be https (http only on localhost)", "security": []any{},
				"requestBody": jsonBody(map[string]any{"type": "object", "required": []any{"redirect_uris"}}),
				"responses":   map[string]any{"201": resp("The client: client_id, and client_secret unless token_endpoint_auth_method is none", map[string]any{"type": "object"}), "400": resp("OAuth error: {error, error_description}", ref("OAuthError"))}},
		},
		"/oauth/authorize": map[string]any{
			"get": map[string]any{"operationId": "authorize", "summary": "The approval page (HTML): response_type=code, client_id, redirect_uri, code_challenge with code_challenge_method=S256, state, scope", "security": []any{},
				"responses": map[string]any{"200": map[string]any{"description": "The approval form"}, "303": map[string]any{"description": "Back to the client with an error"}}},
		},
		"/oauth/token": map[string]any{
			"post": map[string]any{"operationId": "token", "summary": "Token endpoint (form): grant_type authorization_code (with code_verifier) or refresh_token (rotated on each use)", "security": []any{},
				"requestBody": map[string]any{"required": true, "content": map[string]any{"application/x-www-form-urlencoded": map[string]any{"schema": map[string]any{"type": "object"}}}},
				"responses": map[string]any{"200": resp("access_token (1 hour), refresh_token, token_type Bearer, expires_in, scope", map[string]any{"type": "object"}),
					"400": resp("OAuth error", ref("OAuthError")), "401": resp("invalid_client", ref("OAuthError"))}},
		},
		"/oauth/revoke": map[string]any{
			"post": map[string]any{"operationId": "revokeToken", "summary": "RFC 7009 revocation (form: token, client_id): a refresh or access token ends its grant", "security": []any{},
				"requestBody": map[string]any{"required": true, "content": map[string]any{"application/x-www-form-urlencoded": map[string]any{"schema": map[string]any{"type": "object"}}}},
				"responses":   map[string]any{"200": map[string]any{"description": "Revoked, or was not valid"}}},
		},
		"/v1/openapi.json": map[string]any{
			"get": op("openapi", "This document", nil, nil, "200", resp("OpenAPI 3.1", map[string]any{"type": "object"})),
		},
		"/healthz": map[string]any{
			"get": map[string]any{"operationId": "health", "summary": "Liveness (no token)", "security": []any{}, "responses": map[string]any{"200": resp("OK", nil)}},
		},
		"/readyz": map[string]any{
			"get": map[string]any{"operationId": "ready", "summary": "Readiness (no token): the store takes writes and the dispatcher runs", "security": []any{},
				"responses": map[string]any{"200": resp("Ready", ref("Readiness")), "503": resp("Not ready; reasons says why, e.g. storage_full: 300 MiB free, below the 512 MiB watermark", ref("Readiness"))}},
		},
	}
	// Every write can meet a full disk, or a store out of reach.
	for _, item := range paths {
		for method, o := range item.(map[string]any) {
			if method == "post" || method == "patch" || method == "delete" {
				o.(map[string]any)["responses"].(map[string]any)["507"] = resp("storage_full: the data volume is below the free-space watermark (--min-free-disk); retry once space is freed", ref("Error"))
				if rs := o.(map[string]any)["responses"].(map[string]any); rs["503"] == nil {
					rs["503"] = resp("store_unavailable: the store (a NATS cluster) cannot be reached right now; retry after Retry-After", ref("Error"))
				}
			}
		}
	}
	return paths
}

func str(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }

func apiComponents() map[string]any {
	endpointProps := map[string]any{
		"id": str("Endpoint id"), "url": str("Where deliveries go"), "kind": str("webhook"), "description": str("A note"),
		"events":          map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "Types or patterns: video.posted, post.*, *"},
		"source":          str("Only events from this source"),
		"enabled":         map[string]any{"type": "boolean"},
		"headers":         map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}, "description": "Sent with every delivery; the values are masked in answers (****last4), and a masked value sent back in a PATCH keeps the current one"},
		"disabled_reason": str("Why hookgate disabled it"),
		"disabled_at":     map[string]any{"type": "string", "format": "date-time"},
		"failure_streak":  map[string]any{"type": "integer"},
		"managed_by":      str("zapier or make when the platform created it as a REST-hook subscription, mcp-events for an MCP Events subscription (a 410 deletes it); absent for an endpoint you created (a 410 disables it)"),
		"owner":           str("The principal whose MCP Events subscription this is (kind mcp-events)"),
		"expires_at":      map[string]any{"type": "string", "format": "date-time", "description": "When an MCP Events subscription ends unless its host refreshes it"},
		"created_at":      map[string]any{"type": "string", "format": "date-time"},
		"updated_at":      map[string]any{"type": "string", "format": "date-time"},
	}
	settings := map[string]any{
		"kind":             map[string]any{"type": "string", "enum": []any{"webhook", "zapier", "make", "n8n", "slack", "telegram"}, "default": "webhook"},
		"rate_limit_per_s": map[string]any{"type": "number", "minimum": 0, "description": "Deliveries per second at most (0: no limit; make: 25)"},
		"mapping":          str("A jq program that reshapes the envelope before delivery"),
		"filter":           str(`A jq boolean over the envelope: only events for which it is true are delivered (e.g. .data.bundle_id == "b_42"); checked on the samples of the subscribed types`),
		"output_schema":    map[string]any{"type": "object", "description": "A JSON Schema the mapped payload must satisfy"},
		"template":         str("slack, telegram: a Go text/template over the payload"),
		"chat_id":          str("telegram: the chat"),
		"bot_token":        str("telegram: the bot token (masked in answers)"),
		"api_key":          str("make: sent as x-make-apikey (masked in answers)"),
		"auth": map[string]any{"type": "object", "description": "Header or basic auth sent with each delivery", "properties": map[string]any{
			"type": map[string]any{"type": "string", "enum": []any{"header", "basic"}}, "name": str("Header name"), "value": str("Header value"),
			"username": str("Basic auth user"), "password": str("Basic auth password"),
		}},
	}
	for k, v := range settings {
		endpointProps[k] = v
	}
	inputProps := map[string]any{
		"url": str("https URL (required but for telegram, whose url is the Bot API base, default https://api.telegram.org)"), "events": endpointProps["events"], "description": str("A note"),
		"enabled": map[string]any{"type": "boolean"}, "headers": endpointProps["headers"], "source": str("Only events from this source"),
	}
	patchProps := map[string]any{
		"url": str("https URL"), "events": endpointProps["events"], "description": str("A note"), "enabled": map[string]any{"type": "boolean"},
		"headers": endpointProps["headers"], "source": str("Source filter"), "discard_paused": map[string]any{"type": "boolean", "description": "With enabled=true: cancel paused deliveries"},
	}
	for k, v := range settings {
		inputProps[k] = v
		if k != "kind" {
			patchProps[k] = v
		}
	}
	withSecret := map[string]any{}
	for k, v := range endpointProps {
		withSecret[k] = v
	}
	withSecret["secret"] = str("whsec_… signing secret, shown only here")
	attempt := map[string]any{"type": "object", "properties": map[string]any{
		"at": map[string]any{"type": "string", "format": "date-time"}, "status_code": map[string]any{"type": "integer"},
		"duration_ms": map[string]any{"type": "integer"}, "error": str("Transport error"), "response_body": str("First 4 KiB of the answer"),
		"request_body": str("First 8 KiB of the body the attempt sent, byte for byte as the endpoint's kind wrote it; absent when no request was made, and in lists when request_envelope is true"), "request_bytes": map[string]any{"type": "integer", "description": "The length of the body sent"},
		"request_envelope": map[string]any{"type": "boolean", "description": "The body sent was the event's envelope unchanged: it is not stored a second time, and GET /v1/deliveries/{id} shows it as request_body"},
	}}
	return map[string]any{
		"Error": map[string]any{"type": "object", "required": []any{"error"}, "properties": map[string]any{"error": map[string]any{"type": "object", "required": []any{"code", "message"}, "properties": map[string]any{
			"code": str("Stable error code"), "message": str("What is wrong"), "field": str("The field it is about"),
		}}}},
		"OAuthError": map[string]any{"type": "object", "required": []any{"error"}, "properties": map[string]any{
			"error": str("RFC 6749 error code: invalid_request, invalid_client, invalid_grant, unsupported_grant_type, invalid_redirect_uri, invalid_client_metadata…"), "error_description": str("What is wrong"),
		}},
		"Key": map[string]any{"type": "object", "properties": map[string]any{
			"id": str("Key id (key_…)"), "name": str("What it is for"), "scopes": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"prefix":  str("The key's first characters, to tell it apart"),
			"created": map[string]any{"type": "string", "format": "date-time"}, "last_used": map[string]any{"type": []any{"string", "null"}, "format": "date-time", "description": "Within a minute"},
		}},
		"Readiness": map[string]any{"type": "object", "required": []any{"status"}, "properties": map[string]any{
			"status":  map[string]any{"type": "string", "enum": []any{"ready", "not_ready"}},
			"reasons": map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "description": "Why not ready, each starting with a code: starting, dispatcher_stopped, store_unreachable, storage_full, deliveries_paused"},
			"disk": map[string]any{"type": "object", "properties": map[string]any{
				"free_bytes": map[string]any{"type": "integer"}, "total_bytes": map[string]any{"type": "integer"},
				"watermark_bytes": map[string]any{"type": "integer", "description": "Writes are refused below this much free space (0: guard off)"},
				"full":            map[string]any{"type": "boolean"}, "error": str("Why the volume could not be measured"),
				"reserve_bytes":     map[string]any{"type": "integer", "description": "Deliveries pause (stay queued) below this much free space"},
				"deliveries_paused": map[string]any{"type": "boolean"},
			}},
		}},
		"Endpoint":           map[string]any{"type": "object", "properties": endpointProps},
		"EndpointWithSecret": map[string]any{"type": "object", "properties": withSecret},
		"EndpointSettings":   map[string]any{"type": "object", "properties": settings},
		"EndpointInput":      map[string]any{"type": "object", "required": []any{"events"}, "properties": inputProps},
		"EndpointPatch":      map[string]any{"type": "object", "properties": patchProps},
		"PublishInput": map[string]any{"type": "object", "required": []any{"type", "data"}, "properties": map[string]any{
			"type": str("Event type"), "data": map[string]any{"description": "The payload, validated against the type's schema"}, "id": str("Dedupe key"),
			"source": str("Producer"), "created": map[string]any{"type": "string", "format": "date-time"}, "deliver_at": map[string]any{"type": "string", "format": "date-time"},
		}},
		"Event": map[string]any{"type": "object", "properties": map[string]any{
			"id": str("Event id"), "type": str("Event type"), "source": str("Producer"), "created": map[string]any{"type": "string", "format": "date-time"},
			"source_event_id": str("Events from a catch hook: the provider's own event id, the source's dedupe key"),
			"data":            map[string]any{"description": "The payload"}, "received_at": map[string]any{"type": "string", "format": "date-time"},
			"delivery_ids": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			"deliveries":   map[string]any{"type": "array", "items": ref("Delivery"), "description": "On GET /v1/events/{id} only"},
		}},
		"Delivery": map[string]any{"type": "object", "properties": map[string]any{
			"id": str("Delivery id"), "event_id": str("Event"), "endpoint_id": str("Endpoint"), "event_type": str("Event type"),
			"status":          map[string]any{"type": "string", "enum": []any{"pending", "paused", "succeeded", "failed", "canceled"}},
			"attempts":        map[string]any{"type": "array", "items": attempt},
			"next_attempt_at": map[string]any{"type": []any{"string", "null"}, "format": "date-time"},
			"created_at":      map[string]any{"type": "string", "format": "date-time"}, "updated_at": map[string]any{"type": "string", "format": "date-time"},
		}},
		"EventType": map[string]any{"type": "object", "properties": map[string]any{
			"name": str("Type name"), "provider": str("Provider"), "title": str("Title"), "description": str("Description"),
			"builtin": map[string]any{"type": "boolean"}, "schema": map[string]any{"type": "object", "description": "JSON Schema of data"},
			"example": map[string]any{"description": "An example of data"},
		}},
	}
}

package schemas

import (
	"encoding/json"
	"fmt"
	"maps"
)

// OpenAPIInfo describes the API the document is for.
type OpenAPIInfo struct {
	Title       string
	Version     string
	Description string
	ServerURL   string
}

// OpenAPI returns an OpenAPI 3.1 document: the given paths and component schemas (the
// management API, which the HTTP layer describes) plus a top-level webhooks object with one
// entry per event type, whose request body is the envelope with that type's data schema.
func (c *Catalog) OpenAPI(info OpenAPIInfo, paths map[string]any, components map[string]any) ([]byte, error) {
	schemas := map[string]any{}
	maps.Copy(schemas, components)
	webhooks := map[string]any{}
	for _, t := range c.List("") {
		var data map[string]any
		if err := json.Unmarshal(t.Schema, &data); err != nil {
			return nil, fmt.Errorf("openapi: %s: %w", t.Name, err)
		}
		// $schema and $id belong to standalone schemas, not to components.
		delete(data, "$schema")
		delete(data, "$id")
		key := t.Provider + "." + t.Name
		env := envelopeSchema(data)
		env["title"] = t.Title
		env["description"] = t.Description
		if len(t.Example) > 0 {
			env["examples"] = []any{Sample(t.Name, t.Provider, t.Example)}
		}
		schemas[key] = env
		hook := key
		if cur, ok := c.Lookup(t.Name); ok && cur == t {
			hook = t.Name // the name a subscription uses
		}
		webhooks[hook] = map[string]any{
			"post": map[string]any{
				"operationId": "webhook." + key,
				"summary":     t.Title,
				"description": t.Description + "\n\nProvider: " + t.Provider + ". Signed with Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature).",
				"tags":        []string{t.Provider},
				"parameters": []any{
					map[string]any{"name": "webhook-id", "in": "header", "required": true, "schema": map[string]any{"type": "string"}, "description": "The event id"},
					map[string]any{"name": "webhook-timestamp", "in": "header", "required": true, "schema": map[string]any{"type": "string"}, "description": "Unix seconds when signed"},
					map[string]any{"name": "webhook-signature", "in": "header", "required": true, "schema": map[string]any{"type": "string"}, "description": "v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>, space-separated during a secret rotation"},
				},
				"requestBody": map[string]any{
					"required": true,
					"content":  map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + key}}},
				},
				"responses": map[string]any{
					"2XX": map[string]any{"description": "Accepted: any 2xx is a success"},
					"410": map[string]any{"description": "Gone: the receiver unsubscribed; hookgate disables the endpoint"},
				},
			},
		}
	}
	doc := map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"info":              map[string]any{"title": info.Title, "version": info.Version, "description": info.Description},
		"paths":             paths,
		"webhooks":          webhooks,
		"components": map[string]any{
			"schemas":         schemas,
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}},
		},
		"security": []any{map[string]any{"bearer": []any{}}},
	}
	if info.ServerURL != "" {
		doc["servers"] = []any{map[string]any{"url": info.ServerURL}}
	}
	if paths == nil {
		doc["paths"] = map[string]any{}
	}
	return json.MarshalIndent(doc, "", "  ")
}

package schemas

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"
)

// OpenAPIInfo describes the API the OpenAPI document is for.
type OpenAPIInfo struct {
	Title       string
	Version     string
	Description string
	// ServerURL, when set, becomes the document's only server.
	ServerURL string
}

// OpenAPI returns an OpenAPI 3.1 document (JSON) of the catalog: a top-level webhooks
// object with one entry per event type, whose request body is the envelope with that type's
// data (components/schemas/<provider>.<type>), merged with the paths and component schemas
// the caller gives (the management API, which the HTTP layer describes; either may be nil).
//
// A webhook is keyed by the type's name when the bare name resolves to it, as subscriptions
// use it ("video.posted", "ping"), and by provider/name when another provider's type of the
// same name shadows it ("tinyposter/ping"). A component the caller gives wins over a type's
// of the same key.
func (c *Catalog) OpenAPI(info OpenAPIInfo, paths map[string]any, components map[string]any) ([]byte, error) {
	schemas := map[string]any{}
	webhooks := map[string]any{}
	for _, t := range c.List("") {
		env, err := t.envelope()
		if err != nil {
			return nil, fmt.Errorf("openapi: %w", err)
		}
		env.del("$schema") // the document's jsonSchemaDialect says it
		env.del("$id")
		env.set("examples", []any{t.Sample()}) // as delivered: its numbers as sent
		key := t.Provider + "." + t.Name
		schemas[key] = env
		hoistDefs(env, key, schemas)
		hook := t.Provider + "/" + t.Name
		if cur, ok := c.Lookup(t.Name); ok && cur == t {
			hook = t.Name
		}
		webhooks[hook] = map[string]any{"post": webhookOperation(t, key)}
	}
	maps.Copy(schemas, components)
	if paths == nil {
		paths = map[string]any{}
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
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	return out, nil
}

// hoistDefs makes a type's schema stand inside the document as components/schemas/key: a
// schema's own references ("#/$defs/item", "#") pointed at the schema's root, which is now
// the document's. Its $defs (and draft-07 definitions) become components "key.name" and
// every "#…" reference is rewritten to where its target now is.
func hoistDefs(env *object, key string, components map[string]any) {
	data := env.obj("properties").obj("data")
	if data == nil {
		return
	}
	names := map[string]string{} // "$defs/item" → component name
	for _, kw := range []string{"$defs", "definitions"} {
		defs := data.obj(kw)
		if defs == nil {
			continue
		}
		for _, name := range defs.keys {
			names[kw+"/"+escapePointer(name)] = key + "." + componentName(name)
		}
		for _, name := range defs.keys {
			rewriteRefs(defs.vals[name], key, names)
			components[names[kw+"/"+escapePointer(name)]] = defs.vals[name]
		}
		data.del(kw)
	}
	rewriteRefs(data, key, names)
}

// rewriteRefs rewrites the "#…" references in v (see hoistDefs).
func rewriteRefs(v any, key string, defs map[string]string) {
	switch v := v.(type) {
	case *object:
		for _, k := range v.keys {
			ref, ok := v.vals[k].(string)
			if (k != "$ref" && k != "$dynamicRef") || !ok || !strings.HasPrefix(ref, "#") {
				rewriteRefs(v.vals[k], key, defs)
				continue
			}
			ptr := strings.TrimPrefix(ref, "#")
			v.vals[k] = "#/components/schemas/" + key + "/properties/data" + ptr
			for def, name := range defs {
				if ptr == "/"+def || strings.HasPrefix(ptr, "/"+def+"/") {
					v.vals[k] = "#/components/schemas/" + name + strings.TrimPrefix(ptr, "/"+def)
				}
			}
		}
	case []any:
		for _, x := range v {
			rewriteRefs(x, key, defs)
		}
	}
}

// componentName keeps the characters OpenAPI allows in a component's name.
func componentName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// webhookOperation describes the POST hookgate makes to a subscriber for one event type.
func webhookOperation(t *Type, component string) map[string]any {
	header := func(name, desc string) map[string]any {
		return map[string]any{"name": name, "in": "header", "required": true, "description": desc, "schema": map[string]any{"type": "string"}}
	}
	return map[string]any{
		"operationId": "webhook." + component,
		"summary":     t.Title,
		"description": t.Description + "\n\nProvider: " + t.Provider + ". hookgate signs every delivery with Standard Webhooks headers and retries until a 2xx.",
		"tags":        []any{t.Provider},
		"security":    []any{},
		"parameters": []any{
			header("webhook-id", "The event id, the same on every retry: deduplicate on it."),
			header("webhook-timestamp", "Unix seconds when the delivery was signed."),
			header("webhook-signature", "v1,<base64 HMAC-SHA256(secret, id.timestamp.body)>; two space-separated signatures while a rotated secret is still valid."),
			header("X-Hookgate-Event", "The event type."),
			header("X-Hookgate-Delivery", "The delivery id."),
		},
		"requestBody": map[string]any{
			"required": true,
			"content":  map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + component}}},
		},
		"responses": map[string]any{
			"2XX": map[string]any{"description": "Received: any 2xx is a success."},
			"410": map[string]any{"description": "Gone: the receiver unsubscribed, and hookgate disables the endpoint."},
			"429": map[string]any{"description": "Too many requests: hookgate retries after Retry-After."},
		},
	}
}

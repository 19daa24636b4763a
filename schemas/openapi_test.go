package schemas_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/hookgate/hookgate/schemas"
)

func TestOpenAPIDocumentIsValid(t *testing.T) {
	c := newCatalog(t)
	if _, err := c.Add("order.paid", "An order was paid", json.RawMessage(orderSchema)); err != nil {
		t.Fatal(err)
	}
	// A schema that refers to its own root: the reference must follow it into the document.
	tree := `{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#"}}},"examples":[{"name":"a","children":[{"name":"b"}]}]}`
	if _, err := c.Add("tree.changed", "A tree changed", json.RawMessage(tree)); err != nil {
		t.Fatal(err)
	}
	paths := map[string]any{"/v1/events": map[string]any{"post": map[string]any{
		"operationId": "publishEvent",
		"requestBody": map[string]any{"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/PublishInput"}}}},
		"responses":   map[string]any{"202": map[string]any{"description": "stored"}},
	}}}
	components := map[string]any{"PublishInput": map[string]any{"type": "object", "required": []any{"type", "data"}}}
	out, err := c.OpenAPI(schemas.OpenAPIInfo{Title: "hookgate", Version: "test", ServerURL: "https://hooks.example.com"}, paths, components)
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(out)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid OpenAPI 3.1 document: %v", err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Paths.Find("/v1/events") == nil || doc.Components.Schemas["PublishInput"] == nil || len(doc.Servers) != 1 {
		t.Fatalf("openapi %q, paths %v, components or servers lost", doc.OpenAPI, doc.Paths)
	}
	types := c.List("")
	if len(doc.Webhooks) != len(types) {
		t.Fatalf("%d webhooks for %d types", len(doc.Webhooks), len(types))
	}
	for _, key := range []string{"video.posted", "ping", "tinyposter/ping", "postSent", "order.paid", "tree.changed", "endpoint.disabled"} {
		if doc.Webhooks[key] == nil || doc.Webhooks[key].Post == nil || doc.Webhooks[key].Post.RequestBody == nil {
			t.Errorf("webhook %q missing", key)
		}
	}
	if got := doc.Webhooks["ping"].Post.Tags; len(got) != 1 || got[0] != "hookgate" {
		t.Errorf("webhook ping is %v's, want hookgate's", got)
	}
	// Every type has its envelope component, and its example validates against it.
	for _, typ := range types {
		ref := doc.Components.Schemas[typ.Provider+"."+typ.Name]
		if ref == nil || ref.Value == nil {
			t.Errorf("component %s.%s missing", typ.Provider, typ.Name)
			continue
		}
		data := ref.Value.Properties["data"]
		if data == nil || len(ref.Value.Required) != 4 || ref.Value.Properties["created"].Value.Format != "date-time" {
			t.Errorf("component %s.%s is not an envelope", typ.Provider, typ.Name)
		}
		var sample any
		json.Unmarshal(typ.Sample(), &sample)
		if err := ref.Value.VisitJSON(sample); err != nil {
			t.Errorf("kin-openapi refuses the sample of %s/%s: %v", typ.Provider, typ.Name, err)
		}
	}
	// References were followed, not dropped: a bad item of order.paid is refused.
	bad := map[string]any{"id": "x", "type": "order.paid", "created": "2026-06-24T14:00:05.123Z", "data": map[string]any{"order_id": "o", "items": []any{map[string]any{"qty": 1}}}}
	if err := doc.Components.Schemas["custom.order.paid"].Value.VisitJSON(bad); err == nil {
		t.Error("kin-openapi accepts an order item without sku: the $defs reference was lost")
	}
	// The OpenAPI 3.1 document is also plain JSON Schema inside: check one component by hand.
	var raw struct {
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	json.Unmarshal(out, &raw)
	s := compileRaw(t, raw.Components.Schemas["tokportal.video.posted"])
	typ, _ := c.Lookup("video.posted")
	if err := s.Validate(decode(t, typ.Sample())); err != nil {
		t.Errorf("component tokportal.video.posted refuses its sample: %v", err)
	}
}

func TestOpenAPIWithoutPaths(t *testing.T) {
	out, err := newCatalog(t).OpenAPI(schemas.OpenAPIInfo{Title: "t", Version: "1"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

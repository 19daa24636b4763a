package schemas

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Format is an export format.
type Format string

// The export formats.
const (
	FormatJSONSchema Format = "jsonschema" // the schema itself
	FormatSample     Format = "sample"     // an example envelope exactly as delivered
	FormatZapier     Format = "zapier"     // Zapier outputFields plus the sample
	FormatMake       Format = "make"       // a Make data structure specification
)

// Formats lists the per-type export formats.
var Formats = []Format{FormatJSONSchema, FormatSample, FormatZapier, FormatMake}

// ParseFormat reads a format name; empty means jsonschema.
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return FormatJSONSchema, nil
	}
	f := Format(s)
	if !slices.Contains(Formats, f) {
		return "", fmt.Errorf("unknown format %q (use jsonschema, sample, zapier or make; the OpenAPI document is at /v1/openapi.json)", s)
	}
	return f, nil
}

// Export renders the type name in a format.
func (c *Catalog) Export(name string, f Format) ([]byte, error) {
	t, ok := c.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("%s: %w", name, ErrUnknownType)
	}
	return t.Export(f)
}

// Export renders the type in a format.
func (t *Type) Export(f Format) ([]byte, error) {
	if f == FormatJSONSchema {
		return t.Schema, nil
	}
	return ExportPayload(t.Name, t.Provider, t.Schema, t.Example, f)
}

// ExportPayload renders a data schema and an example of it (for a type, or for what an
// endpoint's mapping produces) in a format. The envelope around data is added here.
func ExportPayload(name, provider string, dataSchema, example json.RawMessage, f Format) ([]byte, error) {
	var ds map[string]any
	if err := json.Unmarshal(dataSchema, &ds); err != nil {
		return nil, fmt.Errorf("export %s: schema: %w", name, err)
	}
	sample := Sample(name, provider, example)
	switch f {
	case FormatJSONSchema:
		return dataSchema, nil
	case FormatSample:
		return json.MarshalIndent(sample, "", "  ")
	case FormatZapier:
		out := map[string]any{"outputFields": zapierFields(envelopeSchema(ds)), "sample": sample}
		return json.MarshalIndent(out, "", "  ")
	case FormatMake:
		return json.MarshalIndent(makeSpec(envelopeSchema(ds)), "", "  ")
	}
	return nil, fmt.Errorf("unknown format %q", f)
}

// Sample is an example envelope exactly as hookgate delivers it.
func Sample(name, provider string, example json.RawMessage) map[string]any {
	var data any = map[string]any{}
	if len(example) > 0 {
		_ = json.Unmarshal(example, &data)
	}
	return map[string]any{
		"id":      "evt_sample_" + strings.NewReplacer(".", "_", ":", "_").Replace(name),
		"type":    name,
		"source":  provider,
		"created": "2026-06-24T14:00:05.123Z",
		"data":    data,
	}
}

// envelopeSchema wraps a data schema in the envelope's schema.
func envelopeSchema(data map[string]any) map[string]any {
	return map[string]any{
		"type": "object",
		"properties": map[string]any{
			"id":      map[string]any{"type": "string", "description": "Event id (dedupe on it)"},
			"type":    map[string]any{"type": "string", "description": "Event type"},
			"source":  map[string]any{"type": "string", "description": "Who produced the event"},
			"created": map[string]any{"type": "string", "format": "date-time", "description": "When it happened"},
			"data":    data,
		},
		"required": []any{"id", "type", "created", "data"},
	}
}

// properties returns an object schema's properties in a stable order: the envelope's own
// order for the envelope, else required first then alphabetical.
func properties(s map[string]any) []string {
	props, _ := s["properties"].(map[string]any)
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	order := map[string]int{"id": 0, "type": 1, "source": 2, "created": 3, "data": 4}
	envelope := len(props) == 5
	for k := range order {
		if _, ok := props[k]; !ok {
			envelope = false
		}
	}
	req := map[string]bool{}
	if r, ok := s["required"].([]any); ok {
		for _, k := range r {
			if ks, ok := k.(string); ok {
				req[ks] = true
			}
		}
	}
	slices.SortFunc(keys, func(a, b string) int {
		if envelope {
			return order[a] - order[b]
		}
		if req[a] != req[b] {
			if req[a] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	return keys
}

// schemaType returns the main JSON type of a schema ("string" for ["string","null"]).
func schemaType(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if xs, ok := x.(string); ok && xs != "null" {
				return xs
			}
		}
	}
	if _, ok := s["properties"]; ok {
		return "object"
	}
	return "string"
}

// label turns a key path into a human label: ["post","id"] → "Post ID".
func label(path []string) string {
	var words []string
	for _, p := range path {
		words = append(words, splitWords(p)...)
	}
	for i, w := range words {
		switch strings.ToLower(w) {
		case "id", "url", "uri", "api", "os", "ip":
			words[i] = strings.ToUpper(w)
		default:
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// splitWords splits snake_case, dotted and camelCase keys into words.
func splitWords(s string) []string {
	var out []string
	cur := []rune{}
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for i, r := range s {
		switch {
		case r == '_' || r == '-' || r == '.' || r == ' ':
			flush()
		case r >= 'A' && r <= 'Z' && i > 0:
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return out
}

// zapierFields flattens a schema into Zapier outputFields, nested keys joined with "__".
func zapierFields(s map[string]any) []map[string]any {
	var out []map[string]any
	var walk func(s map[string]any, path []string)
	walk = func(s map[string]any, path []string) {
		props, _ := s["properties"].(map[string]any)
		for _, k := range properties(s) {
			ps, _ := props[k].(map[string]any)
			p := append(slices.Clone(path), k)
			switch schemaType(ps) {
			case "object":
				walk(ps, p)
				continue
			case "array":
				items, _ := ps["items"].(map[string]any)
				f := map[string]any{"key": strings.Join(p, "__"), "label": label(labelPath(p)), "type": zapierType(items), "list": true}
				out = append(out, f)
				continue
			}
			f := map[string]any{"key": strings.Join(p, "__"), "label": label(labelPath(p)), "type": zapierType(ps)}
			out = append(out, f)
		}
	}
	walk(s, nil)
	return out
}

// labelPath drops the "data" level: users think of data.post.id as "Post ID".
func labelPath(p []string) []string {
	if len(p) > 1 && p[0] == "data" {
		return p[1:]
	}
	return p
}

func zapierType(s map[string]any) string {
	switch schemaType(s) {
	case "integer":
		return "integer"
	case "number":
		return "number"
	case "boolean":
		return "boolean"
	case "string":
		if s["format"] == "date-time" {
			return "datetime"
		}
	}
	return "string"
}

// makeSpec turns an object schema into Make's data structure specification.
func makeSpec(s map[string]any) []map[string]any {
	props, _ := s["properties"].(map[string]any)
	out := []map[string]any{}
	for _, k := range properties(s) {
		ps, _ := props[k].(map[string]any)
		out = append(out, makeField(k, ps))
	}
	return out
}

func makeField(name string, s map[string]any) map[string]any {
	f := map[string]any{"name": name, "label": label([]string{name})}
	switch schemaType(s) {
	case "object":
		f["type"] = "collection"
		f["spec"] = makeSpec(s)
	case "array":
		f["type"] = "array"
		items, _ := s["items"].(map[string]any)
		item := makeField("value", items)
		delete(item, "name")
		delete(item, "label")
		f["spec"] = item
	case "integer", "number":
		f["type"] = "number"
	case "boolean":
		f["type"] = "boolean"
	default:
		f["type"] = "text"
		if s["format"] == "date-time" {
			f["type"] = "date"
		}
	}
	return f
}

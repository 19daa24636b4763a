package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Format is an export format of one payload description.
type Format string

// The export formats. The OpenAPI document describes the whole catalog: see Catalog.OpenAPI.
const (
	// FormatJSONSchema is the JSON Schema itself; for a type, the schema of its data.
	FormatJSONSchema Format = "jsonschema"
	// FormatSample is an example body exactly as hookgate delivers it (indented): for a type,
	// the envelope {"id","type","source","created","data"} around the schema's first example.
	FormatSample Format = "sample"
	// FormatZapier is {"outputFields":[…],"sample":{…}}: Zapier output fields for every
	// field of the body, nested keys joined with "__" ("data__post__id"), fields of arrays of
	// objects with "[]" ("data__items[]name"), arrays of primitives marked "list": true.
	FormatZapier Format = "zapier"
	// FormatMake is a Make data structure specification: [{"name","type","label",…}] with
	// Make's types text, number, boolean, date, collection and array.
	FormatMake Format = "make"
)

// Formats lists the export formats, in the order the docs give them.
var Formats = []Format{FormatJSONSchema, FormatSample, FormatZapier, FormatMake}

// ParseFormat reads a format name; "" means jsonschema.
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return FormatJSONSchema, nil
	}
	f := Format(s)
	if !slices.Contains(Formats, f) {
		return "", fmt.Errorf("unknown format %q: use jsonschema, sample, zapier or make (the OpenAPI document of every type is at /v1/openapi.json)", s)
	}
	return f, nil
}

// Export renders the type name resolves to (see Lookup) in a format.
func (c *Catalog) Export(name string, f Format) ([]byte, error) {
	t, ok := c.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("export %s: %w", name, ErrUnknownType)
	}
	return t.Export(f)
}

// Export renders the type in a format: its data schema as written for jsonschema; for the
// other formats, the whole envelope as delivered, with the type's data inside.
func (t *Type) Export(f Format) ([]byte, error) {
	if f == FormatJSONSchema {
		return t.Schema, nil
	}
	env, err := t.EnvelopeSchema()
	if err != nil {
		return nil, err
	}
	out, err := ExportSchema(env, t.Sample(), f)
	if err != nil {
		return nil, fmt.Errorf("export %s: %w", t.Name, err)
	}
	return out, nil
}

// SampleID and SampleCreated are the id prefix and the time of every sample envelope, so
// that samples (and the golden files made of them) never change from one run to the next.
const (
	SampleID      = "evt_sample_"
	SampleCreated = "2026-06-24T14:00:05.123Z"
)

// envelope is the body hookgate delivers, fields in the order hookgate writes them.
type envelope struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Source  string          `json:"source,omitempty"`
	Created string          `json:"created"`
	Data    json.RawMessage `json:"data"`
}

// Sample returns an example envelope of the type exactly as hookgate delivers it (compact):
// a fixed id and time, source set to the provider (none for a custom type), and the schema's
// first example as data ({} when it has none).
func (t *Type) Sample() json.RawMessage {
	env := envelope{
		ID:      SampleID + strings.NewReplacer(".", "_", ":", "_", "-", "_").Replace(t.Name),
		Type:    t.Name,
		Created: SampleCreated,
		Data:    t.Example,
	}
	if t.Provider != CustomProvider {
		env.Source = t.Provider
	}
	if len(env.Data) == 0 {
		env.Data = json.RawMessage(`{}`)
	}
	b, _ := json.Marshal(env) // strings and a valid raw example: cannot fail
	return b
}

// EnvelopeSchema returns the JSON Schema of the whole body hookgate delivers for the type:
// id, type (fixed to the type's name), source, created and data, with the type's schema (its
// $schema and $id removed) as data.
func (t *Type) EnvelopeSchema() (json.RawMessage, error) {
	env, err := t.envelope()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("envelope schema of %s: %w", t.Name, err)
	}
	return b, nil
}

// envelope builds the envelope schema as an ordered object.
func (t *Type) envelope() (*object, error) {
	data, err := decodeObject(t.Schema)
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", t.Name, err)
	}
	data.del("$schema")
	data.del("$id")
	data.del("title") // the envelope carries it; data is "Data" to a no-code user
	source := newObject().set("type", "string").set("title", "Source").
		set("description", "Who produced the event: the provider for its webhooks (tokportal, uploadpost, oktopost, tinyposter), hookgate for its own events, or what the publisher set.")
	if t.Provider != CustomProvider {
		source.set("examples", []any{t.Provider})
	}
	props := newObject().
		set("id", newObject().set("type", "string").set("title", "Event ID").
			set("description", "Unique id of the event, the provider's own when it has one: deduplicate on it.")).
		set("type", newObject().set("type", "string").set("title", "Event Type").
			set("description", "The event type.").set("const", t.Name)).
		set("source", source).
		set("created", newObject().set("type", "string").set("format", "date-time").set("title", "Created").
			set("description", "When the event happened: RFC 3339 in UTC with milliseconds.")).
		set("data", data)
	return newObject().
		set("$schema", "https://json-schema.org/draft/2020-12/schema").
		set("$id", BaseURL+t.Provider+"/"+t.Name+".envelope.json").
		set("title", t.Title).
		set("description", t.Description).
		set("type", "object").
		set("properties", props).
		set("required", []any{"id", "type", "created", "data"}), nil
}

// ExportSchema renders any payload description in a format: schema is the JSON Schema of
// the whole body and sample an example of it. It is what Type.Export uses with the envelope,
// and what describes a body that is not the envelope, such as the output of an endpoint's jq
// mapping. When schema is empty it is inferred from sample (see InferSchema); when sample is
// empty the schema's first example is used, else {}.
func ExportSchema(schema, sample json.RawMessage, f Format) ([]byte, error) {
	if len(bytes.TrimSpace(schema)) == 0 {
		inferred, err := InferSchema(sample)
		if err != nil {
			return nil, err
		}
		schema = inferred
	}
	s, err := decodeObject(schema)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	if len(bytes.TrimSpace(sample)) == 0 {
		sample = json.RawMessage(`{}`)
		if ex, ok := s.get("examples").([]any); ok && len(ex) > 0 {
			if sample, err = json.Marshal(ex[0]); err != nil {
				return nil, fmt.Errorf("schema example: %w", err)
			}
		}
	}
	if !json.Valid(sample) {
		return nil, fmt.Errorf("sample: not valid JSON")
	}
	switch f {
	case FormatJSONSchema:
		return indent(schema)
	case FormatSample:
		return indent(sample)
	case FormatZapier:
		out := struct {
			OutputFields []zapierField   `json:"outputFields"`
			Sample       json.RawMessage `json:"sample"`
		}{zapierFields(s), sample}
		return json.MarshalIndent(out, "", "  ")
	case FormatMake:
		return json.MarshalIndent(makeSpec(s), "", "  ")
	}
	return nil, fmt.Errorf("unknown format %q", f)
}

// indent returns b indented by two spaces, as every export is.
func indent(b []byte) ([]byte, error) {
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// InferSchema derives a JSON Schema from an example value: objects get their properties (in
// the example's order), arrays the schema of their first item, strings that are RFC 3339
// times or http(s) URLs the date-time or uri format, numbers written without a fraction or
// exponent integer (at any size: 7383920011122334455 too). It describes payloads that have
// no schema of their own, such as what a jq mapping makes of a sample.
func InferSchema(sample json.RawMessage) (json.RawMessage, error) {
	v, err := decodeOrdered(sample)
	if err != nil {
		return nil, fmt.Errorf("infer a schema: sample: %w", err)
	}
	s := infer(v)
	s.keys = append([]string{"$schema"}, s.keys...)
	s.vals["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s.set("examples", []any{v})
	return json.Marshal(s)
}

func infer(v any) *object {
	s := newObject()
	switch v := v.(type) {
	case *object:
		props := newObject()
		for _, k := range v.keys {
			props.set(k, infer(v.vals[k]))
		}
		s.set("type", "object").set("properties", props)
	case []any:
		s.set("type", "array")
		if len(v) > 0 {
			s.set("items", infer(v[0]))
		}
	case string:
		s.set("type", "string")
		if _, err := time.Parse(time.RFC3339, v); err == nil {
			s.set("format", "date-time")
		} else if u, err := url.Parse(v); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			s.set("format", "uri")
		}
	case json.Number:
		if !strings.ContainsAny(string(v), ".eE") { // a whole number, of any size
			s.set("type", "integer")
		} else {
			s.set("type", "number")
		}
	case bool:
		s.set("type", "boolean")
	case nil:
		s.set("type", "null")
	}
	return s
}

// schemaType returns the main JSON type of a schema: "string" for ["string","null"],
// "object" for a schema with properties but no type, "string" when nothing says.
func schemaType(s *object) string {
	switch t := s.get("type").(type) {
	case string:
		return t
	case []any:
		for _, x := range t {
			if xs, ok := x.(string); ok && xs != "null" {
				return xs
			}
		}
		return "null"
	}
	switch {
	case s.get("properties") != nil:
		return "object"
	case s.get("items") != nil:
		return "array"
	}
	for _, k := range []string{"const", "enum"} {
		v := s.get(k)
		if vs, ok := v.([]any); ok && k == "enum" && len(vs) > 0 {
			v = vs[0]
		}
		switch v.(type) {
		case json.Number:
			return "number"
		case bool:
			return "boolean"
		}
	}
	return "string"
}

// required returns the set of a schema's required properties.
func required(s *object) map[string]bool {
	out := map[string]bool{}
	r, _ := s.get("required").([]any)
	for _, k := range r {
		if ks, ok := k.(string); ok {
			out[ks] = true
		}
	}
	return out
}

// label is the human name of a field: the schema's title, else its key path in words
// ("post", "id" → "Post ID"; "conversationId" → "Conversation ID").
func label(s *object, path []string) string {
	if t := s.str("title"); t != "" && len(path) == 1 {
		return t
	}
	var words []string
	for _, p := range path {
		words = append(words, splitWords(p)...)
	}
	for i, w := range words {
		switch w {
		case "id", "url", "uri", "api", "os", "ip", "utc":
			words[i] = strings.ToUpper(w)
		default:
			words[i] = strings.ToUpper(w[:1]) + w[1:]
		}
	}
	return strings.Join(words, " ")
}

// splitWords splits snake_case, dotted, kebab-case and camelCase keys into lower-case words.
func splitWords(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	prevLower := false
	for _, r := range s {
		switch {
		case r == '_' || r == '-' || r == '.' || r == ' ':
			flush()
			prevLower = false
			continue
		case r >= 'A' && r <= 'Z' && prevLower:
			flush()
		}
		cur = append(cur, r)
		prevLower = r >= 'a' && r <= 'z' || r >= '0' && r <= '9'
	}
	flush()
	return out
}

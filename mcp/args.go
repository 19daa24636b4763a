package mcp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// argError is a tool's arguments failing its input schema. Its message is what the agent
// reads: it names the argument and says what was expected.
type argError struct{ msg string }

func (e *argError) Error() string { return e.msg }

func argErrorf(format string, a ...any) error { return &argError{msg: fmt.Sprintf(format, a...)} }

// argSchema is the part of a tool's JSON input schema the arguments are checked against:
// which arguments exist, which are required, and the type (and bounds) of each.
type argSchema struct {
	tool     string
	props    map[string]map[string]any
	names    []string // sorted, for "takes …" in errors
	required []string
}

// newArgSchema reads a tool's input schema (as mcp.WithInputSchema generates it).
func newArgSchema(tool string, raw json.RawMessage) (*argSchema, error) {
	var doc struct {
		Properties map[string]map[string]any `json:"properties"`
		Required   []string                  `json:"required"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s input schema: %w", tool, err)
	}
	s := &argSchema{tool: tool, props: doc.Properties, required: doc.Required}
	for name := range doc.Properties {
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	return s, nil
}

// decode checks args (a tool call's arguments, as any JSON value) against the schema and
// decodes them into out. An unknown argument, a missing (or empty) required one, a value of
// the wrong type or out of bounds is an *argError naming the argument.
func (s *argSchema) decode(args any, out any) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return argErrorf("arguments: %v", err)
	}
	if args == nil || string(raw) == "null" {
		raw = []byte("{}")
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return argErrorf("arguments must be a JSON object of named arguments")
	}
	// Unknown arguments first, in a stable order: a misspelt one is the likeliest mistake.
	var unknown []string
	for name := range m {
		if _, ok := s.props[name]; !ok {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		takes := "no arguments"
		if len(s.names) > 0 {
			takes = "only " + strings.Join(s.names, ", ")
		}
		return argErrorf("unknown argument `%s`: %s takes %s", unknown[0], s.tool, takes)
	}
	for _, name := range s.required {
		v, ok := m[name]
		if !ok || isNull(v) || string(v) == `""` {
			return argErrorf("`%s` is required", name)
		}
	}
	for _, name := range s.names {
		if v, ok := m[name]; ok {
			if err := checkValue(name, s.props[name], v); err != nil {
				return err
			}
		}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return argErrorf("`%s` must be %s, not %s", te.Field, article(jsonTypeOf(te.Type)), article(te.Value))
		}
		return argErrorf("arguments: %v", err)
	}
	return nil
}

// jsonTypeOf names the JSON type a Go type decodes from.
func jsonTypeOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Pointer:
		return jsonTypeOf(t.Elem())
	}
	return "object"
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// checkValue checks one value against its property schema: type, array items, enum and
// numeric bounds.
func checkValue(path string, schema map[string]any, v json.RawMessage) error {
	types := schemaTypes(schema)
	got := jsonKind(v)
	if len(types) > 0 && !slices.Contains(types, got) && !(got == "integer" && slices.Contains(types, "number")) {
		return argErrorf("`%s` must be %s, not %s", path, describeType(schema, types), article(got))
	}
	if got == "null" {
		return nil
	}
	if enum, ok := schema["enum"].([]any); ok {
		var val any
		_ = json.Unmarshal(v, &val)
		if !slices.Contains(enum, val) {
			names := make([]string, len(enum))
			for i, e := range enum {
				names[i] = fmt.Sprint(e)
			}
			return argErrorf("`%s` must be one of %s, not %s", path, strings.Join(names, ", "), v)
		}
	}
	if got == "integer" || got == "number" {
		var n float64
		_ = json.Unmarshal(v, &n)
		lo, hasLo := schema["minimum"].(float64)
		hi, hasHi := schema["maximum"].(float64)
		if (hasLo && n < lo) || (hasHi && n > hi) {
			switch {
			case hasLo && hasHi:
				return argErrorf("`%s` must be between %v and %v, not %s", path, lo, hi, v)
			case hasLo:
				return argErrorf("`%s` must be at least %v, not %s", path, lo, v)
			default:
				return argErrorf("`%s` must be at most %v, not %s", path, hi, v)
			}
		}
	}
	if items, ok := schema["items"].(map[string]any); ok && got == "array" {
		var elems []json.RawMessage
		_ = json.Unmarshal(v, &elems)
		for i, e := range elems {
			if err := checkValue(fmt.Sprintf("%s[%d]", path, i), items, e); err != nil {
				return err
			}
		}
	}
	return nil
}

// schemaTypes lists a property's JSON types ("type": "string" or ["null", "array"]).
func schemaTypes(schema map[string]any) []string {
	switch t := schema["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// describeType says what a property holds: "a string", "an array of strings".
func describeType(schema map[string]any, types []string) string {
	var parts []string
	for _, t := range types {
		if t == "null" {
			continue
		}
		d := article(t)
		if t == "array" {
			if items, ok := schema["items"].(map[string]any); ok {
				if it := schemaTypes(items); len(it) == 1 {
					d = "an array of " + it[0] + "s"
				}
			}
		}
		parts = append(parts, d)
	}
	return strings.Join(parts, " or ")
}

func article(kind string) string {
	switch kind {
	case "object", "array", "integer":
		return "an " + kind
	case "null":
		return "null"
	}
	return "a " + kind
}

// jsonKind names the JSON type of a value: string, integer (a number without a fraction),
// number, boolean, array, object or null.
func jsonKind(v json.RawMessage) string {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "null"
	}
	switch v[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		if _, err := n.Int64(); err == nil {
			return "integer"
		}
	}
	return "number"
}

package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// ValidationError is why an event's data fails its type's schema. When several values fail
// it reports one, the same every time: the failing pointer that sorts first (for missing
// properties, the first in the schema's required list, naming the others in Message).
type ValidationError struct {
	// Pointer is the JSON pointer of the failing value in the envelope, under /data
	// ("/data/views"). For a missing property it names the property ("/data/post_url"), for
	// a property the schema forbids, that property.
	Pointer string
	// Keyword is the JSON Schema keyword that failed: "type", "required", "enum", "format",
	// "pattern"…; "json" when data is not JSON at all.
	Keyword string
	// Message says what is wrong with the value: "expected integer, got string".
	Message string
}

// Error reads like "/data/views: expected integer, got string".
func (e *ValidationError) Error() string { return e.Pointer + ": " + e.Message }

// FieldName returns the pointer, so that API errors name the field.
func (e *ValidationError) FieldName() string { return e.Pointer }

// Validate checks data, an event's data, against the schema of the type typeName resolves
// to (see Lookup). It returns nil when data is valid, an error wrapping ErrUnknownType when
// the catalog has no such type, or a *ValidationError.
func (c *Catalog) Validate(typeName string, data json.RawMessage) error {
	t, ok := c.Lookup(typeName)
	if !ok {
		return fmt.Errorf("validate %s: %w", typeName, ErrUnknownType)
	}
	return t.Validate(data)
}

// ValidateFrom is Validate for an event from source: it checks data against source's own
// type of that name when there is one (see LookupFrom). Inbound webhooks should use it, so
// that tinyposter's ping is not checked against hookgate's.
func (c *Catalog) ValidateFrom(source, typeName string, data json.RawMessage) error {
	t, ok := c.LookupFrom(source, typeName)
	if !ok {
		return fmt.Errorf("validate %s: %w", typeName, ErrUnknownType)
	}
	return t.Validate(data)
}

// Validate checks data against the type's schema; it returns nil or a *ValidationError
// whose pointer starts at the envelope ("/data/…"). data is decoded once, with numbers
// kept exact.
func (t *Type) Validate(data json.RawMessage) error {
	return t.validate(data, "/data")
}

// ValidateDocument is Validate for a document that stands alone (an endpoint's mapped
// payload): pointers start at its root ("/post_url", or "" for the whole document).
func (t *Type) ValidateDocument(doc json.RawMessage) error {
	return t.validate(doc, "")
}

func (t *Type) validate(data json.RawMessage, root string) error {
	v, err := decodeJSON(data)
	if err != nil {
		return &ValidationError{Pointer: root, Keyword: "json", Message: "not valid JSON: " + err.Error()}
	}
	err = t.compiled.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validate %s: %w", t.Name, err)
	}
	leaf := bestLeaf(ve)
	return &ValidationError{Pointer: root + leaf.pointer, Keyword: leaf.keyword, Message: leaf.message}
}

// failure is one leaf of the validator's error tree, in our terms.
type failure struct {
	pointer, keyword, message string
}

// bestLeaf picks the failure to report: of all the leaves of the tree, the one whose pointer
// sorts first (then its keyword). The validator walks properties in map order, so taking the
// first leaf would name a different field from one run to the next.
func bestLeaf(ve *jsonschema.ValidationError) failure {
	var best failure
	found := false
	var walk func(*jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		f := describe(e)
		if !found || f.pointer < best.pointer || f.pointer == best.pointer && f.keyword < best.keyword {
			best, found = f, true
		}
	}
	walk(ve)
	return best
}

// quotedNames finds the 'names' a validator message lists.
var quotedNames = regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`)

// describe turns one validator failure into our pointer, keyword and message.
func describe(e *jsonschema.ValidationError) failure {
	f := failure{pointer: e.InstanceLocation, message: e.Message}
	kw := e.KeywordLocation
	if i := strings.LastIndexByte(kw, '/'); i >= 0 {
		kw = kw[i+1:]
	}
	f.keyword = kw
	switch kw {
	case "required":
		if names := quotedNames.FindAllStringSubmatch(e.Message, -1); len(names) > 0 {
			f.pointer += "/" + escapePointer(names[0][1])
			f.message = "missing required property"
			if len(names) > 1 {
				var more []string
				for _, n := range names[1:] {
					more = append(more, n[1])
				}
				f.message += " (also missing: " + strings.Join(more, ", ") + ")"
			}
		}
	case "additionalProperties", "unevaluatedProperties":
		if names := quotedNames.FindAllStringSubmatch(e.Message, -1); len(names) > 0 {
			f.pointer += "/" + escapePointer(names[0][1])
			f.message = "property not allowed"
		}
	case "type":
		f.message = strings.Replace(e.Message, ", but got ", ", got ", 1)
	default:
		if !isKeyword(kw) { // a false schema: its location ends with the property's name
			f.keyword, f.message = "false", "no value is allowed here"
		}
	}
	return f
}

// isKeyword reports whether s is a JSON Schema keyword that can fail validation.
func isKeyword(s string) bool {
	switch s {
	case "type", "enum", "const", "format", "pattern", "minLength", "maxLength", "minimum", "maximum",
		"exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems",
		"contains", "minContains", "maxContains", "minProperties", "maxProperties", "required",
		"dependentRequired", "propertyNames", "additionalProperties", "unevaluatedProperties",
		"unevaluatedItems", "items", "prefixItems", "not", "anyOf", "oneOf", "allOf", "if", "then",
		"else", "dependentSchemas", "contentEncoding", "contentMediaType", "$ref", "$dynamicRef":
		return true
	}
	return false
}

// escapePointer escapes a property name as a JSON pointer token (RFC 6901).
func escapePointer(name string) string {
	name = strings.ReplaceAll(name, `\'`, `'`)
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(name)
}

package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

// ValidationError is the first reason an event's data fails its schema. Pointer is the JSON
// pointer of the failing value in the envelope ("/data/views"; for a missing property, the
// property itself: "/data/post_url"); Keyword is the schema keyword that failed ("type",
// "required", "format", "enum"…).
type ValidationError struct {
	Pointer string
	Keyword string
	Message string
}

// Error reads like "/data/views: expected integer, got string".
func (e *ValidationError) Error() string { return e.Pointer + ": " + e.Message }

// FieldName is the JSON pointer, so API errors name the field.
func (e *ValidationError) FieldName() string { return e.Pointer }

// Validate checks data against the schema of typeName. It returns ErrUnknownType when the
// catalog has no such type, or a *ValidationError.
func (c *Catalog) Validate(typeName string, data json.RawMessage) error {
	t, ok := c.Lookup(typeName)
	if !ok {
		return fmt.Errorf("%s: %w", typeName, ErrUnknownType)
	}
	return t.Validate(data)
}

// Validate checks data against the type's schema.
func (t *Type) Validate(data json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return &ValidationError{Pointer: "/data", Keyword: "json", Message: "not valid JSON: " + err.Error()}
	}
	err := t.compiled.Validate(v)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return fmt.Errorf("validate %s: %w", t.Name, err)
	}
	return describe(leafError(ve))
}

// leafError follows the first chain of causes to the most specific failure.
func leafError(ve *jsonschema.ValidationError) *jsonschema.ValidationError {
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	return ve
}

var missingRE = regexp.MustCompile(`missing properties?: '([^']+)'`)

// describe turns a validator failure into a ValidationError in the envelope's terms.
func describe(ve *jsonschema.ValidationError) *ValidationError {
	ptr := "/data" + ve.InstanceLocation
	kw := ve.KeywordLocation
	if i := strings.LastIndexByte(kw, '/'); i >= 0 {
		kw = kw[i+1:]
	}
	msg := strings.Replace(ve.Message, ", but got ", ", got ", 1)
	if kw == "required" {
		if m := missingRE.FindStringSubmatch(ve.Message); m != nil {
			ptr += "/" + m[1]
			msg = "missing required property"
		}
	}
	return &ValidationError{Pointer: ptr, Keyword: kw, Message: msg + " (" + kw + ")"}
}

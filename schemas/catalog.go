// Package schemas is hookgate's event catalog: one JSON Schema (draft 2020-12) per event type
// of every provider hookgate knows (TokPortal, Upload-Post, Oktopost, tinyposter) plus its own
// meta events, embedded in the binary; validation of published events against them; operators'
// custom types; and exports that let no-code builders map fields without guessing (JSON Schema,
// a sample envelope, Zapier output fields, a Make data structure, an OpenAPI 3.1 document).
//
// A schema describes the envelope's data as hookgate stores it after mapping a provider's
// payload (see README.md in this folder for the field-by-field mapping).
//
// Type names are the providers' own. A name several providers define ("ping": hookgate's test
// event and tinyposter's) resolves to hookgate's own; LookupProvider reaches the others.
//
// # Example
//
//	cat, err := schemas.New()
//	if err != nil { … }
//	err = cat.Validate("video.posted", json.RawMessage(`{"video_id":"v_1"}`))
//	// /data/bundle_id: missing required property (required)
//	out, _ := cat.Export("video.posted", schemas.FormatZapier)
package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
)

//go:embed catalog
var catalogFS embed.FS

// HookgateProvider is the provider name of hookgate's own events, and of custom types.
const HookgateProvider = "hookgate"

// CustomProvider is the provider of types operators add.
const CustomProvider = "custom"

// Errors the catalog returns.
var (
	// ErrUnknownType: no schema for that event type.
	ErrUnknownType = errors.New("unknown event type")
	// ErrBuiltin: built-in types can't be replaced or removed.
	ErrBuiltin = errors.New("built-in event type")
	// ErrExists: a custom type of that name already exists.
	ErrExists = errors.New("event type already exists")
)

// Type is one event type of the catalog.
type Type struct {
	Name        string          `json:"name"`
	Provider    string          `json:"provider"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Builtin     bool            `json:"builtin"`
	Schema      json.RawMessage `json:"schema"`
	// Example is the schema's first example, the data of the sample envelope.
	Example json.RawMessage `json:"example,omitempty"`

	compiled *jsonschema.Schema
}

// Catalog holds every event type. It is safe for concurrent use.
type Catalog struct {
	mu     sync.RWMutex
	byName map[string]*Type            // what a bare name resolves to
	all    map[string]map[string]*Type // provider → name → type
}

// New loads and compiles every embedded schema.
func New() (*Catalog, error) {
	c := &Catalog{byName: map[string]*Type{}, all: map[string]map[string]*Type{}}
	err := fs.WalkDir(catalogFS, "catalog", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".json" {
			return err
		}
		raw, err := catalogFS.ReadFile(p)
		if err != nil {
			return err
		}
		provider := path.Base(path.Dir(p))
		name := strings.TrimSuffix(path.Base(p), ".json")
		t, err := compile(provider, name, "", raw)
		if err != nil {
			return fmt.Errorf("catalog %s: %w", p, err)
		}
		t.Builtin = true
		c.put(t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load event catalog: %w", err)
	}
	return c, nil
}

// put adds t; a bare name resolves to hookgate's own type when several providers share it.
func (c *Catalog) put(t *Type) {
	if c.all[t.Provider] == nil {
		c.all[t.Provider] = map[string]*Type{}
	}
	c.all[t.Provider][t.Name] = t
	if cur, ok := c.byName[t.Name]; !ok || cur.Provider != HookgateProvider {
		c.byName[t.Name] = t
	}
}

// compile parses and compiles a schema; errors name the JSON pointer inside the schema.
func compile(provider, name, description string, raw []byte) (*Type, error) {
	var meta struct {
		Title       string            `json:"title"`
		Description string            `json:"description"`
		Examples    []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, &SchemaError{Pointer: "", Message: "not a JSON object: " + err.Error()}
	}
	comp := jsonschema.NewCompiler()
	comp.Draft = jsonschema.Draft2020
	comp.AssertFormat = true
	url := "https://hookgate.dev/schemas/" + provider + "/" + name + ".json"
	if err := comp.AddResource(url, bytes.NewReader(raw)); err != nil {
		return nil, &SchemaError{Message: err.Error()}
	}
	s, err := comp.Compile(url)
	if err != nil {
		return nil, schemaError(err)
	}
	t := &Type{Name: name, Provider: provider, Title: meta.Title, Description: meta.Description, Schema: json.RawMessage(raw), compiled: s}
	if description != "" {
		t.Description = description
	}
	if t.Title == "" {
		t.Title = name
	}
	if len(meta.Examples) > 0 {
		t.Example = meta.Examples[0]
	}
	return t, nil
}

// SchemaError reports a schema that does not compile; Pointer locates the problem inside it.
type SchemaError struct {
	Pointer string
	Message string
}

// Error implements error.
func (e *SchemaError) Error() string {
	if e.Pointer == "" {
		return "schema: " + e.Message
	}
	return fmt.Sprintf("schema%s: %s", e.Pointer, e.Message)
}

// FieldName names the field in a request body: the pointer under "schema".
func (e *SchemaError) FieldName() string { return "schema" + e.Pointer }

var schemaPtrRE = regexp.MustCompile(`#(/[^\s']*)`)

// schemaError turns a compiler error into a SchemaError with the pointer it mentions.
func schemaError(err error) *SchemaError {
	msg := err.Error()
	var se *jsonschema.SchemaError
	if errors.As(err, &se) && se.Err != nil {
		var ve *jsonschema.ValidationError
		if errors.As(se.Err, &ve) {
			leaf := leafError(ve)
			return &SchemaError{Pointer: leaf.InstanceLocation, Message: leaf.Message}
		}
		msg = se.Err.Error()
	}
	ptr := ""
	if m := schemaPtrRE.FindStringSubmatch(msg); m != nil {
		ptr = m[1]
	}
	return &SchemaError{Pointer: ptr, Message: msg}
}

// Lookup returns the type a bare name resolves to.
func (c *Catalog) Lookup(name string) (*Type, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.byName[name]
	return t, ok
}

// LookupProvider returns a provider's own type of that name.
func (c *Catalog) LookupProvider(provider, name string) (*Type, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.all[provider][name]
	return t, ok
}

// List returns the types of one provider ("" for all), sorted by provider then name.
func (c *Catalog) List(provider string) []*Type {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []*Type
	for p, types := range c.all {
		if provider != "" && p != provider {
			continue
		}
		for _, t := range types {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *Type) int {
		if c := strings.Compare(a.Provider, b.Provider); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// Providers lists the providers with types in the catalog.
func (c *Catalog) Providers() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.all))
	for p := range c.all {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

var customNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:\-]{0,199}$`)

// Add compiles and adds a custom type. A schema that does not compile is a *SchemaError
// naming the JSON pointer; the name of a built-in type or an existing custom type is refused.
func (c *Catalog) Add(name, description string, schema json.RawMessage) (*Type, error) {
	if !customNameRE.MatchString(name) {
		return nil, fmt.Errorf("event type name %q: want 1-200 letters, digits or . _ : -", name)
	}
	c.mu.RLock()
	_, builtin := c.builtinNamed(name)
	_, exists := c.all[CustomProvider][name]
	c.mu.RUnlock()
	if builtin {
		return nil, fmt.Errorf("%s: %w", name, ErrBuiltin)
	}
	if exists {
		return nil, fmt.Errorf("%s: %w", name, ErrExists)
	}
	t, err := compile(CustomProvider, name, description, schema)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.put(t)
	return t, nil
}

// Restore adds a custom type that was already accepted by Add (at startup), replacing one of
// the same name.
func (c *Catalog) Restore(name, description string, schema json.RawMessage) error {
	t, err := compile(CustomProvider, name, description, schema)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.put(t)
	return nil
}

func (c *Catalog) builtinNamed(name string) (*Type, bool) {
	for p, types := range c.all {
		if p == CustomProvider {
			continue
		}
		if t, ok := types[name]; ok {
			return t, true
		}
	}
	return nil, false
}

// Remove deletes a custom type.
func (c *Catalog) Remove(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.all[CustomProvider][name]; !ok {
		if _, builtin := c.builtinNamed(name); builtin {
			return fmt.Errorf("%s: %w", name, ErrBuiltin)
		}
		return fmt.Errorf("%s: %w", name, ErrUnknownType)
	}
	delete(c.all[CustomProvider], name)
	if t, ok := c.byName[name]; ok && t.Provider == CustomProvider {
		delete(c.byName, name)
	}
	return nil
}

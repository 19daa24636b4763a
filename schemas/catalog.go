package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// HookgateProvider is the provider of hookgate's own meta events (ping, endpoint.disabled).
const HookgateProvider = "hookgate"

// CustomProvider is the provider of the types operators add with Add.
const CustomProvider = "custom"

// BaseURL prefixes every schema's $id: BaseURL + "<provider>/<type>.json".
const BaseURL = "https://hookgate.dev/schemas/"

var (
	// ErrUnknownType means the catalog has no type of that name. Validate returns it so the
	// caller decides: accept the event untyped, or refuse it (--strict-types).
	ErrUnknownType = errors.New("unknown event type")
	// ErrBuiltin means a built-in type can't be replaced or removed.
	ErrBuiltin = errors.New("built-in event type")
	// ErrExists means a custom type of that name already exists.
	ErrExists = errors.New("event type already exists")
)

// Type is one event type of the catalog. The catalog shares Types between callers: treat
// them as read-only.
type Type struct {
	// Name is the provider's own name of the type: "video.posted", "postSent".
	Name string `json:"name"`
	// Provider is tokportal, uploadpost, oktopost, tinyposter, hookgate or custom.
	Provider string `json:"provider"`
	// Title is a short human name ("Video posted"); the schema's title, else Name.
	Title string `json:"title"`
	// Description says when the event fires and what it carries.
	Description string `json:"description"`
	// Builtin is true for the embedded types, false for custom ones.
	Builtin bool `json:"builtin"`
	// Schema is the JSON Schema (draft 2020-12) of the envelope's data, as written.
	Schema json.RawMessage `json:"schema"`
	// Example is the schema's first example: the data of the sample envelope.
	Example json.RawMessage `json:"example,omitempty"`

	compiled *jsonschema.Schema
}

// Catalog holds every event type, built-in and custom. It is safe for concurrent use.
type Catalog struct {
	mu    sync.RWMutex
	types map[string]map[string]*Type // name → provider → type
}

// New loads and compiles every embedded schema once. It fails if any schema does not
// compile or any of its examples does not validate against it.
func New() (*Catalog, error) {
	c := &Catalog{types: map[string]map[string]*Type{}}
	err := fs.WalkDir(catalogFS, "catalog", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".json" {
			return err
		}
		raw, err := catalogFS.ReadFile(p)
		if err != nil {
			return err
		}
		provider := path.Base(path.Dir(p))
		t, err := compile(provider, strings.TrimSuffix(path.Base(p), ".json"), raw)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		t.Builtin = true
		c.put(t)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load the event catalog: %w", err)
	}
	return c, nil
}

// put adds t, replacing the type of the same provider and name.
func (c *Catalog) put(t *Type) {
	if c.types[t.Name] == nil {
		c.types[t.Name] = map[string]*Type{}
	}
	c.types[t.Name][t.Provider] = t
}

// rank orders the providers of one name: hookgate's own first, custom types last.
func rank(provider string) int {
	switch provider {
	case HookgateProvider:
		return 0
	case CustomProvider:
		return 2
	}
	return 1
}

// resolve picks what a bare name means among the providers that define it (see the package
// comment). The caller holds c.mu.
func (c *Catalog) resolve(name string) (*Type, bool) {
	var best *Type
	for p, t := range c.types[name] {
		if best == nil || rank(p) < rank(best.Provider) || rank(p) == rank(best.Provider) && p < best.Provider {
			best = t
		}
	}
	return best, best != nil
}

// Lookup returns the type a bare name resolves to: hookgate's own when it has one, else a
// built-in provider's, else a custom type.
func (c *Catalog) Lookup(name string) (*Type, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.resolve(name)
}

// LookupProvider returns the provider's own type of that name, shadowed or not.
func (c *Catalog) LookupProvider(provider, name string) (*Type, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.types[name][provider]
	return t, ok
}

// Find returns the provider's own type of that name when provider is set (LookupProvider),
// else the type the bare name resolves to (Lookup): how an API caller picks a type.
func (c *Catalog) Find(provider, name string) (*Type, bool) {
	if provider != "" {
		return c.LookupProvider(provider, name)
	}
	return c.Lookup(name)
}

// LookupFrom returns the type an event from source means by name: source's own type when
// source is a provider that defines name, else what the bare name resolves to. An event
// published by "myapp" with type video.posted gets TokPortal's schema; a ping that arrives
// from tinyposter gets tinyposter's.
func (c *Catalog) LookupFrom(source, name string) (*Type, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if t, ok := c.types[name][source]; ok && source != "" {
		return t, true
	}
	return c.resolve(name)
}

// List returns the types of one provider, or of all when provider is "", sorted by provider
// then name.
func (c *Catalog) List(provider string) []*Type {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []*Type
	for _, byProvider := range c.types {
		for p, t := range byProvider {
			if provider == "" || p == provider {
				out = append(out, t)
			}
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

// Providers lists, sorted, the providers that have at least one type in the catalog.
func (c *Catalog) Providers() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	seen := map[string]bool{}
	for _, byProvider := range c.types {
		for p := range byProvider {
			seen[p] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// customName is what a custom type may be called: the characters of the providers' names.
var customName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:\-]{0,199}$`)

// Add compiles and adds a custom type with the JSON Schema (draft 2020-12) of its data. The
// schema must be a JSON object; it may refer to itself ($ref "#/$defs/…") but loads nothing
// else. A schema that does not compile, or whose examples fail it, is a *SchemaError naming
// the JSON pointer inside the schema. A name a built-in type already has is ErrBuiltin; a
// name a custom type already has is ErrExists. description, when set, replaces the schema's.
// Add does not persist the type: the gateway stores it and calls Restore at startup.
func (c *Catalog) Add(name, description string, schema json.RawMessage) (*Type, error) {
	if !customName.MatchString(name) {
		return nil, fmt.Errorf("event type name %q: want 1 to 200 letters, digits or . _ : - starting with a letter or digit", name)
	}
	if err := c.checkFree(name); err != nil {
		return nil, err
	}
	t, err := compileCustom(name, description, schema)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.checkFreeLocked(name); err != nil { // added while we compiled
		return nil, err
	}
	c.put(t)
	return t, nil
}

// Restore adds a custom type that Add accepted before (the gateway calls it at startup for
// every stored type), replacing a custom type of the same name. Unlike Add it accepts the
// name of a built-in type, should a later version have added one: the built-in then shadows
// it in Lookup, and Remove still deletes it.
func (c *Catalog) Restore(name, description string, schema json.RawMessage) error {
	t, err := compileCustom(name, description, schema)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.put(t)
	return nil
}

// Remove deletes a custom type. Removing a built-in type is ErrBuiltin; a name the catalog
// doesn't have is ErrUnknownType.
func (c *Catalog) Remove(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	byProvider := c.types[name]
	if _, ok := byProvider[CustomProvider]; !ok {
		if len(byProvider) > 0 {
			return fmt.Errorf("remove %s: %w", name, ErrBuiltin)
		}
		return fmt.Errorf("remove %s: %w", name, ErrUnknownType)
	}
	delete(byProvider, CustomProvider)
	if len(byProvider) == 0 {
		delete(c.types, name)
	}
	return nil
}

func (c *Catalog) checkFree(name string) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.checkFreeLocked(name)
}

func (c *Catalog) checkFreeLocked(name string) error {
	byProvider := c.types[name]
	for p := range byProvider {
		if p != CustomProvider {
			return fmt.Errorf("add %s: %s already defines it: %w", name, p, ErrBuiltin)
		}
	}
	if _, ok := byProvider[CustomProvider]; ok {
		return fmt.Errorf("add %s: %w", name, ErrExists)
	}
	return nil
}

// compileCustom compiles a custom type's schema; description, when set, wins.
// Compile compiles a standalone JSON Schema (an endpoint's output_schema) under the same
// rules as custom types: draft 2020-12, no loading of other documents. A broken schema is a
// *SchemaError naming the pointer inside it.
func Compile(name string, schema json.RawMessage) (*Type, error) {
	return compileCustom(name, "", schema)
}

func compileCustom(name, description string, schema json.RawMessage) (*Type, error) {
	t, err := compile(CustomProvider, name, schema)
	if err != nil {
		return nil, err
	}
	if description != "" {
		t.Description = description
	}
	return t, nil
}

// noLoad refuses to load any document a schema refers to: custom schemas come from API
// callers, and must not make the server read files or fetch URLs.
func noLoad(url string) (io.ReadCloser, error) {
	return nil, fmt.Errorf("%s: a schema may refer only to its own parts (a $ref that starts with #), not load another document", url)
}

// compile parses and compiles a schema and checks its examples against it. Errors are
// *SchemaError values naming the JSON pointer inside the schema.
func compile(provider, name string, raw []byte) (*Type, error) {
	doc, err := decodeOrdered(raw)
	if err != nil {
		return nil, &SchemaError{Message: "not valid JSON: " + err.Error()}
	}
	o, ok := doc.(*object)
	if !ok {
		return nil, &SchemaError{Message: "a schema must be a JSON object, got " + jsonKind(doc)}
	}
	var meta struct {
		Title       string            `json:"title"`
		Description string            `json:"description"`
		Examples    []json.RawMessage `json:"examples"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		// Only a mistyped title, description or examples gets here; the meta-schema names it.
		meta.Title, meta.Description, meta.Examples = o.str("title"), o.str("description"), nil
	}
	comp := jsonschema.NewCompiler()
	comp.Draft = jsonschema.Draft2020
	comp.AssertFormat = true
	comp.LoadURL = noLoad
	url := BaseURL + provider + "/" + name + ".json"
	if err := comp.AddResource(url, bytes.NewReader(raw)); err != nil {
		return nil, &SchemaError{Message: err.Error()}
	}
	compiled, err := comp.Compile(url)
	if err != nil {
		return nil, schemaError(err, o)
	}
	t := &Type{
		Name:        name,
		Provider:    provider,
		Title:       meta.Title,
		Description: meta.Description,
		Schema:      json.RawMessage(raw),
		compiled:    compiled,
	}
	if t.Title == "" {
		t.Title = name
	}
	for i, ex := range meta.Examples {
		if err := t.Validate(ex); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				return nil, &SchemaError{Pointer: fmt.Sprintf("/examples/%d%s", i, strings.TrimPrefix(ve.Pointer, "/data")), Message: "the example fails the schema: " + ve.Message}
			}
			return nil, &SchemaError{Pointer: fmt.Sprintf("/examples/%d", i), Message: err.Error()}
		}
	}
	if len(meta.Examples) > 0 {
		t.Example = meta.Examples[0]
	}
	return t, nil
}

// SchemaError reports a schema that does not compile. Pointer is the JSON pointer of the
// problem inside the schema ("/properties/n/type"), "" for the whole document.
type SchemaError struct {
	Pointer string
	Message string
}

// Error reads like "schema/properties/n/type: value must be one of …".
func (e *SchemaError) Error() string {
	return "schema" + e.Pointer + ": " + e.Message
}

// FieldName names the field of an API request that holds the problem: the pointer under
// "schema" ("schema/properties/n/type").
func (e *SchemaError) FieldName() string { return "schema" + e.Pointer }

// schemaPointer finds "#/…" in a compiler message that names a location in the schema.
var schemaPointer = regexp.MustCompile(`#(/[^\s'"]*)`)

// schemaError turns a compiler error about doc into a *SchemaError naming the pointer inside
// the schema: the failing keyword when the schema breaks the draft 2020-12 meta-schema, the
// $ref (or $schema) when a reference can't be resolved, else the location the compiler names.
func schemaError(err error, doc *object) *SchemaError {
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		leaf := bestLeaf(ve)
		return &SchemaError{Pointer: leaf.pointer, Message: leaf.message}
	}
	msg := err.Error()
	var se *jsonschema.SchemaError
	if errors.As(err, &se) && se.Err != nil {
		msg = strings.TrimPrefix(se.Err.Error(), "jsonschema: ")
	}
	if ptr, ok := findReference(doc, "", msg); ok {
		return &SchemaError{Pointer: ptr, Message: msg}
	}
	ptr := ""
	if m := schemaPointer.FindStringSubmatch(msg); m != nil {
		ptr = m[1]
	}
	return &SchemaError{Pointer: ptr, Message: msg}
}

// findReference returns the pointer of the first $ref, $dynamicRef or $schema in v whose
// value the compiler's message quotes: the reference it could not resolve.
func findReference(v any, at, msg string) (string, bool) {
	switch v := v.(type) {
	case *object:
		for _, k := range v.keys {
			ptr := at + "/" + escapePointer(k)
			if s, ok := v.vals[k].(string); ok && s != "" && (k == "$ref" || k == "$dynamicRef" || k == "$schema") && strings.Contains(msg, s) {
				return ptr, true
			}
			if p, ok := findReference(v.vals[k], ptr, msg); ok {
				return p, true
			}
		}
	case []any:
		for i, x := range v {
			if p, ok := findReference(x, fmt.Sprintf("%s/%d", at, i), msg); ok {
				return p, true
			}
		}
	}
	return "", false
}

package gateway

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// RegistryDocVersion is the version of the document ExportRegistry writes, the only one
// ImportRegistry reads.
const RegistryDocVersion = 1

// RegistryDoc is the registry as one JSON document: what `hookgate export` writes and
// `hookgate import` reads, to carry endpoints, sources and event types from one store to
// another (Badger to NATS, say). Records are as the store keeps them, credentials
// included (endpoints' signing secrets and auth, sources' verification secrets), so the
// document is as secret as the store.
type RegistryDoc struct {
	// Version is RegistryDocVersion.
	Version int `json:"version"`
	// Hookgate is the version of hookgate that wrote the document.
	Hookgate string `json:"hookgate,omitempty"`
	// ExportedAt is when it was written.
	ExportedAt time.Time `json:"exported_at"`
	// Registry holds the records of each collection by its name ("endpoints", "sources",
	// "event_types"), ordered by id.
	Registry map[string][]json.RawMessage `json:"registry"`
}

// ImportAction is what ImportRegistry did with one record.
type ImportAction string

// The actions of an import.
const (
	ImportCreated   ImportAction = "created"   // the record did not exist
	ImportUpdated   ImportAction = "updated"   // it existed with other content, now replaced
	ImportUnchanged ImportAction = "unchanged" // it existed with the same content: skipped
)

// ImportResult is one record ImportRegistry handled.
type ImportResult struct {
	Collection string
	ID         string
	Action     ImportAction
}

// registryCollection is one collection of the registry, its records as JSON.
type registryCollection struct {
	name string
	// list returns every record of r's collection, ordered by id.
	list func(ctx context.Context, r Registry) ([]json.RawMessage, error)
	// check decodes raw and returns its id, without writing.
	check func(raw json.RawMessage) (string, error)
	// put stores raw, already checked, in r's collection unless the same record is stored.
	put func(ctx context.Context, r Registry, raw json.RawMessage) (ImportAction, error)
}

// registryCollections is every collection export and import walk, in the order import
// writes them: event types, sources, keys and OAuth grants before the endpoints that may
// name them (an MCP Events subscription's endpoint names the key or grant that owns it).
// A new collection of Registry is one line here.
var registryCollections = []registryCollection{
	collection("keys", Registry.Keys, func(k *APIKey) string { return k.ID }),
	collection("oauth_clients", Registry.OAuthClients, func(c *OAuthClient) string { return c.ID }),
	collection("grants", Registry.Grants, func(g *Grant) string { return g.ID }),
	collection("event_types", Registry.EventTypes, func(t *EventTypeRecord) string { return t.Name }),
	collection("sources", Registry.Sources, func(s *Source) string { return s.ID }),
	collection("endpoints", Registry.Endpoints, func(e *Endpoint) string { return e.ID }),
}

// collection adapts the records of, in a Registry, whose ids id reads, to
// registryCollection.
func collection[T any](name string, of func(Registry) Records[T], id func(T) string) registryCollection {
	decode := func(raw json.RawMessage) (T, string, error) {
		var v T
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
			return v, "", errors.New("a record must be a JSON object")
		}
		if err := json.Unmarshal(raw, &v); err != nil {
			return v, "", fmt.Errorf("decode: %w", err)
		}
		k := id(v)
		if k == "" {
			return v, "", errors.New("a record has no id")
		}
		return v, k, nil
	}
	return registryCollection{
		name: name,
		list: func(ctx context.Context, reg Registry) ([]json.RawMessage, error) {
			vs, err := of(reg).List(ctx)
			if err != nil {
				return nil, err
			}
			slices.SortFunc(vs, func(a, b T) int { return cmp.Compare(id(a), id(b)) })
			out := make([]json.RawMessage, 0, len(vs))
			for _, v := range vs {
				b, err := json.Marshal(v)
				if err != nil {
					return nil, fmt.Errorf("encode %s: %w", id(v), err)
				}
				out = append(out, b)
			}
			return out, nil
		},
		check: func(raw json.RawMessage) (string, error) {
			_, k, err := decode(raw)
			return k, err
		},
		put: func(ctx context.Context, reg Registry, raw json.RawMessage) (ImportAction, error) {
			r := of(reg)
			v, k, err := decode(raw)
			if err != nil {
				return "", err
			}
			want, err := canonicalJSON(v)
			if err != nil {
				return "", fmt.Errorf("encode %s: %w", k, err)
			}
			for range maxCASTries {
				cur, rev, err := r.Get(ctx, k)
				action := ImportUpdated
				switch {
				case errors.Is(err, ErrNotFound):
					action, rev = ImportCreated, 0
				case err != nil:
					return "", fmt.Errorf("read %s: %w", k, err)
				default:
					have, err := canonicalJSON(cur)
					if err != nil {
						return "", fmt.Errorf("encode stored %s: %w", k, err)
					}
					if bytes.Equal(have, want) {
						return ImportUnchanged, nil
					}
				}
				if _, err := r.Put(ctx, k, v, rev); err == nil {
					return action, nil
				} else if !errors.Is(err, ErrConflict) {
					return "", fmt.Errorf("write %s: %w", k, err)
				}
			}
			return "", fmt.Errorf("%s kept changing while it was imported: %w", k, ErrConflict)
		},
	}
}

// canonicalJSON encodes v with object keys sorted, so that two records compare equal
// whatever order their inline settings were written in.
func canonicalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var generic any
	if err := d.Decode(&generic); err != nil {
		return nil, err
	}
	return json.Marshal(generic)
}

// ExportRegistry reads every collection of r into one document, stamped now.
func ExportRegistry(ctx context.Context, r Registry, now time.Time) (*RegistryDoc, error) {
	doc := &RegistryDoc{Version: RegistryDocVersion, Hookgate: Version, ExportedAt: now.UTC(), Registry: map[string][]json.RawMessage{}}
	for _, c := range registryCollections {
		recs, err := c.list(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", c.name, err)
		}
		doc.Registry[c.name] = recs
	}
	return doc, nil
}

// ParseRegistryDoc decodes a document ExportRegistry's JSON encoding wrote and checks it
// (see Check). A document of another version is refused before the rest is read.
func ParseRegistryDoc(b []byte) (*RegistryDoc, error) {
	var head struct {
		Version *int `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return nil, &ValidationError{Message: "not a hookgate registry document: " + err.Error(), Err: err}
	}
	if head.Version == nil {
		return nil, invalid("version", "not a hookgate registry document: it has no version (write one with hookgate export)")
	}
	var doc RegistryDoc
	if *head.Version == RegistryDocVersion {
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, &ValidationError{Message: "not a hookgate registry document: " + err.Error(), Err: err}
		}
	}
	doc.Version = *head.Version
	if err := doc.Check(); err != nil {
		return nil, err
	}
	return &doc, nil
}

// Check reports whether ImportRegistry can write every record of doc: a version other
// than RegistryDocVersion, a collection this hookgate does not know, a record that is not
// an object of its collection, has no id or repeats one is a *ValidationError naming
// where.
func (doc *RegistryDoc) Check() error {
	if doc.Version != RegistryDocVersion {
		return invalid("version", "registry document version %d: this hookgate (%s) reads version %d only; import it with the hookgate that exported it, or a newer one", doc.Version, Version, RegistryDocVersion)
	}
	known := make(map[string]bool, len(registryCollections))
	for _, c := range registryCollections {
		known[c.name] = true
	}
	for name := range doc.Registry {
		if !known[name] {
			return invalid("registry."+name, "unknown collection %q: this hookgate (%s) keeps none by that name; the document may come from a newer one", name, Version)
		}
	}
	for _, c := range registryCollections {
		seen := make(map[string]bool, len(doc.Registry[c.name]))
		for i, raw := range doc.Registry[c.name] {
			id, err := c.check(raw)
			if err != nil {
				return &ValidationError{Field: fmt.Sprintf("registry.%s[%d]", c.name, i), Message: err.Error(), Err: err}
			}
			if seen[id] {
				return invalid(fmt.Sprintf("registry.%s[%d]", c.name, i), "%s appears twice", id)
			}
			seen[id] = true
		}
	}
	return nil
}

// ImportRegistry writes the records of doc into r: a record that does not exist is
// created, one stored with other content is replaced, one stored with the same content is
// left alone, so that importing a document twice changes nothing the second time. Records
// of r that doc does not hold are kept. doc is checked first (see Check): when it fails,
// nothing is written. Records are restored as they were exported (they were valid where
// they came from); a gateway running on r picks them up through the registry's Watch.
// The results say what became of each record written before any error.
func ImportRegistry(ctx context.Context, r Registry, doc *RegistryDoc) ([]ImportResult, error) {
	if err := doc.Check(); err != nil {
		return nil, err
	}
	var out []ImportResult
	for _, c := range registryCollections {
		for i, raw := range doc.Registry[c.name] {
			id, _ := c.check(raw)
			action, err := c.put(ctx, r, raw)
			if err != nil {
				return out, fmt.Errorf("import registry.%s[%d] (%s): %w", c.name, i, id, err)
			}
			out = append(out, ImportResult{Collection: c.name, ID: id, Action: action})
		}
	}
	return out, nil
}

package schemas_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hookgate/hookgate/schemas"
)

const orderSchema = `{
  "title": "Order paid",
  "description": "An order was paid in the shop",
  "type": "object",
  "properties": {
    "order_id": {"type": "string"},
    "total": {"type": "number"},
    "items": {"type": "array", "items": {"$ref": "#/$defs/item"}}
  },
  "required": ["order_id"],
  "$defs": {"item": {"type": "object", "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}, "required": ["sku"]}},
  "examples": [{"order_id": "o1", "total": 9.5, "items": [{"sku": "tee", "qty": 1}]}]
}`

func TestCustomTypeLifecycle(t *testing.T) {
	c := newCatalog(t)
	typ, err := c.Add("order.paid", "", json.RawMessage(orderSchema))
	if err != nil {
		t.Fatalf("Add = %v", err)
	}
	if typ.Builtin || typ.Provider != schemas.CustomProvider || typ.Title != "Order paid" || typ.Description != "An order was paid in the shop" {
		t.Errorf("Add = %+v", typ)
	}
	if got, ok := c.Lookup("order.paid"); !ok || got != typ {
		t.Errorf("Lookup(order.paid) = %v, %v", got, ok)
	}
	if err := c.Validate("order.paid", json.RawMessage(`{"order_id":"o2","items":[{"qty":2}]}`)); err == nil || err.Error() != "/data/items/0/sku: missing required property" {
		t.Errorf("Validate through $ref = %v", err)
	}
	if err := c.Validate("order.paid", json.RawMessage(`{"order_id":"o2"}`)); err != nil {
		t.Errorf("Validate = %v", err)
	}
	if got := c.List(schemas.CustomProvider); len(got) != 1 || got[0] != typ {
		t.Errorf("List(custom) = %v", got)
	}
	if _, err := c.Add("order.paid", "", json.RawMessage(orderSchema)); !errors.Is(err, schemas.ErrExists) {
		t.Errorf("Add twice = %v, want ErrExists", err)
	}
	if _, err := c.Add("video.posted", "", json.RawMessage(orderSchema)); !errors.Is(err, schemas.ErrBuiltin) {
		t.Errorf("Add over a built-in = %v, want ErrBuiltin", err)
	}
	if _, err := c.Add("ping", "", json.RawMessage(orderSchema)); !errors.Is(err, schemas.ErrBuiltin) {
		t.Errorf("Add ping = %v, want ErrBuiltin", err)
	}
	for _, bad := range []string{"", "has space", "-dash.first", strings.Repeat("a", 201), "a/b"} {
		if _, err := c.Add(bad, "", json.RawMessage(`{}`)); err == nil {
			t.Errorf("Add(%q) = nil, want a name error", bad)
		}
	}

	if err := c.Remove("video.posted"); !errors.Is(err, schemas.ErrBuiltin) {
		t.Errorf("Remove(video.posted) = %v, want ErrBuiltin", err)
	}
	if err := c.Remove("nope.never"); !errors.Is(err, schemas.ErrUnknownType) {
		t.Errorf("Remove(nope.never) = %v, want ErrUnknownType", err)
	}
	if err := c.Remove("order.paid"); err != nil {
		t.Fatalf("Remove = %v", err)
	}
	if _, ok := c.Lookup("order.paid"); ok {
		t.Error("removed type still found")
	}
	if err := c.Validate("order.paid", json.RawMessage(`{}`)); !errors.Is(err, schemas.ErrUnknownType) {
		t.Errorf("Validate after Remove = %v", err)
	}
	if err := c.Remove("order.paid"); !errors.Is(err, schemas.ErrUnknownType) {
		t.Errorf("Remove twice = %v", err)
	}
}

func TestCustomDescriptionWins(t *testing.T) {
	c := newCatalog(t)
	typ, err := c.Add("order.paid", "Paid in full", json.RawMessage(orderSchema))
	if err != nil || typ.Description != "Paid in full" {
		t.Fatalf("Add = %+v, %v", typ, err)
	}
	bare, err := c.Add("bare", "", json.RawMessage(`{"type":"object"}`))
	if err != nil || bare.Title != "bare" || bare.Example != nil {
		t.Fatalf("Add(bare) = %+v, %v", bare, err)
	}
}

func TestBrokenSchemaNamesThePointer(t *testing.T) {
	c := newCatalog(t)
	cases := []struct {
		schema, pointer, contains string
	}{
		{`{"type":"object","properties":{"n":{"type":"integr"}}}`, "/properties/n/type", "value must be one of"},
		{`{"properties":{"a":{"pattern":"(["}}}`, "/properties/a/pattern", "regex"},
		{`{"properties":{"a":{"minLength":-1}}}`, "/properties/a/minLength", ""},
		{`{"required":"a"}`, "/required", "expected array"},
		{`{"properties":{"a":{"$ref":"#/$defs/nope"}}}`, "/properties/a/$ref", "not found"},
		{`{"properties":{"a":{"$ref":"file:///etc/passwd"}}}`, "/properties/a/$ref", "may refer only to its own parts"},
		{`{"$ref":"https://example.com/schema.json"}`, "/$ref", "may refer only to its own parts"},
		{`{"$schema":"https://example.com/meta"}`, "/$schema", "may refer only to its own parts"},
		{`{"type":"object","properties":{"a":{"type":"string"}},"examples":[{"a":"ok"},{"a":1}]}`, "/examples/1/a", "the example fails the schema: expected string, got number"},
		{`[]`, "", "must be a JSON object"},
		{`true`, "", "must be a JSON object"},
		{`{"type":`, "", "not valid JSON"},
	}
	for _, tc := range cases {
		_, err := c.Add("broken", "", json.RawMessage(tc.schema))
		var se *schemas.SchemaError
		if !errors.As(err, &se) || se.Pointer != tc.pointer || !strings.Contains(se.Message, tc.contains) {
			t.Errorf("Add(%s) = %#v (%v), want pointer %q with %q", tc.schema, err, err, tc.pointer, tc.contains)
			continue
		}
		if se.FieldName() != "schema"+tc.pointer || !strings.HasPrefix(err.Error(), "schema"+tc.pointer+": ") {
			t.Errorf("FieldName() = %q, Error() = %q", se.FieldName(), err)
		}
		if _, ok := c.Lookup("broken"); ok {
			t.Fatalf("a broken schema was added: %s", tc.schema)
		}
	}
}

func TestRestore(t *testing.T) {
	c := newCatalog(t)
	if err := c.Restore("order.paid", "v1", json.RawMessage(orderSchema)); err != nil {
		t.Fatal(err)
	}
	if err := c.Restore("order.paid", "v2", json.RawMessage(orderSchema)); err != nil {
		t.Fatal(err)
	}
	if typ, _ := c.Lookup("order.paid"); typ.Description != "v2" {
		t.Errorf("Restore did not replace: %q", typ.Description)
	}
	// A stored custom type whose name a later version made built-in stays reachable by
	// provider and removable, but the bare name means the built-in.
	if err := c.Restore("video.posted", "", json.RawMessage(`{"type":"object"}`)); err != nil {
		t.Fatal(err)
	}
	if typ, _ := c.Lookup("video.posted"); typ.Provider != "tokportal" {
		t.Errorf("Lookup(video.posted) = %s's", typ.Provider)
	}
	if _, ok := c.LookupProvider(schemas.CustomProvider, "video.posted"); !ok {
		t.Error("restored custom video.posted not reachable")
	}
	if err := c.Remove("video.posted"); err != nil {
		t.Errorf("Remove(custom video.posted) = %v", err)
	}
	if _, ok := c.Lookup("video.posted"); !ok {
		t.Error("Remove deleted the built-in")
	}
	if err := c.Restore("broken", "", json.RawMessage(`{"type":"nope"}`)); err == nil {
		t.Error("Restore accepted a broken schema")
	}
}

func TestCatalogIsSafeForConcurrentUse(t *testing.T) {
	c := newCatalog(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				name := fmt.Sprintf("g%d.t%d", g, i)
				if _, err := c.Add(name, "", json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"}}}`)); err != nil {
					t.Error(err)
					return
				}
				if err := c.Validate(name, json.RawMessage(`{"n":"x"}`)); err == nil {
					t.Errorf("Validate(%s) = nil", name)
				}
				if err := c.Validate("video.posted", json.RawMessage(`{}`)); err == nil {
					t.Error("Validate(video.posted, {}) = nil")
				}
				_ = c.List("")
				if _, err := c.Export(name, schemas.FormatZapier); err != nil {
					t.Error(err)
				}
				if i%2 == 0 {
					if err := c.Remove(name); err != nil {
						t.Error(err)
					}
				}
			}
		})
	}
	// Racing Adds of one name: exactly one wins.
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Go(func() {
			if _, err := c.Add("contended", "", json.RawMessage(`{"type":"object"}`)); err == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			} else if !errors.Is(err, schemas.ErrExists) {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d concurrent Adds of one name succeeded, want 1", wins)
	}
	if got := len(c.List(schemas.CustomProvider)); got != 8*10+1 {
		t.Errorf("%d custom types left, want %d", got, 8*10+1)
	}
}

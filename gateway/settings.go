package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// An endpoint's kind settings travel inline: POST and PATCH /v1/endpoints, the MCP tools
// and the stored record all carry {"url":…,"kind":…,"<a setting of the kind>":…}, one
// flat object, the shape the API has always taken and shown. So Endpoint,
// EndpointInput and EndpointPatch (un)marshal their own fields as usual and gather every
// other top-level key into Settings, which they write back inline. A nested "settings"
// object is not a second way to say the same: it would be one more key, refused by the
// kind as a setting it does not read, so that what a client reads back is what it wrote.

type (
	endpointJSON      Endpoint
	endpointInputJSON EndpointInput
	endpointPatchJSON EndpointPatch
)

// MarshalJSON writes ep's fields and its Settings' keys inline.
func (ep Endpoint) MarshalJSON() ([]byte, error) {
	return marshalInline(endpointJSON(ep), ep.Settings)
}

// UnmarshalJSON reads ep's fields and gathers every other key into Settings: a record
// stored before Settings existed, with the kind's settings among the endpoint's fields,
// reads the same way.
func (ep *Endpoint) UnmarshalJSON(b []byte) error {
	var c endpointJSON
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	st, err := extraKeys[endpointJSON](b, false)
	if err != nil {
		return err
	}
	*ep = Endpoint(c)
	ep.Settings = st
	return nil
}

// MarshalJSON writes in's fields and its Settings' keys inline.
func (in EndpointInput) MarshalJSON() ([]byte, error) {
	return marshalInline(endpointInputJSON(in), in.Settings)
}

// UnmarshalJSON reads in's fields and gathers every other key into Settings.
func (in *EndpointInput) UnmarshalJSON(b []byte) error {
	var c endpointInputJSON
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	st, err := extraKeys[endpointInputJSON](b, false)
	if err != nil {
		return err
	}
	*in = EndpointInput(c)
	in.Settings = st
	return nil
}

// MarshalJSON writes p's fields and its Settings' keys inline.
func (p EndpointPatch) MarshalJSON() ([]byte, error) {
	return marshalInline(endpointPatchJSON(p), p.Settings)
}

// UnmarshalJSON reads p's fields and gathers every other key, null included (it clears
// the setting), into Settings.
func (p *EndpointPatch) UnmarshalJSON(b []byte) error {
	var c endpointPatchJSON
	if err := json.Unmarshal(b, &c); err != nil {
		return err
	}
	st, err := extraKeys[endpointPatchJSON](b, true)
	if err != nil {
		return err
	}
	*p = EndpointPatch(c)
	p.Settings = st
	return nil
}

// fieldKeys returns the JSON keys of T's fields, those of embedded structs included.
func fieldKeys[T any]() map[string]bool {
	t := reflect.TypeFor[T]()
	keysMu.Lock()
	defer keysMu.Unlock()
	if k, ok := keysOf[t]; ok {
		return k
	}
	k := map[string]bool{}
	addKeys(t, k)
	keysOf[t] = k
	return k
}

var (
	keysMu sync.Mutex
	keysOf = map[reflect.Type]map[string]bool{}
)

func addKeys(t reflect.Type, keys map[string]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		switch {
		case tag == "-":
		case f.Anonymous && name == "":
			addKeys(f.Type, keys)
		case !f.IsExported():
		case name == "":
			keys[f.Name] = true
		default:
			keys[name] = true
		}
	}
}

// extraKeys returns the keys of the JSON object b that are not fields of T, as one
// object, or nil when there are none. Null values are dropped unless keepNull.
func extraKeys[T any](b []byte, keepNull bool) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	known := fieldKeys[T]()
	for k, v := range m {
		if known[k] || !keepNull && isNull(v) {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		return nil, nil
	}
	return json.Marshal(m)
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

// marshalInline marshals v (a struct) and appends the keys of settings, a JSON object, to
// it; a setting named like one of v's keys is an error.
func marshalInline(v any, settings json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(settings) == 0 {
		return b, err
	}
	var st, core map[string]json.RawMessage
	if err := json.Unmarshal(settings, &st); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	if err := json.Unmarshal(b, &core); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(st))
	for k := range st {
		if _, ok := core[k]; ok {
			return nil, fmt.Errorf("settings: %q is a field of the endpoint, not a setting", k)
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := bytes.TrimSuffix(bytes.TrimSpace(b), []byte("}"))
	for i, k := range keys {
		if i > 0 || len(core) > 0 {
			out = append(out, ',')
		}
		kb, _ := json.Marshal(k)
		out = append(append(append(out, kb...), ':'), st[k]...)
	}
	return append(out, '}'), nil
}

// cleanSettings returns settings as a canonical JSON object (keys sorted, compact) without
// the keys whose value is null or "" (an unset setting), or nil when none is left. It
// refuses settings that are not an object, and a key that is a field of the endpoint.
func cleanSettings(settings json.RawMessage) (json.RawMessage, error) {
	if len(settings) == 0 || isNull(settings) {
		return nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(settings, &m); err != nil {
		return nil, invalid("settings", "must be a JSON object of the kind's settings")
	}
	known := fieldKeys[endpointJSON]()
	for k, v := range m {
		if known[k] {
			return nil, invalid(k, "is a field of the endpoint, not a setting")
		}
		if isNull(v) || string(bytes.TrimSpace(v)) == `""` {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		return nil, nil
	}
	return json.Marshal(m)
}

// mergeSettings applies a PATCH's settings to the current ones: a key set to null or ""
// is removed, another replaces the current value, except that a value equal to the one
// redacted shows for that key (a masked credential sent back) keeps the current value.
func mergeSettings(current, patch, redacted json.RawMessage) (json.RawMessage, error) {
	cur, pm, red := map[string]json.RawMessage{}, map[string]json.RawMessage{}, map[string]json.RawMessage{}
	for _, x := range []struct {
		raw json.RawMessage
		m   *map[string]json.RawMessage
	}{{current, &cur}, {patch, &pm}, {redacted, &red}} {
		if len(x.raw) > 0 && !isNull(x.raw) {
			if err := json.Unmarshal(x.raw, x.m); err != nil {
				return nil, invalid("settings", "must be a JSON object of the kind's settings")
			}
		}
	}
	for k, v := range pm {
		var c bytes.Buffer
		if json.Compact(&c, v) == nil {
			v = c.Bytes()
		}
		if r, ok := red[k]; ok && bytes.Equal(v, r) && !bytes.Equal(r, cur[k]) {
			continue
		}
		cur[k] = v
	}
	b, err := json.Marshal(cur)
	if err != nil {
		return nil, err
	}
	return cleanSettings(b)
}

// DecodeSettings decodes ep's Settings into v, a pointer to the kind's settings struct:
// a key v has no field for is a *ValidationError naming it ("is not used by <kind>
// endpoints"), so that a setting meant for another kind is not silently ignored; a value
// of the wrong type is one too. Kinds call it from their CheckEndpoint and Send.
func DecodeSettings(ep *Endpoint, v any) error {
	if len(ep.Settings) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(ep.Settings, &m); err != nil {
		return invalid("settings", "must be a JSON object of the kind's settings")
	}
	known := map[string]bool{}
	addKeys(reflect.TypeOf(v), known)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !known[k] {
			return invalid(k, "is not used by %s endpoints", ep.Kind)
		}
	}
	if err := json.Unmarshal(ep.Settings, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return invalid(te.Field, "must be a %s", te.Type)
		}
		return invalid("settings", "%v", err)
	}
	return nil
}

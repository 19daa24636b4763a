package httpapi

import (
	"bytes"
	"encoding"
	"encoding/json"
	"reflect"
	"strings"
	"sync"

	"github.com/hookgate/hookgate/gateway"
)

// How decodeJSON reads a body in one pass of its own and without copying it (issue 17):
// json.Decoder, which DisallowUnknownFields needs, copies the body into a buffer it grows
// by doubling (a 16 KiB body cost ~64 KiB) before it decodes. json.Unmarshal decodes the
// body where it lies, and answers as the Decoder does for a body that is one JSON value and
// names no unknown field: the same bytes go through the same decoding, and the Decoder's
// unknown-field check is the only thing it adds. So decodeJSON takes json.Unmarshal's
// result when it succeeded and knownMembers finds every member of an object decoded into a
// struct named by a field; in every other case it decodes again with the Decoder, whose
// answer (and error) is then the one given. knownMembers may answer false when it cannot
// tell (a name spelled with escapes or in other capitals, embedded structs): that costs the
// second decode, never a different answer.

// knownMembers reports whether, in the JSON text b (one valid value), every member of an
// object that decodes into a struct names one of its fields exactly, which is when a
// Decoder with DisallowUnknownFields meets no unknown field decoding b into a value of type
// t. false also means it could not tell.
func knownMembers(b []byte, t reflect.Type) bool {
	w := walker{b: b}
	return w.value(t)
}

// walker steps through a valid JSON text along a Go type.
type walker struct {
	b []byte
	i int
}

var (
	unmarshalerType     = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// value walks the value at w.i, decoded into a t (nil: not decoded, only skipped).
func (w *walker) value(t reflect.Type) bool {
	w.space()
	for t != nil && t.Kind() == reflect.Pointer && !decodesItself(t) {
		t = t.Elem()
	}
	if t == nil || decodesItself(t) || w.i >= len(w.b) {
		w.skip()
		return true
	}
	switch c := w.b[w.i]; {
	case c == '{' && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map):
		return w.object(t)
	case c == '[' && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		w.i++
		for {
			w.space()
			if w.b[w.i] == ']' {
				w.i++
				return true
			}
			if !w.value(t.Elem()) {
				return false
			}
			w.space()
			if w.b[w.i] == ',' {
				w.i++
			}
		}
	}
	w.skip() // a scalar, or what json.Unmarshal decoded without looking inside
	return true
}

// object walks the object at w.i into a struct or map t.
func (w *walker) object(t reflect.Type) bool {
	var fields map[string]reflect.Type
	if t.Kind() == reflect.Struct {
		var ok bool
		if fields, ok = fieldsOf(t); !ok {
			return false
		}
	}
	w.i++ // {
	for {
		w.space()
		if w.b[w.i] == '}' {
			w.i++
			return true
		}
		start := w.i + 1
		w.skipString()
		name := w.b[start : w.i-1]
		w.space()
		w.i++ // :
		elem := reflect.Type(nil)
		if t.Kind() == reflect.Map {
			elem = t.Elem()
		} else {
			if bytes.IndexByte(name, '\\') >= 0 {
				return false
			}
			if elem = fields[string(name)]; elem == nil {
				return false // unknown, or a field named in other capitals
			}
		}
		if !w.value(elem) {
			return false
		}
		w.space()
		if w.b[w.i] == ',' {
			w.i++
		}
	}
}

// decodesItself reports whether encoding/json hands a t the raw value (json.Unmarshaler,
// encoding.TextUnmarshaler) instead of decoding into its fields.
func decodesItself(t reflect.Type) bool {
	return t.Implements(unmarshalerType) || t.Implements(textUnmarshalerType) ||
		(t.Kind() != reflect.Pointer && (reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textUnmarshalerType)))
}

// structFields caches fieldsOf.
var structFields sync.Map // reflect.Type → fieldSet

type fieldSet struct {
	byName map[string]reflect.Type
	ok     bool
}

// fieldsOf returns the JSON names of struct t's fields with their types, as encoding/json
// names them, and false for a struct it does not model: one with embedded structs (whose
// fields are promoted), a name two fields share, or a tag name it does not read the same way.
func fieldsOf(t reflect.Type) (map[string]reflect.Type, bool) {
	if fs, ok := structFields.Load(t); ok {
		return fs.(fieldSet).byName, fs.(fieldSet).ok
	}
	fs := fieldSet{byName: map[string]reflect.Type{}, ok: true}
	for f := range t.Fields() {
		if f.Anonymous {
			fs.ok = false
			break
		}
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		if _, dup := fs.byName[name]; dup || strings.ContainsFunc(name, func(r rune) bool {
			return !(r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) {
			fs.ok = false
			break
		}
		fs.byName[name] = f.Type
	}
	structFields.Store(t, fs)
	return fs.byName, fs.ok
}

// space moves past JSON whitespace.
func (w *walker) space() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// skipString moves past the string whose opening quote is at w.i.
func (w *walker) skipString() {
	i := w.i + 1
	for {
		j := bytes.IndexByte(w.b[i:], '"')
		if j < 0 {
			w.i = len(w.b)
			return
		}
		i += j
		n := 0 // backslashes right before the quote: an odd count escapes it
		for k := i - 1; k > w.i && w.b[k] == '\\'; k-- {
			n++
		}
		i++
		if n%2 == 0 {
			w.i = i
			return
		}
	}
}

// skip moves past the value at w.i (after space).
func (w *walker) skip() {
	depth := 0
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case '"':
			w.skipString()
			if depth == 0 {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return // the end of a number, true, false or null
			}
			if depth--; depth == 0 {
				w.i++
				return
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return // the end of a number, true, false or null
			}
		}
		w.i++
	}
}

// decodePublish decodes a publish body into p when it is the usual one: a JSON object whose
// members all name a publishRequest field exactly, with strings of printable ASCII and no
// escapes for the string fields and any JSON value but null for data. It steps over data
// and checks it with gateway.ValidJSON, where json.Unmarshal reads the body twice through
// its state machine (data is often one long string, stepped through a byte at a time) and
// knownMembers a third time. For any
// other body it answers false, with p perhaps half filled: decodeJSON then zeroes p and
// decodes the body as it does every other, so its answer and error are unchanged
// (FuzzDecodeJSON holds both paths to the json.Decoder).
func decodePublish(b []byte, p *publishRequest) bool {
	w := walker{b: b}
	w.space()
	if !w.next('{') {
		return false
	}
	w.space()
	for !w.next('}') {
		name, ok := w.plainString()
		if !ok {
			return false
		}
		w.space()
		if !w.next(':') {
			return false
		}
		w.space()
		var field *string
		switch string(name) {
		case "type":
			field = &p.Type
		case "id":
			field = &p.ID
		case "source":
			field = &p.Source
		case "created":
			field = &p.Created
		case "deliver_at":
			field = &p.DeliverAt
		case "data":
			start := w.i
			w.skip()
			v := b[start:w.i]
			if len(v) == 0 || v[0] == 'n' || !gateway.ValidJSON(v) { // null leaves data as it was: the general path
				return false
			}
			p.Data = rawValue(v)
		default:
			return false
		}
		if field != nil {
			v, ok := w.plainString()
			if !ok {
				return false
			}
			*field = string(v)
		}
		w.space()
		if w.next(',') {
			w.space()
			if w.i < len(w.b) && w.b[w.i] == '}' {
				return false // a trailing comma
			}
		} else if w.i >= len(w.b) || w.b[w.i] != '}' {
			return false
		}
	}
	w.space()
	return w.i == len(w.b)
}

// next moves past c if it is the byte at w.i, and reports whether it was.
func (w *walker) next(c byte) bool {
	if w.i < len(w.b) && w.b[w.i] == c {
		w.i++
		return true
	}
	return false
}

// plainString moves past the string at w.i and returns what is between its quotes, if it is
// printable ASCII without escapes (what json decodes to those very bytes); false otherwise.
func (w *walker) plainString() ([]byte, bool) {
	if !w.next('"') {
		return nil, false
	}
	start := w.i
	for ; w.i < len(w.b); w.i++ {
		switch c := w.b[w.i]; {
		case c == '"':
			w.i++
			return w.b[start : w.i-1], true
		case c < 0x20 || c == '\\' || c >= 0x80:
			return nil, false
		}
	}
	return nil, false
}

package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// maxDepth bounds nesting, as encoding/json does, so hostile input can't exhaust the stack.
const maxDepth = 10000

// decodeJSON decodes one JSON document in a single pass into what encoding/json's Decoder
// with UseNumber produces (map[string]any, []any, string, json.Number, bool, nil), which is
// what the validator takes. encoding/json reads the input twice (once to find the value's
// end or check it, once to decode); validation is on the publish path, so it is worth a
// decoder of its own. FuzzDecodeJSON checks it against encoding/json.
func decodeJSON(b []byte) (any, error) {
	d := decoder{b: b}
	d.space()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.space()
	if d.i < len(d.b) {
		return nil, d.errorf("unexpected %q after the JSON value", d.b[d.i])
	}
	return v, nil
}

// DecodeJSON decodes one JSON document as encoding/json's Decoder with UseNumber does: objects
// become map[string]any, arrays []any, and numbers json.Number, the number's text as sent, so
// that 7383920011122334455 and 0.1 can be written back exactly. It is the decoder the jq
// programs (package schemas/jq) and the exports read documents with.
func DecodeJSON(b []byte) (any, error) { return decodeJSON(b) }

type decoder struct {
	b []byte
	i int
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: "+format, append([]any{d.i}, args...)...)
}

var errEnd = errors.New("unexpected end of JSON input")

func (d *decoder) space() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) value(depth int) (any, error) {
	if d.i >= len(d.b) {
		return nil, errEnd
	}
	switch c := d.b[d.i]; {
	case c == '{':
		if depth >= maxDepth {
			return nil, d.errorf("exceeded max depth")
		}
		return d.object(depth + 1)
	case c == '[':
		if depth >= maxDepth {
			return nil, d.errorf("exceeded max depth")
		}
		return d.array(depth + 1)
	case c == '"':
		return d.string()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	default:
		return nil, d.errorf("invalid character %q looking for beginning of value", c)
	}
}

func (d *decoder) literal(word string) error {
	if len(d.b)-d.i < len(word) || string(d.b[d.i:d.i+len(word)]) != word {
		return d.errorf("invalid literal, want %s", word)
	}
	d.i += len(word)
	return nil
}

func (d *decoder) object(depth int) (any, error) {
	d.i++ // {
	m := map[string]any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
		d.space()
		if d.i >= len(d.b) {
			return nil, errEnd
		}
		if d.b[d.i] != '"' {
			return nil, d.errorf("invalid character %q looking for beginning of object key string", d.b[d.i])
		}
		k, err := d.string()
		if err != nil {
			return nil, err
		}
		d.space()
		if d.i >= len(d.b) {
			return nil, errEnd
		}
		if d.b[d.i] != ':' {
			return nil, d.errorf("invalid character %q after object key", d.b[d.i])
		}
		d.i++
		d.space()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		m[k] = v // a repeated key keeps its last value, as encoding/json does
		if done, err := d.after('}', "object key:value pair"); done || err != nil {
			return m, err
		}
	}
}

// after reads what follows an element of an object or array: a comma (more to come) or
// close (done).
func (d *decoder) after(close byte, what string) (done bool, err error) {
	d.space()
	if d.i >= len(d.b) {
		return false, errEnd
	}
	switch d.b[d.i] {
	case ',':
		d.i++
		return false, nil
	case close:
		d.i++
		return true, nil
	}
	return false, d.errorf("invalid character %q after %s", d.b[d.i], what)
}

func (d *decoder) array(depth int) (any, error) {
	d.i++ // [
	a := []any{}
	d.space()
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, nil
	}
	for {
		d.space()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		if done, err := d.after(']', "array element"); done || err != nil {
			return a, err
		}
	}
}

// string decodes a string at d.i. Strings without escapes in valid UTF-8 (nearly all of
// them) are sliced directly; the others go through encoding/json, which knows every escape
// and replaces invalid UTF-8 the way the rest of hookgate sees it.
func (d *decoder) string() (string, error) {
	start := d.i
	d.i++ // "
	escaped, ascii := false, true
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			raw := d.b[start+1 : d.i-1]
			if !escaped && (ascii || utf8.Valid(raw)) {
				return string(raw), nil
			}
			var s string
			if err := json.Unmarshal(d.b[start:d.i], &s); err != nil {
				return "", fmt.Errorf("offset %d: %w", start, err)
			}
			return s, nil
		case c == '\\':
			escaped = true
			d.i += 2
		case c < 0x20:
			return "", d.errorf("invalid character %q in string literal", c)
		case c >= utf8.RuneSelf:
			ascii = false
			d.i++
		default:
			d.i++
		}
	}
	return "", errEnd
}

// number checks the JSON number grammar at d.i and returns the number's text.
func (d *decoder) number() (any, error) {
	start := d.i
	if d.b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.b) && d.b[d.i] == '0':
		d.i++
	case d.i < len(d.b) && d.b[d.i] >= '1' && d.b[d.i] <= '9':
		d.digits()
	default:
		return nil, d.errorf("invalid number")
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if !d.digits() {
			return nil, d.errorf("invalid number: no digit after the decimal point")
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			return nil, d.errorf("invalid number: no digit in the exponent")
		}
	}
	return json.Number(d.b[start:d.i]), nil
}

// digits skips a run of digits and reports whether there was one.
func (d *decoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}

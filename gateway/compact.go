package gateway

import (
	"bytes"
	"errors"
	"unicode/utf8"
)

// errNotJSON is compactJSON's answer to a text that is not JSON.
var errNotJSON = errors.New("not a JSON text")

// maxNesting is how deeply arrays and objects may nest: encoding/json's limit, so that
// compactJSON accepts exactly what json.Valid does.
const maxNesting = 10000

// ValidJSON reports whether b is one JSON text, as json.Valid does, with compactJSON's pass
// (several times faster than encoding/json's scanner): the one check of JSON syntax
// outside encoding/json, for callers that want json.Valid's answer on a hot path.
func ValidJSON(b []byte) bool {
	c := compactor{src: b}
	return c.text()
}

// compactJSON validates data as json.Valid does and returns it without insignificant
// whitespace, as json.Compact writes it: data itself when it is compact already (as
// clients mostly send it), else a copy. It is the one pass checkPublish makes over the
// payload's syntax; the compact form is what is stored and what the envelope appends
// (Event.compact). It does in one pass, in a loop that moves over string contents without a
// state change per byte, what json.Valid and json.Compact do in two with encoding/json's
// scanner, several times slower; FuzzCompactJSON holds it to both.
//
// utf8OK reports whether the text is valid UTF-8 (which json.Valid does not ask, and RFC
// 8259 does; see invalidUTF8), found in the same pass.
func compactJSON(data []byte) (compact []byte, utf8OK bool, err error) {
	c := compactor{src: data}
	if !c.text() {
		return nil, false, errNotJSON
	}
	if c.out == nil {
		return data, !c.badUTF8, nil
	}
	return append(c.out, data[c.from:]...), !c.badUTF8, nil
}

// compactor walks a JSON text, copying it to out without its whitespace once it met some.
type compactor struct {
	src  []byte
	i    int
	out  []byte // nil until whitespace is dropped
	from int    // src[from:i] is still to be appended to out
	// badUTF8 is set when a string holds bytes that are not UTF-8.
	badUTF8 bool
}

// text reads one JSON value, with whitespace around it, up to the end of src.
func (c *compactor) text() bool {
	var open []byte // the arrays and objects the value at i is in: '[' or '{'
	c.space()
	for {
		// A value starts at i.
		if c.i >= len(c.src) {
			return false
		}
		switch b := c.src[c.i]; b {
		case '{', '[':
			if len(open) >= maxNesting {
				return false
			}
			c.i++
			c.space()
			if c.i < len(c.src) && c.src[c.i] == b+2 { // '}' and ']' are 2 past '{' and '['
				c.i++
				break // empty
			}
			open = append(open, b)
			if b == '{' && !c.key() {
				return false
			}
			continue
		case '"':
			if !c.str() {
				return false
			}
		case 't':
			if !c.literal("true") {
				return false
			}
		case 'f':
			if !c.literal("false") {
				return false
			}
		case 'n':
			if !c.literal("null") {
				return false
			}
		default:
			if !c.number() {
				return false
			}
		}
		// A value ended: a comma goes on to the next, a bracket closes its container.
		for {
			c.space()
			if len(open) == 0 {
				return c.i == len(c.src)
			}
			if c.i >= len(c.src) {
				return false
			}
			top, b := open[len(open)-1], c.src[c.i]
			if b == ',' {
				c.i++
				c.space()
				if top == '{' && !c.key() {
					return false
				}
				break
			}
			if b != top+2 {
				return false
			}
			c.i++
			open = open[:len(open)-1]
		}
	}
}

// space moves past whitespace, dropping it from the output.
func (c *compactor) space() {
	start := c.i
	for c.i < len(c.src) {
		switch c.src[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
			continue
		}
		break
	}
	if c.i == start {
		return
	}
	if c.out == nil {
		c.out = make([]byte, 0, len(c.src))
	}
	c.out = append(c.out, c.src[c.from:start]...)
	c.from = c.i
}

// key reads a member name and its colon, and the whitespace after it.
func (c *compactor) key() bool {
	if c.i >= len(c.src) || c.src[c.i] != '"' || !c.str() {
		return false
	}
	c.space()
	if c.i >= len(c.src) || c.src[c.i] != ':' {
		return false
	}
	c.i++
	c.space()
	return true
}

// plain marks the ASCII bytes that stand for themselves in a string: not a control
// character, quote or backslash.
var plain = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// str reads the string whose opening quote is at i.
func (c *compactor) str() bool {
	s, i := c.src, c.i+1
	for i < len(s) {
		if plain[s[i]] {
			i++
			continue
		}
		switch s[i] {
		case '"':
			c.i = i + 1
			return true
		case '\\':
			if i+1 >= len(s) {
				return false
			}
			switch s[i+1] {
			case 'b', 'f', 'n', 'r', 't', '\\', '/', '"':
				i += 2
			case 'u':
				if i+6 > len(s) || !isHex(s[i+2]) || !isHex(s[i+3]) || !isHex(s[i+4]) || !isHex(s[i+5]) {
					return false
				}
				i += 6
			default:
				return false
			}
		default:
			if s[i] < 0x20 {
				return false // a control character
			}
			// Not ASCII: JSON to json.Valid whether UTF-8 or not, but noted.
			r, n := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && n == 1 {
				c.badUTF8 = true
			}
			i += n
		}
	}
	return false
}

func isHex(b byte) bool {
	return '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// number reads a number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (c *compactor) number() bool {
	s, i := c.src, c.i
	digits := func() bool { // one or more
		if i >= len(s) || !isDigit(s[i]) {
			return false
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		return true
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	c.i = i
	return true
}

// literal reads true, false or null.
func (c *compactor) literal(lit string) bool {
	if !bytes.HasPrefix(c.src[c.i:], []byte(lit)) {
		return false
	}
	c.i += len(lit)
	return true
}

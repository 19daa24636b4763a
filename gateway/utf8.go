package gateway

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// invalidUTF8 finds the first string (member name or value) of a JSON text that is not valid
// UTF-8, which RFC 8259 requires and encoding/json's Valid does not check. It returns the
// JSON pointer of that value, under base ("/data" → "/data/title"; for a member name, the
// pointer of its member), whether it is a member name, and false when the text is valid
// UTF-8. b must already be valid JSON syntax.
func invalidUTF8(b []byte, base string) (pointer string, isName, found bool) {
	if utf8.Valid(b) {
		return "", false, false
	}
	sc := utf8Scanner{b: b}
	return sc.value(base)
}

// utf8Scanner walks a syntactically valid JSON text, keeping track of where it is.
type utf8Scanner struct {
	b []byte
	i int
}

func (sc *utf8Scanner) skipSpace() {
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.i++
		default:
			return
		}
	}
}

// value scans one value at path; found reports an invalid string in it.
func (sc *utf8Scanner) value(path string) (pointer string, isName, found bool) {
	sc.skipSpace()
	if sc.i >= len(sc.b) {
		return "", false, false
	}
	switch sc.b[sc.i] {
	case '"':
		raw := sc.str()
		if !utf8.Valid(raw) {
			return path, false, true
		}
	case '{':
		sc.i++
		for {
			sc.skipSpace()
			if sc.i >= len(sc.b) || sc.b[sc.i] == '}' {
				sc.i++
				return "", false, false
			}
			if sc.b[sc.i] == ',' {
				sc.i++
				sc.skipSpace()
			}
			name := sc.str()
			member := path + "/" + pointerToken(name)
			if !utf8.Valid(name) {
				return member, true, true
			}
			sc.skipSpace()
			sc.i++ // ':'
			if p, n, ok := sc.value(member); ok {
				return p, n, ok
			}
		}
	case '[':
		sc.i++
		for idx := 0; ; idx++ {
			sc.skipSpace()
			if sc.i >= len(sc.b) || sc.b[sc.i] == ']' {
				sc.i++
				return "", false, false
			}
			if sc.b[sc.i] == ',' {
				sc.i++
			}
			if p, n, ok := sc.value(path + "/" + strconv.Itoa(idx)); ok {
				return p, n, ok
			}
		}
	default:
		// A number, true, false or null: ASCII up to the next delimiter.
		for sc.i < len(sc.b) && !strings.ContainsRune(",]} \t\n\r", rune(sc.b[sc.i])) {
			sc.i++
		}
	}
	return "", false, false
}

// str returns the raw bytes of the string at sc.i (escapes left as written: they are ASCII)
// and moves past its closing quote.
func (sc *utf8Scanner) str() []byte {
	sc.i++ // opening quote
	start := sc.i
	for sc.i < len(sc.b) {
		switch sc.b[sc.i] {
		case '\\':
			sc.i += 2
			continue
		case '"':
			raw := sc.b[start:sc.i]
			sc.i++
			return raw
		}
		sc.i++
	}
	return sc.b[start:]
}

// pointerToken escapes a member name (as written in the JSON text) for a JSON pointer (RFC
// 6901), with bytes that are not UTF-8 shown as U+FFFD so the pointer can be written as JSON.
func pointerToken(raw []byte) string {
	var s string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &s); err != nil {
		s = strings.ToValidUTF8(string(raw), "\uFFFD")
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}

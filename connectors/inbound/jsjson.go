package inbound

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// jsStringify returns what JavaScript writes for JSON.stringify(JSON.parse(b)): no spaces,
// strings escaped as JavaScript escapes them, numbers as JavaScript prints them (1.0 is 1,
// 1e3 is 1000, beyond 2^53 rounded), a repeated member name keeping its first place and
// last value, and members whose names are array indices ("0", "17") first, in numeric
// order. Oktopost's document signs that text rather than the bytes it sends; when the two
// differ (pretty-printed, escaped otherwise), verifying against this form still matches.
func jsStringify(b []byte) ([]byte, error) {
	if !json.Valid(b) { // also bounds the nesting depth jsRead recurses to
		return nil, errors.New("not JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	v, err := jsRead(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	var out bytes.Buffer
	jsWrite(&out, v)
	return out.Bytes(), nil
}

// jsObject is a JSON object as JavaScript holds it: names in insertion order.
type jsObject struct {
	names []string
	vals  map[string]any
}

func jsRead(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		o := &jsObject{vals: map[string]any{}}
		for dec.More() {
			nt, err := dec.Token()
			if err != nil {
				return nil, err
			}
			name, ok := nt.(string)
			if !ok {
				return nil, errors.New("object member without a name")
			}
			v, err := jsRead(dec)
			if err != nil {
				return nil, err
			}
			if _, seen := o.vals[name]; !seen {
				o.names = append(o.names, name)
			}
			o.vals[name] = v
		}
		_, err := dec.Token() // '}'
		return o, err
	case json.Delim('['):
		arr := []any{}
		for dec.More() {
			v, err := jsRead(dec)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
		}
		_, err := dec.Token() // ']'
		return arr, err
	}
	return tok, nil // string, json.Number, bool or nil
}

// arrayIndex reports whether name is an array index as JavaScript orders object names: a
// canonical decimal integer below 2^32 - 1.
func arrayIndex(name string) (uint64, bool) {
	if name == "" || len(name) > 10 || len(name) > 1 && name[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(name, 10, 64)
	return n, err == nil && n < math.MaxUint32
}

func jsWrite(out *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		out.WriteString("null")
	case bool:
		out.WriteString(strconv.FormatBool(v))
	case string:
		jsQuote(out, v)
	case json.Number:
		out.WriteString(jsNumber(string(v)))
	case []any:
		out.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				out.WriteByte(',')
			}
			jsWrite(out, e)
		}
		out.WriteByte(']')
	case *jsObject:
		var idx, rest []string
		for _, n := range v.names {
			if _, ok := arrayIndex(n); ok {
				idx = append(idx, n)
			} else {
				rest = append(rest, n)
			}
		}
		slices.SortFunc(idx, func(a, b string) int {
			x, _ := arrayIndex(a)
			y, _ := arrayIndex(b)
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0
		})
		out.WriteByte('{')
		for i, n := range append(idx, rest...) {
			if i > 0 {
				out.WriteByte(',')
			}
			jsQuote(out, n)
			out.WriteByte(':')
			jsWrite(out, v.vals[n])
		}
		out.WriteByte('}')
	}
}

// jsQuote writes s as JSON.stringify does: only ", \ and control characters escaped.
func jsQuote(out *bytes.Buffer, s string) {
	const hexDigits = "0123456789abcdef"
	out.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			out.WriteString(`\"`)
		case '\\':
			out.WriteString(`\\`)
		case '\b':
			out.WriteString(`\b`)
		case '\f':
			out.WriteString(`\f`)
		case '\n':
			out.WriteString(`\n`)
		case '\r':
			out.WriteString(`\r`)
		case '\t':
			out.WriteString(`\t`)
		default:
			if r < 0x20 {
				out.WriteString(`\u00`)
				out.WriteByte(hexDigits[r>>4])
				out.WriteByte(hexDigits[r&0xf])
				continue
			}
			out.WriteRune(r)
		}
	}
	out.WriteByte('"')
}

// jsNumber prints a JSON number as JavaScript's Number.prototype.toString does after
// JSON.parse read it: a float64, in the shortest form that reads back the same, in plain
// notation from 10^-6 to 10^21 and exponent notation ("1e+21", "1.5e-7") outside.
func jsNumber(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange), math.IsNaN(f):
		return "null"
	case math.IsInf(f, 0): // JSON.parse gives Infinity, which JSON.stringify writes as null
		return "null"
	case f == 0:
		return "0" // also -0
	}
	sign := ""
	if f < 0 {
		sign, f = "-", -f
	}
	// FormatFloat 'e' gives the shortest digits: d.ddddde±XX.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expText, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	exp, _ := strconv.Atoi(expText)
	k, n := len(digits), exp+1
	switch {
	case k <= n && n <= 21:
		return sign + digits + strings.Repeat("0", n-k)
	case 0 < n && n <= 21:
		return sign + digits[:n] + "." + digits[n:]
	case -6 < n && n <= 0:
		return sign + "0." + strings.Repeat("0", -n) + digits
	}
	expSign := "+"
	if n-1 < 0 {
		expSign = "-"
	}
	abs := n - 1
	if abs < 0 {
		abs = -abs
	}
	if k == 1 {
		return sign + digits + "e" + expSign + strconv.Itoa(abs)
	}
	return sign + digits[:1] + "." + digits[1:] + "e" + expSign + strconv.Itoa(abs)
}

package schemas

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// stdDecode is what decodeJSON must match: encoding/json with UseNumber, one value only.
func stdDecode(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err == nil {
		return nil, json.Unmarshal(b, new(any)) // trailing data: let encoding/json say why
	}
	if !json.Valid(b) {
		return nil, json.Unmarshal(b, new(any))
	}
	return v, nil
}

var decodeSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `-0.5e+10`, `1E3`, `12.25`, `true`, `false`, `null`, ` {"a" : [1, 2 ,{"b":null}] } `,
	`{"a":1,"a":2}`, `"\u00e9\n\t\"\\\/"`, `"é ✨ 𝄞"`, `"\ud834\udd1e"`, `"\ud834"`, "\"\xff\xfe\"", `{"k\u0041":"v"}`,
	`9223372036854775808`, `1e400`, `[[[[[]]]]]`,
	// invalid
	``, ` `, `{`, `[`, `"`, `"abc`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `01`, `-`, `1.`, `.5`, `1e`, `1e+`,
	`tru`, `nul`, `{a:1}`, `{"a":1}x`, `{} {}`, "\"a\x01\"", `"\x"`, `+1`, `NaN`, `[1]]`, `{"a":1}}`, `"\`,
}

func TestDecodeJSONMatchesEncodingJSON(t *testing.T) {
	seeds := append([]string{}, decodeSeeds...)
	entries, _ := catalogFS.ReadDir("catalog/tokportal")
	for _, e := range entries {
		b, _ := catalogFS.ReadFile("catalog/tokportal/" + e.Name())
		seeds = append(seeds, string(b))
	}
	for _, n := range []int{maxDepth - 1, maxDepth, maxDepth + 1} {
		seeds = append(seeds, strings.Repeat("[", n)+strings.Repeat("]", n), strings.Repeat(`{"a":`, n)+"1"+strings.Repeat("}", n))
	}
	for _, s := range seeds {
		checkDecode(t, []byte(s))
	}
}

func checkDecode(t *testing.T, b []byte) {
	t.Helper()
	got, err := decodeJSON(b)
	want, wantErr := stdDecode(b)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("decodeJSON(%q) error = %v, encoding/json says %v", b, err, wantErr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeJSON(%q) = %#v, want %#v", b, got, want)
	}
}

func FuzzDecodeJSON(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkDecode(t, b)
	})
}

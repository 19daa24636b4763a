package gateway

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// envelopeStrings are the pieces the strings of TestEnvelopeMatchesMarshal are made of:
// what json.Marshal writes as it is, and what it escapes (HTML characters, U+2028 and
// U+2029, quotes, control characters) or replaces (bytes that are not UTF-8).
var envelopeStrings = []string{
	"", "evt_01JABC", "video.posted", "tokportal", "a b", "<", ">", "&", "<script>&amp;</script>",
	"\u2028", "\u2029", "\u2027", "\u202a", "\"", "\\", "/", "\n", "\t", "\x00", "\x1f", "\x7f",
	"é", "日本", "😀", "\xff", "\xe2\x80", "\xe2", "~", "a\u2028b",
}

// envelopeData are payloads, compact and spaced, with what json.Marshal escapes in a
// json.RawMessage inside strings, at their ends, and spelled as escapes already.
var envelopeData = []string{
	`{}`, `[]`, `null`, `0`, `-1.5e+10`, `true`, `"s"`, `""`,
	`{"a":1,"b":[true,false,null],"c":{"d":"e f"}}`,
	"{ \"a\" : 1 ,\n\t\"b\" : [ true , false , null ] ,\r\n \"c\" : { \"d\" : \"e f\" } }",
	`{"html":"<a href=\"x?y=1&z=2\">link</a>","k<>&":"<>&"}`,
	"{\"ls\":\"a\u2028b\u2029c\",\"end\":\"\u2028\"}",
	"\"\u2029\"", "\"\u2028\"", "[\"\u2027\u202a\u20ac\"]",
	`{"esc":"\u003c\u2028\n\"\\"}`,
	"{\"bad\":\"\xff\xfe\",\"cut\":\"\xe2\x80\"}",
	"[\"\xe2\x80\xa8\", \"\xe2\x80\xa9\" , \"\xe2\x80\xaa\"]",
	`{"nested":[[[{"x":[1,2,{"y":"<"}]}]]]}`,
	`  {"lead":"and trail"}  `,
}

// randomString joins one to three envelopeStrings.
func randomString(r *rand.Rand) string {
	var b strings.Builder
	for range 1 + r.IntN(3) {
		b.WriteString(envelopeStrings[r.IntN(len(envelopeStrings))])
	}
	return b.String()
}

// TestEnvelopeMatchesMarshal compares the envelope MarshalJSON builds with what
// json.Marshal gives for it (the envelope struct, data a json.RawMessage), byte for byte,
// for events whose data checkPublish compacted and for events whose data it did not (read
// from a store, perhaps stored before data was compacted), including data that is not
// JSON, which both must refuse.
func TestEnvelopeMatchesMarshal(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 2026))
	marshal := func(e *Event) ([]byte, error) {
		data := e.Data
		if len(data) == 0 {
			data = json.RawMessage("null")
		}
		return json.Marshal(e.wire(data))
	}
	datas := append([][]byte{nil, {}, []byte(`{"a":`), []byte(`nope`), []byte(`{"a":1} {}`)}, func() (out [][]byte) {
		for _, d := range envelopeData {
			out = append(out, []byte(d))
		}
		return out
	}()...)
	for i := range 5000 {
		e := &Event{
			ID: randomString(r), Type: randomString(r),
			Created: time.Date(2026, 6, 24, 14, 0, 5, r.IntN(1e9), time.FixedZone("x", 3600*r.IntN(5))),
			Data:    datas[r.IntN(len(datas))],
		}
		if r.IntN(2) == 0 {
			e.Source = randomString(r)
		}
		if r.IntN(2) == 0 {
			e.SourceEventID = randomString(r)
		}
		if r.IntN(3) > 0 && len(bytes.TrimSpace(e.Data)) > 0 {
			c, _, err := compactJSON(bytes.TrimSpace(e.Data))
			if err != nil {
				continue // checkPublish refuses it; it is never marked compact
			}
			e.Data, e.compact = c, true
		}
		want, wantErr := marshal(e)
		got, gotErr := e.MarshalJSON()
		if (gotErr != nil) != (wantErr != nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Fatalf("event %d %+v: MarshalJSON error %v, json.Marshal's %v", i, e, gotErr, wantErr)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("event %d %+v (compact %v):\n got %s\nwant %s", i, e, e.compact, got, want)
		}
	}
}

// TestCompactJSON checks compactJSON against json.Valid and json.Compact, and that data
// already compact is returned without a copy.
func TestCompactJSON(t *testing.T) {
	for _, d := range append(envelopeData, `{"a":`, `nope`, `{} {}`, "[1,\n2", `"\u12"`) {
		in := []byte(strings.TrimSpace(d))
		got, _, err := compactJSON(in)
		if (err == nil) != json.Valid(in) {
			t.Fatalf("compactJSON(%q) error %v, json.Valid %v", in, err, json.Valid(in))
		}
		if err != nil {
			continue
		}
		var want bytes.Buffer
		if err := json.Compact(&want, in); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("compactJSON(%q) = %q, want %q", in, got, want.Bytes())
		}
		if bytes.Equal(in, want.Bytes()) && &got[0] != &in[0] {
			t.Fatalf("compactJSON(%q) copied data that was compact already", in)
		}
	}
}

// compactSeeds are texts around the corners of JSON's grammar for FuzzCompactJSON.
var compactSeeds = []string{
	`0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e-`, `1e`, `-1.5e+10`, `2.`, `1x`,
	`true`, `tru`, `truex`, `false`, `null`, `nul`, `nulls`, `"`, `"\"`, `"\\"`, `"\u00e9"`,
	`"\u00g9"`, `"\x"`, `"\/"`, "\"\x1f\"", "\"\x7f\"", "\"\xff\"", `""`, `[]`, `[ ]`, `[,]`,
	`[1,]`, `[1 2]`, `{}`, `{ }`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a" : 1 , "b" : [ 1 , { } ] }`,
	`{1:2}`, `{"a":1}}`, `[[]`, `]`, " \t\r\n[1]\n", "[1]\v", "\u00a0[1]", `{"a":"b c"}  x`,
}

// FuzzCompactJSON holds compactJSON to json.Valid (what it accepts) and json.Compact (what
// it returns).
func FuzzCompactJSON(f *testing.F) {
	for _, s := range append(compactSeeds, envelopeData...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		got, utf8OK, err := compactJSON(in)
		if valid := json.Valid(in); (err == nil) != valid {
			t.Fatalf("compactJSON(%q) error %v, json.Valid %v", in, err, valid)
		}
		if err != nil {
			return
		}
		if utf8OK != utf8.Valid(in) {
			t.Fatalf("compactJSON(%q) says UTF-8 %v, utf8.Valid %v", in, utf8OK, utf8.Valid(in))
		}
		var want bytes.Buffer
		if err := json.Compact(&want, in); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("compactJSON(%q) = %q, want %q", in, got, want.Bytes())
		}
	})
}

// TestCompactJSONNesting accepts what encoding/json does: 10,000 levels of arrays and
// objects, not 10,001.
func TestCompactJSONNesting(t *testing.T) {
	for _, open := range []string{"[", `{"a":`} {
		close := map[string]string{"[": "]", `{"a":`: "}"}[open]
		for _, n := range []int{maxNesting, maxNesting + 1} {
			for _, inner := range []string{"1", "[]", "{}"} {
				in := []byte(strings.Repeat(open, n-1) + inner + strings.Repeat(close, n-1))
				if inner == "1" {
					in = []byte(strings.Repeat(open, n) + inner + strings.Repeat(close, n))
				}
				_, _, err := compactJSON(in)
				if valid := json.Valid(in); (err == nil) != valid {
					t.Fatalf("%d levels of %s with %s inside: compactJSON error %v, json.Valid %v", n, open, inner, err, valid)
				}
			}
		}
	}
}

// BenchmarkEnvelope builds the envelope of an event with a 16 KiB payload: one this
// process published (compact=true: the payload is appended and escaped), one read back
// from a store (compacted first), and, for comparison, json.Marshal of the envelope, as
// Event.MarshalJSON was before issue 17.
func BenchmarkEnvelope(b *testing.B) {
	var data strings.Builder
	data.WriteString(`{"items":[`)
	for i := 0; data.Len() < 16<<10; i++ {
		if i > 0 {
			data.WriteByte(',')
		}
		data.WriteString(`{"n":12,"title":"Clip: a short title with some words & more","tags":["a","b"],"live":true}`)
	}
	data.WriteString(`]}`)
	ev := Event{ID: "evt_01JABCDEF", Type: "video.posted", Source: "tokportal", Created: time.Now(), Data: []byte(data.String())}
	b.Run("published", func(b *testing.B) {
		e := ev
		e.compact = true
		b.SetBytes(int64(len(e.Data)))
		b.ReportAllocs()
		for b.Loop() {
			e.Body()
		}
	})
	b.Run("stored", func(b *testing.B) {
		b.SetBytes(int64(len(ev.Data)))
		b.ReportAllocs()
		for b.Loop() {
			ev.Body()
		}
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.SetBytes(int64(len(ev.Data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(ev.wire(ev.Data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

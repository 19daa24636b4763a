package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// decodeWithDecoder is decodeJSON as it was before it decoded with json.Unmarshal (issue
// 17): one json.Decoder with DisallowUnknownFields, and dec.More for what follows. The
// error answers are decodeJSON's own (decodeError).
func decodeWithDecoder(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("empty")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return errors.New("more")
	}
	return nil
}

type decInner struct {
	A int      `json:"a"`
	B []string `json:"b,omitempty"`
}

type decOuter struct {
	Name   string              `json:"name"`
	In     decInner            `json:"in"`
	Ptr    *decInner           `json:"ptr"`
	PP     **decInner          `json:"pp"`
	List   []decInner          `json:"list"`
	Arr    [2]decInner         `json:"arr"`
	Map    map[string]decInner `json:"map"`
	Any    any                 `json:"any"`
	Raw    rawValue            `json:"raw"`
	RM     json.RawMessage     `json:"rm"`
	T      time.Time           `json:"t"`
	Skip   string              `json:"-"`
	Dash   string              `json:"-,"`
	NoTag  int
	Str    int `json:"str,string"`
	hidden int
}

type decEmbedded struct {
	decInner
	X int `json:"x"`
}

// decDup names A twice: encoding/json then decodes neither (an unknown member).
type decDup struct {
	A int
	B int `json:"A"`
	C int `json:"c"`
}

// decodeBodies are bodies for each of decodeTargets: known and unknown members at every
// depth, names in other capitals or with escapes, what decodes into any, raw values and
// time, type errors before and after unknown members, and malformed text.
var decodeBodies = []string{
	`{}`, `null`, `[]`, `{"name":"n"}`, `{"NAME":"n"}`, `{"n\u0061me":"n"}`, `{"nope":1}`,
	`{"in":{"a":1,"b":["x"]}}`, `{"in":{"a":1,"zz":2}}`, `{"in":{"A":1}}`, `{"in":null}`,
	`{"ptr":{"a":1}}`, `{"ptr":{"q":1}}`, `{"pp":{"a":2}}`, `{"pp":{"w":2}}`,
	`{"list":[{"a":1},{"a":2,"x":3}]}`, `{"list":[{"a":1},{"a":2}]}`, `{"arr":[{"a":1},{"a":2},{"a":3}]}`, `{"arr":[{"k":1}]}`,
	`{"map":{"k":{"a":1},"j":{"y":1}}}`, `{"map":{"k":{"a":1}}}`,
	`{"any":{"whatever":[1,{"x":2}]}}`, `{"raw":{"u":{"v":"}"}},"name":"after"}`, `{"rm":[1,"\"]",{"u":1}]}`,
	`{"t":"2026-06-24T14:00:05Z"}`, `{"t":{"x":1}}`, `{"t":"noon"}`,
	`{"-":1}`, `{"Skip":"s"}`, `{"NoTag":3}`, `{"notag":3}`, `{"str":"5"}`, `{"str":5}`, `{"hidden":1}`,
	`{"x":1,"a":2}`, `{"x":1,"b":["q"],"z":0}`, `{"c":1}`, `{"c":1,"A":2}`, `{"B":1}`,
	`{"name":7,"nope":1}`, `{"nope":1,"name":7}`, `{"in":{"a":"s","zz":1}}`,
	`{"name":"n"} `, `{"name":"n"} }`, `{"name":"n"} ]`, `{"name":"n"} {}`, `{"name":"n"} x`, `{"name":"n"}]]`,
	`{"name":`, `{"name":"n"`, `{"name" "n"}`, `{"name":"\u12"}`, `{"name":"a\"}"}`, `{"name":"a\\"}`,
	"{\"name\":\"\xff\"}", "{\"\xff\":1}", `  {"name":"n"}`, `"s"`, `1`, `1 2`, `tru`,
	// publish bodies, for decodePublish: the usual ones, and each way off its path
	`{"type":"video.posted","id":"evt_1","data":{"n":1,"pad":"xxx","ok":true,"f":-1.5e+3,"l":[null,false,{}]}}`,
	` {"type":"a", "data":[1, 2 ,"x"] , "source":"s","created":"2026-06-24T14:00:05Z","deliver_at":""} `,
	`{"type":"a","data":"\u00e9\n"}`, `{"type":"a","data":null}`, `{"type":"a","data":{"a":1},"data":2}`,
	`{"type":"\u0061","data":{}}`, "{\"type\":\"\xc3\xa9\",\"data\":{}}", `{"type":"a","type":null,"data":1}`,
	`{"Type":"a","data":1}`, `{"type":"a","data":1,}`, `{"type":"a","data":01}`, `{"type":"a","data":1.}`,
	`{"type":"a","data":-}`, `{"type":"a","data":1e}`, `{"type":"a","data":"\x"}`, `{"type":"a","data":"\u12g4"}`,
	`{"type":"a","data":[1,]}`, `{"type":"a","data":{"k" 1}}`, `{"type":"a","data":{1:2}}`, `{"type":1,"data":1}`,
	`{"type":"a","data":1}x`, `{"type":"a","data":1} {}`, `{"type":"a","data":nul}`, "{\"type\":\"a\",\"data\":\"\x01\"}",
	`{"type":"a","data":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	`{}`, `{"data":{}}`, `{"type":"a"}`, `{"type":"a","data":{"x":"\"}"}}`,
}

// decodeTargets make a fresh pointer to each type decodeBodies are decoded into.
var decodeTargets = map[string]func() any{
	"outer":    func() any { return new(decOuter) },
	"embedded": func() any { return new(decEmbedded) },
	"dup":      func() any { return new(decDup) },
	"map":      func() any { return new(map[string]decInner) },
	"slice":    func() any { return new([]decInner) },
	"publish":  func() any { return new(publishRequest) },
	"endpoint": func() any { return new(gateway.EndpointInput) },
	"patch":    func() any { return new(gateway.EndpointPatch) },
}

// TestDecodeMatchesDecoder decodes every body into every target with decodeJSON and with a
// json.Decoder as decodeJSON did before, and wants the same error and the same value.
func TestDecodeMatchesDecoder(t *testing.T) {
	for name, target := range decodeTargets {
		for _, body := range decodeBodies {
			checkDecode(t, name, target, []byte(body))
		}
	}
}

// FuzzDecodeJSON compares decodeJSON with the Decoder on bodies the fuzzer makes, decoded
// into the publish request and decOuter.
func FuzzDecodeJSON(f *testing.F) {
	for _, b := range decodeBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkDecode(t, "outer", decodeTargets["outer"], body)
		checkDecode(t, "publish", decodeTargets["publish"], body)
	})
}

func checkDecode(t *testing.T, name string, target func() any, body []byte) {
	t.Helper()
	got, want := target(), target()
	gotErr := decodeJSON(bytes.Clone(body), got)
	wantErr := decodeWithDecoder(bytes.Clone(body), want)
	if empty := len(bytes.TrimSpace(body)) == 0; empty {
		if gotErr == nil {
			t.Fatalf("%s %q: decodeJSON accepted an empty body", name, body)
		}
		return
	}
	var he *httpError
	if wantErr != nil && wantErr.Error() == "more" {
		if !errors.As(gotErr, &he) || he.detail.Message != "malformed JSON: more than one value in the body" {
			t.Fatalf("%s %q: decodeJSON = %v, want more than one value", name, body, gotErr)
		}
		return
	}
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && !reflect.DeepEqual(gotErr, wantErr)) {
		t.Fatalf("%s %q: decodeJSON error %#v, want %#v", name, body, gotErr, wantErr)
	}
	if gotErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s %q: decodeJSON decoded %+v, want %+v", name, body, got, want)
	}
}

// The usual publish body is decoded by decodePublish alone, to what json.Unmarshal makes of
// it; BenchmarkDecodePublish measures both.
func TestDecodePublishTakesTheUsualBody(t *testing.T) {
	body := []byte(`{"type":"video.posted","id":"evt_1","source":"api","data":{"n":1,"pad":"` + strings.Repeat("x", 900) + `"}}`)
	var got, want publishRequest
	if !decodePublish(body, &got) {
		t.Fatalf("decodePublish refused %s", body)
	}
	if err := json.Unmarshal(body, &want); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("decodePublish = %+v, json.Unmarshal = %+v, %v", got, want, err)
	}
}

func BenchmarkDecodePublish(b *testing.B) {
	body := []byte(`{"type":"bench.event","id":"evt_bench_1","data":{"n":1,"video_id":"v_1","platform":"tiktok","pad":"` + strings.Repeat("x", 904) + `"}}`)
	b.Run("decodeJSON", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p publishRequest
			if err := decodeJSON(body, &p); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unmarshal+knownMembers", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var p publishRequest
			if json.Unmarshal(body, &p) != nil || !knownMembers(body, reflect.TypeOf(&p)) {
				b.Fatal("refused")
			}
		}
	})
}

package schemas_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/schemas"
	"github.com/santhosh-tekuri/jsonschema/v5"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or writes it there with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if !bytes.HasSuffix(got, []byte("\n")) {
		got = append(got, '\n')
	}
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./schemas -update writes it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file (go test ./schemas -update rewrites it); got:\n%s", path, got)
	}
}

// goldenTypes are the types whose exports are kept in testdata/, one file per type and format.
var goldenTypes = [][2]string{
	{"tokportal", "video.posted"},
	{"tinyposter", "post.published"},
	{"uploadpost", "upload_completed"},
	{"oktopost", "postSent"},
	{"hookgate", "endpoint.disabled"},
}

func TestExportGolden(t *testing.T) {
	c := newCatalog(t)
	for _, pt := range goldenTypes {
		typ, ok := c.LookupProvider(pt[0], pt[1])
		if !ok {
			t.Fatalf("%s/%s missing", pt[0], pt[1])
		}
		for _, f := range schemas.Formats {
			out, err := typ.Export(f)
			if err != nil {
				t.Fatalf("Export(%s, %s) = %v", typ.Name, f, err)
			}
			golden(t, pt[0]+"."+pt[1]+"."+string(f)+".json", out)
		}
	}
}

func TestExportSchemaGolden(t *testing.T) {
	for _, name := range []string{"slack_mapped", "inferred"} {
		raw, err := os.ReadFile(filepath.Join("testdata", "payload."+name+".input.json"))
		if err != nil {
			t.Fatal(err)
		}
		var in struct {
			Schema json.RawMessage `json:"schema"`
			Sample json.RawMessage `json:"sample"`
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			t.Fatal(err)
		}
		for _, f := range schemas.Formats {
			out, err := schemas.ExportSchema(in.Schema, in.Sample, f)
			if err != nil {
				t.Fatalf("ExportSchema(%s, %s) = %v", name, f, err)
			}
			golden(t, "payload."+name+"."+string(f)+".json", out)
		}
	}
}

func TestEveryTypeExportsInEveryFormat(t *testing.T) {
	c := newCatalog(t)
	for _, typ := range c.List("") {
		for _, f := range schemas.Formats {
			out, err := typ.Export(f)
			if err != nil || !json.Valid(out) {
				t.Errorf("Export(%s/%s, %s) = %.80s, %v", typ.Provider, typ.Name, f, out, err)
			}
		}
	}
	if _, err := c.Export("nope.never", schemas.FormatSample); err == nil {
		t.Error("Export of an unknown type = nil error")
	}
}

// compileRaw compiles a schema document the way a consumer of the export would.
func compileRaw(t *testing.T, raw []byte) *jsonschema.Schema {
	t.Helper()
	comp := jsonschema.NewCompiler()
	comp.Draft = jsonschema.Draft2020
	comp.AssertFormat = true
	if err := comp.AddResource("mem://s.json", bytes.NewReader(raw)); err != nil {
		t.Fatal(err)
	}
	s, err := comp.Compile("mem://s.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func decode(t *testing.T, raw []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSampleIsTheEnvelopeAsDelivered(t *testing.T) {
	c := newCatalog(t)
	for _, typ := range c.List("") {
		sample := typ.Sample()
		var env struct {
			ID, Type, Source, Created string
			Data                      json.RawMessage
		}
		if err := json.Unmarshal(sample, &env); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(env.ID, schemas.SampleID) || env.Type != typ.Name || env.Source != typ.Provider || env.Created != schemas.SampleCreated {
			t.Errorf("%s/%s sample = %s", typ.Provider, typ.Name, sample)
		}
		if err := typ.Validate(env.Data); err != nil {
			t.Errorf("%s/%s sample data: %v", typ.Provider, typ.Name, err)
		}
		// The field order is the gateway's: id, type, source, created, data.
		if !bytes.HasPrefix(sample, []byte(`{"id":"`+env.ID+`","type":"`+typ.Name+`","source":"`+typ.Provider+`","created":"`)) {
			t.Errorf("%s/%s sample is not in the envelope's order: %s", typ.Provider, typ.Name, sample)
		}
		// The envelope schema accepts the sample and refuses it without data or with a wrong type.
		env2, err := typ.EnvelopeSchema()
		if err != nil {
			t.Fatal(err)
		}
		s := compileRaw(t, env2)
		if err := s.Validate(decode(t, sample)); err != nil {
			t.Errorf("%s/%s: the envelope schema refuses the sample: %v", typ.Provider, typ.Name, err)
		}
		if err := s.Validate(decode(t, []byte(`{"id":"x","type":"other","created":"2026-06-24T14:00:05.123Z","data":{}}`))); err == nil {
			t.Errorf("%s/%s: the envelope schema accepts another type", typ.Provider, typ.Name)
		}
	}
}

func TestSampleOfACustomTypeHasNoSource(t *testing.T) {
	c := newCatalog(t)
	typ, err := c.Add("order.paid", "", json.RawMessage(`{"type":"object"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"evt_sample_order_paid","type":"order.paid","created":"2026-06-24T14:00:05.123Z","data":{}}`
	if got := string(typ.Sample()); got != want {
		t.Errorf("Sample() = %s, want %s", got, want)
	}
}

type zapierExport struct {
	OutputFields []map[string]any `json:"outputFields"`
	Sample       map[string]any   `json:"sample"`
}

func zapier(t *testing.T, out []byte) (zapierExport, map[string]map[string]any) {
	t.Helper()
	var z zapierExport
	if err := json.Unmarshal(out, &z); err != nil {
		t.Fatal(err)
	}
	byKey := map[string]map[string]any{}
	for _, f := range z.OutputFields {
		byKey[f["key"].(string)] = f
	}
	return z, byKey
}

func TestZapierFields(t *testing.T) {
	c := newCatalog(t)
	out, err := c.Export("post.published", schemas.FormatZapier)
	if err != nil {
		t.Fatal(err)
	}
	z, f := zapier(t, out)
	want := map[string]map[string]any{
		"id":                       {"key": "id", "label": "Event ID", "type": "string"},
		"created":                  {"key": "created", "label": "Created", "type": "datetime"},
		"data__post__id":           {"key": "data__post__id", "label": "Post ID", "type": "string"},
		"data__post__platforms":    {"key": "data__post__platforms", "label": "Post Platforms", "type": "string", "list": true},
		"data__post__published_at": {"key": "data__post__published_at", "label": "Post Published At", "type": "datetime"},
		"data__post__title":        {"key": "data__post__title", "label": "Post Title", "type": "string"},
	}
	for k, w := range want {
		if !reflect.DeepEqual(f[k], w) {
			t.Errorf("%s = %v, want %v", k, f[k], w)
		}
	}
	if z.OutputFields[0]["key"] != "id" || z.Sample["type"] != "post.published" || z.Sample["source"] != "tinyposter" {
		t.Errorf("first field %v, sample %v", z.OutputFields[0], z.Sample)
	}
	if _, ok := f["data__post"]; ok {
		t.Error("an object got a field of its own")
	}

	// Numbers, camelCase labels and arrays of objects.
	out, _ = c.Export("analytics.snapshot", schemas.FormatZapier)
	if _, f := zapier(t, out); f["data__views"]["type"] != "integer" {
		t.Errorf("views = %v", f["data__views"])
	}
	out, _ = c.Export("postSent", schemas.FormatZapier)
	if _, f := zapier(t, out); f["data__postId"]["label"] != "Post ID" {
		t.Errorf("postId = %v", f["data__postId"])
	}
	out, _ = schemas.ExportSchema(json.RawMessage(`{"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"},"price":{"type":"number"}}}}}}`), nil, schemas.FormatZapier)
	if _, f := zapier(t, out); f["items[]sku"]["label"] != "Items Sku" || f["items[]price"]["type"] != "number" {
		t.Errorf("array of objects = %s", out)
	}
}

func TestMakeSpec(t *testing.T) {
	c := newCatalog(t)
	out, err := c.Export("post.published", schemas.FormatMake)
	if err != nil {
		t.Fatal(err)
	}
	var spec []map[string]any
	if err := json.Unmarshal(out, &spec); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range spec {
		names = append(names, f["name"].(string))
	}
	if !slices.Equal(names, []string{"id", "type", "source", "created", "data"}) {
		t.Fatalf("top-level fields = %v", names)
	}
	if spec[3]["type"] != "date" || spec[4]["type"] != "collection" || spec[4]["label"] != "Data" || spec[0]["required"] != true || spec[2]["required"] != nil {
		t.Errorf("envelope fields = %v", spec)
	}
	post := spec[4]["spec"].([]any)[0].(map[string]any)
	if post["name"] != "post" || post["type"] != "collection" {
		t.Fatalf("data.post = %v", post)
	}
	fields := map[string]map[string]any{}
	for _, x := range post["spec"].([]any) {
		f := x.(map[string]any)
		fields[f["name"].(string)] = f
	}
	if p := fields["platforms"]; p["type"] != "array" || !reflect.DeepEqual(p["spec"], map[string]any{"type": "text"}) {
		t.Errorf("platforms = %v", p)
	}
	if fields["published_at"]["type"] != "date" || fields["id"]["required"] != true || fields["text"]["required"] != nil {
		t.Errorf("post fields = %v", fields)
	}
	out, _ = schemas.ExportSchema(json.RawMessage(`{"type":"object","properties":{"n":{"type":"integer"},"ok":{"type":"boolean"},"items":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"}}}}}}`), nil, schemas.FormatMake)
	want := `[{"name":"n","type":"number","label":"N"},{"name":"ok","type":"boolean","label":"Ok"},{"name":"items","type":"array","label":"Items","spec":[{"name":"sku","type":"text","label":"Sku"}]}]`
	var compact bytes.Buffer
	json.Compact(&compact, out)
	if compact.String() != want {
		t.Errorf("Make spec = %s\nwant %s", compact.String(), want)
	}
}

func TestExportSchemaInputs(t *testing.T) {
	// No sample: the schema's first example; neither: {}.
	out, err := schemas.ExportSchema(json.RawMessage(`{"type":"object","examples":[{"a":1}]}`), nil, schemas.FormatSample)
	if err != nil || string(bytes.Join(bytes.Fields(out), nil)) != `{"a":1}` {
		t.Errorf("sample from examples = %s, %v", out, err)
	}
	out, err = schemas.ExportSchema(json.RawMessage(`{"type":"object"}`), nil, schemas.FormatSample)
	if err != nil || string(out) != `{}` {
		t.Errorf("sample of nothing = %s, %v", out, err)
	}
	for _, tc := range []struct{ schema, sample string }{
		{`[]`, `{}`},
		{``, `{`},
		{`{"type":"object"}`, `{`},
	} {
		if _, err := schemas.ExportSchema(json.RawMessage(tc.schema), json.RawMessage(tc.sample), schemas.FormatZapier); err == nil {
			t.Errorf("ExportSchema(%s, %s) = nil error", tc.schema, tc.sample)
		}
	}
	if _, err := schemas.ExportSchema(json.RawMessage(`{}`), nil, "pdf"); err == nil {
		t.Error("format pdf accepted")
	}
}

func TestInferSchemaValidatesItsSample(t *testing.T) {
	sample := []byte(`{"a":"2026-06-24T14:00:05Z","b":[1,2],"c":{"d":1.5,"e":"https://x.example/"},"f":true,"g":null}`)
	s, err := schemas.InferSchema(sample)
	if err != nil {
		t.Fatal(err)
	}
	if err := compileRaw(t, s).Validate(decode(t, sample)); err != nil {
		t.Errorf("inferred schema refuses its sample: %v\n%s", err, s)
	}
	if _, err := schemas.InferSchema([]byte(`{"a":`)); err == nil {
		t.Error("InferSchema of broken JSON = nil error")
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]schemas.Format{"": schemas.FormatJSONSchema, "jsonschema": schemas.FormatJSONSchema, "sample": schemas.FormatSample, "zapier": schemas.FormatZapier, "make": schemas.FormatMake} {
		if got, err := schemas.ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := schemas.ParseFormat("pdf"); err == nil || !strings.Contains(err.Error(), "zapier") {
		t.Errorf("ParseFormat(pdf) = %v", err)
	}
}

// TestInferSchemaKeepsNumbersAsSent: the inferred schema's example holds the sample's
// numbers as written, and a whole number is an integer at any size.
func TestInferSchemaKeepsNumbersAsSent(t *testing.T) {
	sample := []byte(`{"id":7383920011122334455,"huge":123456789012345678901234567890,"neg":-98765432109876543210,"d":0.1,"one":1.0}`)
	s, err := schemas.InferSchema(sample)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"examples":[{"id":7383920011122334455,"huge":123456789012345678901234567890,"neg":-98765432109876543210,"d":0.1,"one":1.0}]`,
		`"id":{"type":"integer"}`, `"huge":{"type":"integer"}`, `"neg":{"type":"integer"}`, `"d":{"type":"number"}`,
	} {
		if !strings.Contains(string(s), want) {
			t.Errorf("InferSchema = %s\nwant it to contain %s", s, want)
		}
	}
}

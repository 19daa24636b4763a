package schemas_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/hookgate/hookgate/schemas"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// documented lists every event the four provider documents name, written out by hand from
// them, plus hookgate's own.
var documented = map[string][]string{
	"tokportal": {
		"bundle.created", "bundle.profile_updated", "bundle.ready", "bundle.suspended", "bundle.deleted",
		"video.queued", "video.posting", "video.posted", "video.failed", "video.deleted",
		"warming.started", "warming.completed", "warming.failed",
		"analytics.snapshot", "analytics.milestone_reached",
	},
	"uploadpost": {"upload_completed", "social_account_connected", "social_account_disconnected", "social_account_reauth_required"},
	"oktopost": {
		"newAdvocacyMessage", "newAdvocacyStory", "newAdvocacyTopic",
		"postCreated", "postModified", "postDeleted", "postSent",
		"newConversation", "conversationUpdated", "conversationStatusUpdated", "newNoteOnConversation", "newAssignment",
		"newLead", "newLeadActivity", "newConversion",
		"newApprovalItem", "approvalItemApproved", "approvalItemRejected",
		"newCampaign",
	},
	"tinyposter": {"post.created", "post.published", "post.failed", "post.canceled", "account.connected", "account.disconnected", "ping"},
	"hookgate":   {"ping", "endpoint.disabled"},
}

func catalog(t testing.TB) *schemas.Catalog {
	t.Helper()
	c, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCatalogHasEveryDocumentedEvent(t *testing.T) {
	c := catalog(t)
	want := map[string]int{"tokportal": 15, "uploadpost": 4, "oktopost": 19, "tinyposter": 7, "hookgate": 2}
	for provider, names := range documented {
		if len(names) != want[provider] {
			t.Fatalf("the hand-written list of %s has %d names, want %d", provider, len(names), want[provider])
		}
		got := c.List(provider)
		if len(got) != len(names) {
			t.Errorf("%s: catalog has %d types, the documents name %d", provider, len(got), len(names))
		}
		for _, n := range names {
			typ, ok := c.LookupProvider(provider, n)
			if !ok {
				t.Errorf("%s %s missing from the catalog", provider, n)
				continue
			}
			if typ.Title == "" || len(typ.Description) < 20 || !typ.Builtin {
				t.Errorf("%s %s: title %q, description %q", provider, n, typ.Title, typ.Description)
			}
		}
	}
	if p, _ := c.Lookup("ping"); p.Provider != "hookgate" {
		t.Errorf("ping resolves to %s, want hookgate's own", p.Provider)
	}
}

func TestEveryExampleValidates(t *testing.T) {
	c := catalog(t)
	for _, typ := range c.List("") {
		var s struct {
			Properties map[string]any    `json:"properties"`
			Examples   []json.RawMessage `json:"examples"`
		}
		if err := json.Unmarshal(typ.Schema, &s); err != nil {
			t.Fatal(err)
		}
		if len(s.Examples) == 0 || len(s.Properties) == 0 {
			t.Errorf("%s/%s: no examples or no properties", typ.Provider, typ.Name)
		}
		for i, ex := range s.Examples {
			if err := typ.Validate(ex); err != nil {
				t.Errorf("%s/%s example %d: %v", typ.Provider, typ.Name, i, err)
			}
		}
	}
}

func TestValidationErrorsNamePointerAndKeyword(t *testing.T) {
	c := catalog(t)
	cases := []struct {
		typ, data, pointer, keyword string
	}{
		{"video.posted", `{"video_id":"v","bundle_id":"b","platform":"tiktok","post_id":"1","posted_at":"2026-06-24T14:00:05Z"}`, "/data/post_url", "required"},
		{"analytics.snapshot", `{"video_id":"v","views":"lots","likes":1,"comments":1,"shares":1}`, "/data/views", "type"},
		{"video.posted", `{"video_id":"v","bundle_id":"b","platform":"myspace","post_url":"https://x.y/1","post_id":"1","posted_at":"2026-06-24T14:00:05Z"}`, "/data/platform", "enum"},
		{"video.posted", `{"video_id":"v","bundle_id":"b","platform":"tiktok","post_url":"https://x.y/1","post_id":"1","posted_at":"yesterday"}`, "/data/posted_at", "format"},
		{"post.published", `{"post":{"id":"p","status":"published","platforms":"TWITTER","brand_id":"b"}}`, "/data/post/platforms", "type"},
		{"upload_completed", `{"user_email":"a@b.co","platform":"instagram","media_type":"video","created_at":"x","result":{}}`, "/data/result/success", "required"},
	}
	for _, tc := range cases {
		err := c.Validate(tc.typ, json.RawMessage(tc.data))
		var ve *schemas.ValidationError
		if !errors.As(err, &ve) || ve.Pointer != tc.pointer || ve.Keyword != tc.keyword {
			t.Errorf("Validate(%s, %s) = %v, want %s (%s)", tc.typ, tc.data, err, tc.pointer, tc.keyword)
			continue
		}
		if !strings.HasPrefix(err.Error(), tc.pointer+": ") {
			t.Errorf("message %q doesn't start with the pointer", err)
		}
	}
	err := c.Validate("analytics.snapshot", json.RawMessage(`{"video_id":"v","views":"lots","likes":1,"comments":1,"shares":1}`))
	if err.Error() != "/data/views: expected integer, got string (type)" {
		t.Errorf("message = %q", err)
	}
	if err := c.Validate("nope.never", json.RawMessage(`{}`)); !errors.Is(err, schemas.ErrUnknownType) {
		t.Errorf("unknown type = %v", err)
	}
}

func TestCustomTypes(t *testing.T) {
	c := catalog(t)
	schema := json.RawMessage(`{"type":"object","properties":{"order_id":{"type":"string"},"total":{"type":"number"}},"required":["order_id"],"examples":[{"order_id":"o1","total":9.5}]}`)
	typ, err := c.Add("order.paid", "An order was paid", schema)
	if err != nil || typ.Builtin || typ.Provider != schemas.CustomProvider {
		t.Fatalf("Add = %+v, %v", typ, err)
	}
	if err := c.Validate("order.paid", json.RawMessage(`{"total":1}`)); err == nil || !strings.Contains(err.Error(), "/data/order_id") {
		t.Fatalf("custom validation = %v", err)
	}
	if _, err := c.Add("order.paid", "", schema); !errors.Is(err, schemas.ErrExists) {
		t.Fatalf("Add twice = %v", err)
	}
	if _, err := c.Add("video.posted", "", schema); !errors.Is(err, schemas.ErrBuiltin) {
		t.Fatalf("Add over a built-in = %v", err)
	}
	_, err = c.Add("bad.schema", "", json.RawMessage(`{"type":"object","properties":{"n":{"type":"integr"}}}`))
	var se *schemas.SchemaError
	if !errors.As(err, &se) || !strings.Contains(se.Pointer, "/properties/n") {
		t.Fatalf("broken schema = %#v (%v), want a pointer to /properties/n", err, err)
	}
	if len(c.List(schemas.CustomProvider)) != 1 {
		t.Fatal("custom type not listed")
	}
	if err := c.Remove("order.paid"); err != nil {
		t.Fatal(err)
	}
	if err := c.Remove("video.posted"); !errors.Is(err, schemas.ErrBuiltin) {
		t.Fatalf("Remove built-in = %v", err)
	}
	if _, ok := c.Lookup("order.paid"); ok {
		t.Fatal("removed type still there")
	}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		os.MkdirAll("testdata", 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./schemas -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs from the golden file (go test ./schemas -update rewrites it):\n%s", name, got)
	}
}

func TestExportsGolden(t *testing.T) {
	c := catalog(t)
	for _, name := range []string{"video.posted", "post.published", "upload_completed", "postSent"} {
		for _, f := range schemas.Formats {
			out, err := c.Export(name, f)
			if err != nil {
				t.Fatalf("Export(%s, %s): %v", name, f, err)
			}
			if !json.Valid(out) {
				t.Fatalf("Export(%s, %s) is not JSON", name, f)
			}
			golden(t, name+"."+string(f)+".json", out)
		}
	}
}

func TestZapierFieldsFlattenWithDoubleUnderscore(t *testing.T) {
	c := catalog(t)
	out, _ := c.Export("post.published", schemas.FormatZapier)
	var z struct {
		OutputFields []map[string]any `json:"outputFields"`
		Sample       map[string]any   `json:"sample"`
	}
	json.Unmarshal(out, &z)
	var keys []string
	for _, f := range z.OutputFields {
		keys = append(keys, f["key"].(string))
		if f["key"] == "data__post__id" && (f["label"] != "Post ID" || f["type"] != "string") {
			t.Errorf("data__post__id = %v", f)
		}
		if f["key"] == "created" && f["type"] != "datetime" {
			t.Errorf("created = %v", f)
		}
		if f["key"] == "data__post__platforms" && f["list"] != true {
			t.Errorf("platforms = %v", f)
		}
	}
	if !slices.Contains(keys, "data__post__id") || z.Sample["type"] != "post.published" {
		t.Fatalf("keys = %v, sample = %v", keys, z.Sample)
	}
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	c := catalog(t)
	paths := map[string]any{"/v1/events": map[string]any{"post": map[string]any{"operationId": "publish", "responses": map[string]any{"202": map[string]any{"description": "stored"}}}}}
	out, err := c.OpenAPI(schemas.OpenAPIInfo{Title: "hookgate", Version: "test"}, paths, nil)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(out)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("invalid OpenAPI: %v", err)
	}
	if len(doc.Webhooks) != len(c.List("")) {
		t.Fatalf("webhooks = %d, types = %d", len(doc.Webhooks), len(c.List("")))
	}
	if doc.Webhooks["video.posted"] == nil || doc.Webhooks["tinyposter.ping"] == nil || doc.Webhooks["ping"] == nil {
		t.Fatalf("webhooks keys: video.posted, ping (hookgate) and tinyposter.ping expected")
	}
}

func BenchmarkValidateVideoPosted(b *testing.B) {
	c := catalog(b)
	data := json.RawMessage(`{"video_id":"v_51d0e2","bundle_id":"b_8f2c1a","platform":"tiktok","post_url":"https://www.tiktok.com/@acme.daily/video/7383920011122334455","post_id":"7383920011122334455","posted_at":"2026-06-24T14:00:05Z","caption":"` + strings.Repeat("a", 810) + `"}`)
	if len(data) < 1000 {
		b.Fatalf("body is %d bytes, want ~1 KiB", len(data))
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Validate("video.posted", data); err != nil {
			b.Fatal(err)
		}
	}
}

package schemas_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/schemas"
)

// documented lists every event type the four provider documents name, written out by hand
// from /work/shared/seeds (000 TokPortal, 001 Upload-Post, 002 Oktopost, 003 tinyposter),
// plus hookgate's own meta events.
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

// documentedFields lists, per type, the data fields the documents name (dotted paths into
// data), written by hand from the documents: each must be a property of the schema.
var documentedFields = map[string][]string{
	"tokportal/bundle.created":              {"bundle_id", "platform", "country", "device"},
	"tokportal/bundle.profile_updated":      {"username", "bio", "profile_picture_url"},
	"tokportal/video.queued":                {"video_id", "scheduled_at", "bundle_id"},
	"tokportal/video.posted":                {"post_url", "post_id", "platform", "posted_at"},
	"tokportal/video.failed":                {"error_code", "reason"},
	"tokportal/analytics.snapshot":          {"views", "likes", "comments", "shares", "reach"},
	"tokportal/analytics.milestone_reached": {"threshold"},
	"uploadpost/upload_completed": {"job_id", "user_email", "profile_username", "platform", "media_type", "title", "caption",
		"result.success", "result.url", "result.publish_id", "result.post_id", "result.error", "created_at"},
	"uploadpost/social_account_connected":       {"user_email", "platform", "account_name", "status", "profile_username", "created_at"},
	"uploadpost/social_account_disconnected":    {"user_email", "platform", "account_name", "status", "profile_username", "reason", "created_at"},
	"uploadpost/social_account_reauth_required": {"user_email", "platform", "account_name", "status", "reason", "created_at"},
	"oktopost/postSent":                         {"postId", "network", "campaignId", "sentAt"},
	"oktopost/newAssignment":                    {"conversationId", "assignedTo", "assignedBy", "assignedAt"},
	"tinyposter/post.published": {"post.id", "post.status", "post.text", "post.platforms", "post.title", "post.scheduled_at",
		"post.published_at", "post.error", "post.brand_id"},
	"tinyposter/account.connected":    {"account.platform", "account.username", "account.status", "account.brand_id"},
	"tinyposter/account.disconnected": {"account.platform", "account.username", "account.status", "account.brand_id"},
	"hookgate/ping":                   {"message", "endpoint_id"},
	"hookgate/endpoint.disabled":      {"endpoint_id", "url", "reason", "disabled_at"},
}

func newCatalog(t testing.TB) *schemas.Catalog {
	t.Helper()
	c, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// schemaDoc is the part of a schema file the tests read.
type schemaDoc struct {
	Schema      string                     `json:"$schema"`
	ID          string                     `json:"$id"`
	Title       string                     `json:"title"`
	Description string                     `json:"description"`
	Type        any                        `json:"type"`
	Properties  map[string]json.RawMessage `json:"properties"`
	Required    []string                   `json:"required"`
	Items       json.RawMessage            `json:"items"`
	Examples    []json.RawMessage          `json:"examples"`
}

func parse(t *testing.T, raw []byte) schemaDoc {
	t.Helper()
	var d schemaDoc
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCatalogHasEveryDocumentedType(t *testing.T) {
	c := newCatalog(t)
	want := map[string]int{"tokportal": 15, "uploadpost": 4, "oktopost": 19, "tinyposter": 7, "hookgate": 2}
	total := 0
	for provider, names := range documented {
		if len(names) != want[provider] {
			t.Fatalf("the hand-written list of %s has %d names, want %d", provider, len(names), want[provider])
		}
		total += len(names)
		var got []string
		for _, typ := range c.List(provider) {
			got = append(got, typ.Name)
		}
		slices.Sort(got)
		wantNames := slices.Sorted(slices.Values(names))
		if !slices.Equal(got, wantNames) {
			t.Errorf("%s: catalog has %v\nthe documents name %v", provider, got, wantNames)
		}
	}
	if got := len(c.List("")); got != total {
		t.Errorf("List(\"\") = %d types, want %d", got, total)
	}
	if got := c.Providers(); !slices.Equal(got, []string{"hookgate", "oktopost", "tinyposter", "tokportal", "uploadpost"}) {
		t.Errorf("Providers() = %v", got)
	}
}

func TestEverySchemaIsComplete(t *testing.T) {
	c := newCatalog(t)
	for _, typ := range c.List("") {
		id := typ.Provider + "/" + typ.Name
		d := parse(t, typ.Schema)
		if d.Schema != "https://json-schema.org/draft/2020-12/schema" {
			t.Errorf("%s: $schema = %q", id, d.Schema)
		}
		if want := schemas.BaseURL + id + ".json"; d.ID != want {
			t.Errorf("%s: $id = %q, want %q", id, d.ID, want)
		}
		if !typ.Builtin || typ.Title == "" || typ.Title == typ.Name || len(typ.Description) < 40 {
			t.Errorf("%s: builtin %v, title %q, description %q", id, typ.Builtin, typ.Title, typ.Description)
		}
		if len(d.Examples) == 0 || len(typ.Example) == 0 {
			t.Errorf("%s: no examples", id)
		}
		if len(d.Properties) == 0 && id != "tinyposter/ping" { // tinyposter documents no ping fields
			t.Errorf("%s: no properties", id)
		}
		checkProperties(t, id, typ.Schema)
	}
}

// checkProperties walks a schema: every property has a type and a description, every
// required name is a property.
func checkProperties(t *testing.T, at string, raw json.RawMessage) {
	t.Helper()
	d := parse(t, raw)
	for _, r := range d.Required {
		if _, ok := d.Properties[r]; !ok {
			t.Errorf("%s: %q is required but not a property", at, r)
		}
	}
	for name, p := range d.Properties {
		pd := parse(t, p)
		if pd.Type == nil || pd.Description == "" {
			t.Errorf("%s.%s: type %v, description %q", at, name, pd.Type, pd.Description)
		}
		checkProperties(t, at+"."+name, p)
		if len(pd.Items) > 0 {
			checkProperties(t, at+"."+name+"[]", pd.Items)
		}
	}
}

func TestSchemasHaveEveryDocumentedField(t *testing.T) {
	c := newCatalog(t)
	for id, fields := range documentedFields {
		provider, name, _ := strings.Cut(id, "/")
		typ, ok := c.LookupProvider(provider, name)
		if !ok {
			t.Errorf("%s missing", id)
			continue
		}
		for _, f := range fields {
			props := parse(t, typ.Schema).Properties
			parts := strings.Split(f, ".")
			for i, part := range parts {
				p, ok := props[part]
				if !ok {
					t.Errorf("%s: no property %s", id, f)
					break
				}
				if i < len(parts)-1 {
					props = parse(t, p).Properties
				}
			}
		}
	}
}

func TestEveryExampleValidates(t *testing.T) {
	c := newCatalog(t)
	for _, typ := range c.List("") {
		for i, ex := range parse(t, typ.Schema).Examples {
			if err := typ.Validate(ex); err != nil {
				t.Errorf("%s/%s example %d: %v", typ.Provider, typ.Name, i, err)
			}
			if err := c.ValidateFrom(typ.Provider, typ.Name, ex); err != nil {
				t.Errorf("ValidateFrom(%s, %s, example %d) = %v", typ.Provider, typ.Name, i, err)
			}
		}
	}
}

func TestNameResolution(t *testing.T) {
	c := newCatalog(t)
	if p, ok := c.Lookup("ping"); !ok || p.Provider != schemas.HookgateProvider {
		t.Fatalf("Lookup(ping) = %+v, want hookgate's", p)
	}
	if p, ok := c.LookupProvider("tinyposter", "ping"); !ok || p.Provider != "tinyposter" {
		t.Fatalf("LookupProvider(tinyposter, ping) = %+v", p)
	}
	for _, tc := range []struct{ source, name, want string }{
		{"tinyposter", "ping", "tinyposter"},
		{"hookgate", "ping", "hookgate"},
		{"", "ping", "hookgate"},
		{"myapp", "ping", "hookgate"},
		{"myapp", "video.posted", "tokportal"},
		{"tinyposter", "video.posted", "tokportal"},
	} {
		got, ok := c.LookupFrom(tc.source, tc.name)
		if !ok || got.Provider != tc.want {
			t.Errorf("LookupFrom(%q, %q) = %+v, want %s's", tc.source, tc.name, got, tc.want)
		}
	}
	if _, ok := c.Lookup("nope.never"); ok {
		t.Error("Lookup(nope.never) found something")
	}
	// hookgate's ping needs a message; tinyposter's takes any object.
	if err := c.Validate("ping", json.RawMessage(`{}`)); err == nil {
		t.Error(`Validate(ping, {}) = nil, want hookgate's ping to require message`)
	}
	if err := c.ValidateFrom("tinyposter", "ping", json.RawMessage(`{}`)); err != nil {
		t.Errorf("ValidateFrom(tinyposter, ping, {}) = %v", err)
	}
}

func TestListIsSorted(t *testing.T) {
	c := newCatalog(t)
	list := c.List("")
	ok := slices.IsSortedFunc(list, func(a, b *schemas.Type) int {
		if c := strings.Compare(a.Provider, b.Provider); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	if !ok {
		t.Error("List is not sorted by provider then name")
	}
	if len(c.List("nobody")) != 0 {
		t.Error("List(nobody) is not empty")
	}
}

func TestNewFailsOnNothing(t *testing.T) {
	// New compiles every schema and checks every example; two catalogs are independent.
	a, b := newCatalog(t), newCatalog(t)
	if _, err := a.Add("only.in.a", "", json.RawMessage(`{"type":"object"}`)); err != nil {
		t.Fatal(err)
	}
	if _, ok := b.Lookup("only.in.a"); ok {
		t.Error("a custom type leaked into another catalog")
	}
	if err := b.Remove("only.in.a"); !errors.Is(err, schemas.ErrUnknownType) {
		t.Errorf("Remove of a type another catalog has = %v", err)
	}
}

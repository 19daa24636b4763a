package gateway_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/memory"
)

// fillRegistry puts one endpoint (with settings, auth and two secrets), one source, one
// event type, one named key, and one OAuth client with its grant into st.
func fillRegistry(t *testing.T, st gateway.Store) {
	t.Helper()
	at := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	ep := &gateway.Endpoint{ID: "ep_1", URL: "https://hook.example.com/a", Kind: "webhook", Events: []string{"order.*"}, Enabled: true,
		Headers: map[string]string{"X-Key": "k-0123456789"}, CreatedAt: at, UpdatedAt: at,
		EndpointSettings: gateway.EndpointSettings{RateLimitPerS: 5, Auth: &gateway.EndpointAuth{Type: "basic", Username: "u", Password: "p-0123456789"}},
		Settings:         json.RawMessage(`{"zeta":1,"alpha":"x"}`),
		Secrets:          []gateway.Secret{{Value: "whsec_bmV3LXNlY3JldC0wMTIzNDU2Nzg5MDEy"}, {Value: "whsec_b2xkLXNlY3JldC0wMTIzNDU2Nzg5MDEy", Expires: &at}}}
	src := &gateway.Source{ID: "src_1", Name: "shop", Provider: "standard-webhooks", Secret: "whsec_c291cmNlLXNlY3JldC0wMTIzNDU2Nzg5", CreatedAt: at, UpdatedAt: at}
	et := &gateway.EventTypeRecord{Name: "order.paid", Description: "an order was paid", Schema: json.RawMessage(`{"type":"object"}`)}
	if _, err := st.Endpoints().Put(ctx, ep.ID, ep, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Sources().Put(ctx, src.ID, src, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := st.EventTypes().Put(ctx, et.Name, et, 0); err != nil {
		t.Fatal(err)
	}
	key := &gateway.APIKey{ID: "key_1", Name: "zapier", Scopes: []gateway.Scope{gateway.ScopeRead, gateway.ScopePublish}, Hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Prefix: "hgk_1", Created: at}
	if _, err := st.Keys().Put(ctx, key.ID, key, 0); err != nil {
		t.Fatal(err)
	}
	client := &gateway.OAuthClient{ID: "oac_1", Name: "ChatGPT", RedirectURIs: []string{"https://chatgpt.com/connector_platform_oauth_redirect"},
		AuthMethod: "none", Created: at, Approved: true}
	if _, err := st.OAuthClients().Put(ctx, client.ID, client, 0); err != nil {
		t.Fatal(err)
	}
	grant := &gateway.Grant{ID: "grant_1", ClientID: client.ID, ClientName: client.Name, Scopes: []gateway.Scope{gateway.ScopeRead}, ApprovedBy: "admin", Created: at,
		AccessHash: "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae", AccessExpires: at.Add(time.Hour),
		RefreshHash: "fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9", RefreshExpires: at.Add(30 * 24 * time.Hour)}
	if _, err := st.Grants().Put(ctx, grant.ID, grant, 0); err != nil {
		t.Fatal(err)
	}
}

// registryOf lists every collection of st, to compare two stores.
func registryOf(t *testing.T, st gateway.Store) []any {
	t.Helper()
	return []any{listAll(t, st.Endpoints()), listAll(t, st.Sources()), listAll(t, st.EventTypes()), listAll(t, st.Keys()),
		listAll(t, st.OAuthClients()), listAll(t, st.Grants())}
}

// listAll lists every record of r.
func listAll[T any](t *testing.T, r gateway.Records[T]) []T {
	t.Helper()
	all, err := r.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// roundTrip encodes doc as hookgate export writes it and parses it back.
func roundTrip(t *testing.T, doc *gateway.RegistryDoc) *gateway.RegistryDoc {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	back, err := gateway.ParseRegistryDoc(b)
	if err != nil {
		t.Fatalf("ParseRegistryDoc(export) = %v", err)
	}
	return back
}

func actions(res []gateway.ImportResult) map[gateway.ImportAction]int {
	n := map[gateway.ImportAction]int{}
	for _, r := range res {
		n[r.Action]++
	}
	return n
}

// A registry exported from one store and imported into another is the same, secrets, kind
// settings, OAuth clients and grants included; a second import changes nothing, and an import over a changed
// record puts the document's back and says so.
func TestRegistryExportImportRoundTrip(t *testing.T) {
	from, to := memory.New(), memory.New()
	t.Cleanup(func() { from.Close(); to.Close() })
	fillRegistry(t, from)
	doc, err := gateway.ExportRegistry(ctx, from, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if doc.Version != gateway.RegistryDocVersion || len(doc.Registry["endpoints"]) != 1 || len(doc.Registry["sources"]) != 1 || len(doc.Registry["event_types"]) != 1 {
		t.Fatalf("export = %+v", doc)
	}
	doc = roundTrip(t, doc)

	res, err := gateway.ImportRegistry(ctx, to, doc)
	if err != nil {
		t.Fatal(err)
	}
	if n := actions(res); n[gateway.ImportCreated] != 6 || len(res) != 6 {
		t.Fatalf("first import = %+v, want 6 created", res)
	}
	if got, want := registryOf(t, to), registryOf(t, from); !reflect.DeepEqual(got, want) {
		t.Fatalf("imported registry differs:\n got %s\nwant %s", mustJSON(t, got), mustJSON(t, want))
	}

	_, rev, err := to.Endpoints().Get(ctx, "ep_1")
	if err != nil {
		t.Fatal(err)
	}
	res, err = gateway.ImportRegistry(ctx, to, doc)
	if err != nil {
		t.Fatal(err)
	}
	if n := actions(res); n[gateway.ImportUnchanged] != 6 {
		t.Fatalf("second import = %+v, want 6 unchanged", res)
	}
	if _, rev2, _ := to.Endpoints().Get(ctx, "ep_1"); rev2 != rev {
		t.Fatalf("second import rewrote ep_1: revision %d → %d", rev, rev2)
	}

	ep, rev, _ := to.Endpoints().Get(ctx, "ep_1")
	ep.URL = "https://elsewhere.example.com"
	if _, err := to.Endpoints().Put(ctx, ep.ID, ep, rev); err != nil {
		t.Fatal(err)
	}
	res, err = gateway.ImportRegistry(ctx, to, doc)
	if err != nil {
		t.Fatal(err)
	}
	if n := actions(res); n[gateway.ImportUpdated] != 1 || n[gateway.ImportUnchanged] != 5 {
		t.Fatalf("import over a change = %+v, want ep_1 updated", res)
	}
	if got, _, _ := to.Endpoints().Get(ctx, "ep_1"); got.URL != "https://hook.example.com/a" {
		t.Fatalf("ep_1 URL = %q after import", got.URL)
	}
}

// A document that can't be imported whole is refused with a ValidationError naming where,
// and nothing of it is written.
func TestRegistryImportRefusesBadDocuments(t *testing.T) {
	src := memory.New()
	t.Cleanup(func() { src.Close() })
	fillRegistry(t, src)
	good, err := gateway.ExportRegistry(ctx, src, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	goodJSON, _ := json.Marshal(good)
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		json.Unmarshal(goodJSON, &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	reg := func(m map[string]any) map[string]any { return m["registry"].(map[string]any) }
	for _, tc := range []struct {
		name, field, says string
		doc               []byte
	}{
		{"newer version", "version", "version 2", edit(func(m map[string]any) { m["version"] = 2 })},
		{"no version", "version", "no version", edit(func(m map[string]any) { delete(m, "version") })},
		{"not JSON", "", "not a hookgate registry document", []byte(`endpoints: []`)},
		{"unknown collection", "registry.widgets", "unknown collection", edit(func(m map[string]any) { reg(m)["widgets"] = []any{} })},
		{"record without id", "registry.sources[0]", "no id", edit(func(m map[string]any) { reg(m)["sources"] = []any{map[string]any{"name": "x"}} })},
		{"record not an object", "registry.endpoints[0]", "object", edit(func(m map[string]any) { reg(m)["endpoints"] = []any{nil} })},
		{"id twice", "registry.endpoints[1]", "twice", edit(func(m map[string]any) {
			e := reg(m)["endpoints"].([]any)
			reg(m)["endpoints"] = append(e, e[0])
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := gateway.ParseRegistryDoc(tc.doc)
			var ve *gateway.ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("ParseRegistryDoc = %v, want a ValidationError on %q saying %q", err, tc.field, tc.says)
			}
		})
	}

	// A document built in code is checked too: nothing is written from a bad one.
	to := memory.New()
	t.Cleanup(func() { to.Close() })
	bad := *good
	bad.Registry = map[string][]json.RawMessage{"event_types": good.Registry["event_types"], "endpoints": {json.RawMessage(`{"url":"x"}`)}}
	if _, err := gateway.ImportRegistry(ctx, to, &bad); err == nil {
		t.Fatal("ImportRegistry took an endpoint without an id")
	}
	if ets, _ := to.EventTypes().List(ctx); len(ets) != 0 {
		t.Fatalf("a refused document wrote %d event types", len(ets))
	}
}

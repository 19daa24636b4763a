package render_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hookgate/hookgate/connectors/render"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/schemas"
)

// message returns a Message for the envelope env, with the endpoint's template tmpl.
func message(t *testing.T, env, tmpl string) *gateway.Message {
	t.Helper()
	var ev gateway.Event
	if err := json.Unmarshal([]byte(env), &ev); err != nil {
		t.Fatal(err)
	}
	st, _ := json.Marshal(map[string]string{"template": tmpl})
	ep := &gateway.Endpoint{ID: "ep_test", Kind: "slack", Settings: st}
	return &gateway.Message{Endpoint: ep, Event: &ev, Body: ev.Body()}
}

// textOf renders m with its endpoint's template, as a kind's Sender does.
func textOf(m *gateway.Message, opts render.Options) (string, error) {
	var st struct {
		Template string `json:"template"`
	}
	if err := json.Unmarshal(m.Endpoint.Settings, &st); err != nil {
		return "", err
	}
	return render.Text(m, st.Template, opts)
}

// TestDefaultsOnCatalogSamples renders every built-in type's sample with its default
// template, so that a default never fails on the data its type carries.
func TestDefaultsOnCatalogSamples(t *testing.T) {
	cat, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"video.posted":      "Video posted on tiktok: https://www.tiktok.com/@acme.daily/video/7383920011122334455",
		"video.failed":      "Video failed on tiktok: The platform rejected the video file (upload_rejected)",
		"bundle.ready":      "Bundle b_8f2c1a is ready to post on tiktok",
		"upload_completed":  "Upload completed on instagram: https://www.instagram.com/p/C1234567890/",
		"postSent":          "Post sent on LinkedIn",
		"ping":              "hookgate: ping evt_sample_ping",
		"endpoint.disabled": "hookgate disabled endpoint ep_01J1Z8Y5V3K4M6N7P8Q9R0S1T2 (https://hooks.zapier.com/<redacted>): 10 consecutive deliveries failed",
	}
	for _, typ := range cat.List("") {
		text, err := textOf(message(t, string(typ.Sample()), ""), render.Options{Limit: 4096})
		if err != nil || strings.Contains(text, "<no value>") {
			t.Errorf("%s/%s: default template = %q, %v", typ.Provider, typ.Name, text, err)
			continue
		}
		if w, ok := want[typ.Name]; ok && text != w {
			t.Errorf("%s: default template = %q, want %q", typ.Name, text, w)
		}
		if (typ.Name == "post.published" || typ.Name == "post.failed") && !strings.Contains(text, "TWITTER, LINKEDIN") {
			t.Errorf("%s: default template = %q, want the platforms joined", typ.Name, text)
		}
	}
}

func TestText(t *testing.T) {
	env := `{"id":"evt_1","type":"upload_completed","source":"uploadpost","created":"2026-06-24T14:00:05Z",` +
		`"data":{"platform":"tiktok","views":7383920011122334455,"title":null,"result":{"success":false,"url":null,"error":"Token <expired> & gone"}}}`
	cases := []struct {
		name, tmpl, body string
		opts             render.Options
		want             string
	}{
		{name: "default over the envelope", want: "Upload failed on tiktok: Token <expired> & gone"},
		{name: "default escaped", opts: render.Options{Escape: strings.NewReplacer("<", "&lt;", ">", "&gt;", "&", "&amp;").Replace}, want: "Upload failed on tiktok: Token &lt;expired&gt; &amp; gone"},
		{name: "template text is not escaped", tmpl: "<https://x.test|{{.data.platform}}> {{.data.result.error}}", opts: render.Options{Escape: strings.NewReplacer("<", "&lt;").Replace}, want: "<https://x.test|tiktok> Token &lt;expired> & gone"},
		{name: "numbers print as written", tmpl: "{{.data.views}} views", want: "7383920011122334455 views"},
		{name: "null is absent", tmpl: "{{.data.title.x}}|{{with .data.title}}t{{else}}none{{end}}", want: "<no value>|none"},
		{name: "trimmed", tmpl: "\n  {{.type}}\n", want: "upload_completed"},
		{name: "mapped payload", tmpl: "{{.platform}} at {{.at}}", body: `{"platform":"instagram","at":"noon"}`, want: "instagram at noon"},
		{name: "mapped array", tmpl: "{{index . 1}}", body: `["a","b"]`, want: "b"},
		{name: "join", tmpl: `{{join .list " + "}}{{join .missing ","}}`, body: `{"list":["a",1,true]}`, want: "a + 1 + true"},
		{name: "cut at the limit", tmpl: "{{.data.platform}} ünïcødé", opts: render.Options{Limit: 10}, want: "tiktok ün…"},
		{name: "exactly the limit", tmpl: "ünïcødé", opts: render.Options{Limit: 7}, want: "ünïcødé"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := message(t, env, c.tmpl)
			if c.body != "" {
				m.Body = []byte(c.body)
			}
			got, err := textOf(m, c.opts)
			if err != nil || got != c.want {
				t.Fatalf("Text = %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestTextLimitsOutput(t *testing.T) {
	m := message(t, `{"id":"evt_1","type":"x","created":"2026-06-24T14:00:05Z","data":{}}`, `{{range 120000}}ééééé{{end}}`)
	got, err := textOf(m, render.Options{Limit: 4096})
	if err != nil || utf8.RuneCountInString(got) != 4096 || !strings.HasSuffix(got, "é…") {
		t.Fatalf("Text = %d characters ending %q, %v; want 4096 ending with …", utf8.RuneCountInString(got), got[max(0, len(got)-8):], err)
	}
	got, err = textOf(m, render.Options{})
	if err != nil || len(got) > render.MaxOutput {
		t.Fatalf("Text without a limit = %d bytes, %v; want at most %d", len(got), err, render.MaxOutput)
	}
}

func TestTextErrors(t *testing.T) {
	env := `{"id":"evt_1","type":"video.posted","created":"2026-06-24T14:00:05Z","data":{"platform":"tiktok"}}`
	for _, c := range []struct{ name, tmpl, body string }{
		{"does not parse", "{{.data", ""},
		{"fails to run", "{{index .data.tags 3}}", ""},
		{"writes nothing", "{{if .data.missing}}x{{end}}  ", ""},
		{"payload not JSON", "{{.}}", "{nope"},
	} {
		m := message(t, env, c.tmpl)
		if c.body != "" {
			m.Body = []byte(c.body)
		}
		if got, err := textOf(m, render.Options{}); err == nil {
			t.Errorf("%s: Text = %q, want an error", c.name, got)
		}
	}
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name, tmpl, mapping string
		ok                  bool
	}{
		{"none", "", "", true},
		{"valid", "New video on {{.data.platform}}: {{.data.post_url}}", "", true},
		{"other event's fields", "{{.data.post.text}} {{join .data.post.platforms \", \"}}", "", true},
		{"does not parse", "{{.data.platform", "", false},
		{"unknown function", "{{upper .type}}", "", false},
		{"fails on the sample", "{{index .data.tags 0}}", "", false},
		{"fails on the sample, but a mapping shapes the payload", "{{index .tags 0}}", "{tags: [.type]}", true},
		{"too long", strings.Repeat("x", render.MaxTemplate+1), "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ep := &gateway.Endpoint{Kind: "slack", EndpointSettings: gateway.EndpointSettings{Mapping: c.mapping}}
			err := render.Check(c.tmpl, ep)
			var ve *gateway.ValidationError
			switch {
			case c.ok && err != nil:
				t.Fatalf("Check = %v, want nil", err)
			case !c.ok && (!errors.As(err, &ve) || ve.Field != "template"):
				t.Fatalf("Check = %v, want a ValidationError on template", err)
			}
			if err != nil {
				t.Logf("%v", err)
			}
		})
	}
}

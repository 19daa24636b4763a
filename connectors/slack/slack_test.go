package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/connectors/connectortest"
	"github.com/hookgate/hookgate/connectors/slack"
	"github.com/hookgate/hookgate/gateway"
)

func dev() *slack.Sender {
	return slack.New(slack.Options{Policy: gateway.URLPolicy{AllowPrivate: true}})
}

func TestSenderSuite(t *testing.T) {
	connectortest.RunSenderSuite(t, func(*testing.T, string) gateway.Sender { return dev() })
}

// hookPath is the path of the stand-in's one live incoming webhook; archivedPath's
// channel is archived.
const (
	hookPath     = "/services/T0001/B0001/s3cr3tT0ken"
	archivedPath = "/services/T0001/B0002/archivedT0ken"
)

// incomingWebhook answers as Slack's incoming webhooks do: 404 no_service for an unknown
// URL, 410 channel_is_archived, 400 invalid_payload for a body that is not a JSON object
// and no_text without text, else 200 "ok". It passes on each text it accepts.
func incomingWebhook(t *testing.T) (string, <-chan string) {
	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg struct {
			Text *string `json:"text"`
		}
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.URL.Path == archivedPath:
			http.Error(w, "channel_is_archived", http.StatusGone)
		case r.Method != http.MethodPost || r.URL.Path != hookPath:
			http.Error(w, "no_service", http.StatusNotFound)
		case r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &msg) != nil:
			http.Error(w, "invalid_payload", http.StatusBadRequest)
		case msg.Text == nil || strings.TrimSpace(*msg.Text) == "":
			http.Error(w, "no_text", http.StatusBadRequest)
		default:
			got <- *msg.Text
			io.WriteString(w, "ok")
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

func TestTextIsRendered(t *testing.T) {
	cases := []struct {
		name, tmpl, body, want string
	}{
		{name: "default for video.posted", want: "Video posted on tiktok: https://example.com/v/1"},
		{name: "endpoint template", tmpl: "<{{.data.url}}|New video> with {{.data.views}} views", want: "<https://example.com/v/1|New video> with 3 views"},
		{name: "mapped payload", tmpl: "{{.platform}}: {{.post_url}}", body: `{"platform":"instagram","post_url":"https://x.test/p?a=1&b=2"}`, want: "instagram: https://x.test/p?a=1&amp;b=2"},
		{name: "data can't ping the channel", tmpl: "{{.msg}}", body: `{"msg":"<!channel> hi"}`, want: "&lt;!channel&gt; hi"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url, got := incomingWebhook(t)
			m := connectortest.Message(url+hookPath, connectortest.Secret)
			m.Event.Data = []byte(`{"platform":"tiktok","post_url":"https://example.com/v/1","url":"https://example.com/v/1","views":3}`)
			m.Body = m.Event.Body()
			m.Endpoint.Kind, m.Endpoint.Settings = slack.Kind, connectortest.Settings("template", c.tmpl)
			if c.body != "" {
				m.Body = []byte(c.body)
			}
			out := dev().Send(context.Background(), m)
			if out.Err != nil || out.StatusCode != http.StatusOK || string(out.Body) != "ok" {
				t.Fatalf("Send = {%d %q %v}, want 200 ok", out.StatusCode, out.Body, out.Err)
			}
			if text := <-got; text != c.want {
				t.Errorf("Slack got text %q, want %q", text, c.want)
			}
		})
	}
}

func TestSlackErrors(t *testing.T) {
	url, _ := incomingWebhook(t)
	for path, want := range map[string]int{"/services/T0001/B0001/revoked": http.StatusNotFound, archivedPath: http.StatusGone} {
		out := dev().Send(context.Background(), connectortest.Message(url+path, connectortest.Secret))
		if out.Err != nil || out.StatusCode != want {
			t.Errorf("Send to %s = {%d %q %v}, want %d", path, out.StatusCode, out.Body, out.Err, want)
		}
		connectortest.AssertNoSecretLeak(t, out, "archivedT0ken", "revoked")
	}
}

func TestTemplateFailureIsAnError(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	for _, tmpl := range []string{"{{index .data.tags 2}}", "{{if .nope}}x{{end}}", "{{.data"} {
		m := connectortest.Message(rcv.URL()+hookPath, connectortest.Secret)
		m.Endpoint.Settings = connectortest.Settings("template", tmpl)
		out := dev().Send(context.Background(), m)
		if out.Err == nil || out.StatusCode != 0 {
			t.Errorf("Send with template %q = %+v, want an error", tmpl, out)
		}
		connectortest.AssertNoSecretLeak(t, out, "s3cr3tT0ken")
	}
	if n := rcv.Count(); n != 0 {
		t.Errorf("Slack got %d requests, want none", n)
	}
}

func TestCheckEndpoint(t *testing.T) {
	cases := []struct {
		name     string
		settings gateway.EndpointSettings
		kind     json.RawMessage // the kind's settings
		field    string          // "" when valid
	}{
		{"default template", gateway.EndpointSettings{}, nil, ""},
		{"template", gateway.EndpointSettings{}, connectortest.Settings("template", "New video on {{.data.platform}}: <{{.data.post_url}}|watch>"), ""},
		{"template with a mapping", gateway.EndpointSettings{Mapping: "{platform: .data.platform}"}, connectortest.Settings("template", "{{.platform}}"), ""},
		{"template does not parse", gateway.EndpointSettings{}, connectortest.Settings("template", "{{.data.platform"), "template"},
		{"template fails on a sample", gateway.EndpointSettings{}, connectortest.Settings("template", "{{len .data.missing}}"), "template"},
		{"chat id", gateway.EndpointSettings{}, connectortest.Settings("chat_id", "-1001"), "chat_id"},
		{"api key", gateway.EndpointSettings{}, connectortest.Settings("api_key", "k"), "api_key"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ep := &gateway.Endpoint{Kind: slack.Kind, URL: "https://hooks.slack.com/services/T0/B0/x", EndpointSettings: c.settings, Settings: c.kind}
			err := dev().CheckEndpoint(ep)
			var ve *gateway.ValidationError
			switch {
			case c.field == "" && err != nil:
				t.Fatalf("CheckEndpoint = %v, want nil", err)
			case c.field != "" && (!errors.As(err, &ve) || ve.Field != c.field):
				t.Fatalf("CheckEndpoint = %v, want a ValidationError on %s", err, c.field)
			}
		})
	}
}

func TestEscape(t *testing.T) {
	if got, want := slack.Escape("a & <b> &amp;"), "a &amp; &lt;b&gt; &amp;amp;"; got != want {
		t.Errorf("Escape = %q, want %q", got, want)
	}
}

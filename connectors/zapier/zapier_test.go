package zapier_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/connectortest"
	"github.com/hookgate/hookgate/connectors/signature"
	"github.com/hookgate/hookgate/connectors/zapier"
	"github.com/hookgate/hookgate/gateway"
)

func dev() *zapier.Sender {
	return zapier.New(zapier.Options{Policy: gateway.URLPolicy{AllowPrivate: true}})
}

func TestSenderSuite(t *testing.T) {
	connectortest.RunSenderSuite(t, func(*testing.T, string) gateway.Sender { return dev() })
}

// hook is a stand-in for a Zapier REST hook: like Zapier's catch hooks it takes a POST of
// one JSON object (an array would run the Zap once per item) and answers as Zapier does.
// It passes on each request it accepts.
func hook(t *testing.T) (string, <-chan *http.Request, <-chan []byte) {
	reqs, bodies := make(chan *http.Request, 10), make(chan []byte, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var obj map[string]any
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &obj) != nil {
			http.Error(w, `{"status":"error"}`, http.StatusBadRequest)
			return
		}
		reqs <- r.Clone(context.Background())
		bodies <- body
		io.WriteString(w, `{"attempt":"018f","id":"018f","request_id":"018f","status":"success"}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, reqs, bodies
}

func TestHookGetsTheSignedObject(t *testing.T) {
	cases := []struct {
		name, payload, want string
	}{
		{"envelope", "", ""}, // the message's envelope, as is
		{"mapped object", `{"post_url":"https://x.test/1","platform":"tiktok"}`, `{"post_url":"https://x.test/1","platform":"tiktok"}`},
		{"mapped array is wrapped", ` [1, 2]`, `{"data":[1,2]}`},
		{"mapped string is wrapped", `"hi"`, `{"data":"hi"}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url, reqs, bodies := hook(t)
			m := connectortest.Message(url+"/hooks/standard/123/abc", connectortest.Secret)
			m.Endpoint.Kind = zapier.Kind
			want := string(m.Body)
			if c.payload != "" {
				m.Body, want = []byte(c.payload), c.want
			}
			out := dev().Send(context.Background(), m)
			if out.Err != nil || out.StatusCode != http.StatusOK {
				t.Fatalf("Send = %+v, want 200", out)
			}
			r, body := <-reqs, <-bodies
			if string(body) != want || r.URL.Path != "/hooks/standard/123/abc" {
				t.Errorf("hook got %s %s, want %s", r.URL.Path, body, want)
			}
			if err := signature.Verify([]string{connectortest.Secret}, r.Header, body, time.Minute, time.Now()); err != nil {
				t.Errorf("signature of what the hook got: %v", err)
			}
			if got := r.Header.Get("X-Hookgate-Event"); got != "video.posted" {
				t.Errorf("X-Hookgate-Event = %q", got)
			}
		})
	}
}

func TestNotJSONIsAnError(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	m := connectortest.Message(rcv.URL()+"/hooks/standard/123/abc", connectortest.Secret)
	for _, body := range []string{"", "  ", "{not json"} {
		m.Body = []byte(body)
		if out := dev().Send(context.Background(), m); out.Err == nil || out.StatusCode != 0 {
			t.Errorf("Send(%q) = %+v, want an error", body, out)
		}
	}
	if n := rcv.Count(); n != 0 {
		t.Errorf("the hook got %d requests, want none", n)
	}
}

func TestGoneIsReported(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	rcv.Queue(connectortest.Response{Status: http.StatusGone})
	out := dev().Send(context.Background(), connectortest.Message(rcv.URL()+"/hooks/standard/1/x", connectortest.Secret))
	if out.Err != nil || out.StatusCode != http.StatusGone {
		t.Fatalf("Send = %+v, want 410 (Zapier's unsubscribe)", out)
	}
}

func TestCheckEndpoint(t *testing.T) {
	cases := []struct {
		name  string
		ep    gateway.Endpoint
		field string // "" when valid
	}{
		{"plain", gateway.Endpoint{}, ""},
		{"with header auth and a mapping", gateway.Endpoint{EndpointSettings: gateway.EndpointSettings{Auth: &gateway.EndpointAuth{Type: "header", Name: "X-Key", Value: "v"}, Mapping: "{a: .id}"}}, ""},
		{"template", gateway.Endpoint{Settings: connectortest.Settings("template", "{{.id}}")}, "template"},
		{"api key", gateway.Endpoint{Settings: connectortest.Settings("api_key", "k")}, "api_key"},
		{"telegram settings", gateway.Endpoint{Settings: connectortest.Settings("chat_id", "1", "bot_token", "1:a")}, "bot_token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.ep.Kind, c.ep.URL = zapier.Kind, "https://hooks.zapier.com/hooks/standard/1/abc"
			err := dev().CheckEndpoint(&c.ep)
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

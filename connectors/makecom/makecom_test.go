package makecom_test

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
	"github.com/hookgate/hookgate/connectors/makecom"
	"github.com/hookgate/hookgate/gateway"
)

func dev() *makecom.Sender {
	return makecom.New(makecom.Options{Policy: gateway.URLPolicy{AllowPrivate: true}})
}

func TestSenderSuite(t *testing.T) {
	connectortest.RunSenderSuite(t, func(*testing.T, string) gateway.Sender { return dev() })
}

// webhookStandIn answers as a Make custom webhook whose API key is apiKey ("" for none):
// 401 without the right x-make-apikey, 400 for a body that is not JSON, else 200
// "Accepted". It passes on each body it accepts.
func webhookStandIn(t *testing.T, apiKey string) (string, <-chan string) {
	got := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch {
		case apiKey != "" && r.Header.Get("x-make-apikey") != apiKey:
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
		case r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
			http.Error(w, "Bad Request", http.StatusBadRequest)
		default:
			got <- string(body)
			io.WriteString(w, "Accepted")
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, got
}

func TestAccepted(t *testing.T) {
	cases := []struct {
		name, hookKey, endpointKey string
		status                     int
	}{
		{"no api key", "", "", http.StatusOK},
		{"api key sent", "mk-s3cret", "mk-s3cret", http.StatusOK},
		{"api key missing", "mk-s3cret", "", http.StatusUnauthorized},
		{"api key wrong", "mk-s3cret", "mk-other", http.StatusUnauthorized},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url, got := webhookStandIn(t, c.hookKey)
			m := connectortest.Message(url+"/abc123xyz", connectortest.Secret)
			m.Endpoint.Kind, m.Endpoint.Settings = makecom.Kind, connectortest.Settings("api_key", c.endpointKey)
			out := dev().Send(context.Background(), m)
			if out.Err != nil || out.StatusCode != c.status {
				t.Fatalf("Send = %+v, want %d", out, c.status)
			}
			if c.status != http.StatusOK {
				return
			}
			if string(out.Body) != "Accepted" {
				t.Errorf("Send body = %q, want Accepted", out.Body)
			}
			if body := <-got; body != string(m.Body) {
				t.Errorf("webhook got %s, want the envelope %s", body, m.Body)
			}
		})
	}
}

func TestAPIKeyNotLeaked(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	rcv.Close()
	m := connectortest.Message(rcv.URL()+"/abc123xyz", connectortest.Secret)
	m.Endpoint.Settings = connectortest.Settings("api_key", "mk-s3cret")
	out := dev().Send(context.Background(), m)
	if out.Err == nil {
		t.Fatalf("Send to a closed server = %+v, want an error", out)
	}
	connectortest.AssertNoSecretLeak(t, out, "mk-s3cret", "abc123xyz")
}

func TestCheckEndpoint(t *testing.T) {
	cases := []struct {
		name     string
		settings gateway.EndpointSettings
		kind     json.RawMessage // the kind's settings
		field    string          // "" when valid
		rate     float64         // the rate after a valid check
	}{
		{"defaults the rate", gateway.EndpointSettings{}, nil, "", makecom.DefaultRateLimit},
		{"keeps a lower rate", gateway.EndpointSettings{RateLimitPerS: 2.5}, nil, "", 2.5},
		{"accepts the max", gateway.EndpointSettings{RateLimitPerS: 30}, connectortest.Settings("api_key", "mk-1_2"), "", 30},
		{"over Make's rate", gateway.EndpointSettings{RateLimitPerS: 31}, nil, "rate_limit_per_s", 0},
		{"negative rate", gateway.EndpointSettings{RateLimitPerS: -1}, nil, "rate_limit_per_s", 0},
		{"api key with a newline", gateway.EndpointSettings{}, connectortest.Settings("api_key", "a\nb"), "api_key", 0},
		{"api key with a space", gateway.EndpointSettings{}, connectortest.Settings("api_key", "my key"), "", makecom.DefaultRateLimit},
		{"api key not ASCII", gateway.EndpointSettings{}, connectortest.Settings("api_key", "clé"), "api_key", 0},
		{"template", gateway.EndpointSettings{}, connectortest.Settings("template", "x"), "template", 0},
		{"bot token", gateway.EndpointSettings{}, connectortest.Settings("bot_token", "1:a"), "bot_token", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ep := &gateway.Endpoint{Kind: makecom.Kind, URL: "https://hook.eu1.make.com/abc", EndpointSettings: c.settings, Settings: c.kind}
			err := dev().CheckEndpoint(ep)
			var ve *gateway.ValidationError
			switch {
			case c.field == "" && (err != nil || ep.RateLimitPerS != c.rate):
				t.Fatalf("CheckEndpoint = %v with rate %v, want nil with rate %v", err, ep.RateLimitPerS, c.rate)
			case c.field != "" && (!errors.As(err, &ve) || ve.Field != c.field):
				t.Fatalf("CheckEndpoint = %v, want a ValidationError on %s", err, c.field)
			}
		})
	}
}

// The kind masks its own credential: the API key, keeping its last four characters.
func TestRedactSettings(t *testing.T) {
	for in, want := range map[string]string{
		`{"api_key":"mk-s3cret-0042"}`: `{"api_key":"****0042"}`,
		`{"api_key":"short"}`:          `{"api_key":"****"}`,
	} {
		if got := string(dev().RedactSettings(json.RawMessage(in))); got != want {
			t.Errorf("RedactSettings(%s) = %s, want %s", in, got, want)
		}
	}
}

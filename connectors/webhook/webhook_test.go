package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/connectortest"
	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/gateway"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func dev(t *testing.T) gateway.Sender {
	return webhook.New(webhook.Options{Policy: gateway.URLPolicy{AllowPrivate: true}})
}

func TestSenderSuite(t *testing.T) { connectortest.RunSenderSuite(t, dev, secret) }

// expectedSig computes a Standard Webhooks signature independently of the signature package.
func expectedSig(secret, id, ts string, body []byte) string {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestHeadersAndSignature(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	second := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-secret-of-24-byte"))
	m := connectortest.Message(rcv.URL()+"/hook", secret, second)
	m.Endpoint.Headers = map[string]string{"X-Team": "growth", "Authorization": "Bearer abc"}
	out := dev(t).Send(context.Background(), m)
	if out.Err != nil || out.StatusCode != 200 {
		t.Fatalf("Send = %+v", out)
	}
	r := rcv.Want(t, time.Second, 1)[0]
	h := r.Header
	checks := map[string]string{
		"Content-Type":        "application/json",
		"User-Agent":          "hookgate/" + gateway.Version,
		"X-Hookgate-Event":    "video.posted",
		"X-Hookgate-Delivery": "dlv_test",
		"Webhook-Id":          "evt_test",
		"Webhook-Timestamp":   fmt.Sprint(m.Now.Unix()),
		"X-Team":              "growth",
		"Authorization":       "Bearer abc",
	}
	for k, want := range checks {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if string(r.Body) != string(m.Body) || r.Method != "POST" || r.Path != "/hook" {
		t.Errorf("request = %s %s %s", r.Method, r.Path, r.Body)
	}
	sigs := strings.Fields(h.Get("webhook-signature"))
	ts := h.Get("webhook-timestamp")
	if len(sigs) != 2 || sigs[0] != expectedSig(secret, "evt_test", ts, r.Body) || sigs[1] != expectedSig(second, "evt_test", ts, r.Body) {
		t.Fatalf("webhook-signature = %q", h.Get("webhook-signature"))
	}
}

func TestStatusTable(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		status     int
		header     http.Header
		wantStatus int
		retryMin   time.Duration
		retryMax   time.Duration
	}{
		{200, nil, 200, 0, 0},
		{204, nil, 204, 0, 0},
		{301, http.Header{"Location": {"https://elsewhere.example/"}}, 301, 0, 0},
		{410, nil, 410, 0, 0},
		{429, http.Header{"Retry-After": {"7"}}, 429, 7 * time.Second, 7 * time.Second},
		{503, http.Header{"Retry-After": {date}}, 503, 80 * time.Second, 91 * time.Second},
		{503, http.Header{"Retry-After": {"soon"}}, 503, 0, 0},
		{500, nil, 500, 0, 0},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.status), func(t *testing.T) {
			rcv := connectortest.NewReceiver(t)
			rcv.Respond(func(int, *http.Request) connectortest.Response {
				return connectortest.Response{Status: c.status, Header: c.header}
			})
			out := dev(t).Send(context.Background(), connectortest.Message(rcv.URL(), secret))
			if out.Err != nil || out.StatusCode != c.wantStatus {
				t.Fatalf("Send = %+v, want status %d", out, c.wantStatus)
			}
			if out.RetryAfter < c.retryMin || out.RetryAfter > c.retryMax {
				t.Fatalf("RetryAfter = %s, want %s..%s", out.RetryAfter, c.retryMin, c.retryMax)
			}
			if n := len(rcv.Requests()); n != 1 {
				t.Fatalf("%d requests: a redirect was followed?", n)
			}
		})
	}
}

func TestProductionPolicyRefusesLoopbackWhenDialing(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	s := webhook.New(webhook.Options{})
	// http is refused outright without --dev.
	out := s.Send(context.Background(), connectortest.Message(rcv.URL()+"/x", secret))
	if out.Err == nil || !strings.Contains(out.Err.Error(), "https") {
		t.Fatalf("http URL = %+v, want refused", out)
	}
	// An https URL whose host resolves to loopback is refused at dial time, before any TLS.
	url := strings.Replace(rcv.URL(), "http://127.0.0.1", "https://localhost", 1) + "/x"
	out = s.Send(context.Background(), connectortest.Message(url, secret))
	if out.Err == nil || !strings.Contains(out.Err.Error(), "non-public address") {
		t.Fatalf("loopback via DNS = %+v, want refused at dial", out)
	}
	if len(rcv.Requests()) != 0 {
		t.Fatal("the receiver was reached")
	}
	// The dial decision on private and metadata addresses, without dialing them.
	var p gateway.URLPolicy
	for _, a := range []string{"10.0.0.1:443", "169.254.169.254:80", "[::1]:443", "192.168.1.1:443", "100.64.0.1:443", "172.16.5.4:443", "0.0.0.0:443"} {
		if err := p.AllowDial("tcp", a); err == nil {
			t.Errorf("AllowDial(%s) allowed", a)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 6, 24, 14, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"120":                           2 * time.Minute,
		"-3":                            0,
		"Wed, 24 Jun 2026 14:01:00 GMT": time.Minute,
		"Wed, 24 Jun 2026 13:59:00 GMT": 0,
		"later":                         0,
	} {
		if got := webhook.RetryAfter(v, now); got != want {
			t.Errorf("RetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

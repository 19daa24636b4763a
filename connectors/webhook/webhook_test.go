package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/connectortest"
	"github.com/hookgate/hookgate/connectors/webhook"
	"github.com/hookgate/hookgate/gateway"
)

const (
	secret = connectortest.Secret
	second = "whsec_c2Vjb25kLXNlY3JldC1vZi0yNC1ieXRlcw=="
)

// dev returns a Sender allowed to reach the loopback receivers of these tests.
func dev() *webhook.Sender {
	return webhook.New(webhook.Options{Policy: gateway.URLPolicy{AllowPrivate: true}})
}

func TestSenderSuite(t *testing.T) {
	connectortest.RunSenderSuite(t, func(*testing.T, string) gateway.Sender { return dev() })
}

// expectedSig computes a Standard Webhooks signature by hand, independently of the
// signature package.
func expectedSig(t *testing.T, secret, id, ts string, body []byte) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestHeadersAndSignature(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	m := connectortest.Message(rcv.URL()+"/hook?team=growth", secret, second)
	m.Endpoint.Headers = map[string]string{
		"X-Team":        "growth",
		"Authorization": "Bearer abc",
		// The endpoint's headers cannot forge or replace hookgate's own.
		"Webhook-Signature":   "v1,forged",
		"webhook-id":          "evt_forged",
		"User-Agent":          "curl/8",
		"X-Hookgate-Delivery": "dlv_forged",
	}
	out := dev().Send(context.Background(), m)
	if out.Err != nil || out.StatusCode != http.StatusOK {
		t.Fatalf("Send = %+v, want 200", out)
	}
	r := rcv.Want(t, 5*time.Second, 1)[0]
	if r.Method != http.MethodPost || r.Path != "/hook" || r.Query != "team=growth" || string(r.Body) != string(m.Body) {
		t.Errorf("request = %s %s?%s %s, want POST /hook?team=growth with the envelope", r.Method, r.Path, r.Query, r.Body)
	}
	ts := strconv.FormatInt(m.Now.Unix(), 10)
	want := map[string]string{
		"Content-Type":        "application/json",
		"User-Agent":          "hookgate/" + gateway.Version,
		"X-Hookgate-Event":    "video.posted",
		"X-Hookgate-Delivery": "dlv_test",
		"Webhook-Id":          "evt_test",
		"Webhook-Timestamp":   ts,
		"Webhook-Signature":   expectedSig(t, secret, "evt_test", ts, r.Body) + " " + expectedSig(t, second, "evt_test", ts, r.Body),
		"X-Team":              "growth",
		"Authorization":       "Bearer abc",
	}
	for k, v := range want {
		if got := r.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("header %s = %q, want [%q]", k, got, v)
		}
	}
}

func TestRetryKeepsWebhookID(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	s := dev()
	first := connectortest.Message(rcv.URL(), secret)
	retry := connectortest.Message(rcv.URL(), secret)
	retry.Attempt, retry.Now = 2, first.Now.Add(5*time.Second)
	s.Send(context.Background(), first)
	s.Send(context.Background(), retry)
	reqs := rcv.Want(t, 5*time.Second, 2)
	a, b := reqs[0].Header, reqs[1].Header
	if a.Get("webhook-id") != "evt_test" || b.Get("webhook-id") != "evt_test" {
		t.Errorf("webhook-id = %q then %q, want evt_test both times", a.Get("webhook-id"), b.Get("webhook-id"))
	}
	if a.Get("webhook-timestamp") == b.Get("webhook-timestamp") || a.Get("webhook-signature") == b.Get("webhook-signature") {
		t.Errorf("a retry 5 s later was sent with the same timestamp and signature")
	}
}

func TestSigningSecretsDuringRotation(t *testing.T) {
	now := time.Now()
	later, earlier := now.Add(time.Hour), now.Add(-time.Hour)
	cases := []struct {
		name    string
		secrets []gateway.Secret
		want    []string
	}{
		{"one", []gateway.Secret{{Value: secret}}, []string{secret}},
		{"rotated, old still in grace", []gateway.Secret{{Value: second}, {Value: secret, Expires: &later}}, []string{second, secret}},
		{"rotated, old expired", []gateway.Secret{{Value: second}, {Value: secret, Expires: &earlier}}, []string{second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rcv := connectortest.NewReceiver(t)
			m := connectortest.Message(rcv.URL())
			m.Endpoint.Secrets, m.Now = c.secrets, now
			if out := dev().Send(context.Background(), m); out.Err != nil {
				t.Fatalf("Send = %+v", out)
			}
			r := rcv.Want(t, 5*time.Second, 1)[0]
			ts := strconv.FormatInt(now.Unix(), 10)
			var want []string
			for _, s := range c.want {
				want = append(want, expectedSig(t, s, "evt_test", ts, r.Body))
			}
			if got := r.Header.Get("webhook-signature"); got != strings.Join(want, " ") {
				t.Fatalf("webhook-signature = %q, want %q", got, strings.Join(want, " "))
			}
		})
	}
}

func TestStatusToOutcome(t *testing.T) {
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		name       string
		resp       connectortest.Response
		retryAfter [2]time.Duration // min, max
	}{
		{"200", connectortest.Response{Status: 200, Body: `{"ok":true}`}, [2]time.Duration{}},
		{"204", connectortest.Response{Status: 204}, [2]time.Duration{}},
		{"301 not followed", connectortest.Response{Status: 301, Header: http.Header{"Location": {"/followed"}}}, [2]time.Duration{}},
		// A redirect is an answer, whatever its Location says (http.Client would fail the
		// request on one it can't parse, before asking whether to follow it).
		{"302 to an unparsable Location", connectortest.Response{Status: 302, Header: http.Header{"Location": {"http://ex ample.com/x"}}}, [2]time.Duration{}},
		{"307 to elsewhere, not followed", connectortest.Response{Status: 307, Header: http.Header{"Location": {"http://127.0.0.1:9/elsewhere"}}}, [2]time.Duration{}},
		{"410 gone", connectortest.Response{Status: 410, Body: "unsubscribed"}, [2]time.Duration{}},
		{"429 seconds", connectortest.Response{Status: 429, Header: http.Header{"Retry-After": {"7"}}}, [2]time.Duration{7 * time.Second, 7 * time.Second}},
		{"503 date", connectortest.Response{Status: 503, Header: http.Header{"Retry-After": {date}}}, [2]time.Duration{80 * time.Second, 91 * time.Second}},
		{"503 garbage", connectortest.Response{Status: 503, Header: http.Header{"Retry-After": {"soon"}}}, [2]time.Duration{}},
		{"500", connectortest.Response{Status: 500, Body: "boom"}, [2]time.Duration{}},
		{"200 with Retry-After", connectortest.Response{Status: 200, Header: http.Header{"Retry-After": {"3"}}}, [2]time.Duration{3 * time.Second, 3 * time.Second}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rcv := connectortest.NewReceiver(t)
			rcv.Queue(c.resp)
			out := dev().Send(context.Background(), connectortest.Message(rcv.URL()+"/hook", secret))
			if out.Err != nil || out.StatusCode != c.resp.Status || string(out.Body) != c.resp.Body {
				t.Fatalf("Send = {%d %q %v}, want {%d %q <nil>}", out.StatusCode, out.Body, out.Err, c.resp.Status, c.resp.Body)
			}
			if out.RetryAfter < c.retryAfter[0] || out.RetryAfter > c.retryAfter[1] {
				t.Errorf("RetryAfter = %s, want %s..%s", out.RetryAfter, c.retryAfter[0], c.retryAfter[1])
			}
			if n := rcv.Count(); n != 1 {
				t.Errorf("receiver got %d requests, want 1", n)
			}
		})
	}
}

func TestTimeoutKeepsDeadlineExceeded(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	rcv.Queue(connectortest.Response{Delay: time.Minute})
	// The dispatcher's way: a timeout with a cause; the Outcome must still say DeadlineExceeded.
	ctx, cancel := context.WithTimeoutCause(context.Background(), 100*time.Millisecond, errors.New("endpoint timeout (100ms)"))
	defer cancel()
	start := time.Now()
	out := dev().Send(ctx, connectortest.Message(rcv.URL()+"/hook", secret))
	if !errors.Is(out.Err, context.DeadlineExceeded) || out.StatusCode != 0 || time.Since(start) > 5*time.Second {
		t.Fatalf("Send = %+v after %s, want DeadlineExceeded promptly", out, time.Since(start))
	}
}

func TestProductionPolicy(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	port := rcv.URL()[strings.LastIndex(rcv.URL(), ":")+1:]
	s := webhook.New(webhook.Options{}) // the zero Policy: production
	cases := []struct {
		name, url, wantErr string
	}{
		{"http refused without --dev", rcv.URL() + "/hook", "only https"},
		{"loopback literal refused at dial", "https://127.0.0.1:" + port + "/hook", "non-public address 127.0.0.1"},
		{"name resolving to loopback refused at dial", "https://localhost:" + port + "/hook", "non-public address"},
		{"not a URL", "https://bad host/hook", "not an absolute URL"},
		{"other scheme", "ftp://example.com/hook", "only https"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := s.Send(context.Background(), connectortest.Message(c.url, secret))
			if out.Err == nil || !strings.Contains(out.Err.Error(), c.wantErr) || out.StatusCode != 0 {
				t.Fatalf("Send(%s) = %+v, want an error containing %q", c.url, out, c.wantErr)
			}
			connectortest.AssertNoSecretLeak(t, out, "/hook", secret)
		})
	}
	if n := rcv.Count(); n != 0 {
		t.Fatalf("the receiver was reached %d times", n)
	}
}

// TestDialGuard checks the dial decision of the shared client on forbidden addresses. The
// check runs in the dialer's Control hook, after the socket is made and before it
// connects, so no packet is sent to these addresses.
func TestDialGuard(t *testing.T) {
	tr := webhook.NewClient(gateway.URLPolicy{}).Transport.(*http.Transport)
	for _, addr := range []string{
		"127.0.0.1:443", "10.0.0.1:443", "172.16.5.4:443", "192.168.1.1:443", "100.64.0.1:443",
		"169.254.169.254:80", "0.0.0.0:443", "[::1]:443", "[fd00::1]:443", "[fe80::1]:443",
		"[::ffff:10.0.0.1]:443", "[::ffff:127.0.0.1]:443",
	} {
		conn, err := tr.DialContext(context.Background(), "tcp", addr)
		if err == nil {
			conn.Close()
			t.Errorf("dial %s: connected, want refused", addr)
			continue
		}
		if !strings.Contains(err.Error(), "non-public address") {
			t.Errorf("dial %s: %v, want refused as non-public", addr, err)
		}
	}
	// The dev policy lets the same client reach loopback.
	rcv := connectortest.NewReceiver(t)
	devTr := webhook.NewClient(gateway.URLPolicy{AllowPrivate: true}).Transport.(*http.Transport)
	conn, err := devTr.DialContext(context.Background(), "tcp", strings.TrimPrefix(rcv.URL(), "http://"))
	if err != nil {
		t.Fatalf("dev policy dial loopback: %v", err)
	}
	conn.Close()
}

func TestErrorsLeakNoSecret(t *testing.T) {
	closed := connectortest.NewReceiver(t)
	closed.Close()
	live := connectortest.NewReceiver(t)
	host := strings.TrimPrefix(closed.URL(), "http://")
	cases := []struct {
		name    string
		url     string
		secret  string
		headers map[string]string
	}{
		{"refused connection", "http://alice:pa55word@" + host + "/hooks/catch/42/t0ken?api_key=qu3ry", secret, nil},
		{"unparsable URL", "http://" + host + "/hooks/t0ken\n?api_key=qu3ry", secret, nil},
		{"invalid secret", live.URL() + "/hooks/t0ken", "whsec_!!not-base64-pa55word", nil},
		{"invalid header value", live.URL() + "/hooks/t0ken", secret, map[string]string{"Authorization": "Bearer pa55word\r\nX: y"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := connectortest.Message(c.url, c.secret)
			m.Endpoint.Headers = c.headers
			out := dev().Send(context.Background(), m)
			if out.Err == nil {
				t.Fatalf("Send = %+v, want an error", out)
			}
			connectortest.AssertNoSecretLeak(t, out, "t0ken", "qu3ry", "pa55word", "alice", "hooks/", c.secret, strings.TrimPrefix(c.secret, "whsec_"))
			t.Logf("error: %v", out.Err)
		})
	}
	if n := live.Count(); n != 0 {
		t.Errorf("a failed request reached the receiver %d times", n)
	}
}

func TestConcurrentSends(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	s := dev()
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			m := connectortest.Message(rcv.URL(), secret)
			m.Delivery.ID = fmt.Sprint("dlv_", i)
			if out := s.Send(context.Background(), m); out.Err != nil || out.StatusCode != 200 {
				t.Errorf("Send %d = %+v", i, out)
			}
		})
	}
	wg.Wait()
	if n := len(rcv.Want(t, 5*time.Second, 50)); n != 50 {
		t.Fatalf("receiver got %d requests, want 50", n)
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 6, 24, 14, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"120", 2 * time.Minute},
		{" 5 ", 5 * time.Second},
		{"-3", 0},
		{"1.5", 0},
		{"99999999999999999999", 0},
		{"9223372036854775807", time.Duration(9223372036) * time.Second},
		{"Wed, 24 Jun 2026 14:01:00 GMT", time.Minute},
		{"Wednesday, 24-Jun-26 14:01:00 GMT", time.Minute},
		{"Wed, 24 Jun 2026 13:59:00 GMT", 0},
		{"later", 0},
	}
	for _, c := range cases {
		if got := webhook.RetryAfter(c.in, now); got != c.want {
			t.Errorf("RetryAfter(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func TestEndpointAuth(t *testing.T) {
	cases := []struct {
		name       string
		auth       *gateway.EndpointAuth
		header     string
		want       string
		user, pass string
	}{
		{name: "header", auth: &gateway.EndpointAuth{Type: "header", Name: "X-N8N-Key", Value: "k3y"}, header: "X-N8N-Key", want: "k3y"},
		{name: "header replaces an endpoint header", auth: &gateway.EndpointAuth{Type: "header", Name: "x-team", Value: "auth"}, header: "X-Team", want: "auth"},
		{name: "basic", auth: &gateway.EndpointAuth{Type: "basic", Username: "alice", Password: "pa55"}, user: "alice", pass: "pa55"},
		{name: "none", header: "Authorization", want: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rcv := connectortest.NewReceiver(t)
			m := connectortest.Message(rcv.URL()+"/hook", secret)
			m.Endpoint.Headers = map[string]string{"X-Team": "growth"}
			m.Endpoint.Auth = c.auth
			if out := dev().Send(context.Background(), m); out.Err != nil || out.StatusCode != http.StatusOK {
				t.Fatalf("Send = %+v, want 200", out)
			}
			r := rcv.Want(t, 5*time.Second, 1)[0]
			if c.user != "" {
				req := &http.Request{Header: r.Header}
				if user, pass, ok := req.BasicAuth(); !ok || user != c.user || pass != c.pass {
					t.Errorf("basic auth = %q %q %v, want %q %q", user, pass, ok, c.user, c.pass)
				}
				return
			}
			if got := r.Header.Values(c.header); strings.Join(got, ",") != c.want {
				t.Errorf("header %s = %q, want %q", c.header, got, c.want)
			}
		})
	}
}

// User info in the URL is sent as basic auth, as http.Client sends it, unless the request
// already has an Authorization header (the endpoint's own, or its auth).
func TestURLUserInfoIsBasicAuth(t *testing.T) {
	for _, c := range []struct {
		name    string
		headers map[string]string
		want    string
	}{
		{"user info only", nil, "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:pa55 word"))},
		{"an Authorization header wins", map[string]string{"authorization": "Bearer t0ken"}, "Bearer t0ken"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rcv := connectortest.NewReceiver(t)
			m := connectortest.Message(strings.Replace(rcv.URL(), "http://", "http://alice:pa55%20word@", 1)+"/hook", secret)
			m.Endpoint.Headers = c.headers
			if out := dev().Send(context.Background(), m); out.Err != nil || out.StatusCode != http.StatusOK {
				t.Fatalf("Send = %+v, want 200", out)
			}
			if got := rcv.Want(t, 5*time.Second, 1)[0].Header.Values("Authorization"); len(got) != 1 || got[0] != c.want {
				t.Errorf("Authorization = %q, want [%q]", got, c.want)
			}
		})
	}
}

func TestPostHeaderOrder(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	m := connectortest.Message(rcv.URL()+"/hook", secret)
	m.Endpoint.Headers = map[string]string{"X-Make-Apikey": "from-headers", "X-Other": "kept"}
	m.Endpoint.Auth = &gateway.EndpointAuth{Type: "header", Name: "X-Auth", Value: "a"}
	// A kind's own header beats the endpoint's headers and loses to hookgate's own.
	extra := http.Header{"X-Make-Apikey": {"from-kind"}, "X-Auth": {"from-kind"}, "Webhook-Id": {"forged"}}
	body := []byte(`{"text":"hi"}`)
	if out := dev().Post(context.Background(), m, rcv.URL()+"/other?x=1", body, extra); out.Err != nil {
		t.Fatalf("Post = %+v", out)
	}
	r := rcv.Want(t, 5*time.Second, 1)[0]
	if r.Path != "/other" || r.Query != "x=1" || string(r.Body) != string(body) {
		t.Errorf("request = %s?%s %s, want /other?x=1 %s", r.Path, r.Query, r.Body, body)
	}
	for k, v := range map[string]string{"X-Make-Apikey": "from-kind", "X-Other": "kept", "X-Auth": "a", "Webhook-Id": "evt_test"} {
		if got := r.Header.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("header %s = %q, want [%q]", k, got, v)
		}
	}
	ts := strconv.FormatInt(m.Now.Unix(), 10)
	if got, want := r.Header.Get("webhook-signature"), expectedSig(t, secret, "evt_test", ts, body); got != want {
		t.Errorf("webhook-signature = %q, want %q (over the body posted)", got, want)
	}
}

package connectortest_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/connectors/connectortest"
	"github.com/hookgate/hookgate/gateway"
)

func post(t *testing.T, url, body string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestReceiverScript(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	rcv.Respond(func(n int, r *http.Request) connectortest.Response {
		return connectortest.Response{Status: 500 + n, Body: r.URL.Path}
	})
	rcv.Queue(connectortest.Response{Status: 429, Header: http.Header{"Retry-After": {"7"}}},
		connectortest.Response{Body: "second"})
	cases := []struct {
		path       string
		status     int
		body       string
		retryAfter string
	}{
		{"/a", 429, "", "7"},      // queued first
		{"/b", 200, "second", ""}, // queued, zero Status is 200
		{"/c", 503, "/c", ""},     // then the function, n = 3
	}
	for _, c := range cases {
		status, h, body := post(t, rcv.URL()+c.path+"?x=1", `{"n":1}`)
		if status != c.status || body != c.body || h.Get("Retry-After") != c.retryAfter {
			t.Errorf("POST %s = %d %q (Retry-After %q), want %d %q (%q)", c.path, status, body, h.Get("Retry-After"), c.status, c.body, c.retryAfter)
		}
	}
	reqs := rcv.Requests()
	if len(reqs) != 3 || rcv.Count() != 3 {
		t.Fatalf("Requests = %d, Count = %d, want 3", len(reqs), rcv.Count())
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.Path != "/a" || r.Query != "x=1" || string(r.Body) != `{"n":1}` ||
		r.Header.Get("Content-Type") != "application/json" || r.At.IsZero() {
		t.Errorf("recorded %+v", r)
	}
}

func TestReceiverWantPolls(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			time.Sleep(time.Duration(i) * time.Millisecond) // arrivals spread out
			post(t, rcv.URL(), fmt.Sprint(i))
		})
	}
	if got := len(rcv.Want(t, 5*time.Second, 20)); got != 20 {
		t.Errorf("Want = %d requests, want 20", got)
	}
	wg.Wait()
}

func TestReceiverWantFailsInTime(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	ft := &fakeT{TB: t}
	done := make(chan struct{})
	start := time.Now()
	go func() { // Want calls Fatalf, which ends its goroutine
		defer close(done)
		rcv.Want(ft, 50*time.Millisecond, 1)
	}()
	<-done
	if ft.failures() == 0 || time.Since(start) > 2*time.Second {
		t.Fatalf("Want with no request: %d failures after %s, want one after ~50ms", ft.failures(), time.Since(start))
	}
}

func TestReceiverCloseCutsDelayShort(t *testing.T) {
	rcv := connectortest.NewReceiver(t)
	rcv.Queue(connectortest.Response{Delay: time.Minute})
	errc := make(chan error, 1)
	go func() {
		resp, err := http.Post(rcv.URL(), "text/plain", nil)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	rcv.Want(t, 5*time.Second, 1)
	start := time.Now()
	rcv.Close()
	rcv.Close() // harmless
	<-errc
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %s with a delayed answer pending", d)
	}
}

func TestAssertNoSecretLeak(t *testing.T) {
	cases := []struct {
		name    string
		out     gateway.Outcome
		secrets []string
		fails   bool
	}{
		{"no error", gateway.Outcome{StatusCode: 200, Body: []byte("tok")}, []string{"tok"}, false},
		{"clean error", gateway.Outcome{Err: errors.New("POST https://hooks.zapier.com/<redacted>: timeout")}, []string{"tok", ""}, false},
		{"leaked path", gateway.Outcome{Err: errors.New("POST https://hooks.zapier.com/hooks/catch/1/tok: timeout")}, []string{"tok"}, true},
		{"leaked secret", gateway.Outcome{Err: fmt.Errorf("sign: bad key whsec_abc: %w", errors.New("x"))}, []string{"", "whsec_abc"}, true},
	}
	for _, c := range cases {
		ft := &fakeT{TB: t}
		connectortest.AssertNoSecretLeak(ft, c.out, c.secrets...)
		if got := ft.failures() > 0; got != c.fails {
			t.Errorf("%s: failed = %v, want %v", c.name, got, c.fails)
		}
	}
}

func TestMessage(t *testing.T) {
	m := connectortest.Message("https://example.com/hook", connectortest.Secret, "whsec_b2xk")
	if m.Endpoint.URL != "https://example.com/hook" || len(m.Endpoint.SigningSecrets(m.Now)) != 2 ||
		m.Event.ID != "evt_test" || m.Delivery.ID != "dlv_test" || !strings.Contains(string(m.Body), `"id":"evt_test"`) {
		t.Fatalf("Message = %+v", m)
	}
}

// fakeT records failures instead of failing the real test.
type fakeT struct {
	testing.TB
	mu sync.Mutex
	n  int
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(string, ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.n++
}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.Errorf(format, args...)
	runtime.Goexit()
}
func (f *fakeT) failures() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

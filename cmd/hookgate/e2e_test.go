package main

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookgate/hookgate/queue/jetstream/jstest"
)

// binary is the hookgate binary built once for the tests that run the real process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookgate-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hookgate")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const e2eToken = "e2e-token"

// proc is a running hookgate serve.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
	mu   *sync.Mutex
}

// listenRE finds the listen address in the start-up line, text or JSON.
var listenRE = regexp.MustCompile(`"hookgate listening"(?: addr=|,"addr":")([^"\s]+)`)

// startServe runs `hookgate serve` on dir and waits until it answers /healthz.
func startServe(t *testing.T, dir string, extra ...string) *proc {
	t.Helper()
	return startProc(t, exec.Command(binary, serveArgs(dir, extra...)...))
}

// serveArgs are the arguments of `hookgate serve` on dir for the tests.
func serveArgs(dir string, extra ...string) []string {
	return append([]string{"serve", "--addr", "127.0.0.1:0", "--data", dir, "--dev"}, extra...)
}

// startProc starts cmd, a hookgate serve, and waits until it answers /healthz. Unless cmd
// has an environment of its own, the API token is e2eToken.
func startProc(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	if cmd.Env == nil {
		cmd.Env = append(os.Environ(), "HOOKGATE_API_TOKEN="+e2eToken)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, logs: &bytes.Buffer{}, mu: &sync.Mutex{}}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() { p.kill() })
	select {
	case a := <-addr:
		p.url = "http://" + a
	case <-time.After(30 * time.Second):
		p.mu.Lock()
		defer p.mu.Unlock()
		t.Fatalf("hookgate did not start:\n%s", p.logs)
	}
	for i := 0; ; i++ {
		resp, err := http.Get(p.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if i > 200 {
			t.Fatalf("healthz never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Signal(syscall.SIGKILL)
		p.cmd.Wait()
	}
}

// call sends an API request and decodes the JSON answer into out (if not nil).
func (p *proc) call(method, path string, body any, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url+path, r)
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

// receiver records the event ids it is sent and checks every signature with code of its own.
type receiver struct {
	srv    *httptest.Server
	secret atomic.Value // string
	mu     sync.Mutex
	seen   map[string]int
	bad    []string
	delay  time.Duration
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{seen: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	var env struct{ ID, Type string }
	json.Unmarshal(body, &env)
	problem := ""
	if secret, _ := r.secret.Load().(string); secret != "" {
		// Standard Webhooks, written out here independently of the production signer.
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		mac := hmac.New(sha256.New, key)
		fmt.Fprintf(mac, "%s.%s.%s", req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp"), body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !strings.Contains(" "+req.Header.Get("webhook-signature")+" ", " "+want+" ") {
			problem = "bad signature on " + env.ID
		}
	}
	if req.Header.Get("webhook-id") != env.ID || req.Header.Get("X-Hookgate-Event") != env.Type || !strings.HasPrefix(req.Header.Get("User-Agent"), "hookgate/") || req.Header.Get("X-Hookgate-Delivery") == "" {
		problem = fmt.Sprintf("headers of %s: %v", env.ID, req.Header)
	}
	r.mu.Lock()
	r.seen[env.ID]++
	if problem != "" {
		r.bad = append(r.bad, problem)
	}
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) count(ids []string) (missing int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range ids {
		if r.seen[id] == 0 {
			missing++
		}
	}
	return missing
}

func createEndpoint(t *testing.T, p *proc, r *receiver) {
	t.Helper()
	var ep struct{ ID, Secret string }
	st, err := p.call("POST", "/v1/endpoints", map[string]any{"url": r.srv.URL + "/hook", "events": []string{"*"}}, &ep)
	if err != nil || st != 201 {
		t.Fatalf("create endpoint = %d, %v", st, err)
	}
	r.secret.Store(ep.Secret)
}

// TestServePublishReceiveSigned runs serve on each store (--store badger, the default,
// memory, and nats:// on an embedded NATS server, named by the flag or by $NATS_URL) and
// sends one event through it.
func TestServePublishReceiveSigned(t *testing.T) {
	for _, store := range []string{"badger", "memory", "nats", "nats-env"} {
		t.Run(store, func(t *testing.T) {
			var p *proc
			switch store {
			case "nats":
				p = startServe(t, t.TempDir(), "--store", jstest.Start(t).URL(), "--nats-replicas", "1")
			case "nats-env":
				cmd := exec.Command(binary, serveArgs(t.TempDir(), "--store", "nats")...)
				cmd.Env = append(os.Environ(), "HOOKGATE_API_TOKEN="+e2eToken, "NATS_URL="+jstest.Start(t).URL())
				p = startProc(t, cmd)
			default:
				p = startServe(t, t.TempDir(), "--store", store)
			}
			if strings.HasPrefix(store, "nats") && !strings.Contains(p.logText(), "created the JetStream stream") {
				t.Errorf("serve --store nats did not say what it created:\n%s", p.logText())
			}
			r := newReceiver(t)
			createEndpoint(t, p, r)
			var res struct {
				ID         string
				Deliveries int
			}
			st, err := p.call("POST", "/v1/events", map[string]any{"type": "video.posted", "data": json.RawMessage(videoPosted)}, &res)
			if err != nil || st != 202 || res.Deliveries != 1 {
				t.Fatalf("publish = %d %+v %v", st, res, err)
			}
			deadline := time.Now().Add(10 * time.Second)
			for r.count([]string{res.ID}) > 0 {
				if time.Now().After(deadline) {
					t.Fatal("event never arrived")
				}
				time.Sleep(10 * time.Millisecond)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if len(r.bad) > 0 {
				t.Fatalf("receiver problems: %v", r.bad)
			}
		})
	}
}

// TestKill9LosesNothingAcknowledged publishes 2,000 events, SIGKILLs the gateway in the
// middle, restarts it on the same folder and checks every acknowledged event arrives.
func TestKill9LosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test")
	}
	dir := t.TempDir()
	// Few delivery workers and a slow receiver: a backlog, with attempts in flight, when
	// the kill lands.
	p := startServe(t, dir, "--concurrency", "4")
	r := newReceiver(t)
	r.delay = 5 * time.Millisecond
	createEndpoint(t, p, r)

	const total = 2000
	var (
		mu     sync.Mutex
		acked  []string
		next   atomic.Int64
		wg     sync.WaitGroup
		killed = make(chan struct{})
		once   sync.Once
	)
	client := &http.Client{Timeout: 5 * time.Second}
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > total {
					return
				}
				id := fmt.Sprintf("evt_crash_%04d", i)
				body := fmt.Sprintf(`{"type":"app.crash_test","id":%q,"data":{"n":%d}}`, id, i)
				req, _ := http.NewRequest("POST", p.url+"/v1/events", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+e2eToken)
				resp, err := client.Do(req)
				if err != nil {
					continue // the gateway is dead: not acknowledged
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 202 {
					// Anything but an acknowledgement from a live gateway is a bug; stop
					// the producers so the test fails at once instead of waiting.
					once.Do(func() {
						t.Errorf("publish %s = %d", id, resp.StatusCode)
						p.cmd.Process.Signal(syscall.SIGKILL)
						close(killed)
					})
					return
				}
				mu.Lock()
				acked = append(acked, id)
				n := len(acked)
				mu.Unlock()
				if n == total*3/4 {
					once.Do(func() {
						p.cmd.Process.Signal(syscall.SIGKILL)
						close(killed)
					})
				}
			}
		}()
	}
	wg.Wait()
	<-killed
	p.cmd.Wait()
	mu.Lock()
	ackedNow := append([]string(nil), acked...)
	mu.Unlock()
	if len(ackedNow) < total*3/4 {
		t.Fatalf("only %d events acknowledged before the kill", len(ackedNow))
	}
	backlog := r.count(ackedNow)
	t.Logf("%d events acknowledged, %d not yet received at the kill", len(ackedNow), backlog)
	if backlog == 0 {
		t.Fatal("everything was delivered before the kill: the test proves nothing")
	}

	p2 := startServe(t, dir)
	// The producer retries what was never acknowledged; some of it may have been stored
	// just before the kill, in which case the retry is a 200 duplicate.
	isAcked := map[string]bool{}
	for _, id := range ackedNow {
		isAcked[id] = true
	}
	all := append([]string(nil), ackedNow...)
	for i := 1; i <= total; i++ {
		id := fmt.Sprintf("evt_crash_%04d", i)
		if isAcked[id] {
			continue
		}
		st, err := p2.call("POST", "/v1/events", map[string]any{"type": "app.crash_test", "id": id, "data": map[string]any{"n": i}}, nil)
		if err != nil || (st != 202 && st != 200) {
			t.Fatalf("republish %s = %d, %v", id, st, err)
		}
		all = append(all, id)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		missing := r.count(all)
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d events never arrived after the restart", missing, len(all))
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	dups := 0
	for _, n := range r.seen {
		if n > 1 {
			dups++
		}
	}
	t.Logf("all %d events arrived; %d were delivered more than once (in flight at the kill)", len(all), dups)
	if len(r.bad) > 0 {
		t.Fatalf("receiver problems: %v", r.bad[:min(5, len(r.bad))])
	}
}

func TestGracefulShutdownOnSIGTERM(t *testing.T) {
	p := startServe(t, t.TempDir())
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit within 20 s of SIGTERM")
	}
}

func TestFirstStartGeneratesToken(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", dir)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HOOKGATE_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	stdout := &syncBuffer{}
	cmd.Stdout = stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGKILL); cmd.Wait() }()
	path := filepath.Join(dir, "api-token")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
			if fi.Mode().Perm() != 0o600 {
				t.Fatalf("token file mode = %v, want 0600", fi.Mode().Perm())
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no token file")
		}
		time.Sleep(20 * time.Millisecond)
	}
	tok, _ := os.ReadFile(path)
	for !strings.Contains(stdout.String(), strings.TrimSpace(string(tok))) {
		if time.Now().After(deadline) {
			t.Fatalf("token not printed; stdout = %q", stdout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRetriesOverHTTP: a receiver answering 500 twice and then 200 gets three attempts at
// the configured schedule, all visible in the attempt log; a 410 disables the endpoint.
func TestRetriesOverHTTP(t *testing.T) {
	p := startServe(t, t.TempDir(), "--retry-schedule", "0s,300ms,300ms,300ms")
	var (
		mu    sync.Mutex
		times []time.Time
		mode  = "flaky"
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		times = append(times, time.Now())
		switch {
		case mode == "gone":
			w.WriteHeader(http.StatusGone)
		case len(times) <= 2:
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "try later")
		default:
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	var ep struct{ ID string }
	if st, err := p.call("POST", "/v1/endpoints", map[string]any{"url": srv.URL, "events": []string{"*"}}, &ep); st != 201 {
		t.Fatalf("create endpoint = %d, %v", st, err)
	}
	var ev struct{ ID string }
	if st, err := p.call("POST", "/v1/events", map[string]any{"type": "app.report_ready", "data": map[string]any{}}, &ev); st != 202 {
		t.Fatalf("publish = %d, %v", st, err)
	}

	var got struct {
		Deliveries []struct {
			ID       string
			Status   string
			Attempts []struct {
				StatusCode   int    `json:"status_code"`
				ResponseBody string `json:"response_body"`
			}
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		p.call("GET", "/v1/events/"+ev.ID, nil, &got)
		if len(got.Deliveries) == 1 && got.Deliveries[0].Status == "succeeded" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery never succeeded: %+v", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	atts := got.Deliveries[0].Attempts
	if len(atts) != 3 || atts[0].StatusCode != 500 || atts[1].StatusCode != 500 || atts[2].StatusCode != 200 || atts[0].ResponseBody != "try later" {
		t.Fatalf("attempt log = %+v", atts)
	}
	mu.Lock()
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 240*time.Millisecond {
			t.Errorf("attempt %d came %s after the previous; schedule is 300ms ±20%%", i+1, gap)
		}
	}
	mode = "gone"
	mu.Unlock()

	if st, err := p.call("POST", "/v1/events", map[string]any{"type": "app.report_ready", "data": map[string]any{}}, nil); st != 202 {
		t.Fatalf("publish = %d, %v", st, err)
	}
	for {
		var e struct {
			Enabled        bool   `json:"enabled"`
			DisabledReason string `json:"disabled_reason"`
		}
		p.call("GET", "/v1/endpoints/"+ep.ID, nil, &e)
		if !e.Enabled && strings.Contains(e.DisabledReason, "410") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("410 did not disable the endpoint: %+v", e)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

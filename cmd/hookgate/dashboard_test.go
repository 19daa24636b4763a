package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// screenshots, when set, makes TestDashboardInBrowser write its screenshots into docs/ (the
// README shows them): go test ./cmd/hookgate -run TestDashboardInBrowser -screenshots
var screenshots = flag.Bool("screenshots", false, "write the dashboard test's screenshots into docs/")

// findBrowser returns a Chromium or Chrome binary, or "" when there is none.
func findBrowser() string {
	if p := os.Getenv("HOOKGATE_BROWSER"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// flakyReceiver answers with the status in code; while hold is set it keeps each request
// waiting until release is closed.
type flakyReceiver struct {
	srv  *httptest.Server
	code atomic.Int32
	hits atomic.Int32
	hold chan struct{}
}

func newFlakyReceiver(t *testing.T) *flakyReceiver {
	r := &flakyReceiver{hold: make(chan struct{})}
	r.code.Store(200)
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-r.hold:
		case <-req.Context().Done():
			return
		}
		r.hits.Add(1)
		code := int(r.code.Load())
		w.WriteHeader(code)
		if code >= 400 {
			fmt.Fprint(w, "receiver is down for the test")
		}
	}))
	t.Cleanup(func() {
		select {
		case <-r.hold:
		default:
			close(r.hold)
		}
		r.srv.Close()
	})
	return r
}

// TestDashboardInBrowser drives the dashboard in a real headless Chromium against the built
// binary: sign in, create an endpoint, Send test and watch it succeed without a reload, a
// failure with its status code and error, Retry, Disable and Enable releasing a paused
// delivery, a new event appearing without a reload, an event's payload, copying a source
// URL, the endpoint page at phone width, and signing out.
func TestDashboardInBrowser(t *testing.T) {
	exe := findBrowser()
	if exe == "" {
		t.Skip("no Chromium or Chrome binary found (looked for chromium, chromium-browser, google-chrome, headless-shell, $HOOKGATE_BROWSER): install Debian's chromium (apt-get install -y chromium) to run the dashboard's browser test")
	}
	shots := t.TempDir()
	if *screenshots {
		shots = filepath.Join("..", "..", "docs")
	}
	p := startServe(t, t.TempDir(), "--retry-schedule", "0s", "--disable-after", "100")
	recv := newFlakyReceiver(t)
	var src struct{ ID string }
	if st, err := p.call("POST", "/v1/sources", map[string]any{"name": "shop", "provider": "generic", "verify": map[string]any{"type": "none"}, "mapping": "{type: .t, data: .}"}, &src); err != nil || st != 201 {
		t.Fatalf("create source = %d, %v", st, err)
	}

	alloc, cancel := chromedp.NewExecAllocator(t.Context(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.WindowSize(1280, 900), chromedp.Flag("disable-dev-shm-usage", true))...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	// The first Run starts the browser, on a context without a timeout (it would stop the
	// browser); each step after it is bounded.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	step := func(what string, f func(ctx context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		if err := f(ctx); err != nil {
			p.mu.Lock()
			defer p.mu.Unlock()
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, p.logs)
		}
	}
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		step(what, func(ctx context.Context) error { return chromedp.Do(ctx, actions...) })
	}
	text := func(what string, sel chromedp.CSS) (s string) {
		t.Helper()
		step(what, func(ctx context.Context) (err error) { s, err = chromedp.Run(ctx, chromedp.Text(sel)); return err })
		return s
	}
	evalBool := func(what, js string) (b bool) {
		t.Helper()
		step(what, func(ctx context.Context) (err error) {
			b, err = chromedp.Run(ctx, chromedp.Evaluate[bool](js))
			return err
		})
		return b
	}
	button := func(name string) chromedp.Search {
		return chromedp.Search(fmt.Sprintf(`//button[normalize-space()=%q]`, name))
	}
	link := func(name string) chromedp.Search {
		return chromedp.Search(fmt.Sprintf(`//nav//a[normalize-space()=%q]`, name))
	}
	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			png, err := chromedp.FullScreenshot(100)(ctx, tg)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, "dashboard-"+name+".png"), png, 0o644)
		})
	}
	// liveStream is there once the page's live lists listen to the server's events.
	liveStream := chromedp.CSS(`html[data-live="sse"]`)
	rows := func(status string) chromedp.CSS {
		return chromedp.CSS(fmt.Sprintf(`#delivery-rows tr[data-status=%q]`, status))
	}
	// markPage sets a flag on the current document; pageKept checks it is still there, which
	// proves the page was not reloaded in between.
	markPage := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`window.__kept = true`)(ctx, tg)
		return err
	})
	pageKept := func(what string) {
		t.Helper()
		if !evalBool(what, `window.__kept === true`) {
			t.Fatalf("%s: the page was reloaded", what)
		}
	}

	// Sign in with the token, pasted once.
	run("sign in",
		chromedp.Navigate(p.url+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), e2eToken),
		chromedp.Click(button("Sign in")),
		chromedp.WaitVisible(link("Overview")),
	)

	// Create an endpoint to the receiver.
	run("new endpoint",
		chromedp.Click(link("Endpoints")),
		chromedp.WaitVisible(chromedp.ID("ep-url")),
		chromedp.SendKeys(chromedp.ID("ep-url"), recv.srv.URL+"/hook"),
		chromedp.SendKeys(chromedp.ID("ep-desc"), "the test's receiver"),
		chromedp.Click(button("New endpoint")),
		chromedp.WaitVisible(chromedp.ID("secret")),
	)
	secret := text("read the secret", "#secret")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown = %q", secret)
	}

	// Send test: the delivery is held at the receiver until the page is marked, so the
	// page shows it in flight first and the succeeded state arrives without a reload,
	// told by the live stream (server-sent events), not by polling.
	run("send test", chromedp.Click(button("Send test")), chromedp.WaitVisible(chromedp.CSS(`#delivery-rows tr[data-status]`)),
		chromedp.WaitReady(liveStream), markPage)
	close(recv.hold)
	run("test delivery succeeds", chromedp.WaitVisible(rows("succeeded")))
	pageKept("send test")
	run("screenshot endpoint", shot("endpoint"))

	// The receiver fails: the published event's delivery shows as failed with its status.
	recv.code.Store(500)
	if st, err := p.call("POST", "/v1/events", map[string]any{"type": "order.created", "data": map[string]any{"order": "A-1001", "total": 42}}, nil); err != nil || st != 202 {
		t.Fatalf("publish = %d, %v", st, err)
	}
	run("failed delivery appears", chromedp.WaitVisible(rows("failed")))
	pageKept("failed delivery")
	if row := text("failed row", rows("failed")); !strings.Contains(row, "HTTP 500") {
		t.Fatalf("failed row = %q, want its HTTP 500", row)
	}
	run("open the failed delivery",
		chromedp.Click(chromedp.CSS(`#delivery-rows tr[data-status="failed"] a`)),
		chromedp.WaitVisible(chromedp.ID("attempts")),
		shot("delivery"))
	if attempts := text("attempts", `table[aria-labelledby="attempts"]`); !strings.Contains(attempts, "HTTP 500") || !strings.Contains(attempts, "receiver is down for the test") {
		t.Fatalf("attempts = %q, want HTTP 500 and the response body", attempts)
	}

	// Fixed: Retry sends it again, and it succeeds.
	recv.code.Store(200)
	run("retry", chromedp.Click(button("Retry")), chromedp.WaitVisible(button("Send test")))
	run("no failed delivery left", chromedp.WaitNotPresent(rows("failed")), chromedp.WaitNotPresent(rows("pending")))

	// Disable: a new event's delivery waits, paused; Enable sends it.
	run("disable", chromedp.Click(button("Disable")), chromedp.WaitVisible(button("Enable")), markPage)
	before := recv.hits.Load()
	if st, err := p.call("POST", "/v1/events", map[string]any{"type": "order.created", "data": map[string]any{"order": "A-1002"}}, nil); err != nil || st != 202 {
		t.Fatalf("publish = %d, %v", st, err)
	}
	run("paused delivery appears", chromedp.WaitVisible(rows("paused")))
	pageKept("paused delivery")
	if recv.hits.Load() != before {
		t.Fatal("a disabled endpoint was sent a delivery")
	}
	run("enable", chromedp.Click(button("Enable")), chromedp.WaitVisible(button("Disable")))
	run("the paused delivery goes out", chromedp.WaitNotPresent(rows("paused")), chromedp.WaitNotPresent(rows("pending")))
	if recv.hits.Load() == before {
		t.Fatal("enabling did not send the paused delivery")
	}

	// Rotate secret shows a new one, once.
	run("rotate secret", chromedp.Click(button("Rotate secret")), chromedp.WaitVisible(chromedp.ID("secret")))
	if rotated := text("read the rotated secret", "#secret"); !strings.HasPrefix(rotated, "whsec_") || rotated == secret {
		t.Fatalf("rotated secret = %q (was %q)", rotated, secret)
	}

	// The edit form: the endpoint's settings and auth, credentials write-only.
	run("edit form",
		chromedp.Click(chromedp.Search(`//summary[normalize-space()="Edit or delete"]`)),
		chromedp.WaitVisible(chromedp.ID("edit-auth")),
		shot("edit"))

	// Events: newest first; the event shows its payload and its deliveries.
	run("events", chromedp.Click(link("Events")), chromedp.WaitVisible(chromedp.Search(`//td[normalize-space()="order.created"]`)),
		chromedp.WaitReady(liveStream), markPage)
	if st, err := p.call("POST", "/v1/events", map[string]any{"type": "order.shipped", "data": map[string]any{"order": "A-1002"}}, nil); err != nil || st != 202 {
		t.Fatalf("publish = %d, %v", st, err)
	}
	run("a new event appears", chromedp.WaitVisible(chromedp.Search(`//td[normalize-space()="order.shipped"]`)), shot("events"))
	pageKept("new event")
	run("open an event",
		chromedp.Click(chromedp.Search(`//tr[td[normalize-space()="order.created"]]//a`)),
		chromedp.WaitVisible(chromedp.ID("payload")),
		shot("event"))
	if payload := text("payload", "#payload"); !strings.Contains(payload, `"order": "A-1002"`) {
		t.Fatalf("payload = %q, want the newest event's", payload)
	}

	// Sources: copy a catch-hook URL.
	step("grant the clipboard", func(ctx context.Context) error {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: p.url}); err != nil {
				return err
			}
		}
		return nil
	})
	run("copy a source URL",
		chromedp.Click(link("Sources")),
		chromedp.WaitVisible(button("Copy")),
		chromedp.Click(button("Copy")),
		chromedp.WaitVisible(button("Copied")),
		shot("sources"))
	var copied string
	step("read the clipboard", func(ctx context.Context) (err error) {
		copied, err = chromedp.Run(ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
		return err
	})
	if want := p.url + "/in/" + src.ID; copied != want {
		t.Fatalf("copied %q, want the catch-hook URL %q", copied, want)
	}

	run("overview", chromedp.Click(link("Overview")), chromedp.WaitVisible(chromedp.ID("eps")), shot("overview"))
	run("endpoints", chromedp.Click(link("Endpoints")), chromedp.WaitVisible(button("New endpoint")), shot("endpoints"))
	run("event types", chromedp.Click(link("Event types")), chromedp.WaitVisible(chromedp.CSS(`td a`)), shot("event-types"))

	// At phone width the endpoint page still fits: the page does not scroll sideways.
	run("phone width",
		chromedp.EmulateViewport(390, 844),
		chromedp.Click(link("Endpoints")),
		chromedp.WaitVisible(button("New endpoint")),
		chromedp.Click(chromedp.CSS(`tbody tr td a`)),
		chromedp.WaitVisible(button("Send test")),
		shot("phone"))
	if evalBool("page width", `document.documentElement.scrollWidth > window.innerWidth`) {
		t.Error("the endpoint page scrolls sideways at phone width")
	}

	// Sign out: the dashboard asks to sign in again.
	run("sign out",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Click(button("Sign out")),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.Navigate(p.url+"/ui/endpoints"),
		chromedp.WaitVisible(chromedp.ID("token")))
	if !evalBool("where sign-out leads", `location.pathname === "/ui/login"`) {
		t.Fatal("after sign-out /ui/endpoints did not lead to the sign-in page")
	}
}

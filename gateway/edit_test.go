package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// gate is a check that can be held: while held, every call hands its own release channel to
// whoever waits for it (waitEntered) and waits until let opens it. It stands for a slow
// validation (jq over the catalog samples). When the test ends every held call is let go,
// so a failing test still stops its Service.
type gate struct {
	mu      sync.Mutex
	held    bool
	calls   int
	open    map[chan struct{}]bool
	entered chan chan struct{}
}

func newGate() *gate {
	return &gate{entered: make(chan chan struct{}, 16), open: map[chan struct{}]bool{}}
}

// letAllGoAtEnd makes every held check go on when the test ends; call it after starting the
// Service, so that this runs before the Service is stopped.
func (g *gate) letAllGoAtEnd(t *testing.T) {
	t.Cleanup(func() {
		g.mu.Lock()
		g.held = false
		g.mu.Unlock()
		for {
			select {
			case r := <-g.entered:
				g.let(r)
			default:
				g.mu.Lock()
				defer g.mu.Unlock()
				for r, opened := range g.open {
					if !opened {
						close(r)
					}
				}
				return
			}
		}
	})
}

func (g *gate) hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.held = true
}

// pass is the check itself.
func (g *gate) pass() {
	g.mu.Lock()
	g.calls++
	var release chan struct{}
	if g.held {
		release = make(chan struct{})
		g.open[release] = false
	}
	g.mu.Unlock()
	if release != nil {
		g.entered <- release
		<-release
	}
}

// let lets a held check go on.
func (g *gate) let(release chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.open[release] {
		g.open[release] = true
		close(release)
	}
}

func (g *gate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls
}

// waitEntered waits until a check is held and returns what lets it go, failing the test
// after a deadline.
func (g *gate) waitEntered(t *testing.T) chan struct{} {
	t.Helper()
	select {
	case release := <-g.entered:
		return release
	case <-time.After(10 * time.Second):
		t.Fatal("the check was never entered")
	}
	return nil
}

// gatedSender is an endpoint kind whose settings check is the gate.
type gatedSender struct{ g *gate }

func (s gatedSender) Send(context.Context, *gateway.Message) gateway.Outcome {
	return gateway.Outcome{StatusCode: 200}
}

func (s gatedSender) CheckEndpoint(*gateway.Endpoint) error { s.g.pass(); return nil }

// gatedInbound is an Inbound whose source check is the gate.
type gatedInbound struct{ g *gate }

func (in gatedInbound) CheckSource(*gateway.Source) error { in.g.pass(); return nil }

func (in gatedInbound) Open(*gateway.Source, *gateway.InboundRequest, time.Time) (*gateway.InboundEvent, error) {
	return nil, errors.New("not used")
}

// within runs f and fails the test if it has not returned by the deadline.
func within[T any](t *testing.T, what string, f func() (T, error)) T {
	t.Helper()
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := f()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("%s: %v", what, r.err)
		}
		return r.v
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return while an admin edit was being checked", what)
	}
	panic("unreachable")
}

// heldPatch starts a Service whose "gated" kind holds its settings checks, creates an
// endpoint of that kind, and patches its description to desc; it returns once the patch's
// check is held, with that check's release and where the patch's result will arrive.
func heldPatch(t *testing.T, desc string) (*gateway.Service, *gate, *gateway.Endpoint, chan struct{}, <-chan error) {
	t.Helper()
	g := newGate()
	svc := gatewaytest.New(t, gateway.Options{Senders: map[string]gateway.Sender{"gated": gatedSender{g}}}, nil)
	ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{Kind: "gated", URL: "http://127.0.0.1:9/x", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	g.letAllGoAtEnd(t)
	g.hold()
	patched := make(chan error, 1)
	go func() {
		_, err := svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Description: &desc})
		patched <- err
	}()
	return svc, g, ep, g.waitEntered(t), patched
}

func TestEndpointPatchCheckDoesNotHoldPublishes(t *testing.T) {
	svc, g, ep, release, patched := heldPatch(t, "patched")

	// The patch is being checked: publishes, catch hooks' writes and other edits go on.
	res := within(t, "Publish", func() (*gateway.PublishResult, error) {
		return svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(`{}`)})
	})
	if res.Deliveries != 1 {
		t.Fatalf("publish during the check made %d deliveries, want 1", res.Deliveries)
	}
	within(t, "RotateSecret", func() (string, error) { return svc.RotateSecret(ctx, ep.ID) })

	g.let(release)
	if err := <-patched; err != nil {
		t.Fatalf("UpdateEndpoint: %v", err)
	}
	got, err := svc.GetEndpoint(ctx, ep.ID)
	if err != nil || got.Description != "patched" {
		t.Fatalf("endpoint = %+v, %v", got, err)
	}
	// The rotation (state, not configuration) did not make the patch check again.
	if n := g.count(); n != 2 {
		t.Fatalf("the settings were checked %d times, want 2 (create, patch)", n)
	}
}

func TestConcurrentEndpointPatchesDontLoseEachOther(t *testing.T) {
	desc := "from the slow patch"
	svc, g, ep, first, patched := heldPatch(t, desc)
	// Another patch of the configuration lands while the first is being checked.
	events := []string{"video.*"}
	second := make(chan error, 1)
	go func() {
		_, err := svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Events: &events})
		second <- err
	}()
	g.let(g.waitEntered(t))
	if err := <-second; err != nil {
		t.Fatalf("second UpdateEndpoint: %v", err)
	}
	g.let(first) // the first patch finds its record changed and is checked again
	g.let(g.waitEntered(t))
	if err := <-patched; err != nil {
		t.Fatalf("first UpdateEndpoint: %v", err)
	}
	got, err := svc.GetEndpoint(ctx, ep.ID)
	if err != nil || got.Description != desc || len(got.Events) != 1 || got.Events[0] != "video.*" {
		t.Fatalf("endpoint = %+v, %v: want both patches", got, err)
	}
}

func TestSourcePatchCheckDoesNotHoldPublishes(t *testing.T) {
	g := newGate()
	svc := gatewaytest.New(t, gateway.Options{Inbound: gatedInbound{g}}, gatewaytest.NewRecorder())
	src, err := svc.CreateSource(ctx, gateway.SourceInput{Name: "src", Provider: "generic"})
	if err != nil {
		t.Fatal(err)
	}
	g.letAllGoAtEnd(t)
	g.hold()
	name := "renamed"
	patched := make(chan error, 1)
	go func() {
		_, err := svc.UpdateSource(ctx, src.ID, gateway.SourcePatch{Name: &name})
		patched <- err
	}()
	first := g.waitEntered(t)
	within(t, "Publish", func() (*gateway.PublishResult, error) {
		return svc.Publish(ctx, gateway.PublishInput{Type: "video.posted", Data: json.RawMessage(`{}`)})
	})
	// A second edit commits meanwhile; the first is checked again on top of it.
	secret := "new-secret"
	second := make(chan error, 1)
	go func() {
		_, err := svc.UpdateSource(ctx, src.ID, gateway.SourcePatch{Secret: &secret})
		second <- err
	}()
	g.let(g.waitEntered(t))
	if err := <-second; err != nil {
		t.Fatalf("second UpdateSource: %v", err)
	}
	g.let(first)
	g.let(g.waitEntered(t))
	if err := <-patched; err != nil {
		t.Fatalf("UpdateSource: %v", err)
	}
	got, err := svc.GetSource(ctx, src.ID)
	if err != nil || got.Name != name || got.Secret != secret {
		t.Fatalf("source = %+v, %v: want both edits", got, err)
	}
}

// An auth sent back as answers show it (its value or password masked) keeps the stored
// credential, as headers and kinds' credentials do; a new value replaces it, and another
// type does not inherit it.
func TestMaskedAuthSentBackKeepsTheStoredOne(t *testing.T) {
	ctx := context.Background()
	rec := gatewaytest.NewRecorder()
	auths := make(chan gateway.EndpointAuth, 10)
	rec.Script(func(_ int, m *gateway.Message) gateway.Outcome {
		auths <- *m.Endpoint.Auth
		return gateway.Outcome{StatusCode: 200}
	})
	svc := gatewaytest.New(t, gateway.Options{}, rec)
	ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/x", Events: []string{"*"},
		EndpointSettings: gateway.EndpointSettings{Auth: &gateway.EndpointAuth{Type: "basic", Username: "ann", Password: "password-one"}}})
	if err != nil {
		t.Fatal(err)
	}
	if ep.Auth.Password != "****-one" {
		t.Fatalf("answer shows password %q, want it masked", ep.Auth.Password)
	}
	sent := func() gateway.EndpointAuth {
		t.Helper()
		if _, err := svc.Publish(ctx, gateway.PublishInput{Type: "order.created", Data: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
		select {
		case a := <-auths:
			return a
		case <-time.After(5 * time.Second):
			t.Fatal("no delivery")
		}
		return gateway.EndpointAuth{}
	}
	if _, err := svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Auth: &gateway.EndpointAuth{Type: "basic", Username: "bob", Password: ep.Auth.Password}}); err != nil {
		t.Fatal(err)
	}
	if a := sent(); a.Username != "bob" || a.Password != "password-one" {
		t.Fatalf("after sending the mask back: %+v, want bob with the stored password", a)
	}
	if _, err := svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Auth: &gateway.EndpointAuth{Type: "basic", Username: "bob", Password: "password-two"}}); err != nil {
		t.Fatal(err)
	}
	if a := sent(); a.Password != "password-two" {
		t.Fatalf("after a new password: %+v", a)
	}
	if _, err := svc.UpdateEndpoint(ctx, ep.ID, gateway.EndpointPatch{Auth: &gateway.EndpointAuth{Type: "header", Name: "X-Key", Value: "****-two"}}); err != nil {
		t.Fatal(err)
	}
	if a := sent(); a.Type != "header" || a.Value != "****-two" {
		t.Fatalf("a header auth given the basic password's mask: %+v, want the value as sent", a)
	}
}

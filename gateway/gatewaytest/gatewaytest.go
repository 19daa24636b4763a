// Package gatewaytest runs a real gateway.Service in-process on an in-memory store (or a
// Badger store in a temporary folder), with a recording Sender whose answers a test
// scripts, for tests of fan-out, retries and endpoint health that don't need HTTP.
//
// # Example
//
//	rec := gatewaytest.NewRecorder()
//	rec.Script(func(n int, m *gateway.Message) gateway.Outcome { return gateway.Outcome{StatusCode: 500} })
//	svc := gatewaytest.New(t, gateway.Options{Schedule: gateway.Schedule{0, 10 * time.Millisecond}}, rec)
//	… svc.Publish(…) …
//	rec.Want(t, 5*time.Second, 2)
package gatewaytest

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger"
	"github.com/hookgate/hookgate/queue/memory"
)

// New starts a Service whose "webhook" kind is rec (when rec is not nil), and stops it when
// the test ends. Its store is opts.Store; without one, a fresh queue/memory store, or a
// Badger store in t.TempDir() when the test measures disk space (it injects FreeSpace or
// sets a positive MinFreeDisk), since only a store on a volume has a free-space guard.
// Unless the test sets MinFreeDisk or injects FreeSpace, the free-space guard is off, so
// tests do not fail with ErrStorageFull on a machine whose disk happens to be nearly full.
// A test that reopens a folder passes Badger(t, dir) as opts.Store.
func New(t testing.TB, opts gateway.Options, rec *Recorder) *gateway.Service {
	t.Helper()
	if opts.Store == nil {
		if opts.FreeSpace != nil || opts.MinFreeDisk > 0 {
			opts.Store = Badger(t, t.TempDir())
		} else {
			opts.Store = memory.New()
		}
	}
	if opts.Senders == nil {
		opts.Senders = map[string]gateway.Sender{}
	}
	if rec != nil {
		opts.Senders[gateway.KindWebhook] = rec
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Policy.AllowPrivate = true
	if opts.MinFreeDisk == 0 && opts.FreeSpace == nil {
		opts.MinFreeDisk = -1
	}
	svc, err := gateway.New(opts)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	svc.Start()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := svc.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return svc
}

// Badger opens a queue/badger store in dir, for a test that needs a real disk (a restart on
// the same folder, the free-space guard). The Service it is given closes it; if none is,
// it is closed when the test ends.
func Badger(t testing.TB, dir string) gateway.Store {
	t.Helper()
	st, err := badger.Open(badger.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("badger.Open %s: %v", dir, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Call is one Send the Recorder saw.
type Call struct {
	At         time.Time
	DeliveryID string
	EndpointID string
	EventID    string
	EventType  string
	Body       []byte
	Attempt    int
	Secrets    []string
}

// Recorder is a gateway.Sender that records every message and answers from a script
// (default: 200 OK).
type Recorder struct {
	mu     sync.Mutex
	calls  []Call
	script func(n int, m *gateway.Message) gateway.Outcome
	signal chan struct{}
}

var _ gateway.Sender = (*Recorder)(nil)

// NewRecorder returns a Recorder that answers 200.
func NewRecorder() *Recorder { return &Recorder{signal: make(chan struct{}, 1)} }

// Script sets how the Recorder answers; n counts calls from 1.
func (r *Recorder) Script(f func(n int, m *gateway.Message) gateway.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.script = f
}

// Send records m and answers from the script.
func (r *Recorder) Send(ctx context.Context, m *gateway.Message) gateway.Outcome {
	r.mu.Lock()
	r.calls = append(r.calls, Call{
		At: time.Now(), DeliveryID: m.Delivery.ID, EndpointID: m.Endpoint.ID, EventID: m.Event.ID,
		EventType: m.Event.Type, Body: append([]byte(nil), m.Body...), Attempt: m.Attempt,
		Secrets: m.Endpoint.SigningSecrets(m.Now),
	})
	n, script := len(r.calls), r.script
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
	if script == nil {
		return gateway.Outcome{StatusCode: 200}
	}
	return script(n, m)
}

// Calls returns a copy of the calls so far.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

// Want waits until at least n calls were made, failing the test after within.
func (r *Recorder) Want(t testing.TB, within time.Duration, n int) []Call {
	t.Helper()
	deadline := time.After(within)
	for {
		if c := r.Calls(); len(c) >= n {
			return c
		}
		select {
		case <-r.signal:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("Recorder: got %d calls within %s, want %d", len(r.Calls()), within, n)
			return nil
		}
	}
}

// WaitFor polls cond until it is true, failing the test after within.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Buffer collects what several goroutines write (a logger's output, a process's stderr)
// for a test to read while they still write.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

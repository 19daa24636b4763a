package gateway_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// countingHandler counts the log records at Error level, to catch a failure that loops.
type countingHandler struct {
	slog.Handler
	errors *atomic.Int64
}

func newCounting() (*slog.Logger, *atomic.Int64) {
	n := &atomic.Int64{}
	return slog.New(countingHandler{Handler: slog.DiscardHandler, errors: n}), n
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.errors.Add(1)
	}
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

// open starts a Service on dir that the test stops itself.
func open(t *testing.T, opts gateway.Options) *gateway.Service {
	t.Helper()
	opts.Policy.AllowPrivate = true
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	svc, err := gateway.New(opts)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	return svc
}

func stop(t *testing.T, svc *gateway.Service, within time.Duration) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := svc.Stop(c); err != nil {
		t.Fatalf("Stop: %v", err)
	}
}

// TestFailureBeforeSendingFollowsTheSchedule: an endpoint whose kind has no Sender (the
// gateway restarted without it) gets a failed attempt that waits for its next step like a
// receiver's 500 — it is neither dropped nor retried in a loop.
func TestFailureBeforeSendingFollowsTheSchedule(t *testing.T) {
	dir := t.TempDir()
	rec := gatewaytest.NewRecorder()
	svc := open(t, gateway.Options{Store: gatewaytest.Badger(t, dir), Senders: map[string]gateway.Sender{gateway.KindWebhook: rec, "custom": rec}})
	ep, _, err := svc.CreateEndpoint(ctx, gateway.EndpointInput{URL: "http://127.0.0.1:9/hook", Kind: "custom", Events: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	stop(t, svc, 5*time.Second)

	clk := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	log, errs := newCounting()
	svc = open(t, gateway.Options{Store: gatewaytest.Badger(t, dir), Now: clk.Now, Logger: log, Schedule: gateway.Schedule{0, time.Hour},
		Senders: map[string]gateway.Sender{gateway.KindWebhook: rec}})
	svc.Start()
	defer stop(t, svc, 5*time.Second)
	res := publish(t, svc, "video.posted", `{"n":1}`)
	var d *gateway.Delivery
	gatewaytest.WaitFor(t, 5*time.Second, "the failed attempt", func() bool {
		d, err = svc.GetDelivery(ctx, res.DeliveryID[0])
		return err == nil && len(d.Attempts) > 0
	})
	if d.EndpointID != ep.ID || d.Status != gateway.StatusPending || !strings.Contains(d.Attempts[0].Error, `no sender for endpoint kind "custom"`) {
		t.Fatalf("delivery = %+v, want pending with a no-sender attempt", d)
	}
	if d.NextAttemptAt == nil || d.NextAttemptAt.Sub(clk.Now()) < 45*time.Minute {
		t.Fatalf("next attempt at %v, want the schedule's next step (about an hour after %v)", d.NextAttemptAt, clk.Now())
	}
	// Nothing else happens while the clock stands: a looping failure would make thousands of
	// attempts or log lines in this time.
	time.Sleep(500 * time.Millisecond)
	if d, _ = svc.GetDelivery(ctx, res.DeliveryID[0]); len(d.Attempts) != 1 {
		t.Fatalf("%d attempts while the clock stood still, want 1: %+v", len(d.Attempts), d.Attempts)
	}
	if n := errs.Load(); n > 1 {
		t.Fatalf("%d error lines logged for one failed attempt", n)
	}
}

// unreadable is a store whose delivery records can't be read, as after a torn write or a
// bad upgrade.
type unreadable struct{ gateway.Store }

func (unreadable) Delivery(context.Context, string) (*gateway.Delivery, error) {
	return nil, errors.New("decode dl/…: the stored record is corrupt")
}

// TestUnreadableDeliveryBacksOff: a delivery whose stored record can't be read can't have
// an attempt recorded; the dispatcher holds it back (1 s, then longer) instead of leasing
// and failing it again at once.
func TestUnreadableDeliveryBacksOff(t *testing.T) {
	dir := t.TempDir()
	rec := gatewaytest.NewRecorder()
	svc := open(t, gateway.Options{Store: gatewaytest.Badger(t, dir), Senders: map[string]gateway.Sender{gateway.KindWebhook: rec}})
	endpoint(t, svc, "*")
	publish(t, svc, "video.posted", `{"n":1}`)
	stop(t, svc, 5*time.Second)

	log, errs := newCounting()
	svc = open(t, gateway.Options{Store: unreadable{gatewaytest.Badger(t, dir)}, Logger: log, Senders: map[string]gateway.Sender{gateway.KindWebhook: rec}})
	svc.Start()
	defer stop(t, svc, 5*time.Second)
	gatewaytest.WaitFor(t, 5*time.Second, "the failure to be logged", func() bool { return errs.Load() > 0 })
	time.Sleep(700 * time.Millisecond) // within the first 1 s hold: a loop would fail thousands of times
	if n := errs.Load(); n != 1 {
		t.Fatalf("%d failures logged within 0.7 s, want 1 (then a hold of 1 s)", n)
	}
	if len(rec.Calls()) != 0 {
		t.Fatalf("sent %d times", len(rec.Calls()))
	}
}

// blocking is a Sender that holds every attempt until its context ends.
type blocking struct{ started chan string }

func (b blocking) Send(ctx context.Context, m *gateway.Message) gateway.Outcome {
	b.started <- m.Delivery.ID
	<-ctx.Done()
	return gateway.Outcome{Err: context.Cause(ctx)}
}

// TestAttemptCutByShutdownIsLogged: an attempt that Stop cuts short is in the attempt log
// with the shutdown as its error, and the delivery is sent again after the restart.
func TestAttemptCutByShutdownIsLogged(t *testing.T) {
	dir := t.TempDir()
	b := blocking{started: make(chan string, 1)}
	svc := open(t, gateway.Options{Store: gatewaytest.Badger(t, dir), Senders: map[string]gateway.Sender{gateway.KindWebhook: b}})
	svc.Start()
	endpoint(t, svc, "*")
	res := publish(t, svc, "video.posted", `{"n":1}`)
	select {
	case <-b.started:
	case <-time.After(5 * time.Second):
		t.Fatal("the attempt never started")
	}
	stop(t, svc, 50*time.Millisecond)

	rec := gatewaytest.NewRecorder()
	svc = gatewaytest.New(t, gateway.Options{Store: gatewaytest.Badger(t, dir)}, rec)
	rec.Want(t, 5*time.Second, 1)
	var d *gateway.Delivery
	gatewaytest.WaitFor(t, 5*time.Second, "the delivery to succeed", func() bool {
		var err error
		d, err = svc.GetDelivery(ctx, res.DeliveryID[0])
		return err == nil && d.Status == gateway.StatusSucceeded
	})
	if len(d.Attempts) != 2 || !strings.Contains(d.Attempts[0].Error, "cut short: gateway stopping") || d.Attempts[1].Error != "" {
		t.Fatalf("attempts = %+v, want the cut one (shutdown) then the success", d.Attempts)
	}
	if d.Step != 0 {
		t.Errorf("step = %d: a shutdown must not cost the delivery a step", d.Step)
	}
}

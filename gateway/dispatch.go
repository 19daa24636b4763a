package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"
)

// dispatcher leases due deliveries from the store's work queue and runs one attempt for
// each, at most Options.Concurrency at a time. The queue wakes it when work is queued.
type dispatcher struct {
	s    *Service
	sem  chan struct{}
	free chan struct{} // signalled when a worker ends, so the loop can lease again
	// jobs hands a leased job to an idle worker; workers counts the worker goroutines
	// started (by the loop only: see run). The loop closes jobs when it ends.
	jobs    chan Job
	workers int
	quit    chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup
	lim     *limits

	// failing counts, per delivery, the attempts in a row that ended in an error the
	// dispatcher could not record (see work); each one holds the delivery back longer.
	failMu  sync.Mutex
	failing map[string]int

	// attempts is the parent of every attempt's context; cancelled when Stop runs out of time.
	attempts context.Context
	cancel   context.CancelCauseFunc
	started  sync.Once
	stopped  sync.Once
	// running is true while the lease loop runs, begun once it has started (for Ready).
	running atomic.Bool
	begun   atomic.Bool
	// cut counts the attempts Stop cut short (for the shutdown log).
	cut atomic.Int64
	// timedOut is the cause of an attempt's context when DeliveryTimeout ends it, made once.
	timedOut error
}

func newDispatcher(s *Service) *dispatcher {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &dispatcher{
		s:        s,
		sem:      make(chan struct{}, s.opts.Concurrency),
		free:     make(chan struct{}, 1),
		jobs:     make(chan Job),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		attempts: ctx,
		cancel:   cancel,
		lim:      newLimits(perEndpointCap(s.opts.Concurrency)),
		failing:  map[string]int{},
		timedOut: fmt.Errorf("endpoint timeout (%s)", s.opts.DeliveryTimeout),
	}
}

// perEndpointCap is how many attempts a slow endpoint may have in flight: all workers but
// a quarter, which stay free for the other endpoints.
func perEndpointCap(concurrency int) int {
	return max(concurrency-max(concurrency/4, 1), 1)
}

// leaseTTL is how long a leased delivery is kept from other workers; expiry only guards
// against a worker that never returns (or a process that died holding it).
func (d *dispatcher) leaseTTL() time.Duration { return 2*d.s.opts.DeliveryTimeout + time.Minute }

// start runs the lease loop in a goroutine that stop ends.
func (d *dispatcher) start() {
	d.started.Do(func() {
		d.running.Store(true)
		d.begun.Store(true)
		go d.loop()
	})
}

// stop ends the loop, then waits for attempts in flight until ctx is done, after which they
// are cancelled (their deliveries stay queued and are sent after the next start). It
// reports how many attempts were in flight when the loop ended and how many of them were
// cut short.
func (d *dispatcher) stop(ctx context.Context) (inFlight, cut int) {
	d.stopped.Do(func() {
		close(d.quit)
		d.started.Do(func() { close(d.done) }) // never started: nothing to wait for
		<-d.done
		inFlight = len(d.sem)
		defer func() { cut = int(d.cut.Load()) }()
		finished := make(chan struct{})
		go func() { d.wg.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-ctx.Done():
			d.cancel(errors.New("gateway stopping"))
			<-finished
		}
	})
	return inFlight, cut
}

func (d *dispatcher) loop() {
	defer close(d.done)
	defer close(d.jobs)
	defer d.running.Store(false)
	q := d.s.store
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	leaseFailures := 0 // Leases in a row that failed: each waits longer before the next
	for {
		select {
		case <-d.quit:
			return
		default:
		}
		now := d.s.now()
		slots := cap(d.sem) - len(d.sem)
		// Below the disk reserve, lease nothing: deliveries stay queued, and the loop looks
		// again every diskPoll (freed space wakes nothing else).
		paused := d.s.disk.status().Paused
		if paused {
			slots = 0
		}
		leased := 0
		if slots > 0 {
			jobs, err := d.lease(now, slots)
			if err != nil {
				leaseFailures++
				wait := backoff(leaseFailures)
				d.s.log.Error("lease deliveries", "err", err, "failures", leaseFailures, "retry_in", wait)
				if !d.sleep(wait) {
					return
				}
			} else {
				leaseFailures = 0
			}
			d.s.handoff.leased(jobs)
			var later []deferral
			for _, job := range jobs {
				epID := job.Endpoint
				rate := 0.0
				if ep, ok := d.s.endpoint(epID); ok {
					rate = ep.RateLimitPerS
				}
				if rates, shared := q.(SharedRates); shared && rate > 0 {
					// The cluster's rate; the local limits then only see to concurrency.
					if slot, ok := d.sharedSlot(rates, job, rate, now); ok {
						if slot.After(now) {
							later = append(later, deferral{job: job, at: slot})
							continue
						}
						rate = 0
					}
				}
				if at, ok := d.lim.admit(epID, job.Delivery, rate, now); !ok {
					later = append(later, deferral{job: job, at: at})
					continue
				}
				d.sem <- struct{}{}
				d.wg.Add(1)
				d.run(job)
			}
			d.postpone(later)
			leased = len(jobs)
			if leased == slots {
				continue // there may be more due right now
			}
		}
		wait := time.Hour
		if slots > 0 && leased < slots {
			if next, ok := q.NextDue(d.s.now()); ok {
				wait = max(time.Until(next), time.Millisecond)
				if leased > 0 {
					wait = min(wait, time.Millisecond)
				}
			}
		}
		if paused {
			wait = diskPoll
		}
		timer.Reset(wait)
		select {
		case <-d.quit:
			return
		case <-q.Wake():
		case <-d.free:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// lease takes up to slots due jobs: first, when the store is an IDLeaser, a quarter of them
// (at least one) from the deliveries of new events, in the order they were published, then
// the rest oldest due first. That is the ordering rule that keeps fresh events moving while
// a backlog of overdue retries drains (after a restart): they are not behind all of it.
func (d *dispatcher) lease(now time.Time, slots int) ([]Job, error) {
	q := d.s.store
	var jobs []Job
	if il, ok := q.(IDLeaser); ok {
		if ids := d.s.handoff.freshIDs(max(1, slots/4)); len(ids) > 0 {
			// The clock is read again: now was read before this pass looked at the disk,
			// and a delivery published since (due at its publish's clock) would not be due
			// at it; LeaseIDs would skip it, and with it out of the line it would wait
			// behind every overdue delivery.
			fresh, err := il.LeaseIDs(d.attempts, d.s.now(), ids, d.leaseTTL())
			if err != nil {
				return nil, err
			}
			jobs = fresh
		}
	}
	if len(jobs) == slots {
		return jobs, nil
	}
	more, err := q.Lease(d.attempts, now, slots-len(jobs), d.leaseTTL())
	return append(jobs, more...), err
}

// sleep waits for wait or until the dispatcher stops; it reports false when stopping.
func (d *dispatcher) sleep(wait time.Duration) bool {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-d.quit:
		return false
	case <-t.C:
		return true
	}
}

// backoff is how long to hold off after the n-th failure in a row (n ≥ 1) of something
// that is not a delivery attempt (a lease, a store write): 1 s, doubling, at most 5 min.
func backoff(n int) time.Duration {
	const first, most = time.Second, 5 * time.Minute
	if n < 1 {
		n = 1
	}
	if n > 20 {
		return most
	}
	return min(first<<(n-1), most)
}

// diskPoll is how often a dispatcher paused by a full disk looks whether space came back.
const diskPoll = time.Second

// deferral is a leased delivery its endpoint's limits sent to a later slot.
type deferral struct {
	job Job
	at  time.Time
}

// postpone holds deferred deliveries until their slots: they stay leased (hidden) until
// then, and their records are untouched, so a delivery saved meanwhile (a manual retry)
// is queued at its new time instead, and a restart sends them at their own time.
func (d *dispatcher) postpone(later []deferral) {
	for _, l := range later {
		d.s.store.Hold(l.job.Delivery, l.at)
	}
}

// run hands job to an idle worker, or starts one. Workers outlive their jobs and wait for
// the next one, so that an attempt does not begin on a fresh goroutine whose stack grows
// again, copied each time (encoding, signing and net/http run deep). There are at most
// Concurrency of them: the caller holds one of the sem slots, so when all of them run, at
// most Concurrency-1 others are busy and one is free or about to be.
func (d *dispatcher) run(job Job) {
	if d.workers < cap(d.sem) {
		select {
		case d.jobs <- job:
			return
		default:
		}
		d.workers++
		go d.worker(job)
		return
	}
	d.jobs <- job
}

// worker works job, then the jobs run hands it, until the loop ends.
func (d *dispatcher) worker(job Job) {
	for ok := true; ok; job, ok = <-d.jobs {
		d.work(job)
	}
}

// work makes one attempt for the delivery job.Delivery and records what happened.
func (d *dispatcher) work(job Job) {
	defer func() {
		<-d.sem
		d.wg.Done()
		select {
		case d.free <- struct{}{}:
		default:
		}
	}()
	s := d.s
	ctx := d.attempts
	err := d.attempt(ctx, job)
	d.lim.finish(job.Endpoint, job.Delivery, s.now())
	d.failMu.Lock()
	n := 0
	if err != nil {
		d.failing[job.Delivery]++
		n = d.failing[job.Delivery]
	} else {
		delete(d.failing, job.Delivery)
	}
	d.failMu.Unlock()
	if err == nil || ctx.Err() != nil {
		return // done, or stopping: the delivery stays queued for the next start
	}
	// An error here could not be recorded as an attempt (the store failed, or the
	// delivery's record can't be read): hold the delivery back, longer each time, rather
	// than hand it straight back to a loop that would fail the same way at once.
	wait := backoff(n)
	s.log.Error("delivery attempt", "delivery", job.Delivery, "err", err, "failures", n, "retry_in", wait)
	s.store.Hold(job.Delivery, s.now().Add(wait))
}

func (d *dispatcher) attempt(ctx context.Context, job Job) error {
	s := d.s
	dl, ev, envelope, handed := s.handoff.take(ctx, job)
	var evErr error
	if !handed {
		var err error
		dl, err = s.store.Delivery(ctx, job.Delivery)
		if errors.Is(err, ErrNotFound) {
			return nil // the delivery is gone (its event was trimmed): nothing to send
		}
		if err != nil {
			return err
		}
		if dl.Status != StatusPending {
			return nil // saved meanwhile: it left the queue then
		}
		ev, evErr = s.store.Event(ctx, dl.EventID) // can't be read: an attempt that fails
		if errors.Is(evErr, ErrNotFound) {
			return d.settle(ctx, dl, StatusCanceled) // its event is gone: nothing to send
		}
		if evErr != nil && ctx.Err() != nil {
			return evErr
		}
	}
	ep, ok := s.endpoint(dl.EndpointID)
	switch {
	case !ok:
		return d.settle(ctx, dl, StatusCanceled)
	case !ep.Enabled:
		return d.pause(ctx, dl, job)
	}

	// Whatever fails from here on is an attempt that failed, recorded and retried on the
	// schedule like a receiver's 500, whether or not anything was sent.
	now := s.now()
	var (
		out   Outcome
		cause error
		body  []byte
		took  time.Duration // the Send, on the wall clock (for metrics)
	)
	sender, ok := s.opts.Senders[ep.Kind]
	switch {
	case evErr != nil:
		out.Err = fmt.Errorf("the stored event can't be read: %w", evErr)
	case !ok:
		out.Err = fmt.Errorf("no sender for endpoint kind %q: this gateway was started without it", ep.Kind)
	default:
		var err error
		if envelope == nil {
			envelope = ev.Body()
		}
		if body, err = payload(ctx, ep, envelope); err != nil {
			out.Err = fmt.Errorf("mapping: %w", err)
			break
		}
		actx, cancel := context.WithTimeoutCause(ctx, s.opts.DeliveryTimeout, d.timedOut)
		began := time.Now()
		out = sender.Send(actx, &Message{Delivery: dl, Endpoint: ep, Event: &ev.Event, Body: body, Seq: ev.Seq, Attempt: len(dl.Attempts) + 1, Now: now})
		took = time.Since(began)
		cause = context.Cause(actx)
		cancel()
	}
	att := Attempt{At: now.UTC(), StatusCode: out.StatusCode, DurationMS: s.now().Sub(now).Milliseconds(), ResponseBody: string(truncate(out.Body, MaxResponseBody)),
		RequestBytes: len(out.Sent)}
	if len(out.Sent) > 0 && bytes.Equal(out.Sent, envelope) {
		att.RequestEnvelope = true // GetDelivery shows the event's envelope: no second copy stored
	} else {
		att.RequestBody = string(truncate(out.Sent, MaxRequestBody))
	}
	if out.Err != nil {
		att.Error = out.Err.Error()
		if cause != nil && errors.Is(out.Err, context.DeadlineExceeded) {
			att.Error = cause.Error()
		}
	}
	if ctx.Err() != nil && classify(out) != verdictSuccess {
		// Stop cut the attempt short: log it as the receiver saw it, and leave the
		// delivery due, so that it is sent again after the restart without losing a step.
		att.Error = fmt.Sprintf("attempt cut short: %v; it is sent again when the gateway restarts", context.Cause(ctx))
		d.cut.Add(1)
		s.obs.Attempt(ep.Kind, ep.ID, OutcomeRetry, took)
		s.log.Info("delivery attempt cut short by shutdown; it is sent again after the restart", "endpoint", ep.ID, "delivery", dl.ID, "event", dl.EventID, "type", dl.EventType)
		return d.recordCut(context.WithoutCancel(ctx), dl, att)
	}
	return d.record(context.WithoutCancel(ctx), dl, ep, att, out, took)
}

// recordCut logs an attempt that Stop cut short, leaving the delivery's status, step and
// due time as they are.
func (d *dispatcher) recordCut(ctx context.Context, seen *Delivery, att Attempt) error {
	s := d.s
	_, _, err := s.saveDelivery(ctx, seen.ID, func(dl *Delivery) (bool, error) {
		dl.Attempts = append(dl.Attempts, att)
		dl.UpdatedAt = s.now().UTC()
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("record the attempt cut short: %w", err)
	}
	return nil
}

// record stores an attempt and moves the delivery (and maybe its endpoint) on. The
// delivery is saved against the revision the attempt read; if someone saved it meanwhile,
// it is read again, and if they moved it (a manual retry, a replay) their decision stands
// and only the attempt is added.
func (d *dispatcher) record(ctx context.Context, seen *Delivery, ep *Endpoint, att Attempt, out Outcome, took time.Duration) error {
	s := d.s
	v := classify(out)
	status, step, due := seen.Status, seen.Step, seen.NextAttemptAt
	was := seen // the record as stored at dl.Rev, for the store's indexes
	c := *seen
	c.Attempts = append(make([]Attempt, 0, len(seen.Attempts)+1), seen.Attempts...) // room for att
	dl, decided := &c, true
	for tries := 0; ; tries++ {
		now := s.now().UTC()
		dl.Attempts = append(dl.Attempts, att)
		dl.UpdatedAt = now
		decided = dl.Status == status && dl.Step == step && sameTime(dl.NextAttemptAt, due)
		if decided {
			switch v {
			case verdictSuccess:
				dl.Status, dl.NextAttemptAt = StatusSucceeded, nil
			case verdictGone, verdictFinal:
				dl.Status, dl.NextAttemptAt = StatusFailed, nil
			case verdictRetry:
				dl.Step++
				delay, more := s.opts.Schedule.Delay(dl.Step)
				if more {
					if out.RetryAfter > 0 {
						delay = max(delay, min(out.RetryAfter, maxRetryAfter))
					}
					next := now.Add(delay)
					dl.NextAttemptAt = &next
				} else {
					dl.Status, dl.NextAttemptAt = StatusFailed, nil
				}
			}
		}
		err := s.updateDelivery(ctx, was, dl)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrConflict) || tries == maxCASTries {
			return fmt.Errorf("record attempt: %w", err)
		}
		if dl, err = s.store.Delivery(ctx, seen.ID); err != nil {
			return fmt.Errorf("record attempt: %w", err)
		}
		reread := *dl
		was = &reread
	}
	d.observe(ep, dl, att, v, decided, took)
	if !decided {
		return nil
	}
	var (
		disabled *Endpoint
		err      error
	)
	switch {
	case v == verdictSuccess && ep.FailureStreak > 0:
		_, err = s.changeEndpoint(ctx, ep.ID, func(e *Endpoint, _ time.Time) error { e.FailureStreak = 0; return nil })
	case v == verdictGone:
		disabled, err = s.disableEndpoint(ctx, ep.ID, "the endpoint answered 410 Gone: the receiver unsubscribed")
	case (v == verdictRetry || v == verdictFinal) && dl.Status == StatusFailed:
		turnedOff := false
		var e *Endpoint
		e, err = s.changeEndpoint(ctx, ep.ID, func(e *Endpoint, now time.Time) error {
			turnedOff = false
			e.FailureStreak++
			if e.Enabled && e.FailureStreak >= s.opts.DisableAfter {
				disable(e, now, fmt.Sprintf("%d consecutive deliveries failed", e.FailureStreak))
				turnedOff = true
			}
			return nil
		})
		if turnedOff {
			disabled = e
		}
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("record attempt: endpoint %s: %w", ep.ID, err)
	}
	if disabled != nil && v == verdictGone && ep.ManagedBy != "" {
		// A platform's REST-hook subscription (Zapier, Make) answered 410: the user turned
		// the Zap or scenario off, and the platform dropped the subscription for good.
		s.log.Info("subscription removed: the hook URL answered 410", "endpoint", ep.ID, "kind", ep.Kind, "managed_by", ep.ManagedBy)
		if err := s.deleteEndpoint(ctx, ep.ID); err != nil && !errors.Is(err, ErrNotFound) {
			return fmt.Errorf("remove subscription %s: %w", ep.ID, err)
		}
		return nil
	}
	if disabled != nil {
		d.announceDisabled(ctx, disabled)
	}
	return nil
}

// observe counts a recorded attempt and logs it: a failed one at warn (one line each,
// the give-up included), a success at debug. dl is the delivery as saved with it; decided
// is false when someone else moved the delivery meanwhile (their decision stands).
func (d *dispatcher) observe(ep *Endpoint, dl *Delivery, att Attempt, v verdict, decided bool, took time.Duration) {
	s := d.s
	outcome := OutcomeRetry
	switch {
	case v == verdictSuccess:
		outcome = OutcomeSuccess
	case v == verdictGone:
		outcome = OutcomeGone
	case decided && dl.Status == StatusFailed:
		outcome = OutcomeFailed
	}
	s.obs.Attempt(ep.Kind, ep.ID, outcome, took)
	if outcome == OutcomeSuccess && !s.log.Enabled(context.Background(), slog.LevelDebug) {
		return // the hot path: no log line to build
	}
	args := []any{"endpoint", ep.ID, "kind", ep.Kind, "delivery", dl.ID, "event", dl.EventID, "type", dl.EventType,
		"attempt", len(dl.Attempts), "of", len(s.opts.Schedule)}
	if att.StatusCode != 0 {
		args = append(args, "status", att.StatusCode)
	}
	if att.Error != "" {
		args = append(args, "err", att.Error)
	}
	switch {
	case outcome == OutcomeSuccess:
		s.log.Debug("delivered", append(args, "duration_ms", att.DurationMS)...)
	case outcome == OutcomeGone:
		s.log.Warn("delivery failed: the endpoint answered 410 Gone and is disabled", args...)
	case outcome == OutcomeFailed && v == verdictFinal:
		s.log.Warn("delivery failed: giving up at once, sending it again can't succeed (413 Payload Too Large, or over the kind's size limit)", args...)
	case outcome == OutcomeFailed:
		s.log.Warn("delivery failed: giving up, the retry schedule is used up", args...)
	case !decided:
		s.log.Warn("delivery attempt failed; the delivery was changed meanwhile (a manual retry or a replay) and goes on as changed", args...)
	case dl.NextAttemptAt != nil:
		s.log.Warn("delivery attempt failed", append(args, "next_attempt", dl.NextAttemptAt.UTC().Format(TimeFormat))...)
	default:
		s.log.Warn("delivery attempt failed", args...)
	}
}

// disableEndpoint disables an endpoint and returns it, or nil if it was already disabled
// (or is gone).
func (s *Service) disableEndpoint(ctx context.Context, id, reason string) (*Endpoint, error) {
	changed := false
	e, err := s.changeEndpoint(ctx, id, func(e *Endpoint, now time.Time) error {
		changed = false
		if e.Enabled {
			disable(e, now, reason)
			changed = true
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) || err == nil && !changed {
		return nil, nil
	}
	return e, err
}

func disable(e *Endpoint, now time.Time, reason string) {
	e.Enabled, e.DisabledAt, e.DisabledReason = false, &now, reason
}

// announceDisabled publishes the meta event endpoint.disabled to every other subscriber.
func (d *dispatcher) announceDisabled(ctx context.Context, ep *Endpoint) {
	s := d.s
	s.log.Warn("endpoint disabled", "endpoint", ep.ID, "reason", ep.DisabledReason)
	data := map[string]any{"endpoint_id": ep.ID, "url": RedactURL(ep.URL), "reason": ep.DisabledReason, "disabled_at": ep.DisabledAt.UTC().Format(TimeFormat)}
	b, err := json.Marshal(data)
	if err == nil {
		_, err = s.publish(ctx, PublishInput{Type: "endpoint.disabled", Source: "hookgate", Data: b}, nil)
	}
	if err != nil {
		s.log.Error("publish endpoint.disabled", "endpoint", ep.ID, "err", err)
	}
}

// pause keeps a delivery of a disabled endpoint aside until the endpoint is enabled.
func (d *dispatcher) pause(ctx context.Context, seen *Delivery, job Job) error {
	s := d.s
	released := false
	_, _, err := s.saveDelivery(ctx, seen.ID, func(dl *Delivery) (bool, error) {
		if dl.Status != StatusPending {
			return false, nil // saved meanwhile: it left the queue then
		}
		if ep, ok := s.endpoint(dl.EndpointID); ok && ep.Enabled {
			// Re-enabled since the attempt began: send it now.
			released = true
			return false, nil
		}
		dl.Status, dl.NextAttemptAt, dl.UpdatedAt = StatusPaused, nil, s.now().UTC()
		return true, nil
	})
	if released {
		s.store.Release(job.Delivery)
	}
	return err
}

// settle ends a delivery without an attempt (its endpoint or its event is gone).
func (d *dispatcher) settle(ctx context.Context, seen *Delivery, status DeliveryStatus) error {
	s := d.s
	_, _, err := s.saveDelivery(ctx, seen.ID, func(dl *Delivery) (bool, error) {
		if dl.Status != StatusPending {
			return false, nil
		}
		dl.Status, dl.NextAttemptAt, dl.UpdatedAt = status, nil, s.now().UTC()
		return true, nil
	})
	return err
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// RedactURL returns u with its path, query and credentials hidden (scheme and host are
// kept), for logs and events: catch-hook URLs of Zapier, Make or n8n are credentials.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "<redacted>"
	}
	out := p.Scheme + "://" + p.Host
	if p.Path != "" && p.Path != "/" || p.RawQuery != "" {
		out += "/<redacted>"
	}
	return out
}

package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Observer is told what the Service does, as it happens, so that metrics can be kept
// without the gateway knowing how (connectors/metrics implements it with Prometheus).
// Its methods are called on the hot paths, concurrently: they must be cheap and must not
// block. Labels it is given are ids, kinds, sources and types, never URLs, secrets or data.
type Observer interface {
	// Published counts an event stored by Publish or a catch hook (source is the event's
	// envelope source, possibly empty).
	Published(source, eventType string)
	// Duplicate counts a publish or catch-hook call that repeated a stored event.
	Duplicate(source string)
	// Attempt counts one delivery attempt to endpoint (of kind) that ended in outcome and
	// took d.
	Attempt(kind, endpoint string, outcome AttemptOutcome, d time.Duration)
	// CatchHook counts one call to the catch hook of source (the source's id) by result.
	CatchHook(source string, result RequestResult)
}

// AttemptOutcome is what a delivery attempt led to.
type AttemptOutcome string

// The outcomes of an attempt.
const (
	// OutcomeSuccess: the receiver took it (2xx); the delivery succeeded.
	OutcomeSuccess AttemptOutcome = "success"
	// OutcomeRetry: it failed and is tried again later.
	OutcomeRetry AttemptOutcome = "retry"
	// OutcomeGone: the receiver answered 410; the endpoint is disabled.
	OutcomeGone AttemptOutcome = "gone"
	// OutcomeFailed: it failed and the schedule is used up; the delivery gave up.
	OutcomeFailed AttemptOutcome = "failed"
)

// nopObserver is the Observer of a Service that was given none.
type nopObserver struct{}

func (nopObserver) Published(string, string)                              {}
func (nopObserver) Duplicate(string)                                      {}
func (nopObserver) Attempt(string, string, AttemptOutcome, time.Duration) {}
func (nopObserver) CatchHook(string, RequestResult)                       {}

// Backlog is the work queue at a glance: what is waiting to be delivered.
type Backlog struct {
	// Pending counts the queued deliveries (pending, leased ones included) per endpoint id.
	Pending map[string]int
	// OldestDue is when the queued delivery due first was due; zero when none is queued.
	OldestDue time.Time
}

// Gauges is the Service's state as metrics show it, read at scrape time.
type Gauges struct {
	// Pending counts the deliveries waiting to be sent, per endpoint id: every endpoint
	// (0 when it has none), and any deleted one whose deliveries are still queued.
	Pending map[string]int
	// Lag is how long the oldest due, undelivered delivery has been due (0: none is late).
	Lag time.Duration
	// Enabled and Disabled count the endpoints in each state.
	Enabled, Disabled int
	// Disk is the data volume as just measured (zero when the store has no volume or the
	// guard is off).
	Disk DiskStatus
}

// Gauges reads the state that metrics sample: the work queue's backlog, the endpoints'
// states and the data volume. Its cost is one pass over the work queue (see
// WorkQueue.Backlog).
func (s *Service) Gauges(ctx context.Context) (Gauges, error) {
	g := Gauges{Disk: s.disk.status(), Pending: map[string]int{}}
	s.mu.RLock()
	for id, ep := range s.endpoints {
		g.Pending[id] = 0
		if ep.Enabled {
			g.Enabled++
		} else {
			g.Disabled++
		}
	}
	s.mu.RUnlock()
	b, err := s.store.Backlog(ctx)
	if err != nil {
		return g, fmt.Errorf("read the work queue: %w", err)
	}
	for id, n := range b.Pending {
		g.Pending[id] = n
	}
	if !b.OldestDue.IsZero() {
		g.Lag = max(s.now().Sub(b.OldestDue), 0)
	}
	return g, nil
}

// rejectWindow is how long the log sums up a source's refused catch-hook calls: the first
// of a window is logged with its reason, the rest are counted and reported in one line when
// the next window begins (or the Service stops), so a flood can't flood the log.
const rejectWindow = time.Minute

// rejectLog sums up refused catch-hook calls per source (see rejectWindow).
type rejectLog struct {
	mu      sync.Mutex
	sources map[string]*rejectWindowState
}

type rejectWindowState struct {
	start     time.Time
	counts    map[RequestResult]int // the calls not logged one by one
	lastError string
}

// note records a refused call of source at now; it logs the call if it opens a window,
// and the previous window's summary when that had calls left unlogged.
func (s *Service) noteRefused(src string, res RequestResult, reason string, now time.Time) {
	r := &s.rejects
	r.mu.Lock()
	if r.sources == nil {
		r.sources = map[string]*rejectWindowState{}
	}
	w := r.sources[src]
	var summary *rejectWindowState
	open := w == nil || !now.Before(w.start.Add(rejectWindow))
	if open {
		if w != nil && len(w.counts) > 0 {
			summary = w
		}
		r.sources[src] = &rejectWindowState{start: now, counts: map[RequestResult]int{}}
	} else {
		w.counts[res]++
		w.lastError = reason
	}
	r.mu.Unlock()
	if summary != nil {
		s.logRejectSummary(src, summary, now)
	}
	if open {
		s.log.Warn("catch hook refused a call", "source", src, "result", string(res), "err", reason,
			"note", fmt.Sprintf("further refused calls of this source are summed up for %s", rejectWindow))
	}
}

// flushRefused logs the summary of every window with unlogged calls (at Stop).
func (s *Service) flushRefused(now time.Time) {
	r := &s.rejects
	r.mu.Lock()
	pending := map[string]*rejectWindowState{}
	for src, w := range r.sources {
		if len(w.counts) > 0 {
			pending[src] = w
		}
	}
	r.sources = nil
	r.mu.Unlock()
	for src, w := range pending {
		s.logRejectSummary(src, w, now)
	}
}

func (s *Service) logRejectSummary(src string, w *rejectWindowState, now time.Time) {
	total := 0
	args := []any{"source", src}
	for _, res := range []RequestResult{ResultRejected, ResultInvalid, ResultFailed} {
		if n := w.counts[res]; n > 0 {
			total += n
			args = append(args, string(res), n)
		}
	}
	args = append(args, "calls", total, "since", w.start.UTC().Format(TimeFormat), "until", now.UTC().Format(TimeFormat), "last_err", w.lastError)
	s.log.Warn("catch hook refused more calls", args...)
}

// observeCatchHook counts a logged catch-hook call and logs it when it was refused.
func (s *Service) observeCatchHook(srcID string, e *SourceRequest) {
	res := e.Result
	s.obs.CatchHook(srcID, res)
	switch res {
	case ResultAccepted, ResultDuplicate:
		s.log.Debug("catch hook accepted a call", "source", srcID, "event", e.EventID, "type", e.EventType, "duplicate", e.Duplicate)
	default:
		s.noteRefused(srcID, res, e.Error, s.now())
	}
}

// probeStore reads one record that doesn't exist, to learn whether the store answers.
func (s *Service) probeStore(ctx context.Context) error {
	_, err := s.store.Delivery(ctx, "dl_readyz_probe")
	if err == nil || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

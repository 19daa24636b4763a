package gateway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Stats is the gateway at a glance over a window: per endpoint, how its attempts went and
// what waits; the totals; and whether the gateway is ready. It is what GET /v1/stats
// answers and `hookgate status` prints.
type Stats struct {
	// Since and Until are the window: attempts made in it are counted.
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Endpoints has one entry per endpoint, by id, and one per deleted endpoint that still
	// had attempts in the window or deliveries queued.
	Endpoints []*EndpointStats `json:"endpoints"`
	// Totals sums the endpoints (its p50 and p95 are over every attempt).
	Totals EndpointStats `json:"totals"`
	// Lag is how long, in seconds, the oldest due, undelivered delivery has been due.
	LagSeconds float64 `json:"lag_seconds"`
	// Ready, Reasons and Disk are what GET /readyz reports.
	Ready   bool       `json:"ready"`
	Reasons []string   `json:"reasons,omitempty"`
	Disk    DiskStatus `json:"disk"`
	// Scan says which deliveries were read to count the attempts.
	Scan StatsScan `json:"scan"`
	// Series is the window's events and attempts in equal steps, oldest first: at most
	// SeriesPoints of them, each StepSeconds long (a whole number of minutes; the last may
	// run past Until).
	Series      []StatsPoint `json:"series"`
	StepSeconds int          `json:"step_seconds"`
	// Events counts the events received in the window (published or caught), as the
	// series' Events sum them.
	Events int `json:"events"`
}

// SeriesPoints is the most steps Stats.Series has.
const SeriesPoints = 60

// StatsPoint is one step of Stats.Series: the events received and the attempts made from
// Start on, for StepSeconds.
type StatsPoint struct {
	Start     time.Time `json:"start"`
	Events    int       `json:"events"`
	Successes int       `json:"successes"`
	Failures  int       `json:"failures"`
}

// seriesStep is the length of a step of a series over window: the window in whole minutes
// (what a caller's "the last hour" overshoots by while it asks is left out) divided by
// SeriesPoints, rounded up to a whole minute.
func seriesStep(window time.Duration) time.Duration {
	step := (window.Truncate(time.Minute) + SeriesPoints - 1) / SeriesPoints
	return max(time.Minute, (step+time.Minute-1)/time.Minute*time.Minute)
}

// StatsScan says what Stats read: the deliveries created since CreatedSince (a delivery
// is attempted over its retry schedule after it is created, so one created earlier has
// no attempt in the window unless it was retried or replayed by hand, or held by a
// deliver_at), at most MaxScan of them, newest first, and the events received in the
// window, at most MaxScan of them too, newest first. Truncated is true when either scan
// stopped at MaxScan: then the counts cover only the newest deliveries or events read.
type StatsScan struct {
	CreatedSince time.Time `json:"created_since"`
	Deliveries   int       `json:"deliveries"`
	Events       int       `json:"events"`
	MaxScan      int       `json:"max_scan"`
	Truncated    bool      `json:"truncated"`
}

// EndpointStats is one endpoint's share of Stats.
type EndpointStats struct {
	// EndpointID and Kind name the endpoint (empty in Totals); State is enabled, disabled
	// or deleted.
	EndpointID string `json:"endpoint_id,omitempty"`
	Kind       string `json:"kind,omitempty"`
	State      string `json:"state,omitempty"`
	// DisabledReason is why the gateway disabled the endpoint, when it did.
	DisabledReason string `json:"disabled_reason,omitempty"`
	// Attempts made in the window, and how many of them succeeded (2xx) or failed.
	Attempts  int `json:"attempts"`
	Successes int `json:"successes"`
	Failures  int `json:"failures"`
	// SuccessRatio is Successes / Attempts; null without attempts.
	SuccessRatio *float64 `json:"success_ratio"`
	// GaveUp counts the deliveries that failed for good in the window (schedule used up).
	GaveUp int `json:"gave_up"`
	// P50MS and P95MS are the attempts' durations in milliseconds; null without attempts.
	P50MS *int64 `json:"p50_ms"`
	P95MS *int64 `json:"p95_ms"`
	// Pending counts the deliveries queued now; Paused those kept while it is disabled.
	Pending int `json:"pending"`
	Paused  int `json:"paused"`
	// LastError is the newest failed attempt's error (or HTTP status) in the window, and
	// LastErrorAt when it was made.
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`

	durations []int64
}

// statsScan bounds how many deliveries one Stats call reads, as maxScan bounds a list (a
// variable so that a test can lower it).
var statsScan = maxScan

// Stats reports how deliveries went since since (zero: the last hour) until now. It reads
// the work queue once, the paused deliveries, and the deliveries created since since less
// the retry schedule's span, newest first, at most statsScan of them (see StatsScan).
func (s *Service) Stats(ctx context.Context, since time.Time) (*Stats, error) {
	now := s.now().UTC()
	if since.IsZero() {
		since = now.Add(-time.Hour)
	}
	if since.After(now) {
		return nil, invalid("since", "is in the future")
	}
	st := &Stats{Since: since.UTC(), Until: now, Endpoints: []*EndpointStats{}}
	step := seriesStep(now.Sub(since))
	st.StepSeconds = int(step / time.Second)
	for t := since; len(st.Series) < SeriesPoints && (t.Before(now) || t.Equal(since)); t = t.Add(step) {
		st.Series = append(st.Series, StatsPoint{Start: t.UTC()})
	}
	byID := map[string]*EndpointStats{}
	get := func(id string) *EndpointStats {
		e := byID[id]
		if e == nil {
			e = &EndpointStats{EndpointID: id, State: "deleted"}
			byID[id] = e
		}
		return e
	}
	s.mu.RLock()
	for id, ep := range s.endpoints {
		e := get(id)
		e.Kind, e.State, e.DisabledReason = ep.Kind, "enabled", ep.DisabledReason
		if !ep.Enabled {
			e.State = "disabled"
		}
	}
	s.mu.RUnlock()

	b, err := s.store.Backlog(ctx)
	if err != nil {
		return nil, fmt.Errorf("stats: read the work queue: %w", err)
	}
	for id, n := range b.Pending {
		get(id).Pending = n
	}
	if !b.OldestDue.IsZero() {
		st.LagSeconds = max(now.Sub(b.OldestDue), 0).Seconds()
	}

	budget := statsScan
	read := func(q DeliveryQuery, each func(d *Delivery)) (bool, error) {
		q.Limit = 1000
		for budget > 0 {
			q.MaxScan = min(budget, 1000)
			r, err := s.store.ListDeliveries(ctx, q)
			if err != nil {
				return false, err
			}
			budget -= q.MaxScan // what the call may have read, matching or not
			for _, d := range r.Deliveries {
				each(d)
			}
			if r.Next == "" {
				return false, nil
			}
			q.After = r.Next
		}
		return true, nil
	}
	cut, err := read(DeliveryQuery{Status: StatusPaused}, func(d *Delivery) { get(d.EndpointID).Paused++ })
	if err != nil {
		return nil, fmt.Errorf("stats: count paused deliveries: %w", err)
	}
	st.Scan = StatsScan{CreatedSince: since.Add(-s.opts.Schedule.span()).UTC(), MaxScan: statsScan}
	budget = statsScan
	truncated, err := read(DeliveryQuery{Since: st.Scan.CreatedSince}, func(d *Delivery) {
		st.Scan.Deliveries++
		if d.UpdatedAt.Before(since) {
			return
		}
		e := get(d.EndpointID)
		for i, a := range d.Attempts {
			if a.At.Before(since) {
				continue
			}
			e.Attempts++
			e.durations = append(e.durations, a.DurationMS)
			// The last step takes what the window's odd seconds hold; an attempt stamped
			// after now (a clock step) is left out of the series.
			var pt *StatsPoint
			if !a.At.After(now) {
				pt = &st.Series[min(int(a.At.Sub(since)/step), len(st.Series)-1)]
			}
			if a.succeeded() {
				e.Successes++
				if pt != nil {
					pt.Successes++
				}
				continue
			}
			e.Failures++
			if pt != nil {
				pt.Failures++
			}
			if e.LastErrorAt == nil || a.At.After(*e.LastErrorAt) {
				at := a.At
				e.LastError, e.LastErrorAt = a.problem(), &at
			}
			if i == len(d.Attempts)-1 && d.Status == StatusFailed {
				e.GaveUp++
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("stats: read deliveries: %w", err)
	}
	evCut, err := s.countEvents(ctx, st, since, now, step)
	if err != nil {
		return nil, fmt.Errorf("stats: read events: %w", err)
	}
	st.Scan.Truncated = truncated || cut || evCut

	t := &st.Totals
	for _, e := range byID {
		if e.State == "deleted" && e.Attempts == 0 && e.Pending == 0 && e.Paused == 0 {
			continue
		}
		e.finish()
		st.Endpoints = append(st.Endpoints, e)
		t.Attempts += e.Attempts
		t.Successes += e.Successes
		t.Failures += e.Failures
		t.GaveUp += e.GaveUp
		t.Pending += e.Pending
		t.Paused += e.Paused
		t.durations = append(t.durations, e.durations...)
		if e.LastErrorAt != nil && (t.LastErrorAt == nil || e.LastErrorAt.After(*t.LastErrorAt)) {
			t.LastError, t.LastErrorAt = e.EndpointID+": "+e.LastError, e.LastErrorAt
		}
	}
	t.finish()
	slices.SortFunc(st.Endpoints, func(a, b *EndpointStats) int { return cmp.Compare(a.EndpointID, b.EndpointID) })

	r := s.Ready()
	st.Ready, st.Reasons, st.Disk = r.Ready, r.Reasons, r.Disk
	return st, nil
}

// countEvents adds the events received from since to now to st's series and Events,
// reading the event log newest first until an event received before since, at most
// statsScan events; it reports whether it stopped at that bound. (The log is in append
// order, which is the order of ReceivedAt up to the clock's steps.)
func (s *Service) countEvents(ctx context.Context, st *Stats, since, now time.Time, step time.Duration) (bool, error) {
	q := EventQuery{Newest: true, Limit: 1000}
	for budget := statsScan; ; {
		if budget <= 0 {
			return true, nil
		}
		q.MaxScan = min(budget, 1000)
		r, err := s.store.Events(ctx, q)
		if err != nil {
			return false, err
		}
		budget -= len(r.Events)
		for _, ev := range r.Events {
			if ev.ReceivedAt.Before(since) {
				return false, nil
			}
			st.Scan.Events++
			if ev.ReceivedAt.After(now) {
				continue // a clock step: left out, as attempts are
			}
			st.Events++
			st.Series[min(int(ev.ReceivedAt.Sub(since)/step), len(st.Series)-1)].Events++
		}
		if !r.More || len(r.Events) == 0 {
			return false, nil
		}
		q.After = r.Next
	}
}

// finish computes the ratio and the percentiles from the counts and durations.
func (e *EndpointStats) finish() {
	if e.Attempts == 0 {
		return
	}
	ratio := float64(e.Successes) / float64(e.Attempts)
	e.SuccessRatio = &ratio
	slices.Sort(e.durations)
	p50, p95 := percentile(e.durations, 50), percentile(e.durations, 95)
	e.P50MS, e.P95MS = &p50, &p95
}

// percentile is the p-th percentile of sorted (nearest rank); sorted is not empty.
func percentile(sorted []int64, p int) int64 {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n), 1-based
	return sorted[max(rank, 1)-1]
}

// span is how long after a delivery is created its schedule may still attempt it: the
// sum of the schedule's delays.
func (sc Schedule) span() time.Duration {
	var total time.Duration
	for _, d := range sc {
		total += d
	}
	return total
}

// succeeded reports whether the attempt delivered, as the dispatcher judged it.
func (a Attempt) succeeded() bool {
	o := Outcome{StatusCode: a.StatusCode}
	if a.Error != "" {
		o.Err = errors.New(a.Error)
	}
	return classify(o) == verdictSuccess
}

// problem says what went wrong with a failed attempt: its error, or its HTTP status.
func (a Attempt) problem() string {
	if a.Error != "" {
		return a.Error
	}
	return fmt.Sprintf("HTTP %d", a.StatusCode)
}

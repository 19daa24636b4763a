package gateway

import (
	"sync"
	"time"
)

// limits keeps each endpoint to its own share of the dispatcher: at most its
// rate_limit_per_s, and, once it is slow (an attempt took or is taking slowAttempt or more),
// at most perEndpoint attempts in flight, leaving the other workers to the other endpoints.
// A fast endpoint may use every worker. A delivery that would exceed either
// is not made to wait in a worker: it is moved later in the queue (to the slot it reserved),
// so a slow or rate-limited endpoint never holds up deliveries to the others.
//
// Rates use GCRA (the generic cell rate algorithm): each endpoint has a theoretical arrival
// time tat; a delivery may go when tat - burst tolerance <= now, and pushes tat one
// interval on. One that may not go reserves the slot at tat, so a backlog is spread over
// future slots once instead of being retried in a loop.
type limits struct {
	perEndpoint int

	mu sync.Mutex
	ep map[string]*epLimit
}

type epLimit struct {
	inflight int
	started  map[string]time.Time // delivery id → when its attempt began, while in flight
	last     time.Duration        // the last attempt's duration
	tat      time.Time            // rate: when the next delivery is due
	ctat     time.Time            // concurrency: when a deferred delivery should look again
	reserved map[string]time.Time // delivery id → the slot it was deferred to
	latency  time.Duration        // moving average of attempt durations
}

// initialLatency is the guess of an endpoint's attempt duration before one is measured.
const initialLatency = 20 * time.Millisecond

// slowAttempt is how long an attempt takes before its endpoint counts as slow.
const slowAttempt = time.Second

// slow reports whether the endpoint's attempts take slowAttempt or more.
func (st *epLimit) slow(now time.Time) bool {
	if st.last >= slowAttempt {
		return true
	}
	for _, at := range st.started {
		if now.Sub(at) >= slowAttempt {
			return true
		}
	}
	return false
}

func newLimits(perEndpoint int) *limits {
	return &limits{perEndpoint: max(perEndpoint, 1), ep: map[string]*epLimit{}}
}

func (l *limits) state(epID string) *epLimit {
	st, ok := l.ep[epID]
	if !ok {
		st = &epLimit{reserved: map[string]time.Time{}, started: map[string]time.Time{}, latency: initialLatency}
		l.ep[epID] = st
	}
	return st
}

// admit decides whether the delivery id to endpoint epID (whose rate limit is rate per
// second, 0 for none) may be attempted now. If not, it returns when to look again; that
// slot is reserved for the delivery.
func (l *limits) admit(epID, id string, rate float64, now time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.state(epID)
	slot, hadSlot := st.reserved[id]
	delete(st.reserved, id)
	if rate > 0 && !(hadSlot && !now.Before(slot)) {
		var at time.Time
		st.tat, at = gcra(st.tat, now, rate)
		if at.After(now) {
			st.reserved[id] = at
			return at, false
		}
	}
	if st.inflight >= l.perEndpoint && st.slow(now) {
		if st.ctat.Before(now) {
			st.ctat = now
		}
		st.ctat = st.ctat.Add(max(max(st.latency, st.last)/time.Duration(l.perEndpoint), time.Millisecond))
		// The rate slot (if any) was used above: keep it, so the delivery is not charged twice.
		st.reserved[id] = st.ctat
		return st.ctat, false
	}
	st.inflight++
	st.started[id] = now
	return time.Time{}, true
}

// gcra takes the next slot of a rate of rate per second whose theoretical arrival time is
// tat (zero: none yet), at now: it returns the new tat and the slot taken, at or before now
// when a delivery may go at once, else the later time it is reserved for. The burst is one
// second's worth (at least one). The one rate computation, for the dispatcher's own limits
// and a store's shared ones (SharedRates).
func gcra(tat, now time.Time, rate float64) (next, slot time.Time) {
	interval := time.Duration(float64(time.Second) / rate)
	burst := max(int(rate), 1)
	tolerance := time.Duration(burst-1) * interval
	if tat.Before(now) {
		tat = now
	}
	if tat.Add(-tolerance).After(now) {
		return tat.Add(interval), tat
	}
	return tat.Add(interval), now
}

// finish records the end, at now, of the admitted attempt of delivery id.
func (l *limits) finish(epID, id string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.state(epID)
	d := now.Sub(st.started[id])
	delete(st.started, id)
	st.inflight--
	st.last = d
	st.latency = (st.latency*7 + d) / 8
	// Idle and not known to be slow: forget it, so deleted endpoints don't accumulate. A
	// slow endpoint is remembered even when its last attempts ended together, or its
	// next deliveries would take every worker again before one is seen to be slow.
	if st.inflight == 0 && len(st.reserved) == 0 && now.After(st.tat) && now.After(st.ctat) && st.last < slowAttempt {
		delete(l.ep, epID)
	}
}

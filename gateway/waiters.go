package gateway

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Waiter is a registration for the events of one type pattern (and source), made by
// WaitFor. Its Ready channel receives a value after an event it matches is appended, by
// this process or by another one sharing the store; events of other types don't wake it.
// One value may stand for several events. A waiter reads what it needs (ListEvents after
// its cursor) after registering, then waits on Ready, so nothing appended in between is
// missed. Close it when done.
type Waiter struct {
	pattern string // as given: exact, "video.*" or "*"
	source  string
	ready   chan struct{}
	reg     *waiters
}

// Ready returns the channel that receives a value when a matching event has been appended
// since the last value was taken. It also receives one when the store fails or closes, so
// that the waiter reads again and sees the error.
func (w *Waiter) Ready() <-chan struct{} { return w.ready }

// Close removes the registration. Closing twice does nothing.
func (w *Waiter) Close() { w.reg.remove(w) }

// wake signals w without blocking: a value already waiting stands for this one too.
func (w *Waiter) wake() {
	select {
	case w.ready <- struct{}{}:
	default:
	}
}

// WaitFor registers a waiter for the events whose type matches pattern (an exact type, a
// prefix such as "video.*", or "*"), and, when source is set, that come from it. Each event
// the Service appends is handed to the waiters it matches right after Append (a map lookup
// by type: an idle waiter on another type costs a publish nothing). On a store that other
// processes append to as well (one implementing SharedLog), the Service also follows the
// log (Store.Appended) and routes their events.
func (s *Service) WaitFor(pattern, source string) *Waiter {
	w := &Waiter{pattern: pattern, source: source, ready: make(chan struct{}, 1), reg: &s.waiters}
	s.waiters.add(w)
	if sl, ok := s.store.(SharedLog); ok && sl.SharedLog() {
		s.routerOnce.Do(s.startRouter)
	}
	return w
}

// SharedLog is implemented by a Store whose event log other processes append to too
// (SharedLog returns true). The Service then reads the events appended after the last it
// saw whenever Appended signals, and wakes their waiters. A store only this process
// appends to (queue/badger, queue/memory) needs nothing: the Service routes what it
// appends itself.
type SharedLog interface {
	SharedLog() bool
}

// waiters is the registry: waiters by exact type, by prefix ("video." for "video.*"), and
// for "*". Its mutex also orders registrations against the router's catching up (see route).
type waiters struct {
	mu     sync.Mutex
	exact  map[string]map[*Waiter]struct{}
	prefix map[string]map[*Waiter]struct{}
	all    map[*Waiter]struct{}
	n      int
}

// key returns the map a pattern's waiters live in and their key in it.
func (r *waiters) key(pattern string) (map[string]map[*Waiter]struct{}, string) {
	if strings.HasSuffix(pattern, ".*") {
		if r.prefix == nil {
			r.prefix = map[string]map[*Waiter]struct{}{}
		}
		return r.prefix, pattern[:len(pattern)-1]
	}
	if r.exact == nil {
		r.exact = map[string]map[*Waiter]struct{}{}
	}
	return r.exact, pattern
}

func (r *waiters) add(w *Waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if w.pattern == "*" {
		if r.all == nil {
			r.all = map[*Waiter]struct{}{}
		}
		r.all[w] = struct{}{}
		return
	}
	m, k := r.key(w.pattern)
	set := m[k]
	if set == nil {
		set = map[*Waiter]struct{}{}
		m[k] = set
	}
	set[w] = struct{}{}
}

func (r *waiters) remove(w *Waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if w.pattern == "*" {
		if _, ok := r.all[w]; ok {
			delete(r.all, w)
			r.n--
		}
		return
	}
	m, k := r.key(w.pattern)
	set := m[k]
	if _, ok := set[w]; !ok {
		return
	}
	delete(set, w)
	r.n--
	if len(set) == 0 {
		delete(m, k)
	}
}

// route wakes the waiters of ev, which this Service has just appended.
func (r *waiters) route(ev *StoredEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n > 0 {
		r.notify(ev)
	}
}

// notify wakes the waiters ev matches. Callers hold r.mu.
func (r *waiters) notify(ev *StoredEvent) {
	wake := func(set map[*Waiter]struct{}) {
		for w := range set {
			if w.source == "" || w.source == ev.Source {
				w.wake()
			}
		}
	}
	wake(r.exact[ev.Type])
	if len(r.prefix) > 0 {
		for i := 0; i < len(ev.Type); i++ {
			if ev.Type[i] == '.' {
				wake(r.prefix[ev.Type[:i+1]])
			}
		}
	}
	wake(r.all)
}

// wakeAll wakes every waiter (the store failed: each reads again and sees the error).
// Callers hold r.mu.
func (r *waiters) wakeAll() {
	for _, set := range r.exact {
		for w := range set {
			w.wake()
		}
	}
	for _, set := range r.prefix {
		for w := range set {
			w.wake()
		}
	}
	for w := range r.all {
		w.wake()
	}
}

// startRouter starts the goroutine that routes appended events to waiters, once, when the
// first waiter registers. It reads the log's head before returning, so that every event
// appended after the first registration's read is routed.
func (s *Service) startRouter() {
	if s.bgCtx.Err() != nil {
		return // stopped
	}
	rt := &router{s: s}
	s.waiters.mu.Lock()
	rt.catchUp(s.bgCtx)
	s.waiters.mu.Unlock()
	s.bg.Add(1)
	go rt.run(s.bgCtx)
}

// router follows a shared event log (Store.Appended: appends by this process and by
// others) and hands each new event to the waiters it matches. This process's own events
// are then routed twice (once by Publish): a waiter woken twice reads once more.
type router struct {
	s    *Service
	last Seq // the last event routed (or skipped while nobody waited)
}

// routeBatch bounds one read of the log.
const routeBatch = 1000

func (rt *router) run(ctx context.Context) {
	defer rt.s.bg.Done()
	for {
		grown := rt.s.store.Appended() // taken before reading, so nothing is missed
		closed := rt.route(ctx)
		if closed {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-grown:
		}
	}
}

// route reads the events appended after rt.last and wakes their waiters. It holds the
// registry's lock throughout, so that a waiter registers either before (and is woken by
// what is read here) or after (and its own read after registering sees it). With no
// waiter it only moves to the log's head. It reports whether the store is closed.
func (rt *router) route(ctx context.Context) (closed bool) {
	r := &rt.s.waiters
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return rt.catchUp(ctx)
	}
	for {
		res, err := rt.s.store.Events(ctx, EventQuery{After: rt.last, Limit: routeBatch, MaxScan: routeBatch})
		if err != nil {
			if ctx.Err() == nil {
				r.wakeAll()
				if !errors.Is(err, ErrClosed) {
					rt.s.log.Warn("routing events to waiters: reading the log failed; waiters read it themselves", "err", err)
				}
			}
			return errors.Is(err, ErrClosed)
		}
		for _, ev := range res.Events {
			r.notify(ev)
		}
		rt.last = res.Next
		if !res.More {
			return false
		}
	}
}

// catchUp moves rt.last to the newest event without routing anything. Callers hold the
// registry's lock.
func (rt *router) catchUp(ctx context.Context) (closed bool) {
	res, err := rt.s.store.Events(ctx, EventQuery{Newest: true, Limit: 1})
	if err != nil {
		if !errors.Is(err, ErrClosed) && ctx.Err() == nil {
			rt.s.log.Warn("routing events to waiters: reading the log's head failed", "err", err)
		}
		rt.s.waiters.wakeAll()
		return errors.Is(err, ErrClosed)
	}
	if len(res.Events) > 0 {
		rt.last = res.Events[0].Seq
	}
	return false
}

// MaxEventWait bounds WaitEvents' wait.
const MaxEventWait = 60 * time.Second

// WaitEvents is ListEvents (oldest first) that, when nothing matches yet, waits up to wait
// for a matching event to be stored and then lists it: a long poll. It returns as soon as
// the page has an event, or, when wait ends first, the empty page, whose Next is where
// the scan got to (pass it as After next time). wait 0 (or Newest) is ListEvents.
func (s *Service) WaitEvents(ctx context.Context, f EventFilter, wait time.Duration) (*EventPage, error) {
	if wait <= 0 || f.Newest {
		return s.ListEvents(ctx, f)
	}
	if wait > MaxEventWait {
		return nil, invalid("wait", "must be at most %s", MaxEventWait)
	}
	pattern := f.Type
	if pattern == "" {
		pattern = "*"
	}
	w := s.WaitFor(pattern, f.Source) // before the first read: nothing stored after it is missed
	defer w.Close()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		page, err := s.ListEvents(ctx, f)
		if err != nil || len(page.Data) > 0 || page.More {
			return page, err
		}
		if page.Next != "" {
			f.After = page.Next // the events scanned so far didn't match: don't read them again
		}
		select {
		case <-w.Ready():
		case <-timer.C:
			return page, nil
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for events: %w", context.Cause(ctx))
		}
	}
}

package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// handoffs hands each delivery a publish creates to its first attempt in memory: the
// dispatcher takes the delivery and its event from here instead of reading both back from
// the store (and decoding them) a moment after they were written. Durability is the
// store's alone: an entry is usable only once the Append that stored its delivery returned,
// and the dispatcher leases the delivery from the store's work queue as always; the
// hand-off only spares the re-read.
//
// An entry is dropped when it is taken, when the Service saves its delivery (a manual
// retry, a cancel: the record moved on), and at the latest when two generations of newer
// entries have filled (a delivery leased by another process sharing the store, or one
// scheduled far ahead), so the memory it holds is bounded by handoffMax entries.
//
// The entries also measure how far delivery is behind publishing: waiting counts those no
// worker has leased yet (backpressure, see room).
type handoffs struct {
	mu       sync.Mutex
	cur, old map[string]*handoff

	// fresh lists the entries in the order they were handed off, from head on, for the
	// dispatcher's share of fresh work (see freshIDs); at most handoffMax long, and kept
	// only when ordered (the store is an IDLeaser): nothing else takes entries off it.
	fresh   []*handoff
	head    int
	ordered bool

	waiting   int           // entries not leased yet
	roomFreed chan struct{} // closed when waiting drops below the limit a publish waits on
	swept     time.Time     // the last sweep of stale entries
}

// handoffMax bounds the entries kept (both generations together).
const handoffMax = 1 << 16

// handoff is one delivery waiting for its first attempt.
type handoff struct {
	dl     *Delivery // a copy, with the revision Append gave it once ready closes with ok
	t      *handoffTicket
	at     time.Time // when it was handed off
	leased bool      // a worker has it (or it no longer counts as waiting)
}

// handoffTicket is shared by the deliveries of one publish: ready closes once its Append
// returned, and ok tells whether it stored them. The envelope, as every endpoint without a
// mapping receives it, is encoded once for all of them, by the first attempt.
type handoffTicket struct {
	ev      *StoredEvent
	entries []*handoff // what put registered, by delivery; done sets their revisions
	ready   chan struct{}
	ok      bool

	encode   sync.Once
	envelope []byte
}

// body returns the event's envelope, encoding it on the first call.
func (t *handoffTicket) body() []byte {
	t.encode.Do(func() { t.envelope = t.ev.Body() })
	return t.envelope
}

// put registers ds (of ev, not yet appended) and returns their ticket; the caller calls
// ticket.done once the Append returned. Only pending deliveries due by now (the Service's
// clock) are handed off.
func (h *handoffs) put(ev *StoredEvent, ds []*Delivery, now time.Time) *handoffTicket {
	t := &handoffTicket{ev: ev, ready: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur == nil {
		h.cur = make(map[string]*handoff)
	}
	at := time.Now()
	for _, d := range ds {
		if d.Status != StatusPending || d.NextAttemptAt == nil || d.NextAttemptAt.After(now) {
			continue // scheduled for later: its attempt reads the store then
		}
		if len(h.cur) >= handoffMax/2 {
			for _, e := range h.old {
				h.unwait(e)
			}
			h.old, h.cur = h.cur, make(map[string]*handoff, len(h.cur))
		}
		c := *d
		e := &handoff{dl: &c, t: t, at: at}
		h.cur[d.ID] = e
		t.entries = append(t.entries, e)
		h.waiting++
		if !h.ordered {
			continue
		}
		if len(h.fresh)-h.head >= handoffMax {
			h.fresh[h.head] = nil // the oldest loses its place in line, not its hand-off
			h.head++
		}
		if h.head > len(h.fresh)/2 {
			n := copy(h.fresh, h.fresh[h.head:])
			clear(h.fresh[n:])
			h.fresh, h.head = h.fresh[:n], 0
		}
		h.fresh = append(h.fresh, e)
	}
	return t
}

// unwait stops counting e as waiting. Caller holds mu.
func (h *handoffs) unwait(e *handoff) {
	if e.leased {
		return
	}
	e.leased = true
	h.waiting--
	if h.roomFreed != nil {
		close(h.roomFreed) // the waiting publishes look again
		h.roomFreed = nil
	}
}

// leased notes that workers leased jobs: their deliveries no longer wait.
func (h *handoffs) leased(jobs []Job) {
	h.mu.Lock()
	for _, j := range jobs {
		if e := h.lookup(j.Delivery); e != nil {
			h.unwait(e)
		}
	}
	h.mu.Unlock()
}

// freshIDs returns up to n deliveries handed off and not yet leased, oldest first, whose
// publish has returned, and takes them out of the line (a delivery the store could not
// lease by id is leased in due order instead).
func (h *handoffs) freshIDs(n int) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for h.head < len(h.fresh) && len(ids) < n {
		e := h.fresh[h.head]
		if !e.leased && h.lookup(e.dl.ID) == e {
			select {
			case <-e.t.ready:
			default:
				return ids // still being appended; so are most of those behind it
			}
			if e.t.ok {
				ids = append(ids, e.dl.ID)
			}
		}
		h.fresh[h.head] = nil
		h.head++
	}
	return ids
}

// ErrBusy means delivery is behind publishing: more deliveries are waiting for a worker
// than Options.MaxWaiting, and they did not drop below it within Options.BusyWait. Nothing
// was stored; publish again after a moment (the API answers 503 with Retry-After).
var ErrBusy = errors.New("busy: deliveries are behind publishing")

// staleHandoff is how long an entry counts as waiting at most: one whose delivery another
// process leased (a store shared by several gateways) never comes to this dispatcher.
const staleHandoff = 30 * time.Second

// room waits until fewer than limit handed-off deliveries wait for a worker, for at most
// within; ErrBusy after that. This is the publish side's backpressure: a publisher that
// outruns delivery is slowed, then refused, before the backlog grows without bound.
func (h *handoffs) room(ctx context.Context, limit int, within time.Duration) error {
	var timer *time.Timer
	for {
		h.mu.Lock()
		if h.waiting >= limit && time.Since(h.swept) > time.Second {
			h.sweep()
		}
		n := h.waiting
		if n < limit {
			h.mu.Unlock()
			return nil
		}
		if h.roomFreed == nil {
			h.roomFreed = make(chan struct{})
		}
		freed := h.roomFreed
		h.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(within)
			defer timer.Stop()
		}
		select {
		case <-freed:
		case <-timer.C:
			return fmt.Errorf("%w: %d deliveries are waiting for a worker (at most %d)", ErrBusy, n, limit)
		case <-ctx.Done():
			return fmt.Errorf("wait for the deliveries to catch up: %w", context.Cause(ctx))
		}
	}
}

// sweep stops counting entries older than staleHandoff as waiting. Caller holds mu.
func (h *handoffs) sweep() {
	h.swept = time.Now()
	cutoff := h.swept.Add(-staleHandoff)
	for _, m := range []map[string]*handoff{h.old, h.cur} {
		for _, e := range m {
			if e.at.Before(cutoff) {
				h.unwait(e)
			}
		}
	}
}

// done completes a ticket: ds are the deliveries given to put, with the revisions Append
// set (when stored is true). A ticket that was not stored leaves its entries unusable.
func (t *handoffTicket) done(h *handoffs, ds []*Delivery, stored bool) {
	if stored {
		// The entries may be taken already (their workers wait for ready): set the
		// revisions on them, not through the maps; ready orders this before their reads.
		// The entries are a subsequence of ds, in order (put skipped some).
		i := 0
		for _, d := range ds {
			if i < len(t.entries) && t.entries[i].dl.ID == d.ID {
				t.entries[i].dl.Rev = d.Rev
				i++
			}
		}
	} else {
		h.drop(ds)
	}
	t.ok = stored
	close(t.ready)
}

func (h *handoffs) lookup(id string) *handoff {
	if e, ok := h.cur[id]; ok {
		return e
	}
	return h.old[id]
}

// take removes and returns the delivery, event and envelope handed off for job, if the job
// is still what was handed off (same endpoint and due time), waiting for the publish that
// is storing it to return. ok is false when there is none: the caller reads the store.
func (h *handoffs) take(ctx context.Context, job Job) (dl *Delivery, ev *StoredEvent, envelope []byte, ok bool) {
	h.mu.Lock()
	e := h.lookup(job.Delivery)
	if e != nil {
		h.unwait(e)
		delete(h.cur, job.Delivery)
		delete(h.old, job.Delivery)
	}
	h.mu.Unlock()
	if e == nil {
		return nil, nil, nil, false
	}
	select {
	case <-e.t.ready:
	case <-ctx.Done():
		return nil, nil, nil, false
	}
	if !e.t.ok || e.dl.EndpointID != job.Endpoint || e.dl.NextAttemptAt == nil || !e.dl.NextAttemptAt.Equal(job.Due) {
		return nil, nil, nil, false
	}
	return e.dl, e.t.ev, e.t.body(), true
}

// drop forgets the entries of ds (their deliveries are being changed).
func (h *handoffs) drop(ds []*Delivery) {
	h.mu.Lock()
	for _, d := range ds {
		if e := h.lookup(d.ID); e != nil {
			h.unwait(e)
			delete(h.cur, d.ID)
			delete(h.old, d.ID)
		}
	}
	h.mu.Unlock()
}

// saveDeliveries is the Service's one way to write deliveries to the store: it drops
// their hand-offs first, so that a first attempt never starts from a record someone moved
// on, and once they are saved wakes the watchers of Changed.
func (s *Service) saveDeliveries(ctx context.Context, ds ...*Delivery) error {
	s.handoff.drop(ds)
	if err := s.store.SaveDeliveries(ctx, ds...); err != nil {
		return err
	}
	s.changes.fire()
	return nil
}

// updateDelivery is saveDeliveries(ctx, d) for a delivery the caller read as was (at
// revision d.Rev): a store that is a DeliveryUpdater takes what the save replaces from was
// instead of reading it again.
func (s *Service) updateDelivery(ctx context.Context, was, d *Delivery) error {
	u, ok := s.store.(DeliveryUpdater)
	if !ok {
		return s.saveDeliveries(ctx, d)
	}
	s.handoff.drop([]*Delivery{d})
	if err := u.UpdateDelivery(ctx, was, d); err != nil {
		return err
	}
	s.changes.fire()
	return nil
}

// backpressure is what a publish of new data waits for (see Options.MaxWaiting).
func (s *Service) backpressure(ctx context.Context) error {
	if s.opts.MaxWaiting < 0 {
		return nil
	}
	return s.handoff.room(ctx, s.opts.MaxWaiting, s.opts.BusyWait)
}

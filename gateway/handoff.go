package gateway

import (
	"context"
	"sync"
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
type handoffs struct {
	mu       sync.Mutex
	cur, old map[string]*handoff
}

// handoffMax bounds the entries kept (both generations together).
const handoffMax = 1 << 16

// handoff is one delivery waiting for its first attempt.
type handoff struct {
	dl *Delivery // a copy, with the revision Append gave it once ready closes with ok
	t  *handoffTicket
}

// handoffTicket is shared by the deliveries of one publish: ready closes once its Append
// returned, and ok tells whether it stored them. The envelope, as every endpoint without a
// mapping receives it, is encoded once for all of them, by the first attempt.
type handoffTicket struct {
	ev    *StoredEvent
	ready chan struct{}
	ok    bool

	encode   sync.Once
	envelope []byte
}

// body returns the event's envelope, encoding it on the first call.
func (t *handoffTicket) body() []byte {
	t.encode.Do(func() { t.envelope = t.ev.Body() })
	return t.envelope
}

// put registers ds (of ev, not yet appended) and returns their ticket; the caller calls
// ticket.done once the Append returned. Only pending deliveries are handed off.
func (h *handoffs) put(ev *StoredEvent, ds []*Delivery) *handoffTicket {
	t := &handoffTicket{ev: ev, ready: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cur == nil {
		h.cur = make(map[string]*handoff)
	}
	for _, d := range ds {
		if d.Status != StatusPending {
			continue
		}
		if len(h.cur) >= handoffMax/2 {
			h.old, h.cur = h.cur, make(map[string]*handoff, len(h.cur))
		}
		c := *d
		h.cur[d.ID] = &handoff{dl: &c, t: t}
	}
	return t
}

// done completes a ticket: ds are the deliveries given to put, with the revisions Append
// set (when stored is true). A ticket that was not stored leaves its entries unusable.
func (t *handoffTicket) done(h *handoffs, ds []*Delivery, stored bool) {
	if stored {
		h.mu.Lock()
		for _, d := range ds {
			if e := h.lookup(d.ID); e != nil && e.t == t {
				e.dl.Rev = d.Rev
			}
		}
		h.mu.Unlock()
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
		delete(h.cur, d.ID)
		delete(h.old, d.ID)
	}
	h.mu.Unlock()
}

// saveDeliveries is the Service's one way to write deliveries to the store: it drops
// their hand-offs first, so that a first attempt never starts from a record someone moved on.
func (s *Service) saveDeliveries(ctx context.Context, ds ...*Delivery) error {
	s.handoff.drop(ds)
	return s.store.SaveDeliveries(ctx, ds...)
}

package jetstream

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/btree"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/gateway"
)

// hdrOp marks a tombstone: a removed record.
const (
	hdrOp  = "Hookgate-Op"
	opDel  = "del"
	degree = 32
)

// Record kinds: the subject token after the prefix.
const (
	kindEvent    = "ev"
	kindDelivery = "d"
	kindDedupe   = "dd"
	kindRegistry = "reg"
	kindRequest  = "rq"
)

// dedupeToken is a dedupe key's subject token: keys may be long.
func dedupeToken(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// token makes any id a valid subject token.
func token(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func untoken(t string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	return string(b), err
}

// eventMsg is what an event's subject holds: the event and its fan-out as Append made it.
type eventMsg struct {
	Event      *gateway.StoredEvent `json:"event"`
	Dedupe     string               `json:"dedupe,omitempty"`
	Deliveries []*deliveryMsg       `json:"deliveries"`
}

// deliveryMsg is a delivery with its revision counter and work-queue state: queued when
// Due is set, hidden (leased or held) until Until.
type deliveryMsg struct {
	Delivery *gateway.Delivery `json:"delivery"`
	Rev      uint64            `json:"rev"`
	Due      *time.Time        `json:"due,omitempty"`
	Until    *time.Time        `json:"until,omitempty"`
}

// dedupeMsg is a dedupe key's record.
type dedupeMsg struct {
	Key        string        `json:"key"`
	ID         string        `json:"id"`
	ReceivedAt time.Time     `json:"received_at"`
	Window     time.Duration `json:"window"`
	Trimmed    bool          `json:"trimmed,omitempty"`
}

// requestMsg is one request log entry.
type requestMsg struct {
	Entry   json.RawMessage `json:"entry"`
	Expires *time.Time      `json:"expires,omitempty"`
}

// view is this node's picture of the stream, fed by the ordered consumer in stream order.
// Its mutex guards everything in it, the registry collections' records included.
type view struct {
	s  *Store
	mu sync.Mutex

	applied  uint64        // the stream sequence last applied
	idle     bool          // nothing was pending in the stream after the last message applied
	progress chan struct{} // closed (and replaced) whenever applied moves
	closed   bool

	// last is each subject's last stream sequence, tombstones included (for compare-and-swap);
	// tombAt is when a tombstone was written, to forget it once the stream has.
	last   map[string]uint64
	tombAt map[string]time.Time

	events   map[string]*evRec
	bySeq    *btree.BTreeG[*evRec]
	dedupe   map[string]*ddRec // by dedupeToken(key)
	appended chan struct{}

	dels       map[string]*dRec
	byCreated  *btree.BTreeG[dkey]
	byEndpoint *btree.BTreeG[dkey]
	ready      *btree.BTreeG[*dRec] // queued and not hidden, by (due, id)
	hidden     *btree.BTreeG[*dRec] // queued and leased or held, by (until, id)
	wake       chan struct{}

	colls    map[string]applier
	requests map[string]*reqLog
}

type evRec struct {
	ev     *gateway.StoredEvent
	dedupe string
}

type ddRec struct {
	msg dedupeMsg
	seq gateway.Seq // the event's
}

// live reports whether the key still dedupes an event received at t.
func (r *ddRec) live(t time.Time) bool {
	if r.msg.Window == 0 {
		return !r.msg.Trimmed
	}
	return t.Before(r.msg.ReceivedAt.Add(r.msg.Window))
}

// dRec is a delivery as the view holds it.
type dRec struct {
	d           *gateway.Delivery // Rev set
	due, until  time.Time         // zero due: not queued; zero until: not hidden
	queued      bool
	inReady     bool
	inHidden    bool
	fromEventOf string // the event whose message holds it, while no delivery message does
}

// dkey places a delivery in a creation-ordered index: ep is "" in the index over all.
type dkey struct {
	ep      string
	created time.Time
	id      string
}

func dkeyLess(a, b dkey) bool {
	if a.ep != b.ep {
		return a.ep < b.ep
	}
	if c := a.created.Compare(b.created); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

func readyLess(a, b *dRec) bool {
	if c := a.due.Compare(b.due); c != 0 {
		return c < 0
	}
	return a.d.ID < b.d.ID
}

func hiddenLess(a, b *dRec) bool {
	if c := a.until.Compare(b.until); c != 0 {
		return c < 0
	}
	return a.d.ID < b.d.ID
}

type reqLog struct {
	entries []reqEntry // by sequence, oldest first
	bytes   int64
}

type reqEntry struct {
	subject string
	b       []byte
	expires time.Time
}

// applier is a registry collection as the view feeds it.
type applier interface {
	apply(id string, seq uint64, b []byte, deleted bool)
	closeWatchers()
}

func newView(s *Store) *view {
	return &view{
		s:          s,
		progress:   make(chan struct{}),
		last:       map[string]uint64{},
		tombAt:     map[string]time.Time{},
		events:     map[string]*evRec{},
		bySeq:      btree.NewG(degree, func(a, b *evRec) bool { return a.ev.Seq < b.ev.Seq }),
		dedupe:     map[string]*ddRec{},
		appended:   make(chan struct{}),
		dels:       map[string]*dRec{},
		byCreated:  btree.NewG(degree, dkeyLess),
		byEndpoint: btree.NewG(degree, dkeyLess),
		ready:      btree.NewG(degree, readyLess),
		hidden:     btree.NewG(degree, hiddenLess),
		wake:       make(chan struct{}, 1),
		colls:      map[string]applier{},
		requests:   map[string]*reqLog{},
	}
}

// subject builds the subject of a record.
func (v *view) subject(kind string, parts ...string) string {
	return v.s.prefix + "." + kind + "." + strings.Join(parts, ".")
}

// expect returns the sequence a write to subject must find there (its last message's,
// tombstone included; 0 when it has none, or its tombstone has expired).
func (v *view) expect(subject string) uint64 {
	if at, ok := v.tombAt[subject]; ok && time.Since(at) > v.s.opts.TombstoneTTL {
		delete(v.tombAt, subject)
		delete(v.last, subject)
	}
	return v.last[subject]
}

// apply applies one message of the stream; the ordered consumer calls it in order.
func (v *view) apply(m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		v.s.log.Error("a message of the stream without metadata", "subject", m.Subject(), "err", err)
		return
	}
	seq := meta.Sequence.Stream
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed || seq <= v.applied {
		return
	}
	subj := m.Subject()
	deleted := m.Headers().Get(hdrOp) == opDel
	if err := v.applyRecord(subj, seq, m.Data(), deleted); err != nil {
		v.s.log.Error("a message of the stream could not be read; skipped", "subject", subj, "seq", seq, "err", err)
	}
	if !strings.HasPrefix(subj, v.s.prefix+"."+kindRate+".") { // rates are read from the stream (rates.go)
		v.last[subj] = seq
		if deleted {
			v.tombAt[subj] = meta.Timestamp
		} else {
			delete(v.tombAt, subj)
		}
	}
	v.applied, v.idle = seq, meta.NumPending == 0
	close(v.progress)
	v.progress = make(chan struct{})
}

// applyRecord changes the view for one record.
func (v *view) applyRecord(subj string, seq uint64, data []byte, deleted bool) error {
	rest, ok := strings.CutPrefix(subj, v.s.prefix+".")
	if !ok {
		return fmt.Errorf("not under %s", v.s.prefix)
	}
	kind, rest, _ := strings.Cut(rest, ".")
	switch kind {
	case kindEvent:
		id, err := untoken(rest)
		if err != nil {
			return err
		}
		if deleted {
			v.dropEvent(id)
			return nil
		}
		var em eventMsg
		if err := json.Unmarshal(data, &em); err != nil {
			return err
		}
		v.addEvent(&em, gateway.Seq(seq))
	case kindDelivery:
		id, err := untoken(rest)
		if err != nil {
			return err
		}
		if deleted {
			v.dropDelivery(id)
			return nil
		}
		var dm deliveryMsg
		if err := json.Unmarshal(data, &dm); err != nil {
			return err
		}
		if dm.Delivery == nil || dm.Delivery.ID != id {
			return fmt.Errorf("delivery record of another id")
		}
		v.putDelivery(&dm, "")
	case kindDedupe:
		if deleted {
			delete(v.dedupe, rest)
			return nil
		}
		var dm dedupeMsg
		if err := json.Unmarshal(data, &dm); err != nil {
			return err
		}
		r := &ddRec{msg: dm}
		if e, ok := v.events[dm.ID]; ok {
			r.seq = e.ev.Seq
		} else if old, ok := v.dedupe[rest]; ok && old.msg.ID == dm.ID {
			r.seq = old.seq
		}
		v.dedupe[rest] = r
	case kindRegistry:
		coll, tok, _ := strings.Cut(rest, ".")
		c, ok := v.colls[coll]
		if !ok {
			return nil // a collection of a newer version: not ours to read
		}
		id, err := untoken(tok)
		if err != nil {
			return err
		}
		c.apply(id, seq, data, deleted)
	case kindRequest:
		src, _, _ := strings.Cut(rest, ".")
		source, err := untoken(src)
		if err != nil {
			return err
		}
		v.applyRequest(source, subj, data, deleted)
	}
	return nil
}

// addEvent adds an appended event and creates its deliveries.
func (v *view) addEvent(em *eventMsg, seq gateway.Seq) {
	if em.Event == nil {
		return
	}
	ev := em.Event
	ev.Seq = seq
	rec := &evRec{ev: ev, dedupe: em.Dedupe}
	v.events[ev.ID] = rec
	v.bySeq.ReplaceOrInsert(rec)
	if em.Dedupe != "" {
		if r, ok := v.dedupe[dedupeToken(em.Dedupe)]; ok && r.msg.ID == ev.ID {
			r.seq = seq
		}
	}
	for _, dm := range em.Deliveries {
		if dm.Delivery == nil {
			continue
		}
		if _, ok := v.dels[dm.Delivery.ID]; ok {
			continue // a delivery message came first: it wins
		}
		v.putDelivery(dm, ev.ID)
	}
	close(v.appended)
	v.appended = make(chan struct{})
}

// dropEvent removes a trimmed event, the deliveries its message held, and resolves its
// dedupe key's sequence for later duplicates.
func (v *view) dropEvent(id string) {
	rec, ok := v.events[id]
	if !ok {
		return
	}
	delete(v.events, id)
	v.bySeq.Delete(rec)
	for _, did := range rec.ev.Deliveries {
		if d, ok := v.dels[did]; ok && d.fromEventOf == id {
			v.dropDelivery(did)
		}
	}
}

// putDelivery stores a delivery (replacing the one held) with its work state.
func (v *view) putDelivery(dm *deliveryMsg, fromEvent string) {
	d := dm.Delivery
	d.Rev = dm.Rev
	old, ok := v.dels[d.ID]
	if ok {
		v.unqueue(old)
		if old.d.EndpointID != d.EndpointID || !old.d.CreatedAt.Equal(d.CreatedAt) {
			v.byCreated.Delete(dkey{created: old.d.CreatedAt, id: d.ID})
			v.byEndpoint.Delete(dkey{ep: old.d.EndpointID, created: old.d.CreatedAt, id: d.ID})
			ok = false
		}
	}
	if !ok {
		v.byCreated.ReplaceOrInsert(dkey{created: d.CreatedAt, id: d.ID})
		v.byEndpoint.ReplaceOrInsert(dkey{ep: d.EndpointID, created: d.CreatedAt, id: d.ID})
	}
	r := &dRec{d: d, fromEventOf: fromEvent}
	v.dels[d.ID] = r
	if dm.Due == nil {
		return
	}
	r.queued, r.due = true, *dm.Due
	if dm.Until != nil {
		r.until, r.inHidden = *dm.Until, true
		v.hidden.ReplaceOrInsert(r)
		return
	}
	r.inReady = true
	v.ready.ReplaceOrInsert(r)
	v.signal()
}

// unqueue takes r out of the work queue's trees.
func (v *view) unqueue(r *dRec) {
	if r.inReady {
		v.ready.Delete(r)
	}
	if r.inHidden {
		v.hidden.Delete(r)
	}
	r.inReady, r.inHidden = false, false
}

// dropDelivery removes a delivery, its index entries and its job.
func (v *view) dropDelivery(id string) {
	r, ok := v.dels[id]
	if !ok {
		return
	}
	v.unqueue(r)
	delete(v.dels, id)
	v.byCreated.Delete(dkey{created: r.d.CreatedAt, id: id})
	v.byEndpoint.Delete(dkey{ep: r.d.EndpointID, created: r.d.CreatedAt, id: id})
}

// signal wakes a waiting dispatcher without blocking.
func (v *view) signal() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// applyRequest adds or removes one request log entry.
func (v *view) applyRequest(source, subj string, data []byte, deleted bool) {
	l := v.requests[source]
	if deleted {
		if l == nil {
			return
		}
		i := slices.IndexFunc(l.entries, func(e reqEntry) bool { return e.subject == subj })
		if i >= 0 {
			l.bytes -= int64(len(l.entries[i].b))
			l.entries = slices.Delete(l.entries, i, i+1)
		}
		if len(l.entries) == 0 {
			delete(v.requests, source)
		}
		return
	}
	var rm requestMsg
	if err := json.Unmarshal(data, &rm); err != nil {
		return
	}
	if l == nil {
		l = &reqLog{}
		v.requests[source] = l
	}
	e := reqEntry{subject: subj, b: rm.Entry}
	if rm.Expires != nil {
		e.expires = *rm.Expires
	}
	l.entries = append(l.entries, e)
	l.bytes += int64(len(e.b))
}

// waitApplied waits until the view has applied seq.
func (v *view) waitApplied(ctx context.Context, seq uint64) error {
	for {
		v.mu.Lock()
		if v.closed {
			v.mu.Unlock()
			return errClosed
		}
		if v.applied >= seq {
			v.mu.Unlock()
			return nil
		}
		ch := v.progress
		v.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("waiting for this node to read its write (sequence %d): %w", seq, v.s.unavailable(ctx.Err()))
		case <-v.s.done:
			return errClosed
		}
	}
}

// waitLoaded waits until the view holds the stream up to last, or until the consumer
// reports nothing more pending (when the last messages were removed meanwhile).
func (v *view) waitLoaded(ctx context.Context, last uint64) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		v.mu.Lock()
		done, closed, ch := v.applied >= last || v.idle && v.applied > 0, v.closed, v.progress
		v.mu.Unlock()
		switch {
		case closed:
			return errClosed
		case done:
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("reading the stream up to sequence %d: %w", last, v.s.unavailable(ctx.Err()))
		}
	}
}

// close ends the view: watchers and Appended's waiters are released.
func (v *view) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return
	}
	v.closed = true
	close(v.appended)
	close(v.progress)
	for _, c := range v.colls {
		c.closeWatchers()
	}
	v.events, v.dedupe, v.dels, v.requests = map[string]*evRec{}, map[string]*ddRec{}, map[string]*dRec{}, map[string]*reqLog{}
	v.bySeq.Clear(false)
	v.byCreated.Clear(false)
	v.byEndpoint.Clear(false)
	v.ready.Clear(false)
	v.hidden.Clear(false)
}

// lock takes the view's lock, or fails when the store is closed.
func (v *view) lock() error {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return errClosed
	}
	return nil
}

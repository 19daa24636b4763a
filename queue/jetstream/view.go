package jetstream

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/btree"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/internal/index"
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

// noKey is the key token of the events appended without a dedupe key (a key's token is
// hexadecimal).
const noKey = "_"

// eventMsg is what an event's subject holds: the event and its fan-out as Append made it,
// and the dedupe key it was appended under with its window.
type eventMsg struct {
	Event      *gateway.StoredEvent `json:"event"`
	Dedupe     string               `json:"dedupe,omitempty"`
	Window     time.Duration        `json:"window,omitempty"`
	Deliveries []*deliveryMsg       `json:"deliveries"`
}

// deliveryMsg is a delivery with its revision counter and work-queue state: queued when
// Due is set, hidden (leased or held) until Until. AddedTo is the event AddDeliveries added
// it to, after Append: the view lists it on that event (every later message of the
// delivery keeps it, since the stream keeps only the last).
type deliveryMsg struct {
	Delivery *gateway.Delivery `json:"delivery"`
	Rev      uint64            `json:"rev"`
	Due      *time.Time        `json:"due,omitempty"`
	Until    *time.Time        `json:"until,omitempty"`
	AddedTo  string            `json:"added_to,omitempty"`
}

// dedupeMsg is what a dedupe key remembers: the last event appended under it. The
// tombstone of a trimmed event whose key's window lasts holds it (Trimmed set).
type dedupeMsg struct {
	Key        string        `json:"key"`
	ID         string        `json:"id"`
	Seq        gateway.Seq   `json:"seq"`
	ReceivedAt time.Time     `json:"received_at"`
	Window     time.Duration `json:"window"`
	Trimmed    bool          `json:"trimmed,omitempty"`
}

// live reports whether the key still dedupes an event received at t.
func (r *dedupeMsg) live(t time.Time) bool {
	if r.Window == 0 {
		return !r.Trimmed
	}
	return t.Before(r.ReceivedAt.Add(r.Window))
}

// keyState is what the stream holds under one dedupe key (the subjects <prefix>.ev.<key>.*):
// the sequences of the events appended under it and of their tombstones, so that an Append
// can expect the last of them (Nats-Expected-Last-Subject-Sequence-Subject).
type keyState struct {
	live  map[uint64]struct{}
	tombs map[uint64]time.Time // tombstone sequence → when the stream drops it
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
	gen      uint64        // the consumer feeding the view: messages of an older one are dropped (refollow)
	idle     bool          // nothing was pending in the stream after the last message applied
	progress chan struct{} // closed (and replaced) whenever applied moves
	closed   bool

	// last is each subject's last stream sequence, tombstones included (for compare-and-swap);
	// tombExp is when the stream drops a tombstone, to forget it then too.
	last    map[string]uint64
	tombExp map[string]time.Time

	events   map[string]*evRec
	bySeq    *btree.BTreeG[*evRec]
	dedupe   map[string]*dedupeMsg // by dedupeToken(key)
	keys     map[string]*keyState  // by dedupeToken(key)
	appended chan struct{}

	dels      map[string]*dRec
	byCreated *index.Deliveries
	ready     *btree.BTreeG[*dRec] // queued and not hidden, by (due, id)
	hidden    *btree.BTreeG[*dRec] // queued and leased or held, by (until, id)
	wake      chan struct{}

	colls    map[string]applier
	requests map[string]*reqLog
}

type evRec struct {
	ev      *gateway.StoredEvent
	subject string
	dedupe  *dedupeMsg // nil: appended without a key
}

// dRec is a delivery as the view holds it.
type dRec struct {
	d           *gateway.Delivery // Rev set
	due, until  time.Time         // zero due: not queued; zero until: not hidden
	inReady     bool
	inHidden    bool
	fromEventOf string // the event whose message holds it, while no delivery message does
	addedTo     string // the event AddDeliveries added it to
}

// workMsg is the record of the queued delivery r as held, due at its time and hidden
// until until (nil: not hidden).
func (r *dRec) workMsg(until *time.Time) *deliveryMsg {
	due := r.due
	return &deliveryMsg{Delivery: r.d, Rev: r.d.Rev, Due: &due, Until: until, AddedTo: r.addedTo}
}

// readyCmp orders the work queue's ready jobs: by due time, then id.
func readyCmp(a, b *dRec) int {
	if c := a.due.Compare(b.due); c != 0 {
		return c
	}
	return strings.Compare(a.d.ID, b.d.ID)
}

func readyLess(a, b *dRec) bool { return readyCmp(a, b) < 0 }

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
		s:         s,
		progress:  make(chan struct{}),
		last:      map[string]uint64{},
		tombExp:   map[string]time.Time{},
		events:    map[string]*evRec{},
		bySeq:     btree.NewG(degree, func(a, b *evRec) bool { return a.ev.Seq < b.ev.Seq }),
		dedupe:    map[string]*dedupeMsg{},
		keys:      map[string]*keyState{},
		appended:  make(chan struct{}),
		dels:      map[string]*dRec{},
		byCreated: index.NewDeliveries(),
		ready:     btree.NewG(degree, readyLess),
		hidden:    btree.NewG(degree, hiddenLess),
		wake:      make(chan struct{}, 1),
		colls:     map[string]applier{},
		requests:  map[string]*reqLog{},
	}
}

// subject builds the subject of a record.
func (v *view) subject(kind string, parts ...string) string {
	return v.s.prefix + "." + kind + "." + strings.Join(parts, ".")
}

// expect returns the sequence a write to subject must find there (its last message's,
// tombstone included; 0 when it has none, or its tombstone has expired).
func (v *view) expect(subject string) uint64 {
	if exp, ok := v.tombExp[subject]; ok && !time.Now().Before(exp) {
		delete(v.tombExp, subject)
		delete(v.last, subject)
	}
	return v.last[subject]
}

// eventSubject is the subject of the event id appended under the key token ktok.
func (v *view) eventSubject(ktok, id string) string { return v.subject(kindEvent, ktok, token(id)) }

// expectKey returns the sequence an Append under the key token ktok must find as the last
// of the subjects <prefix>.ev.<ktok>.*: the last event or tombstone there (0: none).
func (v *view) expectKey(ktok string) uint64 {
	ks := v.keys[ktok]
	if ks == nil {
		return 0
	}
	var last uint64
	for seq := range ks.live {
		last = max(last, seq)
	}
	now := time.Now()
	for seq, exp := range ks.tombs {
		if !now.Before(exp) {
			delete(ks.tombs, seq)
			continue
		}
		last = max(last, seq)
	}
	if len(ks.live) == 0 && len(ks.tombs) == 0 {
		delete(v.keys, ktok)
	}
	return last
}

// forgetTombstones drops what the view remembers of tombstones the stream has dropped, so
// that it does not grow with what Trim removed (Trim calls it).
func (v *view) forgetTombstones() {
	now := time.Now()
	for subj, exp := range v.tombExp {
		if !now.Before(exp) {
			delete(v.tombExp, subj)
			delete(v.last, subj)
		}
	}
	for ktok := range v.keys {
		v.expectKey(ktok)
	}
}

// key returns the state of the key token ktok, made on first use.
func (v *view) key(ktok string) *keyState {
	ks := v.keys[ktok]
	if ks == nil {
		ks = &keyState{live: map[uint64]struct{}{}, tombs: map[uint64]time.Time{}}
		v.keys[ktok] = ks
	}
	return ks
}

// tombstoneExpiry is when the stream drops the tombstone m, written at at.
func (v *view) tombstoneExpiry(m jetstream.Msg, at time.Time) time.Time {
	ttl := v.s.opts.TombstoneTTL
	if h := m.Headers().Get("Nats-TTL"); h != "" {
		if secs, err := strconv.ParseInt(h, 10, 64); err == nil && secs > 0 {
			ttl = time.Duration(secs) * time.Second
		}
	}
	return at.Add(ttl)
}

// apply applies one message of the stream, from the consumer of generation gen (see
// consume); the ordered consumer calls it in order.
func (v *view) apply(gen uint64, m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		v.s.log.Error("a message of the stream without metadata", "subject", m.Subject(), "err", err)
		return
	}
	seq := meta.Sequence.Stream
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed || gen != v.gen || seq <= v.applied {
		return
	}
	subj := m.Subject()
	deleted := m.Headers().Get(hdrOp) == opDel
	// Rates are read from the stream (rates.go): the view keeps nothing of them.
	rate := strings.HasPrefix(subj, v.s.prefix+"."+kindRate+".")
	var tombExp time.Time
	if deleted && !rate {
		tombExp = v.tombstoneExpiry(m, meta.Timestamp)
		v.tombExp[subj] = tombExp
	} else {
		delete(v.tombExp, subj)
	}
	if err := v.applyRecord(subj, seq, m.Data(), deleted, tombExp); err != nil {
		v.s.log.Error("a message of the stream could not be read; skipped", "subject", subj, "seq", seq, "err", err)
	}
	if !rate && !strings.HasPrefix(subj, v.s.prefix+"."+kindAdded+".") { // rate times and markers are never expected
		v.last[subj] = seq
	}
	v.applied, v.idle = seq, meta.NumPending == 0
	close(v.progress)
	v.progress = make(chan struct{})
}

// applyRecord changes the view for one record.
func (v *view) applyRecord(subj string, seq uint64, data []byte, deleted bool, tombExp time.Time) error {
	rest, ok := strings.CutPrefix(subj, v.s.prefix+".")
	if !ok {
		return fmt.Errorf("not under %s", v.s.prefix)
	}
	kind, rest, _ := strings.Cut(rest, ".")
	switch kind {
	case kindEvent:
		ktok, idTok, ok := strings.Cut(rest, ".")
		if !ok {
			return fmt.Errorf("an event subject without an id")
		}
		id, err := untoken(idTok)
		if err != nil {
			return err
		}
		if deleted {
			v.dropEvent(id, ktok, seq, data, tombExp)
			return nil
		}
		var em eventMsg
		if err := json.Unmarshal(data, &em); err != nil {
			return err
		}
		v.addEvent(&em, gateway.Seq(seq), subj, ktok)
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

// addEvent adds an appended event, its dedupe key, and creates its deliveries.
func (v *view) addEvent(em *eventMsg, seq gateway.Seq, subj, ktok string) {
	if em.Event == nil {
		return
	}
	ev := em.Event
	ev.Seq = seq
	rec := &evRec{ev: ev, subject: subj}
	v.events[ev.ID] = rec
	v.bySeq.ReplaceOrInsert(rec)
	if ktok != noKey && em.Dedupe != "" {
		rec.dedupe = &dedupeMsg{Key: em.Dedupe, ID: ev.ID, Seq: seq, ReceivedAt: ev.ReceivedAt, Window: em.Window}
		v.dedupe[ktok] = rec.dedupe
		v.key(ktok).live[uint64(seq)] = struct{}{}
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

// dropEvent applies the tombstone (at seq) of the event id appended under the key token
// ktok: the event goes, with the deliveries its message held. When the tombstone holds
// the event's dedupe record its key stays, marked trimmed; a bare one ends the key too.
func (v *view) dropEvent(id, ktok string, seq uint64, data []byte, tombExp time.Time) {
	if rec, ok := v.events[id]; ok {
		delete(v.events, id)
		v.bySeq.Delete(rec)
		for _, did := range rec.ev.Deliveries {
			if d, ok := v.dels[did]; ok && d.fromEventOf == id {
				v.dropDelivery(did)
			}
		}
		if ks := v.keys[ktok]; ks != nil {
			delete(ks.live, uint64(rec.ev.Seq))
		}
	}
	if ktok == noKey {
		return
	}
	v.key(ktok).tombs[seq] = tombExp
	cur := v.dedupe[ktok]
	var kept dedupeMsg
	if len(data) > 0 && json.Unmarshal(data, &kept) == nil {
		if cur == nil || cur.Seq <= kept.Seq {
			kept.Trimmed = true
			v.dedupe[ktok] = &kept
		}
		return
	}
	if cur != nil && cur.ID == id {
		delete(v.dedupe, ktok)
	}
}

// putDelivery stores a delivery (replacing the one held) with its work state.
func (v *view) putDelivery(dm *deliveryMsg, fromEvent string) {
	d := dm.Delivery
	d.Rev = dm.Rev
	var prev *gateway.Delivery
	if old, ok := v.dels[d.ID]; ok {
		v.unqueue(old)
		prev = old.d
	} else if dm.AddedTo != "" {
		if e, ok := v.events[dm.AddedTo]; ok && !slices.Contains(e.ev.Deliveries, d.ID) {
			e.ev.Deliveries = append(e.ev.Deliveries, d.ID)
		}
	}
	v.byCreated.Put(prev, d)
	r := &dRec{d: d, fromEventOf: fromEvent, addedTo: dm.AddedTo}
	v.dels[d.ID] = r
	if dm.Due == nil {
		return
	}
	r.due = *dm.Due
	if dm.Until != nil {
		r.until, r.inHidden = *dm.Until, true
		v.hidden.ReplaceOrInsert(r)
		return
	}
	r.inReady = true
	v.ready.ReplaceOrInsert(r)
	v.signal()
}

// hasDelivery reports whether the view holds the delivery id (its lock is held).
func (v *view) hasDelivery(id string) bool {
	_, ok := v.dels[id]
	return ok
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
	v.byCreated.Delete(r.d)
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

// waitApplied waits until the view has applied seq. A view that applies nothing for the
// store's Timeout meanwhile has stopped following the stream (its consumer was lost with a
// server, say): the wait then ends with ErrUnavailable, and the store follows the stream
// anew (refollow) for the calls after it.
func (v *view) waitApplied(ctx context.Context, seq uint64) error {
	stall := time.NewTimer(v.s.opts.Timeout)
	defer stall.Stop()
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
			stall.Reset(v.s.opts.Timeout)
		case <-stall.C:
			v.s.refollowSoon()
			return fmt.Errorf("waiting for this node to read its write (sequence %d): nothing read for %v: %w", seq, v.s.opts.Timeout, gateway.ErrUnavailable)
		case <-ctx.Done():
			return fmt.Errorf("waiting for this node to read its write (sequence %d): %w", seq, v.s.unavailable(ctx.Err()))
		case <-v.s.done:
			return errClosed
		}
	}
}

// waitOwn is waitApplied(seq) for a write whose last message is on subj, which then
// checks that the message the stream acknowledged at seq is that write's, and not another
// one's that took the sequence after the stream lost the first (see refollow). If it is
// not, the view has diverged from the stream (see diverge.go): the write, and every call
// after it, fails with ErrUnavailable.
func (v *view) waitOwn(ctx context.Context, subj string, seq uint64) error {
	if err := v.waitApplied(ctx, seq); err != nil {
		return err
	}
	v.mu.Lock()
	mine := v.last[subj] >= seq
	v.mu.Unlock()
	if mine {
		return nil
	}
	v.s.diverge(fmt.Sprintf("the stream acknowledged a write of this node at sequence %d, where the node read another message", seq), "seq", seq, "subject", subj)
	return v.s.divergedError()
}

// waitLoaded waits until the view holds the stream up to last. When last was removed
// meanwhile (a request log entry's TTL), that never happens: then, after a grace period, it
// is enough that the consumer reported nothing more pending. (Not at once: the consumer
// may read a replica that is behind, which reports nothing pending too.)
func (v *view) waitLoaded(ctx context.Context, last uint64) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	start := time.Now()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		v.mu.Lock()
		done := v.applied >= last || v.idle && v.applied > 0 && time.Since(start) > 2*time.Second
		closed, ch := v.closed, v.progress
		v.mu.Unlock()
		switch {
		case closed:
			return errClosed
		case done:
			return nil
		}
		select {
		case <-ch:
		case <-tick.C:
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
	v.events, v.dedupe, v.keys, v.dels, v.requests = map[string]*evRec{}, map[string]*dedupeMsg{}, map[string]*keyState{}, map[string]*dRec{}, map[string]*reqLog{}
	v.bySeq.Clear(false)
	v.byCreated.Clear()
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

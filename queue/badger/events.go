package badger

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger/internal/kv"
)

// eventMeta is an event's stored form but for its Seq and its data, which are stored
// beside it: so the record can be encoded before the commit that assigns the Seq, and the
// payload is stored exactly as given, not escaped into a JSON string. Records of layouts
// before 4 (eventJSON) hold it as JSON, by these tags.
type eventMeta struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Source string `json:"source,omitempty"`
	// SourceEventID is the provider's id of a catch hook's event; absent in older records.
	SourceEventID string    `json:"source_event_id,omitempty"`
	Created       time.Time `json:"created"`
	ReceivedAt    time.Time `json:"received_at"`
	Deliveries    []string  `json:"deliveries"`
	// Dedupe is the event's dedupe key when it has no window: the key goes with the event.
	Dedupe string `json:"dedupe,omitempty"`
}

// The first byte of a stored event: eventJSON for the records of layouts before 4, whose
// meta is JSON, eventBinary for those encodeEvent writes.
const (
	eventJSON   = 1
	eventBinary = 2
)

// encodeEvent is eventBinary, the Seq (8 bytes, see setEventSeq), the meta in binary (ID,
// Type, Source, SourceEventID as strings, Created and ReceivedAt as times, len(Deliveries)+1
// as a uvarint, 0 for nil, and the delivery ids, then Dedupe; see deliverycodec.go for the
// strings and times), and the data.
func encodeEvent(ev *gateway.StoredEvent, dedupe string) ([]byte, error) {
	n := 9 + 5*binary.MaxVarintLen64 + len(ev.ID) + len(ev.Type) + len(ev.Source) + len(ev.SourceEventID) + len(dedupe) +
		2*3*binary.MaxVarintLen64 + len(ev.Data)
	for _, d := range ev.Deliveries {
		n += binary.MaxVarintLen64 + len(d)
	}
	b := make([]byte, 0, n)
	b = append(b, eventBinary)
	b = binary.BigEndian.AppendUint64(b, uint64(ev.Seq))
	b = appendStr(b, ev.ID)
	b = appendStr(b, ev.Type)
	b = appendStr(b, ev.Source)
	b = appendStr(b, ev.SourceEventID)
	var err error
	if b, err = appendTime(b, ev.Created); err != nil {
		return nil, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	if b, err = appendTime(b, ev.ReceivedAt); err != nil {
		return nil, fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	if ev.Deliveries == nil {
		b = append(b, 0)
	} else {
		b = binary.AppendUvarint(b, uint64(len(ev.Deliveries))+1)
	}
	for _, d := range ev.Deliveries {
		b = appendStr(b, d)
	}
	b = appendStr(b, dedupe)
	return append(b, ev.Data...), nil
}

// setEventSeq writes seq into an encoded event.
func setEventSeq(b []byte, seq gateway.Seq) { binary.BigEndian.PutUint64(b[1:9], uint64(seq)) }

// decodeEvent reads what encodeEvent wrote, or a record of a layout before 4. The result
// shares nothing with b.
func decodeEvent(b []byte) (*gateway.StoredEvent, *eventMeta, error) {
	if len(b) < 9 {
		return nil, nil, errCorrupt
	}
	seq := gateway.Seq(binary.BigEndian.Uint64(b[1:9]))
	var (
		m    eventMeta
		data []byte
	)
	switch b[0] {
	case eventBinary:
		r := recordReader{b: b[9:]}
		m.ID, m.Type, m.Source, m.SourceEventID = r.str(), r.str(), r.str(), r.str()
		m.Created, m.ReceivedAt = r.time(), r.time()
		if n := r.uvarint(); n > 0 {
			if n-1 > uint64(len(r.b)) { // each id takes a byte at least: a longer count is corrupt
				return nil, nil, errCorrupt
			}
			m.Deliveries = make([]string, n-1)
			for i := range m.Deliveries {
				m.Deliveries[i] = r.str()
			}
		}
		m.Dedupe = r.str()
		if r.bad {
			return nil, nil, errCorrupt
		}
		data = r.b
	case eventJSON:
		n, w := binary.Uvarint(b[9:])
		if w <= 0 || uint64(len(b)-9-w) < n {
			return nil, nil, errCorrupt
		}
		if err := json.Unmarshal(b[9+w:9+w+int(n)], &m); err != nil {
			return nil, nil, fmt.Errorf("%w: %w", errCorrupt, err)
		}
		data = b[9+w+int(n):]
	default:
		return nil, nil, errCorrupt
	}
	ev := &gateway.StoredEvent{
		Event:      gateway.Event{ID: m.ID, Type: m.Type, Source: m.Source, SourceEventID: m.SourceEventID, Created: m.Created},
		ReceivedAt: m.ReceivedAt, Deliveries: m.Deliveries, Seq: seq,
	}
	if len(data) > 0 {
		ev.Data = bytes.Clone(data)
	}
	return ev, &m, nil
}

// loadEvent reads event id.
func loadEvent(r getter, id string) (*gateway.StoredEvent, *eventMeta, error) {
	b, err := get(r, eventKey(id))
	if err != nil {
		return nil, nil, err
	}
	ev, m, err := decodeEvent(b)
	if err != nil {
		return nil, nil, fmt.Errorf("decode event %s: %w", id, err)
	}
	return ev, m, nil
}

// seqEntry is the value of evs/<seq>: when the event was received, and its id.
func seqEntry(received time.Time, id string) []byte {
	return append(binary.BigEndian.AppendUint64(nil, nanos(received)), id...)
}

func parseSeqEntry(v []byte) (received uint64, id string) {
	if len(v) < 8 {
		return 0, ""
	}
	return binary.BigEndian.Uint64(v), string(v[8:])
}

// dedupeEntry is the value of dd/<key>: the event it names and the key's window.
type dedupeEntry struct {
	seq      gateway.Seq
	received uint64        // the event's ReceivedAt, in ns
	window   time.Duration // DedupeFor when the key was stored; 0: while the event is kept
	id       string
}

func (e dedupeEntry) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(e.seq))
	b = binary.BigEndian.AppendUint64(b, e.received)
	b = binary.BigEndian.AppendUint64(b, uint64(e.window))
	return append(b, e.id...)
}

func parseDedupe(v []byte) (dedupeEntry, bool) {
	if len(v) < 24 {
		return dedupeEntry{}, false
	}
	return dedupeEntry{seq: gateway.Seq(binary.BigEndian.Uint64(v)), received: binary.BigEndian.Uint64(v[8:]),
		window: time.Duration(binary.BigEndian.Uint64(v[16:])), id: string(v[24:])}, true
}

// covers reports whether the key still dedupes an event received at ns: its window is
// measured from the earlier event's ReceivedAt (an event received before it is covered too).
func (e dedupeEntry) covers(ns uint64) bool {
	return e.window <= 0 || ns < e.received || ns-e.received < uint64(e.window)
}

// dedupeSlack is how much longer than its window a dedupe key is kept by Badger's TTL,
// which counts whole seconds of the wall clock. Whether an event is a duplicate is decided
// by the events' ReceivedAt (the Service's clock), so the slack only delays the key's removal.
const dedupeSlack = time.Minute

// Append stores the event, its deliveries, their queue entries and its dedupe key in one
// transaction, and returns once it is durable. The window of a dedupe key is the DedupeFor
// it was stored with, measured between the ReceivedAt of the earlier event and of this one.
func (s *Store) Append(ctx context.Context, a *gateway.Append) (*gateway.Appended, error) {
	ev := a.Event
	if ev == nil || ev.ID == "" {
		return nil, errors.New("append: an event with an id is required")
	}
	// Encode outside the commit path: the committer only copies bytes.
	type dlv struct {
		d    *gateway.Delivery
		json []byte
	}
	dls := make([]dlv, len(a.Deliveries))
	for i, d := range a.Deliveries {
		if d.ID == "" {
			return nil, fmt.Errorf("append %s: a delivery without an id", ev.ID)
		}
		b, err := encodeDelivery(1, d)
		if err != nil {
			return nil, fmt.Errorf("append %s: encode delivery %s: %w", ev.ID, d.ID, err)
		}
		dls[i] = dlv{d, b}
	}
	var keep string // the dedupe key that goes with the event
	if a.Dedupe != "" && a.DedupeFor <= 0 {
		keep = a.Dedupe
	}
	stored := *ev
	stored.Deliveries = make([]string, len(a.Deliveries))
	for i, d := range a.Deliveries {
		stored.Deliveries[i] = d.ID
	}
	body, err := encodeEvent(&stored, keep)
	if err != nil {
		return nil, fmt.Errorf("append %s: %w", ev.ID, err)
	}
	received := nanos(ev.ReceivedAt)
	var res gateway.Appended
	err = s.update(ctx, func(tx *kv.Txn) error {
		res = gateway.Appended{ID: ev.ID}
		if a.Dedupe != "" {
			dup, held, err := findDuplicate(tx, a.Dedupe, received)
			if err != nil {
				return err
			}
			if dup != nil {
				res = *dup
				return nil
			}
			if a.Dedupe == ev.ID && held { // findDuplicate read ev.ID's record already
				return errStored("event", ev.ID)
			}
		}
		if a.Dedupe != ev.ID {
			if err := refuseStored(tx, eventKey(ev.ID), "event", ev.ID); err != nil {
				return err
			}
		}
		head, err := readHead(tx)
		if err != nil {
			return err
		}
		seq := head.next(received)
		tx.Set(keySeq, head.encode())
		setEventSeq(body, seq)
		tx.Set(eventKey(ev.ID), body)
		tx.Set(seqKey(seq), seqEntry(ev.ReceivedAt, ev.ID))
		for _, x := range dls {
			if err := insertDelivery(tx, x.d, x.json); err != nil {
				return err
			}
		}
		switch {
		case keep == ev.ID:
			// Implied by the event's own record (see findDuplicate): no dd/ key.
		case keep != "":
			tx.Set(dedupeKey(a.Dedupe), dedupeEntry{seq: seq, received: received, id: ev.ID}.encode())
		case a.Dedupe != "":
			e := dedupeEntry{seq: seq, received: received, window: a.DedupeFor, id: ev.ID}.encode()
			tx.SetTTL(dedupeKey(a.Dedupe), e, a.DedupeFor+dedupeSlack)
		}
		res.Seq = seq
		tx.OnCommit(s.appended.notify)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("append %s: %w", ev.ID, err)
	}
	if !res.Duplicate {
		ev.Seq = res.Seq
		for _, d := range a.Deliveries {
			d.Rev = 1
		}
	}
	return &res, nil
}

// findDuplicate returns the earlier event that dedupe key stands for at ns, if any: the one
// its dd/ entry names while that entry's window covers ns, or else the event whose id is the
// key, if that event was stored under its own id as its dedupe key for as long as it is kept
// (the publish API's dedupe: such an event's record is its dedupe entry, and Append writes no
// dd/ key for it). held reports whether an event with the key as its id is stored at all.
func findDuplicate(tx *kv.Txn, key string, ns uint64) (dup *gateway.Appended, held bool, err error) {
	v, err := tx.Get(dedupeKey(key))
	switch {
	case err == nil:
		e, ok := parseDedupe(v)
		if !ok {
			return nil, false, fmt.Errorf("dedupe key %.64q: %w", key, errCorrupt)
		}
		if e.covers(ns) {
			return &gateway.Appended{ID: e.id, Seq: e.seq, Duplicate: true}, true, nil
		}
	case !errors.Is(err, kv.ErrNotFound):
		return nil, false, err
	}
	ev, m, err := loadEvent(tx, key)
	switch {
	case errors.Is(err, gateway.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	case m.Dedupe == key:
		return &gateway.Appended{ID: ev.ID, Seq: ev.Seq, Duplicate: true}, true, nil
	}
	return nil, true, nil
}

// AddDeliveries adds ds to the stored event eventID in one transaction (see
// gateway.EventLog): the event's record lists them, and they are stored, indexed and queued
// as Append stores an event's own.
func (s *Store) AddDeliveries(ctx context.Context, eventID string, ds ...*gateway.Delivery) error {
	enc := make([][]byte, len(ds))
	for i, d := range ds {
		if d.ID == "" || d.EventID != eventID {
			return fmt.Errorf("add deliveries to %s: a delivery without an id or of another event", eventID)
		}
		b, err := encodeDelivery(1, d)
		if err != nil {
			return fmt.Errorf("add deliveries to %s: encode delivery %s: %w", eventID, d.ID, err)
		}
		enc[i] = b
	}
	err := s.update(ctx, func(tx *kv.Txn) error {
		ev, m, err := loadEvent(tx, eventID)
		if err != nil {
			return err
		}
		for i, d := range ds {
			if err := insertDelivery(tx, d, enc[i]); err != nil {
				return err
			}
			ev.Deliveries = append(ev.Deliveries, d.ID)
		}
		body, err := encodeEvent(ev, m.Dedupe)
		if err != nil {
			return err
		}
		tx.Set(eventKey(eventID), body)
		return nil
	})
	if err != nil {
		return fmt.Errorf("add deliveries to %s: %w", eventID, err)
	}
	for _, d := range ds {
		d.Rev = 1
	}
	return nil
}

// refuseStored is ErrConflict (errStored) when key, the record of what id, is stored.
func refuseStored(tx *kv.Txn, key []byte, what, id string) error {
	_, err := tx.Get(key)
	switch {
	case err == nil:
		return errStored(what, id)
	case errors.Is(err, kv.ErrNotFound):
		return nil
	}
	return err
}

// errStored is the ErrConflict of a record (what id) that is stored already.
func errStored(what, id string) error {
	return fmt.Errorf("%s %s is already stored: %w", what, id, gateway.ErrConflict)
}

// insertDelivery stores a new delivery d, encoded as enc (see encodeDelivery), with its
// index entries and, when pending, its queue entry; one already stored is ErrConflict.
func insertDelivery(tx *kv.Txn, d *gateway.Delivery, enc []byte) error {
	if err := refuseStored(tx, deliveryKey(d.ID), "delivery", d.ID); err != nil {
		return err
	}
	tx.Set(deliveryKey(d.ID), enc)
	indexDelivery(tx, d)
	queueDelivery(tx, nil, d)
	return nil
}

// logHead is what m/seq holds about the log: the last Seq handed out, the latest
// ReceivedAt appended, and the most an event's ReceivedAt has been behind that latest one
// when it was appended (skew). ReceivedAt is the Service's clock, read before the commit
// that orders the log, so it is not quite in Seq order; skew bounds by how much, which is
// what lets Events find where Since starts without reading the log from the beginning.
type logHead struct {
	seq      gateway.Seq
	received uint64
	skew     uint64
}

// readHead reads m/seq (zero for an empty log).
func readHead(r getter) (logHead, error) {
	v, err := r.Get(keySeq)
	if errors.Is(err, kv.ErrNotFound) {
		return logHead{}, nil
	}
	if err != nil {
		return logHead{}, fmt.Errorf("read the log's head: %w", err)
	}
	if len(v) != 24 {
		return logHead{}, fmt.Errorf("read the log's head: %w", errCorrupt)
	}
	return logHead{seq: gateway.Seq(binary.BigEndian.Uint64(v)), received: binary.BigEndian.Uint64(v[8:]),
		skew: binary.BigEndian.Uint64(v[16:])}, nil
}

// next takes the next Seq for an event received at ns (in nanoseconds).
func (h *logHead) next(ns uint64) gateway.Seq {
	h.seq++
	if ns > h.received {
		h.received = ns
	} else if h.received-ns > h.skew {
		h.skew = h.received - ns
	}
	return h.seq
}

func (h logHead) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(h.seq))
	b = binary.BigEndian.AppendUint64(b, h.received)
	return binary.BigEndian.AppendUint64(b, h.skew)
}

// sinceStart returns a Seq at or before which every event was received before since (ns):
// the largest it finds, by bisecting the log for an event received more than the skew
// before since (every event before that one was received before since too).
func sinceStart(r *kv.Reader, since uint64) (gateway.Seq, error) {
	head, err := readHead(r)
	if err != nil || head.skew > since {
		return 0, err
	}
	limit := since - head.skew
	var safe gateway.Seq
	lo, hi := gateway.Seq(1), head.seq
	for lo <= hi {
		mid := lo + (hi-lo)/2
		var (
			found    bool
			seq      gateway.Seq
			received uint64
		)
		err := r.Scan([]byte(pEventSeq), seqKey(mid), false, func(k, v []byte) (bool, error) {
			found, seq = true, parseSeqKey(k)
			received, _ = parseSeqEntry(v)
			return false, nil
		})
		if err != nil {
			return 0, err
		}
		switch {
		case !found || seq > hi:
			hi = mid - 1
		case received < limit:
			safe, lo = seq, seq+1
		default:
			hi = mid - 1
		}
	}
	return safe, nil
}

// Event returns event id.
func (s *Store) Event(ctx context.Context, id string) (*gateway.StoredEvent, error) {
	var ev *gateway.StoredEvent
	err := s.view(func(r *kv.Reader) error {
		var err error
		ev, _, err = loadEvent(r, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("event %s: %w", id, err)
	}
	return ev, nil
}

// Appended returns a channel closed by the next Append in this process.
func (s *Store) Appended() <-chan struct{} { return s.appended.wait() }

// Events reads the log in Seq order (newest first when q.Newest). A Limit of 0 or less
// leaves the range uncapped, as does a MaxScan of 0. For q.Since, the read starts at an
// event found by bisecting the log (see logHead), and the events from there on received
// before q.Since are skipped without counting towards MaxScan (only their index entries
// are read).
func (s *Store) Events(ctx context.Context, q gateway.EventQuery) (*gateway.EventRange, error) {
	out := &gateway.EventRange{Next: q.After}
	if q.Newest && q.After == 1 {
		return out, nil // nothing is older than the first event
	}
	var since uint64
	if !q.Since.IsZero() && q.After == 0 && !q.Newest {
		since = nanos(q.Since)
	}
	err := s.view(func(r *kv.Reader) error {
		var start []byte
		switch {
		case q.After > 0 && q.Newest:
			start = seqKey(q.After - 1)
		case q.After > 0:
			start = seqKey(q.After + 1)
		}
		if since > 0 {
			from, err := sinceStart(r, since)
			if err != nil {
				return err
			}
			start = seqKey(from + 1)
		}
		scanned := 0
		return r.Scan([]byte(pEventSeq), start, q.Newest, func(k, v []byte) (bool, error) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			seq := parseSeqKey(k)
			received, id := parseSeqEntry(v)
			if received < since {
				return true, nil
			}
			if q.Limit > 0 && len(out.Events) >= q.Limit || q.MaxScan > 0 && scanned >= q.MaxScan {
				out.More = true
				return false, nil
			}
			scanned++
			ev, _, err := loadEvent(r, id)
			if errors.Is(err, gateway.ErrNotFound) {
				return true, nil // trimmed since the index entry was read
			}
			if err != nil {
				return false, err
			}
			out.Next = seq
			if q.Match == nil || q.Match(ev) {
				out.Events = append(out.Events, ev)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return out, nil
}

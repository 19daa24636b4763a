// Package index is what the in-memory indexes of queue/memory and queue/jetstream (its
// per-node view of the stream) share: copies of records, deliveries ordered by creation
// per endpoint and across endpoints with the paging of gateway.DeliveryQuery, the paging
// of gateway.EventQuery over events ordered by Seq, the registry's watchers, and the
// decoding of request log entries. None of it locks: each caller holds its own lock.
package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/google/btree"

	"github.com/hookgate/hookgate/gateway"
)

// degree is the B-trees' degree.
const degree = 32

// CopyEvent returns a copy of e that shares nothing with it.
func CopyEvent(e *gateway.StoredEvent) *gateway.StoredEvent {
	c := *e
	c.Data = slices.Clone(e.Data)
	c.Deliveries = slices.Clone(e.Deliveries)
	return &c
}

// CopyDelivery returns a copy of d that shares nothing with it.
func CopyDelivery(d *gateway.Delivery) *gateway.Delivery {
	c := *d
	c.Attempts = slices.Clone(d.Attempts)
	if d.NextAttemptAt != nil {
		t := *d.NextAttemptAt
		c.NextAttemptAt = &t
	}
	return &c
}

// key places a delivery in a creation-ordered index: ep is "" in the index over all
// endpoints.
type key struct {
	ep      string
	created time.Time
	id      string
}

func keyLess(a, b key) bool {
	if a.ep != b.ep {
		return a.ep < b.ep
	}
	if c := a.created.Compare(b.created); c != 0 {
		return c < 0
	}
	return a.id < b.id
}

// Deliveries orders deliveries by creation, across endpoints and per endpoint.
type Deliveries struct {
	byCreated, byEndpoint *btree.BTreeG[key]
}

// NewDeliveries returns an empty index.
func NewDeliveries() *Deliveries {
	return &Deliveries{byCreated: btree.NewG(degree, keyLess), byEndpoint: btree.NewG(degree, keyLess)}
}

// Put indexes d, which replaces old (nil for a new delivery).
func (x *Deliveries) Put(old, d *gateway.Delivery) {
	if old != nil && old.EndpointID == d.EndpointID && old.CreatedAt.Equal(d.CreatedAt) {
		return
	}
	if old != nil {
		x.Delete(old)
	}
	x.byCreated.ReplaceOrInsert(key{created: d.CreatedAt, id: d.ID})
	x.byEndpoint.ReplaceOrInsert(key{ep: d.EndpointID, created: d.CreatedAt, id: d.ID})
}

// Delete removes d from the index.
func (x *Deliveries) Delete(d *gateway.Delivery) {
	x.byCreated.Delete(key{created: d.CreatedAt, id: d.ID})
	x.byEndpoint.Delete(key{ep: d.EndpointID, created: d.CreatedAt, id: d.ID})
}

// Clear empties the index.
func (x *Deliveries) Clear() {
	x.byCreated.Clear(false)
	x.byEndpoint.Clear(false)
}

// List lists deliveries by creation (see gateway.DeliveryQuery), reading each from get:
// Limit defaults to 50 and is at most 1000, MaxScan 0 is no limit; records outside
// Since/Until are not read. After must name a stored delivery (ErrNotFound otherwise).
// Next is set when records are left past the page, to the last one read, matching or not.
// The deliveries returned are copies.
func (x *Deliveries) List(q gateway.DeliveryQuery, get func(id string) *gateway.Delivery) (*gateway.DeliveryRange, error) {
	limit := gateway.ClampLimit(q.Limit)
	tree := x.byCreated
	if q.Endpoint != "" {
		tree = x.byEndpoint
	}
	var (
		cur    key
		hasCur = q.After != ""
	)
	if hasCur {
		d := get(q.After)
		if d == nil {
			return nil, fmt.Errorf("list deliveries after %s: %w", q.After, gateway.ErrNotFound)
		}
		cur = key{ep: q.Endpoint, created: d.CreatedAt, id: d.ID}
	}
	out := &gateway.DeliveryRange{Deliveries: []*gateway.Delivery{}}
	var (
		scanned int
		last    string
		more    bool
	)
	visit := func(k key) bool {
		if k.ep != q.Endpoint {
			return false
		}
		if hasCur && k == cur {
			return true
		}
		if !q.Since.IsZero() && k.created.Before(q.Since) {
			return q.Oldest // newest first: nothing older is in range
		}
		if !q.Until.IsZero() && !k.created.Before(q.Until) {
			return !q.Oldest // oldest first: nothing newer is in range
		}
		if len(out.Deliveries) == limit || q.MaxScan > 0 && scanned == q.MaxScan {
			more = true
			return false
		}
		scanned++
		last = k.id
		if d := get(k.id); q.Status == "" || d.Status == q.Status {
			out.Deliveries = append(out.Deliveries, CopyDelivery(d))
		}
		return true
	}
	if q.Oldest {
		start := key{ep: q.Endpoint, created: q.Since}
		if hasCur && (q.Since.IsZero() || cur.created.After(q.Since)) {
			start = cur
		}
		tree.AscendGreaterOrEqual(start, visit)
	} else {
		var start key
		switch {
		case hasCur && (q.Until.IsZero() || cur.created.Before(q.Until)):
			start = cur
		case !q.Until.IsZero():
			start = key{ep: q.Endpoint, created: q.Until}
		default:
			start = key{ep: q.Endpoint + "\x00"}
		}
		tree.DescendLessOrEqual(start, visit)
	}
	if more {
		out.Next = last
	}
	return out, nil
}

// EventBatch is how many events a batch function copies at a time (under its caller's
// lock); ReadEvents runs Match outside it.
const EventBatch = 256

// ReadEvents reads the log in Seq order (see gateway.EventQuery), a batch at a time: batch
// returns copies of up to EventBatch events past cursor (before it when newest; from the
// newest when !started), leaving out those received before since, and locks what it reads
// for as long as it runs. A Limit or MaxScan of 0 is no limit; Next is After when nothing
// was read.
func ReadEvents(ctx context.Context, q gateway.EventQuery, batch func(newest, started bool, cursor gateway.Seq, since time.Time) ([]*gateway.StoredEvent, error)) (*gateway.EventRange, error) {
	out := &gateway.EventRange{Events: []*gateway.StoredEvent{}, Next: q.After}
	since := q.Since
	if q.Newest || q.After != 0 {
		since = time.Time{}
	}
	var (
		cursor  = q.After      // the last seq copied: the next batch starts past it
		started = q.After != 0 // for Newest: whether cursor is set yet
		scanned = 0
	)
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		evs, err := batch(q.Newest, started, cursor, since)
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			return out, nil
		}
		for _, ev := range evs {
			if q.Limit > 0 && len(out.Events) == q.Limit || q.MaxScan > 0 && scanned == q.MaxScan {
				out.More = true
				return out, nil
			}
			scanned++
			out.Next = ev.Seq
			if q.Match == nil || q.Match(ev) {
				out.Events = append(out.Events, ev)
			}
		}
		cursor, started = evs[len(evs)-1].Seq, true
	}
}

// Batch copies from tree (ordered by Seq; at turns a Seq into the item to start from,
// event an item into its event) up to EventBatch events past cursor as ReadEvents asks.
func Batch[R any](tree *btree.BTreeG[R], at func(gateway.Seq) R, event func(R) *gateway.StoredEvent, newest, started bool, cursor gateway.Seq, since time.Time) []*gateway.StoredEvent {
	out := make([]*gateway.StoredEvent, 0, min(EventBatch, tree.Len()))
	add := func(r R) bool {
		if ev := event(r); since.IsZero() || !ev.ReceivedAt.Before(since) {
			out = append(out, CopyEvent(ev))
		}
		return len(out) < EventBatch
	}
	switch {
	case !newest:
		tree.AscendGreaterOrEqual(at(cursor+1), add)
	case !started:
		tree.Descend(add)
	case cursor > 1:
		tree.DescendLessOrEqual(at(cursor-1), add)
	}
	return out
}

// DecodeRequests decodes source's request log entries, as stored (JSON).
func DecodeRequests(source string, bs [][]byte) ([]*gateway.SourceRequest, error) {
	out := make([]*gateway.SourceRequest, 0, len(bs))
	for _, b := range bs {
		var e gateway.SourceRequest
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("decode a request of %s: %w", source, err)
		}
		out = append(out, &e)
	}
	return out, nil
}

// WatchBuffer is how many changes a watcher may fall behind by before its channel is closed.
const WatchBuffer = 1024

// Watchers are the watches of one registry collection. The caller's lock guards them.
type Watchers[T any] struct {
	m map[chan gateway.Change[T]]struct{}
}

// Watch starts a watch that ends, its channel closed, when ctx ends or done is closed. mu
// is the lock that guards ws (not held by the caller); closed, called with mu held,
// reports whether the store is closed, in which case the channel comes closed.
func (ws *Watchers[T]) Watch(ctx context.Context, done <-chan struct{}, mu sync.Locker, closed func() bool) <-chan gateway.Change[T] {
	ch := make(chan gateway.Change[T], WatchBuffer)
	mu.Lock()
	if closed() {
		mu.Unlock()
		close(ch)
		return ch
	}
	if ws.m == nil {
		ws.m = map[chan gateway.Change[T]]struct{}{}
	}
	ws.m[ch] = struct{}{}
	mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-done:
		}
		mu.Lock()
		defer mu.Unlock()
		ws.Drop(ch)
	}()
	return ch
}

// Drop ends the watch ch, closing its channel unless that was done already.
func (ws *Watchers[T]) Drop(ch chan gateway.Change[T]) {
	if _, ok := ws.m[ch]; ok {
		delete(ws.m, ch)
		close(ch)
	}
}

// Notify sends a change to every watch, decoding b (the record as JSON) for each, so that
// no two share a value; a watch that fell behind is dropped, so that writers never wait:
// it should List again and start a new Watch.
func (ws *Watchers[T]) Notify(id string, rev uint64, b []byte, deleted bool) {
	for ch := range ws.m {
		c := gateway.Change[T]{ID: id, Rev: rev, Deleted: deleted}
		if !deleted {
			if err := json.Unmarshal(b, &c.Value); err != nil {
				ws.Drop(ch)
				continue
			}
		}
		select {
		case ch <- c:
		default:
			ws.Drop(ch)
		}
	}
}

// CloseAll ends every watch (the store is closing).
func (ws *Watchers[T]) CloseAll() {
	for ch := range ws.m {
		ws.Drop(ch)
	}
}

// CheckAppend checks what Append needs before it touches anything: an event with an id,
// deliveries with ids, and a ctx still live.
func CheckAppend(ctx context.Context, a *gateway.Append) error {
	if a == nil || a.Event == nil || a.Event.ID == "" {
		return errors.New("append: an event with an id is required")
	}
	for _, d := range a.Deliveries {
		if d == nil || d.ID == "" {
			return fmt.Errorf("append %s: a delivery without an id", a.Event.ID)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("append %s: %w", a.Event.ID, err)
	}
	return nil
}

// CheckAdd checks what AddDeliveries needs before it touches anything: deliveries with
// ids, each of the event eventID, and a ctx still live.
func CheckAdd(ctx context.Context, eventID string, ds []*gateway.Delivery) error {
	for _, d := range ds {
		if d == nil || d.ID == "" || d.EventID != eventID {
			return fmt.Errorf("add deliveries to %s: a delivery without an id or of another event", eventID)
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("add deliveries to %s: %w", eventID, err)
	}
	return nil
}

// CheckNew checks that the deliveries ds, about to be created, are new: no two share an
// id and none is stored yet (stored, called with the caller's lock held, says whether an id
// is). One that is not is ErrConflict.
func CheckNew(ds []*gateway.Delivery, stored func(id string) bool) error {
	seen := make(map[string]bool, len(ds))
	for _, d := range ds {
		if stored(d.ID) || seen[d.ID] {
			return fmt.Errorf("delivery %s is already stored: %w", d.ID, gateway.ErrConflict)
		}
		seen[d.ID] = true
	}
	return nil
}

// Unfinished reports whether d keeps its event from Trim: it is pending or paused.
func Unfinished(d *gateway.Delivery) bool {
	return d.Status == gateway.StatusPending || d.Status == gateway.StatusPaused
}

// Record is a registry record as a backend keeps it: JSON, so that what goes in and what
// comes out never alias, and its revision.
type Record struct {
	B   []byte
	Rev uint64
}

// Decode decodes the record id of kind (for messages) into a T.
func Decode[T any](kind, id string, b []byte) (T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("decode %s %s: %w", kind, id, err)
	}
	return v, nil
}

// Sorted returns m's ids in order with their records' JSON, for List: call it with the
// lock held, and DecodeAll without.
func Sorted(m map[string]Record) (ids []string, bs [][]byte) {
	ids = make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	bs = make([][]byte, len(ids))
	for i, id := range ids {
		bs[i] = m[id].B
	}
	return ids, bs
}

// DecodeAll decodes what Sorted returned.
func DecodeAll[T any](kind string, ids []string, bs [][]byte) ([]T, error) {
	out := make([]T, len(ids))
	for i, b := range bs {
		v, err := Decode[T](kind, ids[i], b)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

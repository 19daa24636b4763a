package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/hookgate/hookgate/gateway"
)

// Endpoints returns the registry's endpoints.
func (s *Store) Endpoints() gateway.Records[*gateway.Endpoint] { return s.endpoints }

// Sources returns the registry's sources.
func (s *Store) Sources() gateway.Records[*gateway.Source] { return s.sources }

// EventTypes returns the registry's custom event types.
func (s *Store) EventTypes() gateway.Records[*gateway.EventTypeRecord] { return s.eventTypes }

// Keys returns the registry's API keys (hashed).
func (s *Store) Keys() gateway.Records[*gateway.APIKey] { return s.keys }

// OAuthClients returns the registry's OAuth clients.
func (s *Store) OAuthClients() gateway.Records[*gateway.OAuthClient] { return s.oauthClients }

// Grants returns the registry's OAuth grants (tokens hashed).
func (s *Store) Grants() gateway.Records[*gateway.Grant] { return s.grants }

// watchBuffer is how many changes a watcher may fall behind by before its channel is closed.
const watchBuffer = 1024

// records is one collection of the registry. Values are kept as JSON, so that what goes
// in and what comes out never alias. Revisions count up per collection, so a record
// deleted and created again never reuses one.
type records[T any] struct {
	s        *Store // its mutex guards everything here
	kind     string
	rev      uint64
	m        map[string]record
	watchers map[*watcher[T]]struct{}
}

type record struct {
	b   []byte
	rev uint64
}

type watcher[T any] struct{ ch chan gateway.Change[T] }

func newRecords[T any](s *Store, kind string) *records[T] {
	return &records[T]{s: s, kind: kind, m: map[string]record{}, watchers: map[*watcher[T]]struct{}{}}
}

func (r *records[T]) decode(id string, b []byte) (T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("decode %s %s: %w", r.kind, id, err)
	}
	return v, nil
}

// Get returns a copy of the record id and its revision.
func (r *records[T]) Get(ctx context.Context, id string) (T, uint64, error) {
	var zero T
	if err := r.s.lock(); err != nil {
		return zero, 0, fmt.Errorf("%s %s: %w", r.kind, id, err)
	}
	rec, ok := r.m[id]
	r.s.mu.Unlock()
	if !ok {
		return zero, 0, fmt.Errorf("%s %s: %w", r.kind, id, gateway.ErrNotFound)
	}
	v, err := r.decode(id, rec.b)
	return v, rec.rev, err
}

// Put stores v as id if its revision is still rev (0: id must not exist).
func (r *records[T]) Put(ctx context.Context, id string, v T, rev uint64) (uint64, error) {
	if id == "" {
		return 0, fmt.Errorf("put %s: an id is required", r.kind)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("put %s %s: %w", r.kind, id, err)
	}
	if err := r.s.lock(); err != nil {
		return 0, fmt.Errorf("put %s %s: %w", r.kind, id, err)
	}
	defer r.s.mu.Unlock()
	if cur := r.m[id].rev; cur != rev {
		return 0, fmt.Errorf("put %s %s: at revision %d, not %d: %w", r.kind, id, cur, rev, gateway.ErrConflict)
	}
	r.rev++
	r.m[id] = record{b: b, rev: r.rev}
	r.notify(id, r.rev, b, false)
	return r.rev, nil
}

// Delete removes id.
func (r *records[T]) Delete(ctx context.Context, id string) error {
	if err := r.s.lock(); err != nil {
		return fmt.Errorf("delete %s %s: %w", r.kind, id, err)
	}
	defer r.s.mu.Unlock()
	if _, ok := r.m[id]; !ok {
		return fmt.Errorf("delete %s %s: %w", r.kind, id, gateway.ErrNotFound)
	}
	delete(r.m, id)
	r.rev++
	r.notify(id, r.rev, nil, true)
	return nil
}

// List returns copies of every record, by id.
func (r *records[T]) List(ctx context.Context) ([]T, error) {
	if err := r.s.lock(); err != nil {
		return nil, fmt.Errorf("list %ss: %w", r.kind, err)
	}
	ids := make([]string, 0, len(r.m))
	for id := range r.m {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	bs := make([][]byte, len(ids))
	for i, id := range ids {
		bs[i] = r.m[id].b
	}
	r.s.mu.Unlock()
	out := make([]T, len(ids))
	for i, b := range bs {
		v, err := r.decode(ids[i], b)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// Watch reports every Put and Delete after the call, in order, until ctx ends or the Store
// is closed; then the channel is closed. A watcher that falls watchBuffer changes behind
// has its channel closed early, so that writers never wait: it should List again and
// start a new Watch.
func (r *records[T]) Watch(ctx context.Context) <-chan gateway.Change[T] {
	w := &watcher[T]{ch: make(chan gateway.Change[T], watchBuffer)}
	if r.s.lock() != nil {
		close(w.ch)
		return w.ch
	}
	r.watchers[w] = struct{}{}
	r.s.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-r.s.done:
		}
		r.s.mu.Lock()
		defer r.s.mu.Unlock()
		r.drop(w)
	}()
	return w.ch
}

// drop closes w's channel unless that was done already.
func (r *records[T]) drop(w *watcher[T]) {
	if _, ok := r.watchers[w]; ok {
		delete(r.watchers, w)
		close(w.ch)
	}
}

// notify sends a change to every watcher, dropping those that fell behind.
func (r *records[T]) notify(id string, rev uint64, b []byte, deleted bool) {
	for w := range r.watchers {
		c := gateway.Change[T]{ID: id, Rev: rev, Deleted: deleted}
		if !deleted {
			v, err := r.decode(id, b)
			if err != nil {
				r.drop(w)
				continue
			}
			c.Value = v
		}
		select {
		case w.ch <- c:
		default:
			r.drop(w)
		}
	}
}

// closeWatchers closes every watcher's channel (the Store is closing).
func (r *records[T]) closeWatchers() {
	for w := range r.watchers {
		r.drop(w)
	}
}

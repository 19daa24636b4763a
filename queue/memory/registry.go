package memory

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/internal/index"
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

// records is one collection of the registry. Values are kept as JSON, so that what goes
// in and what comes out never alias. Revisions count up per collection, so a record
// deleted and created again never reuses one.
type records[T any] struct {
	s        *Store // its mutex guards everything here
	kind     string
	rev      uint64
	m        map[string]index.Record
	watchers index.Watchers[T]
}

func newRecords[T any](s *Store, kind string) *records[T] {
	return &records[T]{s: s, kind: kind, m: map[string]index.Record{}}
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
	v, err := index.Decode[T](r.kind, id, rec.B)
	return v, rec.Rev, err
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
	if cur := r.m[id].Rev; cur != rev {
		return 0, fmt.Errorf("put %s %s: at revision %d, not %d: %w", r.kind, id, cur, rev, gateway.ErrConflict)
	}
	r.rev++
	r.m[id] = index.Record{B: b, Rev: r.rev}
	r.watchers.Notify(id, r.rev, b, false)
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
	r.watchers.Notify(id, r.rev, nil, true)
	return nil
}

// List returns copies of every record, by id.
func (r *records[T]) List(ctx context.Context) ([]T, error) {
	if err := r.s.lock(); err != nil {
		return nil, fmt.Errorf("list %ss: %w", r.kind, err)
	}
	ids, bs := index.Sorted(r.m)
	r.s.mu.Unlock()
	return index.DecodeAll[T](r.kind, ids, bs)
}

// Watch reports every Put and Delete after the call, in order, until ctx ends or the Store
// is closed; then the channel is closed. A watcher that falls index.WatchBuffer changes
// behind has its channel closed early, so that writers never wait: it should List again
// and start a new Watch.
func (r *records[T]) Watch(ctx context.Context) <-chan gateway.Change[T] {
	return r.watchers.Watch(ctx, r.s.done, &r.s.mu, func() bool { return r.s.closed })
}

// closeWatchers closes every watcher's channel (the Store is closing).
func (r *records[T]) closeWatchers() { r.watchers.CloseAll() }

package jetstream

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

// collection is one collection of the registry, on the subjects <prefix>.reg.<name>.<id>:
// records kept as JSON (so what goes in and out never aliases), each record's revision
// the stream sequence of its message. Adding a collection to the registry is one field of
// Store set by newCollection in Open (and its accessor).
type collection[T any] struct {
	s          *Store
	name, kind string
	// Guarded by the view's mutex.
	recs     map[string]index.Record
	watchers index.Watchers[T]
}

var _ gateway.Records[*gateway.Endpoint] = (*collection[*gateway.Endpoint])(nil)

// newCollection makes the collection name (a subject token) of records of kind (for
// messages) and has the view feed it.
func newCollection[T any](s *Store, name, kind string) *collection[T] {
	c := &collection[T]{s: s, name: name, kind: kind, recs: map[string]index.Record{}}
	s.v.colls[name] = c
	return c
}

func (c *collection[T]) subject(id string) string {
	return c.s.v.subject(kindRegistry, c.name, token(id))
}

// Get returns a copy of the record id and its revision.
func (c *collection[T]) Get(ctx context.Context, id string) (T, uint64, error) {
	var zero T
	if err := c.s.enter(); err != nil {
		return zero, 0, fmt.Errorf("%s %s: %w", c.kind, id, err)
	}
	defer c.s.end()
	rec, ok := c.recs[id]
	c.s.v.mu.Unlock()
	if !ok {
		return zero, 0, fmt.Errorf("%s %s: %w", c.kind, id, gateway.ErrNotFound)
	}
	v, err := index.Decode[T](c.kind, id, rec.B)
	return v, rec.Rev, err
}

// Put stores v as id if its revision is still rev (0: id must not exist), with a
// compare-and-swap on the record's subject, and returns the new revision.
func (c *collection[T]) Put(ctx context.Context, id string, v T, rev uint64) (uint64, error) {
	if id == "" {
		return 0, fmt.Errorf("put %s: an id is required", c.kind)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("put %s %s: %w", c.kind, id, err)
	}
	if err := c.s.begin(); err != nil {
		return 0, fmt.Errorf("put %s %s: %w", c.kind, id, err)
	}
	defer c.s.end()
	subj := c.subject(id)
	seq, err := c.s.retry(ctx, func() (uint64, error) {
		if err := c.s.v.lock(); err != nil {
			return 0, err
		}
		cur := c.recs[id].Rev
		exp := c.s.v.expect(subj)
		c.s.v.mu.Unlock()
		if cur != rev {
			return 0, fmt.Errorf("at revision %d, not %d: %w", cur, rev, gateway.ErrConflict)
		}
		return c.s.write(ctx, []outMsg{{subject: subj, data: b, cas: true, expect: exp}})
	})
	if err != nil {
		return 0, fmt.Errorf("put %s %s: %w", c.kind, id, err)
	}
	if err := c.s.v.waitOwn(ctx, subj, seq); err != nil {
		return 0, fmt.Errorf("put %s %s: %w", c.kind, id, err)
	}
	return seq, nil
}

// Delete removes id (a tombstone on its subject).
func (c *collection[T]) Delete(ctx context.Context, id string) error {
	if err := c.s.begin(); err != nil {
		return fmt.Errorf("delete %s %s: %w", c.kind, id, err)
	}
	defer c.s.end()
	subj := c.subject(id)
	seq, err := c.s.retry(ctx, func() (uint64, error) {
		if err := c.s.v.lock(); err != nil {
			return 0, err
		}
		_, ok := c.recs[id]
		exp := c.s.v.expect(subj)
		c.s.v.mu.Unlock()
		if !ok {
			return 0, gateway.ErrNotFound
		}
		return c.s.write(ctx, []outMsg{{subject: subj, del: true, cas: true, expect: exp}})
	})
	if err != nil {
		return fmt.Errorf("delete %s %s: %w", c.kind, id, err)
	}
	if err := c.s.v.waitOwn(ctx, subj, seq); err != nil {
		return fmt.Errorf("delete %s %s: %w", c.kind, id, err)
	}
	return nil
}

// List returns copies of every record, by id.
func (c *collection[T]) List(ctx context.Context) ([]T, error) {
	if err := c.s.enter(); err != nil {
		return nil, fmt.Errorf("list %ss: %w", c.kind, err)
	}
	defer c.s.end()
	ids, bs := index.Sorted(c.recs)
	c.s.v.mu.Unlock()
	return index.DecodeAll[T](c.kind, ids, bs)
}

// Watch reports every change after the call, by any node, in stream order, until ctx ends
// or the Store is closed; then the channel is closed. A watcher that falls
// index.WatchBuffer changes behind has its channel closed early, so that the view never
// waits: it should List again and start a new Watch.
func (c *collection[T]) Watch(ctx context.Context) <-chan gateway.Change[T] {
	return c.watchers.Watch(ctx, c.s.done, &c.s.v.mu, func() bool { return c.s.v.closed })
}

// apply changes the record id as the stream says (the view's mutex is held).
func (c *collection[T]) apply(id string, seq uint64, b []byte, deleted bool) {
	if deleted {
		if _, ok := c.recs[id]; !ok {
			return
		}
		delete(c.recs, id)
	} else {
		c.recs[id] = index.Record{B: b, Rev: seq}
	}
	c.watchers.Notify(id, seq, b, deleted)
}

// closeWatchers closes every watcher's channel (the Store is closing).
func (c *collection[T]) closeWatchers() { c.watchers.CloseAll() }

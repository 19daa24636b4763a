package badger

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger/internal/kv"
)

// Endpoints is the registry's endpoints, under ep/.
func (s *Store) Endpoints() gateway.Records[*gateway.Endpoint] { return s.endpoints }

// Sources is the registry's catch hooks, under src/.
func (s *Store) Sources() gateway.Records[*gateway.Source] { return s.sources }

// EventTypes is the registry's custom event types, by name, under et/.
func (s *Store) EventTypes() gateway.Records[*gateway.EventTypeRecord] { return s.eventTypes }

// Keys is the registry's API keys (hashed), under key/.
func (s *Store) Keys() gateway.Records[*gateway.APIKey] { return s.keys }

// OAuthClients is the registry's OAuth clients, under oac/.
func (s *Store) OAuthClients() gateway.Records[*gateway.OAuthClient] { return s.oauthClients }

// Grants is the registry's OAuth grants (tokens hashed), under oag/.
func (s *Store) Grants() gateway.Records[*gateway.Grant] { return s.grants }

// records is one registry collection: <prefix><id> → <rev, 8 bytes> JSON. A delete is a
// revision too (the one its Change carries).
type records[T any] struct {
	s      *Store
	prefix string
	hub    *hub[T]
}

func newRecords[T any](s *Store, prefix string) *records[T] {
	return &records[T]{s: s, prefix: prefix, hub: &hub[T]{subs: map[*sub[T]]struct{}{}}}
}

func (c *records[T]) key(id string) []byte { return []byte(c.prefix + id) }

func (c *records[T]) decode(key, b []byte) (T, error) {
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("decode %.64q: %w: %w", key, errCorrupt, err)
	}
	return v, nil
}

// Get returns record id and its revision.
func (c *records[T]) Get(ctx context.Context, id string) (T, uint64, error) {
	var (
		v   T
		rev uint64
	)
	err := c.s.view(func(r *kv.Reader) error {
		b, err := get(r, c.key(id))
		if err != nil {
			return err
		}
		var body []byte
		if rev, body, err = splitRev(c.key(id), b); err != nil {
			return err
		}
		v, err = c.decode(c.key(id), body)
		return err
	})
	if err != nil {
		var zero T
		return zero, 0, fmt.Errorf("%s%s: %w", c.prefix, id, err)
	}
	return v, rev, nil
}

// Put writes v as id if its stored revision is still rev (0: id must not exist).
func (c *records[T]) Put(ctx context.Context, id string, v T, rev uint64) (uint64, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, fmt.Errorf("%s%s: encode: %w", c.prefix, id, err)
	}
	key := c.key(id)
	var newRev uint64
	err = c.s.update(ctx, func(tx *kv.Txn) error {
		have := uint64(0)
		b, err := get(tx, key)
		switch {
		case err == nil:
			if have, _, err = splitRev(key, b); err != nil {
				return err
			}
		case !errors.Is(err, gateway.ErrNotFound):
			return err
		}
		if have != rev {
			return fmt.Errorf("at revision %d, not %d: %w", have, rev, gateway.ErrConflict)
		}
		next, err := c.nextRev(tx)
		if err != nil {
			return err
		}
		newRev = next
		tx.Set(key, withRev(next, body))
		tx.OnCommit(func() { c.hub.publish(id, next, body, false) })
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("put %s%s: %w", c.prefix, id, err)
	}
	return newRev, nil
}

// nextRev takes the collection's next revision: revisions count up per collection (under
// m/rev/<prefix>), so a record deleted and created again never reuses one.
func (c *records[T]) nextRev(tx *kv.Txn) (uint64, error) {
	key := []byte("m/rev/" + c.prefix)
	var last uint64
	v, err := tx.Get(key)
	switch {
	case err == nil && len(v) == 8:
		last = binary.BigEndian.Uint64(v)
	case err == nil:
		return 0, fmt.Errorf("read %s: %w", key, errCorrupt)
	case !errors.Is(err, kv.ErrNotFound):
		return 0, err
	}
	tx.Set(key, binary.BigEndian.AppendUint64(nil, last+1))
	return last + 1, nil
}

// Delete removes id.
func (c *records[T]) Delete(ctx context.Context, id string) error {
	key := c.key(id)
	err := c.s.update(ctx, func(tx *kv.Txn) error {
		b, err := get(tx, key)
		if err != nil {
			return err
		}
		if _, _, err := splitRev(key, b); err != nil {
			return err
		}
		rev, err := c.nextRev(tx)
		if err != nil {
			return err
		}
		tx.Delete(key)
		tx.OnCommit(func() { c.hub.publish(id, rev, nil, true) })
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete %s%s: %w", c.prefix, id, err)
	}
	return nil
}

// List returns every record, by id.
func (c *records[T]) List(ctx context.Context) ([]T, error) {
	var out []T
	err := c.s.view(func(r *kv.Reader) error {
		return r.Scan([]byte(c.prefix), nil, false, func(k, b []byte) (bool, error) {
			_, body, err := splitRev(k, b)
			if err != nil {
				return false, err
			}
			v, err := c.decode(k, body)
			if err != nil {
				return false, err
			}
			out = append(out, v)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", c.prefix, err)
	}
	return out, nil
}

// watchBuffer is how many changes a watcher may fall behind by. A watcher further behind
// has its channel closed (and must re-list): writers never wait for a reader.
const watchBuffer = 1024

// Watch reports every change committed by this process after the call, in commit order,
// until ctx ends or the store closes (then the channel is closed). A watcher that falls
// more than 1024 changes behind has its channel closed early: it should List again and
// Watch anew. This store is one process's: changes by others can't happen.
func (c *records[T]) Watch(ctx context.Context) <-chan gateway.Change[T] {
	w := &sub[T]{ch: make(chan gateway.Change[T], watchBuffer), decode: c.decode, key: c.key}
	if !c.hub.add(w) {
		close(w.ch)
		return w.ch
	}
	go func() {
		select {
		case <-ctx.Done():
			c.hub.remove(w)
		case <-w.gone:
		}
	}()
	return w.ch
}

// hub fans committed changes out to watchers. publish runs on the committer goroutine and
// never blocks.
type hub[T any] struct {
	mu     sync.Mutex
	subs   map[*sub[T]]struct{}
	closed bool
}

type sub[T any] struct {
	ch     chan gateway.Change[T]
	gone   chan struct{} // closed when the hub drops the watcher
	decode func(key, b []byte) (T, error)
	key    func(id string) []byte
}

func (h *hub[T]) add(w *sub[T]) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	w.gone = make(chan struct{})
	h.subs[w] = struct{}{}
	return true
}

// remove drops w and closes its channel. Caller must not hold mu.
func (h *hub[T]) remove(w *sub[T]) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drop(w)
}

// drop closes w's channel if it is still subscribed. Caller holds mu.
func (h *hub[T]) drop(w *sub[T]) {
	if _, ok := h.subs[w]; !ok {
		return
	}
	delete(h.subs, w)
	close(w.ch)
	close(w.gone)
}

// publish sends a change to every watcher, each its own decoded copy.
func (h *hub[T]) publish(id string, rev uint64, body []byte, deleted bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for w := range h.subs {
		ch := gateway.Change[T]{ID: id, Rev: rev, Deleted: deleted}
		if !deleted {
			v, err := w.decode(w.key(id), body)
			if err != nil {
				h.drop(w) // can't happen for what Put encoded; the watcher re-lists
				continue
			}
			ch.Value = v
		}
		select {
		case w.ch <- ch:
		default:
			h.drop(w) // too far behind: it re-lists
		}
	}
}

// closeAll closes every watcher's channel (the store is closing).
func (h *hub[T]) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for w := range h.subs {
		h.drop(w)
	}
}

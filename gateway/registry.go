package gateway

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// maxCASTries bounds how often a compare-and-swap update is retried when the record keeps
// changing under it (each retry reads it again).
const maxCASTries = 100

// casUpdate applies change to the record id of r and stores it if nothing changed it
// meanwhile; on a conflict it reads the record again and re-applies change. change gets a
// copy of the stored record (the store hands out copies) and returns the record to store.
// It returns what was stored and its revision.
func casUpdate[T any](ctx context.Context, r Records[T], id string, change func(cur T) (T, error)) (T, uint64, error) {
	var zero T
	for range maxCASTries {
		cur, rev, err := r.Get(ctx, id)
		if err != nil {
			return zero, 0, err
		}
		next, err := change(cur)
		if err != nil {
			return zero, 0, err
		}
		nrev, err := r.Put(ctx, id, next, rev)
		if err == nil {
			return next, nrev, nil
		}
		if !errors.Is(err, ErrConflict) {
			return zero, 0, err
		}
	}
	return zero, 0, fmt.Errorf("%s kept changing while it was updated: %w", id, ErrConflict)
}

// watchRetry is how long a registry watcher waits before it lists and watches again after
// the store failed it.
const watchRetry = time.Second

// follow keeps an in-memory copy of one registry collection: it watches r, lists it (so
// nothing changed between the two is missed) and hands the list to reset, then every change
// to apply, until ctx ends. A watch channel the store closes early (the watcher fell behind)
// is followed by a new watch and a new list. The first list runs before follow returns, and
// its error is follow's; later failures are logged and retried.
func follow[T any](ctx context.Context, s *Service, what string, r Records[T], reset func([]T), apply func(Change[T])) error {
	start := func() (<-chan Change[T], context.CancelFunc, error) {
		wctx, cancel := context.WithCancel(ctx)
		ch := r.Watch(wctx)
		list, err := r.List(ctx)
		if err != nil {
			cancel()
			return nil, nil, fmt.Errorf("load %s: %w", what, err)
		}
		reset(list)
		return ch, cancel, nil
	}
	ch, cancel, err := start()
	if err != nil {
		return err
	}
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		for {
			for c := range ch {
				apply(c)
			}
			cancel()
			for {
				if ctx.Err() != nil {
					return
				}
				ch, cancel, err = start()
				if err == nil {
					break
				}
				s.log.Error("follow registry changes", "what", what, "err", err, "retry_in", watchRetry)
				select {
				case <-ctx.Done():
					return
				case <-time.After(watchRetry):
				}
			}
		}
	}()
	return nil
}

// followEndpoints loads the endpoints into the in-memory snapshot and keeps it up to date
// with every change, this process's (already applied when its write returned) and other
// processes' (for a shared store).
func (s *Service) followEndpoints(ctx context.Context) error {
	return follow(ctx, s, "endpoints", s.store.Endpoints(), func(list []*Endpoint) {
		s.mu.Lock()
		defer s.mu.Unlock()
		listed := make(map[string]bool, len(list))
		for _, ep := range list {
			listed[ep.ID] = true
			if s.epRevs[ep.ID] == deletedRev {
				continue
			}
			s.endpoints[ep.ID] = ep
			s.epRevs[ep.ID] = 0
		}
		for id := range s.endpoints {
			if !listed[id] {
				delete(s.endpoints, id)
			}
		}
	}, func(c Change[*Endpoint]) {
		if c.Deleted {
			s.dropEndpoint(c.ID)
			return
		}
		s.setEndpoint(c.ID, c.Value, c.Rev)
	})
}

// followEventTypes restores the custom event types into the catalog and follows their
// changes. Without a catalog there is nothing to follow.
func (s *Service) followEventTypes(ctx context.Context) error {
	c := s.opts.Catalog
	if c == nil {
		return nil
	}
	var firstErr error
	loaded := false
	err := follow(ctx, s, "event types", s.store.EventTypes(), func(list []*EventTypeRecord) {
		for _, rec := range list {
			if err := c.Restore(rec.Name, rec.Description, rec.Schema); err != nil {
				err = fmt.Errorf("restore event type %s: %w", rec.Name, err)
				if !loaded && firstErr == nil {
					firstErr = err
				}
				s.log.Error("restore event type", "name", rec.Name, "err", err)
			}
		}
		loaded = true
	}, func(ch Change[*EventTypeRecord]) {
		if ch.Deleted {
			c.Remove(ch.ID) // already gone (this process's delete): nothing to do
			return
		}
		if err := c.Restore(ch.Value.Name, ch.Value.Description, ch.Value.Schema); err != nil {
			s.log.Error("restore event type", "name", ch.ID, "err", err)
		}
	})
	if err != nil {
		return err
	}
	return firstErr
}

package badger

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger/internal/kv"
)

// logStats is what LogRequest knows of a source's log without reading it: entries and
// bytes, counted since the log was last read (once, on a source's first LogRequest, and
// whenever the counts pass a bound). Entries that expired meanwhile still count, so the
// counts are never low: a log over its bound is always trimmed.
type logStats struct {
	mu      sync.Mutex // orders a source's LogRequests, so the bound is kept exactly
	loaded  bool
	entries int
	bytes   int64
}

// stats returns source's logStats, creating it.
func (s *Store) stats(source string) *logStats {
	s.reqMu.Lock()
	defer s.reqMu.Unlock()
	st, ok := s.reqStats[source]
	if !ok {
		st = &logStats{}
		s.reqStats[source] = st
	}
	return st
}

// LogRequest adds e to source's log and drops the oldest entries (by ReceivedAt) past
// bound: more than bound.Entries, or more than bound.Bytes of stored JSON. An entry expires
// bound.MaxAge after it was logged, by the wall clock: Badger's TTL, which counts whole
// seconds, is rounded up, so an entry lives at least MaxAge and at most a second more.
func (s *Store) LogRequest(ctx context.Context, source string, e *gateway.SourceRequest, bound gateway.LogBound) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("log request of %s: encode: %w", source, err)
	}
	key := timeKey(requestPrefix(source), e.ReceivedAt, e.ID)
	st := s.stats(source)
	st.mu.Lock()
	defer st.mu.Unlock()
	if !st.loaded {
		if err := s.countLog(source, st); err != nil {
			return err
		}
	}
	err = s.update(ctx, func(tx *kv.Txn) error {
		if bound.MaxAge > 0 {
			tx.SetTTL(key, b, bound.MaxAge+time.Second-time.Nanosecond)
		} else {
			tx.Set(key, b)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("log request of %s: %w", source, err)
	}
	st.entries++
	st.bytes += int64(len(b))
	if bound.Entries > 0 && st.entries > bound.Entries || bound.Bytes > 0 && st.bytes > bound.Bytes {
		if err := s.boundLog(ctx, source, st, bound); err != nil {
			return err
		}
	}
	return nil
}

// countLog reads source's log into st.
func (s *Store) countLog(source string, st *logStats) error {
	st.entries, st.bytes = 0, 0
	err := s.view(func(r *kv.Reader) error {
		return r.Scan([]byte(requestPrefix(source)), nil, false, func(k, v []byte) (bool, error) {
			st.entries++
			st.bytes += int64(len(v))
			return true, nil
		})
	})
	if err != nil {
		return fmt.Errorf("read the request log of %s: %w", source, err)
	}
	st.loaded = true
	return nil
}

// boundLog deletes the entries of source's log past bound, keeping the newest, and
// recounts st.
func (s *Store) boundLog(ctx context.Context, source string, st *logStats, bound gateway.LogBound) error {
	var drop [][]byte
	entries, size := 0, int64(0)
	err := s.view(func(r *kv.Reader) error {
		return r.Scan([]byte(requestPrefix(source)), nil, true, func(k, v []byte) (bool, error) {
			if len(drop) > 0 || bound.Entries > 0 && entries == bound.Entries ||
				bound.Bytes > 0 && size+int64(len(v)) > bound.Bytes {
				drop = append(drop, append([]byte(nil), k...))
				return true, nil
			}
			entries++
			size += int64(len(v))
			return true, nil
		})
	})
	if err != nil {
		return fmt.Errorf("bound the request log of %s: %w", source, err)
	}
	for len(drop) > 0 {
		n := min(len(drop), 1000)
		err := s.update(ctx, func(tx *kv.Txn) error {
			for _, k := range drop[:n] {
				tx.Delete(k)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("bound the request log of %s: %w", source, err)
		}
		drop = drop[n:]
	}
	st.entries, st.bytes = entries, size
	return nil
}

// Requests returns source's latest entries, newest first (at most limit; all when limit
// is 0 or less).
func (s *Store) Requests(ctx context.Context, source string, limit int) ([]*gateway.SourceRequest, error) {
	out := []*gateway.SourceRequest{}
	err := s.view(func(r *kv.Reader) error {
		return r.Scan([]byte(requestPrefix(source)), nil, true, func(k, v []byte) (bool, error) {
			if limit > 0 && len(out) >= limit {
				return false, nil
			}
			var e gateway.SourceRequest
			if err := json.Unmarshal(v, &e); err != nil {
				return false, fmt.Errorf("decode %.64q: %w: %w", k, errCorrupt, err)
			}
			out = append(out, &e)
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("requests of %s: %w", source, err)
	}
	return out, nil
}

// DropRequests removes source's log.
func (s *Store) DropRequests(ctx context.Context, source string) error {
	st := s.stats(source)
	st.mu.Lock()
	defer st.mu.Unlock()
	prefix := []byte(requestPrefix(source))
	for {
		var keys [][]byte
		err := s.view(func(r *kv.Reader) error {
			return r.Scan(prefix, nil, false, func(k, _ []byte) (bool, error) {
				keys = append(keys, append([]byte(nil), k...))
				return len(keys) < 1000, nil
			})
		})
		if err != nil {
			return fmt.Errorf("drop the requests of %s: %w", source, err)
		}
		if len(keys) == 0 {
			break
		}
		err = s.update(ctx, func(tx *kv.Txn) error {
			for _, k := range keys {
				tx.Delete(k)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("drop the requests of %s: %w", source, err)
		}
	}
	st.loaded, st.entries, st.bytes = true, 0, 0
	return nil
}

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

// logStats is what LogRequest knows of a source's log without reading it: its entries and
// bytes, read once (on the source's first LogRequest in this process) and counted up by
// every LogRequest since, and recounted whenever they pass a bound. Entries that expired
// meanwhile still count, so the counts are never low: a log over its bound is trimmed.
type logStats struct {
	mu      sync.Mutex // guards the fields below; never held across a write
	loaded  bool
	entries int64
	bytes   int64
	// added and addedBytes count every LogRequest ever counted, so that a recount can add
	// those that committed after its snapshot (counting some twice is safe: too high).
	added, addedBytes int64

	bounding sync.Mutex // one recount and trim at a time
}

// stats returns source's logStats, reading the log the first time.
func (s *Store) stats(source string) (*logStats, error) {
	s.reqMu.Lock()
	st, ok := s.reqStats[source]
	if !ok {
		st = &logStats{}
		s.reqStats[source] = st
	}
	s.reqMu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.loaded {
		return st, nil
	}
	var entries, size int64
	err := s.view(func(r *kv.Reader) error {
		return r.Scan([]byte(requestPrefix(source)), nil, false, func(k, v []byte) (bool, error) {
			entries++
			size += int64(len(v))
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read the request log of %s: %w", source, err)
	}
	st.loaded, st.entries, st.bytes = true, entries, size
	return st, nil
}

// LogRequest adds e to source's log and drops the oldest entries (by ReceivedAt) past
// bound: more than bound.Entries, or more than bound.Bytes of stored JSON. Concurrent calls
// for one source share group commits, so the log may pass its bound by as many entries
// as there are calls under way, until the next of them trims it. An entry expires
// bound.MaxAge after it was logged, by the wall clock: Badger's TTL, which counts whole
// seconds, is rounded up, so an entry lives at least MaxAge and at most a second more.
func (s *Store) LogRequest(ctx context.Context, source string, e *gateway.SourceRequest, bound gateway.LogBound) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("log request of %s: encode: %w", source, err)
	}
	key := timeKey(requestPrefix(source), e.ReceivedAt, e.ID)
	st, err := s.stats(source)
	if err != nil {
		return err
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
	st.mu.Lock()
	st.entries++
	st.bytes += int64(len(b))
	st.added++
	st.addedBytes += int64(len(b))
	over := st.over(bound)
	st.mu.Unlock()
	if over {
		return s.boundLog(ctx, source, st, bound)
	}
	return nil
}

// over reports whether the counts pass bound. Caller holds mu.
func (st *logStats) over(bound gateway.LogBound) bool {
	return bound.Entries > 0 && st.entries > int64(bound.Entries) || bound.Bytes > 0 && st.bytes > bound.Bytes
}

// boundLog deletes the entries of source's log past bound, keeping the newest, and
// recounts st.
func (s *Store) boundLog(ctx context.Context, source string, st *logStats, bound gateway.LogBound) error {
	st.bounding.Lock()
	defer st.bounding.Unlock()
	st.mu.Lock()
	over := st.over(bound) // another call may have trimmed meanwhile
	added, addedBytes := st.added, st.addedBytes
	st.mu.Unlock()
	if !over {
		return nil
	}
	var drop [][]byte
	var entries, size int64
	err := s.view(func(r *kv.Reader) error {
		return r.Scan([]byte(requestPrefix(source)), nil, true, func(k, v []byte) (bool, error) {
			if len(drop) > 0 || bound.Entries > 0 && entries == int64(bound.Entries) ||
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
	st.mu.Lock()
	st.entries = entries + st.added - added
	st.bytes = size + st.addedBytes - addedBytes
	st.mu.Unlock()
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
			e, err := decodeRequest(v)
			if err != nil {
				return false, fmt.Errorf("decode %.64q: %w: %w", k, errCorrupt, err)
			}
			out = append(out, e)
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
	st, err := s.stats(source)
	if err != nil {
		return err
	}
	st.bounding.Lock()
	defer st.bounding.Unlock()
	prefix := []byte(requestPrefix(source))
	var dropped, droppedBytes int64
	for {
		var keys [][]byte
		err := s.view(func(r *kv.Reader) error {
			return r.Scan(prefix, nil, false, func(k, v []byte) (bool, error) {
				keys = append(keys, append([]byte(nil), k...))
				droppedBytes += int64(len(v))
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
		dropped += int64(len(keys))
	}
	st.mu.Lock()
	st.entries = max(st.entries-dropped, 0)
	st.bytes = max(st.bytes-droppedBytes, 0)
	st.mu.Unlock()
	return nil
}

// decodeRequest decodes a logged call. An entry written before the log recorded results
// has the status number the catch hook answered instead ("status": 200, 400, 401, 422 or
// 500); it is read as the result that status stood for.
func decodeRequest(v []byte) (*gateway.SourceRequest, error) {
	var e struct {
		gateway.SourceRequest
		Status int `json:"status"`
	}
	if err := json.Unmarshal(v, &e); err != nil {
		return nil, err
	}
	r := &e.SourceRequest
	if r.Result != "" || e.Status == 0 {
		return r, nil
	}
	switch {
	case e.Status < 300 && r.Duplicate:
		r.Result = gateway.ResultDuplicate
	case e.Status < 300:
		r.Result = gateway.ResultAccepted
	case e.Status == 401:
		r.Result = gateway.ResultRejected
	case e.Status == 400:
		r.Result, r.Malformed = gateway.ResultInvalid, true
	case e.Status < 500:
		r.Result = gateway.ResultInvalid
	default:
		r.Result = gateway.ResultFailed
	}
	return r, nil
}

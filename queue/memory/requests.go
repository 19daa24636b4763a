package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/internal/index"
)

// requestLog is one source's request log, oldest first.
type requestLog struct {
	entries []loggedRequest
	bytes   int64
}

type loggedRequest struct {
	b       []byte
	expires time.Time // zero: never
}

// expire drops the entries whose age passed at now.
func (l *requestLog) expire(now time.Time) {
	n := 0
	for n < len(l.entries) && !l.entries[n].expires.IsZero() && !now.Before(l.entries[n].expires) {
		l.bytes -= int64(len(l.entries[n].b))
		n++
	}
	l.entries = l.entries[n:]
}

// LogRequest adds e to source's log and drops the oldest entries past bound. A bound of 0
// is no bound; an entry's age counts from when it was logged, on the wall clock.
func (s *Store) LogRequest(ctx context.Context, source string, e *gateway.SourceRequest, bound gateway.LogBound) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("log request of %s: %w", source, err)
	}
	if err := s.lock(); err != nil {
		return fmt.Errorf("log request of %s: %w", source, err)
	}
	defer s.mu.Unlock()
	now := time.Now()
	l := s.requests[source]
	if l == nil {
		l = &requestLog{}
		s.requests[source] = l
	}
	l.expire(now)
	entry := loggedRequest{b: b}
	if bound.MaxAge > 0 {
		entry.expires = now.Add(bound.MaxAge)
	}
	l.entries = append(l.entries, entry)
	l.bytes += int64(len(b))
	for len(l.entries) > 0 && (bound.Entries > 0 && len(l.entries) > bound.Entries || bound.Bytes > 0 && l.bytes > bound.Bytes) {
		l.bytes -= int64(len(l.entries[0].b))
		l.entries[0] = loggedRequest{}
		l.entries = l.entries[1:]
	}
	return nil
}

// Requests returns up to limit (0: all) of source's entries that have not expired, newest
// first.
func (s *Store) Requests(ctx context.Context, source string, limit int) ([]*gateway.SourceRequest, error) {
	if err := s.lock(); err != nil {
		return nil, fmt.Errorf("requests of %s: %w", source, err)
	}
	var bs [][]byte
	if l := s.requests[source]; l != nil {
		now := time.Now()
		l.expire(now)
		for i := len(l.entries) - 1; i >= 0 && (limit <= 0 || len(bs) < limit); i-- {
			if x := l.entries[i].expires; x.IsZero() || now.Before(x) {
				bs = append(bs, l.entries[i].b)
			}
		}
	}
	s.mu.Unlock()
	return index.DecodeRequests(source, bs)
}

// DropRequests removes source's log.
func (s *Store) DropRequests(ctx context.Context, source string) error {
	if err := s.lock(); err != nil {
		return fmt.Errorf("drop requests of %s: %w", source, err)
	}
	defer s.mu.Unlock()
	delete(s.requests, source)
	return nil
}

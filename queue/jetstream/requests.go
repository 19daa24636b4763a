package jetstream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/internal/index"
)

// LogRequest adds e to source's log, with a Nats-TTL of bound.MaxAge, then removes the
// oldest entries past the bound's entries and bytes.
func (s *Store) LogRequest(ctx context.Context, source string, e *gateway.SourceRequest, bound gateway.LogBound) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("log request of %s: %w", source, err)
	}
	if err := s.begin(); err != nil {
		return fmt.Errorf("log request of %s: %w", source, err)
	}
	defer s.end()
	rm := requestMsg{Entry: b}
	if bound.MaxAge > 0 {
		exp := time.Now().Add(bound.MaxAge)
		rm.Expires = &exp
	}
	body, err := json.Marshal(&rm)
	if err != nil {
		return fmt.Errorf("log request of %s: %w", source, err)
	}
	var n [8]byte
	if _, err := rand.Read(n[:]); err != nil {
		return fmt.Errorf("log request of %s: %w", source, err)
	}
	// The entry's subject sorts by time, for reading; its order in the log is its sequence.
	subj := s.v.subject(kindRequest, token(source), fmt.Sprintf("%016x%s", time.Now().UnixNano(), hex.EncodeToString(n[:])))
	msgs := []outMsg{{subject: subj, data: body, ttl: bound.MaxAge}}
	if err := s.v.lock(); err != nil {
		return fmt.Errorf("log request of %s: %w", source, err)
	}
	if l := s.v.requests[source]; l != nil {
		now := time.Now()
		count, bytes := len(l.entries)+1, l.bytes+int64(len(b))
		for _, old := range l.entries {
			expired := !old.expires.IsZero() && !now.Before(old.expires)
			if !expired && !(bound.Entries > 0 && count > bound.Entries || bound.Bytes > 0 && bytes > bound.Bytes) {
				break
			}
			count--
			bytes -= int64(len(old.b))
			msgs = append(msgs, outMsg{subject: old.subject, del: true})
			if len(msgs) == maxBatch {
				break
			}
		}
	}
	s.v.mu.Unlock()
	// One write each, not an atomic batch (which costs the server milliseconds): a crash
	// in between leaves the log one entry over its bound, which the next call trims.
	var last uint64
	for _, m := range msgs {
		seq, err := s.write(ctx, []outMsg{m})
		if err != nil {
			return fmt.Errorf("log request of %s: %w", source, err)
		}
		last = seq
	}
	if err := s.v.waitApplied(ctx, last); err != nil {
		return fmt.Errorf("log request of %s: %w", source, err)
	}
	return nil
}

// Requests returns up to limit (0: all) of source's entries that have not expired, newest
// first.
func (s *Store) Requests(ctx context.Context, source string, limit int) ([]*gateway.SourceRequest, error) {
	if err := s.enter(); err != nil {
		return nil, fmt.Errorf("requests of %s: %w", source, err)
	}
	defer s.end()
	var bs [][]byte
	if l := s.v.requests[source]; l != nil {
		now := time.Now()
		for i := len(l.entries) - 1; i >= 0 && (limit <= 0 || len(bs) < limit); i-- {
			if x := l.entries[i].expires; x.IsZero() || now.Before(x) {
				bs = append(bs, l.entries[i].b)
			}
		}
	}
	s.v.mu.Unlock()
	return index.DecodeRequests(source, bs)
}

// DropRequests removes source's log: a tombstone for each entry.
func (s *Store) DropRequests(ctx context.Context, source string) error {
	if err := s.enter(); err != nil {
		return fmt.Errorf("drop requests of %s: %w", source, err)
	}
	defer s.end()
	var msgs []outMsg
	if l := s.v.requests[source]; l != nil {
		for _, e := range l.entries {
			msgs = append(msgs, outMsg{subject: e.subject, del: true})
		}
	}
	s.v.mu.Unlock()
	seq, err := s.writeChunked(ctx, msgs)
	if err != nil {
		return fmt.Errorf("drop requests of %s: %w", source, err)
	}
	if err := s.v.waitApplied(ctx, seq); err != nil {
		return fmt.Errorf("drop requests of %s: %w", source, err)
	}
	return nil
}

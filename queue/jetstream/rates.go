package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/gateway"
)

var _ gateway.SharedRates = (*Store)(nil)

// kindRate is the subject token of the shared rate-limit times (gateway.SharedRates):
// hookgate.rt.<token(key)>, one time each, RFC 3339 with nanoseconds. The view does not
// keep them: UpdateRate reads the subject's last message from the stream itself.
const kindRate = "rt"

// rateKeep is how long a rate time is kept past itself: gateway.SharedRates lets a time
// more than an hour past be forgotten, and Nats-TTL drops it from the stream then.
const rateKeep = time.Hour

// UpdateRate applies f to the time stored under key and stores the result by
// compare-and-swap on the subject's last sequence, trying again when another node wrote
// first (see gateway.SharedRates). A zero result removes the key.
func (s *Store) UpdateRate(ctx context.Context, key string, f func(time.Time) time.Time) error {
	if err := s.begin(); err != nil {
		return err
	}
	defer s.end()
	subj := s.prefix + "." + kindRate + "." + token(key)
	for range casTries {
		cur, seq, err := s.readRate(ctx, subj)
		if err != nil {
			return fmt.Errorf("rate %s: %w", key, err)
		}
		next := f(cur)
		m := outMsg{subject: subj, expect: seq, cas: true}
		switch {
		case next.IsZero() && seq == 0:
			return nil // nothing stored, nothing to store
		case next.IsZero():
			m.del = true
		default:
			m.data = []byte(next.UTC().Format(time.RFC3339Nano))
			m.ttl = max(time.Until(next), 0) + rateKeep
		}
		_, err = s.write(ctx, []outMsg{m})
		if !errors.Is(err, errCAS) {
			if err != nil {
				return fmt.Errorf("rate %s: %w", key, err)
			}
			return nil
		}
	}
	return fmt.Errorf("rate %s kept changing: %w", key, gateway.ErrConflict)
}

// readRate returns the time on subj and the sequence of its last message (0: none; a
// removed time reads as zero with its tombstone's sequence).
func (s *Store) readRate(ctx context.Context, subj string) (time.Time, uint64, error) {
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	msg, err := s.stream.GetLastMsgForSubject(rctx, subj)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return time.Time{}, 0, nil
	}
	if err != nil {
		return time.Time{}, 0, s.unavailable(err)
	}
	if msg.Header.Get(hdrOp) == opDel || len(msg.Data) == 0 {
		return time.Time{}, msg.Sequence, nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(msg.Data))
	if err != nil {
		return time.Time{}, 0, fmt.Errorf("read %s: %w", subj, err)
	}
	return t, msg.Sequence, nil
}

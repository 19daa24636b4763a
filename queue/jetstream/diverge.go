package jetstream

import (
	"context"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// A node's view diverges from the stream when the stream goes back below what the view
// has read: the stream lost messages it had acknowledged (nats-server did so when a
// stream's leader was killed; see refollow), or it was deleted and created anew. The view
// then holds messages the stream no longer has, and its ordered consumer, which asks for
// the sequences after the last one it delivered, skips the stream's new messages at the
// sequences it had read already. Three things show it: the stream's last sequence below
// what the view read (checkStream, every Timeout, and refollow), or a write of this node
// acknowledged at a sequence where the view holds another message (waitOwn). Nothing this node answers can be trusted,
// so from then on every call fails with gateway.ErrUnavailable (the API's 503
// store_unavailable, and GET /readyz not ready), naming the cause, until the node is
// restarted and reads the stream afresh. Other nodes are not affected unless they diverged
// too (each checks for itself).

// watchStream checks every Timeout whether the stream went back (checkStream), until Close.
func (s *Store) watchStream() {
	t := time.NewTicker(s.opts.Timeout)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.checkStream()
		}
	}
}

// checkStream compares the stream's last sequence with what the view has read, read in
// that order (a write between the two only moves the stream on). A failed lookup (NATS
// away, the stream deleted) decides nothing: the calls see that for themselves.
func (s *Store) checkStream() {
	if err := s.v.lock(); err != nil {
		return
	}
	read := s.v.applied
	s.v.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.Timeout)
	defer cancel()
	info, err := s.stream.Info(ctx)
	if err != nil {
		return
	}
	if last := info.State.LastSeq; last < read {
		s.diverge(fmt.Sprintf("the stream's last sequence, %d, went back below what the node had read, %d", last, read),
			"read_up_to", read, "stream_last_seq", last)
	}
}

// diverge marks the view as diverged (see above), for the reason given, and says so in the
// log, once.
func (s *Store) diverge(reason string, attrs ...any) {
	why := "this node's view of the stream diverged from it (" + reason + "), as when the stream loses messages it acknowledged or is deleted and created again"
	if s.diverged.CompareAndSwap(nil, &why) {
		s.log.Error("this node's view of the JetStream stream diverged from it; the node refuses every call until it is restarted, to read the stream afresh",
			append([]any{"reason", reason}, attrs...)...)
	}
}

// divergedError is the error of every call once the view diverged; nil before.
func (s *Store) divergedError() error {
	why := s.diverged.Load()
	if why == nil {
		return nil
	}
	return fmt.Errorf("nats store: %s; restart this node: %w", *why, gateway.ErrUnavailable)
}

package jetstream

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/gateway"
)

// streamInfo reads the stream's info at open, waiting (until ctx ends) while a stream that
// was just created — by this node or by another starting at the same time — does not
// answer yet: its replicas elect a leader first, and meanwhile the cluster says it is not
// found.
func (s *Store) streamInfo(ctx context.Context) (*jetstream.StreamInfo, error) {
	for try := 1; ; try++ {
		info, err := s.stream.Info(ctx)
		if err == nil || !errors.Is(err, jetstream.ErrStreamNotFound) {
			return info, err
		}
		t := time.NewTimer(min(time.Duration(try)*20*time.Millisecond, 500*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// ensureTry bounds one try of ensureStream when nodes start together: a lookup of a
// stream another node is creating at that moment may get no answer at all.
const ensureTry = 3 * time.Second

// ensureStreamTogether runs ensureStream, trying again (until ctx ends, or 4 × Timeout)
// while the stream does not answer: nodes started at the same time on a fresh cluster all
// create it, and until its replicas have a leader a lookup times out or finds nothing, and
// a create may find no peers to place it on (createStream waits that out too, within one
// try). A cluster too small for --nats-replicas says the same for good: it is reported when
// the time is up.
func (s *Store) ensureStreamTogether(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 4*s.opts.Timeout)
	defer cancel()
	for try := 1; ; try++ {
		tctx, tcancel := context.WithTimeout(ctx, ensureTry)
		err := s.ensureStream(tctx)
		tcancel()
		if err == nil || !startingTogether(err) || ctx.Err() != nil {
			return err
		}
		s.log.Debug("the stream does not answer yet; trying again", "try", try, "err", err)
	}
}

// startingTogether reports whether err, from ensureStream, is one that nodes starting
// together on a fresh cluster see for a moment.
func startingTogether(err error) bool {
	var api *jetstream.APIError
	return errors.Is(err, gateway.ErrUnavailable) || errors.Is(err, jetstream.ErrStreamNotFound) ||
		errors.As(err, &api) && api.ErrorCode == errCodeNoPeers
}

package gateway

import (
	"context"
	"time"
)

// retentionBatch is how many events one Trim call removes at most, so that retention
// never holds the store's write path for long.
const retentionBatch = 500

// retain removes finished events older than Options.Retention (when set), in batches, and
// the subscriptions past their ExpiresAt, every Options.RetentionEvery until ctx ends
// (Stop). Started by Start.
func (s *Service) retain(ctx context.Context) {
	defer s.bg.Done()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if s.opts.Retention > 0 {
			s.trim(ctx)
		}
		s.expireSubscriptions(ctx)
		t.Reset(s.opts.RetentionEvery)
	}
}

// trim runs Trim until a call removes less than a batch (or fails, which is logged and
// tried again at the next round).
func (s *Service) trim(ctx context.Context) {
	total := 0
	for ctx.Err() == nil {
		before := s.now().Add(-s.opts.Retention)
		n, err := s.store.Trim(ctx, before, retentionBatch)
		total += n
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("retention: remove old events", "err", err, "removed", total)
			}
			return
		}
		if n < retentionBatch {
			break
		}
	}
	if total > 0 {
		s.log.Info("retention: removed finished events", "events", total, "older_than", s.opts.Retention)
	}
}

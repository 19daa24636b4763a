package gateway

import (
	"context"
	"errors"
	"time"
)

// retentionBatch is how many events one Trim call removes at most, so that retention
// never holds the store's write path for long.
const retentionBatch = 500

// retain removes finished events older than Options.Retention (when set), in batches, the
// OAuth grants and clients that ended, and the subscriptions past their ExpiresAt or whose
// principal was revoked, every Options.RetentionEvery until ctx ends (Stop). Started by
// Start.
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
		s.dropEndedOAuth(ctx)
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

// dropEndedOAuth removes the OAuth grants that can no longer be used (a code never
// exchanged past its expiry, a refresh token past its; a grant whose approving key was
// revoked is refused at once, and removed here once its refresh token ends), and the
// registered clients no one approved within UnapprovedClientTTL.
func (s *Service) dropEndedOAuth(ctx context.Context) {
	now := s.now()
	sweep(ctx, s, "ended OAuth grants", s.store.Grants(), func(g *Grant) (string, bool) {
		end := g.RefreshExpires
		if g.RefreshHash == "" {
			end = g.CodeExpires
		}
		return g.ID, !now.Before(end)
	})
	sweep(ctx, s, "OAuth clients no one approved", s.store.OAuthClients(), func(c *OAuthClient) (string, bool) {
		return c.ID, !c.Approved && now.Sub(c.Created) >= UnapprovedClientTTL
	})
}

// sweep deletes the records of r that ended (which returns each one's id) and logs how
// many, as what.
func sweep[T any](ctx context.Context, s *Service, what string, r Records[T], ended func(T) (string, bool)) {
	list, err := r.List(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("retention: list "+what, "err", err)
		}
		return
	}
	n := 0
	for _, v := range list {
		id, done := ended(v)
		if !done {
			continue
		}
		if err := r.Delete(ctx, id); err != nil && !errors.Is(err, ErrNotFound) {
			s.log.Error("retention: remove "+what, "id", id, "err", err)
			return
		}
		n++
	}
	if n > 0 {
		s.log.Info("retention: removed "+what, "count", n)
	}
}

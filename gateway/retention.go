package gateway

import (
	"context"
	"errors"
	"time"
)

// retentionBatch is how many events one Trim call removes at most, so that retention
// never holds the store's write path for long.
const retentionBatch = 500

// retain removes finished events older than Options.Retention, in batches, every
// Options.RetentionEvery until ctx ends (Stop). Started by Start.
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
		s.trim(ctx)
		s.dropEndedOAuth(ctx)
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
	s.dropEndedGrants(ctx)
	clients, err := s.store.OAuthClients().List(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("retention: list OAuth clients", "err", err)
		}
		return
	}
	now := s.now()
	n := 0
	for _, c := range clients {
		if c.Approved || now.Sub(c.Created) < UnapprovedClientTTL {
			continue
		}
		if err := s.store.OAuthClients().Delete(ctx, c.ID); err != nil && !errors.Is(err, ErrNotFound) {
			s.log.Error("retention: remove an unapproved OAuth client", "client", c.ID, "err", err)
			return
		}
		n++
	}
	if n > 0 {
		s.log.Info("retention: removed OAuth clients no one approved", "clients", n, "older_than", UnapprovedClientTTL)
	}
}

// dropEndedGrants removes the OAuth grants that can no longer be used.
func (s *Service) dropEndedGrants(ctx context.Context) {
	grants, err := s.store.Grants().List(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("retention: list OAuth grants", "err", err)
		}
		return
	}
	now := s.now()
	n := 0
	for _, g := range grants {
		end := g.RefreshExpires
		if g.RefreshHash == "" {
			end = g.CodeExpires
		}
		if now.Before(end) {
			continue
		}
		if err := s.store.Grants().Delete(ctx, g.ID); err != nil && !errors.Is(err, ErrNotFound) {
			s.log.Error("retention: remove an ended OAuth grant", "grant", g.ID, "err", err)
			return
		}
		n++
	}
	if n > 0 {
		s.log.Info("retention: removed ended OAuth grants", "grants", n)
	}
}

package gateway

import (
	"context"
)

// Each source's request log is bounded: it keeps the most recent calls, at most
// Options.RequestLogEntries of them (DefaultRequestLogEntries) and at most
// Options.RequestLogBytes of them as stored JSON (DefaultRequestLogBytes), whichever limit
// comes first, and none older than RequestLogTTL. The store holds the bound (LogBound) as
// it writes each entry, so a flood of calls (bad signatures from a stranger) can't grow it
// by more than the bound per source.
const (
	// DefaultRequestLogEntries is how many calls a source's request log keeps by default.
	DefaultRequestLogEntries = 1000
	// DefaultRequestLogBytes is how many bytes of entries (as JSON) a source's request log
	// keeps by default.
	DefaultRequestLogBytes = 16 << 20
)

// maxRejectedBody is how much of a rejected call's body (failed verification: anyone can
// send one) the request log keeps; enough to see what was sent.
const maxRejectedBody = 256

// logBound is the bound of every source's request log.
func (s *Service) logBound() LogBound {
	return LogBound{Entries: s.opts.RequestLogEntries, Bytes: s.opts.RequestLogBytes, MaxAge: RequestLogTTL}
}

// logRequest stores a request log entry, counts the call (Observer.CatchHook) and logs it
// if it was refused (summed up per source, see rejectWindow); a failure to store it is
// logged, not returned (the call it records has its own outcome).
func (s *Service) logRequest(ctx context.Context, srcID string, e *SourceRequest) {
	s.observeCatchHook(srcID, e)
	if err := s.store.LogRequest(ctx, srcID, e, s.logBound()); err != nil {
		s.log.Warn("could not log a catch-hook call", "source", srcID, "err", err)
	}
}

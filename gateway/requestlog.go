package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hookgate/hookgate/queue"
)

// Each source's request log is bounded: it keeps the most recent calls, at most
// Options.RequestLogEntries of them (DefaultRequestLogEntries) and at most
// Options.RequestLogBytes of them as stored JSON (DefaultRequestLogBytes), whichever limit
// comes first, and none older than RequestLogTTL. Writing a call's entry deletes, in the
// same transaction, the oldest entries over the bound, so a flood of calls (bad signatures
// from a stranger) can't grow the store by more than the bound per source.
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

// trimChunk caps the deletes of one transaction when a log loaded over its bound (kept by a
// version without one) is trimmed.
const trimChunk = 1000

// requestLogs tracks, per source, the order and size of its logged calls in memory, so that
// holding the bound costs no scan inside the store's write path. The committer goroutine
// runs the writes; mu orders them against loading and rollback.
type requestLogs struct {
	mu      sync.Mutex
	sources map[string]*sourceLog
}

// sourceLog is one source's log as the store holds it (entries, committed, oldest first)
// plus the writes under way (pending, by key).
type sourceLog struct {
	load    sync.Mutex // held while the log is read from the store
	loaded  bool
	entries []logEntry
	bytes   int64 // of entries and pending
	pending map[string]*pendingEntry
}

// logEntry is one stored request log entry.
type logEntry struct {
	key  string
	size int64
	at   time.Time
}

// pendingEntry is an entry being written and the older entries its transaction deletes.
type pendingEntry struct {
	entry   logEntry
	deletes []logEntry
}

func (rl *requestLogs) source(id string) *sourceLog {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	if rl.sources == nil {
		rl.sources = map[string]*sourceLog{}
	}
	sl, ok := rl.sources[id]
	if !ok {
		sl = &sourceLog{pending: map[string]*pendingEntry{}}
		rl.sources[id] = sl
	}
	return sl
}

// forget drops a deleted source's state.
func (rl *requestLogs) forget(id string) {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	delete(rl.sources, id)
}

// loadRequestLog reads a source's request log (keys and sizes) from the store the first time
// the source logs a call in this process, and trims it to the bound if it is over. Callers
// call it before the transaction that writes their entry.
func (s *Service) loadRequestLog(ctx context.Context, srcID string) error {
	sl := s.reqLogs.source(srcID)
	sl.load.Lock()
	defer sl.load.Unlock()
	s.reqLogs.mu.Lock()
	loaded := sl.loaded
	s.reqLogs.mu.Unlock()
	if loaded {
		return nil
	}
	var entries []logEntry
	var total int64
	err := s.db.View(func(r *queue.Reader) error {
		prefix := sourceReqPrefix(srcID)
		return r.Scan(prefix, nil, false, func(k, v []byte) (bool, error) {
			ns, _ := splitTimeKey(prefix, k)
			entries = append(entries, logEntry{key: string(k), size: int64(len(v)), at: time.Unix(0, ns)})
			total += int64(len(v))
			return true, nil
		})
	})
	if err != nil {
		return fmt.Errorf("source %s: read the request log: %w", srcID, err)
	}
	// Trim what is over the bound, oldest first, a chunk per transaction.
	for len(entries) > 0 && (len(entries) > s.opts.RequestLogEntries || total > s.opts.RequestLogBytes) {
		n := 0
		var freed int64
		for n < len(entries) && n < trimChunk && (len(entries)-n > s.opts.RequestLogEntries || total-freed > s.opts.RequestLogBytes) {
			freed += entries[n].size
			n++
		}
		err := s.db.Update(ctx, func(tx *queue.Txn) error {
			for _, e := range entries[:n] {
				tx.Delete([]byte(e.key))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("source %s: trim the request log: %w", srcID, err)
		}
		entries, total = entries[n:], total-freed
	}
	s.reqLogs.mu.Lock()
	sl.entries, sl.bytes, sl.loaded = entries, total, true
	s.reqLogs.mu.Unlock()
	return nil
}

// putRequest writes a request log entry in tx, and deletes the source's oldest entries that
// the new one puts over the bound. Its source's log must be loaded (loadRequestLog). If the
// transaction fails, the caller calls dropRequest.
func (s *Service) putRequest(tx *queue.Txn, srcID string, e *SourceRequest) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode request log: %w", err)
	}
	key := sourceReqKey(srcID, e.ReceivedAt.UnixNano(), e.ID)
	sl := s.reqLogs.source(srcID)
	s.reqLogs.mu.Lock()
	defer s.reqLogs.mu.Unlock()
	p, again := sl.pending[string(key)]
	if again {
		sl.bytes += int64(len(b)) - p.entry.size
		p.entry.size = int64(len(b))
	} else {
		p = &pendingEntry{entry: logEntry{key: string(key), size: int64(len(b)), at: e.ReceivedAt}}
		sl.pending[p.entry.key] = p
		sl.bytes += p.entry.size
		// Entries past their TTL are already gone from the store.
		expired := e.ReceivedAt.Add(-RequestLogTTL)
		for len(sl.entries) > 0 && !sl.entries[0].at.After(expired) {
			sl.bytes -= sl.entries[0].size
			sl.entries = sl.entries[1:]
		}
		for len(sl.entries) > 0 && (len(sl.entries)+len(sl.pending) > s.opts.RequestLogEntries || sl.bytes > s.opts.RequestLogBytes) {
			old := sl.entries[0]
			sl.entries = sl.entries[1:]
			sl.bytes -= old.size
			p.deletes = append(p.deletes, old)
		}
	}
	// Run again (the store split a batch): the same deletes, in the new transaction.
	for _, old := range p.deletes {
		tx.Delete([]byte(old.key))
	}
	tx.SetTTL(key, b, RequestLogTTL)
	tx.OnCommit(func() {
		s.reqLogs.mu.Lock()
		defer s.reqLogs.mu.Unlock()
		if p, ok := sl.pending[string(key)]; ok {
			delete(sl.pending, string(key))
			sl.entries = append(sl.entries, p.entry)
		}
	})
	return nil
}

// dropRequest undoes putRequest's bookkeeping after its transaction failed: the entry was
// not written and the entries it was to delete are still there.
func (s *Service) dropRequest(srcID string, e *SourceRequest) {
	key := string(sourceReqKey(srcID, e.ReceivedAt.UnixNano(), e.ID))
	sl := s.reqLogs.source(srcID)
	s.reqLogs.mu.Lock()
	defer s.reqLogs.mu.Unlock()
	p, ok := sl.pending[key]
	if !ok {
		return
	}
	delete(sl.pending, key)
	sl.bytes -= p.entry.size
	for _, old := range p.deletes {
		sl.bytes += old.size
	}
	sl.entries = append(p.deletes, sl.entries...)
}

// logRequest stores a request log entry on its own (calls that publish nothing).
func (s *Service) logRequest(ctx context.Context, srcID string, e *SourceRequest) {
	err := s.loadRequestLog(ctx, srcID)
	if err == nil {
		err = s.db.Update(ctx, func(tx *queue.Txn) error { return s.putRequest(tx, srcID, e) })
		if err != nil {
			s.dropRequest(srcID, e)
		}
	}
	if err != nil {
		s.log.Warn("could not log a catch-hook call", "source", srcID, "err", err)
	}
}

package jetstream

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hookgate/hookgate/gateway"
)

// outMsg is one message of a write.
type outMsg struct {
	subject string
	data    []byte
	// expect is the sequence the subject's last message must have (0: none), when cas.
	expect uint64
	cas    bool
	// expectOf, when set, is the subject (wildcards allowed) whose last message expect is
	// about, instead of subject.
	expectOf string
	// del writes a tombstone (TombstoneTTL unless ttl is set); ttl, when set, is the
	// message's Nats-TTL.
	del bool
	ttl time.Duration
}

// errCAS means a write found another sequence on a subject than it expected: the view was
// behind, or another node wrote first.
var errCAS = errors.New("the record changed meanwhile")

// casTries is how often a write whose compare-and-swap failed is tried again, on a view
// brought up to date, before it gives up with ErrConflict.
const casTries = 25

// natsMsg turns m into the message to publish.
func (s *Store) natsMsg(m outMsg) *nats.Msg {
	nm := nats.NewMsg(m.subject)
	nm.Data = m.data
	if m.cas {
		nm.Header.Set("Nats-Expected-Last-Subject-Sequence", strconv.FormatUint(m.expect, 10))
		if m.expectOf != "" {
			nm.Header.Set("Nats-Expected-Last-Subject-Sequence-Subject", m.expectOf)
		}
	}
	ttl := m.ttl
	if m.del {
		nm.Header.Set(hdrOp, opDel)
		if ttl == 0 {
			ttl = s.opts.TombstoneTTL
		}
	}
	if ttl > 0 {
		nm.Header.Set("Nats-TTL", strconv.FormatInt(int64((ttl+time.Second-1)/time.Second), 10))
	}
	return nm
}

// write stores msgs all or none — one message as it is, several as one atomic batch — and
// returns the stream sequence of the last once the stream acknowledged it. A lost
// compare-and-swap is errCAS; a message over the server's max_payload, or more than
// maxBatch of them, ErrTooLarge.
func (s *Store) write(ctx context.Context, msgs []outMsg) (uint64, error) {
	if len(msgs) == 0 {
		return 0, nil
	}
	if len(msgs) > maxBatch {
		return 0, fmt.Errorf("%d records in one write, more than the %d NATS takes at once: %w", len(msgs), maxBatch, gateway.ErrTooLarge)
	}
	max := s.nc.MaxPayload()
	for _, m := range msgs {
		if int64(len(m.data)+len(m.subject)+256) > max {
			return 0, fmt.Errorf("a record of %d bytes, over the %d bytes NATS takes in one message: %w", len(m.data), max, gateway.ErrTooLarge)
		}
	}
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	for try := 1; ; try++ {
		seq, err := s.send(rctx, msgs)
		if !errors.Is(err, nats.ErrNoResponders) || try == noResponderTries {
			return seq, err
		}
		// No stream took the subject: it was just created and its interest has not
		// reached this server yet, or its leader is being elected. Soon, it will.
		t := time.NewTimer(time.Duration(try) * 10 * time.Millisecond)
		select {
		case <-t.C:
		case <-rctx.Done():
			t.Stop()
			return seq, err
		}
	}
}

// noResponderTries is how often write sends when no stream answers.
const noResponderTries = 20

// send publishes msgs once: one message as it is, several as one atomic batch.
func (s *Store) send(rctx context.Context, msgs []outMsg) (uint64, error) {
	if len(msgs) == 1 {
		resp, err := s.nc.RequestMsgWithContext(rctx, s.natsMsg(msgs[0]))
		return s.parseAck(resp, err)
	}
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, fmt.Errorf("batch id: %w", err)
	}
	batch := hex.EncodeToString(b[:])
	for i, m := range msgs {
		nm := s.natsMsg(m)
		nm.Header.Set("Nats-Batch-Id", batch)
		nm.Header.Set("Nats-Batch-Sequence", strconv.Itoa(i+1))
		if i == len(msgs)-1 {
			nm.Header.Set("Nats-Batch-Commit", "1")
			resp, err := s.nc.RequestMsgWithContext(rctx, nm)
			return s.parseAck(resp, err)
		}
		if err := s.nc.PublishMsg(nm); err != nil {
			return 0, s.unavailable(err)
		}
	}
	return 0, nil // not reached
}

// pubAck is JetStream's answer to a publish.
type pubAck struct {
	Stream string `json:"stream"`
	Seq    uint64 `json:"seq"`
	Error  *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
}

// JetStream error codes a write maps to the gateway's errors.
const (
	errCodeWrongLastSeq         = 10071
	errCodeWrongLastSeqConstant = 10164
	errCodeMsgTooLarge          = 10054
)

// parseAck reads the answer to a publish.
func (s *Store) parseAck(resp *nats.Msg, err error) (uint64, error) {
	if err != nil {
		return 0, fmt.Errorf("publish: %w", s.unavailable(err))
	}
	var ack pubAck
	if err := json.Unmarshal(resp.Data, &ack); err != nil {
		return 0, fmt.Errorf("publish: an answer that is not JetStream's (%q): %w", resp.Data, err)
	}
	if e := ack.Error; e != nil {
		switch {
		case e.ErrCode == errCodeWrongLastSeq || e.ErrCode == errCodeWrongLastSeqConstant:
			return 0, errCAS
		case e.ErrCode == errCodeMsgTooLarge:
			return 0, fmt.Errorf("publish: %s: %w", e.Description, gateway.ErrTooLarge)
		case e.Code == 503 || e.ErrCode == int(errCodeClusterNotAvailable) || e.ErrCode == int(errCodeStreamOffline):
			return 0, fmt.Errorf("publish: %s: %w", e.Description, gateway.ErrUnavailable)
		}
		return 0, fmt.Errorf("publish: JetStream error %d: %s", e.ErrCode, e.Description)
	}
	if ack.Seq == 0 {
		return 0, fmt.Errorf("publish: no sequence in the answer %q", resp.Data)
	}
	return ack.Seq, nil
}

// retry runs attempt until it does not lose a compare-and-swap. attempt reads the view,
// decides (it may fail for good, with ErrConflict or ErrNotFound) and writes; after a lost
// swap the view catches up with the stream and attempt runs again.
func (s *Store) retry(ctx context.Context, attempt func() (uint64, error)) (uint64, error) {
	for i := 0; ; i++ {
		seq, err := attempt()
		if !errors.Is(err, errCAS) {
			return seq, err
		}
		if i == casTries {
			return 0, fmt.Errorf("%w: %w, %d times", gateway.ErrConflict, err, casTries)
		}
		if err := s.catchUp(ctx, i); err != nil {
			return 0, err
		}
	}
}

// planned runs plan with the view locked and then, unlocked, writes what it returned
// (nothing: there is nothing to write), in atomic batches of up to maxBatch.
func (s *Store) planned(ctx context.Context, plan func() ([]outMsg, error)) (uint64, error) {
	if err := s.v.lock(); err != nil {
		return 0, err
	}
	msgs, err := plan()
	s.v.mu.Unlock()
	if err != nil || len(msgs) == 0 {
		return 0, err
	}
	return s.writeChunked(ctx, msgs)
}

// catchUp waits until the view holds the stream's last message (the try-th time: after
// a short pause, for a replicated stream's proposals in flight).
func (s *Store) catchUp(ctx context.Context, try int) error {
	if try > 0 {
		t := time.NewTimer(time.Duration(try) * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return s.unavailable(ctx.Err())
		case <-s.done:
			t.Stop()
			return errClosed
		}
	}
	rctx, cancel := s.reqCtx(ctx)
	defer cancel()
	info, err := s.stream.Info(rctx)
	if err != nil {
		return fmt.Errorf("stream %s: %w", s.opts.Stream, s.unavailable(err))
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Second)
	defer wcancel()
	if err := s.v.waitApplied(wctx, info.State.LastSeq); err != nil && (ctx.Err() != nil || s.closed.Load()) {
		return err
	}
	return nil // or the last message was removed before this node read it: the view has all there is
}

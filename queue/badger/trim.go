package badger

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger/internal/kv"
)

// trimChunk is how many events one Trim transaction removes, so that write transactions
// stay short (an event brings its deliveries and their index entries along).
const trimChunk = 64

// Trim removes up to max events received before before whose deliveries are all finished
// (succeeded, failed or canceled) or gone, with those deliveries. It reads a bounded stretch
// of the log (10×max + 1000 entries) in a snapshot, up to the first event received at or
// after before, then deletes in short transactions that check each event again. Successive
// calls resume where the last one stopped and start over from the oldest event once they
// reach the end or an event too young, so a stretch of events that must be kept (pending or
// paused deliveries) is not reread by every call. A dedupe key with a
// window outlives its event until the window ends; one without goes with it.
func (s *Store) Trim(ctx context.Context, before time.Time, max int) (int, error) {
	if max <= 0 {
		return 0, s.live()
	}
	s.trimMu.Lock()
	defer s.trimMu.Unlock()
	cutoff := nanos(before)
	budget := 10*max + 1000
	var (
		ids  []string
		last gateway.Seq
		end  = true
	)
	err := s.view(func(r *kv.Reader) error {
		var start []byte
		if s.trimFrom > 0 {
			start = seqKey(s.trimFrom + 1)
		}
		return r.Scan([]byte(pEventSeq), start, false, func(k, v []byte) (bool, error) {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			if len(ids) == max || budget == 0 {
				end = false
				return false, nil
			}
			received, id := parseSeqEntry(v)
			if received >= cutoff {
				// The log is in arrival order: the rest is too young as well. Stop here
				// and start from the oldest next time, so that these events are read
				// again once they are old enough (a cursor past them would skip them
				// until the log's end was reached, which under steady load is never).
				return false, nil
			}
			budget--
			last = parseSeqKey(k)
			ok, err := trimmable(r, id)
			if err != nil {
				return false, err
			}
			if ok {
				ids = append(ids, id)
			}
			return true, nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("trim: %w", err)
	}
	if end {
		s.trimFrom = 0
	} else {
		s.trimFrom = last
	}
	removed := 0
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), trimChunk)]
		ids = ids[len(chunk):]
		n := 0
		err := s.update(ctx, func(tx *kv.Txn) error {
			n = 0
			for _, id := range chunk {
				ok, err := trimEvent(tx, id)
				if err != nil {
					return err
				}
				if ok {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return removed, fmt.Errorf("trim: %w", err)
		}
		removed += n
	}
	return removed, nil
}

// finished reports whether a delivery in status st is done with.
func finished(st gateway.DeliveryStatus) bool {
	switch st {
	case gateway.StatusSucceeded, gateway.StatusFailed, gateway.StatusCanceled:
		return true
	}
	return false
}

// trimmable reports whether event id exists and every delivery of it is finished or gone.
func trimmable(r getter, id string) (bool, error) {
	ev, _, err := loadEvent(r, id)
	if errors.Is(err, gateway.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, did := range ev.Deliveries {
		_, d, err := loadDeliveryKeys(r, did)
		if errors.Is(err, gateway.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if !finished(d.Status) {
			return false, nil
		}
	}
	return true, nil
}

// trimEvent removes event id with its deliveries if it is still trimmable.
func trimEvent(tx *kv.Txn, id string) (bool, error) {
	if ok, err := trimmable(tx, id); !ok || err != nil {
		return false, err
	}
	ev, m, err := loadEvent(tx, id)
	if err != nil {
		return false, err
	}
	for _, did := range ev.Deliveries {
		_, d, err := loadDeliveryKeys(tx, did)
		if errors.Is(err, gateway.ErrNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		// Finished, as trimmable checked in this transaction: it has no job to remove
		// (queueDelivery keeps one for a pending delivery only).
		unindexDelivery(tx, d)
		tx.Delete(deliveryKey(did))
	}
	if m.Dedupe != "" {
		v, err := tx.Get(dedupeKey(m.Dedupe))
		if err == nil {
			if e, ok := parseDedupe(v); ok && e.id == id {
				tx.Delete(dedupeKey(m.Dedupe))
			}
		} else if !errors.Is(err, kv.ErrNotFound) {
			return false, err
		}
	}
	tx.Delete(seqKey(ev.Seq))
	tx.Delete(eventKey(id))
	return true, nil
}

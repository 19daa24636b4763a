package badger

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger/internal/kv"
)

// Layout 1 is what hookgate wrote before the storage seam, when the gateway laid out its
// own keys:
//
//	ev/<id>                    → {"event": envelope, "received_at", "deliveries"}
//	evt/<received ns><id>      → "" (the arrival index, now the evs/ log)
//	dl/<id>, ep/<id>, src/<id>, et/<name> → JSON without a revision
//	dlp/<endpoint id>/<id>     → "" (paused, unordered)
//	srd/<source id>/<event id> → "" with a 7-day TTL (catch-hook dedupe)
//
// dle/, srq/ and the job keys are the same in both layouts, but layout 1's jobs need not be
// where layout 2 looks for them (see migrateQueue).
//
// migrate rewrites a layout-1 folder in place, in short transactions, each of which leaves
// the folder readable by a later migrate: records get revision 1, events a Seq in arrival
// order, deliveries their creation and ordered paused index entries, jobs the due time
// and endpoint of their pending delivery. Dedupe follows what layout 1 did: every stored
// event's id is a dedupe key without a window (dd/<event id>), and a catch hook's key
// becomes dd/<source id>/<event id> with a 7-day window from now. The marker says
// migrating first, and the layout last.
func (s *Store) migrate() error {
	s.log.Info("migrating the data folder to layout "+format, "dir", s.opts.Dir)
	start := time.Now()
	err := s.db.Update(context.Background(), func(tx *kv.Txn) error {
		tx.Set(keyFormat, []byte(migrating))
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, p := range []string{"ep/", "src/", "et/"} {
		if err := s.migrateRecords(p); err != nil {
			return err
		}
	}
	steps := []struct {
		name string
		fn   func() (bool, error)
	}{
		{"deliveries", s.migrateDeliveries},
		{"paused index", s.migratePaused},
		{"events", s.migrateEvents},
		{"catch-hook dedupe keys", s.migrateSourceDedupe},
		{"work queue", s.migrateQueue},
	}
	for _, st := range steps {
		for {
			more, err := st.fn()
			if err != nil {
				return fmt.Errorf("migrate %s: %w", st.name, err)
			}
			if !more {
				break
			}
		}
	}
	err = s.db.Update(context.Background(), func(tx *kv.Txn) error {
		tx.Set(keyFormat, []byte(format))
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	s.log.Info("data folder migrated", "dir", s.opts.Dir, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// migrateBatch is how many records one migration transaction rewrites.
const migrateBatch = 256

// kvPair is a key and value copied out of a scan.
type kvPair struct{ k, v []byte }

// collect copies up to migrateBatch pairs under prefix from start on that keep accepts.
func (s *Store) collect(prefix, start []byte, keep func(k, v []byte) bool) ([]kvPair, error) {
	var out []kvPair
	err := s.db.View(func(r *kv.Reader) error {
		return r.Scan(prefix, start, false, func(k, v []byte) (bool, error) {
			if keep(k, v) {
				out = append(out, kvPair{bytes.Clone(k), bytes.Clone(v)})
			}
			return len(out) < migrateBatch, nil
		})
	})
	return out, err
}

// legacyJSON reports whether a record value is layout 1's bare JSON (layout 2 starts with
// an 8-byte revision, whose first byte is 0 for any revision below 2^56).
func legacyJSON(_, v []byte) bool { return len(v) > 0 && v[0] == '{' }

// migrateRecords gives every registry record under prefix revision 1.
func (s *Store) migrateRecords(prefix string) error {
	var start []byte
	for {
		batch, err := s.collect([]byte(prefix), start, func(k, v []byte) bool { return true })
		if err != nil {
			return fmt.Errorf("migrate %s: %w", prefix, err)
		}
		if len(batch) == 0 {
			return nil
		}
		err = s.db.Update(context.Background(), func(tx *kv.Txn) error {
			for _, p := range batch {
				if legacyJSON(p.k, p.v) {
					tx.Set(p.k, withRev(1, p.v))
					// The collection's revisions go on from there (layout 1 kept none).
					tx.Set([]byte("m/rev/"+prefix), binary.BigEndian.AppendUint64(nil, 1))
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", prefix, err)
		}
		start = append(batch[len(batch)-1].k, 0)
	}
}

// migrateDeliveries gives a batch of layout-1 deliveries revision 1 and their creation
// and paused index entries; it reports whether there may be more.
func (s *Store) migrateDeliveries() (bool, error) {
	batch, err := s.collect([]byte(pDelivery), nil, legacyJSON)
	if err != nil || len(batch) == 0 {
		return false, err
	}
	err = s.db.Update(context.Background(), func(tx *kv.Txn) error {
		for _, p := range batch {
			var d gateway.Delivery
			if err := json.Unmarshal(p.v, &d); err != nil {
				return fmt.Errorf("decode %s: %w: %w", p.k, errCorrupt, err)
			}
			tx.Set(p.k, withRev(1, p.v))
			indexDelivery(tx, &d) // dle/ is the same key in both layouts
		}
		return nil
	})
	return len(batch) == migrateBatch, err
}

// migratePaused removes layout 1's paused entries (dlp/<endpoint>/<delivery id>, naming a
// stored delivery), now that every paused delivery has its ordered entry.
func (s *Store) migratePaused() (bool, error) {
	old := func(k, _ []byte) bool {
		rest := k[len(pEPPaused):]
		i := bytes.IndexByte(rest, '/')
		return i >= 0 && strings.HasPrefix(string(rest[i+1:]), "dlv_")
	}
	batch, err := s.collect([]byte(pEPPaused), nil, old)
	if err != nil || len(batch) == 0 {
		return false, err
	}
	err = s.db.Update(context.Background(), func(tx *kv.Txn) error {
		for _, p := range batch {
			tx.Delete(p.k)
		}
		return nil
	})
	return len(batch) == migrateBatch, err
}

// legacyEvent is layout 1's event record.
type legacyEvent struct {
	Event      gateway.Event `json:"event"`
	ReceivedAt time.Time     `json:"received_at"`
	Deliveries []string      `json:"deliveries"`
}

// migrateEvents moves a batch of events, oldest arrival first, from the evt/ index into the
// log: each gets the next Seq, its layout-2 record, and its id as a dedupe key.
func (s *Store) migrateEvents() (bool, error) {
	batch, err := s.collect([]byte("evt/"), nil, func(k, v []byte) bool { return true })
	if err != nil || len(batch) == 0 {
		return false, err
	}
	err = s.db.Update(context.Background(), func(tx *kv.Txn) error {
		head, err := readHead(tx)
		if err != nil {
			return err
		}
		for _, p := range batch {
			tx.Delete(p.k)
			id := timeKeyID([]byte("evt/"), p.k)
			v, err := tx.Get(eventKey(id))
			if errors.Is(err, kv.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if !legacyJSON(nil, v) {
				continue // migrated already
			}
			var le legacyEvent
			if err := json.Unmarshal(v, &le); err != nil {
				return fmt.Errorf("decode event %s: %w: %w", id, errCorrupt, err)
			}
			seq := head.next(nanos(le.ReceivedAt))
			ev := &gateway.StoredEvent{Event: le.Event, ReceivedAt: le.ReceivedAt, Deliveries: le.Deliveries, Seq: seq}
			body, err := encodeEvent(ev, id)
			if err != nil {
				return err
			}
			tx.Set(eventKey(id), body)
			tx.Set(seqKey(seq), seqEntry(ev.ReceivedAt, id))
			tx.Set(dedupeKey(id), dedupeEntry{seq: seq, received: nanos(ev.ReceivedAt), id: id}.encode())
		}
		tx.Set(keySeq, head.encode())
		return nil
	})
	return true, err
}

// migrateQueue puts layout 1's jobs where layout 2 keeps them (queueDelivery): one per
// pending delivery, due at its NextAttemptAt, with its endpoint id. Layout 1 found a job by
// its delivery id, so it could move one without the delivery (a delivery deferred by its
// endpoint's rate limit, or sent again at once because its endpoint was enabled while it
// was being paused), and it dropped the job of a finished delivery only when that job was
// next leased. Layout 2 finds a job from its delivery's record: a job elsewhere would stay
// queued for good once the delivery finished. It reads the whole queue in one pass and
// moves or removes the jobs out of place, migrateBatch per transaction.
func (s *Store) migrateQueue() (bool, error) {
	type misplaced struct {
		id  string
		due time.Time
		d   *deliveryKeys // nil: no pending delivery, the job goes
	}
	var out []misplaced
	err := s.db.View(func(r *kv.Reader) error {
		return r.ScanJobs(func(j kv.Job) (bool, error) {
			_, d, err := loadDeliveryKeys(r, j.ID)
			switch {
			case errors.Is(err, gateway.ErrNotFound):
				d = nil
			case err != nil:
				return false, err
			case d.Status != gateway.StatusPending:
				d = nil
			case kv.JobDue(jobDue(d.NextAttemptAt)).Equal(j.Due) && string(j.Data) == d.EndpointID:
				return true, nil // in place
			}
			out = append(out, misplaced{id: j.ID, due: j.Due, d: d})
			return true, nil
		})
	})
	for err == nil && len(out) > 0 {
		batch := out[:min(len(out), migrateBatch)]
		out = out[len(batch):]
		err = s.db.Update(context.Background(), func(tx *kv.Txn) error {
			for _, m := range batch {
				tx.Unschedule(m.id, m.due)
				if m.d != nil {
					tx.Schedule(m.id, jobDue(m.d.NextAttemptAt), []byte(m.d.EndpointID))
				}
			}
			return nil
		})
	}
	return false, err
}

// legacyDedupeWindow is how long layout 1 kept a catch hook's dedupe key.
const legacyDedupeWindow = 7 * 24 * time.Hour

// migrateSourceDedupe moves a batch of catch-hook dedupe keys (srd/<source>/<event id>) to
// dd/<source>/<event id>, with a 7-day window from now.
func (s *Store) migrateSourceDedupe() (bool, error) {
	batch, err := s.collect([]byte("srd/"), nil, func(k, v []byte) bool { return true })
	if err != nil || len(batch) == 0 {
		return false, err
	}
	now := time.Now()
	err = s.db.Update(context.Background(), func(tx *kv.Txn) error {
		for _, p := range batch {
			tx.Delete(p.k)
			key := string(p.k[len("srd/"):])
			evID := key[strings.IndexByte(key, '/')+1:]
			e := dedupeEntry{received: nanos(now), window: legacyDedupeWindow, id: evID}
			if v, err := tx.Get(eventKey(evID)); err == nil {
				if ev, _, err := decodeEvent(v); err == nil {
					e.seq, e.received = ev.Seq, nanos(ev.ReceivedAt)
				}
			}
			tx.SetTTL(dedupeKey(key), e.encode(), legacyDedupeWindow+dedupeSlack)
		}
		return nil
	})
	return true, err
}

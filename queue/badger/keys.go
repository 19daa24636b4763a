package badger

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger/internal/kv"
)

// The key layout is in the package documentation.
const (
	pEvent        = "ev/"
	pEventSeq     = "evs/"
	pDedupe       = "dd/"
	pDelivery     = "dl/"
	pDeliveryTime = "dlc/"
	pEPDelivery   = "dle/"
	pEPPaused     = "dlp/"
	pRequest      = "srq/"
)

var (
	keySeq    = []byte("m/seq")
	keyFormat = []byte("m/format")
)

// format is the layout version this package writes, kept under m/format.
//
// Layout 4 is layout 3 with event and delivery records in a binary form (see encodeEvent
// and deliveryBinary) instead of JSON: this package reads both, but a hookgate of layout 3
// could not read the binary records. Layout 3 is layout 2 without the engine's _j/ job
// pointers (kv.Open deletes them) and without a dd/ key for an event deduplicated on its own
// id: the keys are the same, but a hookgate that writes layout 2 would leave a delivery's
// job behind when it finishes (it finds jobs through the pointers). So a hookgate refuses a
// folder of any version but its own and those before it that it takes as they are
// (olderLayouts).
const format = "4"

// olderLayouts are the versions before format that Open takes as they are, only marking
// the folder with format: layout 2's job pointers are gone once kv.Open has run, and
// the JSON in layout 3's records is read beside the binary form.
var olderLayouts = []string{"2", "3"}

// migrating is the marker while a layout-1 folder is being migrated (see migrate): a
// later Open resumes the migration, and a hookgate of an older layout, which would take an
// unmarked folder for layout 1 and might misread what is migrated already, refuses it.
const migrating = format + "-migrating"

func eventKey(id string) []byte    { return []byte(pEvent + id) }
func deliveryKey(id string) []byte { return []byte(pDelivery + id) }
func dedupeKey(k string) []byte    { return []byte(pDedupe + k) }

func seqKey(seq gateway.Seq) []byte {
	return binary.BigEndian.AppendUint64([]byte(pEventSeq), uint64(seq))
}

func parseSeqKey(k []byte) gateway.Seq {
	if len(k) != len(pEventSeq)+8 {
		return 0
	}
	return gateway.Seq(binary.BigEndian.Uint64(k[len(pEventSeq):]))
}

// nanos is t in Unix nanoseconds, clamped to what an unsigned big-endian key orders
// correctly: before 1970 (the zero Time included) is 0, after 2262 the largest.
func nanos(t time.Time) uint64 {
	switch {
	case t.Before(time.Unix(0, 0)):
		return 0
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return uint64(t.UnixNano())
}

// timeKey is prefix + t in nanoseconds (8 bytes) + id: ordered by time, then id.
func timeKey(prefix string, t time.Time, id string) []byte {
	k := make([]byte, 0, len(prefix)+8+len(id))
	k = append(k, prefix...)
	k = binary.BigEndian.AppendUint64(k, nanos(t))
	return append(k, id...)
}

// timeKeyID is the id of a timeKey with prefix.
func timeKeyID(prefix, k []byte) string {
	if len(k) < len(prefix)+8 {
		return ""
	}
	return string(k[len(prefix)+8:])
}

func epDeliveryPrefix(ep string) string { return pEPDelivery + ep + "/" }
func epPausedPrefix(ep string) string   { return pEPPaused + ep + "/" }
func requestPrefix(src string) string   { return pRequest + src + "/" }

// withRev prefixes a record's JSON with its revision.
func withRev(rev uint64, b []byte) []byte {
	out := make([]byte, 8, 8+len(b))
	binary.BigEndian.PutUint64(out, rev)
	return append(out, b...)
}

// encodeDelivery returns d's stored form: rev (as withRev writes it), then d's binary form
// (see appendDeliveryRecord), made in a recycled buffer and copied out once.
func encodeDelivery(rev uint64, d *gateway.Delivery) ([]byte, error) {
	buf := recordBufs.Get().(*[]byte)
	defer recordBufs.Put(buf)
	b, err := appendDeliveryRecord(binary.BigEndian.AppendUint64((*buf)[:0], rev), d)
	if err != nil {
		return nil, err
	}
	*buf = b
	return bytes.Clone(b), nil
}

// recordBufs recycles encodeDelivery's buffers.
var recordBufs = sync.Pool{New: func() any { return new([]byte) }}

// splitRev splits a stored record into its revision and its JSON.
func splitRev(key, v []byte) (uint64, []byte, error) {
	if len(v) < 8 {
		return 0, nil, fmt.Errorf("decode %.64q: %w", key, errCorrupt)
	}
	return binary.BigEndian.Uint64(v), v[8:], nil
}

// errCorrupt marks a stored value that can't be decoded.
var errCorrupt = errors.New("the stored record is corrupt")

// getter is what both kv.Reader and kv.Txn offer for reads.
type getter interface {
	Get(key []byte) ([]byte, error)
}

// get reads key, mapping a missing key to gateway.ErrNotFound.
func get(r getter, key []byte) ([]byte, error) {
	v, err := r.Get(key)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, gateway.ErrNotFound
	}
	return v, err
}

// checkFormat marks a new store with the layout version, migrates a folder of layout 1
// (see migrate), and refuses one of a layout this package does not know.
func (s *Store) checkFormat() error {
	var (
		have   []byte
		legacy bool
	)
	err := s.db.View(func(r *kv.Reader) error {
		v, err := r.Get(keyFormat)
		if err == nil {
			have = v
			return nil
		}
		if !errors.Is(err, kv.ErrNotFound) {
			return err
		}
		// A folder without the marker is new (empty), or from before the marker.
		return r.Scan(nil, nil, false, func(k, v []byte) (bool, error) {
			legacy = true
			return false, nil
		})
	})
	if err != nil {
		return fmt.Errorf("badger store: read the layout version: %w", err)
	}
	switch {
	case have != nil && string(have) == format:
		return nil
	case have != nil && string(have) == migrating:
		if err := s.migrate(); err != nil {
			return fmt.Errorf("badger store: resuming the migration of %s from layout 1 failed: %w", s.opts.Dir, err)
		}
		return nil
	case have != nil && slices.Contains(olderLayouts, string(have)):
		// Nothing to rewrite (see olderLayouts): all that is left to do is say so.
		s.log.Info("the data folder is now layout "+format, "dir", s.opts.Dir, "was", string(have))
	case have != nil:
		return fmt.Errorf("badger store: %s holds layout version %q; this hookgate reads version %s", s.opts.Dir, have, format)
	case legacy:
		if err := s.migrate(); err != nil {
			return fmt.Errorf("badger store: %s was written by a hookgate from before the storage seam (layout 1), and migrating it failed: %w", s.opts.Dir, err)
		}
		return nil
	}
	return s.db.Update(context.Background(), func(tx *kv.Txn) error {
		tx.Set(keyFormat, []byte(format))
		return nil
	})
}

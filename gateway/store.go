package gateway

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/queue"
)

// Keys of the records the gateway keeps in the queue's store.
//
//	ev/<event id>                         → StoredEvent JSON
//	evt/<received ns, 8 bytes><event id>  → "" (events in arrival order)
//	ep/<endpoint id>                      → Endpoint JSON
//	dl/<delivery id>                      → Delivery JSON
//	dle/<endpoint id>/<created ns><delivery id> → "" (an endpoint's deliveries, oldest first)
//	dlp/<endpoint id>/<delivery id>       → "" (an endpoint's paused deliveries)
var (
	pEvent      = "ev/"
	pEventTime  = []byte("evt/")
	pEndpoint   = "ep/"
	pDelivery   = "dl/"
	pEPDelivery = "dle/"
	pEPPaused   = "dlp/"
)

func eventKey(id string) []byte    { return []byte(pEvent + id) }
func endpointKey(id string) []byte { return []byte(pEndpoint + id) }
func deliveryKey(id string) []byte { return []byte(pDelivery + id) }

func timeKey(prefix []byte, ns int64, id string) []byte {
	k := make([]byte, 0, len(prefix)+8+len(id))
	k = append(k, prefix...)
	k = binary.BigEndian.AppendUint64(k, uint64(ns))
	return append(k, id...)
}

func splitTimeKey(prefix, k []byte) (int64, string) {
	rest := k[len(prefix):]
	if len(rest) < 8 {
		return 0, ""
	}
	return int64(binary.BigEndian.Uint64(rest[:8])), string(rest[8:])
}

func eventTimeKey(ns int64, id string) []byte { return timeKey(pEventTime, ns, id) }

func epDeliveryPrefix(epID string) []byte { return []byte(pEPDelivery + epID + "/") }
func epDeliveryKey(epID string, created time.Time, id string) []byte {
	return timeKey(epDeliveryPrefix(epID), created.UnixNano(), id)
}
func epPausedPrefix(epID string) []byte { return []byte(pEPPaused + epID + "/") }
func epPausedKey(epID, id string) []byte {
	return append(epPausedPrefix(epID), id...)
}

// getter is what both queue.Reader and queue.Txn offer for reads.
type getter interface {
	Get(key []byte) ([]byte, error)
}

// load reads the JSON record under key into v, mapping a missing key to ErrNotFound.
func load(r getter, key []byte, v any) error {
	b, err := r.Get(key)
	if errors.Is(err, queue.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w: %w", key, errCorrupt, err)
	}
	return nil
}

// errCorrupt marks a stored record that can't be decoded.
var errCorrupt = errors.New("the stored record is corrupt")

// save writes v as JSON under key.
func save(tx *queue.Txn, key []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", key, err)
	}
	tx.Set(key, b)
	return nil
}

// storedEvent is the on-disk form of a StoredEvent (Event's own JSON is the envelope).
type storedEvent struct {
	Event      json.RawMessage `json:"event"`
	ReceivedAt time.Time       `json:"received_at"`
	Deliveries []string        `json:"deliveries"`
}

func saveEvent(tx *queue.Txn, ev *StoredEvent) error {
	body, err := json.Marshal(ev.Event)
	if err != nil {
		return fmt.Errorf("encode event %s: %w", ev.ID, err)
	}
	return save(tx, eventKey(ev.ID), storedEvent{Event: body, ReceivedAt: ev.ReceivedAt, Deliveries: ev.Deliveries})
}

func loadEvent(r getter, id string) (*StoredEvent, error) {
	var se storedEvent
	if err := load(r, eventKey(id), &se); err != nil {
		return nil, err
	}
	ev := &StoredEvent{ReceivedAt: se.ReceivedAt, Deliveries: se.Deliveries}
	if err := json.Unmarshal(se.Event, &ev.Event); err != nil {
		return nil, fmt.Errorf("decode event %s: %w: %w", id, errCorrupt, err)
	}
	return ev, nil
}

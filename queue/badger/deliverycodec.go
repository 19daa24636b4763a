package badger

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookgate/hookgate/gateway"
)

// A delivery's record (dl/<id>) is its revision (8 bytes, see withRev), then the delivery in
// a compact binary form, written by appendDeliveryRecord; records written before layout 4
// hold Delivery JSON there instead, which decodeDelivery still reads (JSON starts with '{',
// the binary form with deliveryBinary).
//
// The binary form exists for the write path: a new delivery's record is about 120 bytes
// against some 320 of JSON, small enough to stay in the LSM tree (under the value log's
// threshold) rather than take a value-log entry and its sync per event, and it is written
// and read without reflection or text formatting. In order:
//
//	deliveryBinary
//	ID, EventID, EndpointID, EventType, Status      strings (see appendStr)
//	len(Attempts)+1                                 uvarint; 0 for nil Attempts
//	  each: At                                      time (see appendTime)
//	        StatusCode, DurationMS                  varints
//	        Error, ResponseBody, RequestBody        strings
//	        RequestBytes                            varint
//	        RequestEnvelope                         1 byte, 0 or 1
//	NextAttemptAt                                   1 byte, 0 for nil, else 1 and a time
//	CreatedAt, UpdatedAt                            times
//	Step                                            varint
//
// Delivery and Attempt are written field by field: TestDeliveryRecordFields fails when
// either type gains, loses or renames a field, and the codec must change with it.
const deliveryBinary = 1

// minAttempt is the fewest bytes an attempt takes in a delivery record: its time (3), two
// numbers, three strings, a number and a flag (1 each at least).
const minAttempt = 10

// appendDeliveryRecord appends d's binary form (see deliveryBinary) to dst. It refuses a
// time that the JSON the API answers with (RFC 3339) could not write (see appendTime).
func appendDeliveryRecord(dst []byte, d *gateway.Delivery) ([]byte, error) {
	dst = append(dst, deliveryBinary)
	dst = appendStr(dst, d.ID)
	dst = appendStr(dst, d.EventID)
	dst = appendStr(dst, d.EndpointID)
	dst = appendStr(dst, d.EventType)
	dst = appendStr(dst, string(d.Status))
	if d.Attempts == nil {
		dst = append(dst, 0)
	} else {
		dst = binary.AppendUvarint(dst, uint64(len(d.Attempts))+1)
	}
	var err error
	for i := range d.Attempts {
		a := &d.Attempts[i]
		if dst, err = appendTime(dst, a.At); err != nil {
			return nil, fmt.Errorf("encode delivery: %w", err)
		}
		dst = binary.AppendVarint(dst, int64(a.StatusCode))
		dst = binary.AppendVarint(dst, a.DurationMS)
		dst = appendStr(dst, a.Error)
		dst = appendStr(dst, a.ResponseBody)
		dst = appendStr(dst, a.RequestBody)
		dst = binary.AppendVarint(dst, int64(a.RequestBytes))
		dst = appendBool(dst, a.RequestEnvelope)
	}
	dst = appendBool(dst, d.NextAttemptAt != nil)
	if d.NextAttemptAt != nil {
		if dst, err = appendTime(dst, *d.NextAttemptAt); err != nil {
			return nil, fmt.Errorf("encode delivery: %w", err)
		}
	}
	if dst, err = appendTime(dst, d.CreatedAt); err != nil {
		return nil, fmt.Errorf("encode delivery: %w", err)
	}
	if dst, err = appendTime(dst, d.UpdatedAt); err != nil {
		return nil, fmt.Errorf("encode delivery: %w", err)
	}
	return binary.AppendVarint(dst, int64(d.Step)), nil
}

// appendStr appends s as its length (uvarint) and its bytes.
func appendStr(dst []byte, s string) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(s))), s...)
}

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// appendTime appends t as its Unix seconds (varint), nanoseconds (uvarint) and zone offset
// in seconds (varint; 0 is UTC): what its RFC 3339 JSON keeps, so a record reads back as the
// JSON one did. A time that JSON can't express is an error: one outside the years 0 to
// 9999, or with a zone offset of a day or more.
func appendTime(dst []byte, t time.Time) ([]byte, error) {
	if y := t.Year(); y < 0 || y > 9999 {
		return nil, fmt.Errorf("the time %v is outside the years 0 to 9999", t)
	}
	_, off := t.Zone()
	if off <= -maxOffset || off >= maxOffset {
		return nil, fmt.Errorf("the time %v has a zone offset of a day or more", t)
	}
	dst = binary.AppendVarint(dst, t.Unix())
	dst = binary.AppendUvarint(dst, uint64(t.Nanosecond()))
	return binary.AppendVarint(dst, int64(off)), nil
}

// decodeDelivery reads a delivery record's body (after the revision): the binary form, or
// the JSON of layouts before 4. The result shares nothing with b.
func decodeDelivery(b []byte) (*gateway.Delivery, error) {
	var d gateway.Delivery
	if len(b) > 0 && b[0] == '{' {
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("%w: %w", errCorrupt, err)
		}
		return &d, nil
	}
	r := recordReader{b: b}
	if r.byte() != deliveryBinary {
		return nil, errCorrupt
	}
	d.ID, d.EventID, d.EndpointID, d.EventType = r.str(), r.str(), r.str(), r.str()
	d.Status = gateway.DeliveryStatus(r.str())
	if n := r.uvarint(); n > 0 {
		n--
		if n > uint64(len(r.b)/minAttempt) { // more attempts than the bytes can hold: corrupt
			return nil, errCorrupt
		}
		d.Attempts = make([]gateway.Attempt, n)
		for i := range d.Attempts {
			a := &d.Attempts[i]
			a.At = r.time()
			a.StatusCode, a.DurationMS = int(r.varint()), r.varint()
			a.Error, a.ResponseBody, a.RequestBody = r.str(), r.str(), r.str()
			a.RequestBytes, a.RequestEnvelope = int(r.varint()), r.bool()
		}
	}
	if r.bool() {
		t := r.time()
		d.NextAttemptAt = &t
	}
	d.CreatedAt, d.UpdatedAt = r.time(), r.time()
	d.Step = int(r.varint())
	if r.bad || len(r.b) != 0 {
		return nil, errCorrupt
	}
	return &d, nil
}

// decodeDeliveryKeys reads what a save needs of a stored record (see deliveryKeys).
func decodeDeliveryKeys(b []byte) (*deliveryKeys, error) {
	if len(b) > 0 && b[0] == '{' {
		var k deliveryKeys
		if err := json.Unmarshal(b, &k); err != nil {
			return nil, fmt.Errorf("%w: %w", errCorrupt, err)
		}
		return &k, nil
	}
	d, err := decodeDelivery(b)
	if err != nil {
		return nil, err
	}
	return &deliveryKeys{ID: d.ID, EndpointID: d.EndpointID, Status: d.Status, NextAttemptAt: d.NextAttemptAt, CreatedAt: d.CreatedAt}, nil
}

// recordReader reads what the append functions above write. A read past the end or a
// malformed number sets bad and returns the zero value; the caller checks bad once.
type recordReader struct {
	b   []byte
	bad bool
}

func (r *recordReader) byte() byte {
	if len(r.b) == 0 {
		r.bad = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *recordReader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.bad = true
	return false
}

func (r *recordReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// varint reads what binary.AppendVarint wrote: a uvarint holding the number zig-zag
// encoded, as binary.Varint decodes it.
func (r *recordReader) varint() int64 {
	u := r.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

func (r *recordReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// maxOffset bounds a zone offset in seconds, as RFC 3339 (and time.Time's MarshalJSON)
// does: less than a day either way.
const maxOffset = 24 * 3600

// time reads what appendTime wrote, as time.Time's UnmarshalJSON reads RFC 3339: a zero
// offset is UTC, the local zone's offset at that instant is time.Local, any other a fixed
// zone. A time appendTime would refuse is corrupt.
func (r *recordReader) time() time.Time {
	sec, nsec, off := r.varint(), r.uvarint(), r.varint()
	if nsec >= 1e9 || off <= -maxOffset || off >= maxOffset {
		r.bad = true
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	_, local := t.Zone()
	switch {
	case off == 0:
		t = t.UTC()
	case int64(local) != off:
		t = t.In(time.FixedZone("", int(off)))
	}
	if y := t.Year(); y < 0 || y > 9999 {
		r.bad = true
		return time.Time{}
	}
	return t
}

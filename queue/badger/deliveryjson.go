package badger

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hookgate/hookgate/gateway"
)

// appendDelivery appends d's JSON to dst, byte for byte as json.Marshal(d) writes it (the
// stored form of a delivery), without reflection and without the allocation and the second
// pass (compaction) that json.Marshal spends on every time.Time. Delivery and Attempt are
// written field by field here: TestDeliveryJSONFields fails when either type gains, loses or
// renames a field, and TestAppendDeliveryIsMarshal compares the two encodings.
func appendDelivery(dst []byte, d *gateway.Delivery) ([]byte, error) {
	var err error
	dst = appendField(dst, '{', "id", d.ID)
	dst = appendField(dst, ',', "event_id", d.EventID)
	dst = appendField(dst, ',', "endpoint_id", d.EndpointID)
	dst = appendField(dst, ',', "event_type", d.EventType)
	dst = appendField(dst, ',', "status", string(d.Status))
	dst = append(dst, `,"attempts":`...)
	if d.Attempts == nil {
		dst = append(dst, "null"...)
	} else {
		dst = append(dst, '[')
		for i := range d.Attempts {
			if i > 0 {
				dst = append(dst, ',')
			}
			if dst, err = appendAttempt(dst, &d.Attempts[i]); err != nil {
				return nil, err
			}
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"next_attempt_at":`...)
	if d.NextAttemptAt == nil {
		dst = append(dst, "null"...)
	} else if dst, err = appendTime(dst, *d.NextAttemptAt); err != nil {
		return nil, err
	}
	dst = append(dst, `,"created_at":`...)
	if dst, err = appendTime(dst, d.CreatedAt); err != nil {
		return nil, err
	}
	dst = append(dst, `,"updated_at":`...)
	if dst, err = appendTime(dst, d.UpdatedAt); err != nil {
		return nil, err
	}
	dst = append(dst, `,"step":`...)
	dst = strconv.AppendInt(dst, int64(d.Step), 10)
	return append(dst, '}'), nil
}

// appendAttempt appends a's JSON as json.Marshal writes it (see appendDelivery).
func appendAttempt(dst []byte, a *gateway.Attempt) ([]byte, error) {
	dst = append(dst, `{"at":`...)
	dst, err := appendTime(dst, a.At)
	if err != nil {
		return nil, err
	}
	dst = append(dst, `,"status_code":`...)
	dst = strconv.AppendInt(dst, int64(a.StatusCode), 10)
	dst = append(dst, `,"duration_ms":`...)
	dst = strconv.AppendInt(dst, a.DurationMS, 10)
	if a.Error != "" {
		dst = appendField(dst, ',', "error", a.Error)
	}
	if a.ResponseBody != "" {
		dst = appendField(dst, ',', "response_body", a.ResponseBody)
	}
	if a.RequestBody != "" {
		dst = appendField(dst, ',', "request_body", a.RequestBody)
	}
	if a.RequestBytes != 0 {
		dst = append(dst, `,"request_bytes":`...)
		dst = strconv.AppendInt(dst, int64(a.RequestBytes), 10)
	}
	if a.RequestEnvelope {
		dst = append(dst, `,"request_envelope":true`...)
	}
	return append(dst, '}'), nil
}

// appendField appends sep, the quoted name (which needs no escaping), a colon and the
// string v.
func appendField(dst []byte, sep byte, name, v string) []byte {
	dst = append(dst, sep, '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendString(dst, v)
}

// appendTime appends t as time.Time's MarshalJSON does: RFC 3339 with nanoseconds, quoted,
// and an error for a time RFC 3339 can't express (a year outside 0 to 9999).
func appendTime(dst []byte, t time.Time) ([]byte, error) {
	b, err := t.AppendText(append(dst, '"'))
	if err != nil {
		return nil, fmt.Errorf("encode delivery: %w", err)
	}
	return append(b, '"'), nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s quoted as encoding/json quotes a string (with HTML escaping, its
// default): ", \ and the control characters escaped (\b \f \n \r \t short), <, > and &
// as \u003c \u003e \u0026, invalid UTF-8 as \ufffd, and U+2028 and U+2029 escaped.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case c == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case c == '\u2028' || c == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

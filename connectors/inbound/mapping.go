package inbound

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// object is a decoded JSON object: its members' raw values by name (the last of a repeated
// name wins, as in encoding/json).
type object map[string]json.RawMessage

// jsonKind names the kind of a JSON value from its first byte.
func jsonKind(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// decodeObject parses b, which must be one JSON object; what names it in errors ("body").
func decodeObject(b []byte, what string) (object, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, mapErrorf("%s is empty: want a JSON object", what)
	}
	if !json.Valid(b) {
		var v any
		err := json.Unmarshal(b, &v)
		return nil, &MapError{Reason: fmt.Sprintf("%s is not JSON: %v", what, err), Err: err}
	}
	if b[0] != '{' {
		return nil, mapErrorf("%s is %s, not a JSON object", what, jsonKind(b))
	}
	var obj object
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, &MapError{Reason: fmt.Sprintf("%s is not a JSON object: %v", what, err), Err: err}
	}
	return obj, nil
}

// present reports whether obj has name with a value other than null.
func (obj object) present(name string) bool {
	raw, ok := obj[name]
	return ok && string(bytes.TrimSpace(raw)) != "null"
}

// str returns a string member; absent or null is "".
func (obj object) str(name string) (string, error) {
	if !obj.present(name) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(obj[name], &s); err != nil {
		return "", mapErrorf("%q must be a string, got %s", name, jsonKind(obj[name]))
	}
	return s, nil
}

// eventType returns the required event type member; hint says where the provider puts it.
func (obj object) eventType(name, what, hint string) (string, error) {
	if !obj.present(name) {
		return "", mapErrorf("%s has no %q field: %s", what, name, hint)
	}
	s, err := obj.str(name)
	if err != nil {
		return "", err
	}
	if s = strings.TrimSpace(s); s == "" {
		return "", mapErrorf("%s has an empty %q field: %s", what, name, hint)
	}
	return s, nil
}

// id returns an id member, a string or a number (as written); absent or null is "".
func (obj object) id(name string) (string, error) {
	if !obj.present(name) {
		return "", nil
	}
	raw := bytes.TrimSpace(obj[name])
	switch jsonKind(raw) {
	case "a string":
		s, err := obj.str(name)
		return strings.TrimSpace(s), err
	case "a number":
		return string(raw), nil
	}
	return "", mapErrorf("%q must be a string or a number, got %s", name, jsonKind(raw))
}

// text returns a member as text for a derived id: a string's value, anything else as
// written, "" when absent.
func (obj object) text(name string) string {
	if s, err := obj.str(name); err == nil {
		return s
	}
	return string(bytes.TrimSpace(obj[name]))
}

// data returns a member as the envelope's data: {} when absent or null.
func (obj object) data(name string) json.RawMessage {
	if !obj.present(name) {
		return json.RawMessage(`{}`)
	}
	return json.RawMessage(bytes.TrimSpace(obj[name]))
}

// time returns a member as a time (see parseTime); absent, null or "" is the zero time.
func (obj object) time(name string) (time.Time, error) {
	if !obj.present(name) {
		return time.Time{}, nil
	}
	return parseTime(obj[name], name)
}

// layouts are the time formats parseTime reads: RFC 3339, and times written without a time
// zone, read as UTC (Upload-Post writes 2024-03-15T14:30:00.000000, Oktopost 2024-01-15
// 10:30:00). Fractional seconds are accepted after any of them.
var layouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
}

// millisFrom is where unix numbers are read as milliseconds rather than seconds: 10^12 s
// is 33,658 AD, 10^12 ms is September 2001.
const millisFrom = 1e12

// parseTime reads a JSON time: a string in RFC 3339 (or without a time zone, read as UTC),
// or a number (or string of digits) of unix seconds, or milliseconds from 10^12 on. The
// result is in UTC and between years 1 and 9999.
func parseTime(raw json.RawMessage, field string) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	want := "want RFC 3339 such as 2026-06-24T14:00:05Z, or unix seconds"
	var t time.Time
	switch jsonKind(raw) {
	case "a string":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return time.Time{}, mapErrorf("%q is not a time: %s", field, want)
		}
		s = strings.TrimSpace(s)
		if s == "" {
			return time.Time{}, nil
		}
		if isNumber(s) {
			var err error
			if t, err = unixTime(s); err != nil {
				return time.Time{}, mapErrorf("%q %s", field, err)
			}
			break
		}
		parsed := false
		for _, l := range layouts {
			if p, err := time.Parse(l, s); err == nil {
				t, parsed = p, true
				break
			}
		}
		if !parsed {
			return time.Time{}, mapErrorf("%q is not a time: %s (%s)", field, strconv.Quote(clip(s)), want)
		}
	case "a number":
		var err error
		if t, err = unixTime(string(raw)); err != nil {
			return time.Time{}, mapErrorf("%q %s", field, err)
		}
	default:
		return time.Time{}, mapErrorf("%q is not a time but %s: %s", field, jsonKind(raw), want)
	}
	t = t.UTC()
	if y := t.Year(); y < 1 || y > 9999 {
		return time.Time{}, mapErrorf("%q is out of range: %s is not between years 1 and 9999", field, clip(string(raw)))
	}
	return t, nil
}

// isNumber reports whether s looks like a JSON number (digits, sign, point, exponent).
func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789+-.eE", rune(s[i])) {
			return false
		}
	}
	return s[0] == '-' || s[0] >= '0' && s[0] <= '9'
}

// maxUnix is 9999-12-31T23:59:59Z, the last second an RFC 3339 time can write.
const maxUnix = 253402300799

// unixTime reads unix seconds (milliseconds from millisFrom on) from a decimal number.
func unixTime(s string) (time.Time, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && n >= 0 {
		switch {
		case n < millisFrom:
			return time.Unix(n, 0), nil
		case n/1000 <= maxUnix:
			return time.UnixMilli(n), nil
		}
		return time.Time{}, fmt.Errorf("is out of range: %s is after the year 9999", clip(s))
	}
	f, err := strconv.ParseFloat(s, 64)
	switch {
	case err != nil || math.IsNaN(f) || math.IsInf(f, 0):
		return time.Time{}, fmt.Errorf("is not a unix time: %s", clip(s))
	case f < 0:
		return time.Time{}, fmt.Errorf("is a negative unix time: %s", clip(s))
	case f >= millisFrom:
		f /= 1000
	}
	if f > maxUnix {
		return time.Time{}, fmt.Errorf("is out of range: %s is after the year 9999", clip(s))
	}
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64(math.Round((f-sec)*1e9))), nil
}

// derivedID makes a stable id from the parts that identify an event, for providers that
// send none: the same parts always give the same id, so a replayed call dedupes.
func derivedID(prefix string, parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return prefix + "_" + hex.EncodeToString(h.Sum(nil)[:16])
}

// mapTokPortal: event → type, event_id → id, timestamp → created, data → data.
func mapTokPortal(obj object) (*Envelope, error) {
	return mapFields(obj, envelopeFields{typ: "event", id: "event_id", created: "timestamp", what: "body",
		hint: "TokPortal names the event type (video.posted, bundle.ready…) there"})
}

// mapTinyposter: tinyposter's payload is already {id, type, created, data}.
func mapTinyposter(obj object) (*Envelope, error) {
	return mapFields(obj, envelopeFields{typ: "type", id: "id", created: "created", what: "body",
		hint: "tinyposter names the event type (post.published, ping…) there"})
}

// envelopeFields says which fields of a payload hold the envelope's type, id and created
// (data is always "data"). what names the payload and hint says where the type belongs, in
// errors; fallbackID is the id when the payload has none.
type envelopeFields struct {
	typ, id, created string
	what, hint       string
	fallbackID       string
}

// mapFields reads an envelope from the fields f names.
func mapFields(obj object, f envelopeFields) (*Envelope, error) {
	typ, err := obj.eventType(f.typ, f.what, f.hint)
	if err != nil {
		return nil, err
	}
	id, err := obj.id(f.id)
	if err != nil {
		return nil, err
	}
	if id == "" {
		id = strings.TrimSpace(f.fallbackID)
	}
	created, err := obj.time(f.created)
	if err != nil {
		return nil, err
	}
	return &Envelope{ID: id, Type: typ, Created: created, Data: obj.data("data")}, nil
}

// mapUploadPost: event → type; every other top-level field → data, in the order sent;
// created_at (no time zone, read as UTC) → created; the id derived from job_id, event and
// created_at, or, without a job_id, from event, user_email, platform, account_name and
// created_at (Upload-Post sends no event id).
func mapUploadPost(obj object, body []byte) (*Envelope, error) {
	typ, err := obj.eventType("event", "body", "Upload-Post names the event type (upload_completed, social_account_connected…) there")
	if err != nil {
		return nil, err
	}
	created, err := obj.time("created_at")
	if err == nil && created.IsZero() {
		created, err = obj.time("timestamp")
	}
	if err != nil {
		return nil, err
	}
	id, err := obj.id("id")
	if err != nil {
		return nil, err
	}
	if id == "" {
		if job := obj.text("job_id"); job != "" {
			id = derivedID("uploadpost", "job", job, typ, obj.text("created_at"))
		} else {
			id = derivedID("uploadpost", "account", typ, obj.text("user_email"), obj.text("platform"), obj.text("account_name"), obj.text("created_at"))
		}
	}
	data, err := withoutMember(body, "event")
	if err != nil {
		return nil, err
	}
	return &Envelope{ID: id, Type: typ, Created: created, Data: data}, nil
}

// withoutMember returns the JSON object b without its members called name, the others in
// the order written.
func withoutMember(b []byte, name string) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, mapErrorf("body is not a JSON object")
	}
	var out bytes.Buffer
	out.WriteByte('{')
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	first := true
	for dec.More() {
		tok, err := dec.Token()
		key, ok := tok.(string)
		if err != nil || !ok {
			return nil, mapErrorf("body is not a JSON object")
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, &MapError{Reason: fmt.Sprintf("body is not JSON: %v", err), Err: err}
		}
		if key == name {
			continue
		}
		if !first {
			out.WriteByte(',')
		}
		first = false
		if err := enc.Encode(key); err != nil {
			return nil, &MapError{Reason: fmt.Sprintf("body has a member name JSON can't hold: %v", err), Err: err}
		}
		out.Truncate(out.Len() - 1) // Encode ends with a newline
		out.WriteByte(':')
		out.Write(v)
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// mapOktopost: event → type, timestamp (unix seconds) → created, data → data with the
// top-level webhookId copied into it (unless data has its own); id: the payload's id when
// it has one, else derived from webhookId, event, timestamp and data.
func mapOktopost(obj object) (*Envelope, error) {
	typ, err := obj.eventType("event", "body", "Oktopost names the event type (postSent, newAssignment…) there")
	if err != nil {
		return nil, err
	}
	created, err := obj.time("timestamp")
	if err != nil {
		return nil, err
	}
	data := obj.data("data")
	if jsonKind(data) != "an object" {
		return nil, mapErrorf(`"data" must be an object, got %s`, jsonKind(data))
	}
	id, err := obj.id("id")
	if err != nil {
		return nil, err
	}
	if id == "" {
		canon, err := jsStringify(data)
		if err != nil {
			canon = data
		}
		id = derivedID("oktopost", obj.text("webhookId"), typ, obj.text("timestamp"), string(canon))
	}
	if obj.present("webhookId") {
		var members object
		if err := json.Unmarshal(data, &members); err == nil && !members.present("webhookId") {
			data = addMember(data, "webhookId", bytes.TrimSpace(obj["webhookId"]))
		}
	}
	return &Envelope{ID: id, Type: typ, Created: created, Data: data}, nil
}

// addMember appends "name": value to the JSON object obj (trimmed, valid).
func addMember(obj json.RawMessage, name string, value []byte) json.RawMessage {
	inner := bytes.TrimSpace(obj[1 : len(obj)-1])
	var out bytes.Buffer
	out.WriteByte('{')
	if len(inner) > 0 {
		out.Write(inner)
		out.WriteByte(',')
	}
	out.WriteString(strconv.Quote(name)) // a fixed ASCII name: Go's quoting is JSON's
	out.WriteByte(':')
	out.Write(value)
	out.WriteByte('}')
	return out.Bytes()
}

// mapEnvelope reads a payload that is already an envelope {type, id?, created? or
// timestamp?, data}; what names it and hint says what it should be, in errors; fallbackID
// is the id when the payload has none.
func mapEnvelope(obj object, what, hint, fallbackID string) (*Envelope, error) {
	created := "created"
	if !obj.present(created) {
		created = "timestamp"
	}
	return mapFields(obj, envelopeFields{typ: "type", id: "id", created: created, what: what, hint: hint, fallbackID: fallbackID})
}

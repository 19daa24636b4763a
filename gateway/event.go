package gateway

import (
	"bytes"
	"encoding/json"
	"time"
)

// Event is one thing that happened, in hookgate's envelope. It is what every subscriber
// receives as the request body:
//
//	{"id":"evt_…","type":"video.posted","source":"tokportal","created":"2026-06-24T14:00:05.123Z","data":{…}}
//
// ID is the dedupe key of the publish API: publishing an event whose ID is already stored
// sends nothing. An event a catch hook received has a fresh hookgate ID and keeps the
// provider's own event id in SourceEventID; it is deduplicated per source on that id.
type Event struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	Source  string          `json:"source,omitempty"`
	Created time.Time       `json:"created"`
	Data    json.RawMessage `json:"data"`
	// SourceEventID is the provider's id of an event a catch hook received (the id it
	// sends again when it retries); empty for events published through the API.
	SourceEventID string `json:"source_event_id,omitempty"`

	// compact is set on an event this process published: checkPublish validated and
	// compacted Data, so the envelope appends it as it is (escaping only, see payload)
	// instead of compacting it again. An event read back from a store, or built by a
	// caller, has it unset and its Data is compacted when its envelope is built.
	compact bool
}

// envelope is Event's wire form: created in UTC with millisecond precision, as the
// providers write it.
type envelope struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Source        string          `json:"source,omitempty"`
	SourceEventID string          `json:"source_event_id,omitempty"`
	Created       string          `json:"created"`
	Data          json.RawMessage `json:"data"`
}

// TimeFormat is how hookgate writes times on the wire: RFC 3339 in UTC with milliseconds.
const TimeFormat = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON writes the envelope with created as RFC 3339 UTC milliseconds: the bytes
// json.Marshal gives for it (envelope, with Data a json.RawMessage), built by appending
// into one buffer of the right size.
func (e Event) MarshalJSON() ([]byte, error) {
	data, err := e.payload()
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(`{"id":"","type":"","source":"","source_event_id":"","created":"","data":}`)+
		len(e.ID)+len(e.Type)+len(e.Source)+len(e.SourceEventID)+len(TimeFormat)+envelopeSlack+
		len(data)+escapeGrowth(data))
	b = append(b, `{"id":`...)
	b = appendString(b, e.ID)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	if e.Source != "" {
		b = append(b, `,"source":`...)
		b = appendString(b, e.Source)
	}
	if e.SourceEventID != "" {
		b = append(b, `,"source_event_id":`...)
		b = appendString(b, e.SourceEventID)
	}
	// A time in TimeFormat is digits and - : . T Z, which JSON takes as they are.
	b = append(b, `,"created":"`...)
	b = e.Created.UTC().AppendFormat(b, TimeFormat)
	b = append(b, `","data":`...)
	b = appendEscaped(b, data)
	return append(b, '}'), nil
}

// envelopeSlack is room MarshalJSON leaves for escapes in the string fields (each adds
// 5 bytes) and a year past 9999 before its buffer must grow.
const envelopeSlack = 32

// appendString appends s as a JSON string, as json.Marshal writes it: plain ASCII that
// needs no escape (the ids, types and sources of nearly every event) as it is, anything
// else through json.Marshal itself.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// payload returns e's data compact, as json.Marshal writes a json.RawMessage before it
// escapes it (appendEscaped), or "null" when empty. Data checkPublish compacted (e.compact)
// is returned as it is; other data (read from a store, perhaps as sent before events were
// stored compact) is compacted, and data that is not JSON gets json.Marshal's error.
func (e *Event) payload() ([]byte, error) {
	switch {
	case len(e.Data) == 0:
		return []byte("null"), nil
	case e.compact:
		return e.Data, nil
	}
	c, _, err := compactJSON(e.Data)
	if err != nil { // not JSON: what json.Marshal says of it
		m, err := json.Marshal(e.Data)
		if err != nil {
			return nil, err
		}
		return m, nil
	}
	return c, nil
}

// escaped are the bytes json.Marshal escapes in a json.RawMessage it writes; 0xE2 starts
// U+2028 and U+2029.
const escaped = "<>&\xe2"

// escapeGrowth bounds what appendEscaped adds to src: 5 bytes for each < > & and U+2028
// U+2029 (0xE2 starts them, and other characters), counted with bytes.Count.
func escapeGrowth(src []byte) int {
	n := 0
	for i := range len(escaped) {
		n += bytes.Count(src, []byte{escaped[i]})
	}
	return 5 * n
}

// appendEscaped appends the compact JSON text src with < > & as \u003c \u003e \u0026 and
// U+2028 U+2029 as \u2028 \u2029, as json.Marshal writes them (json.HTMLEscape). It finds
// each kind of byte with bytes.IndexByte, so text without them is one copy.
func appendEscaped(dst, src []byte) []byte {
	const hex = "0123456789abcdef"
	var next [len(escaped)]int // where each kind occurs next, len(src) for nowhere
	find := func(k, from int) {
		next[k] = len(src)
		if i := bytes.IndexByte(src[from:], escaped[k]); i >= 0 {
			next[k] = from + i
		}
	}
	for k := range next {
		find(k, 0)
	}
	start := 0
	for {
		k := 0
		for j := 1; j < len(next); j++ {
			if next[j] < next[k] {
				k = j
			}
		}
		i := next[k]
		if i == len(src) {
			return append(dst, src[start:]...)
		}
		switch c := src[i]; {
		case c != 0xE2:
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			start = i + 1
		case i+2 < len(src) && src[i+1] == 0x80 && src[i+2]&^1 == 0xA8:
			dst = append(dst, src[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[src[i+2]&0xF])
			start = i + 3
		}
		find(k, i+1)
	}
}

// wire returns e's wire form with data as its payload.
func (e *Event) wire(data json.RawMessage) envelope {
	return envelope{ID: e.ID, Type: e.Type, Source: e.Source, SourceEventID: e.SourceEventID, Created: e.Created.UTC().Format(TimeFormat), Data: data}
}

// UnmarshalJSON reads the envelope written by MarshalJSON (any RFC 3339 time is accepted).
func (e *Event) UnmarshalJSON(b []byte) error {
	var env envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return err
	}
	*e = Event{ID: env.ID, Type: env.Type, Source: env.Source, SourceEventID: env.SourceEventID, Data: env.Data}
	if env.Created != "" {
		t, err := time.Parse(time.RFC3339Nano, env.Created)
		if err != nil {
			return err
		}
		e.Created = t
	}
	return nil
}

// Body returns the envelope exactly as it is delivered.
func (e *Event) Body() []byte {
	b, _ := e.MarshalJSON() // marshalling strings and raw JSON cannot fail
	return b
}

// StoredEvent is an Event as the store keeps it: the envelope plus when hookgate
// received it and which deliveries it fanned out to.
type StoredEvent struct {
	Event
	ReceivedAt time.Time `json:"received_at"`
	Deliveries []string  `json:"deliveries"`
	// Seq is the event's place in the event log, assigned by the store on Append.
	Seq Seq `json:"-"`
}

// MarshalJSON writes the envelope fields plus received_at and delivery_ids.
func (e StoredEvent) MarshalJSON() ([]byte, error) {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	return json.Marshal(struct {
		envelope
		ReceivedAt string   `json:"received_at"`
		Deliveries []string `json:"delivery_ids"`
	}{
		envelope:   e.Event.wire(data),
		ReceivedAt: e.ReceivedAt.UTC().Format(TimeFormat),
		Deliveries: append([]string{}, e.Deliveries...),
	})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *StoredEvent) UnmarshalJSON(b []byte) error {
	var aux struct {
		ReceivedAt time.Time `json:"received_at"`
		Deliveries []string  `json:"delivery_ids"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &e.Event); err != nil {
		return err
	}
	e.ReceivedAt, e.Deliveries = aux.ReceivedAt, aux.Deliveries
	return nil
}

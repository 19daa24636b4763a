package gateway

import (
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

// MarshalJSON writes the envelope with created as RFC 3339 UTC milliseconds.
func (e Event) MarshalJSON() ([]byte, error) {
	data := e.Data
	if len(data) == 0 {
		data = json.RawMessage("null")
	}
	return json.Marshal(e.wire(data))
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

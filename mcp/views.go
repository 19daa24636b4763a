package mcp

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookgate/hookgate/gateway"
)

// How much of an event's data a tool result carries inline: a larger payload is cut to a
// preview and the result names the resource that has it whole.
const (
	maxDataInList   = 2 << 10  // per event in list_events
	maxDataInResult = 32 << 10 // in get_event and await_event
	previewBytes    = 1 << 10
)

// eventView is an event as a tool returns it: the stored event's wire form (as GET
// /v1/events/{id} writes it), with data cut when it is large.
type eventView struct {
	ID            string          `json:"id"`
	Type          string          `json:"type"`
	Source        string          `json:"source,omitempty"`
	SourceEventID string          `json:"source_event_id,omitempty"`
	Created       string          `json:"created" jsonschema:"RFC 3339, UTC, milliseconds"`
	Data          json.RawMessage `json:"data" jsonschema:"The event's data; null when it was too large to include (see data_cut)"`
	ReceivedAt    string          `json:"received_at"`
	DeliveryIDs   []string        `json:"delivery_ids" jsonschema:"Ids of the deliveries the event fanned out to"`
	DataCut       *dataCut        `json:"data_cut,omitempty" jsonschema:"Set when data was too large to include: read resource to get the whole event"`
}

// dataCut says an event's data was left out of a result and where to read it.
type dataCut struct {
	Bytes    int    `json:"bytes" jsonschema:"Size of the data, serialized"`
	Preview  string `json:"preview" jsonschema:"The start of the data as JSON text"`
	Resource string `json:"resource" jsonschema:"URI of the whole event (resources/read)"`
}

// eventURI is the resource that holds an event whole.
func eventURI(id string) string { return "hookgate://events/" + id }

// deliveryURI is the resource that holds a delivery whole.
func deliveryURI(id string) string { return "hookgate://deliveries/" + id }

// viewEvent returns ev with its data cut to a preview when it is over max bytes.
func viewEvent(ev *gateway.StoredEvent, max int) *eventView {
	v := &eventView{ID: ev.ID, Type: ev.Type, Source: ev.Source, SourceEventID: ev.SourceEventID,
		Created: ev.Created.UTC().Format(gateway.TimeFormat), ReceivedAt: ev.ReceivedAt.UTC().Format(gateway.TimeFormat),
		Data: ev.Data, DeliveryIDs: append([]string{}, ev.Deliveries...)}
	if len(v.Data) == 0 {
		v.Data = json.RawMessage("null")
	}
	if len(v.Data) > max {
		v.DataCut = &dataCut{Bytes: len(v.Data), Preview: cutUTF8(string(v.Data), previewBytes), Resource: eventURI(ev.ID)}
		v.Data = json.RawMessage("null")
	}
	return v
}

// cutUTF8 returns the first n bytes of s, or fewer so as not to split a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// cutNote is the sentence a bounded result ends with.
func cutNote(what string) string {
	return fmt.Sprintf("(cut: %s, to keep this result under %d KB)", what, maxResultBytes/1000)
}

// deliveryView is a delivery as a list shows it: its newest attempts only.
type deliveryView struct {
	gateway.Delivery
	AttemptsTotal int `json:"attempts_total" jsonschema:"How many attempts were made; attempts lists the newest few (get_delivery has them all)"`
}

// attemptsInList is how many attempts a delivery carries in a list.
const attemptsInList = 3

func viewDelivery(d *gateway.Delivery, keep int) *deliveryView {
	v := &deliveryView{Delivery: *d, AttemptsTotal: len(d.Attempts)}
	if v.Attempts == nil {
		v.Attempts = []gateway.Attempt{}
	}
	if len(v.Attempts) > keep {
		v.Attempts = v.Attempts[len(v.Attempts)-keep:]
	}
	return v
}

func (v *deliveryView) line() string {
	last := "no attempt yet"
	if n := len(v.Attempts); n > 0 {
		a := v.Attempts[n-1]
		last = fmt.Sprintf("last attempt %s: HTTP %d", a.At.Format(time.RFC3339), a.StatusCode)
		if a.Error != "" {
			last += " " + a.Error
		}
	}
	return fmt.Sprintf("%s %s %s → %s, %d attempt(s), %s", v.ID, v.Status, v.EventType, v.EndpointID, v.AttemptsTotal, last)
}

// lines joins up to 10 lines of a list summary, saying how many more there are.
func lines[T any](items []T, line func(T) string) string {
	var b strings.Builder
	for i, it := range items {
		if i == 10 {
			fmt.Fprintf(&b, "\n… and %d more (see the structured result)", len(items)-10)
			break
		}
		b.WriteString("\n" + line(it))
	}
	return b.String()
}

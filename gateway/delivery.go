package gateway

import "time"

// DeliveryStatus is where a delivery stands.
type DeliveryStatus string

// The delivery statuses.
const (
	// StatusPending: waiting for its next attempt (the first one included).
	StatusPending DeliveryStatus = "pending"
	// StatusPaused: its endpoint is disabled; it is kept and sent when the endpoint is re-enabled.
	StatusPaused DeliveryStatus = "paused"
	// StatusSucceeded: an attempt got a 2xx.
	StatusSucceeded DeliveryStatus = "succeeded"
	// StatusFailed: the retry schedule ran out (or the endpoint answered 410).
	StatusFailed DeliveryStatus = "failed"
	// StatusCanceled: the endpoint was deleted or its paused deliveries discarded.
	StatusCanceled DeliveryStatus = "canceled"
)

// valid reports whether s names a status.
func (s DeliveryStatus) valid() bool {
	switch s {
	case StatusPending, StatusPaused, StatusSucceeded, StatusFailed, StatusCanceled:
		return true
	}
	return false
}

// Delivery is one event on its way to one endpoint, with every attempt made so far.
type Delivery struct {
	ID            string         `json:"id"`
	EventID       string         `json:"event_id"`
	EndpointID    string         `json:"endpoint_id"`
	EventType     string         `json:"event_type"`
	Status        DeliveryStatus `json:"status"`
	Attempts      []Attempt      `json:"attempts"`
	NextAttemptAt *time.Time     `json:"next_attempt_at"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
	// Step is the position in the retry schedule of the next automatic attempt.
	Step int `json:"step"`
	// Rev is the record's revision in the store, for compare-and-swap (see Deliveries).
	Rev uint64 `json:"-"`
}

// Attempt is one try at sending a delivery: the request body sent and what the endpoint
// answered.
type Attempt struct {
	At           time.Time `json:"at"`
	StatusCode   int       `json:"status_code"`
	DurationMS   int64     `json:"duration_ms"`
	Error        string    `json:"error,omitempty"`
	ResponseBody string    `json:"response_body,omitempty"`
	// RequestBody is the body the attempt sent, byte for byte as the kind's Sender wrote it
	// (a webhook's envelope or mapped payload, Slack's {"text":…}, Telegram's sendMessage),
	// cut at MaxRequestBody bytes; RequestBytes is its whole length. Both are empty when no
	// request was made (the mapping or the template failed, the URL was refused). A retry
	// sends the same body unless the endpoint was edited in between; its signature is made
	// afresh (a new webhook-timestamp), in headers that are not recorded.
	//
	// When the body sent was the event's envelope unchanged (a webhook without a mapping,
	// the common case), the store keeps RequestEnvelope instead of a second copy of the
	// event, which would double what every completed delivery writes; GetDelivery fills
	// RequestBody from the event, so a reader sees the same either way. Lists of deliveries
	// leave it empty then, with RequestEnvelope set.
	RequestBody     string `json:"request_body,omitempty"`
	RequestBytes    int    `json:"request_bytes,omitempty"`
	RequestEnvelope bool   `json:"request_envelope,omitempty"`
}

// MaxResponseBody is how much of an endpoint's answer an Attempt keeps.
const MaxResponseBody = 4 << 10

// MaxRequestBody is how much of the body sent an Attempt keeps.
const MaxRequestBody = 8 << 10

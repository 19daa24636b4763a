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

// Attempt is one try at sending a delivery and what the endpoint answered.
type Attempt struct {
	At           time.Time `json:"at"`
	StatusCode   int       `json:"status_code"`
	DurationMS   int64     `json:"duration_ms"`
	Error        string    `json:"error,omitempty"`
	ResponseBody string    `json:"response_body,omitempty"`
}

// MaxResponseBody is how much of an endpoint's answer an Attempt keeps.
const MaxResponseBody = 4 << 10

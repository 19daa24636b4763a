package gateway

import (
	"context"
	"errors"
	"time"
)

// Message is everything a Sender needs for one attempt.
type Message struct {
	// Delivery is the delivery being attempted; Delivery.ID goes into X-Hookgate-Delivery.
	Delivery *Delivery
	// Endpoint is the target: URL, kind, extra headers and signing secrets.
	Endpoint *Endpoint
	// Event is the event being delivered; Body is its envelope as bytes.
	Event *Event
	Body  []byte
	// Seq is the event's place in the event log (a cursor, for kinds that send one).
	Seq Seq
	// Attempt counts from 1.
	Attempt int
	// Now is the time the attempt is made, for signing.
	Now time.Time
}

// A Sender makes one attempt to deliver a Message and reports what the target answered.
// It never retries and never decides policy: the Dispatcher alone decides whether to retry,
// give up or disable the endpoint, from the Outcome. Send must return when ctx is done;
// ctx carries the per-attempt timeout.
type Sender interface {
	Send(ctx context.Context, m *Message) Outcome
}

// Outcome is what one attempt produced.
//
//   - StatusCode is the HTTP status the target answered, 0 when no answer came (Err set).
//   - Body is at most the first MaxResponseBody bytes of the answer.
//   - RetryAfter is the target's Retry-After, when it sent one (429, 503), else 0.
//   - Err is a transport-level failure (dial, TLS, timeout, a refused address) or a failure
//     to build the request; it must not contain secrets such as catch-hook URL tokens.
//   - Sent is the request body the attempt sent (or began to send when Err is a transport
//     failure), exactly as the kind wrote it; nil when no request was made. The dispatcher
//     records it on the Attempt (see Attempt.RequestBody). It must hold no credential a
//     kind keeps out of the body's sight (a bot token in the path, an API key header).
type Outcome struct {
	StatusCode int
	Body       []byte
	RetryAfter time.Duration
	Err        error
	Sent       []byte
}

// SenderFunc adapts a function to the Sender interface.
type SenderFunc func(ctx context.Context, m *Message) Outcome

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, m *Message) Outcome { return f(ctx, m) }

// verdict is what the dispatcher does after an attempt.
type verdict int

const (
	verdictSuccess verdict = iota // 2xx: done
	verdictRetry                  // try again at the next step (or at Retry-After)
	verdictGone                   // 410: the subscriber is gone; disable the endpoint
	verdictFinal                  // 413 or ErrUndeliverable: sending again can't help; give up now
)

// classify is the one place that maps an Outcome to what happens next.
func classify(o Outcome) verdict {
	switch {
	case errors.Is(o.Err, ErrUndeliverable):
		return verdictFinal
	case o.Err != nil:
		return verdictRetry
	case o.StatusCode >= 200 && o.StatusCode < 300:
		return verdictSuccess
	case o.StatusCode == 410:
		return verdictGone
	case o.StatusCode == 413:
		return verdictFinal
	default:
		return verdictRetry
	}
}

package gateway

import (
	"errors"
	"fmt"
)

// Sentinel errors the Service returns; callers test them with errors.Is.
var (
	// ErrNotFound means the named record (endpoint, event, delivery) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the request clashes with the current state of a record.
	ErrConflict = errors.New("conflict")
	// ErrEndpointDisabled means the endpoint is disabled and the operation needs it enabled.
	ErrEndpointDisabled = errors.New("endpoint disabled")
	// ErrClosed means the Service has been stopped (its store is closed).
	ErrClosed = errors.New("gateway closed")
	// ErrUnavailable means the store cannot be reached for now (a shared backend lost its
	// connection); the call may be retried, and the API answers 503 store_unavailable.
	ErrUnavailable = errors.New("store unavailable")
	// ErrTooLarge means a write (an event with its fan-out, a record) is too large for the
	// store to keep in one piece.
	ErrTooLarge = errors.New("too large for the store")
	// ErrMalformed means a request's JSON is not well-formed JSON text (RFC 8259), such as a
	// string that is not valid UTF-8. It comes wrapped in a *ValidationError naming the field;
	// the API answers it 400 rather than 422.
	ErrMalformed = errors.New("malformed JSON")
)

// ValidationError reports a field of a request that fails validation. Field is a dotted
// path or JSON pointer naming the field ("url", "events[1]", "/data/views"); Message says
// what is wrong in words a user can act on. Err, when set, is the underlying cause.
type ValidationError struct {
	Field   string
	Message string
	Err     error
}

// Error implements error.
func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

// Unwrap returns the underlying cause, if any.
func (e *ValidationError) Unwrap() error { return e.Err }

// invalid builds a *ValidationError.
func invalid(field, format string, args ...any) *ValidationError {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

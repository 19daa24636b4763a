package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/hookgate/hookgate/gateway"
)

// Error codes: stable strings clients can switch on. The status each one goes with is in
// the comment; writeError is the only place that maps errors to them.
const (
	CodeMalformedJSON    = "malformed_json"     // 400: the body is not JSON (or not UTF-8; field names where)
	CodeUnauthorized     = "unauthorized"       // 401: no or wrong bearer token
	CodeForbidden        = "forbidden"          // 403: the key or token lacks the scope the message names (field: "scope")
	CodeNotFound         = "not_found"          // 404: no such record or route
	CodeMethodNotAllowed = "method_not_allowed" // 405
	CodeRequestTimeout   = "request_timeout"    // 408: the body did not arrive within the read timeout
	CodeConflict         = "conflict"           // 409: the request clashes with current state
	CodeEndpointDisabled = "endpoint_disabled"  // 409: the endpoint must be enabled first
	CodeBodyTooLarge     = "body_too_large"     // 413: the body is over the limit
	CodeInvalidField     = "invalid_field"      // 422: a field fails validation; field names it
	CodeUnavailable      = "unavailable"        // 503: shutting down, or too busy reading; see Retry-After
	CodeBusy             = "busy"               // 503: deliveries are behind publishing; see Retry-After
	CodeStoreUnavailable = "store_unavailable"  // 503: the store (a NATS cluster) cannot be reached now; see Retry-After
	CodeStorageFull      = "storage_full"       // 507: the data volume is below the free-space watermark
	CodeInternal         = "internal"           // 500: a bug or a disk failure; never bad input
)

// errorBody is the JSON every error answer carries.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// httpError is an error with its answer already decided (decode failures, auth).
type httpError struct {
	status int
	detail errorDetail
}

func (e *httpError) Error() string { return e.detail.Message }

func fail(status int, code, field, format string, args ...any) *httpError {
	return &httpError{status: status, detail: errorDetail{Code: code, Message: fmt.Sprintf(format, args...), Field: field}}
}

// writeError answers with the status and JSON body for err and aborts the request.
func (s *server) writeError(c *gin.Context, err error) {
	status, d := s.classify(err)
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "1")
	}
	s.logFault(c, status, err)
	c.AbortWithStatusJSON(status, errorBody{Error: d})
}

// logFault logs a request that failed with a 5xx of the server's own making: not a 503
// (shutting down, busy, the store out of reach) or a 507 (storage full), which say what
// state the gateway is in and are answered as such.
func (s *server) logFault(c *gin.Context, status int, err error) {
	if status >= 500 && status != http.StatusServiceUnavailable && status != http.StatusInsufficientStorage {
		s.log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err)
	}
}

func (s *server) classify(err error) (int, errorDetail) {
	var (
		he *httpError
		ve *gateway.ValidationError
		fe *gateway.ForbiddenError
		oe *gateway.OAuthError
	)
	switch {
	case errors.As(err, &he):
		return he.status, he.detail
	case errors.As(err, &fe):
		return http.StatusForbidden, errorDetail{Code: CodeForbidden, Message: fe.Error(), Field: "scope"}
	case errors.Is(err, gateway.ErrUnauthenticated):
		return http.StatusUnauthorized, errorDetail{Code: CodeUnauthorized, Message: err.Error()}
	case errors.As(err, &oe):
		return http.StatusBadRequest, errorDetail{Code: CodeInvalidField, Message: oe.Error()}
	case errors.As(err, &ve) && errors.Is(ve, gateway.ErrMalformed):
		return http.StatusBadRequest, errorDetail{Code: CodeMalformedJSON, Message: ve.Error(), Field: ve.Field}
	case errors.As(err, &ve):
		return http.StatusUnprocessableEntity, errorDetail{Code: CodeInvalidField, Message: ve.Error(), Field: ve.Field}
	case errors.Is(err, gateway.ErrUnverified):
		return http.StatusUnauthorized, errorDetail{Code: CodeInvalidSignature, Message: err.Error()}
	case errors.Is(err, gateway.ErrNotFound):
		return http.StatusNotFound, errorDetail{Code: CodeNotFound, Message: err.Error()}
	case errors.Is(err, gateway.ErrEndpointDisabled):
		return http.StatusConflict, errorDetail{Code: CodeEndpointDisabled, Message: err.Error()}
	case errors.Is(err, gateway.ErrConflict):
		return http.StatusConflict, errorDetail{Code: CodeConflict, Message: err.Error()}
	case errors.Is(err, gateway.ErrStorageFull):
		return http.StatusInsufficientStorage, errorDetail{Code: CodeStorageFull, Message: err.Error()}
	case errors.Is(err, gateway.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, errorDetail{Code: CodeBodyTooLarge, Message: err.Error()}
	case errors.Is(err, gateway.ErrBusy):
		return http.StatusServiceUnavailable, errorDetail{Code: CodeBusy, Message: err.Error() + "; retry after Retry-After"}
	case errors.Is(err, gateway.ErrUnavailable):
		return http.StatusServiceUnavailable, errorDetail{Code: CodeStoreUnavailable, Message: "the store cannot be reached right now; retry shortly: " + err.Error()}
	case errors.Is(err, gateway.ErrClosed), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, errorDetail{Code: CodeUnavailable, Message: "the server is shutting down or the request was canceled; retry"}
	default:
		return http.StatusInternalServerError, errorDetail{Code: CodeInternal, Message: "internal error; see the server log"}
	}
}

// writeOAuthError answers an OAuth endpoint (registration, token, revocation) in the form
// RFC 6749 §5.2 and RFC 7591 §3.2.2 require, which OAuth clients parse:
// {"error":"invalid_grant","error_description":"…"}, 400 (401 for invalid_client). Errors
// that are not OAuth's take the status classify gives them, with the matching OAuth code.
func (s *server) writeOAuthError(c *gin.Context, err error) {
	var oe *gateway.OAuthError
	status, code, desc := http.StatusBadRequest, "invalid_request", ""
	switch {
	case errors.As(err, &oe):
		code, desc = oe.Code, oe.Description
		if code == "invalid_client" {
			status = http.StatusUnauthorized
			c.Header("WWW-Authenticate", `Basic realm="hookgate"`)
		}
	default:
		var d errorDetail
		status, d = s.classify(err)
		desc = d.Message
		s.logFault(c, status, err)
		switch {
		case status == http.StatusUnprocessableEntity:
			status = http.StatusBadRequest
		case status == http.StatusServiceUnavailable || status == http.StatusInsufficientStorage:
			code = "temporarily_unavailable"
		case status >= 500:
			code = "server_error"
		}
	}
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, gin.H{"error": code, "error_description": desc})
}

// bind reads the JSON body into v: at most the server's body limit, one JSON value, no
// unknown fields. Every failure is a 4xx naming what is wrong.
func (s *server) bind(c *gin.Context, v any) error {
	body, err := s.readBody(c)
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}

// readBody reads the raw request body, at most the server's body limit (413 beyond it)
// and within its read timeout (408 past it).
func (s *server) readBody(c *gin.Context) ([]byte, error) {
	body, err := readAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.maxBody), s.presize(c.Request.ContentLength))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fail(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "", "request body is larger than %d bytes", mbe.Limit)
		}
		if isTimeout(err) {
			return nil, fail(http.StatusRequestTimeout, CodeRequestTimeout, "", "the request body did not arrive within %s", s.readTimeout)
		}
		return nil, fail(http.StatusBadRequest, CodeMalformedJSON, "", "could not read the request body: %v", err)
	}
	return body, nil
}

// maxPresize bounds the buffer readBody allocates from a Content-Length before the body
// arrives: a larger body's buffer grows as its bytes come in, so a caller announcing a
// large body and sending it slowly holds no more of the server's memory than it sent.
const maxPresize = 256 << 10

// presize is the buffer readBody starts with for a body of Content-Length n (-1: unknown):
// n bytes and one more, for the read that finds the end, within the body limit (one byte
// over it, for the read that finds it exceeded) and maxPresize. 0 leaves it to readAll.
func (s *server) presize(n int64) int {
	if n <= 0 {
		return 0
	}
	return int(min(n, s.maxBody, maxPresize) + 1)
}

// readAll reads r to its end into a buffer of size bytes to start with (512 when 0),
// grown only if the body is longer; the buffer is not reallocated when the body fits, as
// io.ReadAll's, which starts small and doubles, would (a 16 KiB body cost it ~64 KiB).
func readAll(r io.Reader, size int) ([]byte, error) {
	if size <= 0 {
		size = 512
	}
	b := make([]byte, 0, size)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // full: let append grow it
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// decodeJSON decodes exactly one JSON value with no unknown fields into v, a pointer to a
// zero value. What v holds may share memory with body (see rawValue), which the caller then
// must not write to. Most bodies are decoded where they lie, by json.Unmarshal; any other
// is decoded by a json.Decoder, whose answer is the one given (see decode.go).
func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return fail(http.StatusBadRequest, CodeMalformedJSON, "", "request body is empty; send a JSON object")
	}
	if p, ok := v.(*publishRequest); ok {
		if decodePublish(body, p) {
			return nil
		}
		*p = publishRequest{}
	}
	if json.Unmarshal(body, v) == nil && knownMembers(body, reflect.TypeOf(v)) {
		return nil
	}
	reflect.ValueOf(v).Elem().SetZero()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	// What follows the value decides as dec.More would (a value follows unless the next
	// byte that is not space closes an array or object), but from body: the Decoder's
	// buffer, which v may point into, is not read into again.
	end := int(dec.InputOffset())
	if rest := bytes.TrimLeft(body[end:], " \t\r\n"); len(rest) > 0 && rest[0] != ']' && rest[0] != '}' {
		return fail(http.StatusBadRequest, CodeMalformedJSON, "", "malformed JSON: more than one value in the body")
	}
	// Decode the value again from body itself, so that v points into body, as it does
	// when json.Unmarshal decoded the body, and not into the Decoder's buffer.
	reflect.ValueOf(v).Elem().SetZero()
	if err := json.Unmarshal(body[:end], v); err != nil {
		return fmt.Errorf("decode a value the decoder read: %w", err)
	}
	return nil
}

// decodeError is the answer to a json.Decoder's error: the place of a syntax error, the
// field of a wrong type or unknown member, or the end of input.
func decodeError(err error) error {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &se):
		return fail(http.StatusBadRequest, CodeMalformedJSON, "", "malformed JSON at byte %d: %v", se.Offset, err)
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return fail(http.StatusBadRequest, CodeMalformedJSON, "", "the body must be a JSON object, not %s", te.Value)
		}
		return fail(http.StatusUnprocessableEntity, CodeInvalidField, field, "%s: expected %s, got %s", field, jsonType(te.Type.Kind().String()), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fail(http.StatusUnprocessableEntity, CodeInvalidField, field, "%s: unknown field", field)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fail(http.StatusBadRequest, CodeMalformedJSON, "", "malformed JSON: unexpected end of input")
	default:
		return fail(http.StatusBadRequest, CodeMalformedJSON, "", "malformed JSON: %v", err)
	}
}

// jsonType names a Go kind the way a JSON user would.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct", "ptr":
		return "object"
	case "int", "int64", "int32", "uint", "uint64", "float64", "float32":
		return "number"
	}
	return kind
}

// StatusOf is the HTTP status the API answers err with (404 for gateway.ErrNotFound, 422
// for a *gateway.ValidationError, …; 500 for an error it does not know), for other faces of
// the same Service, such as the dashboard, to answer alike.
func StatusOf(err error) int {
	status, _ := (&server{}).classify(err)
	return status
}

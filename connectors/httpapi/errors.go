package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/hookgate/hookgate/gateway"
)

// Error codes: stable strings clients can switch on. The status each one goes with is in
// the comment; writeError is the only place that maps errors to them.
const (
	CodeMalformedJSON    = "malformed_json"     // 400: the body is not JSON (or not UTF-8; field names where)
	CodeUnauthorized     = "unauthorized"       // 401: no or wrong bearer token
	CodeNotFound         = "not_found"          // 404: no such record or route
	CodeMethodNotAllowed = "method_not_allowed" // 405
	CodeRequestTimeout   = "request_timeout"    // 408: the body did not arrive within the read timeout
	CodeConflict         = "conflict"           // 409: the request clashes with current state
	CodeEndpointDisabled = "endpoint_disabled"  // 409: the endpoint must be enabled first
	CodeBodyTooLarge     = "body_too_large"     // 413: the body is over the limit
	CodeInvalidField     = "invalid_field"      // 422: a field fails validation; field names it
	CodeUnavailable      = "unavailable"        // 503: shutting down, or too busy reading; see Retry-After
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
	if status >= 500 && status != http.StatusServiceUnavailable && status != http.StatusInsufficientStorage {
		s.log.Error("request failed", "method", c.Request.Method, "path", c.FullPath(), "err", err)
	}
	if d.Code == CodeStoreUnavailable {
		c.Header("Retry-After", "1")
	}
	c.AbortWithStatusJSON(status, errorBody{Error: d})
}

func (s *server) classify(err error) (int, errorDetail) {
	var (
		he *httpError
		ve *gateway.ValidationError
	)
	switch {
	case errors.As(err, &he):
		return he.status, he.detail
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
	case errors.Is(err, gateway.ErrUnavailable):
		return http.StatusServiceUnavailable, errorDetail{Code: CodeStoreUnavailable, Message: "the store cannot be reached right now; retry shortly: " + err.Error()}
	case errors.Is(err, gateway.ErrClosed), errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, errorDetail{Code: CodeUnavailable, Message: "the server is shutting down or the request was canceled; retry"}
	default:
		return http.StatusInternalServerError, errorDetail{Code: CodeInternal, Message: "internal error; see the server log"}
	}
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
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.maxBody))
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

// decodeJSON decodes exactly one JSON value with no unknown fields into v.
func decodeJSON(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return fail(http.StatusBadRequest, CodeMalformedJSON, "", "request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
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
	if dec.More() {
		return fail(http.StatusBadRequest, CodeMalformedJSON, "", "malformed JSON: more than one value in the body")
	}
	return nil
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

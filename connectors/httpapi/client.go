package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/schemas"
)

// Client calls a running hookgate over its HTTP API. Its methods have the same signatures
// as *gateway.Service's, so code written against a small interface (the MCP server, the
// CLI) works with a gateway in-process or across the network.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

// NewClient returns a Client for the API at baseURL ("http://127.0.0.1:8080") using the
// bearer token. hc may be nil for a client with a 30 s timeout.
func NewClient(baseURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, hc: hc}
}

// APIError is an error answer of the API.
type APIError struct {
	Status  int
	Code    string
	Message string
	Field   string
}

// Error reads like the server's message, with the status and code.
func (e *APIError) Error() string {
	return fmt.Sprintf("%s (%d %s)", e.Message, e.Status, e.Code)
}

// Unwrap maps the answer to the gateway's sentinel errors, so errors.Is works the same
// against a Client as against a Service.
func (e *APIError) Unwrap() error {
	switch {
	case e.Code == CodeEndpointDisabled:
		return gateway.ErrEndpointDisabled
	case e.Code == CodeStorageFull:
		return gateway.ErrStorageFull
	case e.Status == http.StatusNotFound:
		return gateway.ErrNotFound
	case e.Status == http.StatusConflict:
		return gateway.ErrConflict
	case e.Status == http.StatusUnprocessableEntity:
		return &gateway.ValidationError{Field: e.Field, Message: e.Message}
	}
	return nil
}

// ParseError reads an error answer of the API, status and body: its
// {"error":{"code","message","field"}}, or, for a body that is not one (a proxy's page),
// the code "http_<status>" with the body as the message.
func ParseError(status int, body []byte) *APIError {
	var eb errorBody
	if json.Unmarshal(body, &eb) != nil || eb.Error.Code == "" {
		return &APIError{Status: status, Code: "http_" + strconv.Itoa(status), Message: strings.TrimSpace(string(body))}
	}
	return &APIError{Status: status, Code: eb.Error.Code, Message: eb.Error.Message, Field: eb.Error.Field}
}

// do sends a request with an optional JSON body and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return ParseError(resp.StatusCode, raw)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

func setIf(q url.Values, k, v string) {
	if v != "" {
		q.Set(k, v)
	}
}

func setTime(q url.Values, k string, t time.Time) {
	if !t.IsZero() {
		q.Set(k, t.UTC().Format(time.RFC3339Nano))
	}
}

func setInt(q url.Values, k string, v int) {
	if v > 0 {
		q.Set(k, strconv.Itoa(v))
	}
}

// CreateEndpoint calls POST /v1/endpoints.
func (c *Client) CreateEndpoint(ctx context.Context, in gateway.EndpointInput) (*gateway.Endpoint, string, error) {
	var out EndpointWithSecret
	if err := c.do(ctx, http.MethodPost, "/v1/endpoints", nil, in, &out); err != nil {
		return nil, "", err
	}
	return out.Endpoint, out.Secret, nil
}

// ListEndpoints calls GET /v1/endpoints.
func (c *Client) ListEndpoints(ctx context.Context, f gateway.EndpointFilter) (*gateway.EndpointPage, error) {
	q := url.Values{}
	setIf(q, "event", f.Event)
	setIf(q, "cursor", f.Cursor)
	setInt(q, "limit", f.Limit)
	if f.Enabled != nil {
		q.Set("enabled", strconv.FormatBool(*f.Enabled))
	}
	var out gateway.EndpointPage
	if err := c.do(ctx, http.MethodGet, "/v1/endpoints", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetEndpoint calls GET /v1/endpoints/{id}.
func (c *Client) GetEndpoint(ctx context.Context, id string) (*gateway.Endpoint, error) {
	var out gateway.Endpoint
	if err := c.do(ctx, http.MethodGet, "/v1/endpoints/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateEndpoint calls PATCH /v1/endpoints/{id}.
func (c *Client) UpdateEndpoint(ctx context.Context, id string, p gateway.EndpointPatch) (*gateway.Endpoint, error) {
	var out gateway.Endpoint
	if err := c.do(ctx, http.MethodPatch, "/v1/endpoints/"+url.PathEscape(id), nil, p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteEndpoint calls DELETE /v1/endpoints/{id}.
func (c *Client) DeleteEndpoint(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/endpoints/"+url.PathEscape(id), nil, nil, nil)
}

// TestEndpoint calls POST /v1/endpoints/{id}/test and returns the delivery id.
func (c *Client) TestEndpoint(ctx context.Context, id string) (string, error) {
	var out struct {
		DeliveryID string `json:"delivery_id"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/endpoints/"+url.PathEscape(id)+"/test", nil, nil, &out); err != nil {
		return "", err
	}
	return out.DeliveryID, nil
}

// RotateSecret calls POST /v1/endpoints/{id}/rotate-secret and returns the new secret.
func (c *Client) RotateSecret(ctx context.Context, id string) (string, error) {
	var out struct {
		Secret string `json:"secret"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/endpoints/"+url.PathEscape(id)+"/rotate-secret", nil, nil, &out); err != nil {
		return "", err
	}
	return out.Secret, nil
}

// ListDeliveries calls GET /v1/endpoints/{id}/deliveries, or GET /v1/deliveries (every
// endpoint's) when endpointID is empty.
func (c *Client) ListDeliveries(ctx context.Context, endpointID string, f gateway.DeliveryFilter) (*gateway.DeliveryPage, error) {
	q := url.Values{}
	setIf(q, "status", string(f.Status))
	setIf(q, "type", f.Type)
	setTime(q, "since", f.Since)
	setTime(q, "until", f.Until)
	setIf(q, "cursor", f.Cursor)
	setInt(q, "limit", f.Limit)
	path := "/v1/deliveries"
	if endpointID != "" {
		path = "/v1/endpoints/" + url.PathEscape(endpointID) + "/deliveries"
	}
	var out gateway.DeliveryPage
	if err := c.do(ctx, http.MethodGet, path, q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Stats calls GET /v1/stats; a zero since is the server's default, the last hour.
func (c *Client) Stats(ctx context.Context, since time.Time) (*gateway.Stats, error) {
	q := url.Values{}
	setTime(q, "since", since)
	var out gateway.Stats
	if err := c.do(ctx, http.MethodGet, "/v1/stats", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ReplayEndpoint calls POST /v1/endpoints/{id}/replay and returns how many were queued.
func (c *Client) ReplayEndpoint(ctx context.Context, id string, since time.Time, status gateway.DeliveryStatus) (int, error) {
	in := map[string]any{"since": since.UTC().Format(time.RFC3339Nano)}
	if status != "" {
		in["status"] = status
	}
	var out struct {
		Count int `json:"count"`
	}
	if err := c.do(ctx, http.MethodPost, "/v1/endpoints/"+url.PathEscape(id)+"/replay", nil, in, &out); err != nil {
		return 0, err
	}
	return out.Count, nil
}

// Publish calls POST /v1/events.
func (c *Client) Publish(ctx context.Context, in gateway.PublishInput) (*gateway.PublishResult, error) {
	body := map[string]any{"type": in.Type, "data": in.Data}
	setAny := func(k, v string) {
		if v != "" {
			body[k] = v
		}
	}
	setAny("id", in.ID)
	setAny("source", in.Source)
	if !in.Created.IsZero() {
		body["created"] = in.Created.UTC().Format(time.RFC3339Nano)
	}
	if !in.DeliverAt.IsZero() {
		body["deliver_at"] = in.DeliverAt.UTC().Format(time.RFC3339Nano)
	}
	if len(in.Data) == 0 {
		delete(body, "data")
	}
	var out gateway.PublishResult
	if err := c.do(ctx, http.MethodPost, "/v1/events", nil, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListEvents calls GET /v1/events.
func (c *Client) ListEvents(ctx context.Context, f gateway.EventFilter) (*gateway.EventPage, error) {
	return c.WaitEvents(ctx, f, 0)
}

// WaitEvents calls GET /v1/events with wait: the gateway answers as soon as an event
// matches, or with an empty page when wait ends (see gateway.Service.WaitEvents). wait is
// cut to stay under the Client's own timeout.
func (c *Client) WaitEvents(ctx context.Context, f gateway.EventFilter, wait time.Duration) (*gateway.EventPage, error) {
	if t := c.hc.Timeout; t > 0 && wait > t-5*time.Second {
		wait = max(t-5*time.Second, t/2)
	}
	q := url.Values{}
	if wait > 0 {
		q.Set("wait", wait.String())
	}
	setIf(q, "type", f.Type)
	setIf(q, "source", f.Source)
	setIf(q, "after", f.After)
	setInt(q, "limit", f.Limit)
	if !f.Since.IsZero() {
		q.Set("since", f.Since.UTC().Format(time.RFC3339Nano))
	}
	if f.Newest {
		q.Set("order", "newest")
	}
	var out gateway.EventPage
	if err := c.do(ctx, http.MethodGet, "/v1/events", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetEvent calls GET /v1/events/{id}.
func (c *Client) GetEvent(ctx context.Context, id string) (*gateway.StoredEvent, []*gateway.Delivery, error) {
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/v1/events/"+url.PathEscape(id), nil, nil, &raw); err != nil {
		return nil, nil, err
	}
	var ev gateway.StoredEvent
	var dl struct {
		Deliveries []*gateway.Delivery `json:"deliveries"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		return nil, nil, fmt.Errorf("decode event: %w", err)
	}
	if err := json.Unmarshal(raw, &dl); err != nil {
		return nil, nil, fmt.Errorf("decode event deliveries: %w", err)
	}
	return &ev, dl.Deliveries, nil
}

// GetDelivery calls GET /v1/deliveries/{id}.
func (c *Client) GetDelivery(ctx context.Context, id string) (*gateway.Delivery, error) {
	var out gateway.Delivery
	if err := c.do(ctx, http.MethodGet, "/v1/deliveries/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RetryDelivery calls POST /v1/deliveries/{id}/retry.
func (c *Client) RetryDelivery(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/v1/deliveries/"+url.PathEscape(id)+"/retry", nil, nil, nil)
}

// ListEventTypes calls GET /v1/event-types (the list has no schemas; GetEventType has).
func (c *Client) ListEventTypes(ctx context.Context, provider string) ([]*schemas.Type, error) {
	q := url.Values{}
	setIf(q, "provider", provider)
	var out struct {
		Data []*schemas.Type `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/event-types", q, nil, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// GetEventType calls GET /v1/event-types/{name}.
func (c *Client) GetEventType(ctx context.Context, name, provider string) (*schemas.Type, error) {
	q := url.Values{}
	setIf(q, "provider", provider)
	var out schemas.Type
	if err := c.do(ctx, http.MethodGet, "/v1/event-types/"+url.PathEscape(name), q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ExportEventType calls GET /v1/event-types/{name}/schema?format=.
func (c *Client) ExportEventType(ctx context.Context, name, provider, format string) (json.RawMessage, error) {
	q := url.Values{}
	setIf(q, "provider", provider)
	setIf(q, "format", format)
	var out json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/v1/event-types/"+url.PathEscape(name)+"/schema", q, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// AddEventType calls POST /v1/event-types.
func (c *Client) AddEventType(ctx context.Context, in gateway.EventTypeInput) (*schemas.Type, error) {
	var out schemas.Type
	if err := c.do(ctx, http.MethodPost, "/v1/event-types", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteEventType calls DELETE /v1/event-types/{name}.
func (c *Client) DeleteEventType(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, "/v1/event-types/"+url.PathEscape(name), nil, nil, nil)
}

// OpenAPI calls GET /v1/openapi.json.
func (c *Client) OpenAPI(ctx context.Context) (json.RawMessage, error) {
	var out json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/v1/openapi.json", nil, nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// CreateSource calls POST /v1/sources.
func (c *Client) CreateSource(ctx context.Context, in gateway.SourceInput) (*gateway.Source, error) {
	var out gateway.Source
	if err := c.do(ctx, http.MethodPost, "/v1/sources", nil, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListSources calls GET /v1/sources.
func (c *Client) ListSources(ctx context.Context) ([]*gateway.Source, error) {
	var out struct {
		Data []*gateway.Source `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/sources", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// GetSource calls GET /v1/sources/{id}.
func (c *Client) GetSource(ctx context.Context, id string) (*gateway.Source, error) {
	var out gateway.Source
	if err := c.do(ctx, http.MethodGet, "/v1/sources/"+url.PathEscape(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SourceURL calls GET /v1/sources/{id}/url: the whole catch-hook URL, token included.
func (c *Client) SourceURL(ctx context.Context, id string) (string, error) {
	var out struct {
		URL string `json:"url"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/sources/"+url.PathEscape(id)+"/url", nil, nil, &out); err != nil {
		return "", err
	}
	return out.URL, nil
}

// UpdateSource calls PATCH /v1/sources/{id}.
func (c *Client) UpdateSource(ctx context.Context, id string, p gateway.SourcePatch) (*gateway.Source, error) {
	var out gateway.Source
	if err := c.do(ctx, http.MethodPatch, "/v1/sources/"+url.PathEscape(id), nil, p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteSource calls DELETE /v1/sources/{id}.
func (c *Client) DeleteSource(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/sources/"+url.PathEscape(id), nil, nil, nil)
}

// ListSourceRequests calls GET /v1/sources/{id}/requests.
func (c *Client) ListSourceRequests(ctx context.Context, id string, limit int) ([]SourceRequest, error) {
	q := url.Values{}
	setInt(q, "limit", limit)
	var out struct {
		Data []SourceRequest `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/sources/"+url.PathEscape(id)+"/requests", q, nil, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// CreateKey calls POST /v1/keys: the key as listed, and the key itself (shown once).
func (c *Client) CreateKey(ctx context.Context, in gateway.KeyInput) (*gateway.KeyInfo, string, error) {
	var out KeyWithSecret
	if err := c.do(ctx, http.MethodPost, "/v1/keys", nil, in, &out); err != nil {
		return nil, "", err
	}
	return out.KeyInfo, out.Key, nil
}

// ListKeys calls GET /v1/keys.
func (c *Client) ListKeys(ctx context.Context) ([]*gateway.KeyInfo, error) {
	var out struct {
		Data []*gateway.KeyInfo `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/keys", nil, nil, &out); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// RevokeKey calls DELETE /v1/keys/{id}.
func (c *Client) RevokeKey(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/keys/"+url.PathEscape(id), nil, nil, nil)
}

package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/hookgate/hookgate/gateway"
)

// EndpointWithSecret is the answer to POST /v1/endpoints: the endpoint's fields plus
// "secret", its signing secret, shown once. It is not a struct embedding the endpoint:
// gateway.Endpoint (un)marshals itself (its kind's settings sit inline), which would hide
// the secret.
type EndpointWithSecret struct {
	Endpoint *gateway.Endpoint
	Secret   string
}

// MarshalJSON writes the endpoint's JSON with "secret" added.
func (e EndpointWithSecret) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(e.Endpoint)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m["secret"], err = json.Marshal(e.Secret); err != nil {
		return nil, err
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads the endpoint and its "secret".
func (e *EndpointWithSecret) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	if s, ok := m["secret"]; ok {
		if err := json.Unmarshal(s, &e.Secret); err != nil {
			return fmt.Errorf("secret: %w", err)
		}
		delete(m, "secret")
	}
	rest, err := json.Marshal(m)
	if err != nil {
		return err
	}
	e.Endpoint = &gateway.Endpoint{}
	return json.Unmarshal(rest, e.Endpoint)
}

func (s *server) createEndpoint(c *gin.Context) {
	var in gateway.EndpointInput
	if err := s.bind(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	ep, secret, err := s.svc.CreateEndpoint(c.Request.Context(), in)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, EndpointWithSecret{Endpoint: ep, Secret: secret})
}

func (s *server) listEndpoints(c *gin.Context) {
	limit, err := queryInt(c, "limit")
	if err != nil {
		s.writeError(c, err)
		return
	}
	enabled, err := queryBool(c, "enabled")
	if err != nil {
		s.writeError(c, err)
		return
	}
	page, err := s.svc.ListEndpoints(c.Request.Context(), gateway.EndpointFilter{Event: c.Query("event"), Enabled: enabled, Limit: limit, Cursor: c.Query("cursor")})
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

func (s *server) getEndpoint(c *gin.Context) {
	ep, err := s.svc.GetEndpoint(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, ep)
}

func (s *server) updateEndpoint(c *gin.Context) {
	var p gateway.EndpointPatch
	if err := s.bind(c, &p); err != nil {
		s.writeError(c, err)
		return
	}
	ep, err := s.svc.UpdateEndpoint(c.Request.Context(), c.Param("id"), p)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, ep)
}

func (s *server) deleteEndpoint(c *gin.Context) {
	if err := s.svc.DeleteEndpoint(c.Request.Context(), c.Param("id")); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) testEndpoint(c *gin.Context) {
	id, err := s.svc.TestEndpoint(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"delivery_id": id})
}

func (s *server) rotateSecret(c *gin.Context) {
	secret, err := s.svc.RotateSecret(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"secret": secret})
}

// listDeliveries answers GET /v1/endpoints/{id}/deliveries (one endpoint's) and
// GET /v1/deliveries (every endpoint's, or the endpoint query parameter's).
func (s *server) listDeliveries(c *gin.Context) {
	limit, err := queryInt(c, "limit")
	if err != nil {
		s.writeError(c, err)
		return
	}
	since, err := s.querySince(c, "since")
	if err != nil {
		s.writeError(c, err)
		return
	}
	until, err := s.querySince(c, "until")
	if err != nil {
		s.writeError(c, err)
		return
	}
	endpoint := c.Param("id")
	if endpoint == "" {
		endpoint = c.Query("endpoint")
	}
	f := gateway.DeliveryFilter{Status: gateway.DeliveryStatus(c.Query("status")), Type: c.Query("type"), Since: since, Until: until, Limit: limit, Cursor: c.Query("cursor")}
	page, err := s.svc.ListDeliveries(c.Request.Context(), endpoint, f)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

// stats answers GET /v1/stats?since=1h.
func (s *server) stats(c *gin.Context) {
	since, err := s.querySince(c, "since")
	if err != nil {
		s.writeError(c, err)
		return
	}
	st, err := s.svc.Stats(c.Request.Context(), since)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, st)
}

// replayRequest is the body of POST /v1/endpoints/{id}/replay.
type replayRequest struct {
	Since  string                 `json:"since"`
	Status gateway.DeliveryStatus `json:"status"`
}

func (s *server) replay(c *gin.Context) {
	var in replayRequest
	if err := s.bind(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	if in.Since == "" {
		s.writeError(c, fail(http.StatusUnprocessableEntity, CodeInvalidField, "since", "since: is required (an RFC 3339 time)"))
		return
	}
	since, err := parseTime("since", in.Since)
	if err != nil {
		s.writeError(c, err)
		return
	}
	n, err := s.svc.ReplayEndpoint(c.Request.Context(), c.Param("id"), since, in.Status)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"count": n})
}

// publishRequest is the body of POST /v1/events.
type publishRequest struct {
	Type      string   `json:"type"`
	Data      rawValue `json:"data"`
	ID        string   `json:"id"`
	Source    string   `json:"source"`
	Created   string   `json:"created"`
	DeliverAt string   `json:"deliver_at"`
}

func (s *server) publish(c *gin.Context) {
	var in publishRequest
	if err := s.bind(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	pin := gateway.PublishInput{Type: in.Type, Data: []byte(in.Data), ID: in.ID, Source: in.Source}
	var err error
	if pin.Created, err = parseTime("created", in.Created); err != nil {
		s.writeError(c, err)
		return
	}
	if pin.DeliverAt, err = parseTime("deliver_at", in.DeliverAt); err != nil {
		s.writeError(c, err)
		return
	}
	res, err := s.svc.Publish(c.Request.Context(), pin)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if res.Duplicate {
		c.JSON(http.StatusOK, gin.H{"id": res.ID, "duplicate": true})
		return
	}
	c.JSON(http.StatusAccepted, accepted{Deliveries: res.Deliveries, ID: res.ID, Warnings: res.Warnings})
}

// accepted is the answer to a publish that stored its event: a struct rather than a map,
// which encoding/json encodes without sorting keys (the fields are in the order the map's
// keys were, so the bytes are the same).
type accepted struct {
	Deliveries int      `json:"deliveries"`
	ID         string   `json:"id"`
	Warnings   []string `json:"warnings,omitempty"`
}

func (s *server) listEvents(c *gin.Context) {
	limit, err := queryInt(c, "limit")
	if err != nil {
		s.writeError(c, err)
		return
	}
	since, err := s.querySince(c, "since")
	if err != nil {
		s.writeError(c, err)
		return
	}
	f := gateway.EventFilter{Type: c.Query("type"), Source: c.Query("source"), After: c.Query("after"), Since: since, Limit: limit}
	switch c.Query("order") {
	case "", "oldest":
	case "newest":
		f.Newest = true
	default:
		s.writeError(c, fail(http.StatusUnprocessableEntity, CodeInvalidField, "order", "order: must be oldest (default) or newest"))
		return
	}
	wait, err := queryWait(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if wait > 0 && f.Newest {
		s.writeError(c, fail(http.StatusUnprocessableEntity, CodeInvalidField, "wait", "wait: only with order=oldest (waiting is for events after a cursor)"))
		return
	}
	page, err := s.svc.WaitEvents(c.Request.Context(), f, wait)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, page)
}

// eventWithDeliveries is the answer to GET /v1/events/{id}: the event's own JSON with its
// deliveries added.
type eventWithDeliveries struct {
	StoredEvent *gateway.StoredEvent
	Deliveries  []*gateway.Delivery
}

// MarshalJSON merges the deliveries into the event object.
func (e eventWithDeliveries) MarshalJSON() ([]byte, error) {
	ev, err := json.Marshal(e.StoredEvent)
	if err != nil {
		return nil, err
	}
	dls, err := json.Marshal(e.Deliveries)
	if err != nil {
		return nil, err
	}
	out := append(ev[:len(ev)-1:len(ev)-1], `,"deliveries":`...)
	out = append(out, dls...)
	return append(out, '}'), nil
}

func (s *server) getEvent(c *gin.Context) {
	ev, dls, err := s.svc.GetEvent(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	if dls == nil {
		dls = []*gateway.Delivery{}
	}
	c.JSON(http.StatusOK, eventWithDeliveries{StoredEvent: ev, Deliveries: dls})
}

func (s *server) getDelivery(c *gin.Context) {
	d, err := s.svc.GetDelivery(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

func (s *server) retryDelivery(c *gin.Context) {
	id := c.Param("id")
	if err := s.svc.RetryDelivery(c.Request.Context(), id); err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"id": id, "status": gateway.StatusPending})
}

// rawValue keeps any JSON value as raw bytes, including null (which json.RawMessage
// cannot tell apart from absent), without copying them: it is only decoded by decodeJSON,
// whose result shares the request body, which json.Unmarshal hands to UnmarshalJSON in
// place and which nothing writes to once read. (That is what spares a publish a copy of
// its payload; gateway.Service.Publish copies it into the store.)
type rawValue []byte

// UnmarshalJSON keeps b.
func (v *rawValue) UnmarshalJSON(b []byte) error {
	*v = b
	return nil
}

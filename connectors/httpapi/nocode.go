package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/hookgate/hookgate/gateway"
)

// REST hooks, the way Zapier's (and Make's) triggers subscribe: POST a hook URL and an event
// to subscribe, DELETE the returned id to unsubscribe, and GET samples for the editor.

type restHookRequest struct {
	HookURL string `json:"hookUrl"`
	Event   string `json:"event"`
	// Source optionally limits the subscription to events from one source.
	Source string `json:"source,omitempty"`
	// Settings are the other keys of the request: the kind's settings, such as Make's
	// api_key, passed on as they are for the kind to check (see gateway.DecodeSettings).
	Settings json.RawMessage `json:"-"`
}

// UnmarshalJSON reads the request's fields and gathers every other key into Settings.
func (r *restHookRequest) UnmarshalJSON(b []byte) error {
	type plain restHookRequest
	var (
		p plain
		m map[string]json.RawMessage
	)
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*r = restHookRequest(p)
	for _, k := range []string{"hookUrl", "event", "source"} {
		delete(m, k)
	}
	if len(m) > 0 {
		st, err := json.Marshal(m)
		if err != nil {
			return err
		}
		r.Settings = st
	}
	return nil
}

// subscribe returns the handler that creates an endpoint of kind for a REST-hook subscription.
func (s *server) subscribe(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in restHookRequest
		if err := s.bind(c, &in); err != nil {
			s.writeError(c, err)
			return
		}
		if in.HookURL == "" {
			s.writeError(c, &gateway.ValidationError{Field: "hookUrl", Message: "is required: the URL the " + kind + " trigger gave you"})
			return
		}
		if in.Event == "" {
			s.writeError(c, &gateway.ValidationError{Field: "event", Message: `is required: an event type ("video.posted"), a pattern ("post.*") or "*"`})
			return
		}
		ep, _, err := s.svc.CreateEndpoint(c.Request.Context(), gateway.EndpointInput{
			URL: in.HookURL, Events: []string{in.Event}, Kind: kind, Source: in.Source,
			Description: kind + " subscription",
			ManagedBy:   kind,
			Settings:    in.Settings,
		})
		var ve *gateway.ValidationError
		if errors.As(err, &ve) && ve.Field == "events[0]" {
			// This request names its one type "event".
			err = &gateway.ValidationError{Field: "event", Message: ve.Message, Err: ve.Err}
		}
		if err != nil {
			s.writeError(c, err)
			return
		}
		c.JSON(http.StatusCreated, gin.H{"id": ep.ID, "event": in.Event, "hookUrl": in.HookURL})
	}
}

// unsubscribe returns the handler that deletes a REST-hook subscription of kind: 200 with
// {"id","deleted":true} when it existed, 204 when it is already gone (a 410 removed it, or
// an earlier unsubscribe), so a platform's unsubscribe never fails.
func (s *server) unsubscribe(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.Param("id")
		deleted, err := s.svc.Unsubscribe(c.Request.Context(), kind, id)
		if err != nil {
			s.writeError(c, err)
			return
		}
		if !deleted {
			c.Status(http.StatusNoContent)
			return
		}
		c.JSON(http.StatusOK, gin.H{"id": id, "deleted": true})
	}
}

// samples answers Zapier's performList: the latest real events of a type, newest first,
// falling back to the catalog's sample when none arrived yet. Always a JSON array.
func (s *server) samples(c *gin.Context) {
	event := c.Query("event")
	if event == "" {
		s.writeError(c, &gateway.ValidationError{Field: "event", Message: "is required: the event type to sample"})
		return
	}
	limit, err := queryInt(c, "limit")
	if err != nil {
		s.writeError(c, err)
		return
	}
	if limit <= 0 {
		limit = 3
	}
	page, err := s.svc.ListEvents(c.Request.Context(), gateway.EventFilter{Type: event, Newest: true, Limit: limit})
	if err != nil {
		s.writeError(c, err)
		return
	}
	out := make([]json.RawMessage, 0, len(page.Data))
	for _, ev := range page.Data {
		out = append(out, ev.Event.Body())
	}
	if len(out) == 0 {
		sample, err := s.svc.ExportEventType(c.Request.Context(), event, "", "sample")
		if err == nil {
			out = append(out, sample)
		}
	}
	c.JSON(http.StatusOK, out)
}

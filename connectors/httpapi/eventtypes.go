package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/schemas"
)

// eventTypeSummary is an event type in a list: everything but the schema.
type eventTypeSummary struct {
	Name        string `json:"name"`
	Provider    string `json:"provider"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Builtin     bool   `json:"builtin"`
}

func summarize(ts []*schemas.Type) []eventTypeSummary {
	out := make([]eventTypeSummary, len(ts))
	for i, t := range ts {
		out[i] = eventTypeSummary{Name: t.Name, Provider: t.Provider, Title: t.Title, Description: t.Description, Builtin: t.Builtin}
	}
	return out
}

func (s *server) listEventTypes(c *gin.Context) {
	ts, err := s.svc.ListEventTypes(c.Request.Context(), c.Query("provider"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": summarize(ts)})
}

func (s *server) getEventType(c *gin.Context) {
	t, err := s.svc.GetEventType(c.Request.Context(), c.Param("name"), c.Query("provider"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, t)
}

func (s *server) addEventType(c *gin.Context) {
	var in gateway.EventTypeInput
	if err := s.bind(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	t, err := s.svc.AddEventType(c.Request.Context(), in)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, t)
}

func (s *server) deleteEventType(c *gin.Context) {
	if err := s.svc.DeleteEventType(c.Request.Context(), c.Param("name")); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *server) exportEventType(c *gin.Context) {
	out, err := s.svc.ExportEventTypeForEndpoint(c.Request.Context(), c.Param("name"), c.Query("provider"), c.Query("format"), c.Query("endpoint"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", out)
}

func (s *server) openapi(c *gin.Context) {
	cat, err := catalogOf(s.svc)
	if err != nil {
		s.writeError(c, err)
		return
	}
	out, err := OpenAPI(cat, s.publicURL(c.Request))
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", out)
}

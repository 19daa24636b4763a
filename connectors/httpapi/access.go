package httpapi

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/hookgate/hookgate/gateway"
)

// routeScopes is the scope each /v1 route needs ("METHOD path" as registered): read for
// lists, gets, awaits and exports; publish for publishing; manage for changing endpoints,
// sources, event types and keys (and what reveals or acts on them: a source's secret URL,
// retries, replays, test sends). authorize reads it for every /v1 request; a route missing
// here needs manage, and TestEveryRouteHasAScope keeps it complete.
var routeScopes = map[string]gateway.Scope{
	"POST /v1/endpoints":                   gateway.ScopeManage,
	"GET /v1/endpoints":                    gateway.ScopeRead,
	"GET /v1/endpoints/:id":                gateway.ScopeRead,
	"PATCH /v1/endpoints/:id":              gateway.ScopeManage,
	"DELETE /v1/endpoints/:id":             gateway.ScopeManage,
	"POST /v1/endpoints/:id/test":          gateway.ScopeManage,
	"POST /v1/endpoints/:id/rotate-secret": gateway.ScopeManage,
	"GET /v1/endpoints/:id/deliveries":     gateway.ScopeRead,
	"POST /v1/endpoints/:id/replay":        gateway.ScopeManage,
	"POST /v1/events":                      gateway.ScopePublish,
	"GET /v1/events":                       gateway.ScopeRead,
	"GET /v1/events/:id":                   gateway.ScopeRead,
	"GET /v1/deliveries":                   gateway.ScopeRead,
	"GET /v1/stats":                        gateway.ScopeRead,
	"GET /v1/deliveries/:id":               gateway.ScopeRead,
	"POST /v1/deliveries/:id/retry":        gateway.ScopeManage,
	"GET /v1/event-types":                  gateway.ScopeRead,
	"POST /v1/event-types":                 gateway.ScopeManage,
	"GET /v1/event-types/:name":            gateway.ScopeRead,
	"DELETE /v1/event-types/:name":         gateway.ScopeManage,
	"GET /v1/event-types/:name/schema":     gateway.ScopeRead,
	"GET /v1/openapi.json":                 gateway.ScopeRead,
	"POST /v1/sources":                     gateway.ScopeManage,
	"GET /v1/sources":                      gateway.ScopeRead,
	"GET /v1/sources/:id":                  gateway.ScopeRead,
	"PATCH /v1/sources/:id":                gateway.ScopeManage,
	"DELETE /v1/sources/:id":               gateway.ScopeManage,
	"GET /v1/sources/:id/requests":         gateway.ScopeRead,
	"GET /v1/sources/:id/url":              gateway.ScopeManage,
	"POST /v1/zapier/hooks":                gateway.ScopeManage,
	"DELETE /v1/zapier/hooks/:id":          gateway.ScopeManage,
	"GET /v1/zapier/samples":               gateway.ScopeRead,
	"POST /v1/make/hooks":                  gateway.ScopeManage,
	"DELETE /v1/make/hooks/:id":            gateway.ScopeManage,
	"GET /v1/make/samples":                 gateway.ScopeRead,
	"POST /v1/keys":                        gateway.ScopeManage,
	"GET /v1/keys":                         gateway.ScopeManage,
	"DELETE /v1/keys/:id":                  gateway.ScopeManage,
}

// KeyWithSecret is the answer to POST /v1/keys: the key as listed plus "key", the key
// itself, shown once.
type KeyWithSecret struct {
	*gateway.KeyInfo
	Key string `json:"key"`
}

func (s *server) createKey(c *gin.Context) {
	var in gateway.KeyInput
	if err := s.bind(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	k, secret, err := s.svc.CreateKey(c.Request.Context(), in)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, KeyWithSecret{KeyInfo: k, Key: secret})
}

func (s *server) listKeys(c *gin.Context) {
	keys, err := s.svc.ListKeys(c.Request.Context())
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": keys})
}

func (s *server) revokeKey(c *gin.Context) {
	if err := s.svc.RevokeKey(c.Request.Context(), c.Param("id")); err != nil {
		s.writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

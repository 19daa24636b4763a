package httpapi

import (
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// Every /v1 route has its scope in routeScopes, and the table names no route that is gone.
func TestEveryRouteHasAScope(t *testing.T) {
	svc := gatewaytest.New(t, gateway.Options{}, nil)
	r := New(Options{Service: svc, Token: "t"}).(*gin.Engine)
	seen := map[string]bool{}
	for _, rt := range r.Routes() {
		if !strings.HasPrefix(rt.Path, "/v1/") {
			continue
		}
		k := rt.Method + " " + rt.Path
		seen[k] = true
		if _, ok := routeScopes[k]; !ok {
			t.Errorf("%s has no scope in routeScopes", k)
		}
	}
	for k := range routeScopes {
		if !seen[k] {
			t.Errorf("routeScopes names %s, which is not a route", k)
		}
	}
}

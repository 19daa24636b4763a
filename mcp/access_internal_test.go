package mcp

import (
	"testing"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/gateway/gatewaytest"
)

// Every tool has its scope in toolScopes, and the table names no tool that is gone.
func TestEveryToolHasAScope(t *testing.T) {
	s := NewServer(gatewaytest.New(t, gateway.Options{}, nil), Options{})
	tools := s.ListTools()
	for name := range tools {
		if _, ok := toolScopes[name]; !ok {
			t.Errorf("tool %s has no scope in toolScopes", name)
		}
	}
	for name := range toolScopes {
		if _, ok := tools[name]; !ok {
			t.Errorf("toolScopes names %s, which is not a tool", name)
		}
	}
	if len(tools) == 0 {
		t.Fatal("no tools")
	}
}

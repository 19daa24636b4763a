package memory_test

import (
	"testing"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/memory"
	"github.com/hookgate/hookgate/queue/queuetest"
)

func TestStore(t *testing.T) {
	queuetest.Run(t, func(*testing.T, string) gateway.Store { return memory.New() }, queuetest.Options{Volatile: true})
}

package memory_test

import (
	"testing"

	"github.com/hookgate/hookgate/queue/memory"
	"github.com/hookgate/hookgate/queue/queuetest"
)

// BenchmarkPublishDeliver is the hot path of a gateway on the memory store: append an event
// with three pending deliveries, lease them, and ack each, over a log that keeps growing.
func BenchmarkPublishDeliver(b *testing.B) {
	st := memory.New()
	defer st.Close()
	queuetest.PublishDeliver(b, st, false)
}

package badger_test

import (
	"testing"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger"
	"github.com/hookgate/hookgate/queue/queuetest"
)

// TestStore runs the storage suite against Badger as configured in production.
func TestStore(t *testing.T) {
	queuetest.Run(t, func(t *testing.T, dir string) gateway.Store { return open(t, dir) })
}

// TestStoreSmallMemory runs the suite with far fewer deliveries held in memory than it
// queues, so that leasing goes through the disk index and its refills.
func TestStoreSmallMemory(t *testing.T) {
	queuetest.Run(t, func(t *testing.T, dir string) gateway.Store { return open(t, dir, badger.Options{MemJobs: 64}) })
}

package jetstream_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"testing"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/jetstream"
	"github.com/hookgate/hookgate/queue/jetstream/jstest"
	"github.com/hookgate/hookgate/queue/queuetest"
)

// quiet is a logger for tests: what Open logs is checked where it matters.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// opener opens a store on url with replicas, one stream per folder the suite gives: dir
// names the store, so a reopen on the same dir finds what the last store wrote.
func opener(url string, replicas int) func(t *testing.T, dir string) gateway.Store {
	return func(t *testing.T, dir string) gateway.Store {
		t.Helper()
		sum := sha256.Sum256([]byte(dir))
		name := "t" + hex.EncodeToString(sum[:8])
		st, err := jetstream.Open(context.Background(), jetstream.Options{URL: url, Replicas: replicas, Stream: name, Subjects: name, Logger: quiet})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return st
	}
}

// suiteOptions: leases are shared by the nodes and outlive a reopen, and the backlog
// subtest queues 5,000 jobs (each write is a round trip to the server and, replicated, its
// peers): BenchmarkLeaseBacklog measures 50,000.
var suiteOptions = queuetest.Options{SharedLeases: true, Backlog: 5_000}

// TestStore runs the storage suite against one embedded nats-server.
func TestStore(t *testing.T) {
	srv := jstest.Start(t)
	queuetest.Run(t, opener(srv.URL(), 1), suiteOptions)
}

// TestStoreCluster runs the storage suite against a 3-server JetStream cluster, the stream
// replicated 3 times.
func TestStoreCluster(t *testing.T) {
	c := jstest.StartCluster(t, 3)
	queuetest.Run(t, opener(c.URL(), 3), suiteOptions)
}

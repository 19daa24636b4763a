package jetstream_test

import (
	"context"
	"fmt"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookgate/hookgate/queue/jetstream"
	"github.com/hookgate/hookgate/queue/jetstream/jstest"
	"github.com/nats-io/nats-server/v2/server"
)

// The three nats-server configs of docs/nats (README "Running several nodes") are what the
// README says: servers n1..n3 on 127.0.0.1:4222..4224, JetStream on, one cluster
// "hookgate" whose routes name all three. Started as they are — only the ports moved to
// free ones, the routes with them, and the data to a temporary folder — they form a
// JetStream cluster of 3 that takes a stream of 3 replicas.
func TestDocsNATSConfigsFormACluster(t *testing.T) {
	const n = 3
	opts := make([]*server.Options, n)
	for i := range n {
		o, err := server.ProcessConfigFile(filepath.Join("..", "..", "docs", "nats", fmt.Sprintf("n%d.conf", i+1)))
		if err != nil {
			t.Fatalf("n%d.conf: %v", i+1, err)
		}
		if o.ServerName != fmt.Sprintf("n%d", i+1) || o.Host != "127.0.0.1" || o.Port != 4222+i || !o.JetStream ||
			o.Cluster.Name != "hookgate" || o.Cluster.Port != 6222+i || o.HTTPPort != 8222+i || len(o.Routes) != n {
			t.Fatalf("n%d.conf: name %q, listen %s:%d, jetstream %v, cluster %q on %d, http %d, %d routes",
				i+1, o.ServerName, o.Host, o.Port, o.JetStream, o.Cluster.Name, o.Cluster.Port, o.HTTPPort, len(o.Routes))
		}
		for j, r := range o.Routes {
			if r.Host != fmt.Sprintf("127.0.0.1:%d", 6222+j) {
				t.Fatalf("n%d.conf: route %d is %s, want 127.0.0.1:%d", i+1, j, r.Host, 6222+j)
			}
		}
		o.HTTPPort, o.NoLog, o.NoSigs = 0, true, true
		opts[i] = o
	}
	// The cluster ports must be known before the servers start (each names the others'), so
	// they are found free first; another process may take one meanwhile, and then that
	// server never listens: start all three again on new ones, up to three times.
	var servers []*server.Server
	for attempt := 1; servers == nil; attempt++ {
		if attempt > 3 {
			t.Fatalf("the docs' cluster did not start on free ports in 3 attempts")
		}
		servers = startCluster(t, opts)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var peers []string // as the meta leader knows them
		for _, s := range servers {
			if s.JetStreamIsLeader() {
				peers = s.JetStreamClusterPeers()
			}
		}
		if len(peers) == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no JetStream cluster of %d within 30 s (the leader's peers: %v)", n, peers)
		}
		time.Sleep(20 * time.Millisecond)
	}
	urls := ""
	for i, s := range servers {
		if i > 0 {
			urls += ","
		}
		urls += s.ClientURL()
	}
	st, err := jetstream.Open(context.Background(), jetstream.Options{URL: urls, Replicas: 3, Logger: quiet})
	if err != nil {
		t.Fatalf("a hookgate store with 3 replicas on the docs' cluster: %v", err)
	}
	st.Close()
}

// startCluster starts a server for each of opts, routed to one another on cluster ports it
// finds free, each ready for clients within 10 s; if one is not, it stops them all and
// returns nil. Each is shut down when the test ends.
func startCluster(t *testing.T, opts []*server.Options) []*server.Server {
	t.Helper()
	clusterPorts := make([]int, len(opts))
	for i := range opts {
		clusterPorts[i] = jstest.FreePort(t)
	}
	var servers []*server.Server
	for i, o := range opts {
		o.Port, o.Cluster.Port, o.StoreDir, o.Routes = server.RANDOM_PORT, clusterPorts[i], t.TempDir(), nil
		for _, p := range clusterPorts {
			o.Routes = append(o.Routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)})
		}
		s, err := server.NewServer(o)
		if err != nil {
			t.Fatalf("n%d: %v", i+1, err)
		}
		go s.Start()
		servers = append(servers, s)
		if !s.ReadyForConnections(10 * time.Second) {
			t.Logf("n%d not ready on cluster port %d: starting the cluster again", i+1, clusterPorts[i])
			for _, s := range servers {
				s.Shutdown()
				s.WaitForShutdown()
			}
			return nil
		}
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	}
	return servers
}

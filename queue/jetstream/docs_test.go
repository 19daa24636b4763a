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
	clusterPorts := make([]int, n)
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
		clusterPorts[i] = jstest.FreePort(t)
		o.Port, o.Cluster.Port, o.HTTPPort, o.StoreDir, o.NoLog, o.NoSigs = jstest.FreePort(t), clusterPorts[i], 0, t.TempDir(), true, true
		opts[i] = o
	}
	servers := make([]*server.Server, n)
	for i, o := range opts {
		o.Routes = nil
		for _, p := range clusterPorts {
			o.Routes = append(o.Routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", p)})
		}
		s, err := server.NewServer(o)
		if err != nil {
			t.Fatalf("n%d: %v", i+1, err)
		}
		go s.Start()
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatalf("n%d not ready", i+1)
		}
		servers[i] = s
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

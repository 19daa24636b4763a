// Package jstest starts NATS servers with JetStream inside the test process, for the tests
// of queue/jetstream and of anything that runs hookgate on NATS: one server (Start) or a
// cluster of several (StartCluster), each on a loopback port and a folder of the test's,
// stopped when the test ends. A server can be stopped and started again on the same port
// and folder, to test what a node does while NATS is away.
//
//	srv := jstest.Start(t)
//	st, err := jetstream.Open(ctx, jetstream.Options{URL: srv.URL()})
//
//	c := jstest.StartCluster(t, 3)
//	st, err := jetstream.Open(ctx, jetstream.Options{URL: c.URL(), Replicas: 3})
package jstest

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Server is one in-process nats-server with JetStream.
type Server struct {
	t    testing.TB
	opts server.Options
	srv  *server.Server
}

// Start starts a server with JetStream on a free loopback port, storing in a temporary
// folder of t's; it is shut down when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, opts: server.Options{
		ServerName: "hookgate-test",
		Host:       "127.0.0.1",
		Port:       freePort(t),
		JetStream:  true,
		StoreDir:   t.TempDir(),
		NoLog:      true,
		NoSigs:     true,
	}}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// freePort finds a loopback port nothing listens on, so that a server keeps its port
// across a restart (Port -1 would pick a new one each time).
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("jstest: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Restart starts the server (again) on its port and folder; it is ready for clients when
// Restart returns.
func (s *Server) Restart() {
	s.t.Helper()
	if s.srv != nil && s.srv.Running() {
		s.t.Fatalf("jstest: %s is running", s.opts.ServerName)
	}
	opts := s.opts
	srv, err := server.NewServer(&opts)
	if err != nil {
		s.t.Fatalf("jstest: new server: %v", err)
	}
	go srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		s.t.Fatalf("jstest: %s not ready for connections within 10 s", s.opts.ServerName)
	}
	s.srv = srv
}

// Stop shuts the server down (abruptly, as a crash looks to clients). Stopping a stopped
// server does nothing.
func (s *Server) Stop() {
	if s.srv == nil {
		return
	}
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}

// URL is the server's client URL.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.opts.Port) }

// NATS is the running server, for what this package does not wrap.
func (s *Server) NATS() *server.Server { return s.srv }

// Cluster is several servers routed to each other, with JetStream clustered.
type Cluster struct {
	Servers []*Server
}

// StartCluster starts n servers (n ≥ 3 for replicas 3) forming one JetStream cluster, and
// waits until it has a meta leader. They are shut down when t ends.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	ports := make([]int, n)
	routes := make([]string, n)
	for i := range ports {
		ports[i] = freePort(t)
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", ports[i])
	}
	c := &Cluster{}
	for i := 0; i < n; i++ {
		s := &Server{t: t, opts: server.Options{
			ServerName: fmt.Sprintf("hookgate-test-%d", i+1),
			Host:       "127.0.0.1",
			Port:       freePort(t),
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoLog:      true,
			NoSigs:     true,
			Cluster: server.ClusterOpts{
				Name: "hookgate-test",
				Host: "127.0.0.1",
				Port: ports[i],
			},
			Routes: server.RoutesFromStr(strings.Join(append(append([]string{}, routes[:i]...), routes[i+1:]...), ",")),
		}}
		s.Restart()
		t.Cleanup(s.Stop)
		c.Servers = append(c.Servers, s)
	}
	c.WaitForLeader()
	return c
}

// WaitForLeader waits up to 30 s until every running server knows the JetStream meta leader.
func (c *Cluster) WaitForLeader() {
	t := c.Servers[0].t
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		leader, current := false, true
		for _, s := range c.Servers {
			if s.srv == nil || !s.srv.Running() {
				continue
			}
			leader = leader || s.srv.JetStreamIsLeader()
			current = current && s.srv.JetStreamIsCurrent()
		}
		if leader && current {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("jstest: no JetStream meta leader within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// URL lists every server's client URL, comma-separated, as nats.Connect takes it.
func (c *Cluster) URL() string {
	urls := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		urls[i] = s.URL()
	}
	return strings.Join(urls, ",")
}

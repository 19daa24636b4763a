// Package jstest starts NATS servers with JetStream for the tests of queue/jetstream and of
// anything that runs hookgate on NATS: one server (Start) or a cluster of several
// (StartCluster), each on a loopback port and a folder of the test's, stopped when the test
// ends. A server can be stopped (as a crash looks to its clients) and started again on the
// same port and folder, to test what a node does while NATS is away.
//
// Servers run inside the test process (server.NewServer), except under the race detector:
// an instrumented nats-server is some fifteen times slower, enough to time the tests out
// on two cores when CI runs other packages beside them, so Start and StartCluster then
// build nats-server (the version in go.mod, without -race) once and run each server as a
// child process, which dies with the test process. Tests see no difference but NATS(),
// which is nil for a child process, and Kill, which crashes a child process but can only
// shut an embedded server down.
//
//	srv := jstest.Start(t)
//	st, err := jetstream.Open(ctx, jetstream.Options{URL: srv.URL()})
//
//	c := jstest.StartCluster(t, 3)
//	st, err := jetstream.Open(ctx, jetstream.Options{URL: c.URL(), Replicas: 3})
package jstest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Server is one nats-server with JetStream, in the test process or a child process.
type Server struct {
	t    testing.TB
	opts server.Options
	srv  *server.Server
	// A child process instead: its config file and the running command.
	conf string
	cmd  *exec.Cmd
}

// Start starts a server with JetStream on a free loopback port, storing in a temporary
// folder of t's; it is shut down when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, opts: server.Options{
		ServerName: "hookgate-test",
		Host:       "127.0.0.1",
		Port:       FreePort(t),
		HTTPHost:   "127.0.0.1",
		HTTPPort:   FreePort(t),
		JetStream:  true,
		StoreDir:   t.TempDir(),
		NoLog:      true,
		NoSigs:     true,
	}}
	if raceEnabled {
		s.conf = s.writeConfig(nil)
	}
	s.Restart()
	t.Cleanup(s.Stop)
	return s
}

// FreePort finds a loopback port nothing listens on, so that a server keeps its port
// across a restart (Port -1 would pick a new one each time), or for a test that configures
// servers of its own (their cluster ports must be known before any of them starts).
func FreePort(t testing.TB) int {
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
	if s.conf != "" {
		s.startProcess()
		return
	}
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

// Stop shuts the server down as an operator stops it: its clients see it gone at once,
// and it keeps every message it acknowledged (a child process gets SIGTERM, and SIGKILL if
// it is still running 10 s later). Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if s.cmd != nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
		s.cmd = nil
		return
	}
	if s.srv == nil {
		return
	}
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}

// Kill crashes the server: a child process is killed (SIGKILL), so that what it had not
// written to its files yet is lost, as in a crash; a server in the test process can only
// be shut down (Stop).
func (s *Server) Kill() {
	if s.cmd != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
		return
	}
	s.Stop()
}

// URL is the server's client URL.
func (s *Server) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", s.opts.Port) }

// NATS is the running server, for what this package does not wrap (nil when it runs as a
// child process).
func (s *Server) NATS() *server.Server { return s.srv }

// running reports whether the server is up.
func (s *Server) running() bool {
	if s.conf != "" {
		return s.cmd != nil
	}
	return s.srv != nil && s.srv.Running()
}

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
		ports[i] = FreePort(t)
		routes[i] = fmt.Sprintf("nats-route://127.0.0.1:%d", ports[i])
	}
	c := &Cluster{}
	for i := 0; i < n; i++ {
		others := append(append([]string{}, routes[:i]...), routes[i+1:]...)
		s := &Server{t: t, opts: server.Options{
			ServerName: fmt.Sprintf("hookgate-test-%d", i+1),
			Host:       "127.0.0.1",
			Port:       FreePort(t),
			HTTPHost:   "127.0.0.1",
			HTTPPort:   FreePort(t),
			JetStream:  true,
			StoreDir:   t.TempDir(),
			NoLog:      true,
			NoSigs:     true,
			Cluster: server.ClusterOpts{
				Name: "hookgate-test",
				Host: "127.0.0.1",
				Port: ports[i],
			},
			Routes: server.RoutesFromStr(strings.Join(others, ",")),
		}}
		if raceEnabled {
			s.conf = s.writeConfig(others)
		}
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
			switch {
			case !s.running():
			case s.conf != "":
				ok := s.healthy()
				leader, current = leader || ok, current && ok
			default:
				leader = leader || s.srv.JetStreamIsLeader()
				current = current && s.srv.JetStreamIsCurrent()
			}
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

// StreamLeader returns the server leading the stream, as JetStream's stream info names it,
// waiting up to 10 s for one to be elected.
func (c *Cluster) StreamLeader(t testing.TB, stream string) *Server {
	t.Helper()
	nc, err := nats.Connect(c.URL())
	if err != nil {
		t.Fatalf("jstest: connect: %v", err)
	}
	defer nc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var info struct {
			Cluster struct {
				Leader string `json:"leader"`
			} `json:"cluster"`
		}
		if msg, err := nc.Request("$JS.API.STREAM.INFO."+stream, nil, 2*time.Second); err == nil && json.Unmarshal(msg.Data, &info) == nil {
			for _, s := range c.Servers {
				if s.opts.ServerName == info.Cluster.Leader && s.running() {
					return s
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("jstest: no leader of stream %s within 10 s", stream)
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

// The nats-server binary for child processes, built once per test process.
var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// natsServerBinary builds nats-server, the version go.mod names, without -race. The test
// processes of several packages share the binary: a lock file makes one build while the
// others wait, then find it up to date.
func natsServerBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "hookgate-jstest")
		if buildErr = os.MkdirAll(dir, 0o755); buildErr != nil {
			return
		}
		unlock, err := lockFile(filepath.Join(dir, "build.lock"))
		if err != nil {
			buildErr = err
			return
		}
		defer unlock()
		binary = filepath.Join(dir, "nats-server")
		out, err := exec.Command("go", "build", "-o", binary, "github.com/nats-io/nats-server/v2").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build nats-server: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("jstest: %v", buildErr)
	}
	return binary
}

// writeConfig writes the config file of a child-process server: routed to others when it
// is one of a cluster's.
func (s *Server) writeConfig(others []string) string {
	s.t.Helper()
	o := s.opts
	conf := fmt.Sprintf(`server_name: %q
listen: "127.0.0.1:%d"
http: "127.0.0.1:%d"
jetstream { store_dir: %q }
`, o.ServerName, o.Port, o.HTTPPort, o.StoreDir)
	if o.Cluster.Port != 0 {
		quoted := make([]string, len(others))
		for i, r := range others {
			quoted[i] = fmt.Sprintf("%q", r)
		}
		conf += fmt.Sprintf("cluster { name: %q, listen: \"127.0.0.1:%d\", routes: [%s] }\n", o.Cluster.Name, o.Cluster.Port, strings.Join(quoted, ", "))
	}
	path := filepath.Join(s.t.TempDir(), "nats.conf")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		s.t.Fatalf("jstest: %v", err)
	}
	return path
}

// startProcess starts the server as a child process and waits until it takes clients.
func (s *Server) startProcess() {
	s.t.Helper()
	if s.cmd != nil {
		s.t.Fatalf("jstest: %s is running", s.opts.ServerName)
	}
	cmd := exec.Command(natsServerBinary(s.t), "-c", s.conf)
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("jstest: start nats-server: %v", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.opts.Port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.Stop()
			s.t.Fatalf("jstest: %s not ready for connections within 10 s", s.opts.ServerName)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// healthy asks a child-process server's monitoring port whether its JetStream is current.
func (s *Server) healthy() bool {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", s.opts.HTTPPort))
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	hgmcp "github.com/hookgate/hookgate/mcp"
	"github.com/hookgate/hookgate/queue/badger"
	"github.com/mark3labs/mcp-go/server"
	"github.com/spf13/cobra"
)

func newMCPCmd() *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve MCP over stdio for a desktop agent",
		Long: `mcp speaks the Model Context Protocol on stdin/stdout.

With HOOKGATE_URL set it drives that running gateway over its API (HOOKGATE_TOKEN).
Without it, it runs the whole gateway in this process on --data, with the same flags as
serve: the HTTP API, catch hooks and deliveries keep working while the agent is connected.
When another hookgate (serve, or the mcp of another agent) already has --data open, it
uses that gateway over its API instead: the address is in the data folder's "address"
file, the token is HOOKGATE_TOKEN or the folder's api-token file. Which mode it chose
is logged. Only MCP messages go to stdout; logs go to stderr.

In this process the API listens on a loopback address only (--addr, default
127.0.0.1:8080): a desktop agent's gateway is not for the network. Use serve for that.`,
		Example: `  HOOKGATE_URL=http://127.0.0.1:8080 HOOKGATE_TOKEN=… hookgate mcp
  hookgate mcp --data ~/.hookgate --addr 127.0.0.1:8787`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serveMCP(cmd.Context(), &f, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd, "127.0.0.1:8080")
	return cmd
}

// serveMCP runs an MCP stdio session until stdin closes or ctx ends.
func serveMCP(ctx context.Context, f *serveFlags, stdin io.Reader, stdout, stderr io.Writer) error {
	logger, err := f.logger(stderr)
	if err != nil {
		return err
	}
	var (
		gw   hgmcp.Gateway
		opts hgmcp.Options
	)
	if url := os.Getenv("HOOKGATE_URL"); url != "" {
		token := envToken()
		if token == "" {
			return errors.New("HOOKGATE_URL is set but HOOKGATE_TOKEN is not")
		}
		gw = httpapi.NewClient(url, token, nil)
		logger.Info("hookgate mcp: using a running gateway", "url", url)
	} else {
		if err := loopbackOnly(f.addr); err != nil {
			return err
		}
		g, err := startGateway(f, logger, stderr, false)
		switch {
		case err == nil:
			defer g.stop()
			gw, opts.PublicURL = g.svc, g.public
			logger.Info("hookgate mcp: running the gateway in this process", "data", f.data, "url", g.local)
		case errors.Is(err, badger.ErrLocked):
			c, url, rerr := runningGatewayOn(ctx, f.data)
			if rerr != nil {
				return fmt.Errorf("the data folder %s is in use by another hookgate, which can't be reached: %w (stop it, or point HOOKGATE_URL and HOOKGATE_TOKEN at it)", f.data, rerr)
			}
			gw = c
			logger.Info("hookgate mcp: the data folder is in use by a running hookgate; using it over its API", "data", f.data, "url", url)
		default:
			return err
		}
	}
	s := hgmcp.NewStdioServer(hgmcp.NewServer(gw, opts))
	s.SetErrorLogger(log.New(stderr, "mcp: ", log.LstdFlags))
	server.WithWorkerPoolSize(64)(s)
	if err := hgmcp.ServeStdio(ctx, s, stdin, stdout); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("mcp stdio: %w", err)
	}
	return nil
}

// runningGatewayOn returns a Client for the gateway that has the data folder dir open: its
// address from the folder's address file, the API token from HOOKGATE_TOKEN or the
// folder's token file. It checks that the gateway answers and takes the token.
func runningGatewayOn(ctx context.Context, dir string) (*httpapi.Client, string, error) {
	b, err := os.ReadFile(filepath.Join(dir, addressFile))
	if err != nil {
		return nil, "", fmt.Errorf("read its address: %w", err)
	}
	url := strings.TrimSpace(string(b))
	token := envToken()
	if token == "" {
		t, err := os.ReadFile(filepath.Join(dir, tokenFile))
		if err != nil {
			return nil, "", fmt.Errorf("read the API token (or set HOOKGATE_TOKEN): %w", err)
		}
		token = strings.TrimSpace(string(t))
	}
	c := httpapi.NewClient(url, token, nil)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := c.ListEvents(ctx, gateway.EventFilter{Newest: true, Limit: 1}); err != nil {
		return nil, "", fmt.Errorf("reach it at %s: %w", url, err)
	}
	return c, url, nil
}

// loopbackOnly refuses a listen address that is not on loopback: a host-less ":8080" or
// 0.0.0.0 would open the in-process gateway of `hookgate mcp` to the network.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("--addr %q: hookgate mcp listens on loopback only (e.g. 127.0.0.1:8080); run hookgate serve to listen on the network", addr)
}

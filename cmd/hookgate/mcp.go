package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/hookgate/hookgate/connectors/httpapi"
	hgmcp "github.com/hookgate/hookgate/mcp"
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
Only MCP messages go to stdout; logs go to stderr.`,
		Example: `  HOOKGATE_URL=http://127.0.0.1:8080 HOOKGATE_TOKEN=… hookgate mcp
  hookgate mcp --data ~/.hookgate --addr 127.0.0.1:8787`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serveMCP(cmd.Context(), &f, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd)
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
		token := os.Getenv("HOOKGATE_TOKEN")
		if token == "" {
			return errors.New("HOOKGATE_URL is set but HOOKGATE_TOKEN is not")
		}
		gw = httpapi.NewClient(url, token, nil)
		logger.Info("hookgate mcp: using a running gateway", "url", url)
	} else {
		g, err := startGateway(f, logger, stderr, false)
		if err != nil {
			return err
		}
		defer g.stop()
		gw, opts.PublicURL = g.svc, g.public
	}
	s := server.NewStdioServer(hgmcp.NewServer(gw, opts))
	s.SetErrorLogger(log.New(stderr, "mcp: ", log.LstdFlags))
	server.WithWorkerPoolSize(64)(s)
	if err := hgmcp.ServeStdio(ctx, s, stdin, stdout); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, io.EOF) {
		return fmt.Errorf("mcp stdio: %w", err)
	}
	return nil
}

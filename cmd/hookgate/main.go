// Command hookgate is the hookgate event gateway: the server (serve), the MCP server (mcp),
// a benchmark (bench), the registry's export and import (export, import), and client verbs
// over the HTTP API (status, endpoints, events, deliveries, sources, event-types, schemas).
//
// Flags and environment are read here and nowhere else; each verb lives in its own file.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"github.com/hookgate/hookgate/gateway"
	"github.com/spf13/cobra"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line args and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:           "hookgate",
		Short:         "hookgate: a durable event gateway for AI agents and no-code tools",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       gateway.Version,
	}
	root.AddCommand(
		newServeCmd(),
		newMCPCmd(),
		newBenchCmd(),
		newExportCmd(),
		newImportCmd(),
		newEndpointsCmd(),
		newEventsCmd(),
		newDeliveriesCmd(),
		newEventTypesCmd(),
		newSchemasCmd(),
		newSourcesCmd(),
		newKeysCmd(),
		newStatusCmd(),
		newVersionCmd(),
	)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "hookgate:", err)
		return 1
	}
	return 0
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print hookgate's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "hookgate %s %s %s/%s\n", gateway.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/queue/badger"
	"github.com/spf13/cobra"
)

// registryFlags pick the store export and import work on, as serve's flags do.
type registryFlags struct {
	serveFlags
	output string
}

// register adds --store and --data (with serve's environment variables) to cmd.
func (f *registryFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", envOr("HOOKGATE_DATA", "./hookgate-data"), "data folder of the Badger store, as given to serve (env HOOKGATE_DATA)")
	fl.StringVar(&f.store, "store", envOr("HOOKGATE_STORE", "badger"), "the store, as given to serve: badger (in --data; the gateway on it must be stopped) or nats://host:4222[,…] (nodes may be running) (env HOOKGATE_STORE)")
	f.registerNATS(cmd, true)
}

// open opens the store the flags name, for reading the registry (mustExist: a Badger
// folder that is not there is an error rather than a new, empty store).
func (f *registryFlags) open(stderr io.Writer, mustExist bool) (gateway.Store, error) {
	switch f.store {
	case "memory":
		return nil, errors.New("--store memory keeps nothing once its process ends: there is no registry to export or import into; name the store serve uses")
	case "badger", "":
		if mustExist {
			if _, err := os.Stat(filepath.Join(f.data, "MANIFEST")); err != nil {
				return nil, fmt.Errorf("no hookgate store in %s (--data): %w", f.data, err)
			}
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := f.openStore(log, -1, false, nil)
	if errors.Is(err, badger.ErrLocked) {
		return nil, fmt.Errorf("%s is in use by a running hookgate: stop it first (a Badger store is open in one process at a time): %w", f.data, err)
	}
	return st, err
}

func newExportCmd() *cobra.Command {
	var f registryFlags
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the registry (endpoints, sources, event types, with their secrets) as one JSON document",
		Long: `export reads the registry from the store, as serve opens it (--store, --data), and writes
it as one JSON document: every endpoint with its signing secrets and its kind's settings,
every source with its verification secret, every custom event type. hookgate import writes
it into another store, so that a gateway moved there keeps its URLs and secrets.

The document holds credentials: it is written 0600 with --output; keep it as the store.

A Badger store is read offline: stop the gateway on the folder first.`,
		Example: `  hookgate export --data /var/lib/hookgate --output registry.json
  hookgate export --data ./hookgate-data > registry.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return export(cmd.Context(), &f, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&f.output, "output", "o", "", "write the document to this file (0600) instead of stdout")
	return cmd
}

// export writes the registry of the store f names to f.output or stdout.
func export(ctx context.Context, f *registryFlags, stdout, stderr io.Writer) error {
	st, err := f.open(stderr, true)
	if err != nil {
		return err
	}
	doc, err := gateway.ExportRegistry(ctx, st, time.Now())
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close the store: %w", cerr)
	}
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the registry: %w", err)
	}
	b = append(b, '\n')
	if f.output == "" {
		_, err = stdout.Write(b)
		return err
	}
	if err := os.WriteFile(f.output, b, 0o600); err != nil {
		return fmt.Errorf("--output: %w", err)
	}
	for _, name := range slices.Sorted(maps.Keys(doc.Registry)) {
		fmt.Fprintf(stderr, "%-12s %d exported\n", name, len(doc.Registry[name]))
	}
	return nil
}

func newImportCmd() *cobra.Command {
	var f registryFlags
	cmd := &cobra.Command{
		Use:   "import [file]",
		Short: "Write a registry document from hookgate export into a store",
		Long: `import reads a document written by hookgate export (from file, or stdin when it is
omitted or -) and writes its records into the store, as serve opens it (--store, --data):
a record that is missing is created, one that differs is replaced by the document's, one
that is the same is skipped, so running it twice changes nothing. Records the store has
and the document lacks are kept. A document of a version this hookgate does not read, or
with a record it can't decode, is refused before anything is written.

It prints one line per record created or updated, then the counts per collection.

A Badger store is written offline: stop the gateway on the folder first (a new folder is
created).`,
		Example: `  hookgate export --data ./old-data > registry.json
  hookgate import --data ./new-data registry.json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in io.Reader = cmd.InOrStdin()
			if len(args) == 1 && args[0] != "-" {
				fh, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer fh.Close()
				in = fh
			}
			return importRegistry(cmd.Context(), &f, in, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f.register(cmd)
	return cmd
}

// importRegistry writes the document read from in into the store f names and reports
// what it did on stdout.
func importRegistry(ctx context.Context, f *registryFlags, in io.Reader, stdout, stderr io.Writer) error {
	b, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("read the document: %w", err)
	}
	// Check the document before opening (and perhaps creating) the store.
	doc, err := gateway.ParseRegistryDoc(b)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	st, err := f.open(stderr, false)
	if err != nil {
		return err
	}
	results, err := gateway.ImportRegistry(ctx, st, doc)
	if cerr := st.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close the store: %w", cerr)
	}
	counts := map[string]map[gateway.ImportAction]int{}
	var order []string
	for _, r := range results {
		if counts[r.Collection] == nil {
			counts[r.Collection] = map[gateway.ImportAction]int{}
			order = append(order, r.Collection)
		}
		counts[r.Collection][r.Action]++
		if r.Action != gateway.ImportUnchanged {
			fmt.Fprintf(stdout, "%-9s %s %s\n", r.Action, r.Collection, r.ID)
		}
	}
	if len(results) == 0 && err == nil {
		fmt.Fprintln(stdout, "the document holds no records: nothing imported")
	}
	for _, c := range order {
		n := counts[c]
		fmt.Fprintf(stdout, "%-12s %d created, %d updated, %d unchanged\n", c, n[gateway.ImportCreated], n[gateway.ImportUpdated], n[gateway.ImportUnchanged])
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return nil
}

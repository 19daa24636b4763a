package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/hookgate/hookgate/schemas"
	"github.com/spf13/cobra"
)

// catalogSource is where schema exports come from: a running gateway (built-in and custom
// types) or, with --offline, the catalog built into this binary.
type catalogSource interface {
	ListEventTypes(ctx context.Context, provider string) ([]*schemas.Type, error)
	ExportEventType(ctx context.Context, name, provider, format string) (json.RawMessage, error)
	OpenAPI(ctx context.Context) (json.RawMessage, error)
}

// embeddedCatalog serves exports from the built-in catalog, without a server.
type embeddedCatalog struct{ c *schemas.Catalog }

func (e embeddedCatalog) ListEventTypes(_ context.Context, provider string) ([]*schemas.Type, error) {
	return e.c.List(provider), nil
}

func (e embeddedCatalog) ExportEventType(_ context.Context, name, provider, format string) (json.RawMessage, error) {
	f, err := schemas.ParseFormat(format)
	if err != nil {
		return nil, err
	}
	t, ok := e.c.Find(provider, name)
	if !ok {
		return nil, fmt.Errorf("event type %s: %w", name, schemas.ErrUnknownType)
	}
	return t.Export(f)
}

func (e embeddedCatalog) OpenAPI(context.Context) (json.RawMessage, error) {
	return httpapi.OpenAPI(e.c, "")
}

func newSchemasCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "schemas",
		Short: "Export event schemas for API clients and no-code tools",
	}
	cf.register(cmd)
	cmd.AddCommand(schemasExportCmd(&cf))
	return cmd
}

func schemasExportCmd(cf *clientFlags) *cobra.Command {
	var (
		format, typ, provider string
		offline               bool
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Print an event type's schema as jsonschema, sample, zapier, make or openapi",
		Long: `Print an export of the event catalog:

  jsonschema  the JSON Schema (draft 2020-12) of the event's data
  sample      an example payload exactly as hookgate delivers it (the full envelope)
  zapier      Zapier outputFields (nested keys joined with __) plus the sample
  make        a Make data structure specification (name, type, label, spec)
  openapi     the OpenAPI 3.1 document of the API, with every event type under webhooks

With --type, the export of that type; without it, a JSON object of every type's export
(of --provider, if given), keyed by type name ("provider/name" where names collide).
By default the running gateway answers (custom types included); --offline uses the
catalog built into this binary.`,
		Example: `  hookgate schemas export --format zapier --type video.posted
  hookgate schemas export --format make --type post.failed --provider tinyposter
  hookgate schemas export --format jsonschema --provider tokportal --offline > tokportal.json
  hookgate schemas export --format openapi > openapi.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var src catalogSource
			if offline {
				c, err := schemas.New()
				if err != nil {
					return err
				}
				src = embeddedCatalog{c}
			} else {
				c, err := cf.client()
				if err != nil {
					return err
				}
				src = c
			}
			out, err := exportSchemas(cmd.Context(), src, format, typ, provider)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(append(out, '\n'))
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&format, "format", "jsonschema", "jsonschema, sample, zapier, make or openapi")
	fl.StringVar(&typ, "type", "", "event type, e.g. video.posted (default: every type)")
	fl.StringVar(&provider, "provider", "", "tokportal, uploadpost, oktopost, tinyposter, hookgate or custom")
	fl.BoolVar(&offline, "offline", false, "use the built-in catalog instead of asking the server")
	return cmd
}

// exportSchemas renders one type's export, every type's, or the OpenAPI document.
func exportSchemas(ctx context.Context, src catalogSource, format, typ, provider string) ([]byte, error) {
	if format == "openapi" {
		if typ != "" || provider != "" {
			return nil, fmt.Errorf("--format openapi covers every type: leave out --type and --provider")
		}
		doc, err := src.OpenAPI(ctx)
		if err != nil {
			return nil, err
		}
		return indentJSON(doc)
	}
	if _, err := schemas.ParseFormat(format); err != nil {
		return nil, fmt.Errorf("--format: %w", err)
	}
	if typ != "" {
		out, err := src.ExportEventType(ctx, typ, provider, format)
		if err != nil {
			return nil, err
		}
		return indentJSON(out)
	}
	types, err := src.ListEventTypes(ctx, provider)
	if err != nil {
		return nil, err
	}
	if len(types) == 0 {
		return nil, fmt.Errorf("no event types for provider %q", provider)
	}
	seen := map[string]int{}
	for _, t := range types {
		seen[t.Name]++
	}
	all := make(map[string]json.RawMessage, len(types))
	for _, t := range types {
		out, err := src.ExportEventType(ctx, t.Name, t.Provider, format)
		if err != nil {
			return nil, fmt.Errorf("export %s/%s: %w", t.Provider, t.Name, err)
		}
		key := t.Name
		if seen[t.Name] > 1 {
			key = t.Provider + "/" + t.Name
		}
		all[key] = out
	}
	return json.MarshalIndent(all, "", "  ")
}

func indentJSON(b []byte) ([]byte, error) {
	var v json.RawMessage = b
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("the export is not valid JSON: %w", err)
	}
	return out, nil
}

func newEventTypesCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:     "event-types",
		Aliases: []string{"event-type", "types"},
		Short:   "List, show, add and delete event types of the catalog",
	}
	cf.register(cmd)
	cmd.AddCommand(eventTypesListCmd(&cf), eventTypesGetCmd(&cf), eventTypesAddCmd(&cf), eventTypesDeleteCmd(&cf))
	return cmd
}

func eventTypesListCmd(cf *clientFlags) *cobra.Command {
	var provider string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List event types, built-in and custom",
		Example: `  hookgate event-types list --provider tokportal`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			ts, err := c.ListEventTypes(cmd.Context(), provider)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"data": ts})
			}
			rows := make([][]string, 0, len(ts))
			for _, t := range ts {
				rows = append(rows, []string{t.Name, t.Provider, t.Title})
			}
			return table(cmd.OutOrStdout(), []string{"NAME", "PROVIDER", "TITLE"}, rows)
		},
	}
	cmd.Flags().StringVar(&provider, "provider", "", "only this provider's types")
	return cmd
}

func eventTypesGetCmd(cf *clientFlags) *cobra.Command {
	var provider string
	cmd := &cobra.Command{
		Use:     "get <name>",
		Short:   "Show an event type and its schema",
		Example: `  hookgate event-types get ping --provider tinyposter`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			t, err := c.GetEventType(cmd.Context(), args[0], provider)
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), t)
		},
	}
	cmd.Flags().StringVar(&provider, "provider", "", "the provider whose type of that name to show")
	return cmd
}

func eventTypesAddCmd(cf *clientFlags) *cobra.Command {
	var (
		in     gateway.EventTypeInput
		schema string
	)
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Add a custom event type with its JSON Schema",
		Example: `  hookgate event-types add --name order.paid --description "An order was paid" \
    --schema '{"type":"object","required":["amount"],"properties":{"amount":{"type":"integer"}}}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			if in.Schema, err = readData(schema, cmd.InOrStdin()); err != nil {
				return fmt.Errorf("--schema: %w", err)
			}
			t, err := c.AddEventType(cmd.Context(), in)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), t)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "added event type %s\n", t.Name)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Name, "name", "", "type name, e.g. order.paid")
	fl.StringVar(&in.Description, "description", "", "when the event fires")
	fl.StringVar(&schema, "schema", "", "JSON Schema: JSON, @file.json, or - for stdin")
	return cmd
}

func eventTypesDeleteCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete <name>",
		Short: "Delete a custom event type",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			if err := c.DeleteEventType(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted event type %s\n", strings.TrimSpace(args[0]))
			return nil
		},
	}
}

package main

import (
	"fmt"
	"strconv"

	"github.com/hookgate/hookgate/gateway"
	"github.com/spf13/cobra"
)

func newSourcesCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:     "sources",
		Aliases: []string{"source"},
		Short:   "Manage catch hooks: URLs that receive providers' webhooks",
	}
	cf.register(cmd)
	cmd.AddCommand(sourcesCreateCmd(&cf), sourcesListCmd(&cf), sourcesGetCmd(&cf), sourcesURLCmd(&cf), sourcesDeleteCmd(&cf), sourcesRequestsCmd(&cf))
	return cmd
}

func sourcesCreateCmd(cf *clientFlags) *cobra.Command {
	var (
		in             gateway.SourceInput
		verify, sample string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a source and print the URL to give the provider",
		Example: `  hookgate sources create --name tokportal --provider tokportal --secret "$TOKPORTAL_WEBHOOK_SECRET"
  hookgate sources create --name tiny --provider tinyposter --secret whsec_…
  hookgate sources create --name uploads --provider uploadpost
  hookgate sources create --name okto --provider oktopost --secret "$OKTOPOST_SECRET"
  hookgate sources create --name gh --provider generic --secret "$GITHUB_SECRET" \
    --verify '{"header":"X-Hub-Signature-256","prefix":"sha256="}' \
    --mapping '{type: ("github." + .action), data: .}' --sample @push.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			if verify != "" {
				if in.Verify, err = readData(verify, cmd.InOrStdin()); err != nil {
					return fmt.Errorf("--verify: %w", err)
				}
			}
			if sample != "" {
				if in.Sample, err = readData(sample, cmd.InOrStdin()); err != nil {
					return fmt.Errorf("--sample: %w", err)
				}
			}
			src, err := c.CreateSource(cmd.Context(), in)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), src)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created %s source %s\nURL for the provider: %s\n", src.Provider, src.ID, src.URL)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Name, "name", "", "a name for the source")
	fl.StringVar(&in.Provider, "provider", "", "tokportal, tinyposter, uploadpost, oktopost, standard-webhooks or generic")
	fl.StringVar(&in.Secret, "secret", "", "the provider's signing secret (uploadpost: empty makes a URL token)")
	fl.StringVar(&verify, "verify", "", "verification settings as JSON (oktopost: header; generic: see the README)")
	fl.StringVar(&in.Mapping, "mapping", "", "generic: jq program from the payload to {type, id?, created?, data}")
	fl.StringVar(&sample, "sample", "", "generic: a sample payload (JSON, @file, -) the mapping is checked against")
	return cmd
}

func sourcesListCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List sources",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			srcs, err := c.ListSources(cmd.Context())
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"data": srcs})
			}
			rows := make([][]string, 0, len(srcs))
			for _, s := range srcs {
				rows = append(rows, []string{s.ID, s.Name, s.Provider, s.URL})
			}
			return table(cmd.OutOrStdout(), []string{"ID", "NAME", "PROVIDER", "URL"}, rows)
		},
	}
}

func sourcesGetCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get <id>",
		Short: "Show a source",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			src, err := c.GetSource(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printJSON(cmd.OutOrStdout(), src)
		},
	}
}

func sourcesURLCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "url <id>",
		Short: "Print a source's whole catch-hook URL, token included (list and get mask it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			u, err := c.SourceURL(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), map[string]string{"id": args[0], "url": u})
			}
			fmt.Fprintln(cmd.OutOrStdout(), u)
			return nil
		},
	}
}

func sourcesDeleteCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete <id>",
		Short: "Delete a source (its URL answers 404 from then on)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			if err := c.DeleteSource(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted source %s\n", args[0])
			return nil
		},
	}
}

func sourcesRequestsCmd(cf *clientFlags) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:     "requests <id>",
		Short:   "Show the latest calls a source received: verified or why not, event, duplicate",
		Example: `  hookgate sources requests src_01K… --limit 20`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			reqs, err := c.ListSourceRequests(cmd.Context(), args[0], limit)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"data": reqs})
			}
			rows := make([][]string, 0, len(reqs))
			for _, r := range reqs {
				rows = append(rows, []string{fmtTime(&r.ReceivedAt), strconv.Itoa(r.Status), strconv.FormatBool(r.Verified),
					orDash(r.EventType), orDash(r.EventID), strconv.FormatBool(r.Duplicate), orDash(r.Error)})
			}
			return table(cmd.OutOrStdout(), []string{"RECEIVED", "STATUS", "VERIFIED", "TYPE", "EVENT", "DUPLICATE", "ERROR"}, rows)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "how many (default 50)")
	return cmd
}

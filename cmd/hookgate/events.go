package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate/gateway"
	"github.com/spf13/cobra"
)

func newEventsCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:     "events",
		Aliases: []string{"event"},
		Short:   "Publish and inspect events",
	}
	cf.register(cmd)
	cmd.AddCommand(eventsPublishCmd(&cf), eventsListCmd(&cf), eventsGetCmd(&cf))
	return cmd
}

// readData reads --data: inline JSON, @file, or - for standard input.
func readData(v string, stdin io.Reader) (json.RawMessage, error) {
	var b []byte
	var err error
	switch {
	case v == "-":
		b, err = io.ReadAll(stdin)
	case strings.HasPrefix(v, "@"):
		b, err = os.ReadFile(v[1:])
	default:
		b = []byte(v)
	}
	if err != nil {
		return nil, fmt.Errorf("--data: %w", err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("--data is not valid JSON")
	}
	return b, nil
}

func eventsPublishCmd(cf *clientFlags) *cobra.Command {
	var (
		in   gateway.PublishInput
		data string
	)
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Publish an event to every subscribed endpoint",
		Example: `  hookgate events publish --type app.report_ready --data '{"report":"weekly"}'
  hookgate events publish --type post.failed --data @payload.json --id evt_123 --source tinyposter
  echo '{"n":1}' | hookgate events publish --type test.event --data -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			if in.Data, err = readData(data, cmd.InOrStdin()); err != nil {
				return err
			}
			res, err := c.Publish(cmd.Context(), in)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			if res.Duplicate {
				fmt.Fprintf(cmd.OutOrStdout(), "%s is a duplicate: already stored, nothing sent\n", res.ID)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "published %s to %d endpoint(s)\n", res.ID, res.Deliveries)
			for _, w := range res.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.Type, "type", "", "event type, e.g. video.posted")
	fl.StringVar(&data, "data", "{}", "payload: JSON, @file.json, or - for stdin")
	fl.StringVar(&in.ID, "id", "", "event id (dedupe key); generated when empty")
	fl.StringVar(&in.Source, "source", "", "source name")
	return cmd
}

func eventsListCmd(cf *clientFlags) *cobra.Command {
	var (
		f     gateway.EventFilter
		since string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List events in arrival order (or newest first)",
		Example: `  hookgate events list --type 'video.*' --limit 20
  hookgate events list --newest --limit 10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if f.Since, err = parseSince("since", since); err != nil {
				return err
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			page, err := c.ListEvents(cmd.Context(), f)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), page)
			}
			rows := make([][]string, 0, len(page.Data))
			for _, e := range page.Data {
				rows = append(rows, []string{e.ID, e.Type, orDash(e.Source), fmtTime(&e.ReceivedAt), strconv.Itoa(len(e.Deliveries))})
			}
			if err := table(cmd.OutOrStdout(), []string{"ID", "TYPE", "SOURCE", "RECEIVED", "DELIVERIES"}, rows); err != nil {
				return err
			}
			if page.More && f.Newest {
				fmt.Fprintf(cmd.OutOrStdout(), "more: --newest --after %s\n", page.Next)
			} else if page.More {
				fmt.Fprintf(cmd.OutOrStdout(), "more: --after %s\n", page.Next)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Type, "type", "", "event type or pattern")
	fl.StringVar(&f.Source, "source", "", "source name")
	fl.StringVar(&f.After, "after", "", "only events after this cursor (a next_cursor) or event id; before it with --newest")
	fl.BoolVar(&f.Newest, "newest", false, "list the most recent events first")
	fl.StringVar(&since, "since", "", "only events received since: RFC 3339 time, or a duration back from now (1h); oldest first, without --after")
	fl.IntVar(&f.Limit, "limit", 0, "page size (default 50)")
	return cmd
}

func eventsGetCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get <id>",
		Short: "Show an event and its deliveries",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			ev, dls, err := c.GetEvent(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if cf.json {
				return printJSON(out, map[string]any{"event": ev, "deliveries": dls})
			}
			fmt.Fprintf(out, "%s  %s  source=%s  received=%s\n", ev.ID, ev.Type, orDash(ev.Source), fmtTime(&ev.ReceivedAt))
			fmt.Fprintf(out, "data: %s\n\n", ev.Data)
			return table(out, deliveryHeader, deliveryRows(dls))
		},
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/hookgate/hookgate/gateway"
	"github.com/spf13/cobra"
)

func newEndpointsCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:     "endpoints",
		Aliases: []string{"endpoint", "ep"},
		Short:   "Manage the endpoints events are delivered to",
	}
	cf.register(cmd)
	cmd.AddCommand(
		endpointsCreateCmd(&cf), endpointsListCmd(&cf), endpointsGetCmd(&cf), endpointsUpdateCmd(&cf),
		endpointsDeleteCmd(&cf), endpointsTestCmd(&cf), endpointsRotateCmd(&cf), endpointsReplayCmd(&cf),
	)
	return cmd
}

func endpointRows(eps ...*gateway.Endpoint) [][]string {
	rows := make([][]string, 0, len(eps))
	for _, ep := range eps {
		state := "enabled"
		if !ep.Enabled {
			state = "disabled"
			if ep.DisabledReason != "" {
				state += ": " + ep.DisabledReason
			}
		}
		rows = append(rows, []string{ep.ID, ep.URL, strings.Join(ep.Events, ","), state, strconv.Itoa(ep.FailureStreak)})
	}
	return rows
}

var endpointHeader = []string{"ID", "URL", "EVENTS", "STATE", "FAILURES"}

// parseHeaders reads repeated K=V flags.
func parseHeaders(kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	h := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--header %q: want Name=value", kv)
		}
		h[k] = v
	}
	return h, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// kindFlags are the create flags that set a kind's settings: each is passed on, under its
// key, in the settings object POST /v1/endpoints takes inline, and the kind's package
// checks it (a flag the kind does not read is refused, naming the setting).
var kindFlags = []struct{ flag, key, usage string }{
	{"template", "template", "slack, telegram: message text/template"},
	{"chat-id", "chat_id", "telegram: chat id"},
	{"bot-token", "bot_token", "telegram: bot token"},
	{"api-key", "api_key", "make: x-make-apikey"},
}

// kindSettings returns the settings object of the kind flags that were given (nil when
// none was).
func kindSettings(flags map[string]*string) (json.RawMessage, error) {
	st := map[string]string{}
	for k, v := range flags {
		if *v != "" {
			st[k] = *v
		}
	}
	if len(st) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	return b, nil
}

func endpointsCreateCmd(cf *clientFlags) *cobra.Command {
	var (
		in       gateway.EndpointInput
		events   string
		headers  []string
		disabled bool
		settings = map[string]*string{}
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Register an endpoint (its signing secret is shown once)",
		Example: `  hookgate endpoints create --url https://example.com/hooks --events 'video.posted,post.*'
  hookgate endpoints create --kind slack --url https://hooks.slack.com/services/T0/B0/X --events 'video.*' \
    --template 'Video posted on {{.data.platform}}: {{.data.post_url}}'
  hookgate endpoints create --kind telegram --bot-token 123456:ABC --chat-id -1001234567890 --events video.posted`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			in.Events = splitList(events)
			if in.Headers, err = parseHeaders(headers); err != nil {
				return err
			}
			if in.Settings, err = kindSettings(settings); err != nil {
				return err
			}
			if disabled {
				off := false
				in.Enabled = &off
			}
			ep, secret, err := c.CreateEndpoint(cmd.Context(), in)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if cf.json {
				return printJSON(out, httpapi.EndpointWithSecret{Endpoint: ep, Secret: secret})
			}
			if err := table(out, endpointHeader, endpointRows(ep)); err != nil {
				return err
			}
			fmt.Fprintf(out, "\nsigning secret: %s\n(shown only now; rotate it with `hookgate endpoints rotate-secret %s` if lost)\n", secret, ep.ID)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&in.URL, "url", "", "endpoint URL (https)")
	fl.StringVar(&events, "events", "*", "comma-separated event types or patterns (video.posted, post.*, *)")
	fl.StringVar(&in.Description, "description", "", "a note for humans")
	fl.StringVar(&in.Source, "source", "", "only events from this source")
	fl.StringVar(&in.Kind, "kind", "", "webhook (default), zapier, make, n8n, slack or telegram")
	fl.Float64Var(&in.RateLimitPerS, "rate-limit", 0, "deliveries per second at most (0: none; make: 25)")
	fl.StringVar(&in.Mapping, "mapping", "", "jq program that reshapes the envelope, e.g. '{post_url: .data.post_url}'")
	fl.StringVar(&in.Filter, "filter", "", `jq boolean over the envelope: only events for which it is true are delivered, e.g. '.data.bundle_id == "b_42"'`)
	for _, f := range kindFlags {
		settings[f.key] = fl.String(f.flag, "", f.usage)
	}
	fl.StringArrayVar(&headers, "header", nil, "extra header sent with every delivery, Name=value (repeatable)")
	fl.BoolVar(&disabled, "disabled", false, "create it disabled")
	return cmd
}

func endpointsListCmd(cf *clientFlags) *cobra.Command {
	var (
		f       gateway.EndpointFilter
		enabled string
	)
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List endpoints",
		Example: `  hookgate endpoints list --event video.posted`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			if enabled != "" {
				b, err := strconv.ParseBool(enabled)
				if err != nil {
					return fmt.Errorf("--enabled: want true or false")
				}
				f.Enabled = &b
			}
			page, err := c.ListEndpoints(cmd.Context(), f)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), page)
			}
			if err := table(cmd.OutOrStdout(), endpointHeader, endpointRows(page.Data...)); err != nil {
				return err
			}
			if page.Next != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "more: --cursor %s\n", page.Next)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.Event, "event", "", "only endpoints that receive this event type")
	fl.StringVar(&enabled, "enabled", "", "true or false")
	fl.IntVar(&f.Limit, "limit", 0, "page size (default 50)")
	fl.StringVar(&f.Cursor, "cursor", "", "continue after this endpoint id")
	return cmd
}

func endpointsGetCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get <id>",
		Short: "Show an endpoint",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			ep, err := c.GetEndpoint(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), ep)
			}
			return table(cmd.OutOrStdout(), endpointHeader, endpointRows(ep))
		},
	}
}

func endpointsUpdateCmd(cf *clientFlags) *cobra.Command {
	var (
		url, events, description, filter string
		headers                          []string
		enable, disable, discard         bool
	)
	cmd := &cobra.Command{
		Use:   "update <id>",
		Short: "Change an endpoint; --enable sends the deliveries kept while it was disabled",
		Example: `  hookgate endpoints update ep_01K… --enable
  hookgate endpoints update ep_01K… --enable --discard-paused
  hookgate endpoints update ep_01K… --events 'video.*'
  hookgate endpoints update ep_01K… --filter '.data.bundle_id == "b_42"'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			var p gateway.EndpointPatch
			fl := cmd.Flags()
			if fl.Changed("url") {
				p.URL = &url
			}
			if fl.Changed("events") {
				ev := splitList(events)
				p.Events = &ev
			}
			if fl.Changed("description") {
				p.Description = &description
			}
			if fl.Changed("filter") {
				p.Filter = &filter
			}
			if fl.Changed("header") {
				h, err := parseHeaders(headers)
				if err != nil {
					return err
				}
				p.Headers = &h
			}
			switch {
			case enable && disable:
				return fmt.Errorf("--enable and --disable together")
			case enable:
				t := true
				p.Enabled = &t
			case disable:
				f := false
				p.Enabled = &f
			}
			p.DiscardPaused = discard
			ep, err := c.UpdateEndpoint(cmd.Context(), args[0], p)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), ep)
			}
			return table(cmd.OutOrStdout(), endpointHeader, endpointRows(ep))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&url, "url", "", "new URL")
	fl.StringVar(&events, "events", "", "new comma-separated event types or patterns")
	fl.StringVar(&description, "description", "", "new description")
	fl.StringVar(&filter, "filter", "", `new jq boolean over the envelope ('' removes it), e.g. '.data.platform == "tiktok"'`)
	fl.StringArrayVar(&headers, "header", nil, "replace the extra headers, Name=value (repeatable)")
	fl.BoolVar(&enable, "enable", false, "enable (resets the failure streak, sends paused deliveries)")
	fl.BoolVar(&disable, "disable", false, "disable (matching events are kept as paused deliveries)")
	fl.BoolVar(&discard, "discard-paused", false, "with --enable: cancel the paused deliveries instead of sending them")
	return cmd
}

func endpointsDeleteCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete <id>",
		Short: "Delete an endpoint (its queued deliveries are canceled)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			if err := c.DeleteEndpoint(cmd.Context(), args[0]); err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"id": args[0], "deleted": true})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %s\n", args[0])
			return nil
		},
	}
}

func endpointsTestCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "test <id>",
		Short: "Send a ping event to one endpoint",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			id, err := c.TestEndpoint(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), map[string]string{"delivery_id": id})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ping queued: delivery %s (hookgate deliveries get %s)\n", id, id)
			return nil
		},
	}
}

func endpointsRotateCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-secret <id>",
		Short: "Issue a new signing secret; the old one keeps signing for 24 h",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			secret, err := c.RotateSecret(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), map[string]string{"secret": secret})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "new signing secret: %s\n(shown only now; the previous secret keeps signing for 24 h)\n", secret)
			return nil
		},
	}
}

func endpointsReplayCmd(cf *clientFlags) *cobra.Command {
	var (
		since  string
		status string
	)
	cmd := &cobra.Command{
		Use:     "replay <id>",
		Short:   "Queue again every failed delivery of an endpoint since a time",
		Example: `  hookgate endpoints replay ep_01K… --since 2026-06-24T00:00:00Z`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			t, err := parseSince("since", since)
			if err != nil {
				return err
			}
			n, err := c.ReplayEndpoint(cmd.Context(), args[0], t, gateway.DeliveryStatus(status))
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), map[string]int{"count": n})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d deliveries queued again\n", n)
			return nil
		},
	}
	cmd.Flags().StringVar(&since, "since", "24h", "RFC 3339 time, or a duration back from now")
	cmd.Flags().StringVar(&status, "status", "failed", "failed, canceled or succeeded")
	return cmd
}

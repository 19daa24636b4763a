package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/spf13/cobra"
)

func newDeliveriesCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:     "deliveries",
		Aliases: []string{"delivery"},
		Short:   "Inspect and retry deliveries",
	}
	cf.register(cmd)
	cmd.AddCommand(deliveriesListCmd(&cf), deliveriesGetCmd(&cf), deliveriesRetryCmd(&cf))
	return cmd
}

var deliveryHeader = []string{"ID", "EVENT", "ENDPOINT", "STATUS", "ATTEMPTS", "LAST", "NEXT"}

func deliveryRows(dls []*gateway.Delivery) [][]string {
	rows := make([][]string, 0, len(dls))
	for _, d := range dls {
		last := "-"
		if n := len(d.Attempts); n > 0 {
			a := d.Attempts[n-1]
			last = strconv.Itoa(a.StatusCode)
			if a.Error != "" {
				last = a.Error
			}
		}
		rows = append(rows, []string{d.ID, d.EventID, d.EndpointID, string(d.Status), strconv.Itoa(len(d.Attempts)), last, fmtTime(d.NextAttemptAt)})
	}
	return rows
}

func deliveriesListCmd(cf *clientFlags) *cobra.Command {
	var (
		endpoint     string
		f            gateway.DeliveryFilter
		status       string
		since, until string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List deliveries, newest first, across every endpoint or of one",
		Example: `  hookgate deliveries list --status failed --since 1h
  hookgate deliveries list --endpoint ep_01K… --type 'video.*'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if f.Since, err = parseSince("since", since); err != nil {
				return err
			}
			if f.Until, err = parseSince("until", until); err != nil {
				return err
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			f.Status = gateway.DeliveryStatus(status)
			page, err := c.ListDeliveries(cmd.Context(), endpoint, f)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), page)
			}
			if err := table(cmd.OutOrStdout(), deliveryHeader, deliveryRows(page.Data)); err != nil {
				return err
			}
			if page.Next != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "more: --cursor %s\n", page.Next)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&endpoint, "endpoint", "", "only this endpoint's deliveries (default: every endpoint's)")
	fl.StringVar(&status, "status", "", "pending, paused, succeeded, failed or canceled")
	fl.StringVar(&f.Type, "type", "", "event type or pattern (video.*)")
	fl.StringVar(&since, "since", "", "created since: RFC 3339 time, or a duration back from now (1h)")
	fl.StringVar(&until, "until", "", "created before: RFC 3339 time, or a duration back from now")
	fl.IntVar(&f.Limit, "limit", 0, "page size (default 50)")
	fl.StringVar(&f.Cursor, "cursor", "", "continue after this delivery id")
	return cmd
}

// parseSince reads a --since style flag: an RFC 3339 time, or a duration back from now
// ("2h"); empty is the zero time.
func parseSince(flag, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return time.Time{}, fmt.Errorf("--%s: want an RFC 3339 time or a duration such as 2h, not %q", flag, v)
	}
	return time.Now().Add(-d), nil
}

func deliveriesGetCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "get <id>",
		Short: "Show a delivery and every attempt",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			d, err := c.GetDelivery(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if cf.json {
				return printJSON(out, d)
			}
			if err := table(out, deliveryHeader, deliveryRows([]*gateway.Delivery{d})); err != nil {
				return err
			}
			fmt.Fprintln(out)
			rows := make([][]string, 0, len(d.Attempts))
			for i, a := range d.Attempts {
				body := a.ResponseBody
				if len(body) > 60 {
					body = body[:60] + "…"
				}
				rows = append(rows, []string{strconv.Itoa(i + 1), fmtTime(&a.At), strconv.Itoa(a.StatusCode), strconv.FormatInt(a.DurationMS, 10) + "ms", orDash(a.Error), orDash(body)})
			}
			return table(out, []string{"#", "AT", "STATUS", "DURATION", "ERROR", "RESPONSE"}, rows)
		},
	}
}

func deliveriesRetryCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "retry <id>",
		Short: "Attempt a delivery again now, with a fresh retry schedule",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			if err := c.RetryDelivery(cmd.Context(), args[0]); err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), map[string]string{"id": args[0], "status": "pending"})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s queued for another attempt\n", args[0])
			return nil
		},
	}
}

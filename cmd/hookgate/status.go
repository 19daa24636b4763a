package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/gateway"
	"github.com/spf13/cobra"
)

func newStatusCmd() *cobra.Command {
	var (
		cf    clientFlags
		since string
	)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "One screen: readiness, disk, lag, and how each endpoint's deliveries went",
		Long: `status is the first thing to run when something seems off. It asks GET /v1/stats and
prints whether the gateway is ready (and why not), its free disk and lag, and per endpoint
the attempts in the window (--since, default the last hour), how many failed, the success
ratio, p50/p95 attempt duration, what is pending and paused now, and the last error.`,
		Example: `  hookgate status
  hookgate status --since 24h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := parseSince("since", since)
			if err != nil {
				return err
			}
			c, err := cf.client()
			if err != nil {
				return err
			}
			st, err := c.Stats(cmd.Context(), from)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), st)
			}
			return printStatus(cmd.OutOrStdout(), cf.url, st)
		},
	}
	cf.register(cmd)
	cmd.Flags().StringVar(&since, "since", "1h", "the window's start: RFC 3339 time, or a duration back from now")
	return cmd
}

// printStatus writes st as one screen.
func printStatus(w io.Writer, server string, st *gateway.Stats) error {
	state := "ready"
	if !st.Ready {
		state = "NOT READY"
	}
	fmt.Fprintf(w, "hookgate at %s: %s\n", server, state)
	for _, r := range st.Reasons {
		fmt.Fprintf(w, "  %s\n", r)
	}
	disk := "not measured"
	if st.Disk.Total > 0 {
		disk = fmt.Sprintf("%s free of %s", gateway.FormatBytes(st.Disk.Free), gateway.FormatBytes(st.Disk.Total))
	}
	fmt.Fprintf(w, "disk: %s   lag: %s\n", disk, (time.Duration(st.LagSeconds * float64(time.Second))).Round(time.Second))
	t := st.Totals
	fmt.Fprintf(w, "since %s (%s): %d attempts, %d failed%s, %d gave up; %d pending, %d paused\n",
		fmtTime(&st.Since), st.Until.Sub(st.Since).Round(time.Second), t.Attempts, t.Failures, ratio(t.SuccessRatio, " (%s ok)"), t.GaveUp, t.Pending, t.Paused)
	if t.LastErrorAt != nil {
		fmt.Fprintf(w, "last error %s: %s\n", fmtTime(t.LastErrorAt), cut(t.LastError, 100))
	}
	fmt.Fprintln(w)
	if len(st.Endpoints) == 0 {
		fmt.Fprintln(w, "no endpoints yet: hookgate endpoints create --url … --events '*'")
	} else {
		rows := make([][]string, 0, len(st.Endpoints))
		for _, e := range st.Endpoints {
			last := "-"
			if e.LastErrorAt != nil {
				last = fmtTime(e.LastErrorAt) + " " + cut(e.LastError, 60)
			}
			state := e.State
			if e.DisabledReason != "" {
				state += " (" + cut(e.DisabledReason, 40) + ")"
			}
			rows = append(rows, []string{e.EndpointID, orDash(e.Kind), state, strconv.Itoa(e.Attempts), strconv.Itoa(e.Failures),
				ratio(e.SuccessRatio, "%s"), millis(e.P50MS), millis(e.P95MS), strconv.Itoa(e.Pending), strconv.Itoa(e.Paused), last})
		}
		if err := table(w, []string{"ENDPOINT", "KIND", "STATE", "ATTEMPTS", "FAILED", "OK", "P50", "P95", "PENDING", "PAUSED", "LAST ERROR"}, rows); err != nil {
			return err
		}
	}
	if st.Scan.Truncated {
		fmt.Fprintf(w, "\ncounts cover only the newest %d deliveries (created since %s): the scan stops at %d\n", st.Scan.Deliveries, fmtTime(&st.Scan.CreatedSince), st.Scan.MaxScan)
	}
	return nil
}

// ratio formats a success ratio as a percentage in format, or "" ("-" for a bare "%s")
// without one.
func ratio(r *float64, format string) string {
	if r == nil {
		if format == "%s" {
			return "-"
		}
		return ""
	}
	return fmt.Sprintf(format, strconv.FormatFloat(*r*100, 'f', 1, 64)+"%")
}

func millis(v *int64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatInt(*v, 10) + "ms"
}

// cut shortens s to n runes on one line.
func cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

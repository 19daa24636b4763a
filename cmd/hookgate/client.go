package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hookgate/hookgate/connectors/httpapi"
	"github.com/spf13/cobra"
)

// clientFlags are the connection flags every client verb takes.
type clientFlags struct {
	url   string
	token string
	json  bool
}

func (f *clientFlags) register(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.url, "server", envOr("HOOKGATE_URL", "http://127.0.0.1:8080"), "gateway URL (env HOOKGATE_URL)")
	fl.StringVar(&f.token, "token", os.Getenv("HOOKGATE_TOKEN"), "API token (env HOOKGATE_TOKEN)")
	fl.BoolVar(&f.json, "json", false, "print the API's JSON instead of a table")
}

func (f *clientFlags) client() (*httpapi.Client, error) {
	if f.token == "" {
		return nil, fmt.Errorf("no API token: set HOOKGATE_TOKEN or pass --token (the server prints it on first start and keeps it in <data>/api-token)")
	}
	return httpapi.NewClient(f.url, f.token, nil), nil
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes rows as aligned columns.
func table(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func fmtTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

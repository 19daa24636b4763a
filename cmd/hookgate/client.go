package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
	data  string
	json  bool
}

func (f *clientFlags) register(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.url, "server", envOr("HOOKGATE_URL", "http://127.0.0.1:8080"), "gateway URL (env HOOKGATE_URL)")
	// The default is empty, not the environment's value: --help prints defaults, and must
	// never print a token.
	fl.StringVar(&f.token, "token", "", "API token (default: env HOOKGATE_TOKEN, else HOOKGATE_API_TOKEN, else the api-token file in --data)")
	fl.StringVar(&f.data, "data", envOr("HOOKGATE_DATA", "./hookgate-data"), "the server's data folder, where it keeps a generated API token (env HOOKGATE_DATA; on `events publish`, --data is the payload)")
	fl.BoolVar(&f.json, "json", false, "print the API's JSON instead of a table")
}

func (f *clientFlags) client() (*httpapi.Client, error) {
	token := f.token
	if token == "" {
		token = envToken()
	}
	if token == "" {
		dir := f.data
		if dir == "" {
			dir = envOr("HOOKGATE_DATA", "./hookgate-data")
		}
		b, err := os.ReadFile(filepath.Join(dir, tokenFile))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read the API token: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		return nil, fmt.Errorf("no API token: set HOOKGATE_TOKEN, pass --token, or point --data (env HOOKGATE_DATA) at the server's data folder (the server prints the token on first start and keeps it in <data>/%s)", tokenFile)
	}
	return httpapi.NewClient(f.url, token, nil), nil
}

// envToken is the API token from the environment: HOOKGATE_TOKEN, or its older name
// HOOKGATE_API_TOKEN. serve, mcp and the client verbs all read it here.
func envToken() string {
	if t := strings.TrimSpace(os.Getenv("HOOKGATE_TOKEN")); t != "" {
		return t
	}
	return strings.TrimSpace(os.Getenv("HOOKGATE_API_TOKEN"))
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

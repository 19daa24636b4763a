package main

import (
	"fmt"
	"strings"

	"github.com/hookgate/hookgate/gateway"
	"github.com/spf13/cobra"
)

func newKeysCmd() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:     "keys",
		Aliases: []string{"key"},
		Short:   "Manage named API keys: scoped credentials for agents, MCP hosts and scripts",
	}
	cf.register(cmd)
	cmd.AddCommand(keysCreateCmd(&cf), keysListCmd(&cf), keysRevokeCmd(&cf))
	return cmd
}

func keysCreateCmd(cf *clientFlags) *cobra.Command {
	var (
		name   string
		scopes []string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a key and print it (shown only this once)",
		Example: `  hookgate keys create --name chatgpt --scopes read
  hookgate keys create --name ci --scopes publish
  hookgate keys create --name ops --scopes read,publish,manage`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			in := gateway.KeyInput{Name: name}
			for _, s := range scopes {
				in.Scopes = append(in.Scopes, gateway.Scope(strings.TrimSpace(s)))
			}
			info, key, err := c.CreateKey(cmd.Context(), in)
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"id": info.ID, "name": info.Name, "scopes": info.Scopes, "prefix": info.Prefix, "created": info.Created, "key": key})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created key %s (%s) with scopes %s\nkey (shown once): %s\n", info.ID, info.Name, gateway.JoinScopes(info.Scopes, ","), key)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&name, "name", "", "what the key is for, e.g. chatgpt")
	fl.StringSliceVar(&scopes, "scopes", []string{string(gateway.ScopeRead)}, "read, publish, manage (comma-separated)")
	return cmd
}

func keysListCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List keys (masked: id, name, scopes, prefix, created, last used)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			keys, err := c.ListKeys(cmd.Context())
			if err != nil {
				return err
			}
			if cf.json {
				return printJSON(cmd.OutOrStdout(), map[string]any{"data": keys})
			}
			rows := make([][]string, 0, len(keys))
			for _, k := range keys {
				rows = append(rows, []string{k.ID, k.Name, gateway.JoinScopes(k.Scopes, ","), k.Prefix + "…", fmtTime(&k.Created), fmtTime(k.LastUsed)})
			}
			return table(cmd.OutOrStdout(), []string{"ID", "NAME", "SCOPES", "PREFIX", "CREATED", "LAST USED"}, rows)
		},
	}
}

func keysRevokeCmd(cf *clientFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke <id>",
		Short: "Revoke a key: it, its secret URL and the OAuth grants it approved stop working at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := cf.client()
			if err != nil {
				return err
			}
			if err := c.RevokeKey(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked key %s\n", args[0])
			return nil
		},
	}
}

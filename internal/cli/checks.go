package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

func newChecksCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "checks",
		Short: "Misconfiguration checks",
	}
	var format string
	ls := &cobra.Command{
		Use:   "list",
		Short: "List every misconfiguration check with its id, severity and why",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return &exitError{ExitError, fmt.Errorf("unknown --format %q (use table or json)", format)}
			}
			if err := misconfig.WriteCatalogue(g.stdout, format, misconfig.Catalogue()); err != nil {
				return &exitError{ExitError, err}
			}
			return nil
		},
	}
	ls.Flags().StringVarP(&format, "format", "f", "table", "table or json")
	cmd.AddCommand(ls)
	return cmd
}

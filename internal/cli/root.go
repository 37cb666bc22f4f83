// Package cli is bulkhead's command line: one file per verb, flags turned
// into options for internal/scan and internal/report.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/bulkhead-sec/bulkhead/internal/cache"
)

// Exit codes: the contract CI relies on.
const (
	ExitOK      = 0 // done; nothing blocked
	ExitBlocked = 1 // a policy blocked the artifact
	ExitError   = 2 // no verdict: bad input, unreadable image, missing DB
)

// Version is set at build time with -ldflags "-X ...cli.Version=v1.2.3".
var Version = "dev"

// globals are the flags every command shares.
type globals struct {
	cacheDir string
	quiet    bool
	debug    bool
	stdout   io.Writer
	stderr   io.Writer
	logger   *slog.Logger
}

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Run executes the command line args and returns the process exit code.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	root := newRoot(g)
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.code != ExitBlocked {
			fmt.Fprintf(stderr, "bulkhead: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "bulkhead: %v\n", err)
	return ExitError
}

func newRoot(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "bulkhead",
		Short: "Container security from build to runtime: SBOM, vulnerabilities, secrets, misconfiguration, runtime audit",
		Long: `bulkhead scans container images and filesystems.

Image references are accepted the way crane and skopeo accept them:
  docker-archive:PATH       a 'docker save' tarball
  oci-archive:PATH[:TAG]    a tarball of an OCI image layout
  oci-layout:DIR[:TAG|@DIGEST]
  dir:PATH                  an unpacked root filesystem
  docker:NAME               an image in the local Docker Engine (DOCKER_HOST)
  NAME[:TAG|@DIGEST]        an image in a registry
  PATH                      a bare path, auto-detected

Exit codes: 0 done, 1 blocked by policy, 2 error (no verdict).`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			level := slog.LevelWarn
			if g.debug {
				level = slog.LevelDebug
			}
			if g.quiet {
				level = slog.LevelError
			}
			g.logger = slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: level}))
		},
	}
	root.PersistentFlags().StringVar(&g.cacheDir, "cache-dir", cache.DefaultDir(), "cache directory (layer results, vulnerability DB)")
	root.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "no progress or warnings on stderr")
	root.PersistentFlags().BoolVar(&g.debug, "debug", false, "debug logging on stderr")
	root.AddCommand(newScanCmd(g), newSBOMCmd(g), newDBCmd(g), newChecksCmd(g), newInventoryCmd(g), newAuditCmd(g), newDriftCmd(g), newPolicyCmd(g), newVersionCmd(g))
	return root
}

func newVersionCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(g.stdout, "bulkhead %s\n", Version)
			return nil
		},
	}
}

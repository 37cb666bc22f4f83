package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulkhead-sec/bulkhead/internal/vulndb"
)

// mirrorEnv overrides the default of --mirror.
const mirrorEnv = "BULKHEAD_DB_MIRROR"

func newDBCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Manage the vulnerability database (OSV advisories)",
		Long: `The vulnerability database holds OSV advisories from osv.dev's per-ecosystem
exports, in SQLite under the cache directory (<cache-dir>/db/vuln.db).

  bulkhead db update          download the exports (needs network)
  bulkhead db import PATH...  load exports or OSV JSON copied in by hand (air-gapped)
  bulkhead db status          what the database holds and how old it is

A database is replaced only once a new one is complete and verified: an
interrupted or failed update leaves the old one in use.`,
	}
	cmd.AddCommand(newDBUpdateCmd(g), newDBImportCmd(g), newDBStatusCmd(g))
	return cmd
}

func newDBUpdateCmd(g *globals) *cobra.Command {
	var (
		mirror     string
		ecosystems []string
		retries    int
		timeout    time.Duration
	)
	defMirror := os.Getenv(mirrorEnv)
	if defMirror == "" {
		defMirror = vulndb.DefaultMirror
	}
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Download osv.dev's exports and rebuild the vulnerability database",
		Long: `Downloads <mirror>/<Ecosystem>/all.zip for each ecosystem, verifies it, and
builds a new database from the current one plus the exports. Downloads are
retried with backoff and resumed where the server allows. Nothing changes
unless every ecosystem succeeds.

Offline? Copy the exports from a connected machine and use 'bulkhead db import'.`,
		Example: `  bulkhead db update
  bulkhead db update --ecosystems Debian,npm,PyPI
  BULKHEAD_DB_MIRROR=https://osv-mirror.internal bulkhead db update
  bulkhead db update --mirror file:///mnt/osv-exports`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := vulndb.UpdateOptions{
				Mirror:     mirror,
				Ecosystems: ecosystems,
				Retries:    retries,
				Timeout:    timeout,
			}
			if retries == 0 {
				opts.Retries = -1 // the flag's 0 means none; the library's means its default
			}
			if !g.quiet {
				opts.Progress = g.stderr
			}
			st, err := vulndb.Update(cmd.Context(), g.cacheDir, opts)
			if err != nil {
				return &exitError{ExitError, err}
			}
			reportImport(g, "updated", st)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&mirror, "mirror", defMirror, "base URL of the OSV exports, <mirror>/<Ecosystem>/all.zip (http(s):// or file://; env "+mirrorEnv+")")
	fl.StringSliceVar(&ecosystems, "ecosystems", vulndb.DefaultEcosystems(), "OSV ecosystems to fetch, comma-separated")
	fl.IntVar(&retries, "retries", 4, "times a failed download is tried again")
	fl.DurationVar(&timeout, "timeout", 60*time.Second, "give up on a request that sends nothing for this long")
	return cmd
}

func newDBImportCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "import PATH...",
		Short: "Load OSV exports or OSV JSON files into the vulnerability database",
		Long: `Loads osv.dev exports (all.zip), zips of OSV JSON files, single OSV JSON files,
or directories holding any of them (searched recursively), for sites without
network access. A record replaces a stored one only if its "modified" time is
newer, so importing the same files twice changes nothing. Malformed records
are skipped with a warning.`,
		Example: `  bulkhead db import ./osv-exports            # a copy of <Ecosystem>/all.zip folders
  bulkhead db import Debian-all.zip npm-all.zip
  bulkhead db import ./advisories/GHSA-xxxx-yyyy-zzzz.json`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := vulndb.ImportOptions{}
			if !g.quiet {
				opts.Progress = g.stderr
			}
			st, err := vulndb.Import(cmd.Context(), g.cacheDir, args, opts)
			if err != nil {
				return &exitError{ExitError, err}
			}
			reportImport(g, "imported into", st)
			return nil
		},
	}
}

// maxWarningsShown caps the skip reasons printed after an import.
const maxWarningsShown = 10

// reportImport prints what an update or import did: a summary on stdout,
// skipped records as warnings on stderr.
func reportImport(g *globals, verb string, st *vulndb.ImportStats) {
	log := dbLogger(g)
	if st.Note != "" {
		log.Warn(st.Note)
	}
	for i, w := range st.Warnings {
		if i == maxWarningsShown {
			log.Warn(fmt.Sprintf("... and %d more skipped records", st.Skipped-maxWarningsShown))
			break
		}
		log.Warn("skipped record", "reason", w)
	}
	fmt.Fprintf(g.stdout, "%s %s in %s: %s records read (%s new, %s updated, %s unchanged, %s older than stored)",
		strings.ToUpper(verb[:1])+verb[1:], st.Path, st.Duration.Round(100*time.Millisecond),
		commas(st.Records), commas(st.Added), commas(st.Updated), commas(st.Unchanged), commas(st.Older))
	if st.Removed > 0 {
		fmt.Fprintf(g.stdout, ", %s removed", commas(st.Removed))
	}
	if st.Skipped > 0 {
		fmt.Fprintf(g.stdout, ", %s skipped", commas(st.Skipped))
	}
	if st.Downloaded > 0 {
		fmt.Fprintf(g.stdout, "; downloaded %s", megabytes(st.Downloaded))
	}
	fmt.Fprintln(g.stdout)
}

func newDBStatusCmd(g *globals) *cobra.Command {
	var format string
	maxAge := ageFlag(vulndb.DefaultMaxAge)
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show what the vulnerability database holds and how old it is",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "table" && format != "json" {
				return &exitError{ExitError, fmt.Errorf("--format %q: want table or json", format)}
			}
			db, err := vulndb.Open(g.cacheDir)
			if err != nil {
				return &exitError{ExitError, err}
			}
			defer db.Close()
			st, err := db.Status(cmd.Context())
			if err != nil {
				return &exitError{ExitError, err}
			}
			staleErr := db.CheckAge(time.Duration(maxAge))
			if staleErr != nil {
				dbLogger(g).Warn(staleErr.Error())
			}
			if format == "json" {
				out := struct {
					*vulndb.Status
					AgeSeconds int64 `json:"age_seconds"`
					Stale      bool  `json:"stale"`
				}{st, int64(db.Age().Seconds()), staleErr != nil}
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(out); err != nil {
					return &exitError{ExitError, fmt.Errorf("write status: %w", err)}
				}
				return nil
			}
			writeStatusTable(g.stdout, st, db.Age())
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: table|json")
	cmd.Flags().Var(&maxAge, "db-max-age", "warn when the database is older than this (e.g. 7d, 36h)")
	return cmd
}

func writeStatusTable(w io.Writer, st *vulndb.Status, age time.Duration) {
	fmt.Fprintf(w, "Database:    %s (%s, schema v%d)\n", st.Path, megabytes(st.SizeBytes), st.SchemaVersion)
	fmt.Fprintf(w, "Updated:     %s (%s ago)\n", st.BuiltAt.UTC().Format("2006-01-02 15:04 MST"), humanAge(age))
	fmt.Fprintf(w, "Advisories:  %s (%s withdrawn)\n\n", commas(st.Advisories), commas(st.Withdrawn))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ECOSYSTEM\tADVISORIES\tRELEASES\tNEWEST MODIFIED\tFETCHED\tSOURCE")
	for _, e := range st.Ecosystems {
		releases := "-"
		if len(e.Releases) > 0 {
			releases = strconv.Itoa(len(e.Releases))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, commas(e.Advisories), releases,
			dateOrDash(e.NewestModified, "2006-01-02"), dateOrDash(e.FetchedAt, "2006-01-02 15:04"), orDash(e.Source))
	}
	tw.Flush()
}

// dbLogger is the command's logger; tests run commands without the root's
// PersistentPreRun, which sets g.logger.
func dbLogger(g *globals) *slog.Logger {
	if g.logger != nil {
		return g.logger
	}
	level := slog.LevelWarn
	if g.quiet {
		level = slog.LevelError
	}
	return slog.New(slog.NewTextHandler(g.stderr, &slog.HandlerOptions{Level: level}))
}

// ageFlag is a duration flag that also takes days: "7d", "36h", "90m".
type ageFlag time.Duration

func (a *ageFlag) String() string {
	d := time.Duration(*a)
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

func (a *ageFlag) Set(s string) error {
	d, err := parseAge(s)
	if err != nil {
		return err
	}
	*a = ageFlag(d)
	return nil
}

func (a *ageFlag) Type() string { return "age" }

// parseAge reads a Go duration or a number of days ("7d", "1.5d"); 0
// turns the check off.
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(strings.TrimSpace(s), "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("age %q: want e.g. 7d or 36h", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("age %q: want e.g. 7d or 36h", s)
	}
	return d, nil
}

func humanAge(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}

// commas writes n with thousands separators: 21208 → "21,208".
func commas(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func megabytes(n int64) string {
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

func dateOrDash(t time.Time, layout string) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(layout)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

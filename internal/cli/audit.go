package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/client"
	"github.com/spf13/cobra"

	"github.com/bulkhead-sec/bulkhead/internal/audit"
	"github.com/bulkhead-sec/bulkhead/internal/respond"
	"github.com/bulkhead-sec/bulkhead/internal/siem"
)

type auditFlags struct {
	root       string
	dockerHost string
	checks     []string
	skip       []string
	exitCode   int
	severity   string
	format     string
	output     string
	syslog     string
	showPassed bool
	timeout    time.Duration
	respond    string
	forChecks  []string
	yes        bool
	allow      []string
	only       []string
	list       bool
}

func newAuditCmd(g *globals) *cobra.Command {
	var f auditFlags
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Audit this Docker host against the CIS Docker Benchmark: host, daemon, files and every container",
		Long: `Audit this Docker host against the CIS Docker Benchmark (v1.6/v1.7).

Host (section 1), daemon (2) and file (3) checks read files under --root,
so a host mounted elsewhere (bulkhead in a container with -v /:/host:ro
--root /host) or a prepared directory can be audited. Container checks
(4, 5) use the Docker Engine API; without it they are skipped and the
report is marked partial.

Results are PASS, WARN, FAIL, INFO or NOTE (not applicable, or a person
must judge). --exit-code N exits with N when a FAIL at or above --severity
remains.

--respond stop|pause acts on containers that FAIL the checks named by --for
(CIS ids or sections, or FAIL for any). It is a dry run unless --yes is
given: the plan is printed on stderr and nothing is touched. Containers
matched by --respond-allow, or labelled bulkhead.respond=never, are never
touched.`,
		Example: `  bulkhead audit
  bulkhead audit --checks 5 --format json -o audit.json
  bulkhead audit --format syslog --syslog tcp://siem.example:6514
  bulkhead audit --respond pause --for 5.5,5.32 --respond-allow name=prod-* --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The value counts, not the flag's presence: --no-dry-run=false
			// is a dry run.
			noDryRun, err := cmd.Flags().GetBool("no-dry-run")
			if err != nil {
				return &exitError{ExitError, err}
			}
			return runAudit(cmd.Context(), g, &f, noDryRun)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.root, "root", "/", "read host files (daemon.json, unit files, audit rules, /proc) under this directory")
	fl.StringVar(&f.dockerHost, "docker-host", "", "Docker Engine address (default DOCKER_HOST or the local socket)")
	fl.StringSliceVar(&f.checks, "checks", nil, "run only these checks: CIS ids (5.5), sections (5, 1.1) or globs")
	fl.StringSliceVar(&f.skip, "skip-checks", nil, "skip these checks: CIS ids, sections or globs")
	fl.IntVar(&f.exitCode, "exit-code", 0, "exit with this code when a FAIL at or above --severity remains (0: never)")
	fl.StringVar(&f.severity, "severity", "LOW", "lowest severity of a FAIL that sets --exit-code: CRITICAL, HIGH, MEDIUM, LOW")
	fl.StringVarP(&f.format, "format", "f", "table", "output format: "+strings.Join(audit.Formats(), "|"))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to FILE instead of stdout")
	fl.StringVar(&f.syslog, "syslog", "", "also send every result as RFC 5424 syslog to udp://HOST:PORT or tcp://HOST:PORT")
	fl.BoolVar(&f.showPassed, "all", false, "list passed and not-applicable (NOTE) checks in the table too")
	fl.DurationVar(&f.timeout, "timeout", 15*time.Second, "limit for each Docker API call")
	fl.StringVar(&f.respond, "respond", "", "stop or pause containers that fail the checks named by --for (dry run unless --yes)")
	fl.StringSliceVar(&f.forChecks, "for", nil, "with --respond (required): CIS ids or sections whose FAIL triggers the response, or FAIL for any")
	fl.BoolVar(&f.yes, "yes", false, "with --respond: really stop or pause (default is a dry run)")
	fl.Bool("no-dry-run", false, "same as --yes")
	fl.StringSliceVar(&f.allow, "respond-allow", nil, "never respond to containers matching name=GLOB, label=KEY or label=KEY=VALUE (repeatable)")
	fl.BoolVar(&f.list, "list-checks", false, "list the checks (id, severity, title) and exit; --format json for JSON")
	fl.StringSliceVar(&f.only, "respond-only", nil, "respond only to containers matching name=GLOB, label=KEY or label=KEY=VALUE (repeatable)")
	return cmd
}

func runAudit(ctx context.Context, g *globals, f *auditFlags, noDryRun bool) error {
	if f.list {
		if err := audit.WriteCatalogue(g.stdout, f.format); err != nil {
			return &exitError{ExitError, err}
		}
		return nil
	}
	for flag, pats := range map[string][]string{"--checks": f.checks, "--skip-checks": f.skip, "--for": f.forChecks} {
		if bad := audit.UnknownPatterns(pats); len(bad) > 0 {
			return &exitError{ExitError, fmt.Errorf("%s: no check matches %s; bulkhead audit --list-checks lists them", flag, strings.Join(bad, ", "))}
		}
	}
	if !slices.Contains(audit.Formats(), f.format) {
		return &exitError{ExitError, fmt.Errorf("unknown --format %q (use %s)", f.format, strings.Join(audit.Formats(), ", "))}
	}
	minSev := strings.ToUpper(f.severity)
	if audit.SeverityRank(minSev) == 0 {
		return &exitError{ExitError, fmt.Errorf("unknown --severity %q (use CRITICAL, HIGH, MEDIUM or LOW)", f.severity)}
	}
	var responder *respond.Responder
	if f.respond != "" {
		mode, err := respond.ParseMode(f.respond)
		if err != nil {
			return &exitError{ExitError, err}
		}
		if len(f.forChecks) == 0 {
			return &exitError{ExitError, fmt.Errorf("--respond needs --for: the CIS ids or sections whose FAIL triggers it (--for 5.5,5.32), or --for FAIL for any failing check")}
		}
		allow, err := respond.ParseRules(f.allow)
		if err != nil {
			return &exitError{ExitError, err}
		}
		only, err := respond.ParseRules(f.only)
		if err != nil {
			return &exitError{ExitError, err}
		}
		responder = &respond.Responder{Mode: mode, Allow: allow, Only: only, DryRun: !(f.yes || noDryRun), Logger: g.logger, Host: siem.Hostname()}
	}
	if st, err := os.Stat(f.root); err != nil || !st.IsDir() {
		return &exitError{ExitError, fmt.Errorf("--root %s is not a readable directory", f.root)}
	}

	// A bad --syslog address fails before anything is audited or changed.
	var remote *siem.Syslog
	if f.syslog != "" {
		s, err := siem.Dial(f.syslog)
		if err != nil {
			return &exitError{ExitError, fmt.Errorf("%w; check the --syslog address", err)}
		}
		defer s.Close()
		remote = s
	}

	opts := audit.Options{Root: f.root, Checks: f.checks, Skip: f.skip, Logger: g.logger, APITimeout: f.timeout, Host: siem.Hostname()}
	cli, err := dockerClient(f.dockerHost)
	if err != nil {
		opts.EngineErr = err
	} else {
		defer cli.Close()
		pctx, cancel := context.WithTimeout(ctx, f.timeout)
		_, perr := cli.Ping(pctx)
		cancel()
		if perr != nil {
			opts.EngineErr = fmt.Errorf("Docker Engine not reachable at %s: %v", cli.DaemonHost(), perr)
		} else {
			opts.Engine = cli
		}
	}
	rep, err := audit.Run(ctx, opts)
	if err != nil {
		return &exitError{ExitError, err}
	}
	for _, p := range rep.Partial {
		g.logger.Warn("audit partial", "reason", p)
	}

	// Respond before writing, so the report (and the SIEM events) carry
	// what was done.
	var respondErr error
	if responder != nil {
		if opts.Engine == nil {
			return &exitError{ExitError, fmt.Errorf("--respond needs the Docker Engine: %v", opts.EngineErr)}
		}
		responder.Engine = cli
		rep.Responses, respondErr = responder.Execute(ctx, responder.Plan(rep.Candidates(f.forChecks)))
		for _, a := range rep.Responses {
			fmt.Fprintln(g.stderr, "respond: "+a.Describe())
		}
		if len(rep.Responses) == 0 {
			fmt.Fprintln(g.stderr, "respond: no container fails "+strings.Join(f.forChecks, ","))
		} else if responder.DryRun {
			fmt.Fprintln(g.stderr, "respond: dry run, nothing was changed; add --yes to act")
		}
	}

	var out io.Writer = g.stdout
	if f.output != "" {
		fh, err := os.Create(f.output)
		if err != nil {
			return &exitError{ExitError, fmt.Errorf("create --output file: %w", err)}
		}
		defer fh.Close()
		out = fh
	}
	if err := audit.Write(out, f.format, rep, audit.WriteOptions{All: f.showPassed}); err != nil {
		return &exitError{ExitError, fmt.Errorf("write report: %w", err)}
	}
	if remote != nil {
		if err := audit.Emit(remote, rep); err != nil {
			return &exitError{ExitError, err}
		}
	}
	if respondErr != nil {
		return &exitError{ExitError, fmt.Errorf("respond: %w", respondErr)}
	}

	if f.exitCode != 0 {
		for _, r := range rep.Results {
			if r.Result == audit.Fail && audit.SeverityRank(r.Severity) >= audit.SeverityRank(minSev) {
				return &exitError{f.exitCode, nil}
			}
		}
	}
	return nil
}

func dockerClient(host string) (*client.Client, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to docker engine: %w", err)
	}
	return c, nil
}

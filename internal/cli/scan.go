package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer/list"
	malwarea "github.com/bulkhead-sec/bulkhead/internal/analyzer/malware"
	misconfiga "github.com/bulkhead-sec/bulkhead/internal/analyzer/misconfig"
	secreta "github.com/bulkhead-sec/bulkhead/internal/analyzer/secret"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/malware"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig/image"
	"github.com/bulkhead-sec/bulkhead/internal/policy"
	"github.com/bulkhead-sec/bulkhead/internal/progress"
	"github.com/bulkhead-sec/bulkhead/internal/report"
	"github.com/bulkhead-sec/bulkhead/internal/sbom"
	"github.com/bulkhead-sec/bulkhead/internal/scan"
	"github.com/bulkhead-sec/bulkhead/internal/source"
	"github.com/bulkhead-sec/bulkhead/internal/vulndb"
)

// scanFlags are shared by scan image, scan fs, scan sbom and sbom.
type scanFlags struct {
	findings         bool // the command reports findings (scan *), not only an inventory (sbom)
	sourceTree       bool // scan fs: lockfiles and go.mod count too
	scanners         []string
	severity         []string
	ignoreUnfixed    bool
	exitCode         int
	dbMaxAge         time.Duration
	skipChecks       []string
	secretConfig     string
	malwareDBs       []string
	maxImageAge      time.Duration
	format           string
	output           string
	noCache          bool
	platform         string
	insecureRegistry []string
	dockerHost       string
	parallel         int
	gate             gateFlags
}

func (f *scanFlags) register(cmd *cobra.Command, defaultFormat string, image bool) {
	fl := cmd.Flags()
	fl.StringVarP(&f.format, "format", "f", defaultFormat, "output format: "+strings.Join(report.Formats(), "|"))
	fl.StringVarP(&f.output, "output", "o", "", "write the report to FILE instead of stdout")
	fl.BoolVar(&f.noCache, "no-cache", false, "neither read nor write the layer cache")
	fl.IntVar(&f.parallel, "parallel", 0, "layers read at once (default: number of CPUs)")
	if f.findings {
		fl.StringSliceVar(&f.scanners, "scanners", []string{scannerVuln, scannerSecret}, "what to look for: "+strings.Join(allScanners, ","))
		fl.StringSliceVar(&f.severity, "severity", nil, "report only these severities (CRITICAL,HIGH,MEDIUM,LOW,UNKNOWN); a policy or --fail-on still judges every finding")
		fl.BoolVar(&f.ignoreUnfixed, "ignore-unfixed", false, "leave out vulnerabilities with no fix yet")
		fl.IntVar(&f.exitCode, "exit-code", 0, "exit with this code when findings remain after filtering (0: never); with --fail-on or a policy, the code for blocked instead of 1")
		fl.DurationVar(&f.dbMaxAge, "db-max-age", 7*24*time.Hour, "warn when the vulnerability DB is older than this")
		fl.StringSliceVar(&f.malwareDBs, "malware-db", nil, "malware signatures: ClamAV .hdb/.hsb/.hdu/.hsu or sha256sum lists (repeatable; EICAR is built in)")
		fl.StringVar(&f.secretConfig, "secret-config", "", "secret rules: bulkhead YAML or a gitleaks TOML config")
		fl.StringSliceVar(&f.skipChecks, "skip-checks", nil, "misconfiguration check ids to skip (BH-DF-003, BH-K8S-*); see bulkhead checks list")
		fl.DurationVar(&f.maxImageAge, "max-image-age", 0, "report images older than this (misconfig BH-IMG-010; default 180 days, negative: never)")
		f.gate.register(cmd)
	}
	if image {
		fl.StringVar(&f.platform, "platform", "", "platform of a multi-arch image, os/arch[/variant] (default linux/<host arch>)")
		fl.StringSliceVar(&f.insecureRegistry, "insecure-registry", nil, "registry host[:port] to reach over plain HTTP (repeatable)")
		fl.StringVar(&f.dockerHost, "docker-host", "", "Docker Engine address for docker: references (default DOCKER_HOST)")
	}
}

func newScanCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scan",
		Short: "Scan an image or a filesystem",
	}
	imgFlags, fsFlags, sbomFlags := scanFlags{findings: true}, scanFlags{findings: true}, scanFlags{findings: true}
	image := &cobra.Command{
		Use:   "image REF",
		Short: "Scan a container image",
		Long:  "Scan a container image.\n\n" + gateHelp,
		Example: `  bulkhead scan image docker-archive:app.tar
  bulkhead scan image oci-layout:./layout:1.0 --format json -o report.json
  bulkhead scan image registry.example:5000/app:1.2 --platform linux/arm64`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), g, &imgFlags, args[0])
		},
	}
	imgFlags.register(image, "table", true)
	fs := &cobra.Command{
		Use:   "fs PATH",
		Short: "Scan a directory (a root filesystem or a source tree), or a manifest on stdin (-)",
		Long: `Scan a directory: a root filesystem or a source tree. Dockerfiles in it
are checked against the policy's sources rules (FROM lines).

With PATH "-", read one Dockerfile, Kubernetes manifest (several YAML
documents are fine) or Compose file from standard input and check it for
misconfigurations only; --scanners does not apply.

` + gateHelp,
		Example: `  bulkhead scan fs ./rootfs
  helm template ./chart | bulkhead scan fs - --exit-code 1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] == "-" {
				return runStdinScan(cmd.Context(), g, &fsFlags, cmd.InOrStdin())
			}
			fsFlags.sourceTree = true
			fsFlags.gate.dir = args[0]
			return runScan(cmd.Context(), g, &fsFlags, source.Dir+":"+args[0])
		},
	}
	fsFlags.register(fs, "table", false)
	sbomCmd := &cobra.Command{
		Use:   "sbom FILE",
		Short: "Check a stored SBOM (CycloneDX or SPDX JSON from bulkhead, Syft or Trivy) against today's advisories",
		Long:  "Check a stored SBOM against today's advisories.\n\n" + gateHelp,
		Example: `  bulkhead scan sbom app.cdx.json
  bulkhead scan sbom app.spdx.json --severity CRITICAL,HIGH --exit-code 1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), g, &sbomFlags, sbomPrefix+args[0])
		},
	}
	sbomFlags.register(sbomCmd, "table", false)
	cmd.AddCommand(image, fs, sbomCmd)
	return cmd
}

func newSBOMCmd(g *globals) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "sbom REF",
		Short: "Write a software bill of materials (CycloneDX 1.6 or SPDX 2.3 JSON)",
		Example: `  bulkhead sbom docker-archive:app.tar > app.cdx.json
  bulkhead sbom oci-layout:./layout --format spdx-json -o app.spdx.json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), g, &f, args[0])
		},
	}
	f.register(cmd, "cyclonedx-json", true)
	return cmd
}

// sbomPrefix marks a scan sbom argument; it is not a source transport.
const sbomPrefix = "\x00sbom:"

func runScan(ctx context.Context, g *globals, f *scanFlags, ref string) error {
	if _, err := report.ParseFormat(f.format); err != nil {
		return &exitError{ExitError, err}
	}
	scanners, err := parseScanners(f.scanners)
	if err != nil {
		return &exitError{ExitError, err}
	}
	if !f.findings {
		scanners = nil
	}
	gate, err := f.gate.load(g)
	if err != nil {
		return &exitError{ExitError, err}
	}
	opts := scan.Options{
		Mode:     list.Image,
		CacheDir: g.cacheDir,
		NoCache:  f.noCache,
		Parallel: f.parallel,
		Progress: progress.New(g.stderr, g.quiet),
		Logger:   g.logger,
	}
	if f.sourceTree {
		opts.Mode = list.SourceTree
	}
	if scanners[scannerSecret] {
		cfg := secreta.DefaultConfig()
		if f.secretConfig != "" {
			c, warnings, err := secreta.ConfigFromFile(f.secretConfig)
			if err != nil {
				return &exitError{ExitError, err}
			}
			for _, w := range warnings {
				g.logger.Warn("secret config: " + w)
			}
			cfg = c
		}
		a, err := secreta.New(cfg)
		if err != nil {
			return &exitError{ExitError, err}
		}
		opts.Secrets = a
	}
	if scanners[scannerMalware] {
		db, err := malware.Load(f.malwareDBs...)
		if err != nil {
			return &exitError{ExitError, err}
		}
		if db.HasAnySize() {
			g.logger.Warn("a malware list without file sizes makes every file be hashed")
		}
		opts.Malware = malwarea.New(db)
	}
	if scanners[scannerMisconfig] {
		if err := misconfig.ValidateSkip(f.skipChecks); err != nil {
			return &exitError{ExitError, err}
		}
		opts.Misconfig = true
		opts.MisconfigOptions = image.Options{Options: misconfig.Options{Skip: f.skipChecks}, MaxAge: f.maxImageAge}
	}
	if scanners[scannerVuln] {
		db, err := vulndb.Open(g.cacheDir)
		if err != nil {
			return &exitError{ExitError, err}
		}
		defer db.Close()
		if err := db.CheckAge(f.dbMaxAge); err != nil && !g.quiet {
			g.logger.Warn(err.Error())
		}
		opts.Vulns = db
	}
	var target *source.Target
	if file, ok := strings.CutPrefix(ref, sbomPrefix); ok {
		inv, err := readSBOM(file)
		if err != nil {
			return &exitError{ExitError, err}
		}
		target = &source.Target{Inventory: inv, Ref: file}
	} else {
		target, err = source.Open(ctx, ref, source.Options{
			Platform:         f.platform,
			InsecureRegistry: f.insecureRegistry,
			DockerHost:       f.dockerHost,
			TempDir:          filepath.Join(g.cacheDir, "tmp"),
		})
		if err != nil {
			return &exitError{ExitError, err}
		}
	}
	if target.Image != nil {
		defer target.Image.Close()
	}
	res, err := scan.Run(ctx, target, opts)
	if err != nil {
		return &exitError{ExitError, err}
	}
	inv, verdict, err := judge(ctx, g, f, gate, &res.Inventory)
	if err != nil {
		return &exitError{ExitError, err}
	}
	remaining := gate.newFindings(inv)
	g.logger.Debug("scan done", "layers", res.Stats.Layers, "cached", res.Stats.LayersCached,
		"bytes", res.Stats.BytesRead, "files", res.Stats.Files, "duration", res.Stats.Duration)
	if !g.quiet {
		for _, w := range res.Inventory.Warnings {
			g.logger.Warn(w.String())
		}
	}
	return finishScan(g, f, gate, inv, verdict, remaining)
}

// finishScan writes the report and decides the exit code: with a policy
// (or --fail-on) the verdict decides (blocked: 1, or --exit-code when set);
// without one, --exit-code N applies to the findings that remain.
func finishScan(g *globals, f *scanFlags, gate *gate, inv *inventory.Inventory, verdict *policy.Verdict, remaining int) error {
	format, _ := report.ParseFormat(f.format)
	inTable := verdict != nil && format == report.FormatTable && (f.output == "" || f.output == "-")
	ropts := report.Options{ToolVersion: Version, Verdict: verdict, ShowSuppressed: f.gate.showSuppressed}
	if err := writeReport(g, f, func(w io.Writer) error {
		return report.Write(w, f.format, inv, ropts)
	}); err != nil {
		return err
	}
	if verdict != nil {
		if !inTable && !g.quiet {
			// The WHY goes to the log even when the report goes to a file.
			verdict.WriteText(g.stderr, f.gate.showSuppressed)
		}
		writeAnnotations(g, gate, inv, verdict)
	}
	if gate.decides() {
		if verdict.Blocked {
			code := ExitBlocked
			if f.exitCode != 0 {
				code = f.exitCode
			}
			return &exitError{code: code, err: fmt.Errorf("blocked by policy %q", verdict.Policy)}
		}
		return nil
	}
	if remaining > 0 && f.exitCode != 0 {
		return &exitError{code: f.exitCode, err: fmt.Errorf("%d findings", remaining)}
	}
	return nil
}

// stdinName is the path misconfigurations read from stdin are reported at.
const stdinName = "stdin"

// runStdinScan is scan fs -: one Dockerfile, Kubernetes manifest stream or
// Compose file on r, checked for misconfigurations. Input that cannot be
// read or recognised is an error (no verdict); a stream in which some
// documents fail to parse is reported with a warning when the others
// produced findings.
func runStdinScan(ctx context.Context, g *globals, f *scanFlags, r io.Reader) error {
	if _, err := report.ParseFormat(f.format); err != nil {
		return &exitError{ExitError, err}
	}
	if err := misconfig.ValidateSkip(f.skipChecks); err != nil {
		return &exitError{ExitError, err}
	}
	gate, err := f.gate.load(g)
	if err != nil {
		return &exitError{ExitError, err}
	}
	findings, err := misconfiga.ScanReader(ctx, stdinName, r, misconfig.Options{Skip: f.skipChecks})
	inv := inventory.Inventory{
		Artifact:          inventory.Artifact{Type: inventory.ArtifactFilesystem, Name: "-"},
		Misconfigurations: findings,
	}
	switch {
	case err != nil && len(findings) == 0:
		return &exitError{ExitError, err}
	case err != nil:
		inv.Warnings = append(inv.Warnings, inventory.Warning{Analyzer: misconfiga.Name, Message: err.Error()})
	}
	if inv.Misconfigurations == nil {
		inv.Misconfigurations = []misconfig.Finding{} // ran, found nothing
	}
	gated, verdict, err := judge(ctx, g, f, gate, &inv)
	if err != nil {
		return &exitError{ExitError, err}
	}
	remaining := gate.newFindings(gated)
	if !g.quiet {
		for _, w := range inv.Warnings {
			g.logger.Warn(w.String())
		}
	}
	return finishScan(g, f, gate, gated, verdict, remaining)
}

func readSBOM(file string) (*inventory.Inventory, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("open SBOM: %w", err)
	}
	defer fh.Close()
	return sbom.Read(fh, file)
}

// Scanners.
const (
	scannerVuln      = "vuln"
	scannerSecret    = "secret"
	scannerMisconfig = "misconfig"
	scannerMalware   = "malware"
)

var allScanners = []string{scannerVuln, scannerSecret, scannerMisconfig, scannerMalware}

func parseScanners(names []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		known := false
		for _, s := range allScanners {
			known = known || s == n
		}
		if !known {
			return nil, fmt.Errorf("unknown scanner %q (use %s)", n, strings.Join(allScanners, ","))
		}
		out[n] = true
	}
	return out, nil
}

// judge applies the command line's criteria and the gate to a scan's
// findings. --ignore-unfixed is a criterion and applies first. --severity
// chooses what the report lists: without a policy it also decides what
// --exit-code counts, but a policy (or --fail-on) judges every finding,
// so "--severity LOW" can never hide a CRITICAL from it.
func judge(ctx context.Context, g *globals, f *scanFlags, gate *gate, inv *inventory.Inventory) (*inventory.Inventory, *policy.Verdict, error) {
	dropUnfixed(inv, f)
	if !gate.decides() {
		filterSeverity(inv, f)
	}
	gated, verdict, err := gate.evaluate(ctx, g, f, inv)
	if err != nil {
		return nil, nil, err
	}
	if gate.decides() {
		filterSeverity(gated, f)
	}
	return gated, verdict, nil
}

// dropUnfixed removes the vulnerabilities with no fixed version when
// --ignore-unfixed is set: a criterion, as in other scanners, so it applies
// before the gate judges.
func dropUnfixed(inv *inventory.Inventory, f *scanFlags) {
	if !f.ignoreUnfixed || inv.Vulnerabilities == nil {
		return
	}
	kept := make([]inventory.Vulnerability, 0, len(inv.Vulnerabilities))
	for _, v := range inv.Vulnerabilities {
		if v.FixedVersion != "" {
			kept = append(kept, v)
		}
	}
	inv.Vulnerabilities = kept
}

// filterSeverity keeps the findings of the --severity levels (all without
// the flag) and returns how many findings remain. It chooses what the
// report shows; when a policy decides, the policy has already judged every
// finding. New slices are made: a verdict may point into the old ones.
func filterSeverity(inv *inventory.Inventory, f *scanFlags) int {
	sev := map[string]bool{}
	for _, s := range f.severity {
		sev[strings.ToUpper(strings.TrimSpace(s))] = true
	}
	if len(sev) > 0 {
		inv.Secrets = keep(inv.Secrets, func(s inventory.Secret) bool { return sev[s.Severity] })
		inv.Malware = keep(inv.Malware, func(m inventory.Malware) bool { return sev[m.Severity] })
		inv.Misconfigurations = keep(inv.Misconfigurations, func(m misconfig.Finding) bool { return sev[m.Severity] })
		inv.Vulnerabilities = keep(inv.Vulnerabilities, func(v inventory.Vulnerability) bool { return sev[v.Severity] })
	}
	return countFindings(inv)
}

// keep returns the elements of xs for which ok is true, in a new slice; nil
// stays nil (a scanner that did not run).
func keep[T any](xs []T, ok func(T) bool) []T {
	if xs == nil {
		return nil
	}
	out := make([]T, 0, len(xs))
	for _, x := range xs {
		if ok(x) {
			out = append(out, x)
		}
	}
	return out
}

// countFindings counts the scanner findings of an inventory.
func countFindings(inv *inventory.Inventory) int {
	return len(inv.Vulnerabilities) + len(inv.Secrets) + len(inv.Malware) + len(inv.Misconfigurations)
}

// writeReport writes to --output (atomically) or stdout.
func writeReport(g *globals, f *scanFlags, write func(io.Writer) error) error {
	if f.output == "" || f.output == "-" {
		if err := write(g.stdout); err != nil {
			return &exitError{ExitError, fmt.Errorf("write report: %w", err)}
		}
		return nil
	}
	dir := filepath.Dir(f.output)
	tmp, err := os.CreateTemp(dir, ".bulkhead-report-*")
	if err != nil {
		return &exitError{ExitError, fmt.Errorf("write report: %w", err)}
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return &exitError{ExitError, fmt.Errorf("write report: %w", err)}
	}
	if err := tmp.Close(); err != nil {
		return &exitError{ExitError, fmt.Errorf("write report: %w", err)}
	}
	if err := os.Rename(tmp.Name(), f.output); err != nil {
		return &exitError{ExitError, fmt.Errorf("write report: %w", err)}
	}
	return nil
}

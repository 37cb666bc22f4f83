package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulkhead-sec/bulkhead/internal/basecheck"
	"github.com/bulkhead-sec/bulkhead/internal/baseline"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/policy"
	"github.com/bulkhead-sec/bulkhead/internal/report"
	"github.com/bulkhead-sec/bulkhead/internal/source"
	"github.com/bulkhead-sec/bulkhead/internal/vex"
)

// gateHelp documents the exit-code contract and the gate's flags; scan
// image|fs|sbom and policy test show it.
const gateHelp = `The gate:
  --fail-on SEVERITY   block on vulnerabilities, secrets, malware and
                       misconfigurations at or above SEVERITY
  --policy FILE        a policy file (default: .bulkhead/policy.yaml in the
                       scanned directory for scan fs, else in the current one)
  --ignorefile FILE    exceptions with an expiry date (default:
                       .bulkheadignore.yaml, found the same way)
  --vex FILE           OpenVEX or CycloneDX VEX: not_affected suppresses
  --baseline FILE      an earlier JSON report: only new findings can block
The table output ends with the verdict: BLOCKED and why, grouped by the fix,
or PASSED; other formats carry it (json: "verdict") and print it on stderr.

Exit codes (what CI relies on):
  0  passed: no policy, or nothing blocked
  1  blocked by the policy or --fail-on (--exit-code N: N instead)
  2  no verdict: bad reference, unreadable image, no vulnerability DB,
     invalid policy or ignore file
Without --fail-on or a policy, --exit-code N exits N when findings remain
after --severity, --ignore-unfixed and the ignore file.`

// gateFlags are the policy flags of scan image|fs|sbom.
type gateFlags struct {
	enabled        bool
	failOn         string
	policyFile     string
	ignoreFile     string
	showSuppressed bool
	vexFiles       []string
	baselineFile   string
	dir            string // scan fs: the scanned directory, searched first
	noDiscover     bool   // policy test: only the files named
	now            time.Time
}

func (f *gateFlags) register(cmd *cobra.Command) {
	f.enabled = true
	fl := cmd.Flags()
	fl.StringVar(&f.failOn, "fail-on", "", "block (exit 1) on findings of this severity or worse: CRITICAL|HIGH|MEDIUM|LOW")
	fl.StringVar(&f.policyFile, "policy", "", "policy file (default "+policy.DefaultPolicyFile+" in the scanned or current directory)")
	fl.StringVar(&f.ignoreFile, "ignorefile", "", "exceptions file (default "+policy.DefaultIgnoreFile+" in the scanned or current directory)")
	fl.BoolVar(&f.showSuppressed, "show-suppressed", false, "list the findings exceptions and VEX suppressed, and why")
	fl.StringSliceVar(&f.vexFiles, "vex", nil, "VEX documents (OpenVEX, CycloneDX VEX): vulnerabilities a statement says are not_affected (or fixed) are suppressed (repeatable)")
	fl.StringVar(&f.baselineFile, "baseline", "", "an earlier JSON report (scan --format json): only findings not in it can block; the others are listed as pre-existing")
}

// gate is what the flags loaded: the policy (or nil), exceptions, VEX
// statements, the baseline and the approved bases read from files.
type gate struct {
	policy     *policy.Policy
	exceptions []policy.Exception
	ignoreFile string
	dir        string
	vex        *vex.Set
	baseline   *baseline.Set
	bases      []basecheck.Base // from approvedBase files
	baseRefs   []string         // approvedBase images, read after the scan
	now        time.Time        // zero: the clock
}

// decides reports whether the verdict sets the exit code: a policy or
// --fail-on was given.
func (g *gate) decides() bool { return g != nil && g.policy != nil }

// discover returns name in the scanned directory, else the current one,
// when it exists.
func discover(dir, name string) string {
	for _, d := range []string{dir, "."} {
		if d == "" {
			continue
		}
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// load reads the policy and ignore file before the scan starts, so an
// invalid one fails fast (exit 2).
func (f *gateFlags) load(g *globals) (*gate, error) {
	gt := &gate{dir: f.dir, now: f.now}
	if !f.enabled {
		return gt, nil
	}
	file := f.policyFile
	if file == "" {
		file = discover(f.dir, policy.DefaultPolicyFile)
		if file != "" && !g.quiet {
			g.logger.Info("using policy " + file)
		}
	}
	if file != "" {
		p, err := policy.LoadFile(file)
		if err != nil {
			return nil, fmt.Errorf("policy: %w (bulkhead policy test checks a policy against a saved report)", err)
		}
		gt.policy = p
	}
	if f.failOn != "" {
		rules, err := policy.FailOn(f.failOn)
		if err != nil {
			return nil, err
		}
		if gt.policy == nil {
			gt.policy = &policy.Policy{Name: "--fail-on " + strings.ToUpper(strings.TrimSpace(f.failOn))}
		} else {
			cp := *gt.policy
			cp.Rules = append([]*policy.Rule(nil), cp.Rules...)
			gt.policy = &cp
		}
		gt.policy.Rules = append(gt.policy.Rules, rules...)
	}
	if gt.policy != nil {
		for _, br := range gt.policy.BaseRules() {
			if br.File != "" {
				bs, err := basecheck.LoadBases(br.File)
				if err != nil {
					return nil, fmt.Errorf("policy %s: approvedBase: %w (bulkhead policy baseline REF -o FILE writes one)", gt.policy.File, err)
				}
				gt.bases = basecheck.Merge(gt.bases, bs)
			}
			gt.baseRefs = append(gt.baseRefs, br.Images...)
		}
	}
	if len(f.vexFiles) > 0 {
		set, err := vex.Load(f.vexFiles...)
		if err != nil {
			return nil, fmt.Errorf("--vex: %w", err)
		}
		gt.vex = set
	}
	if f.baselineFile != "" {
		set, err := baseline.Load(f.baselineFile)
		if err != nil {
			return nil, fmt.Errorf("--baseline: %w", err)
		}
		gt.baseline = set
	}
	ig := f.ignoreFile
	if ig == "" && !f.noDiscover {
		ig = discover(f.dir, policy.DefaultIgnoreFile)
	}
	if ig != "" {
		ex, err := policy.LoadIgnoreFile(ig)
		if err != nil {
			return nil, fmt.Errorf("ignore file: %w", err)
		}
		gt.exceptions, gt.ignoreFile = ex, ig
	}
	return gt, nil
}

// evaluate applies the gate to a scanned inventory. It returns the
// inventory to report (suppressed findings removed) and the verdict, or
// the inventory unchanged and nil when there is neither a policy, an
// ignore file, VEX nor a baseline. An error means no verdict: the
// approved base images could not be read.
func (gt *gate) evaluate(ctx context.Context, g *globals, f *scanFlags, inv *inventory.Inventory) (*inventory.Inventory, *policy.Verdict, error) {
	if gt == nil || (gt.policy == nil && gt.exceptions == nil && gt.vex == nil && gt.baseline == nil) {
		return inv, nil, nil
	}
	in := policy.Input{Inventory: inv, Exceptions: gt.exceptions, Now: gt.now}
	if gt.policy != nil && gt.policy.NeedsFroms() && gt.dir != "" {
		froms, warnings := policy.DockerfileFroms(gt.dir)
		for _, w := range warnings {
			g.logger.Warn("policy sources: " + w)
		}
		in.Froms = froms
	}
	if gt.vex != nil {
		in.VEX = vexStatements{gt.vex}
	}
	if gt.baseline != nil {
		in.Baseline = baselineSet{gt.baseline}
	}
	if gt.policy != nil && len(gt.policy.BaseRules()) > 0 && inv.Artifact.Type == inventory.ArtifactImage {
		bases := gt.bases
		opts := source.Options{Platform: f.platform, InsecureRegistry: f.insecureRegistry, DockerHost: f.dockerHost,
			TempDir: filepath.Join(g.cacheDir, "tmp")}
		for _, ref := range gt.baseRefs {
			b, err := recordBase(ctx, ref, opts)
			if err != nil {
				return nil, nil, fmt.Errorf("policy %s: approvedBase image %s: %w", gt.policy.File, ref, err)
			}
			bases = basecheck.Merge(bases, []basecheck.Base{b})
		}
		res := basecheck.Check(inv, bases)
		in.Base = &policy.BaseCheck{Approved: res.Approved, Base: res.Base, Nearest: res.Nearest,
			MatchedLayers: res.MatchedLayers, DifferingLayers: res.DifferingLayers, Reason: res.Reason}
		if res.BaseLayers > 0 {
			in.Origin = res.Origin // every finding labelled base or app
		}
	}
	v, kept := policy.Apply(gt.policy, in)
	return kept, v, nil
}

// vexStatements adapts internal/vex to the policy's VEX plug.
type vexStatements struct{ set *vex.Set }

func (x vexStatements) NotAffected(v *inventory.Vulnerability) (string, string, bool) {
	st, ok := x.set.Lookup(v.ID, append(append([]string(nil), v.Aliases...), v.Advisories...), v.Package.PURL)
	if !ok || !st.Suppresses() {
		return "", "", false
	}
	why := st.Status
	if st.Justification != "" {
		why += " (" + st.Justification + ")"
	}
	if st.Impact != "" {
		why += ": " + st.Impact
	}
	return st.Source, why, true
}

// baselineSet adapts internal/baseline to the policy's baseline plug.
type baselineSet struct{ set *baseline.Set }

func (b baselineSet) HasVuln(v *inventory.Vulnerability) bool { return b.set.HasVuln(*v) }
func (b baselineSet) HasSecret(s *inventory.Secret) bool      { return b.set.Has(baseline.SecretKey(*s)) }
func (b baselineSet) HasMisconfig(m *misconfig.Finding) bool {
	return b.set.Has(baseline.MisconfigKey(*m))
}
func (b baselineSet) HasMalware(m *inventory.Malware) bool { return b.set.Has(baseline.MalwareKey(*m)) }

// newFindings counts the findings not in the baseline (all of them
// without one): what --exit-code counts when no policy decides.
func (gt *gate) newFindings(inv *inventory.Inventory) int {
	if gt == nil || gt.baseline == nil {
		return countFindings(inv)
	}
	b, n := baselineSet{gt.baseline}, 0
	for i := range inv.Vulnerabilities {
		if !b.HasVuln(&inv.Vulnerabilities[i]) {
			n++
		}
	}
	for i := range inv.Secrets {
		if !b.HasSecret(&inv.Secrets[i]) {
			n++
		}
	}
	for i := range inv.Misconfigurations {
		if !b.HasMisconfig(&inv.Misconfigurations[i]) {
			n++
		}
	}
	for i := range inv.Malware {
		if !b.HasMalware(&inv.Malware[i]) {
			n++
		}
	}
	return n
}

// writeAnnotations prints GitHub Actions workflow commands for findings
// in files of the checkout, when GITHUB_ACTIONS=true: misconfigurations
// and FROM lines of a scan fs (paths rooted at the scanned directory), and
// expired entries of the ignore file. Paths inside an image are not files
// of the checkout and get none. File paths are relative to
// GITHUB_WORKSPACE (else the current directory), as Actions wants.
func writeAnnotations(g *globals, gt *gate, inv *inventory.Inventory, v *policy.Verdict) {
	if os.Getenv("GITHUB_ACTIONS") != "true" {
		return
	}
	workspace, err := filepath.Abs(cmpOr(os.Getenv("GITHUB_WORKSPACE"), "."))
	if err != nil {
		return
	}
	fs := inv.Artifact.Type == inventory.ArtifactFilesystem && gt != nil && gt.dir != ""
	for _, rs := range []struct {
		level   string
		reasons []policy.Reason
	}{{"error", v.Reasons}, {"warning", v.Warnings}} {
		for _, r := range rs.reasons {
			for _, f := range r.Findings {
				var local string
				switch {
				case f.Kind == "exception" && f.Path != "":
					local = f.Path
				case fs && strings.HasPrefix(f.Path, "/"):
					local = filepath.Join(gt.dir, filepath.FromSlash(f.Path[1:]))
				default:
					continue
				}
				abs, err := filepath.Abs(local)
				if err != nil {
					continue
				}
				rel, err := filepath.Rel(workspace, abs)
				if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
					continue
				}
				props := "file=" + ghaProperty(filepath.ToSlash(rel))
				if f.Line > 0 {
					props += ",line=" + strconv.Itoa(f.Line)
				}
				props += ",title=" + ghaProperty(f.ID+" ("+r.Rule+")")
				msg := r.Fix
				if f.Message != "" && f.Message != r.Fix {
					msg = f.Message + ": " + r.Fix
				}
				fmt.Fprintf(g.stderr, "::%s %s::%s\n", rs.level, props, ghaData(msg))
			}
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ghaData and ghaProperty escape workflow command values as the Actions
// toolkit does.
func ghaData(s string) string {
	return noControl(strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s))
}

func ghaProperty(s string) string {
	return noControl(strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s))
}

// noControl replaces the control characters left (from image content) so
// they cannot drive the log viewer.
func noControl(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

func newPolicyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Write, test and export the CI/CD gate's policy and exceptions",
	}
	cmd.AddCommand(newPolicyTestCmd(g), newPolicyInitCmd(g), newPolicyVEXCmd(g), newPolicyBaselineCmd(g))
	return cmd
}

func newPolicyTestCmd(g *globals) *cobra.Command {
	var reportFile, format, at string
	var gf gateFlags
	cmd := &cobra.Command{
		Use:   "test POLICY --report report.json",
		Short: "Evaluate a policy against a saved JSON report, without rescanning",
		Long: `Evaluate a policy against a report written by
  bulkhead scan image REF --format json -o report.json
and print the verdict, as scan would with --policy POLICY. Sources rules see
the report's image reference (FROM lines of Dockerfiles are not in a
report); approvedBase rules compare the report's layer digests.

Exit codes: 0 passed, 1 blocked, 2 no verdict (invalid policy, unreadable
report).`,
		Example: `  bulkhead policy test .bulkhead/policy.yaml --report report.json
  bulkhead policy test policy.yaml --report report.json --ignorefile .bulkheadignore.yaml --format json
  bulkhead policy test policy.yaml --report report.json --now 2027-01-15`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return &exitError{ExitError, fmt.Errorf("unknown --format %q (use table or json)", format)}
			}
			if reportFile == "" {
				return &exitError{ExitError, errors.New("--report is required: a JSON report from bulkhead scan ... --format json")}
			}
			if at != "" {
				t, err := time.Parse(time.DateOnly, at)
				if err != nil {
					return &exitError{ExitError, fmt.Errorf("--now %q: want YYYY-MM-DD", at)}
				}
				gf.now = t
			}
			if strings.TrimSpace(args[0]) == "" {
				return &exitError{ExitError, errors.New("policy test needs a policy file: bulkhead policy test POLICY --report report.json")}
			}
			gf.enabled, gf.noDiscover, gf.policyFile = true, true, args[0]
			gt, err := gf.load(g)
			if err != nil {
				return &exitError{ExitError, err}
			}
			if gt == nil || gt.policy == nil {
				return &exitError{ExitError, fmt.Errorf("%s: no policy was loaded", args[0])}
			}
			inv, err := readReport(reportFile)
			if err != nil {
				return &exitError{ExitError, err}
			}
			_, v, err := gt.evaluate(cmd.Context(), g, &scanFlags{}, inv)
			if err != nil {
				return &exitError{ExitError, err}
			}
			if format == "json" {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				err = enc.Encode(v)
			} else {
				err = v.WriteText(g.stdout, gf.showSuppressed)
			}
			if err != nil {
				return &exitError{ExitError, err}
			}
			if v.Blocked {
				return &exitError{ExitBlocked, fmt.Errorf("blocked by policy %q", v.Policy)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&reportFile, "report", "", "JSON report (bulkhead scan --format json)")
	fl.StringVar(&gf.ignoreFile, "ignorefile", "", "exceptions file")
	fl.StringSliceVar(&gf.vexFiles, "vex", nil, "VEX documents (repeatable)")
	fl.StringVar(&gf.baselineFile, "baseline", "", "an earlier JSON report: only findings not in it can block")
	fl.StringVarP(&format, "format", "f", "table", "table or json (the verdict)")
	fl.BoolVar(&gf.showSuppressed, "show-suppressed", false, "list suppressed findings and why")
	fl.StringVar(&at, "now", "", "evaluate as of this date (YYYY-MM-DD): expiry and age rules")
	return cmd
}

func readReport(file string) (*inventory.Inventory, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	defer fh.Close()
	inv, err := report.ReadJSON(io.LimitReader(fh, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return inv, nil
}

func newPolicyInitCmd(g *globals) *cobra.Command {
	var output string
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented starter policy",
		Example: `  bulkhead policy init                      # writes .bulkhead/policy.yaml
  bulkhead policy init -o - | less`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output == "-" {
				_, err := io.WriteString(g.stdout, policy.Starter)
				return err
			}
			if _, err := os.Stat(output); err == nil && !force {
				return &exitError{ExitError, fmt.Errorf("%s exists; --force overwrites it", output)}
			}
			if err := os.MkdirAll(filepath.Dir(output), 0o755); err != nil {
				return &exitError{ExitError, err}
			}
			if err := os.WriteFile(output, []byte(policy.Starter), 0o644); err != nil {
				return &exitError{ExitError, err}
			}
			fmt.Fprintf(g.stderr, "wrote %s; check it with: bulkhead policy test %s --report report.json\n", output, output)
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", policy.DefaultPolicyFile, "where to write it (- for stdout)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}

func newPolicyVEXCmd(g *globals) *cobra.Command {
	var ignoreFile, author, output, product, reportFile string
	cmd := &cobra.Command{
		Use:   "vex",
		Short: "Export the accepted exceptions of the ignore file as an OpenVEX document",
		Long: `Export the accepted exceptions as OpenVEX: every entry of the ignore file
that names a vulnerability (CVE, GHSA, distro advisory...) and has not
expired becomes a not_affected statement whose impact statement is the
reason, owner and expiry. Entries for secrets and misconfiguration checks
are not VEX material and are left out.

The product of a statement is the entry's image scope, else --product, else
the image of --report. An entry's package scope becomes subcomponents: the
PURLs of the matching packages of --report, else pkg:generic/NAME (pass
--report so the PURLs match the scanned packages). An entry scoped by path is
left out with a warning: VEX cannot say "only at this path".

A VEX statement does not expire: the expiry date is in its impact
statement, and the document should be exported again when the ignore file
changes.`,
		Example: `  bulkhead policy vex --author platform-team --report report.json > exceptions.openvex.json
  bulkhead policy vex --author platform-team --product registry.example.com/app:1.2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			file := ignoreFile
			if file == "" {
				file = discover("", policy.DefaultIgnoreFile)
			}
			if file == "" {
				return &exitError{ExitError, fmt.Errorf("no ignore file: pass --ignorefile or create %s", policy.DefaultIgnoreFile)}
			}
			ex, err := policy.LoadIgnoreFile(file)
			if err != nil {
				return &exitError{ExitError, err}
			}
			var inv *inventory.Inventory
			if reportFile != "" {
				if inv, err = readReport(reportFile); err != nil {
					return &exitError{ExitError, err}
				}
				if product == "" {
					product = inv.Artifact.Name
				}
			}
			accepted := policy.VEXExceptions(ex, time.Now())
			if len(accepted) == 0 {
				return &exitError{ExitError, fmt.Errorf("%s has no unexpired vulnerability exceptions to export", file)}
			}
			stmts := make([]vex.Statement, 0, len(accepted))
			for _, e := range accepted {
				if e.Path != "" {
					// VEX has no way to say "only at this path": exporting it
					// would suppress the vulnerability everywhere.
					g.logger.Warn("left out: a path-scoped exception is narrower than any VEX statement", "exception", e.ID, "path", e.Path, "at", e.Where())
					continue
				}
				st := vex.Statement{VulnID: e.ID, Status: vex.StatusNotAffected, Impact: exceptionImpact(&e)}
				switch {
				case e.Image != "":
					st.Products = []string{e.Image}
				case product != "":
					st.Products = []string{product}
				}
				if e.Package != "" {
					st.Subcomponents = packagePURLs(inv, e.Package)
				}
				if len(st.Products) == 0 && len(st.Subcomponents) == 0 {
					return &exitError{ExitError, fmt.Errorf("%s: exception %s names no image or package: pass --product REF or --report report.json", e.Where(), e.ID)}
				}
				stmts = append(stmts, st)
			}
			f := &scanFlags{output: output}
			return writeReport(g, f, func(w io.Writer) error {
				return vex.WriteOpenVEX(w, stmts, author)
			})
		},
	}
	cmd.Flags().StringVar(&ignoreFile, "ignorefile", "", "exceptions file (default "+policy.DefaultIgnoreFile+")")
	cmd.Flags().StringVar(&author, "author", "", "the document's author, a person or team (required)")
	cmd.Flags().StringVar(&product, "product", "", "the image the exceptions are about, for entries without an image scope")
	cmd.Flags().StringVar(&reportFile, "report", "", "a JSON report of the image: its name is the product, its packages' PURLs the subcomponents")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to FILE instead of stdout")
	return cmd
}

// exceptionImpact is an exception's reason, owner and expiry, for VEX.
func exceptionImpact(e *policy.Exception) string {
	s := e.Reason
	if e.Owner != "" {
		s += " (owner: " + e.Owner + ")"
	}
	return s + "; accepted until " + e.ExpiresString()
}

// packagePURLs are the PURLs of the report's packages whose name or
// source name matches pattern (sorted, distinct), else pkg:generic/NAME.
func packagePURLs(inv *inventory.Inventory, pattern string) []string {
	var out []string
	if inv != nil {
		for _, p := range inv.Packages {
			src := ""
			if p.Source != nil {
				src = p.Source.Name
			}
			if m, _ := path.Match(pattern, p.Name); !m {
				if m, _ := path.Match(pattern, src); !m || src == "" {
					continue
				}
			}
			if p.PURL != "" && !slices.Contains(out, p.PURL) {
				out = append(out, p.PURL)
			}
		}
	}
	if len(out) == 0 {
		return []string{"pkg:generic/" + pattern}
	}
	slices.Sort(out)
	return out
}

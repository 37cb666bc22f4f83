package report

import (
	"cmp"
	"encoding/xml"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/policy"
)

// JUnit XML, for the test dashboards of CI systems (Jenkins, GitLab, Azure
// Pipelines...): a testsuite "vulnerabilities" with one testcase per
// package, a testsuite "secrets" with one testcase per file holding
// secrets and, when the misconfiguration scanner ran, a testsuite
// "misconfigurations" with one testcase per file (or the image config)
// with findings. A testcase fails when its package or file has findings, and its
// failure lists them; a package without findings is a passing testcase,
// and a secret scan that found nothing is one passing testcase. A scanner
// that did not run is one skipped testcase, so the dashboard says so;
// except the misconfiguration scanner, which is off by default: its suite
// is left out rather than skipped in every report.
//
// encoding/xml replaces the characters XML cannot hold (control
// characters from the image) with U+FFFD.

type junitTestsuites struct {
	XMLName  xml.Name         `xml:"testsuites"`
	Name     string           `xml:"name,attr"`
	Tests    int              `xml:"tests,attr"`
	Failures int              `xml:"failures,attr"`
	Errors   int              `xml:"errors,attr"`
	Skipped  int              `xml:"skipped,attr"`
	Suites   []junitTestsuite `xml:"testsuite"`
}

type junitTestsuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitTestcase `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitTestcase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

const (
	junitVulnSuite   = "vulnerabilities"
	junitSecretSuite = "secrets"
	junitMisconfig   = "misconfigurations"
)

func writeJUnit(w io.Writer, inv *inventory.Inventory, opts *Options) error {
	// The JUnit schema's timestamp is ISO 8601 without a zone: UTC.
	ts := opts.Now().UTC().Format("2006-01-02T15:04:05")
	props := []junitProperty{{Name: "artifact", Value: artifactName(&inv.Artifact)}}
	if d := artifactDigest(&inv.Artifact); d != "" {
		props = append(props, junitProperty{Name: "digest", Value: d})
	}
	props = append(props, junitProperty{Name: "bulkhead.version", Value: opts.ToolVersion})

	doc := junitTestsuites{
		Name: "bulkhead " + artifactName(&inv.Artifact),
		Suites: []junitTestsuite{
			junitVulnerabilities(inv),
			junitSecrets(inv.Secrets),
		},
	}
	if inv.Misconfigurations != nil {
		doc.Suites = append(doc.Suites, junitMisconfigurations(inv.Misconfigurations))
	}
	if opts.Verdict != nil {
		doc.Suites = append(doc.Suites, junitPolicy(opts.Verdict))
	}
	for i := range doc.Suites {
		s := &doc.Suites[i]
		s.Timestamp, s.Properties = ts, props
		for _, c := range s.Cases {
			switch {
			case c.Failure != nil:
				s.Failures++
			case c.Skipped != nil:
				s.Skipped++
			}
		}
		s.Tests = len(s.Cases)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Skipped += s.Skipped
	}

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitVulnerabilities has a testcase per package, in package order, that
// fails with the package's findings; findings on a package the inventory
// lacks get testcases of their own, after the others. An inventory without
// packages is one passing testcase.
func junitVulnerabilities(inv *inventory.Inventory) junitTestsuite {
	suite := junitTestsuite{Name: junitVulnSuite}
	if inv.Vulnerabilities == nil {
		suite.Cases = []junitTestcase{{
			Name: "vulnerability scan", Classname: junitVulnSuite,
			Skipped: &junitSkipped{Message: "vulnerability scanning was not run"},
		}}
		return suite
	}
	pkgs := sortedPackages(inv.Packages)
	lookup := newPkgLookup(pkgs)
	found := make([][]*inventory.Vulnerability, len(pkgs))
	var orphans [][]*inventory.Vulnerability // grouped by package and location
	for _, v := range sortedVulns(inv.Vulnerabilities) {
		if i := lookup.find(v); i >= 0 {
			found[i] = append(found[i], v)
			continue
		}
		if n := len(orphans); n > 0 && comparePackageOf(orphans[n-1][0], v) == 0 {
			orphans[n-1] = append(orphans[n-1], v)
		} else {
			orphans = append(orphans, []*inventory.Vulnerability{v})
		}
	}

	type entry struct {
		name, path, typ string
		vulns           []*inventory.Vulnerability
	}
	entries := make([]entry, 0, len(pkgs)+len(orphans))
	for i, p := range pkgs {
		entries = append(entries, entry{p.Name + " " + packageVersion(p), firstPath(p.Locations), p.Type, found[i]})
	}
	for _, vs := range orphans {
		p := &vs[0].Package
		entries = append(entries, entry{p.Name + " " + p.Version, vs[0].Location.Path, p.Type, vs})
	}
	if len(entries) == 0 {
		// Nothing to scan passes, as one testcase: dashboards may count
		// an empty suite as a failure.
		suite.Cases = []junitTestcase{{Name: "vulnerability scan", Classname: junitVulnSuite}}
		return suite
	}
	// A package at two locations is told apart by its path.
	count := make(map[string]int, len(entries))
	for _, e := range entries {
		count[e.name]++
	}
	suite.Cases = make([]junitTestcase, 0, len(entries))
	for _, e := range entries {
		tc := junitTestcase{Name: e.name, Classname: junitVulnSuite + "." + cmp.Or(e.typ, "unknown")}
		if count[e.name] > 1 && e.path != "" {
			tc.Name += " (" + e.path + ")"
		}
		if len(e.vulns) > 0 {
			tc.Failure = junitVulnFailure(e.vulns)
		}
		suite.Cases = append(suite.Cases, tc)
	}
	return suite
}

func junitVulnFailure(vs []*inventory.Vulnerability) *junitFailure {
	vs = slices.Clone(vs)
	slices.SortStableFunc(vs, func(a, b *inventory.Vulnerability) int {
		return cmp.Compare(inventory.SeverityRank(b.Severity), inventory.SeverityRank(a.Severity))
	})
	var counts severityCounts
	for _, v := range vs {
		counts.add(v.Severity)
	}
	v0 := vs[0]
	var b strings.Builder
	b.WriteString("Package " + v0.Package.Name + " " + v0.Package.Version)
	if v0.Location.Path != "" {
		b.WriteString(" in " + v0.Location.Path)
	}
	if l := layerText(v0.Location); l != "" {
		b.WriteString(", " + l)
		if v0.Location.CreatedBy != "" {
			b.WriteString(": " + v0.Location.CreatedBy)
		}
	}
	for _, v := range vs {
		b.WriteString("\n" + v.ID + " " + severityName(v.Severity))
		if v.Title != "" {
			b.WriteString(": " + v.Title)
		}
		b.WriteString("; " + fixText(v))
	}
	return &junitFailure{
		Message: plural(len(vs), "vulnerability", "vulnerabilities") + " (" + counts.nonZero() + ")",
		Type:    severityName(v0.Severity),
		Text:    b.String(),
	}
}

// junitSecrets has a testcase per file (or config entry) holding secrets.
func junitSecrets(ss []inventory.Secret) junitTestsuite {
	suite := junitTestsuite{Name: junitSecretSuite}
	switch {
	case ss == nil:
		suite.Cases = []junitTestcase{{
			Name: "secret scan", Classname: junitSecretSuite,
			Skipped: &junitSkipped{Message: "secret scanning was not run"},
		}}
		return suite
	case len(ss) == 0:
		suite.Cases = []junitTestcase{{Name: "secret scan", Classname: junitSecretSuite}}
		return suite
	}
	sorted := sortedSecrets(ss) // by path first
	for start := 0; start < len(sorted); {
		end := start + 1
		for end < len(sorted) && sorted[end].Path == sorted[start].Path {
			end++
		}
		suite.Cases = append(suite.Cases, junitTestcase{
			Name:      sorted[start].Path,
			Classname: junitSecretSuite,
			Failure:   junitSecretFailure(sorted[start:end]),
		})
		start = end
	}
	return suite
}

func junitSecretFailure(ss []*inventory.Secret) *junitFailure {
	ss = slices.Clone(ss)
	slices.SortStableFunc(ss, func(a, b *inventory.Secret) int {
		return cmp.Compare(inventory.SeverityRank(b.Severity), inventory.SeverityRank(a.Severity))
	})
	var counts severityCounts
	var b strings.Builder
	for i, s := range ss {
		counts.add(s.Severity)
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(s.RuleID + " " + severityName(s.Severity))
		if s.Line > 0 {
			b.WriteString(" line " + strconv.Itoa(s.Line))
		}
		b.WriteString(": " + cmp.Or(s.Title, s.RuleID) + " " + s.Match)
		if s.LayerIndex != inventory.NoLayer {
			b.WriteString("; " + layerText(inventory.Location{LayerIndex: s.LayerIndex, LayerDiffID: s.LayerDiffID}))
		}
		if s.DeletedInLayer != nil {
			b.WriteString(", deleted in layer " + strconv.Itoa(*s.DeletedInLayer) + " but still in the image")
		}
	}
	return &junitFailure{
		Message: plural(len(ss), "secret", "secrets") + " (" + counts.nonZero() + ")",
		Type:    severityName(ss[0].Severity),
		Text:    b.String(),
	}
}

// junitMisconfigurations has a testcase per file (or the image config)
// with findings, in path order, failing with them; a scan that found
// nothing is one passing testcase.
func junitMisconfigurations(ms []misconfig.Finding) junitTestsuite {
	suite := junitTestsuite{Name: junitMisconfig}
	if len(ms) == 0 {
		suite.Cases = []junitTestcase{{Name: "misconfiguration scan", Classname: junitMisconfig}}
		return suite
	}
	byFile := map[string][]*misconfig.Finding{}
	var files []string
	for _, m := range sortedMisconfigs(ms) { // worst first
		f := misconfigFile(m)
		if _, ok := byFile[f]; !ok {
			files = append(files, f)
		}
		byFile[f] = append(byFile[f], m)
	}
	slices.Sort(files)
	for _, f := range files {
		fs := byFile[f]
		suite.Cases = append(suite.Cases, junitTestcase{
			Name:      f,
			Classname: junitMisconfig + "." + cmp.Or(fs[0].Type, "unknown"),
			Failure:   junitMisconfigFailure(fs),
		})
	}
	return suite
}

func junitMisconfigFailure(ms []*misconfig.Finding) *junitFailure {
	var counts severityCounts
	var b strings.Builder
	for i, m := range ms {
		counts.add(m.Severity)
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(m.ID + " " + severityName(m.Severity))
		if m.Line > 0 {
			b.WriteString(" line " + strconv.Itoa(m.Line))
		}
		b.WriteString(": " + cmp.Or(m.Title, m.ID))
		if m.Resource != "" {
			b.WriteString("; " + m.Resource)
		}
		if m.Message != "" && m.Message != m.Title {
			b.WriteString("; " + m.Message)
		}
		if l := layerText(inventory.Location{LayerIndex: misconfigLayer(m), LayerDiffID: m.LayerDiffID}); l != "" {
			b.WriteString("; " + l)
		}
		if m.Fix != "" {
			b.WriteString("\n  Fix: " + strings.ReplaceAll(m.Fix, "\n", "\n    "))
		}
	}
	return &junitFailure{
		Message: plural(len(ms), "misconfiguration", "misconfigurations") + " (" + counts.nonZero() + ")",
		Type:    severityName(ms[0].Severity),
		Text:    b.String(),
	}
}

func firstPath(ls []inventory.Location) string {
	if len(ls) == 0 {
		return ""
	}
	return ls[0].Path
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// junitPolicy is the testsuite "policy NAME": one testcase per rule of the
// policy, in policy order, that fails when the rule blocked; its failure
// lists the fixes and the findings. A warn rule's testcase passes.
func junitPolicy(v *policy.Verdict) junitTestsuite {
	suite := junitTestsuite{Name: "policy " + v.Policy}
	for _, r := range v.Rules {
		c := junitTestcase{Name: r.Name, Classname: "policy." + string(r.Action)}
		if r.Action == policy.Block {
			var text strings.Builder
			var fixes []string
			n := 0
			for _, reason := range v.Reasons {
				var fs []policy.Finding
				for _, f := range reason.Findings {
					if slices.Contains(f.Rules, r.Name) {
						fs = append(fs, f)
					}
				}
				if len(fs) == 0 {
					continue
				}
				n += len(fs)
				fixes = append(fixes, reason.Fix)
				text.WriteString(reason.Fix + "\n")
				for _, f := range fs {
					line := "  " + f.ID
					if f.Severity != "" {
						line += " " + f.Severity
					}
					if w := f.Where(); w != "" {
						line += " at " + w
					}
					text.WriteString(line + "\n")
				}
			}
			if n > 0 {
				c.Failure = &junitFailure{Message: plural(n, "finding", "findings") + ": " + strings.Join(fixes, "; "), Type: "blocked", Text: text.String()}
			}
		}
		suite.Cases = append(suite.Cases, c)
	}
	return suite
}

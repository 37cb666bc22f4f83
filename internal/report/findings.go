package report

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// What every findings writer shares: a total order of vulnerabilities and
// secrets (so the output does not depend on the order the scanners found
// them in), canonical severities, the CVSS score to rank by, where an
// advisory id is published, and which inventory package a finding is on.

// severities lists the canonical severities, most severe first.
var severities = [...]string{
	inventory.SeverityCritical,
	inventory.SeverityHigh,
	inventory.SeverityMedium,
	inventory.SeverityLow,
	inventory.SeverityUnknown,
}

// severityName is the canonical spelling of a severity: a database's
// "moderate" is MEDIUM, anything unrecognised is UNKNOWN.
func severityName(s string) string {
	return severities[len(severities)-1-inventory.SeverityRank(s)]
}

// severityCounts counts findings per canonical severity, in the order of
// severities.
type severityCounts [len(severities)]int

func (c *severityCounts) add(severity string) {
	c[len(severities)-1-inventory.SeverityRank(severity)]++
}

func (c *severityCounts) total() int {
	n := 0
	for _, x := range c {
		n += x
	}
	return n
}

// String is "CRITICAL: 1, HIGH: 4, MEDIUM: 5, LOW: 2, UNKNOWN: 0".
func (c *severityCounts) String() string {
	var b strings.Builder
	for i, s := range severities {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s + ": " + strconv.Itoa(c[i]))
	}
	return b.String()
}

// sortedVulns returns pointers to the findings in a total order: package
// (type, name, version, PURL), location, id, then every other field that
// may tell two findings apart. The order is the same whatever order the
// matcher produced them in, and it keeps one package's findings together.
func sortedVulns(vs []inventory.Vulnerability) []*inventory.Vulnerability {
	out := make([]*inventory.Vulnerability, len(vs))
	for i := range vs {
		out[i] = &vs[i]
	}
	slices.SortStableFunc(out, compareVulns)
	return out
}

func compareVulns(a, b *inventory.Vulnerability) int {
	return cmp.Or(
		comparePackageOf(a, b),
		cmp.Compare(a.ID, b.ID),
		cmp.Compare(a.FixedVersion, b.FixedVersion),
		cmp.Compare(a.Severity, b.Severity),
		cmp.Compare(a.Status, b.Status),
		cmp.Compare(a.MatchedRange, b.MatchedRange),
		cmp.Compare(a.Title, b.Title),
		slices.Compare(a.Advisories, b.Advisories),
		slices.Compare(a.Aliases, b.Aliases),
		cmp.Compare(a.Location.CreatedBy, b.Location.CreatedBy),
	)
}

// comparePackageOf orders findings by the package and location they are on.
func comparePackageOf(a, b *inventory.Vulnerability) int {
	pa, pb := &a.Package, &b.Package
	return cmp.Or(
		cmp.Compare(pa.Type, pb.Type),
		cmp.Compare(pa.Name, pb.Name),
		cmp.Compare(pa.Version, pb.Version),
		cmp.Compare(pa.PURL, pb.PURL),
		cmp.Compare(a.Location.Path, b.Location.Path),
		cmp.Compare(a.Location.LayerIndex, b.Location.LayerIndex),
		cmp.Compare(a.Location.LayerDiffID, b.Location.LayerDiffID),
	)
}

// sortedSecrets returns pointers to the secrets in a total order: path,
// line, rule, layer, then the rest.
func sortedSecrets(ss []inventory.Secret) []*inventory.Secret {
	out := make([]*inventory.Secret, len(ss))
	for i := range ss {
		out[i] = &ss[i]
	}
	slices.SortStableFunc(out, compareSecrets)
	return out
}

func compareSecrets(a, b *inventory.Secret) int {
	return cmp.Or(
		cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Line, b.Line),
		cmp.Compare(a.RuleID, b.RuleID),
		cmp.Compare(a.LayerIndex, b.LayerIndex),
		cmp.Compare(a.LayerDiffID, b.LayerDiffID),
		cmp.Compare(a.Fingerprint, b.Fingerprint),
		cmp.Compare(a.Match, b.Match),
		cmp.Compare(a.Severity, b.Severity),
		cmp.Compare(deletedIn(a), deletedIn(b)),
	)
}

// deletedIn is the layer that deleted the secret's file, -1 if none did.
func deletedIn(s *inventory.Secret) int {
	if s.DeletedInLayer == nil {
		return -1
	}
	return *s.DeletedInLayer
}

// primaryCVSS is the score a finding is ranked by, as the matcher derives
// its severity: the highest CVSS v3.x score, else the highest v4.0 score.
func primaryCVSS(v *inventory.Vulnerability) (inventory.CVSS, bool) {
	for _, major := range []string{"3", "4"} {
		var best *inventory.CVSS
		for i := range v.CVSS {
			c := &v.CVSS[i]
			if strings.HasPrefix(c.Version, major) && (best == nil || c.Score > best.Score) {
				best = c
			}
		}
		if best != nil {
			return *best, true
		}
	}
	return inventory.CVSS{}, false
}

// advisorySource names the database that publishes an id, and the id's page
// there: NVD for CVEs, GitHub for GHSAs, OSV for the rest.
func advisorySource(id string) (name, url string) {
	switch {
	case strings.HasPrefix(id, "CVE-"):
		return "NVD", "https://nvd.nist.gov/vuln/detail/" + id
	case strings.HasPrefix(id, "GHSA-"):
		return "GitHub", "https://github.com/advisories/" + id
	}
	return "OSV", "https://osv.dev/vulnerability/" + id
}

// fixText is "fixed in X" or "no fix yet".
func fixText(v *inventory.Vulnerability) string {
	if v.FixedVersion != "" {
		return "fixed in " + v.FixedVersion
	}
	return inventory.StatusNoFix
}

// layerText is "layer N sha256:<12 hex>", "" outside images.
func layerText(l inventory.Location) string {
	if l.LayerIndex == inventory.NoLayer {
		return ""
	}
	return strings.TrimSpace("layer " + strconv.Itoa(l.LayerIndex) + " " + shortDigest(l.LayerDiffID))
}

// pkgLookup finds the inventory package a finding was matched on: the
// package with the finding's PURL (or type, name and version when it has
// no PURL) and, among equals, the one found at the finding's location.
type pkgLookup struct {
	pkgs []*inventory.Package
	by   map[string][]int
}

func newPkgLookup(pkgs []*inventory.Package) *pkgLookup {
	l := &pkgLookup{pkgs: pkgs, by: make(map[string][]int, len(pkgs))}
	for i, p := range pkgs {
		k := lookupKey(p.PURL, p.Type, p.Name, p.Version)
		l.by[k] = append(l.by[k], i)
	}
	return l
}

func lookupKey(purl, typ, name, version string) string {
	if purl != "" {
		return purl
	}
	return "\x00" + typ + "\x00" + name + "\x00" + version
}

// find returns the index in pkgs of v's package, or -1.
func (l *pkgLookup) find(v *inventory.Vulnerability) int {
	cands := l.by[lookupKey(v.Package.PURL, v.Package.Type, v.Package.Name, v.Package.Version)]
	if len(cands) == 0 {
		return -1
	}
	for _, i := range cands {
		for _, loc := range l.pkgs[i].Locations {
			if loc.Path == v.Location.Path && loc.LayerIndex == v.Location.LayerIndex {
				return i
			}
		}
	}
	return cands[0]
}

// nonZero is "CRITICAL: 1, LOW: 2": the severities that were counted.
func (c *severityCounts) nonZero() string {
	var parts []string
	for i, s := range severities {
		if c[i] > 0 {
			parts = append(parts, s+": "+strconv.Itoa(c[i]))
		}
	}
	return strings.Join(parts, ", ")
}

// sortedMisconfigs returns pointers to the findings in a total order:
// severity (worst first), path, line, id, resource, message, layer.
func sortedMisconfigs(ms []misconfig.Finding) []*misconfig.Finding {
	out := make([]*misconfig.Finding, len(ms))
	for i := range ms {
		out[i] = &ms[i]
	}
	slices.SortStableFunc(out, func(a, b *misconfig.Finding) int {
		return cmp.Or(
			cmp.Compare(inventory.SeverityRank(b.Severity), inventory.SeverityRank(a.Severity)),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.ID, b.ID),
			cmp.Compare(a.Resource, b.Resource),
			cmp.Compare(a.Message, b.Message),
			cmp.Compare(misconfigLayer(a), misconfigLayer(b)),
		)
	})
	return out
}

// misconfigLayer is the finding's layer index, inventory.NoLayer when it
// is not in a layer.
func misconfigLayer(m *misconfig.Finding) int {
	if m.LayerIndex == nil {
		return inventory.NoLayer
	}
	return *m.LayerIndex
}

// Package match decides which advisories affect which inventoried
// packages, exactly as the OSV schema defines it, with each ecosystem's own
// version order; it merges an advisory and its aliases into one finding
// and keeps the evidence (matched range, location, layer).
package match

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/osv"
	"github.com/bulkhead-sec/bulkhead/internal/version"
)

// Source looks up advisories: internal/vulndb implements it.
type Source interface {
	// Lookup returns the advisories naming the package in the ecosystem
	// (release included: "Debian:12"); the name is normalised by the
	// source.
	Lookup(ctx context.Context, ecosystem, name string) ([]*osv.Vulnerability, error)
}

// Result holds the findings and what could not be decided.
type Result struct {
	Vulnerabilities []inventory.Vulnerability
	Warnings        []inventory.Warning
}

// hit is one advisory affecting one package.
type hit struct {
	vuln     *osv.Vulnerability
	affected *osv.Affected
	q        query
	verdict  verdict
}

// Match finds the vulnerabilities of inv's packages.
func Match(ctx context.Context, src Source, inv *inventory.Inventory) (*Result, error) {
	res := &Result{Vulnerabilities: []inventory.Vulnerability{}}
	rel := &releaseLister{ctx: ctx, src: src, memo: map[string][]string{}}
	src = &memoSource{src: src, m: map[string][]*osv.Vulnerability{}}
	vc := newVersions()
	skipped := map[string]int{}
	for i := range inv.Packages {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := &inv.Packages[i]
		qs, reason := queries(p, inv.OS, rel)
		if rel.err != nil {
			return nil, fmt.Errorf("list releases: %w", rel.err)
		}
		if reason != "" {
			skipped[reason]++
			continue
		}
		var hits []hit
		seen := map[string]bool{}
		for _, q := range qs {
			if q.version == "" {
				continue // no version (a Go main module built from a checkout): nothing to compare
			}
			installed, err := vc.parse(q.ecosystem, q.version)
			if err != nil {
				res.Warnings = append(res.Warnings, warn(p, fmt.Sprintf("%s %s: %v; not matched against advisories", p.Name, q.version, err)))
				continue
			}
			vulns, err := src.Lookup(ctx, q.ecosystem, q.name)
			if err != nil {
				return nil, fmt.Errorf("look up %s %s: %w", q.ecosystem, q.name, err)
			}
			for _, v := range vulns {
				if v.Withdrawn != nil || seen[v.ID] {
					continue
				}
				for ai := range v.Affected {
					a := &v.Affected[ai]
					if a.Package.Ecosystem != q.ecosystem || osv.NormalizeName(q.ecosystem, a.Package.Name) != osv.NormalizeName(q.ecosystem, q.name) {
						continue
					}
					vd := evaluate(vc, q.ecosystem, installed, a)
					if vd.problem != "" && !vd.affected {
						res.Warnings = append(res.Warnings, warn(p, fmt.Sprintf("%s: cannot decide whether %s %s is affected: %s", v.ID, q.name, q.version, vd.problem)))
					}
					if vd.affected {
						hits = append(hits, hit{vuln: v, affected: a, q: q, verdict: vd})
						seen[v.ID] = true
						break
					}
				}
			}
		}
		res.Vulnerabilities = append(res.Vulnerabilities, merge(p, hits)...)
	}
	for reason, n := range skipped {
		res.Warnings = append(res.Warnings, inventory.Warning{Analyzer: "match", Message: fmt.Sprintf("%d packages not matched: %s", n, reason)})
	}
	sort.Slice(res.Warnings, func(i, j int) bool { return res.Warnings[i].String() < res.Warnings[j].String() })
	SortVulnerabilities(res.Vulnerabilities)
	return res, nil
}

// memoSource remembers lookups within one Match: images carry the same
// source package many times (libc6, libc-bin, locales: all glibc).
type memoSource struct {
	src Source
	m   map[string][]*osv.Vulnerability
}

func (s *memoSource) Lookup(ctx context.Context, eco, name string) ([]*osv.Vulnerability, error) {
	k := eco + "\x00" + name
	if v, ok := s.m[k]; ok {
		return v, nil
	}
	v, err := s.src.Lookup(ctx, eco, name)
	if err != nil {
		return nil, err
	}
	s.m[k] = v
	return v, nil
}

func warn(p *inventory.Package, msg string) inventory.Warning {
	w := inventory.Warning{Analyzer: "match", Message: msg}
	if len(p.Locations) > 0 {
		w.Path = p.Locations[0].Path
		w.Layer = p.Locations[0].LayerDiffID
	}
	return w
}

// merge turns the hits on one package into findings: records that are
// aliases of each other (directly or through a shared alias) become one.
func merge(p *inventory.Package, hits []hit) []inventory.Vulnerability {
	if len(hits) == 0 {
		return nil
	}
	parent := map[string]string{}
	var find func(string) string
	find = func(x string) string {
		if parent[x] == "" || parent[x] == x {
			parent[x] = x
			return x
		}
		r := find(parent[x])
		parent[x] = r
		return r
	}
	union := func(a, b string) { parent[find(a)] = find(b) }
	for _, h := range hits {
		find(h.vuln.ID)
		for _, al := range h.vuln.Aliases {
			union(al, h.vuln.ID)
		}
	}
	groups := map[string][]hit{}
	var roots []string
	for _, h := range hits {
		r := find(h.vuln.ID)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], h)
	}
	var out []inventory.Vulnerability
	for _, r := range roots {
		out = append(out, finding(p, groups[r]))
	}
	return out
}

func finding(p *inventory.Package, hs []hit) inventory.Vulnerability {
	ids := map[string]bool{}
	upstream := map[string]bool{}
	refs := map[string]bool{}
	var advisories []string
	f := inventory.Vulnerability{Status: inventory.StatusNoFix}
	best := scored{severity: inventory.SeverityUnknown}
	var fixes []string
	var published, modified time.Time
	for _, h := range hs {
		v := h.vuln
		advisories = append(advisories, v.ID)
		ids[v.ID] = true
		for _, a := range v.Aliases {
			ids[a] = true
		}
		for _, u := range v.Upstream {
			upstream[u] = true
		}
		for _, r := range v.References {
			refs[r.URL] = true
		}
		s := severityOf(v, h.affected)
		f.CVSS = append(f.CVSS, s.cvss...)
		if better(s, best) {
			best = s
		}
		if h.verdict.fixed != "" {
			fixes = append(fixes, h.verdict.fixed)
		}
		if f.MatchedRange == "" {
			f.MatchedRange = h.verdict.matched
			f.Package = inventory.VulnPackage{Name: p.Name, Version: p.Version, Type: p.Type, Ecosystem: h.q.ecosystem, PURL: p.PURL, Source: p.Source}
		}
		if f.Title == "" {
			f.Title = firstLine(v.Summary)
		}
		if f.Description == "" {
			f.Description = truncate(v.Details, 2000)
		}
		if v.Published != nil && (published.IsZero() || v.Published.Before(published)) {
			published = *v.Published
		}
		if v.Modified.After(modified) {
			modified = v.Modified
		}
	}
	f.ID = preferredID(ids)
	for id := range ids {
		if id != f.ID {
			f.Aliases = append(f.Aliases, id)
		}
	}
	sort.Strings(f.Aliases)
	for u := range upstream {
		if !ids[u] {
			f.Upstream = append(f.Upstream, u)
		}
	}
	sort.Strings(f.Upstream)
	if f.Title == "" && len(f.Upstream) > 0 {
		f.Title = strings.Join(f.Upstream, ", ")
	}
	sort.Strings(advisories)
	f.Advisories = advisories
	for r := range refs {
		f.References = append(f.References, r)
	}
	sort.Strings(f.References)
	f.Severity, f.SeveritySource = best.severity, best.source
	if len(fixes) > 0 {
		// Upgrading past the highest fix clears every merged advisory.
		f.FixedVersion = highest(f.Package.Ecosystem, fixes)
		f.Status = inventory.StatusFixed
	}
	if !published.IsZero() {
		f.Published = published.UTC().Format(time.RFC3339)
	}
	if !modified.IsZero() && modified.Year() > 1 {
		f.Modified = modified.UTC().Format(time.RFC3339)
	}
	if len(p.Locations) > 0 {
		f.Location = p.Locations[0]
	}
	return f
}

// better prefers CVSS-derived severities, then the higher rating.
func better(a, b scored) bool {
	rank := func(s scored) int {
		switch s.source {
		case sourceCVSSv3:
			return 4
		case sourceCVSSv4:
			return 3
		case sourceDatabase:
			return 2
		case sourceDistro:
			return 1
		}
		return 0
	}
	if rank(a) != rank(b) {
		return rank(a) > rank(b)
	}
	return inventory.SeverityRank(a.severity) > inventory.SeverityRank(b.severity)
}

// preferredID names a finding by its CVE when it has one, else a GHSA,
// else the smallest advisory id.
func preferredID(ids map[string]bool) string {
	var all []string
	for id := range ids {
		all = append(all, id)
	}
	sort.Strings(all)
	for _, prefix := range []string{"CVE-", "GHSA-"} {
		for _, id := range all {
			if strings.HasPrefix(id, prefix) {
				return id
			}
		}
	}
	return all[0]
}

func highest(eco string, vs []string) string {
	best := vs[0]
	for _, v := range vs[1:] {
		if c, err := version.Compare(eco, v, best); err == nil && c > 0 {
			best = v
		}
	}
	return best
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return truncate(s, 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// SortVulnerabilities orders findings by severity (worst first), package,
// then id.
func SortVulnerabilities(vs []inventory.Vulnerability) {
	sort.SliceStable(vs, func(i, j int) bool {
		a, b := &vs[i], &vs[j]
		if ra, rb := inventory.SeverityRank(a.Severity), inventory.SeverityRank(b.Severity); ra != rb {
			return ra > rb
		}
		if a.Package.Name != b.Package.Name {
			return a.Package.Name < b.Package.Name
		}
		if a.Package.Version != b.Package.Version {
			return a.Package.Version < b.Package.Version
		}
		return a.ID < b.ID
	})
}

package policy

// The rules on the scanners' findings: vulnerabilities, secrets, malware
// and misconfigurations.

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

func (e *evaluation) vulns() {
	if e.inv.Vulnerabilities == nil {
		return
	}
	e.kept.Vulnerabilities = make([]inventory.Vulnerability, 0, len(e.inv.Vulnerabilities))
	for i := range e.inv.Vulnerabilities {
		v := &e.inv.Vulnerabilities[i]
		e.v.Counts.Findings++
		li := e.layer(v.Location.LayerIndex, v.Location.LayerDiffID)
		f := Finding{Kind: kindVuln, ID: v.ID, Severity: severityName(v.Severity), Title: v.Title,
			Package: v.Package.Name, Version: v.Package.Version, FixedVersion: v.FixedVersion,
			Path: v.Location.Path, LayerIndex: layerPtr(li), CreatedBy: e.createdBy(li, v.Location.CreatedBy), Origin: e.origin(li),
			eco: v.Package.Ecosystem}
		ids := append([]string{v.ID}, v.Aliases...)
		ids = append(ids, v.Advisories...)
		pkgs := []string{v.Package.Name}
		if v.Package.Source != nil {
			pkgs = append(pkgs, v.Package.Source.Name)
		}
		if e.suppress(&f, ids, pkgs) {
			continue
		}
		if e.in.VEX != nil {
			if src, why, ok := e.in.VEX.NotAffected(v); ok {
				e.v.Suppressed = append(e.v.Suppressed, Suppressed{Finding: f, By: "vex: " + src, Reason: why})
				continue
			}
		}
		e.kept.Vulnerabilities = append(e.kept.Vulnerabilities, *v)
		pre := e.in.Baseline != nil && e.in.Baseline.HasVuln(v)
		if e.in.Baseline != nil && !pre {
			e.fresh.Vulnerabilities = append(e.fresh.Vulnerabilities, *v)
		}
		rules, action := e.matchRules(f.Origin, func(r *Rule) bool { return r.Vulns != nil && e.vulnMatches(r.Vulns, v, ids) })
		if e.settled(f, rules, action, pre) {
			continue
		}
		// One upgrade fixes every binary package of a source package
		// (libssl3 and openssl): group by source.
		src := v.Package.Name
		if v.Package.Source != nil && v.Package.Source.Name != "" {
			src = v.Package.Source.Name
		}
		f.source = src
		pkgKey := v.Package.Type + "\x00" + src + "\x00" + v.Package.Version
		if v.FixedVersion != "" {
			e.add(f, rules, action, kindOrder[kindVuln], "vuln-fix\x00"+pkgKey, "", inventory.SeverityRank(v.Severity))
		} else {
			e.add(f, rules, action, kindOrder[kindVuln], "vuln-nofix\x00"+pkgKey, "", inventory.SeverityRank(v.Severity))
		}
	}
}

func (e *evaluation) vulnMatches(r *VulnRule, v *inventory.Vulnerability, ids []string) bool {
	for _, id := range ids {
		if r.ExceptIDs[strings.ToUpper(id)] {
			return false
		}
	}
	for _, id := range ids {
		if r.IDs[strings.ToUpper(id)] {
			return true
		}
	}
	if len(r.IDs) > 0 && !r.hasCriteria() {
		return false
	}
	if r.MinSeverity > 0 && inventory.SeverityRank(v.Severity) < r.MinSeverity {
		return false
	}
	if r.Severities != nil && !r.Severities[severityName(v.Severity)] {
		return false
	}
	fixable := v.FixedVersion != ""
	if r.Fixable != nil && *r.Fixable != fixable {
		return false
	}
	if r.MinCVSS > 0 && maxCVSS(v) < r.MinCVSS {
		return false
	}
	if r.FixOlderThanDays > 0 {
		since, ok := fixAvailableSince(v)
		if !fixable || !ok || e.now.Sub(since) <= time.Duration(r.FixOlderThanDays)*24*time.Hour {
			return false
		}
	}
	return true
}

// fixAvailableSince is the date a fix is taken to exist since. OSV records
// carry no date per fixed event, so this is the advisory's "published"
// date (the earliest of the records merged into the finding), else its
// "modified" date. For an advisory that announces the fix (a DSA, a GHSA
// with a patched version) that is the fix date; for one published before
// a fix existed (a Debian CVE entry fixed later) it is earlier than the
// fix, so a "fix older than N days" rule may fire before N days of the
// fix have passed. It never fires later than it should.
func fixAvailableSince(v *inventory.Vulnerability) (time.Time, bool) {
	for _, s := range []string{v.Published, v.Modified} {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func maxCVSS(v *inventory.Vulnerability) float64 {
	m := 0.0
	for _, c := range v.CVSS {
		m = max(m, c.Score)
	}
	return m
}

var severityNames = [...]string{inventory.SeverityUnknown, inventory.SeverityLow, inventory.SeverityMedium, inventory.SeverityHigh, inventory.SeverityCritical}

func severityName(s string) string { return severityNames[inventory.SeverityRank(s)] }

// settled files what needs no reason: a finding no rule matched is
// counted allowed, one in the baseline is listed as pre-existing. It
// reports whether the finding is done with.
func (e *evaluation) settled(f Finding, rules []string, action Action, pre bool) bool {
	switch {
	case action == "":
		e.v.Counts.Allowed++
	case pre:
		f.Rules = rules
		e.v.Preexisting = append(e.v.Preexisting, f)
	default:
		return false
	}
	return true
}

func (e *evaluation) secrets() {
	if e.inv.Secrets == nil {
		return
	}
	e.kept.Secrets = make([]inventory.Secret, 0, len(e.inv.Secrets))
	for i := range e.inv.Secrets {
		s := &e.inv.Secrets[i]
		e.v.Counts.Findings++
		li := e.layer(s.LayerIndex, s.LayerDiffID)
		f := Finding{Kind: kindSecret, ID: s.RuleID, Severity: severityName(s.Severity), Title: s.Title, Path: s.Path, Line: s.Line,
			LayerIndex: layerPtr(li), CreatedBy: e.createdBy(li, s.CreatedBy), Origin: e.origin(li), Message: s.Title + " " + s.Match}
		if e.suppress(&f, []string{s.RuleID, s.Fingerprint}, nil) {
			continue
		}
		e.kept.Secrets = append(e.kept.Secrets, *s)
		pre := e.in.Baseline != nil && e.in.Baseline.HasSecret(s)
		if e.in.Baseline != nil && !pre {
			e.fresh.Secrets = append(e.fresh.Secrets, *s)
		}
		rules, action := e.matchRules(f.Origin, func(r *Rule) bool {
			return r.Secrets != nil && inventory.SeverityRank(s.Severity) >= r.Secrets.MinSeverity
		})
		if e.settled(f, rules, action, pre) {
			continue
		}
		key := fmt.Sprintf("secret\x00%s\x00%d", s.Path, li)
		e.add(f, rules, action, kindOrder[kindSecret], key, "", inventory.SeverityRank(s.Severity))
	}
}

func (e *evaluation) malware() {
	if e.inv.Malware == nil {
		return
	}
	e.kept.Malware = make([]inventory.Malware, 0, len(e.inv.Malware))
	for i := range e.inv.Malware {
		m := &e.inv.Malware[i]
		e.v.Counts.Findings++
		li := e.layer(m.LayerIndex, m.LayerDiffID)
		f := Finding{Kind: kindMalware, ID: m.Signature, Severity: severityName(cmp.Or(m.Severity, inventory.SeverityCritical)), Path: m.Path,
			LayerIndex: layerPtr(li), CreatedBy: e.createdBy(li, m.CreatedBy), Origin: e.origin(li)}
		if e.suppress(&f, []string{m.Signature, m.SHA256}, nil) {
			continue
		}
		e.kept.Malware = append(e.kept.Malware, *m)
		pre := e.in.Baseline != nil && e.in.Baseline.HasMalware(m)
		if e.in.Baseline != nil && !pre {
			e.fresh.Malware = append(e.fresh.Malware, *m)
		}
		rules, action := e.matchRules(f.Origin, func(r *Rule) bool {
			return r.Malware != nil && inventory.SeverityRank(cmp.Or(m.Severity, inventory.SeverityCritical)) >= r.Malware.MinSeverity
		})
		if e.settled(f, rules, action, pre) {
			continue
		}
		e.add(f, rules, action, kindOrder[kindMalware], "malware\x00"+m.Path, "", 4)
	}
}

func (e *evaluation) misconfigs() {
	if e.inv.Misconfigurations == nil {
		return
	}
	e.kept.Misconfigurations = make([]misconfig.Finding, 0, len(e.inv.Misconfigurations))
	for i := range e.inv.Misconfigurations {
		m := &e.inv.Misconfigurations[i]
		e.v.Counts.Findings++
		li := -1
		if m.LayerIndex != nil {
			li = *m.LayerIndex
		}
		f := Finding{Kind: kindMisconfig, ID: m.ID, Severity: severityName(m.Severity), Title: m.Title, Message: m.Message,
			Path: m.Path, Line: m.Line, LayerIndex: layerPtr(li), CreatedBy: e.createdBy(li, m.CreatedBy), Origin: e.origin(li), fix: m.Fix}
		if e.suppress(&f, []string{m.ID}, nil) {
			continue
		}
		e.kept.Misconfigurations = append(e.kept.Misconfigurations, *m)
		pre := e.in.Baseline != nil && e.in.Baseline.HasMisconfig(m)
		if e.in.Baseline != nil && !pre {
			e.fresh.Misconfigurations = append(e.fresh.Misconfigurations, *m)
		}
		rules, action := e.matchRules(f.Origin, func(r *Rule) bool {
			mr := r.Misconfig
			if mr == nil || inventory.SeverityRank(m.Severity) < mr.MinSeverity {
				return false
			}
			if len(mr.IDs) == 0 {
				return true
			}
			for _, g := range mr.IDs {
				if globMatch(strings.ToUpper(g), strings.ToUpper(m.ID)) {
					return true
				}
			}
			return false
		})
		if e.settled(f, rules, action, pre) {
			continue
		}
		// A check's generic fix groups its findings; a fix written for
		// one occurrence (the corrected line) is a group of its own.
		key := "misconfig\x00" + m.ID + "\x00" + cmp.Or(m.Fix, m.Title)
		e.add(f, rules, action, kindOrder[kindMisconfig], key, "", inventory.SeverityRank(m.Severity))
	}
}

// layer is a finding's layer index when it names a layer of the image,
// else -1: a filesystem or SBOM scan has none (and may leave index 0).
func (e *evaluation) layer(index int, diffID string) int {
	if index < 0 || (diffID == "" && index >= len(e.inv.Artifact.Layers)) {
		return -1
	}
	return index
}

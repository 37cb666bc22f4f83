package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/version"
)

// Input is what a policy is evaluated against. Only Inventory is
// required; the rest plug in what the command line gathered.
type Input struct {
	Inventory *inventory.Inventory
	// Froms are the FROM lines of the scanned Dockerfiles (scan fs), for
	// sources rules.
	Froms []From
	// Exceptions from the ignore file.
	Exceptions []Exception
	// VEX suppresses vulnerabilities a statement says are not_affected.
	VEX VEX
	// Baseline marks findings of an earlier report: they are listed as
	// pre-existing and do not block.
	Baseline Baseline
	// Origin labels a layer "base" or "app" when the base image is known;
	// nil or "" when it is not.
	Origin func(layerIndex int) string
	// Base is the approved-base check of the image, for approvedBase
	// rules (internal/basecheck plugs in here); nil when it was not run.
	Base *BaseCheck
	// Now is the clock for expiry and ages; time.Now when zero.
	Now time.Time
}

// BaseCheck is the outcome of comparing the image's bottom layers with the
// approved bases.
type BaseCheck struct {
	Approved        bool
	Base            string // the approved base matched
	Nearest         string // else the closest approved base
	MatchedLayers   int
	DifferingLayers int
	Reason          string // a sentence for the WHY block
	Err             error  // the bases could not be loaded or read
}

// VEX is a source of VEX statements (internal/vex plugs in here).
type VEX interface {
	// NotAffected returns who said the vulnerability does not affect this
	// package and why, when a statement says not_affected (or fixed).
	NotAffected(v *inventory.Vulnerability) (source, reason string, ok bool)
}

// Baseline is an earlier report (internal/baseline plugs in here).
type Baseline interface {
	HasVuln(*inventory.Vulnerability) bool
	HasSecret(*inventory.Secret) bool
	HasMisconfig(*misconfig.Finding) bool
	HasMalware(*inventory.Malware) bool
}

// Kinds of findings and the order their reasons are listed in.
const (
	kindVuln      = "vulnerability"
	kindSecret    = "secret"
	kindMalware   = "malware"
	kindMisconfig = "misconfig"
	kindLicense   = "license"
	kindSource    = "source"
	kindImage     = "image"
	kindBase      = "base"
	kindCustom    = "custom"
	kindException = "exception"
)

var kindOrder = map[string]int{kindMalware: 0, kindSecret: 1, kindBase: 2, kindVuln: 3, kindSource: 4, kindImage: 5, kindMisconfig: 6, kindLicense: 7, kindCustom: 8, kindException: 9}

// evaluation is the state of one Evaluate call.
type evaluation struct {
	p       *Policy
	in      *Input
	now     time.Time
	inv     *inventory.Inventory
	groups  map[string]*Reason
	v       *Verdict
	applied map[int]bool // exceptions that suppressed something
	// kept is the report after suppression; fresh its findings that are
	// not in the baseline, which CEL rules see (only they can block).
	kept, fresh inventory.Inventory
}

// Evaluate applies the policy (nil: no rules, only exceptions) to the
// input. It never fails: a rule that cannot be evaluated (a CEL error)
// is itself a finding of that rule.
func Evaluate(p *Policy, in Input) *Verdict {
	v, _ := Apply(p, in)
	return v
}

// Apply is Evaluate that also returns the inventory without the findings
// exceptions and VEX suppressed (a copy; the input is not modified), for
// the report.
func Apply(p *Policy, in Input) (*Verdict, *inventory.Inventory) {
	if p == nil {
		p = &Policy{Name: "none"}
	}
	inv := in.Inventory
	if inv == nil {
		inv = &inventory.Inventory{}
	}
	e := &evaluation{p: p, in: &in, now: in.Now, inv: inv, groups: map[string]*Reason{},
		v: &Verdict{Policy: p.Name, Reasons: []Reason{}, Warnings: []Reason{}}, applied: map[int]bool{}}
	if e.now.IsZero() {
		e.now = time.Now()
	}
	for _, r := range p.Rules {
		e.v.Rules = append(e.v.Rules, RuleRef{Name: r.Name, Action: r.Action})
	}
	e.kept.Artifact, e.kept.OS, e.kept.Packages = inv.Artifact, inv.OS, inv.Packages
	e.vulns()
	e.secrets()
	e.malware()
	e.misconfigs()
	e.packageRules()
	e.sourceRules()
	e.imageRules()
	e.baseRules()
	e.celRules()
	e.expired()
	e.finish()
	kept := *inv
	kept.Vulnerabilities, kept.Secrets, kept.Malware, kept.Misconfigurations =
		e.kept.Vulnerabilities, e.kept.Secrets, e.kept.Malware, e.kept.Misconfigurations
	return e.v, &kept
}

// origin of a finding in layer i.
func (e *evaluation) origin(i int) string {
	if e.in.Origin == nil || i < 0 {
		return ""
	}
	return e.in.Origin(i)
}

// matchRules returns the names of the rules of the winning action (block
// over warn) that match, and that action.
func (e *evaluation) matchRules(origin string, match func(r *Rule) bool) ([]string, Action) {
	var block, warn []string
	for _, r := range e.p.Rules {
		if r.Origin != "" && origin != "" && r.Origin != origin {
			continue
		}
		if !match(r) {
			continue
		}
		if r.Action == Block {
			block = append(block, r.Name)
		} else {
			warn = append(warn, r.Name)
		}
	}
	if len(block) > 0 {
		return block, Block
	}
	if len(warn) > 0 {
		return warn, Warn
	}
	return nil, ""
}

// suppress looks the finding up in the exceptions; true when one applies.
func (e *evaluation) suppress(f *Finding, ids []string, pkgs []string) bool {
	image := e.inv.Artifact.Name
	for i := range e.in.Exceptions {
		x := &e.in.Exceptions[i]
		if x.Expired(e.now) || !x.matches(ids, pkgs, f.Path, image) {
			continue
		}
		e.applied[i] = true
		e.v.Suppressed = append(e.v.Suppressed, Suppressed{Finding: *f, By: x.Where(), Reason: x.Reason, Owner: x.Owner, Expires: x.ExpiresString()})
		return true
	}
	return false
}

// add files a matched finding under its fix group.
func (e *evaluation) add(f Finding, rules []string, action Action, kind int, key, fix string, severity int) {
	f.Rules = rules
	k := string(action) + "\x00" + key
	g, ok := e.groups[k]
	if !ok {
		g = &Reason{Action: action, Fix: fix, key: k, kind: kind}
		e.groups[k] = g
	}
	g.Findings = append(g.Findings, f)
	g.worst = max(g.worst, severity)
}

// layerPtr returns a pointer for a layer index, nil for "no layer".
func layerPtr(i int) *int {
	if i < 0 {
		return nil
	}
	return &i
}

func (e *evaluation) createdBy(i int, given string) string {
	if given != "" {
		return given
	}
	if i >= 0 && i < len(e.inv.Artifact.Layers) {
		return e.inv.Artifact.Layers[i].CreatedBy
	}
	return ""
}

func (e *evaluation) vulns() {
	if e.inv.Vulnerabilities == nil {
		return
	}
	e.kept.Vulnerabilities = make([]inventory.Vulnerability, 0, len(e.inv.Vulnerabilities))
	for i := range e.inv.Vulnerabilities {
		v := &e.inv.Vulnerabilities[i]
		e.v.Counts.Findings++
		li := v.Location.LayerIndex
		if v.Location.Path == "" && li == 0 && v.Location.LayerDiffID == "" {
			li = -1 // a filesystem or SBOM scan has no layers
		}
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
		if action == "" {
			e.v.Counts.Allowed++
			continue
		}
		if pre {
			f.Rules = rules
			e.v.Preexisting = append(e.v.Preexisting, f)
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

func (e *evaluation) secrets() {
	if e.inv.Secrets == nil {
		return
	}
	e.kept.Secrets = make([]inventory.Secret, 0, len(e.inv.Secrets))
	for i := range e.inv.Secrets {
		s := &e.inv.Secrets[i]
		e.v.Counts.Findings++
		li := s.LayerIndex
		if s.LayerDiffID == "" && li == 0 {
			li = -1
		}
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
		if action == "" {
			e.v.Counts.Allowed++
			continue
		}
		if pre {
			f.Rules = rules
			e.v.Preexisting = append(e.v.Preexisting, f)
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
		li := m.LayerIndex
		if m.LayerDiffID == "" && li == 0 {
			li = -1
		}
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
		if action == "" {
			e.v.Counts.Allowed++
			continue
		}
		if pre {
			f.Rules = rules
			e.v.Preexisting = append(e.v.Preexisting, f)
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
		if action == "" {
			e.v.Counts.Allowed++
			continue
		}
		if pre {
			f.Rules = rules
			e.v.Preexisting = append(e.v.Preexisting, f)
			continue
		}
		// A check's generic fix groups its findings; a fix written for
		// one occurrence (the corrected line) is a group of its own.
		key := "misconfig\x00" + m.ID + "\x00" + cmp.Or(m.Fix, m.Title)
		e.add(f, rules, action, kindOrder[kindMisconfig], key, "", inventory.SeverityRank(m.Severity))
	}
}

// packageRules are the licence rules.
func (e *evaluation) packageRules() {
	for _, r := range e.p.Rules {
		if r.Licenses == nil {
			continue
		}
		// Packages share a few licence strings: decide each once.
		memo := map[string][]string{}
		for i := range e.inv.Packages {
			p := &e.inv.Packages[i]
			if len(p.Licenses) == 0 {
				continue
			}
			lk := strings.Join(p.Licenses, "\x00")
			denied, ok := memo[lk]
			if !ok {
				denied = deniedLicenses(p.Licenses, r.Licenses.Deny)
				memo[lk] = denied
			}
			if len(denied) == 0 {
				continue
			}
			li, path, by := -1, "", ""
			if len(p.Locations) > 0 {
				li, path, by = p.Locations[0].LayerIndex, p.Locations[0].Path, p.Locations[0].CreatedBy
			}
			f := Finding{Kind: kindLicense, ID: strings.Join(p.Licenses, " AND "), Package: p.Name, Version: p.Version,
				Path: path, LayerIndex: layerPtr(li), CreatedBy: e.createdBy(li, by), Origin: e.origin(li),
				Message: fmt.Sprintf("%s %s is licensed %s; denied: %s", p.Name, p.Version, strings.Join(p.Licenses, " AND "), strings.Join(denied, ", "))}
			if r.Origin != "" && f.Origin != "" && r.Origin != f.Origin {
				continue
			}
			if e.suppress(&f, append([]string{p.Name}, p.Licenses...), []string{p.Name}) {
				continue
			}
			key := "license\x00" + r.Name + "\x00" + p.Type + "\x00" + p.Name + "\x00" + p.Version
			e.add(f, []string{r.Name}, r.Action, kindOrder[kindLicense], key,
				fmt.Sprintf("replace %s %s: licence %s is denied", p.Name, p.Version, strings.Join(p.Licenses, " AND ")), 0)
		}
	}
}

// imageRef is the scanned image's registry reference, when it has one:
// the reference pulled (registry, docker daemon), else the tag an archive
// or layout carries; never a file path. ok is false for an image with no
// reference at all.
func imageRef(a *inventory.Artifact) (ref name.Reference, s string, ok bool) {
	if a.Type != inventory.ArtifactImage {
		return nil, "", true
	}
	var cands []string
	switch a.Transport {
	case "registry", "docker", "":
		cands = append(cands, strings.TrimPrefix(a.Ref, "docker:"), a.Name)
	}
	for _, t := range a.RepoTags {
		if strings.ContainsAny(t, "/:") { // "1.0" alone is an OCI ref.name tag, not a reference
			cands = append(cands, t)
		}
	}
	for _, c := range cands {
		if c == "" || strings.Contains(c, ":/") || strings.HasPrefix(c, "/") || strings.HasPrefix(c, ".") {
			continue
		}
		if r, err := name.ParseReference(c); err == nil {
			return r, c, true
		}
	}
	return nil, "", false
}

// repoOf is "registry/repository" of a reference: docker.io/library/alpine.
func repoOf(ref name.Reference) string {
	reg := ref.Context().RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io" // as people write it
	}
	return reg + "/" + ref.Context().RepositoryStr()
}

func (e *evaluation) sourceRules() {
	type subject struct {
		ref        string
		path       string
		line       int
		fromImage  bool
		registryOK bool // the reference is a registry pull (digest pinning applies)
	}
	var subjects []subject
	ref, s, known := imageRef(&e.inv.Artifact)
	if ref != nil {
		subjects = append(subjects, subject{ref: s, registryOK: e.inv.Artifact.Transport == "registry" || e.inv.Artifact.Transport == ""})
	}
	for _, f := range e.in.Froms {
		subjects = append(subjects, subject{ref: f.Image, path: f.Path, line: f.Line, fromImage: true, registryOK: true})
	}
	for _, r := range e.p.Rules {
		sr := r.Sources
		if sr == nil {
			continue
		}
		if !known && len(sr.allowed) > 0 {
			// Not a pass: say that the source could not be checked.
			f := Finding{Kind: kindSource, ID: "unknown-source", Path: e.inv.Artifact.Ref,
				Message: "the image has no registry reference (an archive or layout without a tag), so where it comes from cannot be checked"}
			if !e.suppress(&f, []string{f.ID}, nil) {
				e.add(f, []string{r.Name}, Warn, kindOrder[kindSource], "source\x00unknown",
					"scan the image by its registry reference, or tag the archive (docker save REPO:TAG)", 0)
			}
		}
		for _, s := range subjects {
			ref, err := name.ParseReference(s.ref)
			what := "image " + s.ref
			if s.fromImage {
				what = "FROM " + s.ref
			}
			f := Finding{Kind: kindSource, ID: s.ref, Path: s.path, Line: s.line}
			if err != nil {
				f.Message = what + ": not a valid image reference"
				e.add(f, []string{r.Name}, r.Action, kindOrder[kindSource], "source\x00"+s.ref+"\x00"+s.path, "use a valid image reference instead of "+s.ref, 0)
				continue
			}
			repo := repoOf(ref)
			if len(sr.allowed) > 0 {
				ok := false
				for _, re := range sr.allowed {
					ok = ok || re.MatchString(repo)
				}
				if !ok {
					f.Message = fmt.Sprintf("%s comes from %s, which no allowed pattern matches", what, repo)
					if e.suppress(&f, []string{s.ref, repo}, nil) {
						continue
					}
					e.add(f, []string{r.Name}, r.Action, kindOrder[kindSource], "source\x00"+repo+"\x00"+s.path,
						fmt.Sprintf("use an image from an allowed source (%s) instead of %s", strings.Join(sr.Allowed, ", "), repo), 0)
					continue
				}
			}
			if _, pinned := ref.(name.Digest); sr.RequireDigest && s.registryOK && !pinned {
				f.Message = what + " is not pinned by digest"
				if e.suppress(&f, []string{s.ref, repo}, nil) {
					continue
				}
				fix := fmt.Sprintf("pin %s by digest: %s@sha256:<digest>", s.ref, s.ref)
				if s.fromImage {
					fix = fmt.Sprintf("pin the base image by digest: FROM %s@sha256:<digest>", s.ref)
				}
				e.add(f, []string{r.Name}, r.Action, kindOrder[kindSource], "digest\x00"+s.ref+"\x00"+s.path, fix, 0)
			}
		}
	}
}

func (e *evaluation) imageRules() {
	a := &e.inv.Artifact
	if a.Type != inventory.ArtifactImage {
		return
	}
	for _, r := range e.p.Rules {
		ir := r.Image
		if ir == nil {
			continue
		}
		for _, l := range ir.RequiredLabels {
			if _, ok := a.Labels[l]; ok || slices.Contains(a.LabelKeys, l) {
				continue
			}
			f := Finding{Kind: kindImage, ID: "label:" + l, Path: "config.Labels", Message: "the image has no label " + l}
			if e.suppress(&f, []string{f.ID}, nil) {
				continue
			}
			e.add(f, []string{r.Name}, r.Action, kindOrder[kindImage], "labels\x00"+r.Name, "add the missing labels to the Dockerfile: LABEL "+l+"=…", 0)
		}
		if ir.NonRoot {
			if user, _, _ := strings.Cut(a.User, ":"); user == "" || user == "root" || user == "0" {
				msg := "the image sets no USER, so it runs as root"
				if a.User != "" {
					msg = fmt.Sprintf("the image runs as %q", a.User)
				}
				f := Finding{Kind: kindImage, ID: "non-root", Path: "config.User", Message: msg}
				if !e.suppress(&f, []string{f.ID, misconfig.IMGRootUser}, nil) {
					e.add(f, []string{r.Name}, r.Action, kindOrder[kindImage], "user", "add USER with a non-root uid (USER 10001) to the Dockerfile", 0)
				}
			}
		}
		if ir.MaxAgeDays > 0 {
			created, err := time.Parse(time.RFC3339, a.Created)
			if err != nil {
				continue // no creation date: nothing to age (BH-IMG-010 says the same)
			}
			days := int(e.now.Sub(created).Hours() / 24)
			if days > ir.MaxAgeDays {
				f := Finding{Kind: kindImage, ID: "max-age", Path: "config.Created",
					Message: fmt.Sprintf("built %s, %d days ago; the limit is %d", created.UTC().Format(time.DateOnly), days, ir.MaxAgeDays)}
				if !e.suppress(&f, []string{f.ID, misconfig.IMGOld}, nil) {
					e.add(f, []string{r.Name}, r.Action, kindOrder[kindImage], "age",
						fmt.Sprintf("rebuild the image (built %s, %d days ago; limit %d days)", created.UTC().Format(time.DateOnly), days, ir.MaxAgeDays), 0)
				}
			}
		}
	}
}

// baseRules: an image whose bottom layers are not an approved base's is
// drift from the approved images. A check that could not run is a finding
// of the rule too: never a silent pass.
func (e *evaluation) baseRules() {
	if e.inv.Artifact.Type != inventory.ArtifactImage {
		return
	}
	for _, r := range e.p.Rules {
		if r.Base == nil {
			continue
		}
		b := e.in.Base
		f := Finding{Kind: kindBase, ID: "approved-base", Path: "layers"}
		var fix string
		switch {
		case b == nil || b.Err != nil:
			f.Message = "the approved-base check did not run"
			if b != nil {
				f.Message = "the approved-base check failed: " + b.Err.Error()
			}
			fix = "make the approved bases readable (bulkhead policy baseline REF -o FILE)"
		case b.Approved:
			continue
		default:
			f.Message = b.Reason
			if f.Message == "" {
				f.Message = fmt.Sprintf("the image's bottom layers are no approved base's; nearest %s (%d layers match, %d differ)", b.Nearest, b.MatchedLayers, b.DifferingLayers)
			}
			fix = "rebuild on an approved base"
			if b.Nearest != "" {
				fix += fmt.Sprintf(" (nearest: %s, %d layers match, %d differ)", b.Nearest, b.MatchedLayers, b.DifferingLayers)
			}
		}
		if e.suppress(&f, []string{f.ID}, nil) {
			continue
		}
		e.add(f, []string{r.Name}, r.Action, kindOrder[kindBase], "base\x00"+r.Name, fix, 0)
	}
}

// celDocument is the report's shape for CEL (json.go's jsonDocument
// without the schema version).
type celDocument struct {
	Artifact          inventory.Artifact        `json:"artifact"`
	OS                *inventory.OS             `json:"os"`
	Packages          []inventory.Package       `json:"packages"`
	Vulnerabilities   []inventory.Vulnerability `json:"vulnerabilities"`
	Secrets           []inventory.Secret        `json:"secrets"`
	Malware           []inventory.Malware       `json:"malware"`
	Misconfigurations []misconfig.Finding       `json:"misconfigurations"`
}

func (e *evaluation) celRules() {
	var vars map[string]any
	for _, r := range e.p.Rules {
		if r.CEL == nil {
			continue
		}
		if vars == nil {
			src := &e.kept
			if e.in.Baseline != nil {
				src = &e.fresh
			}
			vars = celInput(&celDocument{Artifact: e.kept.Artifact, OS: e.kept.OS, Packages: e.kept.Packages,
				Vulnerabilities: src.Vulnerabilities, Secrets: src.Secrets, Malware: src.Malware, Misconfigurations: src.Misconfigurations})
		}
		violated, err := evalCEL(r.CEL.prg, vars)
		f := Finding{Kind: kindCustom, ID: r.Name, Message: r.CEL.Expr}
		fix := cmp.Or(r.CEL.Message, "custom rule "+r.Name+" is violated: "+r.CEL.Expr)
		switch {
		case err != nil:
			f.Message = "could not be evaluated: " + err.Error()
			fix = "fix custom rule " + r.Name + ": it could not be evaluated on this report"
		case !violated:
			continue
		}
		if e.suppress(&f, []string{r.Name}, nil) {
			continue
		}
		e.add(f, []string{r.Name}, r.Action, kindOrder[kindCustom], "cel\x00"+r.Name, fix, 0)
	}
}

// expired reports every exception past its date as a warning: it no
// longer applies, and someone should renew or remove it.
func (e *evaluation) expired() {
	for i := range e.in.Exceptions {
		x := &e.in.Exceptions[i]
		if !x.Expired(e.now) {
			continue
		}
		e.v.Counts.Expired++
		msg := "expired " + x.ExpiresString()
		if x.Owner != "" {
			msg += ", owner " + x.Owner
		}
		msg += ": " + x.Reason
		f := Finding{Kind: kindException, ID: x.ID, Path: x.File, Line: x.Line, Message: msg}
		e.add(f, []string{"exceptions"}, Warn, kindOrder[kindException], "expired",
			"renew (new expires date) or remove the expired exceptions; they no longer apply", 0)
	}
}

// finish fills in the fixes that depend on the whole group, orders the
// groups and counts.
func (e *evaluation) finish() {
	groups := make([]*Reason, 0, len(e.groups))
	for _, g := range e.groups {
		if g.Fix == "" {
			g.Fix = groupFix(g)
		}
		var rules []string
		for _, f := range g.Findings {
			for _, r := range f.Rules {
				if !slices.Contains(rules, r) {
					rules = append(rules, r)
				}
			}
		}
		g.Rule = strings.Join(rules, ", ")
		slices.SortStableFunc(g.Findings, func(a, b Finding) int {
			return cmp.Or(
				-cmp.Compare(inventory.SeverityRank(a.Severity), inventory.SeverityRank(b.Severity)),
				cmp.Compare(a.Path, b.Path), cmp.Compare(a.Line, b.Line), cmp.Compare(a.ID, b.ID))
		})
		groups = append(groups, g)
	}
	slices.SortFunc(groups, func(a, b *Reason) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), -cmp.Compare(a.worst, b.worst), cmp.Compare(a.key, b.key))
	})
	for _, g := range groups {
		if g.Action == Block {
			e.v.Reasons = append(e.v.Reasons, *g)
			if g.kind != kindOrder[kindException] {
				e.v.Counts.Blocked += len(g.Findings)
			}
		} else {
			e.v.Warnings = append(e.v.Warnings, *g)
			if g.kind != kindOrder[kindException] {
				e.v.Counts.Warned += len(g.Findings)
			}
		}
	}
	e.v.Blocked = len(e.v.Reasons) > 0
	e.v.Counts.Suppressed = len(e.v.Suppressed)
	e.v.Counts.Preexisting = len(e.v.Preexisting)
}

// groupFix writes the fix of a group of scanner findings.
func groupFix(g *Reason) string {
	f0 := &g.Findings[0]
	switch f0.Kind {
	case kindVuln:
		var ids, bins []string
		for _, f := range g.Findings {
			if !slices.Contains(ids, f.ID) {
				ids = append(ids, f.ID)
			}
			if !slices.Contains(bins, f.Package) {
				bins = append(bins, f.Package)
			}
		}
		slices.Sort(bins)
		count := plural(len(ids), "vulnerability", "vulnerabilities")
		if len(bins) > 1 || bins[0] != f0.source {
			count = strings.Join(bins, ", ") + "; " + count
		}
		if f0.FixedVersion == "" {
			return fmt.Sprintf("no fix yet for %s %s (%s): replace or remove the package, or accept the risk in %s",
				f0.source, f0.Version, count, DefaultIgnoreFile)
		}
		if len(bins) > 1 || bins[0] != f0.source {
			return fmt.Sprintf("upgrade %s %s → %s (%s; fixes %d)", f0.source, f0.Version, highestFix(g.Findings), strings.Join(bins, ", "), len(ids))
		}
		return fmt.Sprintf("upgrade %s %s → %s (fixes %d)", f0.source, f0.Version, highestFix(g.Findings), len(ids))
	case kindSecret:
		titles := []string{}
		for _, f := range g.Findings {
			if !slices.Contains(titles, f.Title) {
				titles = append(titles, f.Title)
			}
		}
		what := "the " + titles[0]
		if len(g.Findings) > 1 {
			what = fmt.Sprintf("%d secrets (%s)", len(g.Findings), strings.Join(titles, ", "))
		}
		s := fmt.Sprintf("rotate and remove %s in %s", what, f0.Path)
		if f0.LayerIndex != nil {
			s += fmt.Sprintf(" (added in layer %d)", *f0.LayerIndex)
		}
		return s
	case kindMisconfig:
		fix := cmp.Or(f0.fix, f0.Title)
		if len(g.Findings) == 1 {
			where := "image config"
			if f0.Path != "" {
				where = f0.Path
				if f0.Line > 0 {
					where += ":" + strconv.Itoa(f0.Line)
				}
			}
			return where + ": " + fix
		}
		return fmt.Sprintf("%s: %s (%d places)", f0.ID, fix, len(g.Findings))
	case kindMalware:
		s := "remove " + f0.Path
		if f0.LayerIndex != nil {
			s += fmt.Sprintf(" (added in layer %d)", *f0.LayerIndex)
		}
		return s + " and find out how malware " + f0.ID + " got into the build"
	}
	return f0.Message
}

// highestFix is the highest fixed version among a package's findings, in
// the package's ecosystem's order (string order when it is unknown).
func highestFix(fs []Finding) string {
	best := ""
	for _, f := range fs {
		if f.FixedVersion == "" {
			continue
		}
		if best == "" {
			best = f.FixedVersion
			continue
		}
		c, err := version.Compare(f.eco, f.FixedVersion, best)
		if err != nil {
			c = cmp.Compare(f.FixedVersion, best)
		}
		if c > 0 {
			best = f.FixedVersion
		}
	}
	return best
}

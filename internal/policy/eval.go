package policy

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

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
	applied map[int]bool     // exceptions that suppressed something
	byID    map[string][]int // unexpired exceptions by upper-case id
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
	if len(e.in.Exceptions) == 0 {
		return false
	}
	if e.byID == nil {
		// Index the unexpired exceptions by id once: a big ignore file
		// times many findings must not be a product.
		e.byID = map[string][]int{}
		for i := range e.in.Exceptions {
			if x := &e.in.Exceptions[i]; !x.Expired(e.now) {
				k := strings.ToUpper(x.ID)
				e.byID[k] = append(e.byID[k], i)
			}
		}
	}
	image := e.inv.Artifact.Name
	var cands []int
	for _, id := range ids {
		cands = append(cands, e.byID[strings.ToUpper(id)]...)
	}
	slices.Sort(cands) // the first entry of the file wins
	for _, i := range cands {
		x := &e.in.Exceptions[i]
		if !x.matches(ids, pkgs, f.Path, image) {
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

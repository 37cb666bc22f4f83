package match

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/osv"
	"github.com/bulkhead-sec/bulkhead/internal/version"
)

// verdict is the outcome of one affected entry for one installed version.
type verdict struct {
	affected bool
	fixed    string // the fix for this version, "" when none is known
	matched  string // the range or list that matched, for evidence
	problem  string // why the entry could not be decided, if it could not
}

type event struct {
	kind string // introduced, fixed, last_affected
	raw  string
	v    *version.Version // nil for introduced "0"
}

// maxEvents and maxVersions bound the work one advisory can cause.
const (
	maxEvents   = 10_000
	maxVersions = 200_000
)

// evaluate decides, as the OSV schema defines it, whether installed is
// affected by a: listed in versions, or inside a SEMVER/ECOSYSTEM range
// (GIT ranges describe commits, not package versions, and are ignored).
func evaluate(vc *versions, eco string, installed *version.Version, a *osv.Affected) verdict {
	var problems []string
	if len(a.Versions) > maxVersions {
		problems = append(problems, fmt.Sprintf("%d listed versions, more than the %d examined", len(a.Versions), maxVersions))
	}
	for i, lv := range a.Versions {
		if i >= maxVersions {
			break
		}
		if lv == installed.String() {
			return verdict{affected: true, matched: "listed version " + lv}
		}
		if v, err := vc.parse(eco, lv); err == nil {
			if c, err := installed.CompareVersion(v); err == nil && c == 0 {
				return verdict{affected: true, matched: "listed version " + lv}
			}
		}
	}
	for _, r := range a.Ranges {
		if r.Type == osv.RangeGit {
			continue
		}
		v, err := inRange(vc, eco, installed, r)
		if err != "" {
			problems = append(problems, err)
			continue
		}
		if v.affected {
			return v
		}
	}
	return verdict{problem: strings.Join(problems, "; ")}
}

// inRange implements the schema's evaluation: sort the events, then walk
// them; introduced turns "affected" on, fixed (at or below the version) and
// last_affected (below it) turn it off; limit events cap the range.
func inRange(vc *versions, eco string, installed *version.Version, r osv.Range) (verdict, string) {
	if len(r.Events) > maxEvents {
		return verdict{}, fmt.Sprintf("range with %d events, more than %d", len(r.Events), maxEvents)
	}
	var evs []event
	var limits []*version.Version
	limitStar := false
	for _, e := range r.Events {
		switch {
		case e.Introduced != "":
			if e.Introduced == "0" {
				evs = append(evs, event{kind: "introduced", raw: "0"})
				continue
			}
			evs = append(evs, event{kind: "introduced", raw: e.Introduced})
		case e.Fixed != "":
			evs = append(evs, event{kind: "fixed", raw: e.Fixed})
		case e.LastAffected != "":
			evs = append(evs, event{kind: "last_affected", raw: e.LastAffected})
		case e.Limit != "":
			if e.Limit == "*" {
				limitStar = true
				continue
			}
			lv, err := vc.parse(eco, e.Limit)
			if err != nil {
				return verdict{}, "limit " + err.Error()
			}
			limits = append(limits, lv)
		}
	}
	for i := range evs {
		if evs[i].raw == "0" && evs[i].kind == "introduced" {
			continue
		}
		v, err := vc.parse(eco, evs[i].raw)
		if err != nil {
			return verdict{}, err.Error()
		}
		evs[i].v = v
	}
	var sortErr error
	sort.SliceStable(evs, func(i, j int) bool {
		a, b := evs[i], evs[j]
		if a.v == nil || b.v == nil {
			return a.v == nil && b.v != nil
		}
		c, err := a.v.CompareVersion(b.v)
		if err != nil {
			sortErr = err
		}
		if c != 0 {
			return c < 0
		}
		// At equal versions, introduced comes first: [1.0, 1.0) is empty.
		return a.kind == "introduced" && b.kind != "introduced"
	})
	if sortErr != nil {
		return verdict{}, sortErr.Error()
	}
	if len(limits) > 0 && !limitStar {
		below := false
		for _, l := range limits {
			if c, err := installed.CompareVersion(l); err == nil && c < 0 {
				below = true
			}
		}
		if !below {
			return verdict{}, ""
		}
	}
	affected := false
	var intro string
	for _, e := range evs {
		var c int
		if e.v != nil {
			var err error
			if c, err = installed.CompareVersion(e.v); err != nil {
				return verdict{}, err.Error()
			}
		}
		switch e.kind {
		case "introduced":
			if e.v == nil || c >= 0 {
				affected, intro = true, e.raw
			}
		case "fixed":
			if c >= 0 {
				affected = false
			}
		case "last_affected":
			if c > 0 {
				affected = false
			}
		}
	}
	if !affected {
		return verdict{}, ""
	}
	// The fix is the first fixed event above the installed version;
	// last_affected without a later fixed means no fix is known.
	out := verdict{affected: true}
	upper := ""
	for _, e := range evs {
		if e.v == nil {
			continue
		}
		c, _ := installed.CompareVersion(e.v)
		if e.kind == "fixed" && c < 0 {
			out.fixed = e.raw
			upper = "<" + e.raw
			break
		}
		if e.kind == "last_affected" && c <= 0 && upper == "" {
			upper = "<=" + e.raw
		}
	}
	lower := ">=" + intro
	if intro == "0" {
		lower = ">=0"
	}
	out.matched = strings.TrimSpace(r.Type + " " + lower + " " + upper)
	return out, ""
}

// versions memoises parsed versions for one Match: advisories repeat the
// same event versions across packages and records.
type versions struct {
	m map[string]parsedVersion
}

type parsedVersion struct {
	v   *version.Version
	err error
}

func newVersions() *versions { return &versions{m: map[string]parsedVersion{}} }

func (vc *versions) parse(eco, raw string) (*version.Version, error) {
	k := eco + "\x00" + raw
	if p, ok := vc.m[k]; ok {
		return p.v, p.err
	}
	v, err := version.Parse(eco, raw)
	vc.m[k] = parsedVersion{v, err}
	return v, err
}

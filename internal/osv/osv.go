// Package osv is the OSV schema (ossf/osv-schema 1.6) as Go types, plus
// the naming rules that make an inventoried package and an advisory meet:
// ecosystem names and package-name normalisation.
package osv

import (
	"encoding/json"
	"regexp"
	"strings"
	"time"
)

// Vulnerability is one OSV record.
type Vulnerability struct {
	SchemaVersion    string          `json:"schema_version,omitempty"`
	ID               string          `json:"id"`
	Modified         time.Time       `json:"modified"`
	Published        *time.Time      `json:"published,omitempty"`
	Withdrawn        *time.Time      `json:"withdrawn,omitempty"`
	Aliases          []string        `json:"aliases,omitempty"`
	Upstream         []string        `json:"upstream,omitempty"`
	Related          []string        `json:"related,omitempty"`
	Summary          string          `json:"summary,omitempty"`
	Details          string          `json:"details,omitempty"`
	Severity         []Severity      `json:"severity,omitempty"`
	Affected         []Affected      `json:"affected,omitempty"`
	References       []Reference     `json:"references,omitempty"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Severity is a scored severity: CVSS_V2, CVSS_V3, CVSS_V4, Ubuntu.
type Severity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

// Affected names a package and the versions an advisory applies to.
type Affected struct {
	Package           Package         `json:"package"`
	Severity          []Severity      `json:"severity,omitempty"`
	Ranges            []Range         `json:"ranges,omitempty"`
	Versions          []string        `json:"versions,omitempty"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific,omitempty"`
	DatabaseSpecific  json.RawMessage `json:"database_specific,omitempty"`
}

// Package identifies a package in an ecosystem.
type Package struct {
	Ecosystem string `json:"ecosystem"`
	Name      string `json:"name"`
	PURL      string `json:"purl,omitempty"`
}

// Range types.
const (
	RangeSemver    = "SEMVER"
	RangeEcosystem = "ECOSYSTEM"
	RangeGit       = "GIT"
)

// Range is an ordered list of events.
type Range struct {
	Type             string          `json:"type"`
	Repo             string          `json:"repo,omitempty"`
	Events           []Event         `json:"events"`
	DatabaseSpecific json.RawMessage `json:"database_specific,omitempty"`
}

// Event is one of introduced, fixed, last_affected, limit.
type Event struct {
	Introduced   string `json:"introduced,omitempty"`
	Fixed        string `json:"fixed,omitempty"`
	LastAffected string `json:"last_affected,omitempty"`
	Limit        string `json:"limit,omitempty"`
}

// Reference is a link with a type (ADVISORY, FIX, WEB, ...).
type Reference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

// Ecosystem names as OSV spells them (without a release suffix).
const (
	Debian     = "Debian"
	Ubuntu     = "Ubuntu"
	Alpine     = "Alpine"
	RedHat     = "Red Hat"
	Rocky      = "Rocky Linux"
	AlmaLinux  = "AlmaLinux"
	Wolfi      = "Wolfi"
	Chainguard = "Chainguard"
	NPM        = "npm"
	PyPI       = "PyPI"
	Go         = "Go"
	Maven      = "Maven"
	CratesIO   = "crates.io"
	RubyGems   = "RubyGems"
	Packagist  = "Packagist"
	NuGet      = "NuGet"
)

// BaseEcosystem strips a release suffix: "Debian:12" → "Debian".
func BaseEcosystem(eco string) string {
	if i := strings.IndexByte(eco, ':'); i >= 0 {
		return eco[:i]
	}
	return eco
}

var pep503 = regexp.MustCompile(`[-_.]+`)

// NormalizeName returns the name under which a package is indexed: PEP 503
// for PyPI, lower case where the ecosystem is case-insensitive, as written
// elsewhere.
func NormalizeName(ecosystem, name string) string {
	switch BaseEcosystem(ecosystem) {
	case PyPI:
		return strings.ToLower(pep503.ReplaceAllString(name, "-"))
	case NuGet, Packagist, Maven:
		return strings.ToLower(name)
	}
	return name
}

// UnmarshalJSON decodes a record, tolerating timestamps that real exports
// carry but time.RFC3339 refuses ("1-01-01T00:00:00Z" in some PyPI
// records): an unreadable timestamp becomes the zero time instead of
// failing the whole record.
func (v *Vulnerability) UnmarshalJSON(b []byte) error {
	type plain Vulnerability
	var aux struct {
		plain
		Modified  json.RawMessage `json:"modified"`
		Published json.RawMessage `json:"published,omitempty"`
		Withdrawn json.RawMessage `json:"withdrawn,omitempty"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*v = Vulnerability(aux.plain)
	v.Modified = parseTime(aux.Modified)
	if t := parseTime(aux.Published); !t.IsZero() {
		v.Published = &t
	}
	if len(aux.Withdrawn) > 0 && string(aux.Withdrawn) != "null" {
		t := parseTime(aux.Withdrawn)
		// A withdrawn field with an unreadable date still withdraws.
		v.Withdrawn = &t
	}
	return nil
}

func parseTime(raw json.RawMessage) time.Time {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil || s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	// Years written without four digits: pad them.
	if i := strings.IndexByte(s, '-'); i > 0 && i < 4 {
		if t, err := time.Parse(time.RFC3339, strings.Repeat("0", 4-i)+s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// Package version orders versions the way each ecosystem does: dpkg for
// Debian and Ubuntu, apk for Alpine and Wolfi, rpm for the Red Hat family,
// SemVer, PEP 440, Maven, RubyGems, NuGet, Packagist and Go. Comparison is
// OSV's reference implementation (osv-scalibr/semantic); this package adds
// what it does not do: refusing version strings the ecosystem's own tool
// would refuse, so a matcher can say "unknown order" instead of guessing.
package version

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/osv-scalibr/semantic"

	"github.com/bulkhead-sec/bulkhead/internal/osv"
)

// ErrInvalid is wrapped by errors for versions the ecosystem cannot order.
var ErrInvalid = errors.New("unknown version order")

// maxLen bounds a version string; nothing real comes close.
const maxLen = 256

var (
	// dpkg: [epoch:]upstream[-revision]; upstream starts with a digit.
	debRe = regexp.MustCompile(`^([0-9]+:)?[0-9][A-Za-z0-9.+~:-]*$`)
	// apk-tools: digits, dot groups, one letter, suffixes, -rN.
	apkRe = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]*)*(~[0-9a-f]+)?(-r[0-9]+)?$`)
	// rpm: [epoch:]version[-release]; alphanumerics and . _ + ~ ^.
	rpmRe = regexp.MustCompile(`^([0-9]+:)?[A-Za-z0-9][A-Za-z0-9._+~^-]*$`)
	// SemVer 2.0 (npm, crates.io), with an optional leading v; advisories
	// also write partial versions ("1.0"), which order as if zero-padded.
	semverRe = regexp.MustCompile(`^v?[0-9]+(\.[0-9]+){0,2}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
	// Go modules: SemVer with v, +incompatible; the toolchain: 1.22, 1.22.3, 1.22rc1.
	goRe = regexp.MustCompile(`^v?[0-9]+\.[0-9]+(\.[0-9]+)?(-[0-9A-Za-z.-]+)?(\+incompatible)?$|^v?[0-9]+\.[0-9]+(rc|beta)[0-9]+$`)
	// PEP 440, public and local versions (case-insensitive).
	pep440Re = regexp.MustCompile(`(?i)^v?([0-9]+!)?[0-9]+(\.[0-9]+)*([-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?[0-9]*)?((-[0-9]+)|([-_.]?(post|rev|r)[-_.]?[0-9]*))?([-_.]?dev[-_.]?[0-9]*)?(\+[a-z0-9]+([-_.][a-z0-9]+)*)?$`)
	// RubyGems: Gem::Version's pattern.
	gemRe = regexp.MustCompile(`^[0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)
	// NuGet: up to four numeric parts, SemVer prerelease and metadata.
	nugetRe = regexp.MustCompile(`^[0-9]+(\.[0-9]+){0,3}(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-.]+)?$`)
	// Maven and Packagist accept almost anything; require a digit and no
	// whitespace or control characters.
	looseRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+~:-]*$`)
)

// Valid reports whether v is a version the ecosystem can order. The
// ecosystem may carry a release suffix ("Debian:12").
func Valid(ecosystem, v string) error {
	if v == "" || len(v) > maxLen {
		return fmt.Errorf("%w: %q in %s", ErrInvalid, trunc(v), ecosystem)
	}
	var re *regexp.Regexp
	switch osv.BaseEcosystem(ecosystem) {
	case osv.Debian, osv.Ubuntu:
		re = debRe
	case osv.Alpine, osv.Wolfi, osv.Chainguard:
		re = apkRe
	case osv.RedHat, osv.Rocky, osv.AlmaLinux, "openSUSE", "SUSE", "Mageia", "openEuler":
		re = rpmRe
	case osv.NPM, osv.CratesIO:
		re = semverRe
	case osv.Go:
		re = goRe
	case osv.PyPI:
		re = pep440Re
	case osv.RubyGems:
		re = gemRe
	case osv.NuGet:
		re = nugetRe
	case osv.Maven, osv.Packagist:
		re = looseRe
	default:
		return fmt.Errorf("%w: no version order known for ecosystem %s", ErrInvalid, ecosystem)
	}
	if !re.MatchString(v) {
		return fmt.Errorf("%w: %q is not a valid %s version", ErrInvalid, trunc(v), osv.BaseEcosystem(ecosystem))
	}
	return nil
}

// Version is a parsed version of one ecosystem.
type Version struct {
	ecosystem string
	raw       string
	v         semantic.Version
}

// Parse checks and parses v.
func Parse(ecosystem, v string) (*Version, error) {
	if osv.BaseEcosystem(ecosystem) == osv.Go {
		v = strings.TrimPrefix(v, "go")
	}
	if err := Valid(ecosystem, v); err != nil {
		return nil, err
	}
	sv, err := semantic.Parse(v, semanticEcosystem(ecosystem))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return &Version{ecosystem: ecosystem, raw: v, v: sv}, nil
}

// String returns the version as written.
func (v *Version) String() string { return v.raw }

// Compare orders v against other (-1, 0, +1); other must be valid in the
// same ecosystem.
func (v *Version) Compare(other string) (int, error) {
	o, err := Parse(v.ecosystem, other)
	if err != nil {
		return 0, err
	}
	return v.CompareVersion(o)
}

// CompareVersion orders two parsed versions.
func (v *Version) CompareVersion(o *Version) (int, error) {
	c, err := v.v.Compare(o.v)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return c, nil
}

// Compare orders a and b in ecosystem.
func Compare(ecosystem, a, b string) (int, error) {
	va, err := Parse(ecosystem, a)
	if err != nil {
		return 0, err
	}
	return va.Compare(b)
}

// semanticEcosystem maps OSV ecosystem names to the ones semantic knows.
func semanticEcosystem(eco string) string {
	base := osv.BaseEcosystem(eco)
	switch base {
	case osv.Wolfi, osv.Chainguard:
		return osv.Alpine
	}
	return base
}

func trunc(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

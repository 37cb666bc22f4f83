// Package ruby reads Ruby gems: the installed ones from the gemspecs
// RubyGems writes into specifications/ directories, and the declared ones
// from Bundler's Gemfile.lock.
//
// A gemspec is Ruby code; it is never evaluated. RubyGems writes installed
// specifications in one fixed shape (s.name = "rack".freeze), which a few
// anchored regular expressions read; a gemspec computing its name or
// version yields nothing.
package ruby

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Name of the analyzer.
const Name = "lang/ruby"

// Type is the package type of gems, as in their PURL.
const Type = "gem"

const (
	// MaxGemspecSize caps a gemspec (the largest, listing every file of
	// a big gem, are a few hundred KiB).
	MaxGemspecSize = 4 << 20
	// MaxLockfileSize caps a Gemfile.lock.
	MaxLockfileSize = 16 << 20
	// maxLine caps the line the regular expressions look at.
	maxLine = 4096
)

// Analyzer reads gemspecs and Gemfile.lock files.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 1 }

// Required accepts installed gemspecs (…/specifications/NAME.gemspec and
// …/specifications/default/NAME.gemspec, for gems that ship with Ruby) and
// Bundler lockfiles (Gemfile.lock, gems.locked).
func (*Analyzer) Required(p string, info fs.FileInfo) bool {
	switch {
	case IsGemspec(p), IsLockfile(p):
		return true
	}
	return false
}

// SizeLimit: the core skips larger files with a warning.
func (*Analyzer) SizeLimit(p string) int64 {
	if IsLockfile(p) {
		return MaxLockfileSize
	}
	return MaxGemspecSize
}

// IsGemspec reports whether p is an installed gem specification.
func IsGemspec(p string) bool {
	dir, base := path.Split(p)
	if !strings.HasSuffix(base, ".gemspec") || len(base) == len(".gemspec") {
		return false
	}
	dir = strings.TrimSuffix(dir, "default/")
	return strings.HasSuffix(dir, "/specifications/")
}

// IsLockfile reports whether p is a Bundler lockfile.
func IsLockfile(p string) bool {
	base := path.Base(p)
	return base == "Gemfile.lock" || base == "gems.locked"
}

func (*Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	limit := int64(MaxGemspecSize)
	lock := IsLockfile(in.Path)
	if lock {
		limit = MaxLockfileSize
	}
	b, err := analyzer.ReadAll(in, int64(limit))
	if err != nil {
		return nil, err
	}
	var gems []Gem
	if lock {
		gems, err = ParseLockfile(ctx, b)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", in.Path, err)
		}
	} else {
		g := ParseGemspec(b)
		if g.Name == "" || g.Version == "" {
			return nil, nil
		}
		gems = []Gem{g}
	}
	if len(gems) == 0 {
		return nil, nil
	}
	res := &analyzer.Result{}
	for _, g := range gems {
		res.Packages = append(res.Packages, inventory.Package{
			Name:      g.Name,
			Version:   g.Version,
			Type:      Type,
			Licenses:  g.Licenses,
			PURL:      PURL(g.Name, g.Version),
			FoundBy:   Name,
			Locations: []inventory.Location{{Path: in.Path}},
		})
	}
	return res, nil
}

// Gem is one gem found.
type Gem struct {
	Name     string
	Version  string
	Licenses []string
}

var (
	// s.name = "rack".freeze — the receiver is any identifier (spec.name
	// in hand-written gemspecs); only a literal string counts.
	gemName    = regexp.MustCompile(`^\s*[a-z_][a-zA-Z0-9_]*\.name\s*=\s*(?:"([^"\\]+)"|'([^'\\]+)')(?:\.freeze)?\s*$`)
	gemVersion = regexp.MustCompile(`^\s*[a-z_][a-zA-Z0-9_]*\.version\s*=\s*(?:Gem::Version\.new\(\s*)?(?:"([^"\\]+)"|'([^'\\]+)')(?:\.freeze)?\s*\)?\s*$`)
	// s.licenses = ["MIT".freeze, "Ruby".freeze] or s.license = "MIT"
	gemLicenses = regexp.MustCompile(`^\s*[a-z_][a-zA-Z0-9_]*\.licenses?\s*=\s*(.*)$`)
	quoted      = regexp.MustCompile(`"([^"\\]*)"|'([^'\\]*)'`)
	validName   = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	// RubyGems' own Gem::Version::VERSION_PATTERN.
	validVersion = regexp.MustCompile(`^[0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$`)
)

// ParseGemspec reads name, version and licences from a gemspec. Only the
// first assignment of each counts; lines over 4 KiB are skipped (those are
// s.files and s.description, never the fields read here).
func ParseGemspec(b []byte) Gem {
	var g Gem
	haveLicenses := false
	for line := range strings.Lines(string(b)) {
		if len(line) > maxLine {
			continue
		}
		line = strings.TrimRight(line, "\r\n")
		if g.Name == "" {
			if m := gemName.FindStringSubmatch(line); m != nil {
				if n := m[1] + m[2]; validName.MatchString(n) {
					g.Name = n
				}
				continue
			}
		}
		if g.Version == "" {
			if m := gemVersion.FindStringSubmatch(line); m != nil {
				if v := m[1] + m[2]; validVersion.MatchString(v) {
					g.Version = v
				}
				continue
			}
		}
		if !haveLicenses {
			if m := gemLicenses.FindStringSubmatch(line); m != nil {
				haveLicenses = true
				for _, q := range quoted.FindAllStringSubmatch(m[1], 64) {
					if l := strings.TrimSpace(q[1] + q[2]); l != "" && !contains(g.Licenses, l) {
						g.Licenses = append(g.Licenses, l)
					}
				}
			}
		}
	}
	return g
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// ParseLockfile reads the gems Bundler locked from rubygems.org (GEM) and
// git (GIT) sources. PATH sources are local code, not a published gem, and
// are skipped. A gem locked for several platforms is reported once: its
// version is what precedes the first "-", as in Bundler's own parser
// ("nokogiri (1.16.0-x86_64-linux)" is nokogiri 1.16.0).
func ParseLockfile(ctx context.Context, b []byte) ([]Gem, error) {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var (
		out     []Gem
		seen    = map[string]bool{}
		source  bool // inside GEM or GIT
		inSpecs bool
		n       int
	)
	for line := range strings.Lines(string(b)) {
		if n++; n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			continue
		}
		if line[0] != ' ' {
			source = line == "GEM" || line == "GIT"
			inSpecs = false
			continue
		}
		if !source {
			continue
		}
		if line == "  specs:" {
			inSpecs = true
			continue
		}
		if !strings.HasPrefix(line, "    ") {
			// "  remote: …", "  revision: …": source attributes.
			if !strings.HasPrefix(line, "   ") {
				inSpecs = false
			}
			continue
		}
		if !inSpecs || strings.HasPrefix(line, "     ") {
			continue // a dependency of the spec above
		}
		name, version, ok := specLine(line[4:])
		if !ok || seen[name+"\x00"+version] {
			continue
		}
		seen[name+"\x00"+version] = true
		out = append(out, Gem{Name: name, Version: version})
	}
	return out, nil
}

// specLine parses "name (version[-platform])".
func specLine(s string) (name, version string, ok bool) {
	name, rest, ok := strings.Cut(s, " (")
	if !ok || !strings.HasSuffix(rest, ")") {
		return "", "", false
	}
	version, _, _ = strings.Cut(strings.TrimSuffix(rest, ")"), "-")
	if !validName.MatchString(name) || !validVersion.MatchString(version) {
		return "", "", false
	}
	return name, version, true
}

// PURL returns pkg:gem/NAME@VERSION.
func PURL(name, version string) string {
	return packageurl.NewPackageURL(packageurl.TypeGem, "", name, version, nil, "").ToString()
}

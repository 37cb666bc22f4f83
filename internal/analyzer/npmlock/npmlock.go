// Package npmlock reads the packages pinned by JavaScript lockfiles:
// package-lock.json and npm-shrinkwrap.json (lockfile versions 1 to 3),
// yarn.lock (classic v1 and berry) and pnpm-lock.yaml (lockfile versions 5,
// 6 and 9). It is meant for directory scans of source trees, where nothing
// is installed yet; in images the npm analyzer reads node_modules.
package npmlock

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/npm"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Name of the analyzer.
const Name = "lang/npm-lock"

const (
	// MaxFileSize caps package-lock.json and yarn.lock. The lockfiles of
	// the largest monorepos are tens of MiB.
	MaxFileSize = 64 << 20
	// MaxPnpmFileSize caps pnpm-lock.yaml, smaller because decoding YAML
	// (through JSON) allocates about 50 times the file and reads about
	// 10 MiB/s.
	MaxPnpmFileSize = 16 << 20
	// maxLine bounds one line of a yarn.lock.
	maxLine = 1 << 20
)

// Package is one package pinned by a lockfile.
type Package struct {
	Name     string
	Version  string
	Licenses []string // package-lock.json v2 and later only
	// Dev marks a package installed only for development: required by
	// devDependencies and nothing else. Only package-lock.json and
	// pnpm-lock.yaml record it.
	Dev bool
}

// Analyzer reads JavaScript lockfiles.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 2 }

type kind int

const (
	kindNone kind = iota
	kindPackageLock
	kindYarn
	kindPnpm
)

func kindOf(path string) kind {
	switch path[strings.LastIndexByte(path, '/')+1:] {
	case "package-lock.json", "npm-shrinkwrap.json":
		return kindPackageLock
	case "yarn.lock":
		return kindYarn
	case "pnpm-lock.yaml":
		return kindPnpm
	}
	return kindNone
}

func maxSize(k kind) int64 {
	if k == kindPnpm {
		return MaxPnpmFileSize
	}
	return MaxFileSize
}

// Required accepts lockfiles by name, except inside node_modules: packages
// ship their own lockfiles, which say nothing about what is installed.
func (*Analyzer) Required(path string, info fs.FileInfo) bool {
	k := kindOf(path)
	return k != kindNone && !strings.Contains(path, "/node_modules/")
}

// SizeLimit: the core skips larger lockfiles with a warning.
func (*Analyzer) SizeLimit(path string) int64 { return int64(maxSize(kindOf(path))) }

func (*Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	k := kindOf(in.Path)
	limit := maxSize(k)
	b, err := analyzer.ReadAll(in, int64(limit))
	if err != nil {
		return nil, err
	}
	// Decoding a hostile lockfile of a million entries costs seconds and
	// hundreds of MiB before the per-file package cap could refuse it; a
	// count of the one field every entry has refuses it first.
	if n := bytes.Count(b, entryMarker(k)); n > 3*analyzer.MaxPackagesPerFile {
		return nil, fmt.Errorf("skipped: about %d entries, over the limit of %d packages for one file", n, analyzer.MaxPackagesPerFile)
	}
	var pkgs []Package
	switch k {
	case kindPackageLock:
		pkgs, err = ParsePackageLock(ctx, b)
	case kindYarn:
		pkgs, err = ParseYarnLock(ctx, b)
	case kindPnpm:
		pkgs, err = ParsePnpmLock(ctx, b)
	default:
		return nil, fmt.Errorf("%s: not a lockfile this analyzer reads", in.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", in.Path, err)
	}
	if len(pkgs) == 0 {
		return nil, nil
	}
	out := make([]inventory.Package, 0, len(pkgs))
	for _, p := range pkgs {
		out = append(out, inventory.Package{
			Name:      p.Name,
			Version:   p.Version,
			Type:      npm.Type,
			Licenses:  p.Licenses,
			PURL:      npm.PURL(p.Name, p.Version),
			Dev:       p.Dev,
			FoundBy:   Name,
			Locations: []inventory.Location{{Path: in.Path}},
		})
	}
	return &analyzer.Result{Packages: out}, nil
}

// entryMarker is a field every entry of a lockfile of kind k holds once
// (package-lock v2 holds each package twice, in "packages" and
// "dependencies").
func entryMarker(k kind) []byte {
	switch k {
	case kindYarn:
		return []byte("\n  version")
	case kindPnpm:
		return []byte("resolution:")
	}
	return []byte(`"version"`)
}

// collector gathers packages once per name and version. A package is dev
// only if every occurrence is.
type collector struct {
	idx  map[string]int
	pkgs []Package
}

func (c *collector) add(p Package) {
	if p.Name == "" || p.Version == "" {
		return
	}
	if c.idx == nil {
		c.idx = map[string]int{}
	}
	k := p.Name + "@" + p.Version
	if i, ok := c.idx[k]; ok {
		c.pkgs[i].Dev = c.pkgs[i].Dev && p.Dev
		if len(c.pkgs[i].Licenses) == 0 {
			c.pkgs[i].Licenses = p.Licenses
		}
		return
	}
	c.idx[k] = len(c.pkgs)
	c.pkgs = append(c.pkgs, p)
}

// sorted returns the packages by name and version: lockfiles decoded
// into maps have no order of their own.
func (c *collector) sorted() []Package {
	sort.Slice(c.pkgs, func(i, j int) bool {
		if c.pkgs[i].Name != c.pkgs[j].Name {
			return c.pkgs[i].Name < c.pkgs[j].Name
		}
		return c.pkgs[i].Version < c.pkgs[j].Version
	})
	return c.pkgs
}

// splitSpec splits "name@rest" at the first @ after the name, which may be
// scoped ("@babel/core@^7.0.0"). ok is false without such an @.
func splitSpec(s string) (name, rest string, ok bool) {
	if len(s) < 2 {
		return "", "", false
	}
	i := strings.IndexByte(s[1:], '@')
	if i < 0 {
		return s, "", false
	}
	return s[:i+1], s[i+2:], true
}

// splitLast splits "name@version" at the last @ after the first character.
func splitLast(s string) (name, version string, ok bool) {
	i := strings.LastIndexByte(s, '@')
	if i <= 0 {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// registryVersion reports whether v is a version as the registry gives
// them, not a URL, path or git reference.
func registryVersion(v string) bool {
	return v != "" && v[0] >= '0' && v[0] <= '9' && !strings.ContainsAny(v, ":/ ")
}

// checkEvery returns ctx.Err() every 1024th call.
type ticker struct{ n int }

func (t *ticker) check(ctx context.Context) error {
	t.n++
	if t.n%1024 == 0 {
		return ctx.Err()
	}
	return nil
}

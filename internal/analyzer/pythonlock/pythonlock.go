// Package pythonlock reads the Python packages pinned by a project's
// requirements files (requirements*.txt, == pins only), poetry.lock,
// Pipfile.lock and uv.lock. It is meant for directory scans of source
// trees, where nothing is installed yet; in images the python analyzer
// reads the installed distributions.
package pythonlock

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/python"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Name of the analyzer.
const Name = "lang/python-lock"

const (
	// MaxRequirementsSize caps requirements files; hash-pinned ones of
	// large applications reach a few hundred KiB.
	MaxRequirementsSize = 4 << 20
	// MaxLockSize caps poetry.lock, Pipfile.lock and uv.lock, which list
	// every wheel's hash and reach a few MiB. The TOML parser reads about
	// 1 MiB in half a second.
	MaxLockSize = 16 << 20
	maxLine     = 1 << 20
)

// Package is one package pinned by a requirements file or lockfile.
type Package struct {
	Name    string // PEP 503 normalised
	Version string
	// Dev marks a package needed only for development: poetry's dev
	// category or groups, Pipfile.lock's develop section, uv's
	// dev-dependencies. requirements files do not say.
	Dev bool
}

// Analyzer reads Python requirements files and lockfiles.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 2 }

type kind int

const (
	kindNone kind = iota
	kindRequirements
	kindPoetry
	kindPipfile
	kindUV
)

func kindOf(path string) kind {
	base := path[strings.LastIndexByte(path, '/')+1:]
	switch base {
	case "poetry.lock":
		return kindPoetry
	case "Pipfile.lock":
		return kindPipfile
	case "uv.lock":
		return kindUV
	}
	if strings.HasPrefix(base, "requirements") && strings.HasSuffix(base, ".txt") {
		return kindRequirements
	}
	return kindNone
}

func maxSize(k kind) int64 {
	if k == kindRequirements {
		return MaxRequirementsSize
	}
	return MaxLockSize
}

// Required accepts requirements*.txt, poetry.lock, Pipfile.lock and
// uv.lock, except inside installed distributions (site-packages,
// dist-packages), whose own files say nothing about what is installed.
func (*Analyzer) Required(path string, info fs.FileInfo) bool {
	k := kindOf(path)
	return k != kindNone &&
		!strings.Contains(path, "/site-packages/") && !strings.Contains(path, "/dist-packages/")
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
	var pkgs []Package
	switch k {
	case kindRequirements:
		pkgs, err = ParseRequirements(ctx, b)
	case kindPoetry:
		pkgs, err = ParsePoetryLock(ctx, b)
	case kindPipfile:
		pkgs, err = ParsePipfileLock(ctx, b)
	case kindUV:
		pkgs, err = ParseUVLock(ctx, b)
	default:
		return nil, fmt.Errorf("%s: not a file this analyzer reads", in.Path)
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
			Type:      python.Type,
			PURL:      python.PURL(p.Name, p.Version),
			Dev:       p.Dev,
			FoundBy:   Name,
			Locations: []inventory.Location{{Path: in.Path}},
		})
	}
	return &analyzer.Result{Packages: out}, nil
}

// collector gathers packages once per normalised name and version. A
// package is dev only if every occurrence is.
type collector struct {
	idx  map[string]int
	pkgs []Package
}

func (c *collector) add(name, version string, dev bool) {
	name, version = python.NormalizeName(name), strings.TrimSpace(version)
	if name == "" || version == "" || strings.ContainsAny(version, " \t\r\n") {
		return
	}
	if c.idx == nil {
		c.idx = map[string]int{}
	}
	k := name + "@" + version
	if i, ok := c.idx[k]; ok {
		c.pkgs[i].Dev = c.pkgs[i].Dev && dev
		return
	}
	c.idx[k] = len(c.pkgs)
	c.pkgs = append(c.pkgs, Package{Name: name, Version: version, Dev: dev})
}

// sorted returns the packages by name and version.
func (c *collector) sorted() []Package {
	sort.Slice(c.pkgs, func(i, j int) bool {
		if c.pkgs[i].Name != c.pkgs[j].Name {
			return c.pkgs[i].Name < c.pkgs[j].Name
		}
		return c.pkgs[i].Version < c.pkgs[j].Version
	})
	return c.pkgs
}

type ticker struct{ n int }

// check returns ctx.Err() every 1024th call.
func (t *ticker) check(ctx context.Context) error {
	t.n++
	if t.n%1024 == 0 {
		return ctx.Err()
	}
	return nil
}

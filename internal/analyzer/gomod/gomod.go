// Package gomod reads the module requirements declared in go.mod files:
// what a module asks for, as written, before minimal version selection or
// replacements. The modules compiled into a binary are the gobinary
// analyzer's; consumers tell the two apart by FoundBy.
package gomod

import (
	"context"
	"fmt"
	"io/fs"
	"strings"

	"github.com/package-url/packageurl-go"
	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Name of the analyzer.
const Name = "lang/gomod"

// Type is the package type of Go modules, as in their PURL.
const Type = "golang"

// MaxFileSize caps the go.mod files read. The largest real ones (cloud
// SDK monorepos) are a few hundred KiB.
const MaxFileSize = 8 << 20

// Analyzer reads go.mod files.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 1 }

// Required accepts files named go.mod, except those of the Go module cache
// (GOPATH/pkg/mod/PATH@VERSION/go.mod: the go.mod of every module ever
// downloaded, not of software in the image) and of testdata directories,
// which the go command ignores.
func (*Analyzer) Required(path string, info fs.FileInfo) bool {
	if !(path == "go.mod" || strings.HasSuffix(path, "/go.mod")) {
		return false
	}
	if i := strings.Index(path, "/pkg/mod/"); i >= 0 && strings.Contains(path[i:], "@") {
		return false
	}
	return !strings.Contains(path, "/testdata/")
}

// SizeLimit: the core skips larger files with a warning.
func (*Analyzer) SizeLimit(string) int64 { return MaxFileSize }

func (*Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	b, err := analyzer.ReadAll(in, int64(MaxFileSize))
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	reqs, err := Parse(in.Path, b)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", in.Path, err)
	}
	if len(reqs) == 0 {
		return nil, nil
	}
	pkgs := make([]inventory.Package, 0, len(reqs))
	for _, r := range reqs {
		pkgs = append(pkgs, inventory.Package{
			Name:      r.Path,
			Version:   r.Version,
			Type:      Type,
			PURL:      PURL(r.Path, r.Version),
			FoundBy:   Name,
			Locations: []inventory.Location{{Path: in.Path}},
		})
	}
	return &analyzer.Result{Packages: pkgs}, nil
}

// Require is one requirement of a go.mod file.
type Require struct {
	Path    string
	Version string // as written
	// Indirect marks a requirement that no package of the module imports
	// ("// indirect"): one kept for minimal version selection.
	Indirect bool
}

// Parse returns the requirements of the go.mod file data, direct and
// indirect, in file order, once each. Directives the parser does not know
// (from a newer Go) are ignored. A version that is no semantic version (a
// branch name the go command has not resolved yet) makes the file invalid,
// as it is for the go command.
func Parse(path string, data []byte) ([]Require, error) {
	asWritten := func(_, v string) (string, error) { return v, nil }
	f, err := modfile.ParseLax(path, data, asWritten)
	if err != nil {
		return nil, err
	}
	var out []Require
	seen := map[string]bool{}
	for _, r := range f.Require {
		p, v := r.Mod.Path, r.Mod.Version
		if p == "" || !semver.IsValid(v) || seen[p+"@"+v] {
			continue
		}
		seen[p+"@"+v] = true
		out = append(out, Require{Path: p, Version: v, Indirect: r.Indirect})
	}
	return out, nil
}

// PURL returns the package URL of a Go module: the module path is split at
// its last slash into namespace and name, its case kept (see
// gobinary.PURL).
func PURL(path, version string) string {
	ns, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		ns, name = path[:i], path[i+1:]
	}
	return packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, version, nil, "").ToString()
}

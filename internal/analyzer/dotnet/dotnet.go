// Package dotnet reads NuGet packages: those a built .NET application
// loads, from its APP.deps.json (libraries of type "package"), and those a
// project locks, from packages.lock.json (every target framework's
// resolved versions).
package dotnet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Name of the analyzer.
const Name = "lang/dotnet"

// Type is the package type of NuGet packages, as in their PURL.
const Type = "nuget"

// MaxFileSize caps the files read: the deps.json of a large self-contained
// application is a few hundred KiB.
const MaxFileSize = 32 << 20

// Analyzer reads deps.json and packages.lock.json files.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 1 }

// Required accepts NAME.deps.json and packages.lock.json of at most
// MaxFileSize.
func (*Analyzer) Required(p string, info fs.FileInfo) bool {
	return IsDepsJSON(p) || IsLockfile(p)
}

// SizeLimit: the core skips larger files with a warning.
func (*Analyzer) SizeLimit(string) int64 { return MaxFileSize }

// IsDepsJSON reports whether p is a .NET dependency manifest.
func IsDepsJSON(p string) bool {
	base := path.Base(p)
	return strings.HasSuffix(base, ".deps.json") && len(base) > len(".deps.json")
}

// IsLockfile reports whether p is a NuGet lockfile.
func IsLockfile(p string) bool { return path.Base(p) == "packages.lock.json" }

func (*Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	b, err := analyzer.ReadAll(in, int64(MaxFileSize))
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var pkgs []Package
	if IsLockfile(in.Path) {
		pkgs, err = ParseLockfile(b)
	} else {
		pkgs, err = ParseDepsJSON(b)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", in.Path, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(pkgs) == 0 {
		return nil, nil
	}
	res := &analyzer.Result{Packages: make([]inventory.Package, 0, len(pkgs))}
	for _, p := range pkgs {
		res.Packages = append(res.Packages, inventory.Package{
			Name:      p.Name,
			Version:   p.Version,
			Type:      Type,
			PURL:      PURL(p.Name, p.Version),
			FoundBy:   Name,
			Locations: []inventory.Location{{Path: in.Path}},
		})
	}
	return res, nil
}

// Package is one NuGet package.
type Package struct {
	Name    string
	Version string
}

// ParseDepsJSON returns the libraries of type "package" of a deps.json,
// sorted by name and version. Projects, reference assemblies and runtime
// packs are not NuGet packages.
func ParseDepsJSON(b []byte) ([]Package, error) {
	var deps struct {
		Libraries map[string]struct {
			Type string `json:"type"`
		} `json:"libraries"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), &deps); err != nil {
		return nil, err
	}
	var out []Package
	for key, lib := range deps.Libraries {
		if lib.Type != "package" {
			continue
		}
		name, version, ok := strings.Cut(key, "/")
		if p, valid := valid(name, version); ok && valid {
			out = append(out, p)
		}
	}
	sortPackages(out)
	return out, nil
}

// ParseLockfile returns the resolved packages of every target framework
// of a packages.lock.json, once each, sorted by name and version. Project
// references resolve to no package and are skipped.
func ParseLockfile(b []byte) ([]Package, error) {
	var lock struct {
		Dependencies map[string]map[string]struct {
			Type     string `json:"type"`
			Resolved string `json:"resolved"`
		} `json:"dependencies"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), &lock); err != nil {
		return nil, err
	}
	// NuGet ids are case-insensitive: a package locked as Newtonsoft.Json
	// for one framework and newtonsoft.json for another is one package,
	// named as the first framework in sorted order writes it.
	seen := map[string]bool{}
	var out []Package
	for _, fw := range sortedKeys(lock.Dependencies) {
		deps := lock.Dependencies[fw]
		for _, name := range sortedKeys(deps) {
			d := deps[name]
			if strings.EqualFold(d.Type, "Project") {
				continue
			}
			p, ok := valid(name, d.Resolved)
			if k := strings.ToLower(p.Name) + "@" + p.Version; ok && !seen[k] {
				seen[k] = true
				out = append(out, p)
			}
		}
	}
	sortPackages(out)
	return out, nil
}

// NuGet package ids: letters, digits, dots, dashes, underscores.
var (
	validID      = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*$`)
	validVersion = regexp.MustCompile(`^[0-9][0-9A-Za-z.+-]*$`)
)

func valid(name, version string) (Package, bool) {
	name, version = strings.TrimSpace(name), strings.TrimSpace(version)
	if len(name) > 256 || !validID.MatchString(name) || !validVersion.MatchString(version) {
		return Package{}, false
	}
	return Package{Name: name, Version: version}, true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sortPackages(ps []Package) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Name != ps[j].Name {
			return ps[i].Name < ps[j].Name
		}
		return ps[i].Version < ps[j].Version
	})
}

// PURL returns pkg:nuget/NAME@VERSION.
func PURL(name, version string) string {
	return packageurl.NewPackageURL(packageurl.TypeNuget, "", name, version, nil, "").ToString()
}

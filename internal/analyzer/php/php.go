// Package php reads Composer packages: the installed ones from
// vendor/composer/installed.json (Composer 1's array and Composer 2's
// {"packages": [...]} object) and the declared ones from composer.lock
// (packages and packages-dev).
package php

import (
	"bytes"
	"context"
	"encoding/json"
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
const Name = "lang/php"

// Type is the package type of Composer packages, as in their PURL.
const Type = "composer"

// MaxFileSize caps the files read: installed.json and composer.lock of
// large applications are a few MiB.
const MaxFileSize = 32 << 20

// Analyzer reads installed.json and composer.lock files.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 1 }

// Required accepts …/composer/installed.json (vendor/composer/ unless the
// project renamed its vendor directory) and composer.lock, of at most
// MaxFileSize.
func (*Analyzer) Required(p string, info fs.FileInfo) bool {
	return IsInstalled(p) || IsLockfile(p)
}

// SizeLimit: the core skips larger files with a warning.
func (*Analyzer) SizeLimit(string) int64 { return MaxFileSize }

// IsInstalled reports whether p is Composer's installed.json.
func IsInstalled(p string) bool { return strings.HasSuffix(p, "/composer/installed.json") }

// IsLockfile reports whether p is a composer.lock.
func IsLockfile(p string) bool { return path.Base(p) == "composer.lock" }

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
		pkgs, err = ParseInstalled(b)
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
			Licenses:  p.Licenses,
			PURL:      PURL(p.Name, p.Version),
			FoundBy:   Name,
			Locations: []inventory.Location{{Path: in.Path}},
		})
	}
	return res, nil
}

// Package is one Composer package.
type Package struct {
	Name     string
	Version  string
	Licenses []string
}

type rawPackage struct {
	Name    json.RawMessage `json:"name"`
	Version json.RawMessage `json:"version"`
	License json.RawMessage `json:"license"`
}

// ParseInstalled decodes vendor/composer/installed.json in both formats.
func ParseInstalled(b []byte) ([]Package, error) {
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	var raw []rawPackage
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, err
		}
	} else {
		var v2 struct {
			Packages []rawPackage `json:"packages"`
		}
		if err := json.Unmarshal(b, &v2); err != nil {
			return nil, err
		}
		raw = v2.Packages
	}
	return convert(raw), nil
}

// ParseLockfile decodes a composer.lock: packages, then packages-dev.
func ParseLockfile(b []byte) ([]Package, error) {
	var lock struct {
		Packages    []rawPackage `json:"packages"`
		PackagesDev []rawPackage `json:"packages-dev"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), &lock); err != nil {
		return nil, err
	}
	return convert(append(lock.Packages, lock.PackagesDev...)), nil
}

// validName is Composer's own rule for package names (vendor/package).
var validName = regexp.MustCompile(`^[a-z0-9]([_.-]?[a-z0-9]+)*/[a-z0-9](([_.]?|-{0,2})[a-z0-9]+)*$`)

func convert(raw []rawPackage) []Package {
	var out []Package
	seen := map[string]bool{}
	for _, r := range raw {
		name := strings.ToLower(strings.TrimSpace(jsonString(r.Name)))
		version := NormalizeVersion(jsonString(r.Version))
		if !validName.MatchString(name) || version == "" || seen[name+"@"+version] {
			continue
		}
		seen[name+"@"+version] = true
		out = append(out, Package{Name: name, Version: version, Licenses: licenses(r.License)})
	}
	return out
}

// NormalizeVersion drops the "v" of tags like v4.6.2; "dev-main" and
// other branch versions are kept as written.
func NormalizeVersion(v string) string {
	v = strings.TrimSpace(v)
	if len(v) > 1 && (v[0] == 'v' || v[0] == 'V') && v[1] >= '0' && v[1] <= '9' {
		v = v[1:]
	}
	if strings.ContainsAny(v, " \t\r\n") {
		return ""
	}
	return v
}

// licenses reads "license": a string or an array of strings.
func licenses(m json.RawMessage) []string {
	var out []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" {
			for _, x := range out {
				if x == s {
					return
				}
			}
			out = append(out, s)
		}
	}
	if s := jsonString(m); s != "" {
		add(s)
		return out
	}
	var a []json.RawMessage
	if json.Unmarshal(m, &a) == nil {
		for _, e := range a {
			add(jsonString(e))
		}
	}
	return out
}

func jsonString(m json.RawMessage) string {
	var s string
	if len(m) == 0 || json.Unmarshal(m, &s) != nil {
		return ""
	}
	return s
}

// PURL returns pkg:composer/VENDOR/PACKAGE@VERSION.
func PURL(name, version string) string {
	ns, n, ok := strings.Cut(name, "/")
	if !ok {
		ns, n = "", name
	}
	return packageurl.NewPackageURL(packageurl.TypeComposer, ns, n, version, nil, "").ToString()
}

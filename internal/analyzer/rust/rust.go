// Package rust reads Rust crates: those a Cargo.lock locks, and those
// compiled into an ELF executable built with cargo-auditable (its .dep-v0
// section). Only crates from a registry (crates.io or another one) are
// reported: the workspace's own crates and path dependencies have no
// source and are local code, and git dependencies are no published
// release a version could be matched to.
package rust

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/package-url/packageurl-go"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Name of the analyzer.
const Name = "lang/rust"

// Type is the package type of crates, as in their PURL.
const Type = "cargo"

// MaxFileSize caps the Cargo.lock read: the lockfiles of the largest
// workspaces (thousands of crates) are a few hundred KiB.
const MaxFileSize = 16 << 20

// CratesIO is the source Cargo writes for crates.io.
const CratesIO = "registry+https://github.com/rust-lang/crates.io-index"

// Analyzer reads Cargo.lock files.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 1 }

// Required accepts files named Cargo.lock of at most MaxFileSize, and
// executables that could carry cargo-auditable data: regular files between
// MinBinarySize and MaxBinarySize with an execute bit or under a bin/ or
// sbin/ directory.
func (*Analyzer) Required(p string, info fs.FileInfo) bool {
	if IsLockfile(p) {
		return true
	}
	if info == nil || !info.Mode().IsRegular() || info.Size() < MinBinarySize || info.Size() > MaxBinarySize {
		return false
	}
	return info.Mode().Perm()&0o111 != 0 || strings.Contains(p, "/bin/") || strings.Contains(p, "/sbin/")
}

// SizeLimit: the core skips larger lockfiles with a warning. Binaries
// outside [MinBinarySize, MaxBinarySize] are not asked for at all: most
// executables are not Rust programs.
func (*Analyzer) SizeLimit(p string) int64 {
	if IsLockfile(p) {
		return MaxFileSize
	}
	return 0
}

// IsLockfile reports whether p is a Cargo.lock.
func IsLockfile(p string) bool { return path.Base(p) == "Cargo.lock" }

func (*Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	if !IsLockfile(in.Path) {
		return analyzeBinary(ctx, in)
	}
	b, err := analyzer.ReadAll(in, int64(MaxFileSize))
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	crates, err := ParseLockfile(b)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", in.Path, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return result(in.Path, crates), nil
}

func analyzeBinary(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	b, err := ReadAuditSection(in.Content)
	if errors.Is(err, errNoAudit) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.Path, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	crates, err := ParseAudit(b)
	if err != nil {
		return nil, fmt.Errorf("parse %s section of %s: %w", AuditSection, in.Path, err)
	}
	return result(in.Path, crates), nil
}

func result(loc string, crates []Crate) *analyzer.Result {
	if len(crates) == 0 {
		return nil
	}
	res := &analyzer.Result{Packages: make([]inventory.Package, 0, len(crates))}
	for _, c := range crates {
		res.Packages = append(res.Packages, inventory.Package{
			Name:      c.Name,
			Version:   c.Version,
			Type:      Type,
			PURL:      PURL(c.Name, c.Version, c.Source),
			FoundBy:   Name,
			Locations: []inventory.Location{{Path: loc}},
		})
	}
	return res
}

// Crate is one locked crate.
type Crate struct {
	Name    string `toml:"name"`
	Version string `toml:"version"`
	Source  string `toml:"source"`
}

// ParseLockfile decodes a Cargo.lock of any format version and returns
// its registry crates, each name, version and source once, in file order.
func ParseLockfile(b []byte) ([]Crate, error) {
	var lock struct {
		Package []Crate `toml:"package"`
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	if _, err := toml.Decode(string(b), &lock); err != nil {
		return nil, err
	}
	var out []Crate
	seen := map[Crate]bool{}
	for _, c := range lock.Package {
		c.Name, c.Version = strings.TrimSpace(c.Name), strings.TrimSpace(c.Version)
		if c.Name == "" || c.Version == "" || !IsRegistry(c.Source) || seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	return out, nil
}

// IsRegistry reports whether a Cargo.lock source is a registry: crates.io,
// or another git or sparse index.
func IsRegistry(source string) bool {
	return strings.HasPrefix(source, "registry+") || strings.HasPrefix(source, "sparse+")
}

// PURL returns pkg:cargo/NAME@VERSION; a crate from another registry than
// crates.io carries it as repository_url.
func PURL(name, version, source string) string {
	var q packageurl.Qualifiers
	if source != "" && source != CratesIO && source != "sparse+https://index.crates.io/" {
		_, u, _ := strings.Cut(source, "+")
		q = packageurl.QualifiersFromMap(map[string]string{"repository_url": u})
	}
	return packageurl.NewPackageURL(packageurl.TypeCargo, "", name, version, q, "").ToString()
}

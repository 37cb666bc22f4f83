package drift

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/apk"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/dpkg"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/rpm"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// packageAnalyzers parse the package databases; drift reuses the scan's
// analyzers rather than parsing anything itself.
var packageAnalyzers = []analyzer.Analyzer{dpkg.New(), apk.New(), rpm.New()}

const (
	dpkgStatus    = "/var/lib/dpkg/status"
	dpkgStatusDir = "/var/lib/dpkg/status.d/"
)

// isPackageDB reports whether p is a package database file: dpkg's status
// and status.d/*, apk's installed, rpm's Packages / rpmdb.sqlite.
func isPackageDB(p string) bool {
	switch {
	case p == dpkgStatus:
		return true
	case strings.HasPrefix(p, dpkgStatusDir):
		name := p[len(dpkgStatusDir):]
		return name != "" && !strings.Contains(name, "/") && !strings.HasSuffix(name, ".md5sums")
	}
	info := dbInfo{name: path.Base(p)}
	for _, a := range packageAnalyzers[1:] {
		if a.Required(p, info) {
			return true
		}
	}
	return false
}

// dbInfo is the fs.FileInfo handed to the analyzers with a database.
type dbInfo struct {
	name string
	size int64
}

func (i dbInfo) Name() string       { return i.name }
func (i dbInfo) Size() int64        { return i.size }
func (i dbInfo) Mode() fs.FileMode  { return 0o644 }
func (i dbInfo) ModTime() time.Time { return time.Time{} }
func (i dbInfo) IsDir() bool        { return false }
func (i dbInfo) Sys() any           { return nil }

// parseDB returns the packages of one database file.
func parseDB(ctx context.Context, p string, content []byte, tempDir string) ([]inventory.Package, error) {
	info := dbInfo{name: path.Base(p), size: int64(len(content))}
	for _, a := range packageAnalyzers {
		if !a.Required(p, info) {
			continue
		}
		r, err := a.Analyze(ctx, analyzer.Input{Path: p, Info: info, Content: bytes.NewReader(content), TempDir: tempDir})
		var pkgs []inventory.Package
		if r != nil {
			pkgs = r.Packages
		}
		return pkgs, err
	}
	return nil, fmt.Errorf("%s: no parser", p)
}

// pkgKey identifies a package across the two sides: a version change keeps
// the key.
func pkgKey(p *inventory.Package) string {
	return p.Type + "\x00" + p.Name + "\x00" + p.Arch
}

// DiffPackages compares the packages of one database before and after:
// installed, removed, or at another version.
func DiffPackages(before, after []inventory.Package) []Finding {
	old := map[string]*inventory.Package{}
	for i := range before {
		old[pkgKey(&before[i])] = &before[i]
	}
	seen := map[string]bool{}
	var out []Finding
	for i := range after {
		p := &after[i]
		k := pkgKey(p)
		if seen[k] {
			continue
		}
		seen[k] = true
		o, ok := old[k]
		switch {
		case !ok:
			out = append(out, pkgFinding(KindPackageInstalled, p, "", p.Version))
		case o.Version != p.Version || o.Epoch != p.Epoch:
			out = append(out, pkgFinding(KindPackageChanged, p, versionString(o), versionString(p)))
		}
	}
	for i := range before {
		p := &before[i]
		k := pkgKey(p)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, pkgFinding(KindPackageRemoved, p, p.Version, ""))
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Detail.Package < out[j].Detail.Package })
	return out
}

func versionString(p *inventory.Package) string {
	if p.Epoch != 0 {
		return fmt.Sprintf("%d:%s", p.Epoch, p.Version)
	}
	return p.Version
}

func pkgFinding(kind Kind, p *inventory.Package, oldV, newV string) Finding {
	return Finding{Kind: kind, Severity: low, Detail: Detail{
		Package: p.Name, PackageType: p.Type, Arch: p.Arch, OldVersion: oldV, NewVersion: newV,
	}}
}

// checkPackages parses each package database the container changed, on
// both sides, and reports the packages that differ.
func (d *Detector) checkPackages(ctx context.Context, res *Result, pl *plan, img *imageIndex, read fileReader) (gone int) {
	for _, p := range pl.pkgdb {
		var before, after []inventory.Package
		if img != nil {
			if f := img.files[p]; f != nil && f.isRegular() {
				if f.content == nil && f.size > 0 {
					res.warnf("%s: image copy of %d bytes exceeds the %d-byte limit; packages not compared", p, f.size, d.opts.MaxDB)
					continue
				}
				pkgs, err := parseDB(ctx, p, f.content, d.opts.TempDir)
				if err != nil {
					res.warnf("image %s: %v", p, err)
				}
				before = pkgs
			}
		}
		cur, err := read(ctx, p, d.opts.MaxDB+1, d.opts.MaxDB+1)
		switch {
		case errors.Is(err, errGone):
			if !slices.Contains(pl.deleted, p) {
				gone++
			}
		case errors.Is(err, errContainerGone):
			res.warnf("%s: %v", p, err)
			return gone
		case err != nil:
			res.warnf("%s: %v", p, err)
			continue
		case cur.isRegular():
			if int64(len(cur.content)) > d.opts.MaxDB {
				res.warnf("%s: %d bytes exceed the %d-byte limit; packages not compared", p, cur.size, d.opts.MaxDB)
				continue
			}
			pkgs, err := parseDB(ctx, p, cur.content, d.opts.TempDir)
			if err != nil {
				res.warnf("container %s: %v", p, err)
			}
			after = pkgs
		}
		for _, f := range DiffPackages(before, after) {
			f.Path = p
			res.Findings = append(res.Findings, f)
		}
	}
	return gone
}

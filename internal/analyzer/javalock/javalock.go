// Package javalock reads the Java dependencies a source tree declares:
// Maven's pom.xml (versions written in the file, with ${properties}
// resolved from the same file) and Gradle's dependency lockfiles
// (gradle.lockfile, gradle/dependency-locks/*.lockfile). It is meant for
// directory scans of source trees; in images the java analyzer reads the
// jars that were actually built and shipped.
package javalock

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/java"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Name of the analyzer.
const Name = "lang/java-lock"

// MaxFileSize caps the files read: the largest real poms (Spring's BOMs)
// and lockfiles are a few hundred KiB.
const MaxFileSize = 8 << 20

// Package is one declared dependency.
type Package struct {
	Group, Artifact, Version string
	// Dev: only test scopes or configurations need it.
	Dev bool
}

// Analyzer reads pom.xml files and Gradle lockfiles.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)
var _ analyzer.Limited = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 1 }

// IsPOM reports whether p is a Maven project file. Poms under
// src/test/resources and target/ are fixtures and build output.
func IsPOM(p string) bool {
	return path.Base(p) == "pom.xml" && !strings.Contains(p, "/src/test/") && !strings.Contains(p, "/target/")
}

// IsGradleLockfile reports whether p is a Gradle dependency lockfile: the
// per-project gradle.lockfile (Gradle 6.8+) or the older per-configuration
// files under gradle/dependency-locks/.
func IsGradleLockfile(p string) bool {
	base := path.Base(p)
	return base == "gradle.lockfile" || base == "settings-gradle.lockfile" ||
		(strings.HasSuffix(base, ".lockfile") && strings.HasSuffix(path.Dir(p), "gradle/dependency-locks"))
}

// Required accepts poms and Gradle lockfiles, except inside a local Maven
// repository or Gradle cache, which hold every version ever downloaded.
func (*Analyzer) Required(p string, _ fs.FileInfo) bool {
	if strings.Contains(p, "/.m2/repository/") || strings.Contains(p, "/.gradle/caches/") {
		return false
	}
	return IsPOM(p) || IsGradleLockfile(p)
}

// SizeLimit: the core skips larger files with a warning.
func (*Analyzer) SizeLimit(string) int64 { return MaxFileSize }

func (*Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	b, err := analyzer.ReadAll(in, MaxFileSize)
	if err != nil {
		return nil, err
	}
	var (
		pkgs     []Package
		warnings []string
	)
	if IsGradleLockfile(in.Path) {
		pkgs, err = ParseGradleLockfile(ctx, b)
	} else {
		pkgs, warnings, err = ParsePOM(ctx, b)
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", in.Path, err)
	}
	var res *analyzer.Result
	if len(pkgs) > 0 {
		res = &analyzer.Result{}
		for _, p := range pkgs {
			res.Packages = append(res.Packages, inventory.Package{
				Name:      p.Group + ":" + p.Artifact,
				Version:   p.Version,
				Type:      java.Type,
				PURL:      java.PURL(p.Group, p.Artifact, p.Version),
				Dev:       p.Dev,
				FoundBy:   Name,
				Locations: []inventory.Location{{Path: in.Path}},
			})
		}
	}
	if len(warnings) > 0 {
		// Dependencies whose version the file alone does not give (a
		// parent's property, a range, an imported BOM) are named, not
		// guessed: the packages found are still returned.
		return res, fmt.Errorf("%d declared dependencies without a version in this file: %s", len(warnings), strings.Join(warnings, ", "))
	}
	return res, nil
}

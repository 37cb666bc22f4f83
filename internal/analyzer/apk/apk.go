// Package apk reports the packages in the installed database of apk, the
// package manager of Alpine, Wolfi and Chainguard images
// (/lib/apk/db/installed).
package apk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

const name = "pkg/apk"

const (
	// maxDBSize caps the database; a large Alpine image has a few MiB.
	maxDBSize = 256 << 20
	// maxLineSize caps one line. The longest real lines, the provides of
	// packages shipping many commands or Python modules, are a few KiB.
	maxLineSize = 1 << 20
	// maxPackages caps records per database: a package costs some 300
	// bytes in memory and as little as 9 ("P:a\nV:1\n\n") on disk. Real
	// images have a few hundred, big ones a few thousand.
	maxPackages = 100_000
	// maxLicenseTerms caps the entries one L: line splits into; a longer
	// list is kept whole.
	maxLicenseTerms = 64
)

var _ analyzer.Analyzer = (*Analyzer)(nil)

// Analyzer reads apk installed databases.
type Analyzer struct{}

// New returns an apk database analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements analyzer.Analyzer.
func (*Analyzer) Name() string { return name }

// Version implements analyzer.Analyzer.
func (*Analyzer) Version() int { return 1 }

// Required implements analyzer.Analyzer: apk-tools keeps the database in
// /lib/apk/db; merged-/usr systems (Wolfi, Chainguard, apk-tools 3) in
// /usr/lib/apk/db.
func (*Analyzer) Required(path string, _ fs.FileInfo) bool {
	return path == "/lib/apk/db/installed" || path == "/usr/lib/apk/db/installed"
}

// Analyze implements analyzer.Analyzer. A damaged database gives the
// packages it could read and an error describing the rest.
func (*Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	if in.Info != nil && in.Info.Size() > maxDBSize {
		return nil, fmt.Errorf("apk database of %d bytes exceeds the %d-byte limit", in.Info.Size(), maxDBSize)
	}
	pkgs, err := parseInstalled(ctx, in.Content, in.Path)
	if len(pkgs) == 0 {
		return nil, err
	}
	return &analyzer.Result{Packages: pkgs}, err
}

// record is the part of one package stanza we keep.
type record struct {
	line                                        int // where it starts
	name, version, arch, origin, license, maint string
	size                                        int64
}

// limits bound what one database may cost.
type limits struct {
	size     int64
	line     int
	packages int
}

var defaultLimits = limits{size: maxDBSize, line: maxLineSize, packages: maxPackages}

// parseInstalled reads the apk installed database format: stanzas of
// "K:value" lines separated by blank lines (apk-tools src/database.c,
// apk_db_index_read). Every package is located at path.
func parseInstalled(ctx context.Context, r io.Reader, path string) ([]inventory.Package, error) {
	return defaultLimits.parse(ctx, r, path)
}

func (lim limits) parse(ctx context.Context, r io.Reader, path string) ([]inventory.Package, error) {
	lr := &io.LimitedReader{R: r, N: lim.size + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, min(4<<10, lim.line)), lim.line)

	var (
		pkgs []inventory.Package
		errs errorList
		cur  record
		n    int // line number
	)
	// flush ends the current stanza; it reports false once there are too
	// many packages.
	flush := func() bool {
		if cur.line == 0 {
			return true
		}
		if p, err := cur.pkg(path); err != nil {
			errs.add(fmt.Errorf("package at line %d: %w", cur.line, err))
		} else {
			pkgs = append(pkgs, p)
		}
		cur = record{}
		if len(pkgs) > lim.packages {
			pkgs = pkgs[:lim.packages]
			errs.add(fmt.Errorf("more than %d packages; stopped at line %d", lim.packages, n))
			return false
		}
		return true
	}

	for sc.Scan() {
		n++
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return pkgs, err
			}
		}
		line := sc.Bytes()
		if len(line) == 0 {
			if !flush() {
				return pkgs, errs.err()
			}
			continue
		}
		if len(line) < 2 || line[1] != ':' || !isKey(line[0]) {
			errs.add(fmt.Errorf("line %d: not a KEY:VALUE line", n))
			continue
		}
		key, val := line[0], line[2:]
		switch key {
		case 'F', 'R', 'a', 'Z', 'M':
			// The file list, most of the database.
			continue
		case 'P':
			if cur.name != "" {
				// A stanza without the blank line before it.
				if !flush() {
					return pkgs, errs.err()
				}
			}
			cur.name = string(val)
		case 'V':
			cur.version = string(val)
		case 'A':
			cur.arch = string(val)
		case 'o':
			cur.origin = string(val)
		case 'L':
			cur.license = string(val)
		case 'm':
			cur.maint = string(val)
		case 'I':
			size, err := strconv.ParseInt(string(val), 10, 64)
			if err != nil || size < 0 {
				errs.add(fmt.Errorf("line %d: installed size %s is not a size", n, quote(string(val))))
				size = 0
			}
			cur.size = size
		}
		if cur.line == 0 {
			cur.line = n
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line %d longer than %d bytes", n+1, lim.line)
		}
		errs.add(fmt.Errorf("read apk database: %w", err))
		return pkgs, errs.err()
	}
	if lr.N <= 0 {
		errs.add(fmt.Errorf("apk database exceeds the %d-byte limit; read the first %d lines", lim.size, n))
		return pkgs, errs.err()
	}
	flush()
	return pkgs, errs.err()
}

func isKey(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func (r *record) pkg(path string) (inventory.Package, error) {
	switch {
	case r.name == "":
		return inventory.Package{}, errors.New("no name (P:)")
	case r.version == "":
		return inventory.Package{}, fmt.Errorf("%s: no version (V:)", quote(r.name))
	}
	for _, f := range []struct{ what, s string }{{"name", r.name}, {"version", r.version}, {"arch", r.arch}, {"origin", r.origin}} {
		if !isToken(f.s) {
			return inventory.Package{}, fmt.Errorf("%s %s has characters apk does not allow", f.what, quote(f.s))
		}
	}
	src := r.origin
	if src == "" {
		src = r.name
	}
	return inventory.Package{
		Name:          r.name,
		Version:       r.version,
		Type:          inventory.TypeApk,
		Arch:          r.arch,
		Source:        &inventory.Source{Name: src, Version: r.version},
		Licenses:      splitLicense(r.license),
		Maintainer:    r.maint,
		InstalledSize: r.size,
		FoundBy:       name,
		Locations:     []inventory.Location{{Path: path}},
	}, nil
}

// isToken reports whether s is valid UTF-8 without spaces or control
// characters, as apk's names, versions and architectures are. It keeps
// terminal escapes and line breaks out of every report.
func isToken(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, c := range s {
		if unicode.IsSpace(c) || unicode.IsControl(c) {
			return false
		}
	}
	return true
}

// quote quotes s for an error message, shortened: values come from the
// scanned image.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// splitLicense turns an L: value into licence entries. An SPDX expression
// with operators stays one entry ("MIT AND BSD-2-Clause"); older packages
// list licences separated by spaces ("MIT BSD GPL2+"), which become one
// entry each.
func splitLicense(l string) []string {
	l = strings.TrimSpace(l)
	if l == "" {
		return nil
	}
	fields := strings.Fields(l)
	if len(fields) == 1 || len(fields) > maxLicenseTerms {
		return []string{l}
	}
	for _, f := range fields {
		f = strings.Trim(f, "()")
		if strings.EqualFold(f, "AND") || strings.EqualFold(f, "OR") || strings.EqualFold(f, "WITH") {
			return []string{l}
		}
	}
	return fields
}

// errorList keeps the first error and counts the rest.
type errorList struct {
	first error
	more  int
}

func (e *errorList) add(err error) {
	if e.first == nil {
		e.first = err
	} else {
		e.more++
	}
}

func (e *errorList) err() error {
	switch {
	case e.first == nil:
		return nil
	case e.more == 0:
		return e.first
	}
	return fmt.Errorf("%w (and %d more problems)", e.first, e.more)
}

// Package python reads installed Python distributions from their core
// metadata: *.dist-info/METADATA (wheels, pip), *.egg-info/PKG-INFO and
// *.egg-info files (setuptools, Debian's python3-* packages) and
// *.egg/EGG-INFO/PKG-INFO (unpacked eggs).
package python

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Name of the analyzer.
const Name = "lang/python"

// Type is the package type of Python distributions, as in their PURL.
const Type = "pypi"

const (
	// MaxFileSize caps the metadata files offered. Only the header is
	// read, but the core reads the whole file: a long description can
	// make METADATA a few MiB.
	MaxFileSize = 16 << 20
	// maxHeader caps the header section read; the largest real headers
	// (a licence text in License:) are tens of KiB.
	maxHeader = 4 << 20
	maxLine   = 1 << 20
	// maxLicense is the longest License: value taken for a licence name;
	// longer ones are licence texts.
	maxLicense = 200
)

// Analyzer reads Python distribution metadata.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 1 }

// Required accepts the metadata files of installed distributions, by path.
func (*Analyzer) Required(path string, info fs.FileInfo) bool {
	return IsMetadataPath(path)
}

// SizeLimit: the core skips larger files with a warning.
func (*Analyzer) SizeLimit(string) int64 { return MaxFileSize }

// IsMetadataPath reports whether path is a distribution's core metadata:
// NAME.dist-info/METADATA, NAME.egg-info/PKG-INFO, NAME.egg-info (a file)
// or NAME.egg/EGG-INFO/PKG-INFO.
func IsMetadataPath(path string) bool {
	dir, base := path, path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir, base = path[:i], path[i+1:]
	}
	parent := dir[strings.LastIndexByte(dir, '/')+1:]
	switch base {
	case "METADATA":
		return len(parent) > len(".dist-info") && strings.HasSuffix(parent, ".dist-info")
	case "PKG-INFO":
		return len(parent) > len(".egg-info") && strings.HasSuffix(parent, ".egg-info") ||
			parent == "EGG-INFO" && strings.HasSuffix(dir, ".egg/EGG-INFO")
	}
	return len(base) > len(".egg-info") && strings.HasSuffix(base, ".egg-info")
}

func (*Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	m, err := ParseMetadata(ctx, in.Content)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", in.Path, err)
	}
	if m.Name == "" || m.Version == "" {
		return nil, nil
	}
	name := NormalizeName(m.Name)
	return &analyzer.Result{Packages: []inventory.Package{{
		Name:      name,
		Version:   m.Version,
		Type:      Type,
		Licenses:  m.Licenses,
		PURL:      PURL(name, m.Version),
		FoundBy:   Name,
		Locations: []inventory.Location{{Path: in.Path}},
	}}}, nil
}

// Metadata is what bulkhead reads from core metadata.
type Metadata struct {
	Name     string // as written; see NormalizeName
	Version  string
	Licenses []string
}

// ParseMetadata reads the header of a core metadata file (an RFC 822
// message, https://packaging.python.org/specifications/core-metadata/) up
// to the blank line that starts the description. As Python's email parser
// does, a line that is neither a field nor a continuation also ends the
// header.
//
// Licences come from the first of: License-Expression (metadata 2.4); a
// License field that is a short name rather than a licence text, and not
// UNKNOWN; the "License ::" classifiers, by their last part ("MIT
// License").
func ParseMetadata(ctx context.Context, r io.Reader) (Metadata, error) {
	lr := &io.LimitedReader{R: r, N: maxHeader + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, 16<<10), maxLine)
	var (
		ended                              bool // at the end of the header, not of the input
		name, version, license, expression field
		classifier                         []string
		last                               *field // the field continuation lines extend
		line                               int
	)
	for sc.Scan() {
		line++
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return Metadata{}, err
			}
		}
		l := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			l = strings.TrimPrefix(l, "\ufeff")
		}
		if l == "" {
			ended = true
			break // a line of spaces is a continuation, as in Python's parser
		}
		if l[0] == ' ' || l[0] == '\t' {
			if last != nil {
				last.add("\n" + strings.TrimSpace(l))
			}
			continue
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			ended = true
			break
		}
		v = strings.TrimSpace(v)
		last = nil
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "name":
			last = name.set(v)
		case "version":
			last = version.set(v)
		case "license":
			last = license.set(v)
		case "license-expression":
			last = expression.set(v)
		case "classifier":
			classifier = append(classifier, v)
		}
	}
	if err := sc.Err(); err != nil {
		return Metadata{}, fmt.Errorf("line %d: %w", line+1, err)
	}
	if !ended && lr.N <= 0 {
		return Metadata{}, fmt.Errorf("header over %d bytes", maxHeader)
	}
	// A name or version never spans lines; keep the first.
	var m Metadata
	m.Name, _, _ = strings.Cut(name.String(), "\n")
	m.Version, _, _ = strings.Cut(version.String(), "\n")
	m.Licenses = licenses(expression.String(), license.String(), classifier)
	return m, nil
}

// maxField bounds what is kept of one field with its continuation lines:
// enough to tell a licence name from a licence text.
const maxField = 64 << 10

// field accumulates a header field and its continuation lines in linear
// time, keeping at most maxField bytes.
type field struct{ b strings.Builder }

func (f *field) set(v string) *field {
	f.b.Reset()
	f.add(v)
	return f
}

func (f *field) add(s string) {
	if room := maxField - f.b.Len(); room > 0 {
		if len(s) > room {
			s = s[:room]
		}
		f.b.WriteString(s)
	}
}

func (f *field) String() string { return f.b.String() }

func licenses(expression, license string, classifiers []string) []string {
	if e := strings.TrimSpace(expression); e != "" {
		return []string{strings.ToValidUTF8(strings.Join(strings.Fields(e), " "), "\uFFFD")}
	}
	l := strings.TrimSpace(license)
	if l != "" && !strings.Contains(l, "\n") && len(l) <= maxLicense && !strings.EqualFold(l, "UNKNOWN") {
		return []string{strings.ToValidUTF8(l, "\uFFFD")}
	}
	var out []string
	seen := map[string]bool{}
	for _, c := range classifiers {
		parts := strings.Split(c, "::")
		if len(parts) < 2 || strings.TrimSpace(parts[0]) != "License" {
			continue
		}
		name := strings.TrimSpace(parts[len(parts)-1])
		// "License :: OSI Approved" alone says which body approved, not
		// which licence.
		if name == "" || len(parts) == 2 && name == "OSI Approved" || seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, strings.ToValidUTF8(name, "\uFFFD"))
	}
	return out
}

// NormalizeName returns a distribution name as PEP 503 normalises it:
// lower case, every run of "-", "_" and "." replaced by one "-".
func NormalizeName(name string) string {
	name = strings.TrimSpace(name)
	var b strings.Builder
	b.Grow(len(name))
	sep, ascii := false, true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c == '-' || c == '_' || c == '.':
			sep = true
			continue
		case sep:
			b.WriteByte('-')
			sep = false
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		ascii = ascii && c < 0x80
		b.WriteByte(c)
	}
	if sep {
		b.WriteByte('-')
	}
	if !ascii {
		return strings.ToLower(b.String()) // not a valid name, but lower all of it
	}
	return b.String()
}

// PURL returns the package URL of a Python distribution, under its
// normalised name.
func PURL(name, version string) string {
	return packageurl.NewPackageURL(packageurl.TypePyPi, "", NormalizeName(name), version, nil, "").ToString()
}

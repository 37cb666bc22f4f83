// Package dpkg reads Debian package databases: /var/lib/dpkg/status, the
// per-package files of distroless images (/var/lib/dpkg/status.d/*), and the
// licences declared in /usr/share/doc/PACKAGE/copyright.
package dpkg

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Name of the analyzer.
const Name = "pkg/dpkg"

const (
	infoDir       = "/var/lib/dpkg/info/"
	maxList       = 16 << 20
	statusPath    = "/var/lib/dpkg/status"
	statusDir     = "/var/lib/dpkg/status.d/"
	docDir        = "/usr/share/doc/"
	maxStatusSize = 256 << 20
	maxCopyright  = 4 << 20
	maxLine       = 1 << 20
)

// Analyzer reads dpkg databases and copyright files.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 3 }

func (*Analyzer) Required(path string, info fs.FileInfo) bool {
	switch {
	case path == statusPath:
		return true
	case strings.HasPrefix(path, infoDir) && strings.HasSuffix(path, ".list"):
		return !strings.Contains(path[len(infoDir):], "/")
	case strings.HasPrefix(path, statusDir):
		name := path[len(statusDir):]
		return name != "" && !strings.Contains(name, "/") && !strings.HasSuffix(name, ".md5sums")
	case strings.HasPrefix(path, docDir):
		pkg, ok := docPackage(path)
		return ok && pkg != ""
	}
	return false
}

// SizeLimit: the core skips larger files with a warning.
func (*Analyzer) SizeLimit(path string) int64 {
	switch {
	case strings.HasPrefix(path, infoDir):
		return maxList
	case strings.HasPrefix(path, docDir):
		return maxCopyright
	}
	return maxStatusSize
}

func (*Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	if strings.HasPrefix(in.Path, infoDir) {
		return readList(ctx, in)
	}
	if name, ok := docPackage(in.Path); ok {
		b, err := io.ReadAll(io.LimitReader(in.Content, maxCopyright))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", in.Path, err)
		}
		lic := CopyrightLicenses(b)
		if len(lic) == 0 {
			return nil, nil
		}
		return &analyzer.Result{Licenses: []analyzer.PackageLicense{{Type: inventory.TypeDeb, Name: name, Licenses: lic}}}, nil
	}
	pkgs, err := ParseStatus(ctx, in.Content)
	for i := range pkgs {
		pkgs[i].FoundBy = Name
		pkgs[i].Locations = []inventory.Location{{Path: in.Path}}
	}
	if err != nil {
		return &analyzer.Result{Packages: pkgs}, fmt.Errorf("parse %s: %w", in.Path, err)
	}
	return &analyzer.Result{Packages: pkgs}, nil
}

// readList reads info/PACKAGE[:ARCH].list, the files a package installed.
func readList(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	name := strings.TrimSuffix(in.Path[len(infoDir):], ".list")
	name, _, _ = strings.Cut(name, ":")
	sc := bufio.NewScanner(io.LimitReader(in.Content, maxList))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	var paths []string
	for sc.Scan() {
		p := sc.Text()
		if p == "" || p == "/." || !strings.HasPrefix(p, "/") || !languageMetadata(p) {
			continue
		}
		paths = append(paths, p)
		if len(paths)%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	if len(paths) == 0 {
		return nil, nil
	}
	return &analyzer.Result{Owned: []analyzer.OwnedFiles{{Type: inventory.TypeDeb, Package: name, Paths: paths}}}, nil
}

// languageMetadata reports whether p is where a language analyzer finds a
// package (a dist-info or egg-info, a jar, a gemspec, a node_modules
// package.json): only those owned paths matter, and keeping just them keeps
// the cached layer result small.
func languageMetadata(p string) bool {
	base := p[strings.LastIndexByte(p, '/')+1:]
	switch {
	case strings.HasSuffix(base, ".dist-info"), strings.HasSuffix(base, ".egg-info"),
		strings.HasSuffix(base, ".jar"), strings.HasSuffix(base, ".war"), strings.HasSuffix(base, ".ear"),
		strings.HasSuffix(base, ".gemspec"):
		return true
	case base == "package.json":
		return strings.Contains(p, "/node_modules/")
	}
	return false
}

// docPackage returns PACKAGE of /usr/share/doc/PACKAGE/copyright.
func docPackage(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, docDir)
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, "/copyright")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}

// ParseStatus reads dpkg status records (RFC 822-style paragraphs) and
// returns the packages whose files are on disk. On a malformed record it
// returns the packages read so far and an error.
func ParseStatus(ctx context.Context, r io.Reader) ([]inventory.Package, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var (
		pkgs []inventory.Package
		rec  record
		line int
	)
	flush := func() error {
		defer func() { rec = record{} }()
		if rec.empty() {
			return nil
		}
		p, ok, err := rec.pkg()
		if err != nil {
			return fmt.Errorf("record ending at line %d: %w", line, err)
		}
		if ok {
			pkgs = append(pkgs, p)
		}
		return nil
	}
	for sc.Scan() {
		line++
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return pkgs, err
			}
		}
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			if err := flush(); err != nil {
				return pkgs, err
			}
			continue
		}
		if b[0] == ' ' || b[0] == '\t' {
			continue // continuation of a multi-line field (Description, Conffiles)
		}
		k, v, ok := bytes.Cut(b, []byte(":"))
		if !ok {
			return pkgs, fmt.Errorf("line %d: not a field: %.40q", line, b)
		}
		rec.set(string(k), string(bytes.TrimSpace(v)))
	}
	if err := sc.Err(); err != nil {
		return pkgs, fmt.Errorf("line %d: %w", line+1, err)
	}
	if err := flush(); err != nil {
		return pkgs, err
	}
	return pkgs, nil
}

type record struct {
	name, version, arch, status, source, maintainer, size string
	seen                                                  bool
}

func (r *record) empty() bool { return !r.seen }

func (r *record) set(k, v string) {
	r.seen = true
	switch k {
	case "Package":
		r.name = v
	case "Version":
		r.version = v
	case "Architecture":
		r.arch = v
	case "Status":
		r.status = v
	case "Source":
		r.source = v
	case "Maintainer":
		r.maintainer = v
	case "Installed-Size":
		r.size = v
	}
}

// pkg turns a record into a package. Records of packages that are not on
// disk (removed with only config files left, or not installed) are skipped.
func (r *record) pkg() (inventory.Package, bool, error) {
	if r.name == "" {
		return inventory.Package{}, false, fmt.Errorf("no Package field")
	}
	if r.status != "" {
		f := strings.Fields(r.status)
		if len(f) == 3 && (f[2] == "not-installed" || f[2] == "config-files") {
			return inventory.Package{}, false, nil
		}
	}
	if r.version == "" {
		return inventory.Package{}, false, fmt.Errorf("package %s has no Version", r.name)
	}
	p := inventory.Package{
		Name:       r.name,
		Version:    r.version,
		Type:       inventory.TypeDeb,
		Arch:       r.arch,
		Maintainer: r.maintainer,
	}
	if n, err := strconv.ParseInt(r.size, 10, 64); err == nil && n > 0 {
		p.InstalledSize = n * 1024
	}
	src := inventory.Source{Name: r.name, Version: r.version}
	if r.source != "" {
		// "Source: glibc (2.36-9+deb12u7)" or "Source: zlib"
		name, ver, hasVer := strings.Cut(r.source, " ")
		src.Name = name
		if hasVer {
			src.Version = strings.Trim(strings.TrimSpace(ver), "()")
		}
	}
	p.Source = &src
	return p, true, nil
}

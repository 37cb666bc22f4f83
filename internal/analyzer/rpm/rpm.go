// Package rpm reports the packages in an RPM database (RHEL, CentOS, Fedora,
// SUSE, Azure Linux, ...): Berkeley DB "Packages", NDB "Packages.db" and
// SQLite "rpmdb.sqlite". It reads them with github.com/knqyf263/go-rpmdb after
// checking that go-rpmdb can read them safely (guard.go, header.go).
package rpm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

var _ analyzer.Analyzer = (*Analyzer)(nil)

// Analyzer reads RPM databases.
type Analyzer struct{}

// New returns an rpm database analyzer.
func New() *Analyzer { return &Analyzer{} }

// Name implements analyzer.Analyzer.
func (*Analyzer) Name() string { return "pkg/rpm" }

// Version implements analyzer.Analyzer.
func (*Analyzer) Version() int { return 1 }

// Required implements analyzer.Analyzer: the database files in the three
// places rpm keeps them (/var/lib/rpm, the /usr/lib/sysimage/rpm of newer
// Fedora and SUSE, and the /usr/share/rpm of rpm-ostree systems).
func (*Analyzer) Required(path string, _ fs.FileInfo) bool {
	switch path {
	case "/var/lib/rpm/Packages", "/var/lib/rpm/Packages.db", "/var/lib/rpm/rpmdb.sqlite",
		"/usr/lib/sysimage/rpm/Packages", "/usr/lib/sysimage/rpm/Packages.db", "/usr/lib/sysimage/rpm/rpmdb.sqlite",
		"/usr/share/rpm/Packages", "/usr/share/rpm/Packages.db", "/usr/share/rpm/rpmdb.sqlite":
		return true
	}
	return false
}

// Analyze implements analyzer.Analyzer.
func (a *Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	size, err := in.Content.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("size rpm database: %w", err)
	}
	if size > maxDBSize {
		return nil, fmt.Errorf("rpm database of %d bytes exceeds the %d-byte limit", size, maxDBSize)
	}
	head := make([]byte, 32)
	n, err := in.Content.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read rpm database: %w", err)
	}
	format, err := sniff(head[:n])
	if err != nil {
		return nil, err
	}

	// go-rpmdb only opens files by name.
	// Spool's cleanup removes its private directory, with any journal,
	// WAL or shared-memory file SQLite left beside the database.
	path, cleanup, err := in.Spool("rpmdb")
	if err != nil {
		return nil, err
	}
	defer cleanup()

	infos, err := readDB(ctx, format, path)
	if err != nil {
		return nil, err
	}

	res := &analyzer.Result{Packages: make([]inventory.Package, 0, len(infos))}
	var unnamed int
	for i, p := range infos {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if p.Name == "gpg-pubkey" {
			// rpm stores imported signing keys as pseudo-packages.
			continue
		}
		if p.Name == "" || p.Version == "" {
			unnamed++
			continue
		}
		res.Packages = append(res.Packages, a.toPackage(p, in.Path))
	}
	if unnamed > 0 {
		return res, fmt.Errorf("%d rpm headers without a name or version skipped", unnamed)
	}
	return res, nil
}

// readDB checks the spooled database at path and lists its packages with
// go-rpmdb.
func readDB(ctx context.Context, format format, path string) ([]*rpmdb.PackageInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open spooled rpm database: %w", err)
	}
	fi, err := f.Stat()
	if err == nil {
		_, err = checkDB(ctx, format, f, fi.Size(), path)
	}
	f.Close()
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	if err != nil {
		return nil, fmt.Errorf("unsafe or corrupt rpm database (%s): %w", format, err)
	}

	db, err := rpmdb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open rpm database (%s): %w", format, err)
	}
	defer db.Close()
	infos, err := db.ListPackages()
	if err != nil {
		return nil, fmt.Errorf("list rpm packages (%s): %w", format, err)
	}
	return infos, nil
}

func (a *Analyzer) toPackage(p *rpmdb.PackageInfo, path string) inventory.Package {
	version := p.Version
	if p.Release != "" {
		version += "-" + p.Release
	}
	pkg := inventory.Package{
		Name:    p.Name,
		Version: version,
		Type:    inventory.TypeRPM,
		Arch:    p.Arch,
		// rpm stores epoch and size as unsigned 32-bit numbers; go-rpmdb
		// reads them as signed.
		Epoch:         int(uint32(p.EpochNum())),
		Source:        parseSourceRPM(p.SourceRpm),
		Maintainer:    p.Vendor,
		InstalledSize: int64(uint32(p.Size)),
		FoundBy:       a.Name(),
		Locations:     []inventory.Location{{Path: path}},
	}
	if p.License != "" {
		pkg.Licenses = []string{p.License}
	}
	return pkg
}

// parseSourceRPM splits a source rpm file name, "NAME-VERSION-RELEASE.ARCH.rpm"
// ("bash-4.4.19-14.el8.src.rpm"), into the source package's name and its
// VERSION-RELEASE. Names may contain dashes; version and release may not, so
// it splits from the right. It returns nil for anything else.
func parseSourceRPM(s string) *inventory.Source {
	rest, ok := strings.CutSuffix(s, ".rpm")
	if !ok {
		return nil
	}
	dot := strings.LastIndexByte(rest, '.') // before "src" or "nosrc"
	if dot < 0 {
		return nil
	}
	nvr := rest[:dot]
	rel := strings.LastIndexByte(nvr, '-')
	if rel < 0 {
		return nil
	}
	ver := strings.LastIndexByte(nvr[:rel], '-')
	if ver <= 0 || rel == ver+1 || rel == len(nvr)-1 {
		return nil
	}
	return &inventory.Source{Name: nvr[:ver], Version: nvr[ver+1:]}
}

// Package gobinary reads the build information that the Go linker embeds in
// executables: the main module, every dependency module as it was built
// (replacements applied) and the toolchain, reported as the package
// "stdlib". Executables are recognised by their header (ELF, PE, Mach-O),
// never by their name.
package gobinary

import (
	"context"
	"debug/buildinfo"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime/debug"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Name of the analyzer.
const Name = "lang/gobinary"

// Type is the package type of Go modules, as in their PURL.
const Type = "golang"

// Stdlib is the name of the package that stands for the Go toolchain and
// standard library a binary was built with, as in the Go vulnerability
// database.
const Stdlib = "stdlib"

const (
	// MinFileSize is the smallest file worth opening: no executable the Go
	// linker writes is smaller.
	MinFileSize = 1 << 10
	// MaxFileSize caps the executables read. The largest Go binaries seen
	// in images (kubelet, terraform, cloud CLIs) are 100 to 300 MiB.
	MaxFileSize = 512 << 20
)

// ErrMalformed is returned, wrapped, for a file that starts like an
// executable but whose structure is broken: typically a truncated file.
var ErrMalformed = errors.New("malformed executable")

// Analyzer reads Go build information from executables.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 1 }

// Required accepts regular files that could be executables: an executable
// bit, a bin directory or an .exe name, and a plausible size. Whether the
// file is an executable, and one Go built, is decided by Analyze from its
// header. A size of zero is accepted because the core offers hardlinks with
// their size unknown (zero); an empty file costs Analyze nothing.
func (*Analyzer) Required(path string, info fs.FileInfo) bool {
	if !info.Mode().IsRegular() {
		return false
	}
	if size := info.Size(); size != 0 && (size < MinFileSize || size > MaxFileSize) {
		return false
	}
	return info.Mode().Perm()&0o111 != 0 ||
		strings.Contains(path, "/bin/") || strings.Contains(path, "/sbin/") ||
		hasSuffixFold(path, ".exe")
}

func (*Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	size, err := in.Content.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("size of %s: %w", in.Path, err)
	}
	pkgs, err := Parse(ctx, in.Content, size)
	if err != nil {
		err = fmt.Errorf("read %s: %w", in.Path, err)
	}
	if len(pkgs) == 0 {
		return nil, err
	}
	for i := range pkgs {
		pkgs[i].FoundBy = Name
		pkgs[i].Locations = []inventory.Location{{Path: in.Path}}
	}
	return &analyzer.Result{Packages: pkgs}, err
}

// Parse returns the modules and toolchain recorded in the executable r of
// size bytes. A file that is not an executable, or an intact executable
// that Go did not build, yields no packages and no error; an executable
// whose structure is broken yields an error wrapping ErrMalformed, and the
// packages when its build information could still be read.
func Parse(ctx context.Context, r io.ReaderAt, size int64) ([]inventory.Package, error) {
	if size > MaxFileSize {
		return nil, fmt.Errorf("%d bytes is over the %d-byte limit", size, MaxFileSize)
	}
	f := sniff(r, size)
	if f == formatNone {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bi, err := buildinfo.Read(r)
	// buildinfo does not tell a broken file from one Go did not build, and
	// reads a truncated file as long as the bytes it needs are there: the
	// structure is checked on its own.
	serr := checkStructure(f, r, size)
	if serr != nil {
		serr = fmt.Errorf("%w: %s: %v", ErrMalformed, f, serr)
	}
	if err != nil {
		return nil, serr
	}
	// What could be read is returned even from a broken file, with the
	// error.
	return packages(bi), serr
}

// packages lists the main module, the dependencies as built and the
// toolchain.
func packages(bi *buildinfo.BuildInfo) []inventory.Package {
	var out []inventory.Package
	seen := map[string]bool{}
	add := func(path, version string) {
		if path == "" || seen[path+"@"+version] {
			return
		}
		seen[path+"@"+version] = true
		out = append(out, inventory.Package{Name: path, Version: version, Type: Type, PURL: PURL(path, version)})
	}
	// "command-line-arguments" is what go build file.go calls the module
	// it makes up; it is no module anyone can look up.
	if m := bi.Main; m.Path != "" && m.Path != "command-line-arguments" {
		add(m.Path, moduleVersion(m.Version))
	}
	for _, d := range bi.Deps {
		if d == nil {
			continue
		}
		add(built(d))
	}
	if v := toolchainVersion(bi.GoVersion); v != "" {
		add(Stdlib, v)
	}
	return out
}

// built returns the module path and version whose code was compiled for
// dependency d: the replacement when there is one. A replacement by a local
// directory has no version; the module keeps its path but its version is
// unknown.
func built(d *debug.Module) (string, string) {
	r := d.Replace
	if r == nil {
		return d.Path, moduleVersion(d.Version)
	}
	if r.Version == "" || r.Version == "(devel)" || isFilePath(r.Path) {
		return d.Path, ""
	}
	return r.Path, r.Version
}

// moduleVersion drops the "(devel)" that stands for "no version": a main
// module built from a checkout without VCS stamping.
func moduleVersion(v string) string {
	if v == "(devel)" {
		return ""
	}
	return v
}

// toolchainVersion turns buildinfo's GoVersion ("go1.22.3", or
// "go1.22.3 X:boringcrypto" with experiments) into "1.22.3". Development
// toolchains ("devel go1.23-abcdef ...") have no release version: "".
func toolchainVersion(gv string) string {
	f := strings.Fields(gv)
	if len(f) == 0 {
		return ""
	}
	v, ok := strings.CutPrefix(f[0], "go")
	if !ok || v == "" || v[0] < '0' || v[0] > '9' {
		return ""
	}
	return v
}

// isFilePath reports whether a replacement path is a directory rather than
// a module path, as cmd/go decides it (modfile.IsDirectoryPath).
func isFilePath(p string) bool {
	return strings.HasPrefix(p, "./") || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") ||
		p == "." || p == ".." || strings.HasPrefix(p, `.\`) || strings.HasPrefix(p, `..\`) ||
		strings.HasPrefix(p, `\`) || len(p) >= 2 && p[1] == ':'
}

// PURL returns the package URL of a Go module: the module path is split at
// its last slash into namespace and name. The case of the path is kept: Go
// module paths are case-sensitive and proxies, deps.dev and the Go
// vulnerability database key on the path as written.
func PURL(path, version string) string {
	ns, name := "", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		ns, name = path[:i], path[i+1:]
	}
	return packageurl.NewPackageURL(packageurl.TypeGolang, ns, name, version, nil, "").ToString()
}

type format int

const (
	formatNone format = iota
	formatELF
	formatPE
	formatMachO
	formatFat
)

func (f format) String() string {
	switch f {
	case formatELF:
		return "ELF"
	case formatPE:
		return "PE"
	case formatMachO:
		return "Mach-O"
	case formatFat:
		return "Mach-O universal"
	}
	return "unknown"
}

// sniff identifies the executable formats debug/buildinfo reads and that
// images carry: ELF, PE and Mach-O (thin or universal).
func sniff(r io.ReaderAt, size int64) format {
	var h [8]byte
	if size < int64(len(h)) {
		return formatNone
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return formatNone
	}
	switch {
	case string(h[:4]) == "\x7fELF":
		return formatELF
	case string(h[:2]) == "MZ":
		// A DOS stub is only the start: a PE file has "PE\0\0" at the
		// offset stored at 0x3c.
		var off [4]byte
		if _, err := r.ReadAt(off[:], 0x3c); err != nil {
			return formatNone
		}
		o := int64(binary.LittleEndian.Uint32(off[:]))
		var sig [4]byte
		if o+4 > size {
			return formatNone
		}
		if _, err := r.ReadAt(sig[:], o); err != nil || string(sig[:]) != "PE\x00\x00" {
			return formatNone
		}
		return formatPE
	}
	switch binary.BigEndian.Uint32(h[:4]) {
	case macho.Magic32, macho.Magic64, 0xcefaedfe, 0xcffaedfe:
		return formatMachO
	case macho.MagicFat:
		// Java class files share the magic; their next word is a class
		// file version (45 and up), a universal binary's its number of
		// architectures.
		if n := binary.BigEndian.Uint32(h[4:]); n > 0 && n < 20 {
			return formatFat
		}
	}
	return formatNone
}

// checkStructure reports why an executable of format f is unreadable or
// truncated, or nil when its headers are sound and everything they point to
// lies within the file.
func checkStructure(f format, r io.ReaderAt, size int64) error {
	within := func(off, n uint64) bool { return off <= uint64(size) && n <= uint64(size)-off }
	switch f {
	case formatELF:
		ef, err := elf.NewFile(r)
		if err != nil {
			return err
		}
		for _, p := range ef.Progs {
			if !within(p.Off, p.Filesz) {
				return fmt.Errorf("segment at offset %d of %d bytes ends past the end of the file (%d bytes)", p.Off, p.Filesz, size)
			}
		}
		for _, s := range ef.Sections {
			if s.Type != elf.SHT_NOBITS && !within(s.Offset, s.FileSize) {
				return fmt.Errorf("section %s ends past the end of the file (%d bytes)", s.Name, size)
			}
		}
	case formatPE:
		pf, err := pe.NewFile(r)
		if err != nil {
			return err
		}
		for _, s := range pf.Sections {
			if !within(uint64(s.Offset), uint64(s.Size)) {
				return fmt.Errorf("section %s ends past the end of the file (%d bytes)", s.Name, size)
			}
		}
	case formatMachO:
		mf, err := macho.NewFile(r)
		if err != nil {
			return err
		}
		return checkSegments(mf, 0, size)
	case formatFat:
		ff, err := macho.NewFatFile(r)
		if err != nil {
			return err
		}
		for _, a := range ff.Arches {
			if !within(uint64(a.Offset), uint64(a.Size)) {
				return fmt.Errorf("architecture %v ends past the end of the file (%d bytes)", a.Cpu, size)
			}
			if err := checkSegments(a.File, uint64(a.Offset), size); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkSegments(mf *macho.File, base uint64, size int64) error {
	for _, l := range mf.Loads {
		s, ok := l.(*macho.Segment)
		if !ok {
			continue
		}
		off := base + s.Offset
		if off < base || off > uint64(size) || s.Filesz > uint64(size)-off {
			return fmt.Errorf("segment %s ends past the end of the file (%d bytes)", s.Name, size)
		}
	}
	return nil
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// Package analyzer defines the contract every analyzer implements and the
// Group that offers each file of a layer or directory to the analyzers that
// asked for it. Analyzers never walk anything themselves: the core reads each
// layer once and hands them the files they want.
package analyzer

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// Analyzer inspects single files and reports what they reveal.
type Analyzer interface {
	// Name is stable ("pkg/dpkg"); it appears in output and cache keys.
	Name() string
	// Version changes whenever the analyzer's output for the same input
	// changes; it is part of the layer cache key.
	Version() int
	// Required is called for every regular file; it must be cheap and do
	// no I/O. path is absolute and slash-separated ("/var/lib/dpkg/status").
	Required(path string, info fs.FileInfo) bool
	// Analyze reads the file's content. The core owns and closes Content
	// and reuses its memory afterwards: a result must not keep slices of
	// it.
	Analyze(ctx context.Context, in Input) (*Result, error)
}

// Content is a file's bytes, readable sequentially or at any offset.
type Content interface {
	io.Reader
	io.ReaderAt
	io.Seeker
}

// Input is one file offered to an analyzer.
type Input struct {
	Path    string
	Info    fs.FileInfo
	Content Content
	// TempDir is a private directory for analyzers whose parser needs a real
	// file (an rpm database). Files written there must be removed by the
	// analyzer before Analyze returns.
	TempDir string
}

// Spool copies the content into a file in a private temporary directory
// under TempDir and returns its path and a cleanup function that removes
// the directory with everything a parser created beside the file (SQLite's
// -wal and -shm). Use it only when a parser insists on a file path.
func (in Input) Spool(name string) (string, func(), error) {
	base := in.TempDir
	if base == "" {
		base = os.TempDir()
	}
	if err := os.MkdirAll(base, 0o700); err != nil {
		return "", nil, fmt.Errorf("create temp dir: %w", err)
	}
	dir, err := os.MkdirTemp(base, "spool-*")
	if err != nil {
		return "", nil, fmt.Errorf("create temp dir: %w", err)
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	if name == "" || strings.ContainsAny(name, "/\\*") {
		name = "file"
	}
	p := filepath.Join(dir, name)
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("create temp file: %w", err)
	}
	if _, err := in.Content.Seek(0, io.SeekStart); err != nil {
		f.Close()
		cleanup()
		return "", nil, err
	}
	if _, err := io.Copy(f, in.Content); err != nil {
		f.Close()
		cleanup()
		return "", nil, fmt.Errorf("spool %s: %w", in.Path, err)
	}
	if err := f.Close(); err != nil {
		cleanup()
		return "", nil, err
	}
	return p, cleanup, nil
}

// Result is what one analyzer found in one file.
type Result struct {
	OS       *inventory.OS       `json:"os,omitempty"`
	Packages []inventory.Package `json:"packages,omitempty"`
	// Licenses are facts about packages found in files other than the
	// package database (Debian's /usr/share/doc/NAME/copyright); they are
	// joined to packages after all layers are merged.
	Licenses []PackageLicense `json:"licenses,omitempty"`
	// Secrets found in the file (masked; layer fields filled by squash).
	Secrets []inventory.Secret `json:"secrets,omitempty"`
	// Misconfigs are misconfiguration findings: Dockerfile, Kubernetes
	// and Compose checks in source trees, file facts (setuid, world-writable,
	// caches) in images.
	Misconfigs []misconfig.Finding `json:"misconfigs,omitempty"`
	// Malware: files whose hash matched a signature.
	Malware []inventory.Malware `json:"malware,omitempty"`
	// Owned lists the files an OS package installed (dpkg's info/*.list):
	// a language package inside them is the OS package, not a second one.
	Owned []OwnedFiles `json:"owned,omitempty"`
}

// OwnedFiles are the paths one OS package installed.
type OwnedFiles struct {
	Type    string   `json:"type"`
	Package string   `json:"package"`
	Paths   []string `json:"paths"`
}

// PackageLicense attaches licences to a package of a type by name.
type PackageLicense struct {
	Type     string   `json:"type"`
	Name     string   `json:"name"`
	Licenses []string `json:"licenses"`
}

// Empty reports whether r carries nothing.
func (r *Result) Empty() bool {
	return r == nil || (r.OS == nil && len(r.Packages) == 0 && len(r.Licenses) == 0 && len(r.Secrets) == 0 && len(r.Owned) == 0 && len(r.Misconfigs) == 0 && len(r.Malware) == 0)
}

// FileResult records the outcome of every analyzer that looked at one path.
// Paths with an empty result are kept too: a file in a higher layer replaces
// the lower layer's results for the same path.
type FileResult struct {
	Path     string  `json:"path"`
	Analyzer string  `json:"analyzer"`
	Result   *Result `json:"result,omitempty"`
	Error    string  `json:"error,omitempty"`
}

// Group is an ordered set of analyzers.
type Group struct {
	analyzers []Analyzer
	// MaxFileSize caps the size of a file handed to any analyzer; larger
	// files are skipped with a warning. Zero means DefaultMaxFileSize.
	MaxFileSize int64
}

// MaxPackagesPerFile bounds the packages one file may contribute: a
// lockfile with a million entries would otherwise cost gigabytes
// downstream (matching, reports) for an input that is certainly not real.
const MaxPackagesPerFile = 100_000

// DefaultMaxFileSize bounds the bytes read for one analyzed file.
const DefaultMaxFileSize = 512 << 20

// NewGroup returns a group of the given analyzers; duplicate names are an
// error.
func NewGroup(as ...Analyzer) (*Group, error) {
	seen := map[string]bool{}
	for _, a := range as {
		if seen[a.Name()] {
			return nil, fmt.Errorf("analyzer %q registered twice", a.Name())
		}
		seen[a.Name()] = true
	}
	return &Group{analyzers: as}, nil
}

// Analyzers returns the group's analyzers in order.
func (g *Group) Analyzers() []Analyzer { return g.analyzers }

// Versions is a stable string of name@version pairs, used in cache keys.
func (g *Group) Versions() string {
	parts := make([]string, 0, len(g.analyzers))
	for _, a := range g.analyzers {
		parts = append(parts, a.Name()+"@"+strconv.Itoa(a.Version()))
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Limited is implemented by analyzers that read a whole file into memory
// and so refuse files over a size. Their Required answers by path and
// kind, not size: the core skips a wanted file over the limit itself, with
// a warning naming the file and the limit, without reading it. (A limit
// hidden in Required would drop a 50 MB package.json without a word.)
type Limited interface {
	// SizeLimit is the largest file at path the analyzer reads, in bytes;
	// zero or less means no limit of its own.
	SizeLimit(path string) int64
}

// Select returns the analyzers that want path and, for each Limited one
// that wants it but not at this size, a result carrying the warning.
func (g *Group) Select(path string, info fs.FileInfo) ([]Analyzer, []FileResult) {
	var out []Analyzer
	var skipped []FileResult
	for _, a := range g.analyzers {
		if !a.Required(path, info) {
			continue
		}
		if l, ok := a.(Limited); ok && info != nil {
			if max := l.SizeLimit(path); max > 0 && info.Size() > max {
				skipped = append(skipped, FileResult{Path: path, Analyzer: a.Name(),
					Error: fmt.Sprintf("skipped: %d bytes is over %s's %d-byte limit for this file", info.Size(), a.Name(), max)})
				continue
			}
		}
		out = append(out, a)
	}
	return out, skipped
}

// Run offers content to each analyzer in as, isolating failures and panics
// to that analyzer and file.
func Run(ctx context.Context, as []Analyzer, in Input) []FileResult {
	out := make([]FileResult, 0, len(as))
	for _, a := range as {
		fr := FileResult{Path: in.Path, Analyzer: a.Name()}
		if _, err := in.Content.Seek(0, io.SeekStart); err != nil {
			fr.Error = err.Error()
			out = append(out, fr)
			continue
		}
		res, err := runSafely(ctx, a, in)
		if err != nil {
			fr.Error = err.Error()
		}
		if res != nil && len(res.Packages) > MaxPackagesPerFile {
			fr.Error = fmt.Sprintf("skipped: lists %d packages, over the limit of %d for one file (the largest real lockfiles list a few tens of thousands)", len(res.Packages), MaxPackagesPerFile)
			res = nil
		}
		if !res.Empty() {
			fr.Result = res
		}
		out = append(out, fr)
	}
	return out
}

func runSafely(ctx context.Context, a Analyzer, in Input) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			res = nil
			err = fmt.Errorf("analyzer panicked: %v\n%s", r, debug.Stack())
		}
	}()
	return a.Analyze(ctx, in)
}

// ReadAll reads the whole content of in, refusing more than limit bytes
// with an error that names the file.
func ReadAll(in Input, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(in.Content, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: over the %d-byte limit", in.Path, limit)
	}
	return b, nil
}

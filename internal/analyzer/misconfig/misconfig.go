// Package misconfig is the analyzer that finds misconfigurations in the
// files of a directory scan: Dockerfiles and Containerfiles, Kubernetes
// manifests (YAML or JSON with apiVersion and kind) and Docker Compose
// files, using the checks in internal/misconfig. ScanReader does the same for
// one stream (`bulkhead scan fs -`, e.g. `helm template … | bulkhead scan fs -`),
// sniffing what it is.
package misconfig

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	engine "github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig/compose"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig/dockerfile"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig/kubernetes"
)

// Name of the analyzer.
const Name = "misconfig"

// version is bumped whenever a check's output changes.
const version = 1

// Kind is what a file is.
type Kind int

// Kinds of input.
const (
	Unknown Kind = iota
	Dockerfile
	Kubernetes
	Compose
	// Manifest is a YAML or JSON file that may hold Kubernetes objects;
	// its content decides.
	Manifest
)

func (k Kind) String() string {
	return [...]string{"unknown", "dockerfile", "kubernetes", "compose", "manifest"}[k]
}

// Config configures the analyzer.
type Config struct {
	// Options are the engine's: skipped checks (--skip-checks) and the
	// input size limit.
	Options engine.Options
	// MaxManifestSize bounds the YAML/JSON files Required accepts; zero
	// means DefaultMaxManifestSize. (A directory holds many YAML and JSON
	// files that are not manifests; reading huge ones only to sniff them
	// is wasted work.)
	MaxManifestSize int64
}

// DefaultMaxManifestSize is the default for Config.MaxManifestSize.
const DefaultMaxManifestSize = 16 << 20

// Analyzer finds misconfigurations.
type Analyzer struct {
	cfg     Config
	version int
}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer; unknown IDs in cfg.Options.Skip are an error.
func New(cfg Config) (*Analyzer, error) {
	if err := engine.ValidateSkip(cfg.Options.Skip); err != nil {
		return nil, err
	}
	if cfg.MaxManifestSize <= 0 {
		cfg.MaxManifestSize = DefaultMaxManifestSize
	}
	a := &Analyzer{cfg: cfg, version: version}
	if len(cfg.Options.Skip) > 0 {
		// Skipped checks change the output: cached results of another
		// configuration must not be reused.
		h := fnv.New32a()
		for _, s := range cfg.Options.Skip {
			h.Write([]byte(s + "\x00"))
		}
		a.version = version*1_000_000 + int(h.Sum32()%1_000_000)
	}
	return a, nil
}

// Default returns the analyzer with every check enabled.
func Default() *Analyzer {
	a, err := New(Config{})
	if err != nil {
		panic(err)
	}
	return a
}

func (*Analyzer) Name() string   { return Name }
func (a *Analyzer) Version() int { return a.version }

// KindOf classifies a file by its name alone.
func KindOf(p string) Kind {
	name := path.Base(p)
	lower := strings.ToLower(name)
	switch {
	case lower == "dockerfile" || lower == "containerfile":
		return Dockerfile
	case strings.HasSuffix(lower, ".dockerignore") || strings.HasSuffix(lower, ".md"):
		return Unknown
	case strings.HasPrefix(name, "Dockerfile.") || strings.HasPrefix(name, "Containerfile.") ||
		strings.HasSuffix(lower, ".dockerfile") || strings.HasSuffix(lower, ".containerfile"):
		return Dockerfile
	}
	ext := path.Ext(lower)
	if ext != ".yaml" && ext != ".yml" && ext != ".json" {
		return Unknown
	}
	stem := strings.TrimSuffix(lower, ext)
	if stem == "compose" || stem == "docker-compose" || strings.HasPrefix(stem, "compose.") || strings.HasPrefix(stem, "docker-compose.") ||
		strings.HasPrefix(stem, "docker-compose-") {
		if ext == ".json" {
			return Unknown
		}
		return Compose
	}
	if notManifest[lower] {
		return Unknown
	}
	return Manifest
}

// notManifest are YAML/JSON files that are never Kubernetes objects and
// are common enough to be worth not reading.
var notManifest = map[string]bool{
	"package.json": true, "package-lock.json": true, "composer.json": true, "tsconfig.json": true,
	"jsconfig.json": true, ".eslintrc.json": true, "renovate.json": true, "pnpm-lock.yaml": true,
	".prettierrc.json": true, "lerna.json": true, "angular.json": true, "app.json": true, "manifest.json": true,
	"pubspec.yaml": true, ".pre-commit-config.yaml": true, ".golangci.yml": true, ".golangci.yaml": true,
	"mkdocs.yml": true, ".travis.yml": true, "codecov.yml": true, ".gitlab-ci.yml": true, "environment.yml": true,
	"values.yaml": true, "values.schema.json": true, "chart.yaml": true, "chart.lock": true,
}

// skipDirs are never searched for manifests (dependencies, VCS data).
var skipDirs = []string{"/node_modules/", "/.git/", "/vendor/", "/.terraform/", "/bower_components/", "/.venv/", "/site-packages/"}

// Required accepts files whose name says Dockerfile or Compose file, and
// YAML/JSON files that may hold Kubernetes objects.
func (a *Analyzer) Required(p string, info fs.FileInfo) bool {
	if info == nil || !info.Mode().IsRegular() || info.Size() == 0 {
		return false
	}
	switch KindOf(p) {
	case Dockerfile, Compose:
		return info.Size() <= a.cfg.Options.Limit()
	case Manifest:
		if info.Size() > a.cfg.MaxManifestSize {
			return false
		}
		for _, d := range skipDirs {
			if strings.Contains(p, d) {
				return false
			}
		}
		return true
	}
	return false
}

// Analyze runs the checks for in's kind.
func (a *Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	fs, err := a.Findings(ctx, in)
	return result(fs), err
}

// Findings is Analyze's work, returning the findings themselves.
func (a *Analyzer) Findings(ctx context.Context, in analyzer.Input) ([]engine.Finding, error) {
	limit := a.cfg.Options.Limit()
	data, err := io.ReadAll(io.LimitReader(in.Content, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: over %d bytes", in.Path, engine.ErrTooLarge, limit)
	}
	kind := KindOf(in.Path)
	if kind == Manifest {
		if !kubernetes.Sniff(data) {
			return nil, nil
		}
		kind = Kubernetes
	}
	fs, err := scan(ctx, kind, in.Path, data, a.cfg.Options)
	if err != nil && kind == Kubernetes && bytes.Contains(data, []byte("{{")) {
		// An unrendered Helm or Go template: not YAML yet. Render it
		// (helm template … | bulkhead scan fs -) to check it.
		return fs, nil
	}
	return fs, err
}

func scan(ctx context.Context, kind Kind, name string, data []byte, opts engine.Options) ([]engine.Finding, error) {
	switch kind {
	case Dockerfile:
		return dockerfile.Scan(ctx, name, data, opts)
	case Kubernetes:
		return kubernetes.Scan(ctx, name, data, opts)
	case Compose:
		return compose.Scan(ctx, name, data, opts)
	}
	return nil, fmt.Errorf("%s: %w", name, engine.ErrUnknownFormat)
}

// Sniff decides what data is: the name first (Dockerfile, compose.yaml),
// then the content — YAML/JSON with apiVersion and kind is Kubernetes, a
// top-level services: key is Compose, a first instruction of FROM or ARG (or
// a # syntax= / # escape= directive) is a Dockerfile.
func Sniff(name string, data []byte) Kind {
	switch k := KindOf(name); k {
	case Dockerfile, Compose:
		return k
	}
	if kubernetes.Sniff(data) && (bytes.Contains(data, []byte("apiVersion:")) || bytes.Contains(data, []byte(`"apiVersion"`))) {
		return Kubernetes
	}
	if compose.Sniff(data) {
		return Compose
	}
	if looksLikeDockerfile(data) {
		return Dockerfile
	}
	return Unknown
}

func looksLikeDockerfile(data []byte) bool {
	for rest := bytes.TrimPrefix(data, []byte("\ufeff")); len(rest) > 0; {
		l := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			l, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		t := bytes.TrimSpace(l)
		if len(t) == 0 {
			continue
		}
		if t[0] == '#' {
			d := bytes.ToLower(bytes.TrimSpace(t[1:]))
			if bytes.HasPrefix(d, []byte("syntax=")) || bytes.HasPrefix(d, []byte("escape=")) || bytes.HasPrefix(d, []byte("check=")) {
				return true
			}
			continue
		}
		w := strings.ToUpper(string(bytes.Fields(t)[0]))
		return w == "FROM" || w == "ARG"
	}
	return false
}

// ScanReader reads one input (a file or stdin, at most the configured size
// limit), decides what it is with Sniff and runs its checks. name is used in
// findings' path ("-" or "stdin" for standard input). A stream of several
// YAML documents (helm template output) is checked document by document;
// documents that fail to parse are reported in the error and the rest still
// checked, so findings and an error may both be returned.
func (a *Analyzer) ScanReader(ctx context.Context, name string, r io.Reader) ([]engine.Finding, error) {
	return ScanReader(ctx, name, r, a.cfg.Options)
}

// ScanReader is Analyzer.ScanReader with explicit options.
func ScanReader(ctx context.Context, name string, r io.Reader, opts engine.Options) ([]engine.Finding, error) {
	limit := opts.Limit()
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: %w: over %d bytes (raise the limit or split the input)", name, engine.ErrTooLarge, limit)
	}
	kind := Sniff(name, data)
	if kind == Unknown {
		return nil, fmt.Errorf("%s: %w", name, engine.ErrUnknownFormat)
	}
	return scan(ctx, kind, name, data, opts)
}

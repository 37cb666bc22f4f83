// Package secret is the analyzer that looks for credentials in every text
// file of a layer or directory (and reports keystores as files), using the
// rule engine in internal/secret. It also scans an image's config and
// history (config.go).
package secret

import (
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	engine "github.com/bulkhead-sec/bulkhead/internal/secret"
)

// Name of the analyzer.
const Name = "secret"

// version is bumped when the built-in rules or the engine change findings.
// 2: members of archives (zip, jar, war, ear, whl, tar, tar.gz) are scanned.
const version = 2

// Config configures the analyzer.
type Config struct {
	// Secret is the engine's configuration: rules, allow lists, limits.
	// Secret.MaxFileSize is also the largest file Required accepts.
	Secret engine.Config
	// Custom marks a configuration changed from DefaultConfig (a
	// --secret-config file); it makes Version differ, so cached layer
	// results from another rule set are not reused.
	Custom bool
	// Archive bounds the scanning of archive members; zero fields take
	// the defaults. Archives up to Archive.MaxSize (256 MiB) are
	// required, though larger than Secret.MaxFileSize.
	Archive ArchiveConfig
}

// DefaultConfig is the built-in rule set with default limits.
func DefaultConfig() Config { return Config{Secret: engine.DefaultConfig()} }

// ConfigFromFile loads a --secret-config file (bulkhead YAML or gitleaks
// TOML). The returned warnings name what the file asked for but the engine
// does not support.
func ConfigFromFile(file string) (Config, []string, error) {
	c, err := engine.LoadConfig(file)
	if err != nil {
		return Config{}, nil, err
	}
	return Config{Secret: c, Custom: true}, c.Warnings, nil
}

// Analyzer finds secrets in files.
type Analyzer struct {
	s           *engine.Scanner
	maxSize     int64
	maxFindings int
	arch        ArchiveConfig
	version     int
}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New compiles the rules of cfg.
func New(cfg Config) (*Analyzer, error) {
	s, err := engine.New(cfg.Secret)
	if err != nil {
		return nil, fmt.Errorf("secret rules: %w", err)
	}
	maxFindings := cfg.Secret.MaxFindings
	if maxFindings <= 0 {
		maxFindings = engine.DefaultMaxFindings
	}
	arch := cfg.Archive.withDefaults()
	a := &Analyzer{s: s, maxSize: cfg.Secret.MaxFileSize, maxFindings: maxFindings, arch: arch, version: version}
	if cfg.Custom || arch != (ArchiveConfig{}).withDefaults() {
		a.version = version*1_000_000 + int(digest(s, cfg.Secret, arch)%1_000_000)
	}
	return a, nil
}

// Default returns the analyzer with the built-in rules; it cannot fail.
func Default() *Analyzer {
	a, err := New(DefaultConfig())
	if err != nil {
		panic(err) // the built-in rules are wrong: a programming error
	}
	return a
}

func (*Analyzer) Name() string   { return Name }
func (a *Analyzer) Version() int { return a.version }

// Scanner returns the engine, for callers that scan texts themselves.
func (a *Analyzer) Scanner() *engine.Scanner { return a.s }

// skipDirs hold files that are never credentials and are numerous.
var skipDirs = []string{
	"/proc/", "/sys/", "/dev/",
	"/usr/share/locale/", "/usr/share/i18n/", "/usr/share/zoneinfo/", "/usr/share/man/",
	"/usr/share/info/", "/usr/share/icons/", "/usr/share/fonts/", "/usr/share/mime/",
	"/usr/share/terminfo/", "/usr/share/X11/locale/", "/usr/lib/locale/", "/usr/share/poppler/",
	"/usr/share/unicode/", "/usr/share/consolefonts/", "/usr/share/keymaps/",
}

// skipExt are extensions of binary or media files: reading them to sniff
// would only cost time. Keystores (.jks, .p12) are not here.
var skipExt = map[string]bool{
	".mo": true, ".gmo": true, ".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".ico": true,
	".webp": true, ".bmp": true, ".tif": true, ".tiff": true, ".svgz": true, ".ttf": true, ".otf": true,
	".woff": true, ".woff2": true, ".eot": true, ".pfb": true, ".pcf": true, ".mp3": true, ".mp4": true,
	".ogg": true, ".wav": true, ".flac": true, ".avi": true, ".mov": true, ".webm": true, ".gz": true,
	".xz": true, ".bz2": true, ".zst": true, ".lz4": true, ".lzma": true, ".zip": true, ".jar": true,
	".war": true, ".ear": true, ".whl": true, ".egg": true, ".so": true, ".a": true, ".o": true,
	".pyc": true, ".pyo": true, ".class": true, ".dll": true, ".exe": true, ".node": true,
	".wasm": true, ".md5sums": true, ".pdf": true, ".psd": true, ".deb": true, ".rpm": true,
	".apk": true, ".iso": true, ".img": true, ".qcow2": true,
}

// Required wants regular, non-empty files up to the size cap, except those
// that are obviously not candidates by path, and archives (zip, jar, war,
// ear, whl, tar, tar.gz, tgz) up to the archive size cap.
func (a *Analyzer) Required(p string, info fs.FileInfo) bool {
	if !info.Mode().IsRegular() || info.Size() == 0 {
		return false
	}
	for _, d := range skipDirs {
		if strings.HasPrefix(p, d) {
			return false
		}
	}
	if !a.arch.Disable && kindByName(p) != notArchive {
		return info.Size() <= a.arch.MaxSize
	}
	if a.maxSize > 0 && info.Size() > a.maxSize {
		return false
	}
	ext := strings.ToLower(path.Ext(p))
	if skipExt[ext] || strings.Contains(path.Base(p), ".so.") {
		return false
	}
	if strings.HasPrefix(p, "/var/lib/dpkg/info/") && (ext == ".list" || ext == ".md5sums" || ext == ".triggers") {
		return false
	}
	return true
}

// Analyze streams the file through the scanner; an archive's members are
// scanned instead, named "ARCHIVE!/MEMBER", nested archives too (see
// ArchiveConfig). Limits (size cap, finding cap, regex budget, archive
// bounds) return the findings so far with an error; archive bounds wrap
// ErrArchiveLimit.
func (a *Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	if !a.arch.Disable && kindByName(in.Path) != notArchive {
		if found, err, ok := a.analyzeArchive(ctx, in); ok {
			var res *analyzer.Result
			if len(found) > 0 {
				res = &analyzer.Result{Secrets: found}
			}
			if err != nil {
				return res, fmt.Errorf("secret scan of archive %s: %w", in.Path, err)
			}
			return res, nil
		}
		if _, err := in.Content.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
	}
	found, err := a.s.Scan(ctx, in.Path, in.Content)
	var res *analyzer.Result
	if len(found) > 0 {
		res = &analyzer.Result{Secrets: found}
	}
	if err != nil {
		return res, fmt.Errorf("secret scan of %s: %w", in.Path, err)
	}
	return res, nil
}

// digest summarises a custom configuration for Version.
func digest(s *engine.Scanner, c engine.Config, arch ArchiveConfig) uint32 {
	h := fnv.New32a()
	for _, r := range s.Rules() {
		fmt.Fprintf(h, "%s|%s|%s|%v|%d|%g|%d|%v|%d\n", r.ID, r.Severity, r.Title, r.Keywords, r.SecretGroup, r.Entropy, r.Span, r.NoReport, len(r.Allow))
		if r.Regex != nil {
			fmt.Fprintln(h, r.Regex.String())
		}
		if r.Path != nil {
			fmt.Fprintln(h, r.Path.String())
		}
		for _, al := range r.Allow {
			writeAllow(h, al)
		}
	}
	for _, al := range c.Allow {
		writeAllow(h, al)
	}
	fmt.Fprintf(h, "%d|%d\n", c.MaxFileSize, c.MaxFindings)
	fmt.Fprintf(h, "archive|%+v\n", arch)
	return h.Sum32()
}

func writeAllow(h interface{ Write([]byte) (int, error) }, al engine.Allowlist) {
	fmt.Fprintf(h, "allow|%v|%v|%v|%s|%v", al.Rules, al.Fingerprints, al.StopWords, al.RegexTarget, al.MatchAll)
	for _, re := range al.Paths {
		fmt.Fprint(h, "|", re.String())
	}
	for _, re := range al.Regexes {
		fmt.Fprint(h, "|", re.String())
	}
	fmt.Fprintln(h)
}

// Package java reads the Maven artifacts packaged in Java archives (jar,
// war, ear and Jenkins' jpi/hpi plugins): every META-INF/maven/**/pom.properties
// (a shaded jar carries several), else the identity META-INF/MANIFEST.MF and
// the file name give, and the same again for the archives nested inside
// (WEB-INF/lib, BOOT-INF/lib, ear modules) down to a fixed depth.
//
// Archives are hostile input: declared sizes are checked before anything is
// read, every read is capped, and the total of uncompressed bytes one
// archive may make us read is bounded.
package java

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Name of the analyzer.
const Name = "lang/java"

// Type is the package type of Maven artifacts, as in their PURL.
const Type = "maven"

const (
	// MaxFileSize caps the archives accepted (a large Spring Boot or ear
	// file is a few hundred MiB).
	MaxFileSize = 512 << 20
	// MaxDepth is how deep nested archives are opened: the file itself is
	// depth 0, a jar in its WEB-INF/lib depth 1.
	MaxDepth = 3
	// MaxBudget bounds the uncompressed bytes read out of one file: the
	// metadata files and every compressed nested archive inflated in
	// memory. Stored (uncompressed) nested archives, the Spring Boot
	// layout, are read in place and cost only their metadata.
	MaxBudget = 256 << 20
	// MaxNestedSize caps one compressed nested archive held in memory.
	MaxNestedSize = 64 << 20
	// MaxArchives caps the number of nested archives opened.
	MaxArchives = 5000
	// MaxNestedTotal bounds the summed sizes of the nested archives
	// opened, stored ones included: each costs a central-directory parse,
	// and overlapping entries could otherwise make a small file cost a lot.
	MaxNestedTotal = 2 << 30
	// maxProps and maxManifest cap one pom.properties and one MANIFEST.MF.
	maxProps    = 64 << 10
	maxManifest = 1 << 20
	// maxPackages caps the packages one file can report.
	maxPackages = 20000
)

// Analyzer reads Java archives.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 2 }

// Required accepts files named like Java archives, of at most MaxFileSize.
func (*Analyzer) Required(p string, info fs.FileInfo) bool {
	return IsArchive(p)
}

// SizeLimit: the core skips larger archives with a warning.
func (*Analyzer) SizeLimit(string) int64 { return MaxFileSize }

// IsArchive reports whether name ends in a Java archive extension
// (.jar, .war, .ear, .jpi, .hpi, in any case).
func IsArchive(name string) bool {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || len(name)-i != 4 {
		return false
	}
	switch strings.ToLower(name[i+1:]) {
	case "jar", "war", "ear", "jpi", "hpi":
		// A bare ".jar" is a hidden file, not an artifact.
		return i > 0 && name[i-1] != '/'
	}
	return false
}

func (*Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	size, err := contentSize(in)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	if size > MaxFileSize {
		return nil, fmt.Errorf("read %s: over the %d-byte limit", in.Path, MaxFileSize)
	}
	w := &walker{ctx: ctx, budget: MaxBudget}
	if err := w.archive(in.Content, size, in.Path, path.Base(in.Path), 0); err != nil {
		if len(w.pkgs) == 0 {
			return nil, fmt.Errorf("%s: %w", in.Path, err)
		}
		w.errs = append(w.errs, err)
	}
	var res *analyzer.Result
	if len(w.pkgs) > 0 {
		res = &analyzer.Result{Packages: w.pkgs}
	}
	if len(w.errs) > 0 {
		// Nested archives that could not be read: report what was found
		// and say what was not.
		return res, errors.Join(w.errs...) // each names its entry; the core adds the file
	}
	return res, nil
}

func contentSize(in analyzer.Input) (int64, error) {
	if in.Info != nil && in.Info.Mode().IsRegular() && in.Info.Size() > 0 {
		return in.Info.Size(), nil
	}
	n, err := in.Content.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	_, err = in.Content.Seek(0, io.SeekStart)
	return n, err
}

type walker struct {
	ctx      context.Context
	budget   int64 // uncompressed bytes still allowed
	archives int
	nested   int64 // summed sizes of nested archives opened
	pkgs     []inventory.Package
	errs     []error
	seen     map[string]bool // location + purl
}

var errBudget = errors.New("uncompressed size budget exhausted")

// archive reads one zip archive: loc is its location ("/app/a.war" or
// "/app/a.war!/WEB-INF/lib/b.jar"), base its file name.
func (w *walker) archive(r io.ReaderAt, size int64, loc, base string, depth int) error {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return err
	}
	var (
		props    []*zip.File
		manifest *zip.File
		nested   []*zip.File
	)
	for _, f := range zr.File {
		name := f.Name
		switch {
		case strings.HasPrefix(name, "META-INF/maven/") && strings.HasSuffix(name, "/pom.properties"):
			props = append(props, f)
		case strings.EqualFold(name, "META-INF/MANIFEST.MF"):
			if manifest == nil {
				manifest = f
			}
		case IsArchive(name) && !strings.HasSuffix(name, "/"):
			if depth < MaxDepth {
				nested = append(nested, f)
			} else {
				w.errs = append(w.errs, fmt.Errorf("%s!/%s: not opened: archives are read %d levels deep", loc, f.Name, MaxDepth))
			}
		}
	}

	found := false
	for _, f := range props {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		b, err := w.read(f, maxProps)
		if err != nil {
			w.errs = append(w.errs, fmt.Errorf("%s!/%s: %w", loc, f.Name, err))
			continue
		}
		p := ParseProperties(b)
		g, a, v := p["groupId"], p["artifactId"], p["version"]
		if g == "" || a == "" {
			// META-INF/maven/GROUP/ARTIFACT/pom.properties
			parts := strings.Split(f.Name, "/")
			if len(parts) == 5 {
				if g == "" {
					g = parts[2]
				}
				if a == "" {
					a = parts[3]
				}
			}
		}
		if w.add(g, a, v, loc) {
			found = true
		}
	}
	if !found && manifest != nil {
		b, err := w.read(manifest, maxManifest)
		if err != nil {
			w.errs = append(w.errs, fmt.Errorf("%s!/%s: %w", loc, manifest.Name, err))
		} else {
			g, a, v := FromManifest(ParseManifest(b), base)
			w.add(g, a, v, loc)
		}
	}

	for _, f := range nested {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		nloc := loc + "!/" + f.Name
		if w.archives >= MaxArchives {
			w.errs = append(w.errs, fmt.Errorf("%s: more than %d nested archives", loc, MaxArchives))
			break
		}
		if f.UncompressedSize64 > MaxFileSize {
			w.errs = append(w.errs, fmt.Errorf("%s: declared size %d over the %d-byte limit", nloc, f.UncompressedSize64, MaxFileSize))
			continue
		}
		w.archives++
		w.nested += int64(f.UncompressedSize64)
		if w.nested > MaxNestedTotal {
			w.errs = append(w.errs, fmt.Errorf("%s: nested archives over %d bytes in total", loc, int64(MaxNestedTotal)))
			break
		}
		nr, nsize, err := w.open(r, f)
		if err != nil {
			w.errs = append(w.errs, fmt.Errorf("%s: %w", nloc, err))
			if errors.Is(err, errBudget) {
				break
			}
			continue
		}
		if err := w.archive(nr, nsize, nloc, path.Base(f.Name), depth+1); err != nil {
			if e := w.ctx.Err(); e != nil {
				return e
			}
			w.errs = append(w.errs, fmt.Errorf("%s: %w", nloc, err))
		}
	}
	return nil
}

// open returns a nested archive readable at any offset: a stored entry in
// place, a compressed one inflated into memory within the budget.
func (w *walker) open(outer io.ReaderAt, f *zip.File) (io.ReaderAt, int64, error) {
	if f.Method == zip.Store && f.Flags&0x1 == 0 && f.CompressedSize64 == f.UncompressedSize64 && f.CompressedSize64 <= MaxFileSize {
		off, err := f.DataOffset()
		if err == nil {
			n := int64(f.CompressedSize64)
			return io.NewSectionReader(outer, off, n), n, nil
		}
	}
	b, err := w.read(f, MaxNestedSize)
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(b), int64(len(b)), nil
}

// read returns the uncompressed content of f, refusing it when its declared
// or real size is over max or over what is left of the budget.
func (w *walker) read(f *zip.File, max int64) ([]byte, error) {
	limit := min(max, w.budget)
	if f.UncompressedSize64 > uint64(limit) {
		if f.UncompressedSize64 > uint64(max) {
			return nil, fmt.Errorf("declared size %d over the %d-byte limit", f.UncompressedSize64, max)
		}
		return nil, errBudget
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	// archive/zip also fails a read past the declared size; the limit
	// guards against any reader that would not.
	b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
	w.budget -= int64(len(b))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > int64(f.UncompressedSize64) {
		return nil, fmt.Errorf("more data than the declared %d bytes", f.UncompressedSize64)
	}
	return b, nil
}

// add records a package; it reports whether one was added.
func (w *walker) add(group, artifact, version, loc string) bool {
	group, artifact, version = strings.TrimSpace(group), strings.TrimSpace(artifact), strings.TrimSpace(version)
	if artifact == "" || version == "" || len(w.pkgs) >= maxPackages ||
		strings.Contains(group+artifact+version, "${") { // unfiltered Maven properties
		return false
	}
	name := artifact
	if group != "" {
		name = group + ":" + artifact
	}
	purl := PURL(group, artifact, version)
	if w.seen == nil {
		w.seen = map[string]bool{}
	}
	if w.seen[loc+"\x00"+purl] {
		return true
	}
	w.seen[loc+"\x00"+purl] = true
	w.pkgs = append(w.pkgs, inventory.Package{
		Name:      name,
		Version:   version,
		Type:      Type,
		PURL:      purl,
		FoundBy:   Name,
		Locations: []inventory.Location{{Path: loc}},
	})
	return true
}

// PURL returns pkg:maven/GROUP/ARTIFACT@VERSION.
func PURL(group, artifact, version string) string {
	return packageurl.NewPackageURL(packageurl.TypeMaven, group, artifact, version, nil, "").ToString()
}

// ParseProperties reads a Java properties file as Maven writes
// pom.properties: key=value or key: value lines, # and ! comments,
// backslash line continuations. Unicode escapes are not decoded.
func ParseProperties(b []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), maxManifest)
	var logical strings.Builder
	for sc.Scan() {
		line := strings.TrimLeft(sc.Text(), " \t\f")
		if logical.Len() == 0 && (line == "" || line[0] == '#' || line[0] == '!') {
			continue
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok && !strings.HasSuffix(cont, "\\") {
			logical.WriteString(cont)
			continue
		}
		logical.WriteString(line)
		l := logical.String()
		logical.Reset()
		i := strings.IndexAny(l, "=:")
		if i < 0 {
			continue
		}
		k := strings.TrimSpace(l[:i])
		if _, dup := out[k]; !dup {
			out[k] = strings.TrimSpace(l[i+1:])
		}
	}
	return out
}

// ParseManifest reads the main section of a MANIFEST.MF: "Name: value"
// headers, continuation lines starting with one space, up to the first
// blank line. Header names are matched case-insensitively as the JAR spec
// says; keys are returned as written in the first occurrence.
func ParseManifest(b []byte) map[string]string {
	out := map[string]string{}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var key string
	var val strings.Builder
	flush := func() {
		if key != "" {
			if _, dup := out[key]; !dup {
				out[key] = strings.TrimSpace(val.String())
			}
		}
		key = ""
		val.Reset()
	}
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			break // end of the main section
		}
		if line[0] == ' ' {
			if key != "" {
				val.WriteString(line[1:])
			}
			continue
		}
		flush()
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		key = canonicalHeader(strings.TrimSpace(k))
		val.WriteString(strings.TrimPrefix(v, " "))
	}
	flush()
	return out
}

func canonicalHeader(k string) string {
	for _, h := range []string{"Implementation-Title", "Implementation-Version", "Implementation-Vendor-Id", "Bundle-SymbolicName", "Bundle-Version", "Bundle-Name"} {
		if strings.EqualFold(k, h) {
			return h
		}
	}
	return k
}

var (
	token = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	// name-1.2.3.jar, name-1.2.3-SNAPSHOT.jar, name-1.0.0.RELEASE.jar
	fileVersion = regexp.MustCompile(`^(.+?)-(\d[0-9A-Za-z._+-]*)$`)
)

// SplitFileName guesses artifact and version from an archive's file name:
// "log4j-core-2.14.1.jar" is log4j-core 2.14.1, "log4j-core.jar" is
// log4j-core with no version.
func SplitFileName(base string) (artifact, version string) {
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		base = base[:i]
	}
	if m := fileVersion.FindStringSubmatch(base); m != nil {
		return m[1], m[2]
	}
	return base, ""
}

// FromManifest returns the identity a manifest gives an archive with no
// pom.properties. The group is Implementation-Vendor-Id, else the
// Bundle-SymbolicName without its last segment. The artifact is an
// Implementation-Title that looks like an identifier ("jackson-databind",
// not "Apache Log4j Core"), else the name guessed from the file name,
// else the last segment of Bundle-SymbolicName. The version is
// Implementation-Version, else Bundle-Version, else the file name's.
func FromManifest(m map[string]string, fileName string) (group, artifact, version string) {
	bsn, _, _ := strings.Cut(m["Bundle-SymbolicName"], ";") // drop ;singleton:=true
	bsn = strings.TrimSpace(bsn)
	group = m["Implementation-Vendor-Id"]
	if !token.MatchString(group) {
		group = ""
	}
	if i := strings.LastIndexByte(bsn, '.'); group == "" && i > 0 && token.MatchString(bsn) {
		group = bsn[:i]
	}
	fa, fv := SplitFileName(fileName)
	switch t := m["Implementation-Title"]; {
	case token.MatchString(t):
		artifact = t
	case token.MatchString(fa):
		artifact = fa
	case token.MatchString(bsn):
		artifact = bsn[strings.LastIndexByte(bsn, '.')+1:]
	}
	version = m["Implementation-Version"]
	if version == "" {
		version = m["Bundle-Version"]
	}
	if version == "" {
		version = fv
	}
	if strings.ContainsAny(version, " \t") {
		version = ""
	}
	return group, artifact, version
}

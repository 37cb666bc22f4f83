package secret

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	engine "github.com/bulkhead-sec/bulkhead/internal/secret"
)

// ErrArchiveLimit is wrapped by the error Analyze returns, alongside the
// findings so far, when an archive hits a bound: nesting depth, member
// count, total uncompressed bytes, overlapping zip members, a member over
// the size cap.
var ErrArchiveLimit = errors.New("archive limit reached")

// Archive defaults.
const (
	DefaultMaxArchiveSize    = 256 << 20 // largest archive file Required accepts
	DefaultMaxArchiveBytes   = 1 << 30   // uncompressed bytes read per archive, nesting included
	DefaultMaxArchiveMembers = 100_000   // members per archive, nesting included
	DefaultMaxArchiveDepth   = 3         // archive levels opened: a!/b!/c!/file
)

// ArchiveConfig bounds the scanning of archives (zip, jar, war, ear, whl,
// tar, tar.gz, tgz) found in a layer; their members are scanned and named
// "ARCHIVE!/MEMBER" ("/app/x.war!/WEB-INF/lib/y.jar!/creds.properties").
// Zero fields take the defaults.
type ArchiveConfig struct {
	// Disable leaves archives unopened (and unscanned, as before).
	Disable    bool
	MaxSize    int64
	MaxBytes   int64
	MaxMembers int
	MaxDepth   int
}

func (c ArchiveConfig) withDefaults() ArchiveConfig {
	if c.MaxSize <= 0 {
		c.MaxSize = DefaultMaxArchiveSize
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxArchiveBytes
	}
	if c.MaxMembers <= 0 {
		c.MaxMembers = DefaultMaxArchiveMembers
	}
	if c.MaxDepth <= 0 {
		c.MaxDepth = DefaultMaxArchiveDepth
	}
	return c
}

// maxArchiveErrors is how many member errors an archive's error lists.
const maxArchiveErrors = 5

type archiveKind int

const (
	notArchive archiveKind = iota
	zipArchive
	tarArchive // tar, possibly gzip-compressed
)

// kindByName tells an archive by its name.
func kindByName(p string) archiveKind {
	l := strings.ToLower(p)
	switch {
	case strings.HasSuffix(l, ".tar"), strings.HasSuffix(l, ".tar.gz"), strings.HasSuffix(l, ".tgz"):
		return tarArchive
	}
	switch path.Ext(l) {
	case ".zip", ".jar", ".war", ".ear", ".whl":
		return zipArchive
	}
	return notArchive
}

func isZipMagic(b []byte) bool {
	return len(b) >= 4 && b[0] == 'P' && b[1] == 'K' && (b[2] == 3 && b[3] == 4 || b[2] == 5 && b[3] == 6)
}

func isGzipMagic(b []byte) bool { return len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b }

// walker scans the members of one archive and of the archives in it.
type walker struct {
	a       *Analyzer
	ctx     context.Context
	cfg     ArchiveConfig
	budget  int64 // uncompressed bytes left
	members int
	out     []inventory.Secret
	errs    []error
	nerrs   int
	stop    error // a bound that ends the whole walk
}

func (w *walker) warn(err error) {
	w.nerrs++
	if len(w.errs) < maxArchiveErrors {
		w.errs = append(w.errs, err)
	}
}

func (w *walker) halt(err error) {
	if w.stop == nil {
		w.stop = err
		w.warn(err)
	}
}

func (w *walker) err() error {
	if w.nerrs == 0 {
		return nil
	}
	return joinErr{w.errs, w.nerrs - len(w.errs)}
}

// joinErr is errors.Join on one line: it becomes a one-line warning.
type joinErr struct {
	errs []error
	more int
}

func (e joinErr) Error() string {
	parts := make([]string, 0, len(e.errs)+1)
	for _, err := range e.errs {
		parts = append(parts, err.Error())
	}
	if e.more > 0 {
		parts = append(parts, fmt.Sprintf("and %d more", e.more))
	}
	return strings.Join(parts, "; ")
}

func (e joinErr) Unwrap() []error { return e.errs }

// budgetReader charges what is read to the walker's byte budget.
type budgetReader struct {
	r io.Reader
	w *walker
}

func (b *budgetReader) Read(p []byte) (int, error) {
	if b.w.budget <= 0 {
		return 0, fmt.Errorf("%w: more than %d uncompressed bytes", ErrArchiveLimit, b.w.cfg.MaxBytes)
	}
	if int64(len(p)) > b.w.budget {
		p = p[:b.w.budget]
	}
	n, err := b.r.Read(p)
	b.w.budget -= int64(n)
	return n, err
}

// analyzeArchive scans the members of the archive in in. ok is false when
// the content is not an archive after all: the caller scans it as a file.
func (a *Analyzer) analyzeArchive(ctx context.Context, in analyzer.Input) (found []inventory.Secret, err error, ok bool) {
	var head [512]byte
	n, _ := in.Content.ReadAt(head[:], 0)
	w := &walker{a: a, ctx: ctx, cfg: a.arch, budget: a.arch.MaxBytes}
	switch {
	case isZipMagic(head[:n]):
		size, serr := in.Content.Seek(0, io.SeekEnd)
		if serr != nil {
			return nil, serr, true
		}
		w.zip(in.Path, in.Content, size, 1)
	case isGzipMagic(head[:n]) || kindByName(in.Path) == tarArchive && n == len(head):
		if _, serr := in.Content.Seek(0, io.SeekStart); serr != nil {
			return nil, serr, true
		}
		w.tarStream(in.Path, &budgetReader{in.Content, w}, 1)
	default:
		return nil, nil, false
	}
	return w.out, w.err(), true
}

// zip scans a zip-family archive.
func (w *walker) zip(name string, ra io.ReaderAt, size int64, depth int) {
	if n, ok := zipEntryCount(ra, size); ok && n > uint64(w.cfg.MaxMembers-w.members) {
		w.halt(fmt.Errorf("%s: %w: %d members declared, more than %d", name, ErrArchiveLimit, n, w.cfg.MaxMembers))
		return
	}
	zr, err := zip.NewReader(ra, size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		w.warn(fmt.Errorf("%s: reading zip: %w", name, err))
		return
	}
	// Members in order of their data; one whose data starts inside the
	// previous one's is an overlapping-member bomb and is not read.
	type entry struct {
		f        *zip.File
		off, end int64
	}
	var entries []entry
	for _, f := range zr.File {
		if !f.Mode().IsRegular() || strings.HasSuffix(f.Name, "/") {
			continue
		}
		off, err := f.DataOffset()
		if err != nil {
			w.warn(fmt.Errorf("%s!/%s: %w", name, cleanMember(f.Name), err))
			continue
		}
		entries = append(entries, entry{f, off, off + int64(f.CompressedSize64)})
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].off < entries[j].off })
	var prevEnd int64
	overlaps := 0
	for _, e := range entries {
		if w.stop != nil {
			return
		}
		if e.off < prevEnd || e.end < e.off || e.end > size {
			overlaps++
			continue
		}
		prevEnd = e.end
		f := e.f
		w.member(name, f.Name, int64(min(f.UncompressedSize64, 1<<62)), depth, func() (io.ReadCloser, error) { return f.Open() })
	}
	if overlaps > 0 {
		w.warn(fmt.Errorf("%s: %w: %d overlapping or out-of-range members not read", name, ErrArchiveLimit, overlaps))
	}
}

// tarStream scans a tar or tar.gz read from r.
func (w *walker) tarStream(name string, r io.Reader, depth int) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if head, _ := br.Peek(2); isGzipMagic(head) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			w.warn(fmt.Errorf("%s: reading gzip: %w", name, err))
			return
		}
		defer zr.Close()
		src = &budgetReader{zr, w}
	}
	tr := tar.NewReader(src)
	for w.stop == nil {
		hdr, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			if errors.Is(err, ErrArchiveLimit) {
				w.halt(fmt.Errorf("%s: %w", name, err))
			} else {
				w.warn(fmt.Errorf("%s: reading tar: %w", name, err))
			}
			return
		}
		if hdr.Typeflag != tar.TypeReg && hdr.Typeflag != tar.TypeRegA && hdr.Typeflag != tar.TypeGNUSparse {
			continue
		}
		w.member(name, hdr.Name, hdr.Size, depth, func() (io.ReadCloser, error) { return io.NopCloser(tr), nil })
	}
}

// member scans one member of archive parent: a nested archive is opened
// (to the depth bound), other members go to the engine.
func (w *walker) member(parent, raw string, declared int64, depth int, open func() (io.ReadCloser, error)) {
	if err := w.ctx.Err(); err != nil {
		w.halt(err)
		return
	}
	w.members++
	if w.members > w.cfg.MaxMembers {
		w.halt(fmt.Errorf("%s: %w: more than %d members", parent, ErrArchiveLimit, w.cfg.MaxMembers))
		return
	}
	if declared <= 0 {
		return
	}
	p := parent + "!/" + cleanMember(raw)
	kind := kindByName(p)
	if kind == notArchive && skipMember(p) {
		return
	}
	// Files and nested zips (read into memory) within the file size cap;
	// nested tars, streamed, within the archive size cap.
	limit := w.a.maxSize
	if kind == tarArchive || limit <= 0 {
		limit = w.cfg.MaxSize
	}
	if declared > limit {
		w.warn(fmt.Errorf("%s: %w: %d bytes, over the size cap", p, ErrArchiveLimit, declared))
		return
	}
	if kind != notArchive && depth >= w.cfg.MaxDepth {
		w.warn(fmt.Errorf("%s: %w: archive nested deeper than %d, not opened", p, ErrArchiveLimit, w.cfg.MaxDepth))
		return
	}
	rc, err := open()
	if err != nil {
		w.warn(fmt.Errorf("%s: %w", p, err))
		return
	}
	defer rc.Close()
	r := &budgetReader{rc, w}
	switch kind {
	case tarArchive:
		w.tarStream(p, r, depth+1)
		return
	case zipArchive:
		// A zip needs random access: read it into memory, within the
		// size cap for nested archives.
		b, err := io.ReadAll(io.LimitReader(r, declared+1))
		if err == nil && int64(len(b)) != declared {
			err = fmt.Errorf("%w: %d bytes declared, %d read", zip.ErrFormat, declared, len(b))
		}
		if err != nil {
			w.memberErr(p, err)
			return
		}
		if isZipMagic(b) {
			w.zip(p, bytes.NewReader(b), int64(len(b)), depth+1)
		} else {
			w.scan(p, bytes.NewReader(b))
		}
		return
	}
	w.scan(p, r)
}

func (w *walker) scan(p string, r io.Reader) {
	found, err := w.a.s.Scan(w.ctx, p, r)
	w.out = append(w.out, found...)
	if err != nil {
		w.memberErr(p, err)
	}
	if limit := 10 * w.a.maxFindings; len(w.out) >= limit {
		w.halt(fmt.Errorf("%s: %w: %d findings in the archive", p, engine.ErrTooMany, len(w.out)))
	}
}

func (w *walker) memberErr(p string, err error) {
	if errors.Is(err, ErrArchiveLimit) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		w.halt(fmt.Errorf("%s: %w", p, err))
		return
	}
	w.warn(fmt.Errorf("%s: %w", p, err))
}

// cleanMember makes a member name relative and free of "..".
func cleanMember(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// skipMember: members that Required would refuse by path are not read.
func skipMember(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return skipExt[ext] || strings.Contains(path.Base(p), ".so.")
}

// zipEntryCount reads the number of entries a zip's end of central
// directory declares, to refuse a directory too large to load.
func zipEntryCount(ra io.ReaderAt, size int64) (uint64, bool) {
	const eocdLen, maxComment = 22, 65535
	tail := min(size, eocdLen+maxComment)
	if tail < eocdLen {
		return 0, false
	}
	buf := make([]byte, tail)
	if n, err := ra.ReadAt(buf, size-tail); err != nil && !(err == io.EOF && int64(n) == tail) {
		return 0, false
	}
	i := bytes.LastIndex(buf, []byte("PK\x05\x06"))
	if i < 0 || len(buf)-i < eocdLen {
		return 0, false
	}
	n := uint64(binary.LittleEndian.Uint16(buf[i+10:]))
	if n != 0xffff {
		return n, true
	}
	// Zip64: the locator sits just before the end record.
	if i < 20 || string(buf[i-20:i-16]) != "PK\x06\x07" {
		return 0, false
	}
	off := int64(binary.LittleEndian.Uint64(buf[i-20+8:]))
	var rec [56]byte
	if off < 0 || off > size-56 {
		return 0, false
	}
	if _, err := ra.ReadAt(rec[:], off); err != nil || string(rec[:4]) != "PK\x06\x06" {
		return 0, false
	}
	return binary.LittleEndian.Uint64(rec[32:]), true
}

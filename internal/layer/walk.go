// Package layer streams one image layer: it decompresses (gzip, zstd or
// none, sniffed from the bytes), reads the tar once, records whiteouts and
// links without applying them, and verifies the layer's diffID on the way.
// Nothing is ever written to disk.
package layer

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

const (
	whiteoutPrefix = ".wh."
	opaqueMarker   = ".wh..wh..opq"
	// maxLinks bounds the symlinks and hardlinks remembered per layer.
	maxLinks = 200_000
	// maxTrailing bounds the bytes read after the tar end-of-archive marker
	// (to finish the diffID); a decompression bomb padded with zeros stops
	// here instead of being read to the end.
	maxTrailing = 1 << 20
)

// ErrNotTar is returned for a layer whose bytes are not a tar archive.
var ErrNotTar = errors.New("layer is not a tar archive")

// Entry is one tar entry, with a cleaned absolute path.
type Entry struct {
	Path   string // "/etc/os-release": always absolute, cleaned, inside the image
	Header *tar.Header
	Info   fs.FileInfo
	// Reader reads a regular file's content; it is valid only during the
	// callback.
	Reader io.Reader
}

// Summary is what a walk learned besides the files themselves.
type Summary struct {
	Whiteouts  []string          // files and dirs deleted from lower layers
	OpaqueDirs []string          // dirs whose lower-layer content is hidden
	Symlinks   map[string]string // path → link target as written
	Hardlinks  map[string]string // path → target path (absolute, cleaned)
	Files      int               // regular files
	Entries    int               // all entries
	Bytes      int64             // uncompressed tar bytes read
	DiffID     string            // sha256 of the uncompressed tar, if complete
	Warnings   []string
}

// WalkFunc is called for every entry except whiteout markers.
type WalkFunc func(e *Entry) error

// Walk decompresses r as needed and calls fn for each tar entry.
func Walk(ctx context.Context, r io.Reader, fn WalkFunc) (*Summary, error) {
	dr, closeFn, err := Decompress(r)
	if err != nil {
		return nil, err
	}
	defer closeFn()

	h := sha256.New()
	cr := &countingReader{r: dr, h: h}
	tr := tar.NewReader(cr)
	s := &Summary{Symlinks: map[string]string{}, Hardlinks: map[string]string{}}
	linksDropped := 0
	for {
		if err := ctx.Err(); err != nil {
			return s, err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if s.Entries == 0 && (errors.Is(err, tar.ErrHeader) || err == io.ErrUnexpectedEOF) {
				return s, fmt.Errorf("%w: %v", ErrNotTar, err)
			}
			return s, fmt.Errorf("read tar entry after %d entries: %w", s.Entries, err)
		}
		s.Entries++
		p, suspicious := CleanPath(hdr.Name)
		if suspicious {
			s.Warnings = append(s.Warnings, fmt.Sprintf("tar entry %q escapes the layer root; treated as %s", hdr.Name, p))
		}
		dir, base := path.Split(p)
		if base == opaqueMarker {
			s.OpaqueDirs = append(s.OpaqueDirs, path.Clean(dir))
			continue
		}
		if strings.HasPrefix(base, whiteoutPrefix) {
			s.Whiteouts = append(s.Whiteouts, path.Join(dir, strings.TrimPrefix(base, whiteoutPrefix)))
			continue
		}
		e := &Entry{Path: p, Header: hdr, Info: hdr.FileInfo()}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			s.Files++
			if hdr.Size < 0 {
				return s, fmt.Errorf("tar entry %s: negative size", p)
			}
			e.Reader = tr
		case tar.TypeSymlink:
			if len(s.Symlinks) < maxLinks {
				s.Symlinks[p] = hdr.Linkname
			} else {
				linksDropped++
			}
		case tar.TypeLink:
			t, _ := CleanPath(hdr.Linkname)
			if len(s.Hardlinks) < maxLinks {
				s.Hardlinks[p] = t
			} else {
				linksDropped++
			}
		}
		if err := fn(e); err != nil {
			return s, err
		}
	}
	if linksDropped > 0 {
		s.Warnings = append(s.Warnings, fmt.Sprintf("%d links beyond the first %d not remembered", linksDropped, maxLinks))
	}
	// Finish the diffID: the bytes after the end-of-archive marker count.
	n, err := io.CopyN(io.Discard, cr, maxTrailing)
	switch {
	case err == io.EOF || (err == nil && n < maxTrailing):
		s.DiffID = "sha256:" + hex.EncodeToString(h.Sum(nil))
	case err == nil:
		s.Warnings = append(s.Warnings, fmt.Sprintf("more than %d bytes after the end of the tar archive; not read", maxTrailing))
	default:
		return s, fmt.Errorf("read after end of tar: %w", err)
	}
	s.Bytes = cr.n
	return s, nil
}

// CleanPath turns a tar entry name into an absolute, cleaned path inside the
// layer. It reports whether the name tried to leave the root ("../", or an
// absolute path is not suspicious: it is common).
func CleanPath(name string) (string, bool) {
	suspicious := false
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			suspicious = true
			break
		}
	}
	return path.Clean("/" + name), suspicious
}

type countingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.h.Write(p[:n])
		c.n += int64(n)
	}
	return n, err
}

// Compression of a layer stream.
type Compression string

const (
	None Compression = "none"
	Gzip Compression = "gzip"
	Zstd Compression = "zstd"
)

// Sniff reports the compression of the stream starting with b.
func Sniff(b []byte) Compression {
	switch {
	case len(b) >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8:
		return Gzip
	case len(b) >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd:
		return Zstd
	}
	return None
}

// Decompress returns the uncompressed stream of r, whatever its compression.
func Decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, nil, fmt.Errorf("read layer header: %w", err)
	}
	switch Sniff(head) {
	case Gzip:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("open gzip layer: %w", err)
		}
		return zr, func() { zr.Close() }, nil
	case Zstd:
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<27))
		if err != nil {
			return nil, nil, fmt.Errorf("open zstd layer: %w", err)
		}
		return zr, zr.Close, nil
	}
	return br, func() {}, nil
}

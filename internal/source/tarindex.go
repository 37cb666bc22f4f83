package source

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// tarIndex locates the members of an uncompressed tar file by reading only
// their headers, so each member can later be read in place, concurrently,
// through an io.SectionReader. Nothing is extracted.
type tarIndex struct {
	f       *os.File
	name    string
	entries map[string]tarMember
	// unterminated is set when the archive ends without the zero blocks
	// that mark its end: complete but for them, or cut at a member
	// boundary.
	unterminated bool
}

type tarMember struct {
	offset, size int64
	typeflag     byte
	linkname     string
}

// maxIndexEntries bounds the members remembered from an archive: image
// archives hold a few per layer.
const maxIndexEntries = 100_000

// errNotTar marks a file that is not an (uncompressed) tar archive.
var errNotTar = errors.New("not a tar archive")

// typeSparse marks a member whose data is stored sparse: its bytes are not
// contiguous in the file, so it cannot be read in place.
const typeSparse = 'S'

func openTarIndex(name string) (*tarIndex, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory, not an archive (use oci-layout:%s for an OCI image layout, dir:%s for a plain tree)", name, name, name)
	}
	if err := checkUncompressed(f, name); err != nil {
		f.Close()
		return nil, err
	}
	pr := &posReader{f: f}
	tr := tar.NewReader(pr)
	idx := &tarIndex{f: f, name: name, entries: map[string]tarMember{}}
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			if n == 0 {
				return nil, fmt.Errorf("read archive %s: %w (%v)", name, errNotTar, err)
			}
			if err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("read archive %s: truncated after %d members (%w); is the file complete?", name, n, err)
			}
			return nil, fmt.Errorf("read archive %s after %d members: %w", name, n, err)
		}
		if len(idx.entries) >= maxIndexEntries {
			f.Close()
			return nil, fmt.Errorf("read archive %s: more than %d members; not an image archive", name, maxIndexEntries)
		}
		m := tarMember{offset: pr.pos, size: hdr.Size, typeflag: hdr.Typeflag, linkname: hdr.Linkname}
		if isSparse(hdr) {
			m.typeflag = typeSparse
		}
		idx.entries[cleanMember(hdr.Name)] = m
	}
	if len(idx.entries) == 0 {
		f.Close()
		return nil, fmt.Errorf("read archive %s: %w (no members)", name, errNotTar)
	}
	// archive/tar takes an archive cut inside the padding after a member
	// for a clean end; tar archives are made of whole blocks.
	if pr.pos%blockSize != 0 {
		f.Close()
		return nil, fmt.Errorf("read archive %s: truncated after %d members (it ends inside a block); is the file complete?", name, len(idx.entries))
	}
	idx.unterminated = !zeroBlockBefore(f, pr.pos)
	return idx, nil
}

const blockSize = 512

// zeroBlockBefore reports whether the block that ends at pos is all zeros,
// as the end-of-archive marker is.
func zeroBlockBefore(f *os.File, pos int64) bool {
	if pos < blockSize {
		return false
	}
	var b [blockSize]byte
	if _, err := f.ReadAt(b[:], pos-blockSize); err != nil {
		return false
	}
	return b == [blockSize]byte{}
}

func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}

// checkUncompressed tells a compressed archive apart from a tar, so the user
// learns what to do instead of reading "invalid tar header".
func checkUncompressed(f *os.File, name string) error {
	var head [6]byte
	n, _ := f.ReadAt(head[:], 0)
	b := head[:n]
	var kind, tool string
	switch {
	case len(b) >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8:
		kind, tool = "gzip", "gunzip"
	case len(b) >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd:
		kind, tool = "zstd", "unzstd"
	case len(b) >= 3 && string(b[:3]) == "BZh":
		kind, tool = "bzip2", "bunzip2"
	case len(b) >= 6 && string(b) == "\xfd7zXZ\x00":
		kind, tool = "xz", "unxz"
	default:
		return nil
	}
	return fmt.Errorf("%s is %s-compressed; image archives are read uncompressed, in place: run `%s -k %s` and scan the .tar", name, kind, tool, name)
}

func cleanMember(name string) string {
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// open returns a reader over a member, following symlinks and hardlinks
// between members (docker save links duplicate layers) a bounded number of
// times.
func (t *tarIndex) open(name string) (io.ReadCloser, error) {
	m, err := t.lookup(name)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(io.NewSectionReader(t.f, m.offset, m.size)), nil
}

func (t *tarIndex) lookup(name string) (tarMember, error) {
	cur := cleanMember(name)
	for hops := 0; hops < 16; hops++ {
		m, ok := t.entries[cur]
		if !ok {
			if t.unterminated {
				return tarMember{}, fmt.Errorf("%s: member %s: %w (the archive has no end-of-archive marker: is it truncated?)", t.name, name, ErrNotFound)
			}
			return tarMember{}, fmt.Errorf("%s: member %s: %w", t.name, name, ErrNotFound)
		}
		switch m.typeflag {
		case tar.TypeReg, tar.TypeRegA:
			return m, nil
		case tar.TypeSymlink:
			if strings.HasPrefix(m.linkname, "/") {
				cur = cleanMember(m.linkname)
			} else {
				cur = cleanMember(path.Join(path.Dir(cur), m.linkname))
			}
		case tar.TypeLink:
			cur = cleanMember(m.linkname)
		case typeSparse:
			return tarMember{}, fmt.Errorf("%s: member %s is stored sparse, which image archives never are", t.name, name)
		default:
			return tarMember{}, fmt.Errorf("%s: member %s is not a regular file", t.name, name)
		}
	}
	return tarMember{}, fmt.Errorf("%s: member %s: too many links", t.name, name)
}

func (t *tarIndex) readAll(name string, limit int64) ([]byte, error) {
	m, err := t.lookup(name)
	if err != nil {
		return nil, err
	}
	if m.size > limit {
		return nil, fmt.Errorf("%s: member %s is %d bytes, more than the %d bytes allowed", t.name, name, m.size, limit)
	}
	b := make([]byte, m.size)
	if _, err := t.f.ReadAt(b, m.offset); err != nil {
		return nil, fmt.Errorf("%s: read %s: %w", t.name, name, err)
	}
	return b, nil
}

func (t *tarIndex) has(name string) bool {
	_, err := t.lookup(name)
	return err == nil
}

func (t *tarIndex) Close() error { return t.f.Close() }

// posReader tracks the position in the file; archive/tar seeks over member
// content when its reader can seek.
type posReader struct {
	f   *os.File
	pos int64
}

func (p *posReader) Read(b []byte) (int, error) {
	n, err := p.f.Read(b)
	p.pos += int64(n)
	return n, err
}

func (p *posReader) Seek(off int64, whence int) (int64, error) {
	n, err := p.f.Seek(off, whence)
	if err == nil {
		p.pos = n
	}
	return n, err
}

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
}

type tarMember struct {
	offset, size int64
	typeflag     byte
	linkname     string
}

// maxIndexEntries bounds the members remembered from an archive: image
// archives hold a few per layer.
const maxIndexEntries = 100_000

func openTarIndex(name string) (*tarIndex, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	pr := &posReader{f: f}
	tr := tar.NewReader(pr)
	idx := &tarIndex{f: f, name: name, entries: map[string]tarMember{}}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("read archive %s: %w", name, err)
		}
		if len(idx.entries) >= maxIndexEntries {
			f.Close()
			return nil, fmt.Errorf("read archive %s: more than %d members; not an image archive", name, maxIndexEntries)
		}
		idx.entries[cleanMember(hdr.Name)] = tarMember{offset: pr.pos, size: hdr.Size, typeflag: hdr.Typeflag, linkname: hdr.Linkname}
	}
	return idx, nil
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
		default:
			return tarMember{}, fmt.Errorf("%s: member %s is not a file", t.name, name)
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
		return nil, fmt.Errorf("%s: member %s is %d bytes, more than the %d allowed", t.name, name, m.size, limit)
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

// sniffArchive tells a docker-archive from an oci-archive by their members.
func sniffArchive(name string) (string, error) {
	idx, err := openTarIndex(name)
	if err != nil {
		return "", err
	}
	defer idx.Close()
	switch {
	case idx.has("manifest.json"):
		return DockerArchive, nil
	case idx.has("index.json"):
		return OCIArchive, nil
	}
	return "", errors.New(name + ": tar archive without manifest.json or index.json")
}

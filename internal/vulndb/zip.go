package vulndb

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/flate"
)

// This file reads zip archives one member at a time. archive/zip keeps a
// *zip.File (about 250 bytes) for every member of the central directory in
// memory; osv.dev exports have hundreds of thousands of members, so a reader
// whose memory grows with the member count is not an option. zipArchive
// walks the central directory through a small buffer instead and opens each
// member at its local header, checking its size and CRC-32 as it is read.
//
// Supported: stored and deflated members, data descriptors, ZIP64. Not
// supported (reported per member, the walk goes on): encryption, other
// compression methods. Multi-disk archives and archives with data before
// the first member (self-extractors) are rejected.

// errCorrupt marks an archive that is damaged or truncated.
var errCorrupt = errors.New("corrupt zip archive")

// errUnsupported marks a member the reader cannot decode.
var errUnsupported = errors.New("unsupported zip member")

// errTooLarge marks a member larger than the caller's limit.
var errTooLarge = errors.New("too large")

const (
	sigLocal        = 0x04034b50
	sigCentral      = 0x02014b50
	sigEnd          = 0x06054b50
	sigEnd64        = 0x06064b50
	sigEnd64Locator = 0x07064b50

	lenLocal        = 30
	lenCentral      = 46
	lenEnd          = 22
	lenEnd64        = 56
	lenEnd64Locator = 20

	methodStore   = 0
	methodDeflate = 8

	maxCommentLen = 0xffff
)

// zipArchive is an opened zip file whose central directory has been located
// but not read.
type zipArchive struct {
	r         io.ReaderAt
	size      int64
	dirOffset int64
	dirSize   int64
	entries   uint64
}

// zipMember is one central-directory record.
type zipMember struct {
	Name   string
	Method uint16
	Flags  uint16
	CRC32  uint32
	CSize  uint64 // compressed size
	USize  uint64 // uncompressed size, as declared
	offset int64  // of the local header
}

// isDir reports whether the member is a directory entry.
func (m *zipMember) isDir() bool {
	return len(m.Name) > 0 && m.Name[len(m.Name)-1] == '/'
}

// openZip finds the end of central directory record of the zip in r.
func openZip(r io.ReaderAt, size int64) (*zipArchive, error) {
	if size < lenEnd {
		return nil, fmt.Errorf("%w: %d bytes is too short for a zip file (truncated download?)", errCorrupt, size)
	}
	// The end record is the last 22 bytes plus a comment of up to 64 KiB.
	tail := int64(lenEnd + maxCommentLen)
	if tail > size {
		tail = size
	}
	buf := make([]byte, tail)
	if _, err := r.ReadAt(buf, size-tail); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading the end of the zip: %w", err)
	}
	at := -1
	for i := len(buf) - lenEnd; i >= 0; i-- {
		if binary.LittleEndian.Uint32(buf[i:]) != sigEnd {
			continue
		}
		// The comment must reach exactly to the end of the file.
		if commentLen := int(binary.LittleEndian.Uint16(buf[i+20:])); i+lenEnd+commentLen == len(buf) {
			at = i
			break
		}
	}
	if at < 0 {
		return nil, fmt.Errorf("%w: no end of central directory (not a zip file, or truncated)", errCorrupt)
	}
	end := buf[at:]
	endOffset := size - tail + int64(at)
	z := &zipArchive{r: r, size: size}
	disk, dirDisk := binary.LittleEndian.Uint16(end[4:]), binary.LittleEndian.Uint16(end[6:])
	z.entries = uint64(binary.LittleEndian.Uint16(end[10:]))
	z.dirSize = int64(binary.LittleEndian.Uint32(end[12:]))
	z.dirOffset = int64(binary.LittleEndian.Uint32(end[16:]))
	if disk != 0 || dirDisk != 0 {
		return nil, fmt.Errorf("%w: multi-disk archives are not supported", errUnsupported)
	}
	if z.entries == 0xffff || z.dirSize == 0xffffffff || z.dirOffset == 0xffffffff {
		if err := z.readEnd64(endOffset); err != nil {
			return nil, err
		}
		endOffset -= lenEnd64Locator + lenEnd64
	}
	if z.dirOffset < 0 || z.dirSize < 0 || z.dirOffset+z.dirSize > endOffset || z.dirOffset+z.dirSize < z.dirOffset {
		return nil, fmt.Errorf("%w: central directory (offset %d, %d bytes) lies outside the file", errCorrupt, z.dirOffset, z.dirSize)
	}
	// Every central record is at least 46 bytes.
	if z.entries > uint64(z.dirSize)/lenCentral {
		return nil, fmt.Errorf("%w: %d members cannot fit in a %d-byte directory", errCorrupt, z.entries, z.dirSize)
	}
	return z, nil
}

// readEnd64 reads the ZIP64 end record through its locator just before the
// classic end record at endOffset.
func (z *zipArchive) readEnd64(endOffset int64) error {
	locAt := endOffset - lenEnd64Locator
	if locAt < 0 {
		return fmt.Errorf("%w: missing ZIP64 locator", errCorrupt)
	}
	var loc [lenEnd64Locator]byte
	if _, err := z.r.ReadAt(loc[:], locAt); err != nil {
		return fmt.Errorf("%w: reading ZIP64 locator: %v", errCorrupt, err)
	}
	if binary.LittleEndian.Uint32(loc[:]) != sigEnd64Locator {
		return fmt.Errorf("%w: missing ZIP64 locator", errCorrupt)
	}
	recAt := int64(binary.LittleEndian.Uint64(loc[8:]))
	if recAt != locAt-lenEnd64 {
		return fmt.Errorf("%w: ZIP64 end record at %d, want %d (data before the archive is not supported)", errCorrupt, recAt, locAt-lenEnd64)
	}
	var rec [lenEnd64]byte
	if _, err := z.r.ReadAt(rec[:], recAt); err != nil {
		return fmt.Errorf("%w: reading ZIP64 end record: %v", errCorrupt, err)
	}
	if binary.LittleEndian.Uint32(rec[:]) != sigEnd64 {
		return fmt.Errorf("%w: bad ZIP64 end record signature", errCorrupt)
	}
	z.entries = binary.LittleEndian.Uint64(rec[32:])
	z.dirSize = int64(binary.LittleEndian.Uint64(rec[40:]))
	z.dirOffset = int64(binary.LittleEndian.Uint64(rec[48:]))
	return nil
}

// walk calls fn for each central-directory record in order. The member
// passed to fn is reused; fn must copy what it keeps. walk stops at the
// first error fn returns and returns it.
func (z *zipArchive) walk(fn func(*zipMember) error) error {
	br := bufio.NewReaderSize(io.NewSectionReader(z.r, z.dirOffset, z.dirSize), 64<<10)
	var hdr [lenCentral]byte
	var m zipMember
	var name, extra []byte
	for i := uint64(0); i < z.entries; i++ {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return fmt.Errorf("%w: central directory ends after %d of %d members", errCorrupt, i, z.entries)
		}
		if binary.LittleEndian.Uint32(hdr[:]) != sigCentral {
			return fmt.Errorf("%w: bad central directory record %d", errCorrupt, i)
		}
		m = zipMember{
			Flags:  binary.LittleEndian.Uint16(hdr[8:]),
			Method: binary.LittleEndian.Uint16(hdr[10:]),
			CRC32:  binary.LittleEndian.Uint32(hdr[16:]),
			CSize:  uint64(binary.LittleEndian.Uint32(hdr[20:])),
			USize:  uint64(binary.LittleEndian.Uint32(hdr[24:])),
			offset: int64(binary.LittleEndian.Uint32(hdr[42:])),
		}
		nameLen := int(binary.LittleEndian.Uint16(hdr[28:]))
		extraLen := int(binary.LittleEndian.Uint16(hdr[30:]))
		commentLen := int(binary.LittleEndian.Uint16(hdr[32:]))
		name = grow(name, nameLen)
		extra = grow(extra, extraLen)
		if _, err := io.ReadFull(br, name); err != nil {
			return fmt.Errorf("%w: central directory record %d is cut short", errCorrupt, i)
		}
		if _, err := io.ReadFull(br, extra); err != nil {
			return fmt.Errorf("%w: central directory record %d is cut short", errCorrupt, i)
		}
		if _, err := br.Discard(commentLen); err != nil {
			return fmt.Errorf("%w: central directory record %d is cut short", errCorrupt, i)
		}
		m.Name = string(name)
		if err := m.applyZip64(extra); err != nil {
			return fmt.Errorf("%w: member %q: %v", errCorrupt, m.Name, err)
		}
		if m.offset < 0 || m.offset >= z.dirOffset {
			return fmt.Errorf("%w: member %q starts at %d, outside the data area", errCorrupt, m.Name, m.offset)
		}
		if err := fn(&m); err != nil {
			return err
		}
	}
	return nil
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// applyZip64 replaces saturated 32-bit fields with their ZIP64 values.
func (m *zipMember) applyZip64(extra []byte) error {
	needU, needC, needO := m.USize == 0xffffffff, m.CSize == 0xffffffff, m.offset == 0xffffffff
	for len(extra) >= 4 {
		tag := binary.LittleEndian.Uint16(extra)
		size := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if size > len(extra) {
			return errors.New("extra field overruns its record")
		}
		field := extra[:size]
		extra = extra[size:]
		if tag != 0x0001 {
			continue
		}
		for _, f := range []struct {
			need bool
			set  func(uint64)
		}{
			{needU, func(v uint64) { m.USize = v }},
			{needC, func(v uint64) { m.CSize = v }},
			{needO, func(v uint64) { m.offset = int64(v) }},
		} {
			if !f.need {
				continue
			}
			if len(field) < 8 {
				return errors.New("short ZIP64 extra field")
			}
			f.set(binary.LittleEndian.Uint64(field))
			field = field[8:]
		}
		return nil
	}
	if needU || needC || needO {
		return errors.New("missing ZIP64 extra field")
	}
	return nil
}

// memberReader reads one member's uncompressed bytes, checking its size and
// CRC-32 at the end.
type memberReader struct {
	r     io.Reader
	fr    io.ReadCloser // the inflater, when deflated
	m     zipMember
	crc   uint32
	n     uint64
	limit int64
	err   error
}

// open returns a reader of m's uncompressed contents. Reading more than
// limit bytes fails with errTooLarge. fr, when not nil, is an inflater from
// an earlier call to reuse.
func (z *zipArchive) open(m *zipMember, limit int64, fr io.ReadCloser) (*memberReader, error) {
	if m.Flags&0x1 != 0 {
		return nil, fmt.Errorf("%w: %q is encrypted", errUnsupported, m.Name)
	}
	if m.Method != methodStore && m.Method != methodDeflate {
		return nil, fmt.Errorf("%w: %q uses compression method %d", errUnsupported, m.Name, m.Method)
	}
	var hdr [lenLocal]byte
	if _, err := z.r.ReadAt(hdr[:], m.offset); err != nil {
		return nil, fmt.Errorf("%w: local header of %q: %v", errCorrupt, m.Name, err)
	}
	if binary.LittleEndian.Uint32(hdr[:]) != sigLocal {
		return nil, fmt.Errorf("%w: bad local header of %q", errCorrupt, m.Name)
	}
	dataAt := m.offset + lenLocal + int64(binary.LittleEndian.Uint16(hdr[26:])) + int64(binary.LittleEndian.Uint16(hdr[28:]))
	if m.CSize > uint64(z.dirOffset) || dataAt+int64(m.CSize) > z.dirOffset {
		return nil, fmt.Errorf("%w: data of %q runs past the data area", errCorrupt, m.Name)
	}
	sr := io.NewSectionReader(z.r, dataAt, int64(m.CSize))
	mr := &memberReader{m: *m, limit: limit}
	switch m.Method {
	case methodStore:
		if m.CSize != m.USize {
			return nil, fmt.Errorf("%w: stored member %q has %d compressed but %d uncompressed bytes", errCorrupt, m.Name, m.CSize, m.USize)
		}
		mr.r = sr
	case methodDeflate:
		if fr == nil {
			fr = flate.NewReader(sr)
		} else if err := fr.(flate.Resetter).Reset(sr, nil); err != nil {
			return nil, err
		}
		mr.fr = fr
		mr.r = fr
	}
	return mr, nil
}

func (mr *memberReader) Read(p []byte) (int, error) {
	if mr.err != nil {
		return 0, mr.err
	}
	n, err := mr.r.Read(p)
	mr.crc = crc32.Update(mr.crc, crc32.IEEETable, p[:n])
	mr.n += uint64(n)
	if mr.limit >= 0 && mr.n > uint64(mr.limit) {
		mr.err = fmt.Errorf("%q: more than %d bytes uncompressed: %w", mr.m.Name, mr.limit, errTooLarge)
		return n, mr.err
	}
	if mr.n > mr.m.USize {
		mr.err = fmt.Errorf("%w: %q inflates past its declared %d bytes", errCorrupt, mr.m.Name, mr.m.USize)
		return n, mr.err
	}
	switch {
	case err == io.EOF:
		if mr.n != mr.m.USize {
			mr.err = fmt.Errorf("%w: %q has %d bytes, its header says %d", errCorrupt, mr.m.Name, mr.n, mr.m.USize)
		} else if mr.crc != mr.m.CRC32 {
			mr.err = fmt.Errorf("%w: %q fails its CRC-32 check", errCorrupt, mr.m.Name)
		} else {
			mr.err = io.EOF
		}
		return n, mr.err
	case err != nil:
		// flate reports a stream cut short as io.ErrUnexpectedEOF and
		// garbage as a CorruptInputError.
		mr.err = fmt.Errorf("%w: %q: %v", errCorrupt, mr.m.Name, err)
		return n, mr.err
	}
	return n, nil
}

// readMember reads all of m into buf (grown as needed) and returns it.
func (z *zipArchive) readMember(m *zipMember, limit int64, buf []byte, fr *io.ReadCloser) ([]byte, error) {
	mr, err := z.open(m, limit, *fr)
	if err != nil {
		return buf[:0], err
	}
	if mr.fr != nil {
		*fr = mr.fr
	}
	// Trust the declared size for the first allocation only up to 1 MiB:
	// it may lie, and the reader enforces it anyway.
	want := min(m.USize, 1<<20)
	if limit >= 0 {
		want = min(want, uint64(limit))
	}
	if uint64(cap(buf)) < want+1 {
		buf = make([]byte, 0, want+1)
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := mr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

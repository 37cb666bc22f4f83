package rpm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// This file checks one RPM header blob before go-rpmdb sees it. go-rpmdb
// v0.1.1 ports rpm's lib/header.c but drops several of its safety checks, so
// a crafted header can make it allocate up to 32 GiB (make([]entryInfo, il)
// before any size check), spin (strtaglen loops `count` times, up to 2^32
// per index entry, when the strings are missing; overlapping entries make it
// walk the same data 65535 times), panic (peList[1:ril] with ril == 0, which
// a zero-filled header from a truncated NDB file triggers), or leak the
// goroutine that feeds it (ListPackages returns on the first bad header and
// leaves the producer blocked on its channel).
//
// checkHeader follows go-rpmdb's headerImport and getNEVRA step by step, with
// the same arithmetic, and rejects every header on which go-rpmdb would fail,
// panic, loop or allocate out of proportion to the input. A header it accepts
// is one go-rpmdb parses without error, in time and memory linear in its size.

// Limits rpm itself enforces (lib/header.c hdrchkTags and hdrchkData): fewer
// than 65536 index entries and less than 16 MiB of data per header.
const (
	maxHeaderEntries = 0xffff
	maxHeaderData    = 16 << 20
	// maxHeaderBlob is the largest blob such a header can occupy.
	maxHeaderBlob = 8 + 16*maxHeaderEntries + maxHeaderData
	// scanFactor bounds the bytes go-rpmdb walks per header to this multiple
	// of the header's data length. Index entries of a real header point at
	// disjoint data, so the walk is about 2 * dl (verify, then import); a
	// crafted header whose 65535 entries all cover the same data would
	// otherwise cost 65535 * dl.
	scanFactor = 4
)

// Header tags (lib/rpmtag.h) and types (rpmTagType_e) that go-rpmdb reads.
const (
	tagHeaderImage      = 61
	tagHeaderSignatures = 62
	tagHeaderImmutable  = 63
	tagHeaderI18NTable  = 100

	tagPGP             = 259
	tagName            = 1000
	tagVersion         = 1001
	tagRelease         = 1002
	tagEpoch           = 1003
	tagSummary         = 1004
	tagInstallTime     = 1008
	tagSize            = 1009
	tagVendor          = 1011
	tagLicense         = 1014
	tagArch            = 1022
	tagFileSizes       = 1028
	tagFileModes       = 1030
	tagFileDigests     = 1035
	tagFileFlags       = 1037
	tagFileUserName    = 1039
	tagFileGroupName   = 1040
	tagSourceRPM       = 1044
	tagProvideName     = 1047
	tagRequireName     = 1049
	tagDirIndexes      = 1116
	tagBaseNames       = 1117
	tagDirNames        = 1118
	tagFileDigestAlgo  = 5011
	tagModularityLabel = 5096

	typeNull        = 0
	typeInt16       = 3
	typeInt32       = 4
	typeString      = 6
	typeBin         = 7
	typeStringArray = 8
	typeI18NString  = 9
	typeMax         = 9

	// regionTagCount is sizeof(entryInfo): the count of a region tag and the
	// size of its trailer.
	regionTagCount = 16
)

// typeSizes and typeAlign are lib/header.c's tables, indexed by type.
var (
	typeSizes = [16]int{0, 1, 1, 2, 4, 8, -1, 1, -1, -1}
	typeAlign = [16]int{1, 1, 1, 2, 4, 8, 1, 1, 1, 1}
)

var errHeader = errors.New("invalid rpm header")

func headerErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errHeader, fmt.Sprintf(format, args...))
}

// entryInfo is one index entry, already converted to host order (go-rpmdb's
// ei2h: the on-disk entries are big-endian).
type entryInfo struct {
	tag    int32
	typ    uint32
	offset int32
	count  uint32
}

func decodeEntry(b []byte) entryInfo {
	return entryInfo{
		tag:    int32(binary.BigEndian.Uint32(b[0:])),
		typ:    binary.BigEndian.Uint32(b[4:]),
		offset: int32(binary.BigEndian.Uint32(b[8:])),
		count:  binary.BigEndian.Uint32(b[12:]),
	}
}

type indexEntry struct {
	info entryInfo
	data []byte
}

type hdrblob struct {
	pe        []entryInfo
	il, dl    int32
	dataStart int32
	dataEnd   int32
	regionTag int32
	ril, rdl  int32
	// scanned counts the bytes strtaglen and regionSwab walk; budget is
	// its limit.
	scanned, budget int
}

// headerStats is what accepting a header costs go-rpmdb downstream.
type headerStats struct {
	// elements is the number of strings go-rpmdb will split out of the
	// header's string arrays; each costs a 16-byte string header however
	// short the string is.
	elements int
}

// checkHeader reports whether go-rpmdb can safely import data, and what it
// will cost.
func checkHeader(data []byte) (headerStats, error) {
	if len(data) < 8 {
		return headerStats{}, headerErrorf("%d bytes, too short", len(data))
	}
	il := int32(binary.BigEndian.Uint32(data[0:]))
	dl := int32(binary.BigEndian.Uint32(data[4:]))
	if il < 1 {
		return headerStats{}, headerErrorf("no index entries")
	}
	// go-rpmdb allocates il entries before it checks anything.
	if il > maxHeaderEntries {
		return headerStats{}, headerErrorf("%d index entries, limit %d", il, maxHeaderEntries)
	}
	if dl < 0 || dl >= maxHeaderData {
		return headerStats{}, headerErrorf("data length %d out of range", dl)
	}
	b := hdrblob{il: il, dl: dl}
	b.dataStart = 8 + il*regionTagCount
	b.dataEnd = b.dataStart + dl
	if int(b.dataEnd) > len(data) {
		return headerStats{}, headerErrorf("truncated: needs %d bytes, has %d", b.dataEnd, len(data))
	}
	b.pe = make([]entryInfo, il)
	for i := range b.pe {
		b.pe[i] = decodeEntry(data[8+i*regionTagCount:])
	}
	b.budget = scanFactor*int(dl) + 4096

	if err := b.verifyRegion(data); err != nil {
		return headerStats{}, err
	}
	if err := b.verifyInfo(data); err != nil {
		return headerStats{}, err
	}
	entries, err := b.importEntries(data)
	if err != nil {
		return headerStats{}, err
	}
	return checkNEVRA(entries)
}

// verifyRegion is go-rpmdb's hdrblobVerifyRegion.
func (b *hdrblob) verifyRegion(data []byte) error {
	einfo := b.pe[0]
	var regionTag int32
	if einfo.tag == tagHeaderImage || einfo.tag == tagHeaderSignatures || einfo.tag == tagHeaderImmutable {
		regionTag = einfo.tag
	}
	if einfo.tag != regionTag {
		return nil
	}
	if einfo.typ != typeBin || einfo.count != regionTagCount {
		return headerErrorf("invalid region tag")
	}
	if outOfRange(b.dl, einfo.offset+regionTagCount) {
		return headerErrorf("invalid region offset")
	}
	regionEnd := b.dataStart + einfo.offset
	if regionEnd < 0 || regionEnd > int32(len(data)) || regionEnd+regionTagCount > int32(len(data)) {
		return headerErrorf("invalid region offset")
	}
	trailer := decodeEntry(data[regionEnd:])
	b.rdl = regionEnd + regionTagCount - b.dataStart
	off := -trailer.offset
	b.ril = off / regionTagCount
	if off%regionTagCount != 0 || outOfRange(b.il, b.ril) || outOfRange(b.dl, b.rdl) {
		return headerErrorf("invalid region size, region %d", regionTag)
	}
	b.regionTag = regionTag
	return nil
}

// verifyInfo is go-rpmdb's hdrblobVerifyInfo. (Its offset-ordering check
// compares against a variable that is always 0, so it only rejects negative
// offsets; we do the same.)
func (b *hdrblob) verifyInfo(data []byte) error {
	pe := b.pe
	if b.regionTag != 0 {
		pe = pe[1:]
	}
	for _, info := range pe {
		switch {
		case info.offset < 0:
			return headerErrorf("invalid offset %d", info.offset)
		case info.tag < tagHeaderI18NTable:
			return headerErrorf("invalid tag %d", info.tag)
		case info.typ > typeMax:
			return headerErrorf("invalid type %d", info.typ)
		case info.offset&int32(typeAlign[info.typ]-1) != 0:
			return headerErrorf("misaligned offset %d for type %d", info.offset, info.typ)
		case outOfRange(b.dl, info.offset):
			return headerErrorf("offset %d out of range", info.offset)
		}
		length := b.dataLength(data, info.typ, info.count, b.dataStart+info.offset)
		if length <= 0 || outOfRange(b.dl, info.offset+int32(length)) {
			return headerErrorf("invalid data length for tag %d", info.tag)
		}
		if err := b.spend(length); err != nil {
			return err
		}
	}
	return nil
}

// importEntries is go-rpmdb's hdrblobImport.
func (b *hdrblob) importEntries(data []byte) ([]indexEntry, error) {
	var (
		entries []indexEntry
		rdlen   int32
		err     error
	)
	if first := b.pe[0]; first.tag >= tagHeaderI18NTable {
		// An original v3 header without a region.
		entries, rdlen, err = b.regionSwab(data, b.pe, 0)
		if err != nil {
			return nil, err
		}
	} else {
		ril := b.ril
		if first.offset == 0 {
			ril = b.il
		}
		// go-rpmdb slices pe[1:ril] and panics when ril is 0.
		if ril < 1 || int(ril) > len(b.pe) {
			return nil, headerErrorf("invalid region entry count %d", ril)
		}
		entries, rdlen, err = b.regionSwab(data, b.pe[1:ril], 0)
		if err != nil {
			return nil, err
		}
		if rdlen < 0 {
			return nil, headerErrorf("invalid region length")
		}
		if b.ril < int32(len(b.pe)-1) {
			var dribble []indexEntry
			dribble, rdlen, err = b.regionSwab(data, b.pe[ril:], rdlen)
			if err != nil {
				return nil, err
			}
			if rdlen < 0 {
				return nil, headerErrorf("invalid length of dribble entries")
			}
			// go-rpmdb keeps the last entry of each tag.
			last := make(map[int32]int, len(entries)+len(dribble))
			all := append(entries, dribble...)
			for i, e := range all {
				last[e.info.tag] = i
			}
			entries = entries[:0:0]
			for i, e := range all {
				if last[e.info.tag] == i {
					entries = append(entries, e)
				}
			}
		}
		rdlen += regionTagCount
	}
	if rdlen != b.dl {
		return nil, headerErrorf("computed data length %d differs from %d", rdlen, b.dl)
	}
	return entries, nil
}

// regionSwab is go-rpmdb's regionSwab.
func (b *hdrblob) regionSwab(data []byte, pe []entryInfo, dl int32) ([]indexEntry, int32, error) {
	out := make([]indexEntry, len(pe))
	for i, info := range pe {
		if info.typ > typeMax {
			return nil, 0, headerErrorf("invalid type %d", info.typ)
		}
		start := b.dataStart + info.offset
		if start >= b.dataEnd {
			return nil, 0, headerErrorf("invalid data offset")
		}
		var length int
		if i < len(pe)-1 && typeSizes[info.typ] == -1 {
			length = int(pe[i+1].offset - info.offset)
		} else {
			length = b.dataLength(data, info.typ, info.count, start)
		}
		if length < 0 {
			return nil, 0, headerErrorf("invalid data length")
		}
		end := int(start) + length
		if start < 0 || start > int32(len(data)) || end > len(data) {
			return nil, 0, headerErrorf("invalid data length")
		}
		if err := b.spend(length); err != nil {
			return nil, 0, err
		}
		out[i] = indexEntry{info: info, data: data[start:end]}
		dl += int32(length + alignDiff(info.typ, uint32(dl)))
	}
	return out, dl, nil
}

func (b *hdrblob) spend(n int) error {
	b.scanned += n
	if b.scanned > b.budget {
		return headerErrorf("index entries overlap: %d bytes to walk for %d bytes of data", b.scanned, b.dl)
	}
	return nil
}

// dataLength is go-rpmdb's dataLength, with the fixed-size product computed
// without overflow (go-rpmdb truncates it to int32; we reject any length that
// does not fit, which go-rpmdb would reject a step later).
func (b *hdrblob) dataLength(data []byte, typ, count uint32, start int32) int {
	switch typ {
	case typeString:
		if count != 1 {
			return -1
		}
		return strtaglen(data, 1, start, b.dataEnd)
	case typeStringArray, typeI18NString:
		return strtaglen(data, count, start, b.dataEnd)
	default:
		if typeSizes[typ&0xf] == -1 {
			return -1
		}
		length := int64(typeSizes[typ&0xf]) * int64(count)
		if b.dataEnd > 0 && int64(start)+length > int64(b.dataEnd) {
			return -1
		}
		return int(length)
	}
}

// strtaglen returns the length of count NUL-terminated strings at start, or
// -1. go-rpmdb's version keeps looping (count can be 2^32-1) after it runs
// out of strings; rpm's returns -1 there, and so do we.
func strtaglen(data []byte, count uint32, start, dataEnd int32) int {
	if start < 0 || start >= dataEnd || int(dataEnd) > len(data) {
		return -1
	}
	length := 0
	for c := count; c > 0; c-- {
		i := bytes.IndexByte(data[int(start)+length:dataEnd], 0)
		if i < 0 {
			return -1
		}
		length += i + 1
	}
	return length
}

func alignDiff(typ, alignSize uint32) int {
	if size := typeSizes[typ]; size > 1 {
		if diff := size - int(alignSize)%size; diff != size {
			return diff
		}
	}
	return 0
}

func outOfRange(dl, offset int32) bool { return offset < 0 || offset > dl }

// checkNEVRA mirrors the checks go-rpmdb's getNEVRA makes on each tag it
// reads, so that a header we accept does not fail there (a failure there
// leaks go-rpmdb's reader goroutine), and counts the strings it will split.
func checkNEVRA(entries []indexEntry) (headerStats, error) {
	var st headerStats
	for _, e := range entries {
		want := -1
		switch e.info.tag {
		case tagDirIndexes, tagFileSizes, tagFileFlags:
			want = typeInt32
		case tagEpoch, tagSize, tagFileDigestAlgo, tagInstallTime:
			want = typeInt32
			if len(e.data) < 4 {
				return st, headerErrorf("tag %d: %d bytes for an int32", e.info.tag, len(e.data))
			}
		case tagFileModes:
			want = typeInt16
		case tagName, tagVersion, tagRelease, tagArch, tagSourceRPM, tagLicense, tagVendor, tagModularityLabel:
			want = typeString
		case tagDirNames, tagBaseNames, tagProvideName, tagRequireName, tagFileDigests, tagFileUserName, tagFileGroupName:
			want = typeStringArray
			st.elements += bytes.Count(bytes.TrimRight(e.data, "\x00"), []byte{0}) + 1
		case tagSummary:
			if e.info.typ != typeI18NString && e.info.typ != typeString {
				return st, headerErrorf("tag %d has type %d", e.info.tag, e.info.typ)
			}
			st.elements += bytes.Count(e.data, []byte{0}) + 1
		case tagPGP:
			want = typeBin
			if err := checkPGP(e.data); err != nil {
				return st, err
			}
		}
		if want >= 0 && e.info.typ != uint32(want) {
			return st, headerErrorf("tag %d has type %d, want %d", e.info.tag, e.info.typ, want)
		}
	}
	return st, nil
}

// checkPGP mirrors the reads go-rpmdb makes of an RPMTAG_PGP signature.
func checkPGP(d []byte) error {
	if len(d) < 3 {
		return headerErrorf("PGP signature of %d bytes", len(d))
	}
	const (
		pgpSig  = 17 // [3]byte, int32, [8]byte, uint8, uint8
		textSig = 24 // [2]byte, uint8, uint8, [4]byte, int32, [4]byte, [8]byte
		pgp4Sig = 35 // [2]byte, uint8, uint8, [17]byte, [8]byte, [2]byte, int32
	)
	need := 0
	switch sigType, version := d[1], d[2]; sigType {
	case 0x01:
		need = pgpSig
		if version == 0x1c {
			need = textSig
		}
	case 0x02:
		need = pgpSig
		if version == 0x33 {
			need = pgp4Sig
		}
	}
	if len(d)-3 < need {
		return headerErrorf("PGP signature of %d bytes, need %d", len(d), need+3)
	}
	return nil
}

package rpm

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
)

// The real databases come from go-rpmdb's own test data, found in the module
// cache rather than copied here.
var (
	fixtureOnce sync.Once
	fixtureDir  string
	fixtureErr  error
)

func fixture(tb testing.TB, name string) string {
	tb.Helper()
	fixtureOnce.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/knqyf263/go-rpmdb").Output()
		if err != nil {
			fixtureErr = err
			return
		}
		fixtureDir = filepath.Join(strings.TrimSpace(string(out)), "pkg", "testdata")
	})
	if fixtureErr != nil || fixtureDir == "" {
		tb.Fatalf("locate go-rpmdb's testdata with go list -m: %v", fixtureErr)
	}
	return filepath.Join(fixtureDir, name)
}

func readFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(fixture(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// analyze runs the analyzer on data as if the core had found it at path, and
// checks that it left nothing in its temp dir.
func analyze(tb testing.TB, ctx context.Context, path string, data []byte) (*analyzer.Result, error) {
	tb.Helper()
	tmp := tb.TempDir()
	res, err := New().Analyze(ctx, analyzer.Input{
		Path:    path,
		Content: bytes.NewReader(data),
		TempDir: tmp,
	})
	left, _ := os.ReadDir(tmp)
	if len(left) != 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		tb.Errorf("temp dir not cleaned up: %v", names)
	}
	return res, err
}

// ---- building rpm headers and databases by hand ----

type testEntry struct {
	tag   int32
	typ   uint32
	count uint32
	data  []byte
}

func str(tag int32, s string) testEntry {
	return testEntry{tag: tag, typ: typeString, count: 1, data: append([]byte(s), 0)}
}

func strArray(tag int32, ss ...string) testEntry {
	var d []byte
	for _, s := range ss {
		d = append(append(d, s...), 0)
	}
	return testEntry{tag: tag, typ: typeStringArray, count: uint32(len(ss)), data: d}
}

func i32(tag int32, vs ...int32) testEntry {
	d := make([]byte, 4*len(vs))
	for i, v := range vs {
		binary.BigEndian.PutUint32(d[4*i:], uint32(v))
	}
	return testEntry{tag: tag, typ: typeInt32, count: uint32(len(vs)), data: d}
}

// buildHeader lays out a v4 header the way rpm writes one: an immutable
// region tag first, the entries' data aligned by type, and the region
// trailer last.
func buildHeader(entries ...testEntry) []byte {
	var data []byte
	offsets := make([]int, len(entries))
	for i, e := range entries {
		data = append(data, make([]byte, pad(e.typ, len(data)))...)
		offsets[i] = len(data)
		data = append(data, e.data...)
	}
	il := len(entries) + 1
	trailer := make([]byte, 16)
	putEntry(trailer, tagHeaderImmutable, typeBin, int32(-16*il), 16)
	regionOffset := len(data)
	data = append(data, trailer...)

	out := make([]byte, 8+16*il, 8+16*il+len(data))
	binary.BigEndian.PutUint32(out[0:], uint32(il))
	binary.BigEndian.PutUint32(out[4:], uint32(len(data)))
	putEntry(out[8:], tagHeaderImmutable, typeBin, int32(regionOffset), 16)
	for i, e := range entries {
		putEntry(out[8+16*(i+1):], e.tag, e.typ, int32(offsets[i]), e.count)
	}
	return append(out, data...)
}

// pad is the alignment rpm puts before data of typ at offset n.
func pad(typ uint32, n int) int {
	if typ > typeMax {
		return 0
	}
	return alignDiff(typ, uint32(n))
}

func putEntry(b []byte, tag int32, typ uint32, offset int32, count uint32) {
	binary.BigEndian.PutUint32(b[0:], uint32(tag))
	binary.BigEndian.PutUint32(b[4:], typ)
	binary.BigEndian.PutUint32(b[8:], uint32(offset))
	binary.BigEndian.PutUint32(b[12:], count)
}

// pkgHeader is a plausible header of one package.
func pkgHeader(name, version, release string) []byte {
	return buildHeader(
		str(tagName, name),
		str(tagVersion, version),
		str(tagRelease, release),
		i32(tagSize, 35104),
		str(tagLicense, "BSD"),
		str(tagArch, "x86_64"),
		str(tagSourceRPM, "util-linux-2.32.1-42.el8_8.src.rpm"),
		strArray(tagBaseNames, "libuuid.so.1", "libuuid.so.1.3.0"),
	)
}

// buildNDB wraps header blobs in an NDB Packages.db (one slot page).
func buildNDB(blobs ...[]byte) []byte {
	out := make([]byte, 4096)
	binary.LittleEndian.PutUint32(out[0:], ndbHeaderMagic)
	binary.LittleEndian.PutUint32(out[12:], 1) // slot pages
	for i := 0; i < ndbSlotsPage-2; i++ {
		binary.LittleEndian.PutUint32(out[32+16*i:], ndbSlotMagic)
	}
	for i, blob := range blobs {
		slot := out[32+16*i:]
		blk := len(out) / 16
		binary.LittleEndian.PutUint32(slot[4:], uint32(i+1))
		binary.LittleEndian.PutUint32(slot[8:], uint32(blk))
		binary.LittleEndian.PutUint32(slot[12:], uint32((16+len(blob)+15)/16))
		hdr := make([]byte, 16)
		binary.LittleEndian.PutUint32(hdr[0:], ndbBlobMagic)
		binary.LittleEndian.PutUint32(hdr[4:], uint32(i+1))
		binary.LittleEndian.PutUint32(hdr[12:], uint32(len(blob)))
		out = append(append(out, hdr...), blob...)
		out = append(out, make([]byte, (16-len(out)%16)%16)...)
	}
	return out
}

// buildSQLite writes an rpmdb.sqlite with the given schema for Packages
// (empty: rpm's own) holding blobs, and returns its bytes.
func buildSQLite(tb testing.TB, schema string, blobs ...[]byte) []byte {
	tb.Helper()
	if schema == "" {
		schema = "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)"
	}
	path := filepath.Join(tb.TempDir(), "rpmdb.sqlite")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range strings.Split(schema, ";") {
		if _, err := db.Exec(stmt); err != nil {
			tb.Fatalf("%s: %v", stmt, err)
		}
	}
	for _, b := range blobs {
		if _, err := db.Exec("INSERT INTO Packages (blob) VALUES (?)", b); err != nil {
			tb.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		tb.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// ndbBlobs extracts the header blobs of a well-formed NDB database.
func ndbBlobs(tb testing.TB, db []byte) [][]byte {
	tb.Helper()
	var out [][]byte
	pages := int(binary.LittleEndian.Uint32(db[12:]))
	for off := 32; off < pages*4096; off += 16 {
		if binary.LittleEndian.Uint32(db[off+4:]) == 0 {
			continue
		}
		blk := int(binary.LittleEndian.Uint32(db[off+8:])) * 16
		n := int(binary.LittleEndian.Uint32(db[blk+12:]))
		out = append(out, db[blk+16:blk+16+n])
	}
	return out
}

// bdbPages lays out a little-endian Berkeley DB hash database holding blobs:
// page 0 metadata, page 1 one hash page whose values point at overflow
// chains, then the chains. Tests patch pages before joining them.
func bdbPages(pageSize int, blobs ...[]byte) [][]byte {
	meta := make([]byte, pageSize)
	binary.LittleEndian.PutUint32(meta[12:], bdbHashMagic)
	binary.LittleEndian.PutUint32(meta[16:], 9) // hash version
	binary.LittleEndian.PutUint32(meta[20:], uint32(pageSize))
	meta[25] = bdbHashMetaPage

	hash := make([]byte, pageSize)
	hash[25] = bdbHashPage
	binary.LittleEndian.PutUint16(hash[20:], uint16(2*len(blobs)))
	pages := [][]byte{meta, hash}

	end := pageSize
	for i, blob := range blobs {
		// key item: H_KEYDATA with a 4-byte header number
		end -= 5
		hash[end] = 1
		binary.LittleEndian.PutUint32(hash[end+1:], uint32(i+1))
		binary.LittleEndian.PutUint16(hash[26+4*i:], uint16(end))
		// value item: HOFFPAGE pointing at the chain
		end -= bdbOffPageSize
		hash[end] = bdbOffPageEntry
		binary.LittleEndian.PutUint32(hash[end+4:], uint32(len(pages)))
		binary.LittleEndian.PutUint32(hash[end+8:], uint32(len(blob)))
		binary.LittleEndian.PutUint16(hash[26+4*i+2:], uint16(end))

		room := pageSize - bdbPageHeaderSize
		for off := 0; off < len(blob) || off == 0; off += room {
			p := make([]byte, pageSize)
			p[25] = bdbOverflowPage
			n := copy(p[bdbPageHeaderSize:], blob[off:])
			if off+room < len(blob) {
				binary.LittleEndian.PutUint32(p[16:], uint32(len(pages)+1))
			} else {
				binary.LittleEndian.PutUint16(p[22:], uint16(n))
			}
			pages = append(pages, p)
		}
	}
	return pages
}

// joinPages sets the metadata's last page number and concatenates pages.
func joinPages(pages [][]byte) []byte {
	binary.LittleEndian.PutUint32(pages[0][32:], uint32(len(pages)-1))
	var out []byte
	for _, p := range pages {
		out = append(out, p...)
	}
	return out
}

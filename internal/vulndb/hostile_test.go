package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/flate"
)

// Malformed records are skipped with a counted warning; the rest goes in.
func TestImportMalformedRecords(t *testing.T) {
	good := adv{id: "GOOD-1", pkgs: []string{"npm/a"}}
	bad := map[string]string{
		"syntax.json":      `{"id": "S-1", "modified": `,
		"trailing.json":    `{"id": "T-1"} {"id": "T-2"}`,
		"wrongtype.json":   `{"id": "W-1", "affected": {"package": "npm"}}`,
		"noid.json":        `{"modified": "2024-01-01T00:00:00Z"}`,
		"numid.json":       `{"id": 7}`,
		"ctrlid.json":      `{"id": "C-1\u001b[31m"}`,
		"ctrlname.json":    `{"id": "C-2", "affected": [{"package": {"ecosystem": "npm", "name": "a\nb"}}]}`,
		"longname.json":    `{"id": "L-1", "affected": [{"package": {"ecosystem": "npm", "name": "` + strings.Repeat("x", 5000) + `"}}]}`,
		"array.json":       `[{"id": "A-1"}]`,
		"empty.json":       ``,
		"null.json":        `null`,
		"nested-deep.json": strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
	}
	members := []member{{name: "GOOD-1.json", data: good.json()}}
	for name, data := range bad {
		members = append(members, member{name: name, data: []byte(data)})
	}
	dir := t.TempDir()
	st := testImport(t, dir, writeZip(t, filepath.Join(t.TempDir(), "all.zip"), members...))
	if st.Records != 1 || st.Skipped != len(bad) || len(st.Warnings) != len(bad) {
		t.Errorf("stats = %+v, want 1 record and %d skipped with warnings", st, len(bad))
	}
	// Not on the list: an unreadable timestamp (osv.Vulnerability reads it
	// as the zero time) and invalid UTF-8 (encoding/json replaces it).
	for _, w := range st.Warnings {
		if !strings.Contains(w, "all.zip:") {
			t.Errorf("warning %q does not say where the record is", w)
		}
	}
	if got := lookupIDs(t, openDB(t, dir), "npm", "a"); !cmp.Equal(got, []string{"GOOD-1"}) {
		t.Errorf("Lookup = %v", got)
	}
}

// An advisory listing 100,000 versions goes in and comes out whole, in
// bounded time; one past MaxRecordValues is skipped.
func TestImportManyVersions(t *testing.T) {
	versions := make([]string, 100_000)
	for i := range versions {
		versions[i] = fmt.Sprintf("1.%d.%d", i/1000, i%1000)
	}
	big := adv{id: "BIG-1", pkgs: []string{"PyPI/big"}, versions: versions}
	huge := make([]string, DefaultLimits.MaxRecordValues+1)
	for i := range huge {
		huge[i] = "1"
	}
	dir := t.TempDir()
	start := time.Now()
	st := testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "all.zip"),
		big, adv{id: "HUGE-1", pkgs: []string{"PyPI/huge"}, versions: huge}))
	t.Logf("import of a 100,000-version and a %d-version advisory: %v", len(huge), time.Since(start))
	if st.Records != 1 || st.Skipped != 1 || !strings.Contains(st.Warnings[0], "HUGE-1.json: too large") {
		t.Errorf("stats = %+v, want BIG-1 in and HUGE-1 skipped as too large", st)
	}
	db := openDB(t, dir)
	start = time.Now()
	vs, err := db.Lookup(context.Background(), "PyPI", "big")
	if err != nil || len(vs) != 1 || len(vs[0].Affected[0].Versions) != len(versions) {
		t.Fatalf("Lookup = %d records, %v; want BIG-1 with all its versions", len(vs), err)
	}
	t.Logf("lookup of the 100,000-version advisory: %v", time.Since(start))
}

func TestImportTooManyPackages(t *testing.T) {
	var pkgs []string
	for i := range 11 {
		pkgs = append(pkgs, fmt.Sprintf("npm/p%d", i))
	}
	dir := t.TempDir()
	st, err := Import(context.Background(), dir, []string{
		exportZip(t, filepath.Join(t.TempDir(), "all.zip"), adv{id: "OK-1", pkgs: pkgs[:10]}, adv{id: "WIDE-1", pkgs: pkgs}),
	}, ImportOptions{Limits: Limits{MaxPackages: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 1 || st.Skipped != 1 || !strings.Contains(st.Warnings[0], "11 packages (limit 10)") {
		t.Errorf("stats = %+v, want WIDE-1 skipped", st)
	}
}

// rawZip assembles a zip by hand so tests can make it lie.
type rawZip struct {
	buf     bytes.Buffer
	central bytes.Buffer
	n       int
}

// add writes a local header and data, and a central record pointing at it.
func (z *rawZip) add(name string, method uint16, data []byte, crc uint32, usize uint64) int64 {
	off := int64(z.buf.Len())
	var h [30]byte
	binary.LittleEndian.PutUint32(h[0:], sigLocal)
	binary.LittleEndian.PutUint16(h[4:], 20)
	binary.LittleEndian.PutUint16(h[8:], method)
	binary.LittleEndian.PutUint32(h[14:], crc)
	binary.LittleEndian.PutUint32(h[18:], uint32(len(data)))
	binary.LittleEndian.PutUint32(h[22:], uint32(usize))
	binary.LittleEndian.PutUint16(h[26:], uint16(len(name)))
	z.buf.Write(h[:])
	z.buf.WriteString(name)
	z.buf.Write(data)
	z.addCentral(name, method, uint64(len(data)), crc, usize, off)
	return off
}

// addCentral adds a central record only, for members sharing data.
func (z *rawZip) addCentral(name string, method uint16, csize uint64, crc uint32, usize uint64, off int64) {
	var h [46]byte
	binary.LittleEndian.PutUint32(h[0:], sigCentral)
	binary.LittleEndian.PutUint16(h[4:], 20)
	binary.LittleEndian.PutUint16(h[6:], 20)
	binary.LittleEndian.PutUint16(h[10:], method)
	binary.LittleEndian.PutUint32(h[16:], crc)
	binary.LittleEndian.PutUint32(h[20:], uint32(csize))
	binary.LittleEndian.PutUint32(h[24:], uint32(usize))
	binary.LittleEndian.PutUint16(h[28:], uint16(len(name)))
	binary.LittleEndian.PutUint32(h[42:], uint32(off))
	z.central.Write(h[:])
	z.central.WriteString(name)
	z.n++
}

func (z *rawZip) bytes() []byte {
	out := bytes.Clone(z.buf.Bytes())
	dirOff := len(out)
	out = append(out, z.central.Bytes()...)
	var e [22]byte
	binary.LittleEndian.PutUint32(e[0:], sigEnd)
	binary.LittleEndian.PutUint16(e[8:], uint16(z.n))
	binary.LittleEndian.PutUint16(e[10:], uint16(z.n))
	binary.LittleEndian.PutUint32(e[12:], uint32(z.central.Len()))
	binary.LittleEndian.PutUint32(e[16:], uint32(dirOff))
	return append(out, e[:]...)
}

func deflate(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w, err := flate.NewWriter(&b, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	w.Close()
	return b.Bytes()
}

// Zip bombs posing as all.zip fail fast, before inflating much, and leave
// the DB alone.
func TestImportZipBombs(t *testing.T) {
	tenMiB := bytes.Repeat([]byte(" "), 10<<20) // valid JSON whitespace
	tenMiBz := deflate(t, tenMiB)
	tenMiBcrc := crc32.ChecksumIEEE(tenMiB)
	good := adv{id: "GOOD-1", pkgs: []string{"npm/a"}}

	for _, tc := range []struct {
		name    string
		zip     func() []byte
		wantErr string // "" for success with skips
		skipped int
	}{
		{"many members inflating 1000-fold", func() []byte {
			var z rawZip
			z.add("GOOD-1.json", methodStore, good.json(), crc32.ChecksumIEEE(good.json()), uint64(len(good.json())))
			for i := range 100 {
				z.add(fmt.Sprintf("B-%d.json", i), methodDeflate, tenMiBz, tenMiBcrc, uint64(len(tenMiB)))
			}
			return z.bytes()
		}, "zip bomb", 0},
		{"overlapping members sharing one payload", func() []byte {
			var z rawZip
			off := z.add("B-0.json", methodDeflate, tenMiBz, tenMiBcrc, uint64(len(tenMiB)))
			for i := 1; i < 10_000; i++ {
				z.addCentral(fmt.Sprintf("B-%d.json", i), methodDeflate, uint64(len(tenMiBz)), tenMiBcrc, uint64(len(tenMiB)), off)
			}
			return z.bytes()
		}, "zip bomb", 0},
		{"member inflating past its declared size", func() []byte {
			var z rawZip
			z.add("LIAR.json", methodDeflate, tenMiBz, tenMiBcrc, 100)
			return z.bytes()
		}, "inflates past its declared 100 bytes", 0},
		{"member declaring more than MaxRecordBytes is skipped unread", func() []byte {
			var z rawZip
			z.add("GOOD-1.json", methodStore, good.json(), crc32.ChecksumIEEE(good.json()), uint64(len(good.json())))
			z.add("GIANT.json", methodDeflate, []byte("not even deflate"), 0, 1<<31)
			return z.bytes()
		}, "", 1},
		{"encrypted member is skipped", func() []byte {
			var z rawZip
			z.add("GOOD-1.json", methodStore, good.json(), crc32.ChecksumIEEE(good.json()), uint64(len(good.json())))
			z.add("SECRET.json", 99, []byte("xx"), 0, 2) // method 99: AES
			return z.bytes()
		}, "", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "all.zip"), adv{id: "OLD-1", pkgs: []string{"npm/old"}}))
			before, _ := os.ReadFile(Path(dir))
			path := writeFile(t, filepath.Join(t.TempDir(), "npm", "all.zip"), tc.zip())
			start := time.Now()
			st, err := Import(context.Background(), dir, []string{path}, ImportOptions{})
			if took := time.Since(start); took > 20*time.Second {
				t.Errorf("took %v", took)
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Import = %v, want an error containing %q", err, tc.wantErr)
				}
				after, _ := os.ReadFile(Path(dir))
				if !bytes.Equal(before, after) {
					t.Error("the DB changed")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if st.Skipped != tc.skipped || st.Records != 1 {
				t.Errorf("stats = %+v, want 1 record, %d skipped", st, tc.skipped)
			}
		})
	}
}

// A limit on the archive total fails an import that passes the ratio.
func TestImportMaxArchiveBytes(t *testing.T) {
	var advs []adv
	for i := range 50 {
		advs = append(advs, adv{id: fmt.Sprintf("A-%d", i), pkgs: []string{"npm/a"}})
	}
	_, err := Import(context.Background(), t.TempDir(), []string{exportZip(t, filepath.Join(t.TempDir(), "all.zip"), advs...)},
		ImportOptions{Limits: Limits{MaxArchiveBytes: 10_000, MaxRecordBytes: 1_000}})
	if err == nil || !strings.Contains(err.Error(), "more than 10000 bytes uncompressed") {
		t.Fatalf("Import = %v, want the archive limit", err)
	}
}

// Truncated or damaged archives fail with a clear error and change
// nothing.
func TestImportDamagedZip(t *testing.T) {
	var advs []adv
	for i := range 200 {
		advs = append(advs, adv{id: fmt.Sprintf("A-%03d", i), pkgs: []string{"npm/a"}, summary: strings.Repeat("words ", i)})
	}
	src := t.TempDir()
	full, err := os.ReadFile(exportZip(t, filepath.Join(src, "full.zip"), advs...))
	if err != nil {
		t.Fatal(err)
	}
	stored := func() []byte {
		var z rawZip
		d := advs[0].json()
		z.add("A.json", methodStore, d, crc32.ChecksumIEEE(d), uint64(len(d)))
		b := z.bytes()
		b[40] ^= 0x20 // flip a bit of the data
		return b
	}()
	zr, err := zip.NewReader(bytes.NewReader(full), int64(len(full)))
	if err != nil {
		t.Fatal(err)
	}
	dataOff, err := zr.File[100].DataOffset()
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(full)
	flipped[dataOff+5] ^= 0xff

	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"cut in half", full[:len(full)/2], "no end of central directory"},
		{"last byte missing", full[:len(full)-1], "no end of central directory"},
		{"cut inside the central directory", append(bytes.Clone(full[:len(full)-200]), full[len(full)-22:]...), "corrupt zip"},
		{"only 10 bytes", full[:10], "too short"},
		{"empty", nil, "too short"},
		{"bit flipped in stored data", stored, "CRC-32"},
		{"byte flipped in deflated data", flipped, "corrupt zip"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "all.zip"), adv{id: "OLD-1", pkgs: []string{"npm/old"}}))
			_, err := Import(context.Background(), dir, []string{writeFile(t, filepath.Join(t.TempDir(), "all.zip"), tc.data)}, ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "copy or download it again") {
				t.Fatalf("Import = %v, want an error containing %q and the way out", err, tc.wantErr)
			}
			if got := lookupIDs(t, openDB(t, dir), "npm", "old"); !cmp.Equal(got, []string{"OLD-1"}) {
				t.Errorf("old DB after a damaged import: %v", got)
			}
		})
	}
}

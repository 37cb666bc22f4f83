package rpm

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
)

// Every case here is input on which go-rpmdb v0.1.1, called directly, would
// panic (some in its own goroutine, killing the process), hang, allocate
// gigabytes, or fail in a way that leaks its reader goroutine. The analyzer
// must return an error quickly, with little memory, and clean up.

func TestAnalyzeCorrupt(t *testing.T) {
	garbage := make([]byte, 64<<10)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	half := func(b []byte) []byte { return b[:len(b)/2] }
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"empty", nil, "too short"},
		{"tiny", []byte("RpmP"), "too short"},
		{"random bytes", garbage, "bad magic"},
		{"text file", bytes.Repeat([]byte("P:musl\nV:1.2.5-r0\n\n"), 100), "bad magic"},
		{"truncated Berkeley DB", half(readFixture(t, "centos7-plain/Packages")), "truncated"},
		{"truncated big-endian Berkeley DB", half(readFixture(t, "ubi8-s390x/Packages")), "truncated"},
		{"truncated NDB", half(readFixture(t, "sle15-bci/Packages.db")), "does not fit"},
		{"truncated SQLite", half(readFixture(t, "fedora35/rpmdb.sqlite")), "sqlite"},
		{"NDB slot pages cut", readFixture(t, "sle15-bci/Packages.db")[:3000], "slot pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRejected(t, tt.data, tt.wantErr)
		})
	}
}

func TestAnalyzeHostileBDB(t *testing.T) {
	blob := pkgHeader("libuuid", "2.32.1", "42.el8_8")
	le := binary.LittleEndian
	tests := []struct {
		name    string
		patch   func(p [][]byte) [][]byte
		wantErr string
	}{
		{
			// go-rpmdb: index out of range in its reader goroutine.
			name: "value offset outside the page",
			patch: func(p [][]byte) [][]byte {
				le.PutUint16(p[1][26+2:], 0xfff0)
				return p
			},
			wantErr: "outside the page",
		},
		{
			// go-rpmdb: slice bounds out of range in its reader goroutine.
			name: "hash entry count past the page",
			patch: func(p [][]byte) [][]byte {
				le.PutUint16(p[1][20:], 0xfffe)
				return p
			},
			wantErr: "overflow the page",
		},
		{
			name: "odd hash entry count",
			patch: func(p [][]byte) [][]byte {
				le.PutUint16(p[1][20:], 3)
				return p
			},
			wantErr: "odd number",
		},
		{
			// go-rpmdb: re-reads the same page forever.
			name: "overflow chain reaches a hash page",
			patch: func(p [][]byte) [][]byte {
				le.PutUint32(p[2][16:], 1)
				return p
			},
			wantErr: "has type 13",
		},
		{
			// go-rpmdb: appends the page to the value forever.
			name: "cyclic overflow chain",
			patch: func(p [][]byte) [][]byte {
				le.PutUint32(p[2][16:], 2)
				return p
			},
			wantErr: "used twice",
		},
		{
			// go-rpmdb: reads the same chain once per entry, so a page
			// of entries multiplies the file.
			name: "two values share a chain",
			patch: func(p [][]byte) [][]byte {
				le.PutUint16(p[1][20:], 4)
				le.PutUint16(p[1][26+4:], le.Uint16(p[1][26:]))
				le.PutUint16(p[1][26+6:], le.Uint16(p[1][26+2:]))
				return p
			},
			wantErr: "used twice",
		},
		{
			// go-rpmdb: slice bounds out of range in its goroutine.
			name: "overflow length past the page",
			patch: func(p [][]byte) [][]byte {
				le.PutUint16(p[2][22:], 0xffff)
				return p
			},
			wantErr: "exceeds the page",
		},
		{
			name: "overflow page past the end",
			patch: func(p [][]byte) [][]byte {
				le.PutUint32(p[2][16:], 0x7fffffff)
				return p
			},
			wantErr: "outside the file",
		},
		{
			name: "last page number past the end",
			patch: func(p [][]byte) [][]byte {
				joinPages(p)
				le.PutUint32(p[0][32:], 0xffffffff)
				return p
			},
			wantErr: "truncated",
		},
		{
			name: "encrypted",
			patch: func(p [][]byte) [][]byte {
				p[0][24] = 1
				return p
			},
			wantErr: "encrypted",
		},
		{
			name: "odd page size",
			patch: func(p [][]byte) [][]byte {
				le.PutUint32(p[0][20:], 1000)
				return p
			},
			wantErr: "page size",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages := tt.patch(bdbPages(512, blob))
			// joinPages sets the last page number; keep a patched one.
			last := le.Uint32(pages[0][32:])
			data := joinPages(pages)
			if last != 0 {
				le.PutUint32(data[32:], last)
			}
			checkRejected(t, data, tt.wantErr)
		})
	}
}

func TestAnalyzeHostileNDB(t *testing.T) {
	le := binary.LittleEndian
	blob := pkgHeader("libuuid", "2.32.1", "42.el8_8")
	tests := []struct {
		name    string
		data    func() []byte
		wantErr string
	}{
		{
			// go-rpmdb: make([]byte, 4 GiB).
			name: "blob length of 4 GiB",
			data: func() []byte {
				d := buildNDB(blob)
				le.PutUint32(d[4096+12:], 0xfffffff0)
				return d
			},
			wantErr: "does not fit",
		},
		{
			// go-rpmdb: prints "bad slot magic" to stdout.
			name: "bad slot magic",
			data: func() []byte {
				d := buildNDB(blob)
				le.PutUint32(d[32+16*7:], 0xdeadbeef)
				return d
			},
			wantErr: "bad magic",
		},
		{
			// go-rpmdb: reports the error and goes on reading the blob.
			name: "bad blob magic",
			data: func() []byte {
				d := buildNDB(blob)
				le.PutUint32(d[4096:], 0xdeadbeef)
				return d
			},
			wantErr: "bad blob magic",
		},
		{
			name: "blob of another package",
			data: func() []byte {
				d := buildNDB(blob)
				le.PutUint32(d[4096+4:], 9)
				return d
			},
			wantErr: "belongs to package 9",
		},
		{
			// Every slot pointing at one blob: go-rpmdb would parse it 254
			// times.
			name: "slots share a blob",
			data: func() []byte {
				d := buildNDB(blob)
				for i := 1; i < ndbSlotsPage-2; i++ {
					copy(d[32+16*i:32+16*i+16], d[32:48])
					le.PutUint32(d[32+16*i+4:], 1)
				}
				return d
			},
			wantErr: "records overlap",
		},
		{
			name: "slot pages beyond go-rpmdb's limit",
			data: func() []byte {
				d := buildNDB(blob)
				le.PutUint32(d[12:], 4096)
				return d
			},
			wantErr: "slot pages",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRejected(t, tt.data(), tt.wantErr)
		})
	}
}

func TestAnalyzeHostileSQLite(t *testing.T) {
	blob := pkgHeader("libuuid", "2.32.1", "42.el8_8")
	tests := []struct {
		name    string
		data    func(t *testing.T) []byte
		wantErr string
	}{
		{
			// go-rpmdb lists the same package until memory runs out.
			name: "Packages is an endless view",
			data: func(t *testing.T) []byte {
				return buildSQLite(t, fmt.Sprintf(`CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) SELECT x'%x' AS blob FROM c`, blob))
			},
			wantErr: "[main.view]",
		},
		{
			name: "blob is a generated column",
			data: func(t *testing.T) []byte {
				return buildSQLite(t, `CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, x, blob BLOB AS (zeroblob(500000000)) VIRTUAL);
					INSERT INTO Packages (x) VALUES (1)`)
			},
			wantErr: "computed",
		},
		{
			// A record written before the column existed reads as the
			// column's default: 2,000 rows of 3 bytes each are 2,000
			// packages to go-rpmdb, stored once, in the schema.
			name: "blob has a default",
			data: func(t *testing.T) []byte {
				return buildSQLite(t, fmt.Sprintf(`CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, x);
					INSERT INTO Packages (x) WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 2000) SELECT n FROM c;
					PRAGMA writable_schema = ON;
					UPDATE sqlite_schema SET sql = 'CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, x, blob BLOB DEFAULT x''%x'')' WHERE name = 'Packages';
					PRAGMA writable_schema = OFF`, blob))
			},
			wantErr: "computed",
		},
		{
			name: "no Packages table",
			data: func(t *testing.T) []byte {
				return buildSQLite(t, `CREATE TABLE Other (blob BLOB)`)
			},
			wantErr: "table Packages is []",
		},
		{
			name: "no blob column",
			data: func(t *testing.T) []byte {
				return buildSQLite(t, `CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, data BLOB)`)
			},
			wantErr: "no blob column",
		},
		{
			// go-rpmdb: Scan fails, it reports the error, then sends the
			// row anyway to a reader that is gone.
			name: "NULL blob",
			data: func(t *testing.T) []byte {
				return buildSQLite(t, `CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB);
					INSERT INTO Packages (hnum) VALUES (1)`)
			},
			wantErr: "too short",
		},
		{
			// SQLite itself refuses to build a value beyond the limit
			// the guard sets on its connection.
			name: "a stored row larger than any header",
			data: func(t *testing.T) []byte {
				return buildSQLite(t, `CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB);
					INSERT INTO Packages (blob) VALUES (zeroblob(20000000))`)
			},
			wantErr: "too big",
		},
		{
			name: "a header that is not one",
			data: func(t *testing.T) []byte {
				return buildSQLite(t, "", []byte("not an rpm header at all"), blob)
			},
			wantErr: "header 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRejected(t, tt.data(t), tt.wantErr)
		})
	}
}

func TestAnalyzeTooLarge(t *testing.T) {
	_, err := New().Analyze(t.Context(), analyzer.Input{
		Path:    "/var/lib/rpm/Packages",
		Content: sparse(maxDBSize + 1),
		TempDir: t.TempDir(),
	})
	if err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("Analyze of a %d-byte database: err = %v, want a size error", maxDBSize+1, err)
	}
}

// sparse is content of n zero bytes that takes no memory.
type sparse int64

func (s sparse) Read([]byte) (int, error) { return 0, io.EOF }

func (s sparse) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(s) {
		return 0, io.EOF
	}
	n := min(int64(len(p)), int64(s)-off)
	clear(p[:n])
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

func (s sparse) Seek(off int64, whence int) (int64, error) {
	if whence == io.SeekEnd {
		return int64(s) + off, nil
	}
	return off, nil
}

// checkRejected runs the analyzer on data and wants an error containing
// wantErr, within a few seconds and 64 MiB of allocation, with no panic (a
// panic fails the test) and the temp dir cleaned up.
func checkRejected(t *testing.T, data []byte, wantErr string) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	res, err := analyze(t, t.Context(), "/var/lib/rpm/Packages", data)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatalf("Analyze succeeded with %d packages, want an error containing %q", len(res.Packages), wantErr)
	}
	if !strings.Contains(err.Error(), wantErr) {
		t.Errorf("Analyze error = %q, want it to contain %q", err, wantErr)
	}
	if elapsed > 5*time.Second {
		t.Errorf("Analyze took %v", elapsed)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20+2*uint64(len(data)) {
		t.Errorf("Analyze allocated %d MiB", alloc>>20)
	}
}

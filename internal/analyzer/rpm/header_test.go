package rpm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	rpmdb "github.com/knqyf263/go-rpmdb/pkg"
)

// goRPMDB lists the packages of one header blob with go-rpmdb itself, via an
// NDB file in dir. Only call it on blobs checkHeader accepted.
func goRPMDB(tb testing.TB, dir string, blob []byte) ([]*rpmdb.PackageInfo, error) {
	tb.Helper()
	path := filepath.Join(dir, "Packages.db")
	if err := os.WriteFile(path, buildNDB(blob), 0o600); err != nil {
		tb.Fatal(err)
	}
	db, err := rpmdb.Open(path)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.ListPackages()
}

// buildLegacyHeader lays out an rpm v3 header: no region tag.
func buildLegacyHeader(entries ...testEntry) []byte {
	var data []byte
	index := make([]byte, 8+16*len(entries))
	binary.BigEndian.PutUint32(index[0:], uint32(len(entries)))
	for i, e := range entries {
		data = append(data, make([]byte, pad(e.typ, len(data)))...)
		putEntry(index[8+16*i:], e.tag, e.typ, int32(len(data)), e.count)
		data = append(data, e.data...)
	}
	binary.BigEndian.PutUint32(index[4:], uint32(len(data)))
	return append(index, data...)
}

// buildDribbleHeader lays out a header whose region covers only the first
// entries; the rest ("dribble" entries, added after signing) follow the
// region trailer.
func buildDribbleHeader(region, dribble []testEntry) []byte {
	var data []byte
	il := 1 + len(region) + len(dribble)
	index := make([]byte, 8+16*il)
	add := func(i int, e testEntry) {
		data = append(data, make([]byte, pad(e.typ, len(data)))...)
		putEntry(index[8+16*i:], e.tag, e.typ, int32(len(data)), e.count)
		data = append(data, e.data...)
	}
	for i, e := range region {
		add(1+i, e)
	}
	trailer := make([]byte, 16)
	putEntry(trailer, tagHeaderImmutable, typeBin, int32(-16*(1+len(region))), 16)
	putEntry(index[8:], tagHeaderImmutable, typeBin, int32(len(data)), 16)
	data = append(data, trailer...)
	for i, e := range dribble {
		add(1+len(region)+i, e)
	}
	binary.BigEndian.PutUint32(index[0:], uint32(il))
	binary.BigEndian.PutUint32(index[4:], uint32(len(data)))
	return append(index, data...)
}

func TestCheckHeaderAccepts(t *testing.T) {
	nvr := []testEntry{str(tagName, "bash"), str(tagVersion, "5.1.8"), str(tagRelease, "2.fc35")}
	pgp := make([]byte, 3+24)
	pgp[1], pgp[2] = 0x01, 0x1c
	tests := []struct {
		name         string
		blob         []byte
		wantElements int
		wantRelease  string
	}{
		{"v4 header", pkgHeader("libuuid", "2.32.1", "42.el8_8"), 2, "42.el8_8"},
		{"v3 header without region", buildLegacyHeader(append(nvr, strArray(tagDirNames, "/usr/bin/"))...), 1, "2.fc35"},
		{
			name: "dribble entries override region entries",
			blob: buildDribbleHeader(
				append(nvr, strArray(tagProvideName, "bash", "/bin/sh", "config(bash)")),
				[]testEntry{str(tagRelease, "3.fc35"), i32(tagInstallTime, 1640000000)}),
			wantElements: 3, wantRelease: "3.fc35",
		},
		{"PGP text signature", buildHeader(append(nvr, testEntry{tag: tagPGP, typ: typeBin, count: uint32(len(pgp)), data: pgp})...), 0, "2.fc35"},
		{"i18n summary", buildHeader(append(nvr, testEntry{tag: tagSummary, typ: typeI18NString, count: 2, data: []byte("shell\x00Shell\x00")})...), 3, "2.fc35"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := checkHeader(tt.blob)
			if err != nil {
				t.Fatalf("checkHeader: %v", err)
			}
			if st.elements != tt.wantElements {
				t.Errorf("elements = %d, want %d", st.elements, tt.wantElements)
			}
			// What we accept, go-rpmdb must parse.
			pkgs, err := goRPMDB(t, t.TempDir(), tt.blob)
			if err != nil {
				t.Fatalf("go-rpmdb rejects a header checkHeader accepted: %v", err)
			}
			if len(pkgs) != 1 || pkgs[0].Release != tt.wantRelease {
				t.Errorf("go-rpmdb read %+v, want one package of release %s", pkgs, tt.wantRelease)
			}
		})
	}
}

func TestCheckHeaderRealBlobs(t *testing.T) {
	blobs := ndbBlobs(t, readFixture(t, "sle15-bci/Packages.db"))
	if len(blobs) != 35 {
		t.Fatalf("extracted %d blobs, want 35", len(blobs))
	}
	for i, b := range blobs {
		if _, err := checkHeader(b); err != nil {
			t.Errorf("blob %d: %v", i, err)
		}
	}
}

func TestCheckHeaderRejects(t *testing.T) {
	valid := pkgHeader("libuuid", "2.32.1", "42.el8_8")
	patched := func(f func(b []byte)) []byte {
		b := bytes.Clone(valid)
		f(b)
		return b
	}
	be := binary.BigEndian
	trailerAt := func(b []byte) int { // where buildHeader puts the region trailer
		il := int(be.Uint32(b))
		return 8 + 16*il + int(int32(be.Uint32(b[8+8:])))
	}
	// 1000 index entries that all describe the same 64 KiB of strings.
	overlap := func() []byte {
		const n, size = 1000, 64 << 10
		b := make([]byte, 8+16*n+size)
		be.PutUint32(b[0:], n)
		be.PutUint32(b[4:], size)
		for i := range n {
			putEntry(b[8+16*i:], tagBaseNames, typeStringArray, 0, size/2)
		}
		for i := 8 + 16*n + 1; i < len(b); i += 2 {
			b[i] = 0
			b[i-1] = 'a'
		}
		return b
	}()

	tests := []struct {
		name    string
		blob    []byte
		wantErr string
		// What go-rpmdb does with it; documentation only.
		goRPMDB string
	}{
		{"empty", nil, "too short", "error"},
		{"no entries", []byte{0, 0, 0, 0, 0, 0, 0, 0}, "no index entries", "error"},
		{"text", []byte("not an rpm header at all"), "index entries", "allocates 29.6 GB"},
		{"2^31-1 entries", patched(func(b []byte) { be.PutUint32(b, 0x7fffffff) }), "index entries", "allocates 32 GiB"},
		{"negative data length", patched(func(b []byte) { be.PutUint32(b[4:], 0x80000000) }), "out of range", "error"},
		{"data length past the blob", patched(func(b []byte) { be.PutUint32(b[4:], be.Uint32(b[4:])+1) }), "truncated", "error"},
		{"truncated", valid[:len(valid)-1], "truncated", "error"},
		{
			name:    "region trailer says zero entries",
			blob:    patched(func(b []byte) { be.PutUint32(b[trailerAt(b)+8:], 0) }),
			wantErr: "region entry count 0",
			goRPMDB: "panics: slice bounds out of range [1:0]",
		},
		{
			name: "string array count 2^32-1 without the strings",
			blob: patched(func(b []byte) {
				// the last entry is BASENAMES
				be.PutUint32(b[8+16*8+12:], 0xffffffff)
			}),
			wantErr: "invalid data length",
			goRPMDB: "loops 2^32 times",
		},
		{"entries overlap", overlap, "overlap", "walks 1000 x 64 KiB"},
		{
			name:    "NAME of type int32",
			blob:    buildHeader(i32(tagName, 7), str(tagVersion, "1"), str(tagRelease, "1")),
			wantErr: "has type 4, want 6", goRPMDB: "error, leaking its reader goroutine",
		},
		{
			name:    "short PGP signature",
			blob:    buildHeader(str(tagName, "a"), testEntry{tag: tagPGP, typ: typeBin, count: 5, data: []byte{0x89, 0x02, 0x33, 0, 0}}),
			wantErr: "PGP signature", goRPMDB: "error, leaking its reader goroutine",
		},
		{
			name:    "tag below the i18n table",
			blob:    buildLegacyHeader(str(99, "x")),
			wantErr: "invalid tag 99", goRPMDB: "error",
		},
		{
			name:    "unknown type",
			blob:    buildHeader(testEntry{tag: tagName, typ: 17, count: 1, data: []byte("x\x00")}),
			wantErr: "invalid type 17", goRPMDB: "error",
		},
		{
			name:    "misaligned int32",
			blob:    patched(func(b []byte) { be.PutUint32(b[8+16*4+8:], be.Uint32(b[8+16*4+8:])+1) }),
			wantErr: "misaligned", goRPMDB: "error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := checkHeader(tt.blob)
			if !errors.Is(err, errHeader) {
				t.Fatalf("checkHeader = %v, want an errHeader (go-rpmdb: %s)", err, tt.goRPMDB)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("checkHeader error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

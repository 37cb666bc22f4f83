package vulndb

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readAllZip lists name → contents with our reader.
func readAllZip(t testing.TB, data []byte) map[string]string {
	t.Helper()
	z, err := openZip(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("openZip: %v", err)
	}
	got := map[string]string{}
	var fr io.ReadCloser
	err = z.walk(func(m *zipMember) error {
		if m.isDir() {
			got[m.Name] = "<dir>"
			return nil
		}
		b, err := z.readMember(m, -1, nil, &fr)
		if err != nil {
			return err
		}
		got[m.Name] = string(b)
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return got
}

// stdZip lists name → contents with archive/zip.
func stdZip(t testing.TB, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/") {
			want[f.Name] = "<dir>"
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		want[f.Name] = string(b)
	}
	return want
}

func TestZipMatchesArchiveZip(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"mixed": writeZip(t, filepath.Join(dir, "mixed.zip"),
			member{name: "d/"},
			member{name: "d/a.json", data: []byte(`{"id":"a"}`)},
			member{name: "b.json", data: bytes.Repeat([]byte("stored "), 1000), store: true},
			member{name: "empty.json"},
			member{name: "big.json", data: bytes.Repeat([]byte(`{"k": "v"}, `), 100_000)}),
	}
	// More than 65,535 members: archive/zip writes a ZIP64 end record.
	var many bytes.Buffer
	zw := zip.NewWriter(&many)
	for i := range 70_000 {
		w, _ := zw.Create(fmt.Sprintf("%d.json", i))
		fmt.Fprintf(w, `{"id":"%d"}`, i)
	}
	zw.SetComment("a comment, as osv.dev does not write one")
	zw.Close()
	if !bytes.Contains(many.Bytes(), []byte{0x50, 0x4b, 0x06, 0x06}) {
		t.Fatal("archive/zip wrote no ZIP64 end record")
	}
	cases["zip64"] = writeFile(t, filepath.Join(dir, "zip64.zip"), many.Bytes())
	if sample, ok := samplePath(); ok {
		cases["osv-sample npm"] = filepath.Join(sample, "npm", "all.zip")
		cases["osv-sample Debian"] = filepath.Join(sample, "Debian", "all.zip")
	}
	for name, path := range cases {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want, got := stdZip(t, data), readAllZip(t, data)
			if len(want) != len(got) {
				t.Errorf("%d members, archive/zip finds %d", len(got), len(want))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("members (-archive/zip +ours):\n%.2000s", diff)
			}
		})
	}
}

func TestOpenZipRejects(t *testing.T) {
	valid, err := os.ReadFile(writeZip(t, filepath.Join(t.TempDir(), "v.zip"), member{name: "a.json", data: []byte("{}")}))
	if err != nil {
		t.Fatal(err)
	}
	end := len(valid) - lenEnd
	patch := func(off int, b ...byte) []byte {
		out := bytes.Clone(valid)
		copy(out[off:], b)
		return out
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "too short"},
		{"text", []byte(strings.Repeat("hello ", 20)), "no end of central directory"},
		{"multi-disk", patch(end+4, 1), "multi-disk"},
		{"directory past the end", patch(end+16, 0xff, 0xff, 0, 0), "outside the file"},
		{"more members than fit", patch(end+10, 0xfe, 0xff), "cannot fit"},
		{"bad central signature", patch(int(readU32(valid[end+16:])), 'X'), "bad central directory record"},
		{"comment length overruns", patch(end+20, 5), "no end of central directory"},
		{"ZIP64 marker without locator", patch(end+16, 0xff, 0xff, 0xff, 0xff), "ZIP64 locator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			z, err := openZip(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err == nil {
				err = z.walk(func(m *zipMember) error {
					_, err := z.readMember(m, 1<<20, nil, new(io.ReadCloser))
					return err
				})
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if !errors.Is(err, errCorrupt) && !errors.Is(err, errUnsupported) {
				t.Errorf("err = %v, want errCorrupt or errUnsupported", err)
			}
		})
	}
}

func readU32(b []byte) uint32 {
	return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
}

// A member's limit stops reading at limit+1 bytes.
func TestZipMemberLimit(t *testing.T) {
	data, err := os.ReadFile(writeZip(t, filepath.Join(t.TempDir(), "v.zip"), member{name: "a.json", data: bytes.Repeat([]byte("x"), 5000)}))
	if err != nil {
		t.Fatal(err)
	}
	z, err := openZip(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	err = z.walk(func(m *zipMember) error {
		b, err := z.readMember(m, 1000, nil, new(io.ReadCloser))
		if len(b) > 1001+32<<10 {
			t.Errorf("read %d bytes past a limit of 1000", len(b))
		}
		return err
	})
	if !errors.Is(err, errTooLarge) {
		t.Fatalf("err = %v, want errTooLarge", err)
	}
}

// Saturated 32-bit fields take their values from the ZIP64 extra field.
func TestZip64ExtraField(t *testing.T) {
	data := []byte(`{"id":"Z-1"}`)
	var z rawZip
	z.add("Z-1.json", methodStore, data, crc32.ChecksumIEEE(data), uint64(len(data)))
	// Rewrite the central record: sizes and offset 0xffffffff, the real
	// values in a ZIP64 extra field.
	central := z.central.Bytes()
	for _, off := range []int{20, 24, 42} {
		binary.LittleEndian.PutUint32(central[off:], 0xffffffff)
	}
	extra := make([]byte, 4+24)
	binary.LittleEndian.PutUint16(extra[0:], 0x0001)
	binary.LittleEndian.PutUint16(extra[2:], 24)
	binary.LittleEndian.PutUint64(extra[4:], uint64(len(data)))  // uncompressed
	binary.LittleEndian.PutUint64(extra[12:], uint64(len(data))) // compressed
	binary.LittleEndian.PutUint64(extra[20:], 0)                 // offset
	binary.LittleEndian.PutUint16(central[30:], uint16(len(extra)))
	z.central.Write(extra)
	got := readAllZip(t, z.bytes())
	if diff := cmp.Diff(map[string]string{"Z-1.json": string(data)}, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
}

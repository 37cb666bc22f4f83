package layer

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

type tarEntry struct {
	name     string
	typ      byte
	body     string
	linkname string
	size     int64 // header size override for hostile headers
}

func makeTar(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Mode: 0o644, Linkname: e.linkname}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if typ == tar.TypeDir {
			h.Mode = 0o755
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if typ == tar.TypeReg {
			if _, err := io.WriteString(tw, e.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func zst(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

type seen struct {
	Path string
	Body string
}

func walkAll(t *testing.T, r io.Reader) ([]seen, *Summary, error) {
	t.Helper()
	var got []seen
	s, err := Walk(context.Background(), r, func(e *Entry) error {
		if e.Reader == nil {
			got = append(got, seen{Path: e.Path})
			return nil
		}
		b, err := io.ReadAll(e.Reader)
		if err != nil {
			return err
		}
		got = append(got, seen{Path: e.Path, Body: string(b)})
		return nil
	})
	return got, s, err
}

func TestWalkCompressionAndDiffID(t *testing.T) {
	raw := makeTar(t, []tarEntry{
		{name: "etc/", typ: tar.TypeDir},
		{name: "etc/os-release", body: "ID=debian\n"},
		{name: "./usr/lib/os-release", body: "ID=alpine\n"},
	})
	want := []seen{{Path: "/etc"}, {Path: "/etc/os-release", Body: "ID=debian\n"}, {Path: "/usr/lib/os-release", Body: "ID=alpine\n"}}
	for name, b := range map[string][]byte{"plain": raw, "gzip": gz(t, raw), "zstd": zst(t, raw)} {
		t.Run(name, func(t *testing.T) {
			got, s, err := walkAll(t, bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("entries (-want +got):\n%s", diff)
			}
			if s.DiffID != sha(raw) {
				t.Errorf("DiffID = %s, want %s", s.DiffID, sha(raw))
			}
			if s.Files != 2 || s.Entries != 3 {
				t.Errorf("Files=%d Entries=%d, want 2 and 3", s.Files, s.Entries)
			}
			if s.Bytes != int64(len(raw)) {
				t.Errorf("Bytes = %d, want %d", s.Bytes, len(raw))
			}
		})
	}
}

func TestWalkWhiteoutsAndLinks(t *testing.T) {
	raw := makeTar(t, []tarEntry{
		{name: "app/.wh..wh..opq", body: ""},
		{name: "app/new", body: "x"},
		{name: "etc/.wh.secret.env", body: ""},
		{name: "etc/os-release", typ: tar.TypeSymlink, linkname: "../usr/lib/os-release"},
		{name: "bin/sh", typ: tar.TypeLink, linkname: "bin/dash"},
	})
	got, s, err := walkAll(t, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	wantSeen := []seen{{Path: "/app/new", Body: "x"}, {Path: "/etc/os-release"}, {Path: "/bin/sh"}}
	if diff := cmp.Diff(wantSeen, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/app"}, s.OpaqueDirs); diff != "" {
		t.Errorf("opaque (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/etc/secret.env"}, s.Whiteouts); diff != "" {
		t.Errorf("whiteouts (-want +got):\n%s", diff)
	}
	if s.Symlinks["/etc/os-release"] != "../usr/lib/os-release" {
		t.Errorf("symlinks = %v", s.Symlinks)
	}
	if s.Hardlinks["/bin/sh"] != "/bin/dash" {
		t.Errorf("hardlinks = %v", s.Hardlinks)
	}
}

func TestWalkHostile(t *testing.T) {
	valid := makeTar(t, []tarEntry{{name: "a", body: strings.Repeat("a", 4096)}, {name: "b", body: "b"}})
	gzValid := gz(t, valid)

	// A header that claims 10 GB, followed by nothing.
	var huge bytes.Buffer
	tw := tar.NewWriter(&huge)
	tw.WriteHeader(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Size: 10 << 30, Mode: 0o644})
	hugeHdr := huge.Bytes()[:512]

	tests := []struct {
		name    string
		in      []byte
		wantErr error  // errors.Is target, or nil
		errText string // substring, when wantErr is nil but an error is expected
		check   func(t *testing.T, got []seen, s *Summary)
	}{
		{
			name: "path traversal stays inside the root",
			in:   makeTar(t, []tarEntry{{name: "../../etc/passwd", body: "root:x:0:0"}, {name: "/etc/shadow", body: "s"}}),
			check: func(t *testing.T, got []seen, s *Summary) {
				if got[0].Path != "/etc/passwd" || got[1].Path != "/etc/shadow" {
					t.Errorf("paths = %v", got)
				}
				if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "escapes") {
					t.Errorf("warnings = %v, want one about ../", s.Warnings)
				}
			},
		},
		{name: "truncated gzip", in: gzValid[:len(gzValid)/2], errText: "unexpected EOF"},
		{name: "not a tar", in: bytes.Repeat([]byte("this is not a tar archive "), 100), wantErr: ErrNotTar},
		{name: "10 GB header without content", in: hugeHdr, errText: "EOF"},
		{name: "empty layer", in: nil, check: func(t *testing.T, got []seen, s *Summary) {
			if len(got) != 0 || s.DiffID != sha(nil) {
				t.Errorf("got %v, diffID %s", got, s.DiffID)
			}
		}},
		{name: "zeros after the tar end are bounded", in: gz(t, append(append([]byte{}, valid...), make([]byte, 8<<20)...)),
			check: func(t *testing.T, got []seen, s *Summary) {
				if s.DiffID != "" {
					t.Errorf("DiffID %s computed from a bounded read", s.DiffID)
				}
				if len(s.Warnings) == 0 {
					t.Error("no warning about trailing bytes")
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, s, err := walkAll(t, bytes.NewReader(tt.in))
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case tt.errText != "":
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want one containing %q", err, tt.errText)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, got, s)
			}
		})
	}
}

// TestWalkMillionFilesBoundedMemory streams a layer of one million tiny
// files through Walk: memory must not grow with the number of entries.
func TestWalkMillionFilesBoundedMemory(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		body := []byte("x")
		for i := 0; i < n; i++ {
			name := "d/" + strings.Repeat("f", 20) + itoa(i)
			if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Size: 1, Mode: 0o644}); err != nil {
				pw.CloseWithError(err)
				return
			}
			tw.Write(body)
		}
		pw.CloseWithError(tw.Close())
	}()
	var before, peak runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	count := 0
	s, err := Walk(context.Background(), pr, func(e *Entry) error {
		count++
		if count%100_000 == 0 {
			runtime.ReadMemStats(&peak)
			if grow := int64(peak.HeapInuse) - int64(before.HeapInuse); grow > 64<<20 {
				t.Fatalf("heap grew by %d MiB after %d entries", grow>>20, count)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if s.Files != n {
		t.Fatalf("Files = %d, want %d", s.Files, n)
	}
}

func itoa(i int) string {
	const digits = "0123456789"
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{digits[i%10]}, b...)
	}
	return string(b)
}

func TestWalkCancel(t *testing.T) {
	raw := makeTar(t, []tarEntry{{name: "a", body: "a"}, {name: "b", body: "b"}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Walk(ctx, bytes.NewReader(raw), func(*Entry) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestSniff(t *testing.T) {
	for _, tt := range []struct {
		in   []byte
		want Compression
	}{{[]byte{0x1f, 0x8b, 8, 0}, Gzip}, {[]byte{0x28, 0xb5, 0x2f, 0xfd}, Zstd}, {[]byte("ustar"), None}, {nil, None}} {
		if got := Sniff(tt.in); got != tt.want {
			t.Errorf("Sniff(%x) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func FuzzWalk(f *testing.F) {
	f.Add(makeTar(f, []tarEntry{{name: "etc/os-release", body: "ID=debian"}, {name: "a/.wh.b"}, {name: "l", typ: tar.TypeSymlink, linkname: "../../x"}}))
	f.Add(gz(f, makeTar(f, []tarEntry{{name: "a", body: "a"}})))
	f.Add(zst(f, makeTar(f, []tarEntry{{name: "a", body: "a"}})))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var paths []string
		_, _ = Walk(context.Background(), bytes.NewReader(b), func(e *Entry) error {
			if !strings.HasPrefix(e.Path, "/") || strings.Contains(e.Path, "/../") || strings.HasSuffix(e.Path, "/..") {
				t.Fatalf("path %q escapes the root", e.Path)
			}
			paths = append(paths, e.Path)
			if e.Reader != nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(e.Reader, 1<<20))
			}
			return nil
		})
	})
}

func BenchmarkWalk(b *testing.B) {
	var entries []tarEntry
	body := strings.Repeat("0123456789abcdef", 256) // 4 KiB
	for i := 0; i < 4096; i++ {
		entries = append(entries, tarEntry{name: "usr/share/f" + itoa(i), body: body})
	}
	raw := makeTar(b, entries)
	for name, in := range map[string][]byte{"plain": raw, "gzip": gz(b, raw)} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			for i := 0; i < b.N; i++ {
				if _, err := Walk(context.Background(), bytes.NewReader(in), func(*Entry) error { return nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

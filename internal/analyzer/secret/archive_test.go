package secret

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
)

// Assembled at run time so that no credential-shaped literal sits in the
// repository.
var (
	awsKeyID  = "AKIA" + "Z7VQ3XKJ5M2N4P6R"
	awsSecret = "q8Xw2Lr9Tz4Vb7Nc1Mp5" + "Kd3Hf6Gj0Sa2Ye8Ru4Wi"
)

func credFile() []byte {
	return []byte("# service account\naws.accessKeyId=" + awsKeyID + "\naws.secretAccessKey=" + awsSecret + "\n")
}

type member struct {
	name string
	body []byte
}

func makeZip(t testing.TB, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range ms {
		w, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func makeTarGz(t testing.TB, ms ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, m := range ms {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func analyzeBytes(t testing.TB, a *Analyzer, p string, b []byte) (*analyzer.Result, error) {
	t.Helper()
	if !a.Required(p, fakeInfo{size: int64(len(b))}) {
		t.Fatalf("%s not required", p)
	}
	return a.Analyze(context.Background(), analyzer.Input{Path: p, Info: fakeInfo{size: int64(len(b))}, Content: bytes.NewReader(b)})
}

// checkFound asserts that the planted AWS key ID is reported at path,
// masked, and that no output carries either planted secret.
func checkFound(t *testing.T, res *analyzer.Result, path string) {
	t.Helper()
	if res == nil {
		t.Fatalf("nothing found, want %s", path)
	}
	var paths []string
	ok := false
	for _, s := range res.Secrets {
		paths = append(paths, s.Path+" "+s.RuleID)
		if s.Path == path && s.RuleID == "aws-access-key-id" {
			ok = true
			if !strings.Contains(s.Match, "*") || s.Line != 2 {
				t.Errorf("finding not masked or wrong line: %+v", s)
			}
		}
	}
	if !ok {
		t.Errorf("key not found at %s; found %v", path, paths)
	}
	b, _ := json.Marshal(res)
	if bytes.Contains(b, []byte(awsKeyID)) || bytes.Contains(b, []byte(awsSecret)) {
		t.Fatalf("secret in result: %s", b)
	}
}

func TestRequiredArchives(t *testing.T) {
	a := Default()
	for p, want := range map[string]bool{
		"/app/lib/x.jar":         true,
		"/app/x.war":             true,
		"/app/x.EAR":             true,
		"/srv/backup.zip":        true,
		"/wheels/a-1.0.whl":      true,
		"/srv/site.tar":          true,
		"/srv/site.tar.gz":       true,
		"/srv/site.tgz":          true,
		"/var/cache/apk/x.apk":   false,
		"/usr/share/doc/x.gz":    false,
		"/proc/x.zip":            false,
		"/app/lib/x.tar.xz":      false,
		"/usr/lib/python3/x.egg": false,
	} {
		if got := a.Required(p, fakeInfo{size: 100 << 20}); got != want {
			t.Errorf("Required(%s) = %v, want %v", p, got, want)
		}
	}
	if a.Required("/app/huge.jar", fakeInfo{size: DefaultMaxArchiveSize + 1}) {
		t.Error("archive over the archive cap required")
	}
	cfg := DefaultConfig()
	cfg.Archive.Disable = true
	b, _ := New(cfg)
	if b.Required("/app/lib/x.jar", fakeInfo{size: 100}) {
		t.Error("archive required with archives disabled")
	}
	if b.Version() == Default().Version() {
		t.Error("archive config does not change the version")
	}
}

func TestArchiveZip(t *testing.T) {
	z := makeZip(t,
		member{"META-INF/MANIFEST.MF", []byte("Manifest-Version: 1.0\n")},
		member{"config/application.properties", credFile()},
		member{"com/acme/App.class", append([]byte{0xca, 0xfe, 0xba, 0xbe, 0}, credFile()...)},
	)
	res, err := analyzeBytes(t, Default(), "/app/lib/x.jar", z)
	if err != nil {
		t.Fatal(err)
	}
	checkFound(t, res, "/app/lib/x.jar!/config/application.properties")
	for _, s := range res.Secrets {
		if strings.Contains(s.Path, ".class") {
			t.Errorf("binary member scanned: %+v", s)
		}
	}
}

func TestArchiveNestedJar(t *testing.T) {
	inner := makeZip(t, member{"creds.properties", credFile()})
	outer := makeZip(t,
		member{"WEB-INF/web.xml", []byte("<web-app/>\n")},
		member{"WEB-INF/lib/inner.jar", inner},
	)
	res, err := analyzeBytes(t, Default(), "/opt/app/outer.war", outer)
	if err != nil {
		t.Fatal(err)
	}
	checkFound(t, res, "/opt/app/outer.war!/WEB-INF/lib/inner.jar!/creds.properties")
}

func TestArchiveTarGz(t *testing.T) {
	inner := makeZip(t, member{"BOOT-INF/classes/application.properties", credFile()})
	tgz := makeTarGz(t,
		member{"./etc/app/app.env", credFile()},
		member{"opt/app.jar", inner},
	)
	for _, p := range []string{"/srv/release.tar.gz", "/srv/release.tgz"} {
		res, err := analyzeBytes(t, Default(), p, tgz)
		if err != nil {
			t.Fatal(err)
		}
		checkFound(t, res, p+"!/etc/app/app.env")
		checkFound(t, res, p+"!/opt/app.jar!/BOOT-INF/classes/application.properties")
	}
	// An uncompressed tar.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := credFile()
	_ = tw.WriteHeader(&tar.Header{Name: "home/u/.aws/credentials.txt", Mode: 0o600, Size: int64(len(body))})
	_, _ = tw.Write(body)
	_ = tw.Close()
	res, err := analyzeBytes(t, Default(), "/backup/home.tar", buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	checkFound(t, res, "/backup/home.tar!/home/u/.aws/credentials.txt")
}

// TestArchiveNotAnArchive: a file named like an archive that is not one
// is scanned as a file.
func TestArchiveNotAnArchive(t *testing.T) {
	res, err := analyzeBytes(t, Default(), "/app/notes.zip", credFile())
	if err != nil {
		t.Fatal(err)
	}
	checkFound(t, res, "/app/notes.zip")
}

// TestArchiveDeepNesting: archives nested deeper than the bound are not
// opened; the levels within it are scanned; the error wraps
// ErrArchiveLimit.
func TestArchiveDeepNesting(t *testing.T) {
	z := makeZip(t, member{"l6.properties", credFile()})
	for i := 5; i >= 1; i-- {
		z = makeZip(t, member{fmt.Sprintf("l%d.properties", i), credFile()}, member{fmt.Sprintf("l%d.jar", i+1), z})
	}
	start := time.Now()
	res, err := analyzeBytes(t, Default(), "/a.jar", z)
	if !errors.Is(err, ErrArchiveLimit) || !strings.Contains(err.Error(), "nested deeper") {
		t.Fatalf("err %v", err)
	}
	checkFound(t, res, "/a.jar!/l1.properties")
	checkFound(t, res, "/a.jar!/l2.jar!/l2.properties")
	checkFound(t, res, "/a.jar!/l2.jar!/l3.jar!/l3.properties")
	for _, s := range res.Secrets {
		if strings.Count(s.Path, "!/") > DefaultMaxArchiveDepth {
			t.Errorf("too deep: %s", s.Path)
		}
	}
	t.Logf("%d findings, %v, warning: %v", len(res.Secrets), time.Since(start), err)
}

// TestArchiveZipBombLyingSize: a member that declares a small size but
// inflates to much more is cut off by the zip reader: an error, quickly.
func TestArchiveZipBombLyingSize(t *testing.T) {
	big := bytes.Repeat([]byte("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"), 8<<20/32*8) // 64 MiB
	// Compress by hand and write a raw member with lying sizes.
	var def bytes.Buffer
	{
		zw := zip.NewWriter(&def)
		w, _ := zw.Create("x")
		_, _ = w.Write(big)
		_ = zw.Close()
	}
	zr, err := zip.NewReader(bytes.NewReader(def.Bytes()), int64(def.Len()))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := zr.File[0].OpenRaw()
	var rawb bytes.Buffer
	_, _ = rawb.ReadFrom(raw)
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "app.properties", Method: zip.Deflate,
		CRC32: crc32.ChecksumIEEE(big[:100]), CompressedSize64: uint64(rawb.Len()), UncompressedSize64: 100})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(rawb.Bytes())
	_ = zw.Close()
	t.Logf("bomb: %d bytes compressed, %d inflated, 100 declared", out.Len(), len(big))

	start := time.Now()
	_, err = analyzeBytes(t, Default(), "/bomb.zip", out.Bytes())
	if err == nil || !errors.Is(err, zip.ErrFormat) {
		t.Fatalf("err %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	t.Logf("%v: %v", time.Since(start), err)
}

// TestArchiveZipBombOverlapping: a zip whose directory points many
// entries at the same data (Fifield's non-recursive bomb) reads it once.
func TestArchiveZipBombOverlapping(t *testing.T) {
	z := makeZip(t, member{"a.properties", credFile()})
	z = duplicateEntries(t, z, 1000)
	zr, err := zip.NewReader(bytes.NewReader(z), int64(len(z)))
	if err != nil || len(zr.File) != 1000 {
		t.Fatalf("crafted zip: %v", err)
	}
	res, err := analyzeBytes(t, Default(), "/o.zip", z)
	if !errors.Is(err, ErrArchiveLimit) || !strings.Contains(err.Error(), "999 overlapping") {
		t.Fatalf("err %v", err)
	}
	checkFound(t, res, "/o.zip!/a.properties")
	if len(res.Secrets) > 2 {
		t.Errorf("%d findings", len(res.Secrets))
	}
}

// duplicateEntries repeats a one-member zip's central directory entry n
// times, all pointing at the same local header.
func duplicateEntries(t testing.TB, z []byte, n int) []byte {
	t.Helper()
	e := bytes.LastIndex(z, []byte("PK\x05\x06"))
	cdSize := int(binary.LittleEndian.Uint32(z[e+12:]))
	cdOff := int(binary.LittleEndian.Uint32(z[e+16:]))
	cd := z[cdOff : cdOff+cdSize]
	out := append([]byte{}, z[:cdOff]...)
	for i := 0; i < n; i++ {
		out = append(out, cd...)
	}
	eocd := append([]byte{}, z[e:]...)
	binary.LittleEndian.PutUint16(eocd[8:], uint16(n))
	binary.LittleEndian.PutUint16(eocd[10:], uint16(n))
	binary.LittleEndian.PutUint32(eocd[12:], uint32(n*cdSize))
	return append(out, eocd...)
}

// TestArchiveByteAndMemberBounds: honest but large archives stop at the
// uncompressed-bytes and member-count bounds.
func TestArchiveByteAndMemberBounds(t *testing.T) {
	text := bytes.Repeat([]byte("lorem ipsum dolor sit amet\n"), 40_000) // ~1 MiB
	var ms []member
	for i := 0; i < 20; i++ {
		ms = append(ms, member{fmt.Sprintf("doc/%02d.txt", i), text})
	}
	ms = append(ms, member{"zz/app.properties", credFile()})
	cfg := DefaultConfig()
	cfg.Archive.MaxBytes = 4 << 20
	a, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/big.zip", "/big.tar.gz"} {
		var b []byte
		if strings.HasSuffix(p, ".zip") {
			b = makeZip(t, ms...)
		} else {
			b = makeTarGz(t, ms...)
		}
		_, err = analyzeBytes(t, a, p, b)
		if !errors.Is(err, ErrArchiveLimit) || !strings.Contains(err.Error(), "uncompressed bytes") {
			t.Errorf("%s: err %v", p, err)
		}
	}

	cfg = DefaultConfig()
	cfg.Archive.MaxMembers = 10
	a, _ = New(cfg)
	var many []member
	for i := 0; i < 50; i++ {
		many = append(many, member{fmt.Sprintf("f%d.txt", i), []byte("x\n")})
	}
	for _, p := range []string{"/many.zip", "/many.tgz"} {
		var b []byte
		if strings.HasSuffix(p, ".zip") {
			b = makeZip(t, many...)
		} else {
			b = makeTarGz(t, many...)
		}
		_, err = analyzeBytes(t, a, p, b)
		if !errors.Is(err, ErrArchiveLimit) || !strings.Contains(err.Error(), "members") {
			t.Errorf("%s: err %v", p, err)
		}
	}
}

func TestArchiveCorrupt(t *testing.T) {
	good := makeZip(t, member{"a.properties", credFile()}, member{"b.txt", []byte("hello\n")})
	cases := map[string][]byte{
		"/garbage.zip":   append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0xff}, 300)...),
		"/truncated.jar": good[:len(good)/2],
		"/bad.tar.gz":    append([]byte{0x1f, 0x8b}, bytes.Repeat([]byte{7}, 600)...),
		"/bad.tar":       bytes.Repeat([]byte{'a'}, 1024),
	}
	// A member whose data is corrupted: the CRC check fails.
	bad := append([]byte{}, good...)
	i := bytes.Index(bad, []byte("a.properties")) + len("a.properties") + 3
	bad[i] ^= 0xff
	cases["/crc.zip"] = bad
	for p, b := range cases {
		res, err := analyzeBytes(t, Default(), p, b)
		if err == nil && p != "/bad.tar" {
			t.Errorf("%s: no error (res %+v)", p, res)
		}
		t.Logf("%s: %v", p, err)
	}
}

func TestArchiveCancel(t *testing.T) {
	z := makeZip(t, member{"a.properties", credFile()})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Default().Analyze(ctx, analyzer.Input{Path: "/a.zip", Content: bytes.NewReader(z)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func FuzzArchive(f *testing.F) {
	f.Add("/a.jar", makeZip(f, member{"x.properties", credFile()}, member{"in.jar", makeZip(f, member{"y.env", credFile()})}))
	f.Add("/a.tar.gz", makeTarGz(f, member{"etc/x.env", credFile()}, member{"b.zip", makeZip(f, member{"c.txt", []byte("hi\n")})}))
	f.Add("/a.zip", duplicateEntries(f, makeZip(f, member{"a.properties", credFile()}), 3))
	f.Add("/a.tar", []byte("PK\x05\x06"))
	cfg := DefaultConfig()
	cfg.Archive.MaxBytes = 16 << 20
	cfg.Archive.MaxMembers = 1000
	a, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string, b []byte) {
		if kindByName(p) == notArchive || !a.Required(p, fakeInfo{size: int64(len(b))}) {
			return
		}
		res, _ := a.Analyze(context.Background(), analyzer.Input{Path: p, Content: bytes.NewReader(b)})
		if res == nil {
			return
		}
		for _, s := range res.Secrets {
			if s.Path != p && !strings.HasPrefix(s.Path, p+"!/") || strings.Count(s.Path, "!/") > DefaultMaxArchiveDepth || len(s.Fingerprint) != 16 {
				t.Fatalf("%+v", s)
			}
		}
	})
}

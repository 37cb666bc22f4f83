package gobinary

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	fx "github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

type fakeInfo struct {
	size int64
	mode os.FileMode
}

func (f fakeInfo) Name() string       { return "f" }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() os.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }

// buildDir holds the fixture binaries, built once per test binary run.
var buildDir string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "gobinary-test-")
	if err != nil {
		panic(err)
	}
	buildDir = d
	code := m.Run()
	os.RemoveAll(d)
	os.Exit(code)
}

var (
	buildMu sync.Mutex
	builds  = map[string]string{}
)

// fixture builds testdata/fixture for goos/goarch with the go command on
// PATH (module downloads go through the module proxy) and returns the
// binary's path. Builds are cached for the run.
func fixture(tb testing.TB, goos, goarch string) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	key := goos + "-" + goarch
	if p, ok := builds[key]; ok {
		return p
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		fx.Unavailable(tb, "no go command to build the fixture binary")
	}
	src, err := filepath.Abs("testdata/fixture")
	if err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(buildDir, "fixture-"+key)
	cmd := exec.Command(gobin, "build", "-trimpath", "-buildvcs=false", "-o", out, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=-mod=readonly", "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build of the fixture for %s: %v\n%s", key, err, b)
	}
	builds[key] = out
	return out
}

// toolchain is the version of the go command that builds the fixture.
func toolchain(tb testing.TB) string {
	tb.Helper()
	b, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimPrefix(strings.TrimSpace(string(b)), "go")
}

func analyzeFile(t *testing.T, path string, b []byte) (*analyzer.Result, error) {
	t.Helper()
	return New().Analyze(context.Background(), analyzer.Input{Path: path, Info: fakeInfo{size: int64(len(b)), mode: 0o755}, Content: bytes.NewReader(b)})
}

func TestRequired(t *testing.T) {
	a := New()
	tests := []struct {
		path string
		mode os.FileMode
		size int64
		want bool
	}{
		{"/usr/local/bin/app", 0o755, 8 << 20, true},
		{"/app/server", 0o700, 8 << 20, true},
		{"/app/server", 0o644, 8 << 20, false},       // not executable, not in a bin dir
		{"/usr/local/bin/app", 0o644, 8 << 20, true}, // bin dirs lose modes in some layers
		{"/usr/sbin/daemon", 0o644, 8 << 20, true},
		{"/Windows/app.EXE", 0o644, 8 << 20, true},
		{"/usr/local/bin/app", 0o755, 100, false},       // too small to be a Go binary
		{"/usr/local/bin/app", 0o755, 600 << 20, false}, // over the cap
		{"/usr/local/bin/app", 0o755, 0, true},          // a hardlink: size unknown
		{"/usr/local/bin", os.ModeDir | 0o755, 4096, false},
		{"/usr/local/bin/app", os.ModeSymlink | 0o777, 8 << 20, false},
	}
	for _, tt := range tests {
		if got := a.Required(tt.path, fakeInfo{size: tt.size, mode: tt.mode}); got != tt.want {
			t.Errorf("Required(%s, %v, %d) = %v, want %v", tt.path, tt.mode, tt.size, got, tt.want)
		}
	}
}

type row struct{ Name, Version, PURL string }

func rows(pkgs []inventory.Package) []row {
	var out []row
	for _, p := range pkgs {
		out = append(out, row{p.Name, p.Version, p.PURL})
	}
	return out
}

// TestFixture builds a real program whose go.mod has a pseudo-version, a
// +incompatible replacement under another module path, a replacement by
// another version and one by a local directory, for each executable format,
// and checks the exact module list.
func TestFixture(t *testing.T) {
	gov := toolchain(t)
	want := []row{
		{"example.com/bulkhead/fixture", "", "pkg:golang/example.com/bulkhead/fixture"}, // (devel): no version
		{"example.com/local", "", "pkg:golang/example.com/local"},                       // replaced by ./local
		{"github.com/davecgh/go-spew", "v1.1.2-0.20180830191138-d8f796af33cc", "pkg:golang/github.com/davecgh/go-spew@v1.1.2-0.20180830191138-d8f796af33cc"},
		{"github.com/google/uuid", "v1.3.0", "pkg:golang/github.com/google/uuid@v1.3.0"},
		{"github.com/pkg/errors", "v0.8.1", "pkg:golang/github.com/pkg/errors@v0.8.1"},                             // v0.9.1 => v0.8.1
		{"github.com/gofrs/uuid", "v4.0.0+incompatible", "pkg:golang/github.com/gofrs/uuid@v4.0.0%2Bincompatible"}, // satori/go.uuid =>
		{"golang.org/x/text", "v0.3.7", "pkg:golang/golang.org/x/text@v0.3.7"},
		{"stdlib", gov, "pkg:golang/stdlib@" + gov},
	}
	for _, target := range []struct{ goos, goarch string }{
		{"linux", "amd64"},
		{"windows", "amd64"},
		{"darwin", "arm64"},
	} {
		t.Run(target.goos+"-"+target.goarch, func(t *testing.T) {
			b, err := os.ReadFile(fixture(t, target.goos, target.goarch))
			if err != nil {
				t.Fatal(err)
			}
			path := "/usr/local/bin/fixture"
			if !New().Required(path, fakeInfo{size: int64(len(b)), mode: 0o755}) {
				t.Fatal("Required = false for the fixture")
			}
			res, err := analyzeFile(t, path, b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, rows(res.Packages)); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
			for _, p := range res.Packages {
				if p.Type != Type || p.FoundBy != Name || len(p.Locations) != 1 || p.Locations[0].Path != path {
					t.Errorf("%s: type %q foundBy %q locations %v", p.Name, p.Type, p.FoundBy, p.Locations)
				}
			}
		})
	}
}

// TestNotGo: executables Go did not build, and files that are no
// executables, yield nothing and no error.
func TestNotGo(t *testing.T) {
	cases := map[string][]byte{
		"script":      []byte("#!/bin/sh\necho hello\n" + strings.Repeat("#\n", 600)),
		"dos stub":    append([]byte("MZ this is only text"), make([]byte, 2048)...),
		"java class":  append([]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 52}, make([]byte, 2048)...),
		"empty":       {},
		"short magic": []byte("\x7fEL"),
	}
	for _, p := range []string{"/bin/ls", "/usr/bin/env", "/bin/sh"} {
		if b, err := os.ReadFile(p); err == nil {
			cases[p] = b
		}
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			res, err := analyzeFile(t, "/usr/bin/x", b)
			if err != nil || res != nil {
				t.Errorf("got %+v, %v; want nothing", res, err)
			}
		})
	}
}

// TestTruncated: a Go binary cut short anywhere is an error, never a panic
// and never a silent "not Go". Packages come with the error only when the
// build information itself survived the cut, and then all of them.
func TestTruncated(t *testing.T) {
	for _, target := range []struct{ goos, goarch string }{{"linux", "amd64"}, {"windows", "amd64"}, {"darwin", "arm64"}} {
		b, err := os.ReadFile(fixture(t, target.goos, target.goarch))
		if err != nil {
			t.Fatal(err)
		}
		whole, err := analyzeFile(t, "/usr/local/bin/fixture", b)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{len(b) - 1, len(b) - 4096, len(b) * 3 / 4, len(b) / 2, len(b) / 10, 64 << 10, 4096} {
			res, err := analyzeFile(t, "/usr/local/bin/fixture", b[:n])
			where := fmt.Sprintf("%s/%s cut to %d of %d bytes", target.goos, target.goarch, n, len(b))
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: err = %v, want ErrMalformed", where, err)
				continue
			}
			if !strings.Contains(err.Error(), "/usr/local/bin/fixture") {
				t.Errorf("%s: error %q does not name the file", where, err)
			}
			if res != nil {
				if diff := cmp.Diff(rows(whole.Packages), rows(res.Packages)); diff != "" {
					t.Errorf("%s: partial package list (-want +got):\n%s", where, diff)
				}
			}
		}
	}
}

func TestToolchainVersion(t *testing.T) {
	for in, want := range map[string]string{
		"go1.22.3":                  "1.22.3",
		"go1.21rc2":                 "1.21rc2",
		"go1.22.3 X:boringcrypto":   "1.22.3",
		"devel go1.23-e7b5bf3 Tue":  "",
		"":                          "",
		"go":                        "",
		"gox":                       "",
		"go1.24.0 X:nocoverage,foo": "1.24.0",
	} {
		if got := toolchainVersion(in); got != want {
			t.Errorf("toolchainVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPURL(t *testing.T) {
	for _, tt := range []struct{ path, version, want string }{
		{"github.com/Azure/azure-sdk-for-go", "v68.0.0+incompatible", "pkg:golang/github.com/Azure/azure-sdk-for-go@v68.0.0%2Bincompatible"},
		{"github.com/foo/bar/v2", "v2.1.0", "pkg:golang/github.com/foo/bar/v2@v2.1.0"},
		{"stdlib", "1.22.3", "pkg:golang/stdlib@1.22.3"},
		{"gopkg.in/yaml.v3", "v3.0.1", "pkg:golang/gopkg.in/yaml.v3@v3.0.1"},
		{"example.com/m", "", "pkg:golang/example.com/m"},
	} {
		if got := PURL(tt.path, tt.version); got != tt.want {
			t.Errorf("PURL(%q, %q) = %q, want %q", tt.path, tt.version, got, tt.want)
		}
	}
}

// fakeELF returns a minimal little-endian ELF64 executable whose one
// writable segment holds a Go 1.18+ build information blob with toolchain
// version vers and module information mod. It is small enough to seed the
// fuzzer and reaches every step of the parse.
func fakeELF(vers, mod string) []byte {
	var blob bytes.Buffer
	blob.WriteString("\xff Go buildinf:")
	blob.WriteByte(8)   // pointer size
	blob.WriteByte(0x2) // flags: little endian, strings inline
	blob.Write(make([]byte, 16))
	blob.Write(binary.AppendUvarint(nil, uint64(len(vers))))
	blob.WriteString(vers)
	if mod != "" {
		// cmd/go frames module information with 16-byte sentinels.
		mod = "0w\xaf\f\x92t\b\x02A\xe1\xc1\a\xe6\xd6\x18\xe6" + mod + "\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"
	}
	blob.Write(binary.AppendUvarint(nil, uint64(len(mod))))
	blob.WriteString(mod)

	const (
		ehsize = 64
		phsize = 56
		off    = 128 // data offset, 16-byte aligned
		vaddr  = 0x10000 + off
	)
	var b bytes.Buffer
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Entry: vaddr, Phoff: ehsize, Ehsize: ehsize, Phentsize: phsize, Phnum: 1,
	}
	copy(h.Ident[:], "\x7fELF")
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	binary.Write(&b, binary.LittleEndian, h)
	binary.Write(&b, binary.LittleEndian, elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W), Off: off, Vaddr: vaddr, Paddr: vaddr,
		Filesz: uint64(blob.Len() + 16), Memsz: uint64(blob.Len() + 16), Align: 16,
	})
	b.Write(make([]byte, off-b.Len()))
	b.Write(blob.Bytes())
	b.Write(make([]byte, 16)) // the linker never ends a segment with the blob
	return b.Bytes()
}

func modinfo(bi *debug.BuildInfo) string { return bi.String() + "\n" }

func TestSynthetic(t *testing.T) {
	bi := &debug.BuildInfo{
		Path: "example.com/cmd/app",
		Main: debug.Module{Path: "example.com/cmd", Version: "v1.2.3"},
		Deps: []*debug.Module{
			{Path: "github.com/a/b", Version: "v0.1.0", Sum: "h1:x"},
			{Path: "github.com/c/d", Version: "v1.0.0", Replace: &debug.Module{Path: "github.com/c/d", Version: "v1.0.1"}},
			{Path: "github.com/e/f", Version: "v1.0.0", Replace: &debug.Module{Path: "github.com/g/f", Version: "v1.0.0"}},
			// Two modules replaced by the same one are reported once.
			{Path: "github.com/h/i", Version: "v1.0.0", Replace: &debug.Module{Path: "github.com/g/f", Version: "v1.0.0"}},
			{Path: "example.com/x", Version: "v0.0.0-00010101000000-000000000000", Replace: &debug.Module{Path: "/src/x"}},
		},
	}
	tests := []struct {
		name, vers, mod string
		want            []row
	}{
		{"modules", "go1.22.3 X:boringcrypto", modinfo(bi), []row{
			{"example.com/cmd", "v1.2.3", "pkg:golang/example.com/cmd@v1.2.3"},
			{"github.com/a/b", "v0.1.0", "pkg:golang/github.com/a/b@v0.1.0"},
			{"github.com/c/d", "v1.0.1", "pkg:golang/github.com/c/d@v1.0.1"},
			{"github.com/g/f", "v1.0.0", "pkg:golang/github.com/g/f@v1.0.0"},
			{"example.com/x", "", "pkg:golang/example.com/x"},
			{"stdlib", "1.22.3", "pkg:golang/stdlib@1.22.3"},
		}},
		// A toolchain binary or a GOPATH build: no module information.
		{"no modules", "go1.21.0", "", []row{{"stdlib", "1.21.0", "pkg:golang/stdlib@1.21.0"}}},
		{"go run file.go", "go1.21.0", "path\tcommand-line-arguments\nmod\tcommand-line-arguments\t(devel)\t\n",
			[]row{{"stdlib", "1.21.0", "pkg:golang/stdlib@1.21.0"}}},
		{"devel toolchain", "devel go1.23-e7b5bf3 Tue Jan 2 2024", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := analyzeFile(t, "/bin/app", fakeELF(tt.vers, tt.mod))
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			if res != nil {
				got = rows(res.Packages)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMalformedELF(t *testing.T) {
	good := fakeELF("go1.22.3", "")
	cases := map[string][]byte{
		"garbage after magic": append([]byte("\x7fELF"), bytes.Repeat([]byte{0xff}, 2048)...),
		"segment past EOF":    good[:len(good)-4],
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := analyzeFile(t, "/bin/app", b)
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestContextCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b := fakeELF("go1.22.3", "")
	if _, err := Parse(ctx, bytes.NewReader(b), int64(len(b))); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// FuzzParse: no input panics, hangs or yields a package without a name; an
// error is always ErrMalformed (or the size limit).
func FuzzParse(f *testing.F) {
	bi := &debug.BuildInfo{
		Main: debug.Module{Path: "example.com/cmd", Version: "(devel)"},
		Deps: []*debug.Module{
			{Path: "github.com/a/b", Version: "v0.1.0"},
			{Path: "github.com/c/d", Version: "v1.0.0", Replace: &debug.Module{Path: "github.com/e/d", Version: "v2.0.0+incompatible"}},
		},
	}
	f.Add(fakeELF("go1.22.3", modinfo(bi)))
	f.Add(fakeELF("go1.22.3", ""))
	f.Add(fakeELF("devel go1.23-abc", "garbage\n"))
	f.Add([]byte("MZ\x00\x00"))
	f.Add(append([]byte{0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 1}, make([]byte, 64)...))
	f.Add(append([]byte{0xcf, 0xfa, 0xed, 0xfe}, make([]byte, 64)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := Parse(context.Background(), bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		for _, p := range pkgs {
			if p.Name == "" || p.Type != Type || !strings.HasPrefix(p.PURL, "pkg:golang/") {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	gobin, err := os.ReadFile(fixture(b, "linux", "amd64"))
	if err != nil {
		b.Fatal(err)
	}
	cases := map[string][]byte{"go-elf": gobin}
	if ls, err := os.ReadFile("/bin/ls"); err == nil {
		cases["non-go-elf"] = ls
	}
	cases["script"] = []byte("#!/bin/sh\n" + strings.Repeat("echo\n", 400))
	for name, data := range cases {
		b.Run(name, func(b *testing.B) {
			r := bytes.NewReader(data)
			for b.Loop() {
				if _, err := Parse(context.Background(), r, int64(len(data))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

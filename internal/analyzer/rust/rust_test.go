package rust

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/analyzertest"
)

func TestRequired(t *testing.T) {
	a := New()
	for p, want := range map[string]bool{
		"/src/app/Cargo.lock":                          true,
		"/usr/local/cargo/registry/src/x/y/Cargo.lock": true,
		"/src/app/Cargo.toml":                          false,
		"/src/app/cargo.lock":                          false,
		"/src/app/Cargo.lock.bak":                      false,
		"/src/app/target/release/.fingerprint/x/Cargo": false,
	} {
		if got := a.Required(p, analyzertest.File(100)); got != want {
			t.Errorf("Required(%s) = %v, want %v", p, got, want)
		}
	}
	analyzertest.CheckSizeLimit(t, a, "/Cargo.lock", MaxFileSize)
}

func analyze(t *testing.T, b []byte) []string {
	t.Helper()
	const p = "/src/app/Cargo.lock"
	res, err := New().Analyze(context.Background(), analyzer.Input{Path: p, Info: analyzertest.File(int64(len(b))), Content: bytes.NewReader(b)})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if res != nil {
		for _, pk := range res.Packages {
			if pk.Type != Type || pk.FoundBy != Name || len(pk.Locations) != 1 || pk.Locations[0].Path != p {
				t.Errorf("%s: type %q foundBy %q locations %v", pk.Name, pk.Type, pk.FoundBy, pk.Locations)
			}
			out = append(out, pk.PURL)
		}
	}
	return out
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSigstoreV4(t *testing.T) {
	got := analyze(t, read(t, "testdata/sigstore.Cargo.lock"))
	// 67 packages: 64 from crates.io, 3 workspace crates without source.
	if len(got) != 64 {
		t.Errorf("%d crates, want 64", len(got))
	}
	for _, want := range []string{"pkg:cargo/serde@1.0.228", "pkg:cargo/windows-sys@0.59.0", "pkg:cargo/prost@0.14.3", "pkg:cargo/wasi@0.11.0%2Bwasi-snapshot-preview1"} {
		if !contains(got, want) {
			t.Errorf("%s missing from %v", want, got)
		}
	}
	for _, p := range got {
		if strings.Contains(p, "sigstore") {
			t.Errorf("workspace crate reported: %s", p)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestV1AndGitDeps(t *testing.T) {
	v1 := analyze(t, read(t, "testdata/v1.Cargo.lock"))
	if len(v1) != 14 || !contains(v1, "pkg:cargo/windows-sys@0.52.0") || !contains(v1, "pkg:cargo/windows-sys@0.59.0") {
		t.Errorf("v1: %v", v1)
	}
	// regex, regex-automata and regex-syntax are locked twice: from
	// crates.io (for nom-regex) and from git (for the app); only the
	// registry ones count.
	git := analyze(t, read(t, "testdata/git-deps.Cargo.lock"))
	want := []string{
		"pkg:cargo/aho-corasick@1.1.3", "pkg:cargo/memchr@2.7.4", "pkg:cargo/minimal-lexical@0.2.1",
		"pkg:cargo/nom@7.1.3", "pkg:cargo/nom-regex@0.2.0", "pkg:cargo/regex@1.11.1",
		"pkg:cargo/regex-automata@0.4.9", "pkg:cargo/regex-syntax@0.8.5",
	}
	if diff := cmp.Diff(want, git); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRegistries(t *testing.T) {
	in := `version = 4

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["internal-auth", "serde"]

[[package]]
name = "serde"
version = "1.0.203"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "7253ab4de971e72fb7be983802300c30b5a7f0c2e56fab8abfc6a214307c0094"

[[package]]
name = "internal-auth"
version = "2.1.0"
source = "sparse+https://cargo.example.com/index/"
checksum = "0000000000000000000000000000000000000000000000000000000000000000"

[[package]]
name = "local-util"
version = "0.3.0"

[[package]]
name = "serde"
version = "1.0.203"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "regex"
version = "1.11.1"
source = "git+https://github.com/rust-lang/regex.git#1a069b9232c607b34c4937122361aa075ef573fa"

[[package]]
name = "nover"
source = "registry+https://github.com/rust-lang/crates.io-index"
`
	want := []string{"pkg:cargo/serde@1.0.203", "pkg:cargo/internal-auth@2.1.0?repository_url=https:%2F%2Fcargo.example.com%2Findex%2F"}
	if diff := cmp.Diff(want, analyze(t, []byte(in))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestErrors(t *testing.T) {
	for _, in := range []string{"[[package]]\nname = ", "[[package]]\nname = 1\n", "package = 3\n"} {
		_, err := New().Analyze(context.Background(), analyzer.Input{Path: "/x/Cargo.lock", Content: strings.NewReader(in)})
		if err == nil || !strings.Contains(err.Error(), "/x/Cargo.lock") {
			t.Errorf("%q: err = %v, want an error naming the file", in, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Analyze(ctx, analyzer.Input{Path: "/x/Cargo.lock", Content: strings.NewReader("")}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
	if res, err := New().Analyze(context.Background(), analyzer.Input{Path: "/x/Cargo.lock", Content: strings.NewReader("version = 4\n")}); res != nil || err != nil {
		t.Errorf("empty lockfile: %v, %v", res, err)
	}
}

func FuzzParseLockfile(f *testing.F) {
	_ = filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".lock") {
			b, _ := os.ReadFile(p)
			f.Add(b)
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		crates, err := ParseLockfile(b)
		if err != nil {
			return
		}
		for _, c := range crates {
			if c.Name == "" || c.Version == "" || !IsRegistry(c.Source) {
				t.Fatalf("bad crate %+v", c)
			}
			if !strings.HasPrefix(PURL(c.Name, c.Version, c.Source), "pkg:cargo/") {
				t.Fatal("bad purl")
			}
		}
	})
}

type modeInfo struct {
	size int64
	mode os.FileMode
}

func (f modeInfo) Name() string       { return "x" }
func (f modeInfo) Size() int64        { return f.size }
func (f modeInfo) Mode() os.FileMode  { return f.mode }
func (f modeInfo) ModTime() time.Time { return time.Time{} }
func (f modeInfo) IsDir() bool        { return false }
func (f modeInfo) Sys() any           { return nil }

func TestRequiredBinary(t *testing.T) {
	a := New()
	for _, tt := range []struct {
		path string
		info fs.FileInfo
		want bool
	}{
		{"/usr/local/bin/rg", modeInfo{5 << 20, 0o755}, true},
		{"/app/server", modeInfo{5 << 20, 0o700}, true},
		{"/usr/bin/not-executable", modeInfo{5 << 20, 0o644}, true},
		{"/app/data.bin", modeInfo{5 << 20, 0o644}, false},
		{"/app/tiny", modeInfo{100, 0o755}, false},
		{"/app/huge", modeInfo{MaxBinarySize + 1, 0o755}, false},
		{"/usr/bin/link", modeInfo{5 << 20, fs.ModeSymlink | 0o777}, false},
	} {
		if got := a.Required(tt.path, tt.info); got != tt.want {
			t.Errorf("Required(%s, %v) = %v, want %v", tt.path, tt.info.Mode(), got, tt.want)
		}
	}
}

func analyzeBin(t *testing.T, b []byte) ([]string, error) {
	t.Helper()
	const p = "/usr/local/bin/hello-auditable"
	res, err := New().Analyze(context.Background(), analyzer.Input{Path: p, Info: modeInfo{int64(len(b)), 0o755}, Content: bytes.NewReader(b)})
	var out []string
	if res != nil {
		for _, pk := range res.Packages {
			if pk.Type != Type || pk.FoundBy != Name || len(pk.Locations) != 1 || pk.Locations[0].Path != p {
				t.Errorf("bad package %+v", pk)
			}
			out = append(out, pk.PURL)
		}
	}
	return out, err
}

func TestAuditableBinary(t *testing.T) {
	got, err := analyzeBin(t, read(t, "testdata/hello-auditable"))
	if err != nil {
		t.Fatal(err)
	}
	// Not the root crate, the local my-util, the git regex nor the
	// build-time serde_derive.
	if diff := cmp.Diff([]string{"pkg:cargo/cfg-if@1.0.0", "pkg:cargo/log@0.4.20"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, in := range [][]byte{read(t, "testdata/plain-elf"), []byte("#!/bin/sh\necho hi\n"), []byte("\x7fELF garbage"), nil} {
		if got, err := analyzeBin(t, in); got != nil || err != nil {
			t.Errorf("%q: %v, %v; want nothing", in[:min(len(in), 8)], got, err)
		}
	}
}

func TestAuditableCorrupt(t *testing.T) {
	b := read(t, "testdata/hello-auditable")
	// Find the section's zlib stream and break its header.
	i := bytes.Index(b, []byte{0x78, 0x9c})
	if i < 0 {
		t.Fatal("no zlib header in the fixture")
	}
	bad := bytes.Clone(b)
	bad[i+1] = 0x00
	if _, err := analyzeBin(t, bad); err == nil || !strings.Contains(err.Error(), ".dep-v0") {
		t.Errorf("err = %v, want a .dep-v0 error", err)
	}
}

func TestParseAudit(t *testing.T) {
	crates, err := ParseAudit(read(t, "testdata/hello-auditable.dep-v0.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Crate{{"cfg-if", "1.0.0", CratesIO}, {"log", "0.4.20", CratesIO}}
	if diff := cmp.Diff(want, crates); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ParseAudit([]byte(`{"packages": {}}`)); err == nil {
		t.Error("no error for a wrong shape")
	}
}

func FuzzParseAudit(f *testing.F) {
	b, _ := os.ReadFile("testdata/hello-auditable.dep-v0.json")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		crates, err := ParseAudit(b)
		if err != nil {
			return
		}
		for _, c := range crates {
			if c.Name == "" || c.Version == "" || c.Source != CratesIO {
				t.Fatalf("bad crate %+v", c)
			}
		}
	})
}

func FuzzReadAuditSection(f *testing.F) {
	b, _ := os.ReadFile("testdata/hello-auditable")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := ReadAuditSection(bytes.NewReader(b))
		if err == nil && len(out) > maxAuditJSON {
			t.Fatal("over the cap")
		}
	})
}

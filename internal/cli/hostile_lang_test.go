package cli

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/bulkhead-sec/bulkhead/internal/testutil/imagebuild"
)

// hostileTree writes, next to ordinary packages, every kind of hostile
// input the language analyzers meet in the wild or in an attack: a 50 MB
// package.json, a package-lock.json of a million entries, node_modules
// symlinked into itself, a jar nested 50 deep, a zip bomb, a truncated Go
// executable and one whose section table claims 4 GiB.
func hostileTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"app/package.json":                   `{"name":"web","version":"0.1.0","private":true}`,
		"app/node_modules/ok/package.json":   `{"name":"ok","version":"1.0.0","license":"MIT"}`,
		"app/node_modules/@s/x/package.json": `{"name":"@s/x","version":"2.0.0"}`,
	})
	// 50 MB package.json: valid JSON, one enormous description.
	big := bytes.NewBufferString(`{"name":"big","version":"1.0.0","description":"`)
	big.Write(bytes.Repeat([]byte("a"), 50<<20))
	big.WriteString(`"}`)
	mustWrite(t, filepath.Join(dir, "app/node_modules/big/package.json"), big.Bytes())
	// A lockfile of a million entries.
	var lock bytes.Buffer
	lock.WriteString(`{"name":"web","version":"0.1.0","lockfileVersion":3,"packages":{"":{"name":"web","version":"0.1.0"}`)
	for i := range 1_000_000 {
		fmt.Fprintf(&lock, `,"node_modules/p%d":{"version":"1.0.%d"}`, i, i%100)
	}
	lock.WriteString(`}}`)
	mustWrite(t, filepath.Join(dir, "app/package-lock.json"), lock.Bytes())
	// node_modules symlinked into itself, twice over.
	for link, target := range map[string]string{
		"app/node_modules/loop":                 ".",
		"app/node_modules/ok/node_modules/back": "../../..",
	} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, link)), 0o755)
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	// A jar nested 50 deep, each level with its own pom.properties.
	inner := zipOf(t, map[string][]byte{"META-INF/maven/g/level50/pom.properties": []byte("groupId=g\nartifactId=level50\nversion=50\n")})
	for i := 49; i >= 0; i-- {
		inner = zipOf(t, map[string][]byte{
			fmt.Sprintf("META-INF/maven/g/level%d/pom.properties", i): fmt.Appendf(nil, "groupId=g\nartifactId=level%d\nversion=%d\n", i, i),
			"lib/inner.jar": inner,
		})
	}
	mustWrite(t, filepath.Join(dir, "app/lib/deep.jar"), inner)
	// A zip bomb: 1 GiB of zeros deflated into about a megabyte, in a jar.
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("META-INF/maven/g/bomb/pom.properties")
	w.Write([]byte("groupId=g\nartifactId=bomb\nversion=1\n"))
	w, _ = zw.Create("lib/zeros.jar")
	zeros := make([]byte, 1<<20)
	for range 1024 {
		w.Write(zeros)
	}
	zw.Close()
	mustWrite(t, filepath.Join(dir, "app/lib/bomb.jar"), bomb.Bytes())
	// Go executables: this test binary cut in half, and whole but with a
	// section header that claims 4 GiB.
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, "app/bin/truncated"), b[:len(b)/2])
	mustWrite(t, filepath.Join(dir, "app/bin/huge-section"), claim4GiB(t, b, ".go.buildinfo"))
	return dir
}

func mustWrite(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// claim4GiB returns a copy of the 64-bit little-endian ELF b whose section
// name has its size field set to 4 GiB.
func claim4GiB(t *testing.T, b []byte, name string) []byte {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if f.Class != elf.ELFCLASS64 || f.ByteOrder != binary.LittleEndian {
		t.Skip("not a 64-bit little-endian ELF test binary")
	}
	idx := -1
	for i, s := range f.Sections {
		if s.Name == name {
			idx = i
		}
	}
	if idx < 0 {
		t.Fatalf("no %s section in the test binary", name)
	}
	out := bytes.Clone(b)
	shoff := binary.LittleEndian.Uint64(out[0x28:])
	shentsize := uint64(binary.LittleEndian.Uint16(out[0x3a:]))
	// Elf64_Shdr: sh_size is at offset 32.
	binary.LittleEndian.PutUint64(out[shoff+uint64(idx)*shentsize+32:], 4<<30)
	return out
}

// TestHostileLanguageInput scans the hostile tree as a directory: each bad
// file is a warning that names it, and every ordinary package around them
// is still found.
func TestHostileLanguageInput(t *testing.T) {
	if testing.Short() {
		t.Skip("writes ~100 MB of hostile files")
	}
	dir := hostileTree(t)
	t.Run("fs", func(t *testing.T) { checkHostile(t, "fs", dir) })
	// The same files as one image layer: the layer walk meets them in a
	// stream and must not be thrown off either.
	tarPath := filepath.Join(t.TempDir(), "layer.tar")
	if err := imagebuild.WriteDirTar(dir, tarPath); err != nil {
		t.Fatal(err)
	}
	img, err := imagebuild.Image([]imagebuild.Layer{{Tar: tarPath, CreatedBy: "COPY . /"}}, v1.Config{}, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "hostile.tar")
	if err := imagebuild.WriteDockerArchive(archive, "hostile:1", img); err != nil {
		t.Fatal(err)
	}
	os.Remove(tarPath)
	t.Run("image", func(t *testing.T) { checkHostile(t, "image", "docker-archive:"+archive) })
}

func checkHostile(t *testing.T, kind, target string) {
	t.Helper()
	code, out, errOut := run(t, "scan", kind, target, "--format", "json", "--scanners=")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Packages []struct {
			Name, Version, Type string
			Private             bool
		}
		Warnings []struct{ Analyzer, Path, Message string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, p := range rep.Packages {
		have[p.Type+"/"+p.Name+"@"+p.Version] = true
		if p.Name == "web" && !p.Private {
			t.Error("the private application manifest is not marked private")
		}
	}
	for _, want := range []string{"npm/web@0.1.0", "npm/ok@1.0.0", "npm/@s/x@2.0.0", "maven/g:level0@0", "maven/g:level1@1", "maven/g:bomb@1"} {
		if !have[want] {
			t.Errorf("missing %s among the ordinary packages", want)
		}
	}
	if have["maven/g:level50@50"] {
		t.Error("the jar was opened 50 levels deep")
	}
	if len(rep.Packages) > 50 {
		t.Errorf("%d packages: the million-entry lockfile leaked into the inventory", len(rep.Packages))
	}
	warned := func(path, words string) {
		t.Helper()
		for _, w := range rep.Warnings {
			if w.Path == path && strings.Contains(w.Message, words) {
				return
			}
		}
		t.Errorf("no warning for %s containing %q; warnings: %+v", path, words, rep.Warnings)
	}
	for _, w := range rep.Warnings {
		t.Logf("warning: %s: %s: %s", w.Analyzer, w.Path, w.Message)
	}
	warned("/app/node_modules/big/package.json", "limit")
	if kind == "fs" { // image scans inventory what is installed, not lockfiles
		warned("/app/package-lock.json", "over the limit")
	}
	warned("/app/bin/huge-section", "")
	warned("/app/bin/truncated", "")
	warned("/app/lib/deep.jar", "not opened")
	warned("/app/lib/bomb.jar", "over the")
}

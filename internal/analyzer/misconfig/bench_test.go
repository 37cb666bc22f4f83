package misconfig

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
)

// manifestFolder writes n manifests into a temporary directory, cycling
// through the Kubernetes corpus (every check's variants, a rendered Helm
// chart, kubectl List JSON), and returns the directory and its total size.
func manifestFolder(tb testing.TB, n int) (string, int64) {
	tb.Helper()
	var srcs []string
	for _, g := range []string{"checks/*.yaml", "realworld/*.yaml", "realworld/*.json"} {
		m, err := filepath.Glob(filepath.Join("../../misconfig/kubernetes/testdata", g))
		if err != nil {
			tb.Fatal(err)
		}
		srcs = append(srcs, m...)
	}
	if len(srcs) == 0 {
		tb.Fatal("no corpus")
	}
	dir := tb.TempDir()
	var total int64
	for i := range n {
		src := srcs[i%len(srcs)]
		data, err := os.ReadFile(src)
		if err != nil {
			tb.Fatal(err)
		}
		sub := filepath.Join(dir, fmt.Sprintf("team-%02d", i%20))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("%04d-%s", i, filepath.Base(src))), data, 0o644); err != nil {
			tb.Fatal(err)
		}
		total += int64(len(data))
	}
	return dir, total
}

// scanFolder does what a directory scan does with this analyzer: walk,
// Required, read, analyze.
func scanFolder(tb testing.TB, a *Analyzer, dir string) (files, findings int) {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel := "/" + filepath.ToSlash(strings.TrimPrefix(p, dir))
		if !a.Required(rel, info) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fs, err := a.Findings(tb.Context(), analyzer.Input{Path: rel, Info: info, Content: bytes.NewReader(data)})
		if err != nil {
			tb.Errorf("%s: %v", rel, err)
		}
		files++
		findings += len(fs)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files, findings
}

// TestScanFolderOf1000Manifests is the benchmark as a test: a folder
// of 1,000 manifests is scanned in under 2 s.
func TestScanFolderOf1000Manifests(t *testing.T) {
	dir, size := manifestFolder(t, 1000)
	a := Default()
	start := time.Now()
	files, findings := scanFolder(t, a, dir)
	el := time.Since(start)
	t.Logf("%d manifests (%d KiB), %d findings in %v", files, size>>10, findings, el.Round(time.Millisecond))
	if files != 1000 {
		t.Errorf("scanned %d files", files)
	}
	// The 2 s budget is measured by BenchmarkScanFolder1000; here only a
	// gross regression (or a hang) fails, so a loaded CI machine does not.
	if el > 10*time.Second {
		t.Errorf("took %v; BenchmarkScanFolder1000's budget is 2s", el)
	}
}

func BenchmarkScanFolder1000(b *testing.B) {
	dir, size := manifestFolder(b, 1000)
	a := Default()
	b.SetBytes(size)
	b.ResetTimer()
	for range b.N {
		scanFolder(b, a, dir)
	}
}

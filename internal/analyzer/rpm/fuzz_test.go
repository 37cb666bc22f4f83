package rpm

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
)

// FuzzCheckHeader holds checkHeader to its promise: whatever it accepts,
// go-rpmdb parses without panic or error. (A go-rpmdb error on an accepted
// header would leak go-rpmdb's reader goroutine.)
func FuzzCheckHeader(f *testing.F) {
	// Small real headers only: every mutation of a seed the guard accepts
	// costs a go-rpmdb run, and the fuzzer minimises byte by byte.
	for _, b := range ndbBlobs(f, readFixture(f, "sle15-bci/Packages.db")) {
		if len(b) <= 16<<10 {
			f.Add(b)
		}
	}
	f.Add(pkgHeader("libuuid", "2.32.1", "42.el8_8"))
	f.Add(buildLegacyHeader(str(tagName, "a"), str(tagVersion, "1"), strArray(tagBaseNames, "x", "y")))
	f.Add(buildDribbleHeader(
		[]testEntry{str(tagName, "a"), str(tagVersion, "1")},
		[]testEntry{str(tagVersion, "2"), i32(tagInstallTime, 1)}))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, blob []byte) {
		if _, err := checkHeader(blob); err != nil {
			return
		}
		pkgs, err := goRPMDB(t, dir, blob)
		if err != nil {
			t.Fatalf("checkHeader accepted a header go-rpmdb rejects: %v", err)
		}
		if len(pkgs) != 1 {
			t.Fatalf("go-rpmdb read %d packages from one header", len(pkgs))
		}
	})
}

// FuzzAnalyze runs the whole analyzer, guard and go-rpmdb, on arbitrary
// files. A panic in go-rpmdb's reader goroutine would kill the fuzzer, and
// go-rpmdb must not fail on a database the guard let through.
func FuzzAnalyze(f *testing.F) {
	blobs := [][]byte{pkgHeader("libuuid", "2.32.1", "42.el8_8"), pkgHeader("bash", "5.1.8", "2.fc35")}
	f.Add(readFixture(f, "libuuid/Packages"))
	f.Add(joinPages(bdbPages(512, blobs...)))
	f.Add(buildNDB(blobs...))
	f.Add(buildSQLite(f, "", blobs...))
	f.Fuzz(func(t *testing.T, data []byte) {
		tmp := t.TempDir()
		res, err := New().Analyze(t.Context(), analyzer.Input{
			Path:    "/var/lib/rpm/Packages",
			Content: bytes.NewReader(data),
			TempDir: tmp,
		})
		if err != nil && (strings.Contains(err.Error(), "open rpm database") || strings.Contains(err.Error(), "list rpm packages")) {
			t.Fatalf("go-rpmdb failed on a database the guard accepted: %v", err)
		}
		if err == nil {
			for _, p := range res.Packages {
				if p.Name == "" || p.Version == "" {
					t.Fatalf("package without name or version: %+v", p)
				}
			}
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Fatalf("temp dir not cleaned up: %d entries", len(left))
		}
	})
}

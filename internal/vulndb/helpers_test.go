package vulndb

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/bulkhead-sec/bulkhead/internal/osv"
)

// samplePath returns ../shared/osv-sample relative to the repository root.
func samplePath() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "osv-sample")
	if _, err := os.Stat(p); err != nil {
		return "", false
	}
	return p, true
}

// sampleDir returns the OSV sample, skipping the test when it is absent
// (CI has it).
func sampleDir(t testing.TB) string {
	t.Helper()
	p, ok := samplePath()
	if !ok {
		if os.Getenv("CI") == "true" {
			t.Fatal("no ../shared/osv-sample next to the repository: CI must have it")
		}
		t.Skip("no ../shared/osv-sample next to the repository")
	}
	return p
}

// testNow is the clock of test imports.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testImport(t testing.TB, cacheDir string, paths ...string) *ImportStats {
	t.Helper()
	st, err := Import(context.Background(), cacheDir, paths, ImportOptions{now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("Import(%v): %v", paths, err)
	}
	return st
}

func openDB(t testing.TB, cacheDir string) *DB {
	t.Helper()
	db, err := Open(cacheDir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// adv builds an OSV record. pkgs are "Ecosystem/name" pairs.
type adv struct {
	id        string
	modified  string // RFC 3339; default 2024-01-01
	withdrawn string
	summary   string
	pkgs      []string
	versions  []string // on the first affected entry
	gitOnly   bool     // add a GIT-only affected entry
}

func (a adv) vuln() *osv.Vulnerability {
	mod := a.modified
	if mod == "" {
		mod = "2024-01-01T00:00:00Z"
	}
	m, err := time.Parse(time.RFC3339, mod)
	if err != nil {
		panic(err)
	}
	v := &osv.Vulnerability{SchemaVersion: "1.6.0", ID: a.id, Modified: m, Summary: a.summary,
		Aliases: []string{"CVE-" + a.id}}
	if a.withdrawn != "" {
		w, _ := time.Parse(time.RFC3339, a.withdrawn)
		v.Withdrawn = &w
	}
	for i, p := range a.pkgs {
		eco, name, _ := strings.Cut(p, "/")
		af := osv.Affected{
			Package: osv.Package{Ecosystem: eco, Name: name},
			Ranges: []osv.Range{{Type: osv.RangeEcosystem, Events: []osv.Event{
				{Introduced: "0"}, {Fixed: "1.2.3"}}}},
		}
		if i == 0 {
			af.Versions = a.versions
		}
		v.Affected = append(v.Affected, af)
	}
	if a.gitOnly {
		v.Affected = append(v.Affected, osv.Affected{Ranges: []osv.Range{{Type: osv.RangeGit,
			Repo: "https://example.com/repo.git", Events: []osv.Event{{Introduced: "0"}, {Fixed: "abc"}}}}})
	}
	return v
}

func (a adv) json() []byte {
	b, err := json.MarshalIndent(a.vuln(), "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// member is one file of a test zip.
type member struct {
	name  string
	data  []byte
	store bool // no compression
}

// writeZip writes a zip of members with archive/zip.
func writeZip(t testing.TB, path string, members ...member) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, m := range members {
		method := zip.Deflate
		if m.store {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: m.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// exportZip writes an osv.dev-style all.zip of advisories.
func exportZip(t testing.TB, path string, advs ...adv) string {
	t.Helper()
	var ms []member
	for _, a := range advs {
		ms = append(ms, member{name: a.id + ".json", data: a.json()})
	}
	return writeZip(t, path, ms...)
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// lookupIDs returns the ids Lookup finds.
func lookupIDs(t testing.TB, db *DB, eco, name string) []string {
	t.Helper()
	vs, err := db.Lookup(context.Background(), eco, name)
	if err != nil {
		t.Fatalf("Lookup(%q, %q): %v", eco, name, err)
	}
	ids := []string{}
	for _, v := range vs {
		ids = append(ids, v.ID)
	}
	return ids
}

// dbFiles lists the DB directory, leftovers included.
func dbFiles(t testing.TB, cacheDir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(cacheDir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// genRecord returns a realistic synthetic OSV record number i: one to
// three affected packages with ranges, a few versions, references and a
// CVSS score, about 1.5 KiB like the average osv.dev record.
func genRecord(i int) []byte {
	ecos := []string{"npm", "PyPI", "Go", "Maven", "Debian:12", "Alpine:v3.20", "Ubuntu:22.04:LTS", "crates.io"}
	v := osv.Vulnerability{
		SchemaVersion: "1.6.0",
		ID:            fmt.Sprintf("GEN-%07d", i),
		Modified:      time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
		Aliases:       []string{fmt.Sprintf("CVE-2024-%05d", i%100000)},
		Summary:       fmt.Sprintf("Synthetic advisory %d: buffer overflow in the parser of package %d", i, i%5000),
		Details:       strings.Repeat(fmt.Sprintf("Details of advisory %d. ", i), 8),
		Severity:      []osv.Severity{{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}},
		References: []osv.Reference{
			{Type: "ADVISORY", URL: fmt.Sprintf("https://example.org/advisories/GEN-%07d", i)},
			{Type: "FIX", URL: fmt.Sprintf("https://example.org/repo/commit/%040x", i)},
		},
	}
	for k := 0; k <= i%3; k++ {
		eco := ecos[(i+k)%len(ecos)]
		v.Affected = append(v.Affected, osv.Affected{
			Package:  osv.Package{Ecosystem: eco, Name: fmt.Sprintf("pkg-%d", (i*7+k)%20000)},
			Ranges:   []osv.Range{{Type: osv.RangeEcosystem, Events: []osv.Event{{Introduced: "0"}, {Fixed: fmt.Sprintf("%d.%d.%d", k+1, i%10, i%7)}}}},
			Versions: []string{"0.1.0", "0.2.0", fmt.Sprintf("%d.0.0", k)},
		})
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// genExport streams a zip of n generated records to w.
func genExport(w io.Writer, n int) error {
	zw := zip.NewWriter(w)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestSpeed)
	})
	for i := range n {
		fw, err := zw.Create(fmt.Sprintf("GEN-%07d.json", i))
		if err != nil {
			return err
		}
		if _, err := fw.Write(genRecord(i)); err != nil {
			return err
		}
	}
	return zw.Close()
}

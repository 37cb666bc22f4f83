package vulndb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The counts of ../shared/osv-sample/README.md.
var sampleCounts = map[string]int{
	"Go": 4291, "PyPI": 2661, "crates.io": 1205, "RubyGems": 1174, "npm": 484,
	"Maven": 2, "Debian": 8835, "Alpine": 2555, "Ubuntu": 1,
}

func TestImportSample(t *testing.T) {
	sample := sampleDir(t)
	dir := t.TempDir()
	st := testImport(t, dir, sample)
	if diff := cmp.Diff(sampleCounts, st.Ecosystems); diff != "" {
		t.Errorf("records per ecosystem (-want +got):\n%s", diff)
	}
	total := 0
	for _, n := range sampleCounts {
		total += n
	}
	if st.Records != total || st.Added != total || st.Skipped != 0 || st.Sources != len(sampleCounts) {
		t.Errorf("stats = %+v, want %d records, all added, none skipped, %d sources", st, total, len(sampleCounts))
	}

	db := openDB(t, dir)
	ctx := context.Background()
	for _, tc := range []struct {
		eco, name, id string
	}{
		{"Go", "github.com/gin-gonic/gin", "GO-2020-0001"},
		{"Debian:6", "gnutls26", "DLA-0001-1"},
		{"Ubuntu:Pro:16.04:LTS", "openssl", "CVE-2023-0286"},
		{"Maven", "org.apache.logging.log4j:log4j-core", "GHSA-jfh8-c2jp-5v3q"},
	} {
		vs, err := db.Lookup(ctx, tc.eco, tc.name)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, v := range vs {
			found = found || v.ID == tc.id
		}
		if !found {
			t.Errorf("Lookup(%q, %q): %d advisories, %s not among them", tc.eco, tc.name, len(vs), tc.id)
		}
	}
	status, err := db.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if status.Advisories != total {
		t.Errorf("Status().Advisories = %d, want %d", status.Advisories, total)
	}
	for _, e := range status.Ecosystems {
		want := filepath.Join(sample, e.Name, "all.zip")
		if e.Source != want || !e.FetchedAt.Equal(testNow) {
			t.Errorf("%s: source %q fetched %v, want %q at %v", e.Name, e.Source, e.FetchedAt, want, testNow)
		}
	}
	db.Close()

	// A second import of the same data changes nothing.
	before, err := os.ReadFile(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	st = testImport(t, dir, sample)
	if st.Unchanged != total || st.Added+st.Updated+st.Older != 0 {
		t.Errorf("re-import stats = %+v, want all %d unchanged", st, total)
	}
	after, err := os.ReadFile(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != len(after) {
		t.Errorf("re-import changed the DB size from %d to %d", len(before), len(after))
	}
}

func TestImportNewerWins(t *testing.T) {
	v1 := adv{id: "X-1", modified: "2024-01-01T00:00:00Z", summary: "v1", pkgs: []string{"npm/a"}}
	v2 := adv{id: "X-1", modified: "2024-02-01T00:00:00Z", summary: "v2", pkgs: []string{"npm/b"}}
	v2b := adv{id: "X-1", modified: "2024-02-01T00:00:00Z", summary: "v2 again, reworded", pkgs: []string{"npm/b"}}
	for _, tc := range []struct {
		name    string
		imports []adv
		want    ImportStats // of the last import, counts only
		summary string
		pkgA    []string // Lookup(npm, a)
	}{
		{"newer replaces", []adv{v1, v2}, ImportStats{Records: 1, Updated: 1}, "v2", []string{}},
		{"older is ignored", []adv{v2, v1}, ImportStats{Records: 1, Older: 1}, "v2", []string{}},
		{"same is unchanged", []adv{v1, v1}, ImportStats{Records: 1, Unchanged: 1}, "v1", []string{"X-1"}},
		{"same date, new content: last wins", []adv{v2, v2b}, ImportStats{Records: 1, Updated: 1}, "v2 again, reworded", []string{}},
		{"withdrawn later", []adv{v1, {id: "X-1", modified: "2024-03-01T00:00:00Z", withdrawn: "2024-03-01T00:00:00Z", pkgs: []string{"npm/a"}}},
			ImportStats{Records: 1, Updated: 1, Withdrawn: 1}, "", []string{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var st *ImportStats
			for i, a := range tc.imports {
				st = testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "npm", "all.zip"), a))
				if i == 0 && st.Added != 1 {
					t.Fatalf("first import: %+v", st)
				}
			}
			got := ImportStats{Records: st.Records, Added: st.Added, Updated: st.Updated, Unchanged: st.Unchanged, Older: st.Older, Withdrawn: st.Withdrawn}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			db := openDB(t, dir)
			v, err := db.Get(context.Background(), "X-1")
			if err != nil || v == nil {
				t.Fatalf("Get = %v, %v", v, err)
			}
			if v.Summary != tc.summary {
				t.Errorf("summary = %q, want %q", v.Summary, tc.summary)
			}
			if diff := cmp.Diff(tc.pkgA, lookupIDs(t, db, "npm", "a")); diff != "" {
				t.Errorf("Lookup(npm, a) (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImportInputs(t *testing.T) {
	a := adv{id: "A-1", pkgs: []string{"npm/a"}}
	b := adv{id: "B-1", pkgs: []string{"PyPI/b"}}
	c := adv{id: "C-1", pkgs: []string{"Go/c"}}
	for _, tc := range []struct {
		name  string
		paths func(t *testing.T, dir string) []string
		want  []string // ids found
	}{
		{"one JSON file", func(t *testing.T, dir string) []string {
			return []string{writeFile(t, filepath.Join(dir, "A-1.json"), a.json())}
		}, []string{"A-1"}},
		{"directory of JSON files, nested, other files ignored", func(t *testing.T, dir string) []string {
			writeFile(t, filepath.Join(dir, "x", "A-1.json"), a.json())
			writeFile(t, filepath.Join(dir, "x", "y", "B-1.JSON"), b.json())
			writeFile(t, filepath.Join(dir, "README.md"), []byte("# not OSV"))
			return []string{dir}
		}, []string{"A-1", "B-1"}},
		{"zip of JSON files with folders and other members", func(t *testing.T, dir string) []string {
			return []string{writeZip(t, filepath.Join(dir, "advisories.zip"),
				member{name: "advisories/"},
				member{name: "advisories/2024/A-1.json", data: a.json()},
				member{name: "advisories/2024/B-1.json", data: b.json(), store: true},
				member{name: "advisories/LICENSE", data: []byte("CC-BY-4.0")})}
		}, []string{"A-1", "B-1"}},
		{"osv.dev layout: directory of <Ecosystem>/all.zip", func(t *testing.T, dir string) []string {
			exportZip(t, filepath.Join(dir, "npm", "all.zip"), a)
			exportZip(t, filepath.Join(dir, "PyPI", "all.zip"), b)
			return []string{dir}
		}, []string{"A-1", "B-1"}},
		{"several paths, zip and JSON", func(t *testing.T, dir string) []string {
			return []string{
				exportZip(t, filepath.Join(dir, "npm", "all.zip"), a),
				writeFile(t, filepath.Join(dir, "B-1.json"), b.json()),
				writeFile(t, filepath.Join(dir, "more", "C-1.json"), c.json()),
			}
		}, []string{"A-1", "B-1", "C-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache := t.TempDir()
			testImport(t, cache, tc.paths(t, t.TempDir())...)
			db := openDB(t, cache)
			var got []string
			for _, p := range []struct{ eco, name string }{{"npm", "a"}, {"PyPI", "b"}, {"Go", "c"}} {
				got = append(got, lookupIDs(t, db, p.eco, p.name)...)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ids found (-want +got):\n%s", diff)
			}
		})
	}
}

// Imports add to what is there: other ecosystems stay.
func TestImportKeepsOtherData(t *testing.T) {
	dir := t.TempDir()
	testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "npm", "all.zip"), adv{id: "A-1", pkgs: []string{"npm/a"}}))
	testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "PyPI", "all.zip"), adv{id: "B-1", pkgs: []string{"PyPI/b"}}))
	db := openDB(t, dir)
	if got := append(lookupIDs(t, db, "npm", "a"), lookupIDs(t, db, "PyPI", "b")...); !cmp.Equal(got, []string{"A-1", "B-1"}) {
		t.Errorf("after two imports: %v", got)
	}
}

// Failed imports leave the DB as it was and nothing half-written behind.
func TestImportFailuresKeepDB(t *testing.T) {
	src := t.TempDir()
	good := exportZip(t, filepath.Join(src, "good", "all.zip"), adv{id: "A-1", pkgs: []string{"npm/a"}})
	for _, tc := range []struct {
		name    string
		paths   []string
		wantErr string
	}{
		{"missing path", []string{filepath.Join(src, "nope.zip")}, "no such file"},
		{"no paths", nil, "no paths given"},
		{"zip without OSV JSON", []string{writeZip(t, filepath.Join(src, "other.zip"), member{name: "x.txt", data: []byte("hi")})}, "no OSV records found"},
		{"not a zip", []string{writeFile(t, filepath.Join(src, "x.zip"), []byte(strings.Repeat("plain text, not a zip\n", 10)))}, "not a zip file"},
		{"only malformed records", []string{writeFile(t, filepath.Join(src, "bad.json"), []byte(`{"id": 5}`))}, "1 skipped"},
		{"a good path, then a bad one", []string{
			exportZip(t, filepath.Join(src, "new", "all.zip"), adv{id: "B-1", pkgs: []string{"npm/b"}}),
			writeFile(t, filepath.Join(src, "y.zip"), []byte("PK garbage")),
		}, "copy or download it again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			testImport(t, dir, good)
			before, _ := os.ReadFile(Path(dir))
			_, err := Import(context.Background(), dir, tc.paths, ImportOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Import = %v, want an error containing %q", err, tc.wantErr)
			}
			after, _ := os.ReadFile(Path(dir))
			if string(before) != string(after) {
				t.Error("a failed import changed the DB")
			}
			if diff := cmp.Diff([]string{"lock", "vuln.db"}, dbFiles(t, dir), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("files left in the DB directory (-want +got):\n%s", diff)
			}
			if got := lookupIDs(t, openDB(t, dir), "npm", "a"); !cmp.Equal(got, []string{"A-1"}) {
				t.Errorf("old DB after a failed import: %v", got)
			}
		})
	}
}

func TestImportCancelled(t *testing.T) {
	sample := sampleDir(t)
	dir := t.TempDir()
	testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "npm", "all.zip"), adv{id: "A-1", pkgs: []string{"npm/a"}}))
	ctx, cancel := context.WithCancel(context.Background())
	// Cancel once the import is under way: at its first progress line.
	_, err := Import(ctx, dir, []string{sample}, ImportOptions{Progress: cancelWriter(cancel), Limits: Limits{}})
	if err == nil || !strings.Contains(err.Error(), "database is unchanged") {
		t.Fatalf("cancelled Import = %v, want an error saying the DB is unchanged", err)
	}
	if diff := cmp.Diff([]string{"lock", "vuln.db"}, dbFiles(t, dir)); diff != "" {
		t.Errorf("files left (-want +got):\n%s", diff)
	}
	if got := lookupIDs(t, openDB(t, dir), "npm", "a"); !cmp.Equal(got, []string{"A-1"}) {
		t.Errorf("old DB after a cancelled import: %v", got)
	}
}

// cancelWriter cancels on its first write.
type cancelWriter context.CancelFunc

func (c cancelWriter) Write(p []byte) (int, error) {
	c()
	return len(p), nil
}

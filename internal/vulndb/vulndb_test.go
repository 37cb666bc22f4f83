package vulndb

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestOpenNoDB(t *testing.T) {
	_, err := Open(t.TempDir())
	if !errors.Is(err, ErrNoDB) {
		t.Fatalf("Open of an empty cache dir = %v, want ErrNoDB", err)
	}
	for _, want := range []string{"bulkhead db update", "bulkhead db import PATH"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestOpenUnreadable(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, Path(dir), []byte("this is not SQLite"))
	_, err := Open(dir)
	if err == nil || !strings.Contains(err.Error(), "bulkhead db update") {
		t.Fatalf("Open of a garbage DB = %v, want an error naming `bulkhead db update`", err)
	}
	// An import replaces it with a working DB and says so.
	st := testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "all.zip"), adv{id: "A-1", pkgs: []string{"npm/a"}}))
	if !strings.Contains(st.Note, "unreadable") {
		t.Errorf("Note = %q, want it to say the old DB was unreadable", st.Note)
	}
	if got := lookupIDs(t, openDB(t, dir), "npm", "a"); !cmp.Equal(got, []string{"A-1"}) {
		t.Errorf("Lookup after rebuild = %v", got)
	}
}

func TestOpenSchemaMismatch(t *testing.T) {
	dir := t.TempDir()
	testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "all.zip"), adv{id: "A-1", pkgs: []string{"npm/a"}}))
	raw, err := sql.Open("sqlite", Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE meta SET value = '999' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, err = Open(dir)
	if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "bulkhead db update") {
		t.Fatalf("Open = %v, want ErrSchema naming `bulkhead db update`", err)
	}
	st := testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "all.zip"), adv{id: "B-1", pkgs: []string{"npm/b"}}))
	if !strings.Contains(st.Note, "schema v999") {
		t.Errorf("Note = %q, want it to explain the rebuild", st.Note)
	}
	db := openDB(t, dir)
	if got := lookupIDs(t, db, "npm", "a"); len(got) != 0 {
		t.Errorf("records of the incompatible DB survived: %v", got)
	}
	if got := lookupIDs(t, db, "npm", "b"); !cmp.Equal(got, []string{"B-1"}) {
		t.Errorf("Lookup(npm, b) = %v", got)
	}
}

func TestLookup(t *testing.T) {
	dir := t.TempDir()
	zip := exportZip(t, filepath.Join(t.TempDir(), "all.zip"),
		adv{id: "DSA-1", pkgs: []string{"Debian:12/openssl", "Debian:11/openssl"}},
		adv{id: "DSA-2", pkgs: []string{"Debian:12/openssl", "Debian:12/openssl"}}, // listed twice
		adv{id: "DSA-3", pkgs: []string{"Debian:11/openssl"}},
		adv{id: "PYSEC-1", pkgs: []string{"PyPI/Foo_Bar.baz"}},
		adv{id: "GHSA-m", pkgs: []string{"Maven/org.Apache.logging:Log4j-Core"}},
		adv{id: "GHSA-n", pkgs: []string{"npm/Left-Pad"}},
		adv{id: "GHSA-w", pkgs: []string{"npm/left-pad"}, withdrawn: "2024-02-01T00:00:00Z"},
		adv{id: "GIT-1", pkgs: []string{"Go/example.com/mod"}, gitOnly: true},
		adv{id: "UBUNTU-1", pkgs: []string{"Ubuntu:Pro:16.04:LTS/edk2", "Ubuntu:22.04:LTS/edk2"}},
		adv{id: "ALPINE-1", pkgs: []string{"Alpine:v3.20/musl"}},
	)
	testImport(t, dir, zip)
	db := openDB(t, dir)
	for _, tc := range []struct {
		eco, name string
		want      []string
	}{
		{"Debian:12", "openssl", []string{"DSA-1", "DSA-2"}},
		{"Debian:11", "openssl", []string{"DSA-1", "DSA-3"}},
		{"Debian:10", "openssl", []string{}},
		{"Debian", "openssl", []string{}}, // the release is part of the key
		{"PyPI", "foo-bar-baz", []string{"PYSEC-1"}},
		{"PyPI", "FOO.bar__baz", []string{"PYSEC-1"}},
		{"Maven", "org.apache.logging:log4j-core", []string{"GHSA-m"}},
		{"npm", "Left-Pad", []string{"GHSA-n"}}, // npm names are case-sensitive
		{"npm", "left-pad", []string{}},         // withdrawn
		{"Go", "example.com/mod", []string{"GIT-1"}},
		{"Ubuntu:Pro:16.04:LTS", "edk2", []string{"UBUNTU-1"}},
		{"Ubuntu:22.04:LTS", "edk2", []string{"UBUNTU-1"}},
		{"Alpine:v3.20", "musl", []string{"ALPINE-1"}},
		{"Alpine:v3.19", "musl", []string{}},
		{"npm", "", []string{}},
	} {
		t.Run(tc.eco+"/"+tc.name, func(t *testing.T) {
			// Twice: the second answer comes from the memo.
			for range 2 {
				if diff := cmp.Diff(tc.want, lookupIDs(t, db, tc.eco, tc.name)); diff != "" {
					t.Errorf("Lookup(%q, %q) ids (-want +got):\n%s", tc.eco, tc.name, diff)
				}
			}
		})
	}
	// Full records come back.
	vs, err := db.Lookup(context.Background(), "Debian:12", "openssl")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(adv{id: "DSA-1", pkgs: []string{"Debian:12/openssl", "Debian:11/openssl"}}.vuln(), vs[0]); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
}

func TestGet(t *testing.T) {
	dir := t.TempDir()
	testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "all.zip"),
		adv{id: "A-1", pkgs: []string{"npm/a"}},
		adv{id: "W-1", pkgs: []string{"npm/a"}, withdrawn: "2024-02-01T00:00:00Z"}))
	db := openDB(t, dir)
	for _, id := range []string{"A-1", "W-1"} {
		v, err := db.Get(context.Background(), id)
		if err != nil || v == nil || v.ID != id {
			t.Errorf("Get(%q) = %v, %v", id, v, err)
		}
	}
	if v, err := db.Get(context.Background(), "NOPE"); v != nil || err != nil {
		t.Errorf("Get(NOPE) = %v, %v; want nil, nil", v, err)
	}
}

func TestStatus(t *testing.T) {
	dir := t.TempDir()
	src := t.TempDir()
	debian := exportZip(t, filepath.Join(src, "Debian", "all.zip"),
		adv{id: "DSA-1", modified: "2023-05-01T00:00:00Z", pkgs: []string{"Debian:12/openssl", "Debian:11/openssl"}},
		adv{id: "DSA-2", modified: "2023-06-01T00:00:00Z", pkgs: []string{"Debian:12/curl"}},
		adv{id: "DSA-3", modified: "2023-07-01T00:00:00Z", pkgs: []string{"Debian:12/curl"}, withdrawn: "2023-07-01T00:00:00Z"})
	npm := exportZip(t, filepath.Join(src, "npm", "all.zip"),
		adv{id: "GHSA-1", modified: "2024-01-02T03:04:05Z", pkgs: []string{"npm/a", "Maven/b:c"}})
	testImport(t, dir, debian, npm)
	db := openDB(t, dir)
	got, err := db.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(Path(dir))
	if err != nil {
		t.Fatal(err)
	}
	want := &Status{
		Path: Path(dir), SizeBytes: fi.Size(), SchemaVersion: SchemaVersion, BuiltAt: testNow,
		Advisories: 4, Withdrawn: 1,
		Ecosystems: []EcosystemStatus{
			{Name: "Debian", Advisories: 2, NewestModified: time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC),
				FetchedAt: testNow, Source: debian, Releases: map[string]int{"Debian:11": 1, "Debian:12": 2}},
			// Maven only appears inside an npm advisory: counted, never fetched.
			{Name: "Maven", Advisories: 1, NewestModified: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
			{Name: "npm", Advisories: 1, NewestModified: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
				FetchedAt: testNow, Source: npm},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Status (-want +got):\n%s", diff)
	}
}

func TestAge(t *testing.T) {
	dir := t.TempDir()
	testImport(t, dir, exportZip(t, filepath.Join(t.TempDir(), "all.zip"), adv{id: "A-1", pkgs: []string{"npm/a"}}))
	db := openDB(t, dir)
	if age := db.Age(); age < time.Since(testNow)-time.Minute || age > time.Since(testNow)+time.Minute {
		t.Errorf("Age() = %v, want about %v", age, time.Since(testNow))
	}
	for _, tc := range []struct {
		maxAge time.Duration
		stale  bool
	}{
		{0, false},
		{-1, false},
		{time.Since(testNow) + time.Hour, false},
		{DefaultMaxAge, time.Since(testNow) > DefaultMaxAge},
		{time.Minute, true},
	} {
		err := db.CheckAge(tc.maxAge)
		if got := errors.Is(err, ErrStale); got != tc.stale {
			t.Errorf("CheckAge(%v) = %v, want stale %v", tc.maxAge, err, tc.stale)
		}
		if err != nil && !strings.Contains(err.Error(), "bulkhead db update") {
			t.Errorf("CheckAge error %q does not name `bulkhead db update`", err)
		}
	}
}

func TestRoundAge(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{40 * time.Second, "40s"},
		{3*time.Hour + 12*time.Minute + 5*time.Second, "3h12m0s"},
		{9*24*time.Hour + 4*time.Hour, "9d4h"},
		{7 * 24 * time.Hour, "7d"},
	} {
		if got := roundAge(tc.d); got != tc.want {
			t.Errorf("roundAge(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

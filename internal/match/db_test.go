package match_test

import (
	"archive/zip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/match"
	"github.com/bulkhead-sec/bulkhead/internal/osv"
	"github.com/bulkhead-sec/bulkhead/internal/vulndb"
)

// sampleDB imports ../shared/osv-sample into a temporary cache dir.
func sampleDB(tb testing.TB) *vulndb.DB {
	tb.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "osv-sample")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("OSV sample not found at %s", dir)
		}
		tb.Skip("no ../shared/osv-sample")
	}
	cache := tb.TempDir()
	if _, err := vulndb.Import(context.Background(), cache, []string{dir}, vulndb.ImportOptions{}); err != nil {
		tb.Fatal(err)
	}
	db, err := vulndb.Open(cache)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// mixedInventory makes 2,000 distinct packages, each named after a
// package that has advisories in the sample (npm, PyPI, Go, RubyGems,
// crates.io), at a version old enough to be affected by most of them: the
// worst case of an image whose every package has advisories.
func mixedInventory(tb testing.TB) *inventory.Inventory {
	tb.Helper()
	types := map[string]string{"npm": "npm", "PyPI": "pypi", "Go": "golang", "RubyGems": "gem", "crates.io": "cargo"}
	vers := map[string]string{"npm": "0.0.1", "pypi": "0.0.1", "golang": "v0.0.1", "gem": "0.0.1", "cargo": "0.0.1"}
	names := map[string][]string{}
	var ecos []string
	for eco := range types {
		ecos = append(ecos, eco)
		zr, err := zip.OpenReader(filepath.Join("..", "..", "..", "shared", "osv-sample", eco, "all.zip"))
		if err != nil {
			tb.Fatal(err)
		}
		seen := map[string]bool{}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				tb.Fatal(err)
			}
			var v osv.Vulnerability
			err = json.NewDecoder(rc).Decode(&v)
			rc.Close()
			if err != nil {
				continue
			}
			for _, a := range v.Affected {
				if !seen[a.Package.Name] {
					seen[a.Package.Name] = true
					names[eco] = append(names[eco], a.Package.Name)
				}
			}
		}
		zr.Close()
		sort.Strings(names[eco])
	}
	sort.Strings(ecos)
	var pkgs []inventory.Package
	for i := 0; len(pkgs) < 2000; i++ {
		eco := ecos[i%len(ecos)]
		ns := names[eco]
		j := i / len(ecos)
		if j >= len(ns) {
			continue
		}
		typ := types[eco]
		pkgs = append(pkgs, inventory.Package{Type: typ, Name: ns[j], Version: vers[typ], Locations: []inventory.Location{{Path: "/x"}}})
	}
	return &inventory.Inventory{Packages: pkgs}
}

func TestMatchAgainstSampleDB(t *testing.T) {
	db := sampleDB(t)
	inv := &inventory.Inventory{Packages: []inventory.Package{
		{Type: "npm", Name: "lodash", Version: "4.17.15", Locations: []inventory.Location{{Path: "/app/node_modules/lodash/package.json"}}},
		{Type: "npm", Name: "lodash", Version: "4.17.21", Locations: []inventory.Location{{Path: "/app/node_modules/lodash/package.json"}}},
		{Type: "golang", Name: "golang.org/x/text", Version: "v0.3.0", Locations: []inventory.Location{{Path: "/app/bin/demo"}}},
	}}
	res, err := match.Match(context.Background(), db, inv)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string][]string{}
	for _, v := range res.Vulnerabilities {
		by[v.Package.Name+"@"+v.Package.Version] = append(by[v.Package.Name+"@"+v.Package.Version], v.ID)
	}
	if len(by["lodash@4.17.15"]) == 0 {
		t.Errorf("lodash 4.17.15: no findings (the sample has lodash advisories fixed in 4.17.19+)")
	}
	if len(by["lodash@4.17.21"]) != 0 {
		t.Errorf("lodash 4.17.21: %v", by["lodash@4.17.21"])
	}
	// golang.org/x/text v0.3.0: GO-2020-0015 (CVE-2020-14040), GO-2021-0113
	// (CVE-2021-38561), GO-2022-1059 (CVE-2022-32149).
	want := map[string]bool{"CVE-2020-14040": true, "CVE-2021-38561": true, "CVE-2022-32149": true}
	for _, id := range by["golang.org/x/text@v0.3.0"] {
		delete(want, id)
	}
	if len(want) > 0 {
		t.Errorf("golang.org/x/text v0.3.0: missing %v (got %v)", want, by["golang.org/x/text@v0.3.0"])
	}
}

// BenchmarkMatch2000PackagesDB matches 2,000 packages against the real
// sample DB (warm: the DB is open and its pages cached).
func BenchmarkMatch2000PackagesDB(b *testing.B) {
	db := sampleDB(b)
	inv := mixedInventory(b)
	if _, err := match.Match(context.Background(), db, inv); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var found int
	for i := 0; i < b.N; i++ {
		res, err := match.Match(context.Background(), db, inv)
		if err != nil {
			b.Fatal(err)
		}
		found = len(res.Vulnerabilities)
	}
	b.ReportMetric(float64(found), "findings")
}

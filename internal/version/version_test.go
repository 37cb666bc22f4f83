package version

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/osv"
)

// Orders taken from real package versions; each pair is a < b.
var ordered = []struct{ eco, a, b string }{
	// dpkg: epochs win, ~ sorts before anything, revisions, +b binNMUs.
	{"Debian:12", "2.36-9+deb12u7", "2.36-9+deb12u8"},
	{"Debian:12", "1.2.13.dfsg-1", "1:1.2.11.dfsg-2"},
	{"Debian:12", "3.0.15-1~deb12u1", "3.0.15-1"},
	{"Debian:12", "5.2.15-2", "5.2.15-2+b13"},
	{"Debian:12", "7.88.1-10+deb12u5", "7.88.1-10+deb12u12"},
	{"Debian:11", "1.0~rc1-1", "1.0-1"},
	{"Ubuntu:22.04:LTS", "1.1.1-1ubuntu2.1~18.04.21", "1.1.1-1ubuntu2.1"},
	{"Ubuntu:22.04:LTS", "3.0.2-0ubuntu1.10", "3.0.2-0ubuntu1.15"},
	// apk: -rN, letters, _rc/_p suffixes.
	{"Alpine:v3.20", "1.2.5-r0", "1.2.5-r10"},
	{"Alpine:v3.20", "3.3.1_rc1-r0", "3.3.1-r0"},
	{"Alpine:v3.20", "1.36.1-r29", "1.37.0-r0"},
	{"Alpine:v3.20", "9.7_p1-r4", "9.8_p1-r0"},
	{"Alpine:v3.20", "1.1.1k-r0", "1.1.1l-r0"},
	{"Wolfi", "3.3.2-r0", "3.3.2-r1"},
	// rpm: epoch, release, tilde.
	{"Rocky Linux:9", "1.2-3.el9", "1.2-3.el9_1"},
	{"Rocky Linux:9", "1:1.0-1.el9", "2:0.1-1.el9"},
	{"AlmaLinux:9", "4.4.20-4.el9_2", "5.1.8-6.el9"},
	{"Red Hat", "1.0~rc1-1", "1.0-1"},
	// SemVer: prerelease before release, numeric identifiers.
	{"npm", "4.17.15", "4.17.21"},
	{"npm", "1.0.0-alpha.1", "1.0.0"},
	{"npm", "1.0.0-alpha.2", "1.0.0-alpha.10"},
	{"crates.io", "0.9.9", "0.10.0"},
	// Go: pseudo-versions, +incompatible, the toolchain.
	{"Go", "v0.0.0-20210226172049-e18ecbb05110", "v0.0.0-20211112202133-69e39bad7dc2"},
	{"Go", "v0.3.7", "v0.3.8"},
	{"Go", "v20.10.0+incompatible", "v20.10.27+incompatible"},
	{"Go", "1.22.3", "1.22.10"},
	{"Go", "go1.21.0", "1.22.0"},
	// PEP 440: dev < pre < release < post, epochs, normalisation.
	{"PyPI", "2.0.0.dev1", "2.0.0a1"},
	{"PyPI", "2.0.0rc1", "2.0.0"},
	{"PyPI", "2.0.0", "2.0.0.post1"},
	{"PyPI", "2.28.1", "2.31.0"},
	{"PyPI", "2.0", "1!0.1"}, // the epoch wins
	// Maven: qualifiers.
	{"Maven", "2.14.1", "2.15.0"},
	{"Maven", "2.13.4", "2.13.4.1"},
	{"Maven", "1.0-alpha-1", "1.0"},
	{"Maven", "2.0-SNAPSHOT", "2.0"},
	// RubyGems: prerelease letters.
	{"RubyGems", "6.1.7.6", "6.1.7.7"},
	{"RubyGems", "7.0.0.rc1", "7.0.0"},
	// NuGet and Packagist.
	{"NuGet", "4.3.0", "4.3.1"},
	{"NuGet", "13.0.1-beta1", "13.0.1"},
	{"Packagist", "5.4.0", "5.4.10"},
}

func TestOrder(t *testing.T) {
	for _, tt := range ordered {
		c, err := Compare(tt.eco, tt.a, tt.b)
		if err != nil {
			t.Errorf("%s: Compare(%q, %q): %v", tt.eco, tt.a, tt.b, err)
			continue
		}
		if c >= 0 {
			t.Errorf("%s: %q should sort before %q (got %d)", tt.eco, tt.a, tt.b, c)
		}
		if c, _ := Compare(tt.eco, tt.b, tt.a); c <= 0 {
			t.Errorf("%s: %q should sort after %q (got %d)", tt.eco, tt.b, tt.a, c)
		}
		if c, _ := Compare(tt.eco, tt.a, tt.a); c != 0 {
			t.Errorf("%s: %q != itself", tt.eco, tt.a)
		}
	}
}

func TestEqualSpellings(t *testing.T) {
	for _, tt := range []struct{ eco, a, b string }{
		{"Debian:12", "0:1.0-1", "1.0-1"},
		{"PyPI", "1.0", "1.0.0"},
		{"PyPI", "1.0RC1", "1.0rc1"},
		{"Go", "v1.2.3", "1.2.3"},
	} {
		if c, err := Compare(tt.eco, tt.a, tt.b); err != nil || c != 0 {
			t.Errorf("%s: Compare(%q, %q) = %d, %v; want 0", tt.eco, tt.a, tt.b, c, err)
		}
	}
}

func TestInvalid(t *testing.T) {
	for _, tt := range []struct{ eco, v string }{
		{"Debian:12", "abc"},
		{"Debian:12", "!!!"},
		{"Alpine:v3.20", "1.2.3-beta"},
		{"npm", "1.x"},
		{"npm", "1.2.3.4"},
		{"npm", "latest"},
		{"PyPI", "not a version"},
		{"Go", "master"},
		{"RubyGems", "1.0 beta"},
		{"Maven", ""},
		{"Unknown", "1.0"},
		{"Debian:12", string(make([]byte, 300))},
	} {
		if _, err := Parse(tt.eco, tt.v); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Parse(%q) err = %v, want ErrInvalid", tt.eco, tt.v, err)
		}
	}
}

// TestRealAdvisoryVersions parses every version named in the real OSV
// sample: nearly all must be orderable, and each ecosystem's rejects are
// listed so a regression shows.
func TestRealAdvisoryVersions(t *testing.T) {
	dir := filepath.Join("..", "..", "..", "shared", "osv-sample")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("OSV sample not found at %s", dir)
		}
		t.Skip("no ../shared/osv-sample")
	}
	maxBad := map[string]float64{"Debian": 0.001, "Alpine": 0.005, "npm": 0.01, "PyPI": 0.01, "Go": 0.001, "crates.io": 0.01, "RubyGems": 0.01, "Maven": 0, "Ubuntu": 0}
	for eco, limit := range maxBad {
		zr, err := zip.OpenReader(filepath.Join(dir, eco, "all.zip"))
		if err != nil {
			t.Fatal(err)
		}
		total, bad := 0, 0
		var examples []string
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			var v osv.Vulnerability
			err = json.NewDecoder(rc).Decode(&v)
			rc.Close()
			if err != nil {
				t.Fatalf("%s: %v", f.Name, err)
			}
			for _, a := range v.Affected {
				for _, r := range a.Ranges {
					if r.Type == osv.RangeGit {
						continue
					}
					for _, e := range r.Events {
						for _, s := range []string{e.Introduced, e.Fixed, e.LastAffected, e.Limit} {
							if s == "" || s == "0" || s == "*" {
								continue
							}
							total++
							if _, err := Parse(a.Package.Ecosystem, s); err != nil {
								bad++
								if len(examples) < 5 {
									examples = append(examples, a.Package.Ecosystem+" "+s)
								}
							}
						}
					}
				}
			}
		}
		zr.Close()
		if total == 0 {
			t.Errorf("%s: no versions", eco)
			continue
		}
		if frac := float64(bad) / float64(total); frac > limit {
			t.Errorf("%s: %d of %d versions rejected (%.3f%%), e.g. %v", eco, bad, total, 100*frac, examples)
		} else {
			t.Logf("%s: %d versions, %d rejected %v", eco, total, bad, examples)
		}
	}
}

func FuzzCompare(f *testing.F) {
	for _, tt := range ordered {
		f.Add(tt.eco, tt.a, tt.b)
	}
	f.Fuzz(func(t *testing.T, eco, a, b string) {
		c1, err1 := Compare(eco, a, b)
		c2, err2 := Compare(eco, b, a)
		if err1 == nil && err2 == nil && c1 != -c2 {
			t.Fatalf("%s: Compare(%q,%q)=%d but Compare(%q,%q)=%d", eco, a, b, c1, b, a, c2)
		}
	})
}

func BenchmarkCompareDebian(b *testing.B) {
	v, _ := Parse("Debian:12", "2.36-9+deb12u7")
	o, _ := Parse("Debian:12", "2.36-9+deb12u10")
	for i := 0; i < b.N; i++ {
		v.CompareVersion(o)
	}
}

package match

import (
	"archive/zip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/osv"
)

// memSource is an in-memory advisory index with the same lookup rules as
// the database: (ecosystem, normalised name).
type memSource map[string][]*osv.Vulnerability

func (m memSource) add(v *osv.Vulnerability) {
	seen := map[string]bool{}
	for _, a := range v.Affected {
		k := a.Package.Ecosystem + "\x00" + osv.NormalizeName(a.Package.Ecosystem, a.Package.Name)
		if !seen[k] {
			m[k] = append(m[k], v)
			seen[k] = true
		}
	}
}

func (m memSource) Lookup(_ context.Context, eco, name string) ([]*osv.Vulnerability, error) {
	return m[eco+"\x00"+osv.NormalizeName(eco, name)], nil
}

// Releases lists the ecosystems with the prefix, as the database does.
func (m memSource) Releases(_ context.Context, prefix string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for k := range m {
		eco := strings.SplitN(k, "\x00", 2)[0]
		if strings.HasPrefix(eco, prefix) && !seen[eco] {
			seen[eco] = true
			out = append(out, eco)
		}
	}
	sort.Strings(out)
	return out, nil
}

func loadDir(t testing.TB, dir string) memSource {
	t.Helper()
	m := memSource{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v osv.Vulnerability
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		m.add(&v)
	}
	return m
}

func deb(name, ver, src, srcVer string) inventory.Package {
	return inventory.Package{Name: name, Version: ver, Type: inventory.TypeDeb, Source: &inventory.Source{Name: src, Version: srcVer},
		Locations: []inventory.Location{{Path: "/var/lib/dpkg/status", LayerIndex: 1, LayerDiffID: "sha256:l1", CreatedBy: "RUN apt-get install"}}}
}

func lang(typ, name, ver string) inventory.Package {
	return inventory.Package{Name: name, Version: ver, Type: typ, Locations: []inventory.Location{{Path: "/app/x"}}}
}

type row struct {
	Pkg, ID, Fixed, Status, Severity, Range string
}

func rows(vs []inventory.Vulnerability) []row {
	var out []row
	for _, v := range vs {
		out = append(out, row{v.Package.Name + "@" + v.Package.Version, v.ID, v.FixedVersion, v.Status, v.Severity, v.MatchedRange})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pkg+out[i].ID < out[j].Pkg+out[j].ID })
	return out
}

func TestMatchEdges(t *testing.T) {
	src := loadDir(t, "testdata/osv")
	debian12 := &inventory.OS{ID: "debian", VersionID: "12"}
	tests := []struct {
		name string
		os   *inventory.OS
		pkgs []inventory.Package
		want []row
		warn string // substring of a warning, if one is expected
	}{
		{
			name: "binary name differs from source; aliases merged; CVSS from the NVD record",
			os:   debian12,
			pkgs: []inventory.Package{deb("libc6", "2.36-9+deb12u7", "glibc", "2.36-9+deb12u7")},
			want: []row{{"libc6@2.36-9+deb12u7", "CVE-2099-0001", "2.36-9+deb12u8", "fixed", "CRITICAL", "ECOSYSTEM >=0 <2.36-9+deb12u8"}},
		},
		{
			name: "fixed version installed: not affected; withdrawn ignored",
			os:   debian12,
			pkgs: []inventory.Package{deb("libc6", "2.36-9+deb12u8", "glibc", "2.36-9+deb12u8")},
		},
		{
			name: "epochs: no fix yet, and 1:1.2.13.dfsg-1 < 1:1.2.13.dfsg-2 but > 1.3-1",
			os:   debian12,
			pkgs: []inventory.Package{deb("zlib1g", "1:1.2.13.dfsg-1", "zlib", "1:1.2.13.dfsg-1")},
			want: []row{
				{"zlib1g@1:1.2.13.dfsg-1", "DEBIAN-CVE-2099-0002", "", "no fix yet", "UNKNOWN", "ECOSYSTEM >=0"},
				{"zlib1g@1:1.2.13.dfsg-1", "DEBIAN-CVE-2099-0003", "1:1.2.13.dfsg-2", "fixed", "UNKNOWN", "ECOSYSTEM >=0 <1:1.2.13.dfsg-2"},
			},
		},
		{
			name: "tilde: the backport 3.0.15-1~deb12u1 is the fix; 3.0.14-1 is affected",
			os:   debian12,
			pkgs: []inventory.Package{deb("libssl3", "3.0.15-1~deb12u1", "openssl", "3.0.15-1~deb12u1"), deb("openssl", "3.0.14-1", "openssl", "3.0.14-1")},
			want: []row{{"openssl@3.0.14-1", "DEBIAN-CVE-2099-0005", "3.0.15-1~deb12u1", "fixed", "UNKNOWN", "ECOSYSTEM >=0 <3.0.15-1~deb12u1"}},
		},
		{
			name: "other release: Debian 11 advisories do not apply to Debian 12",
			os:   &inventory.OS{ID: "debian", VersionID: "11"},
			pkgs: []inventory.Package{deb("libc6", "2.36-9+deb12u7", "glibc", "2.36-9+deb12u7")},
		},
		{
			name: "last_affected: inclusive upper bound, no fix known",
			pkgs: []inventory.Package{lang("npm", "lodash", "4.17.20"), lang("npm", "lodash", "4.17.21"), lang("npm", "lodash", "3.10.1")},
			want: []row{{"lodash@4.17.20", "CVE-2099-1000", "", "no fix yet", "HIGH", "SEMVER >=4.0.0 <=4.17.20"}},
		},
		{
			name: "an application's private manifest is never matched: the advisory is about the registry's package of that name",
			pkgs: []inventory.Package{func() inventory.Package { p := lang("npm", "lodash", "4.17.20"); p.Private = true; return p }()},
		},
		{
			name: "versions list and limit",
			pkgs: []inventory.Package{lang("npm", "minimist", "1.2.1"), lang("npm", "minimist", "1.2.2"), lang("npm", "left-pad", "1.3.0"), lang("npm", "left-pad", "2.0.0")},
			want: []row{
				{"left-pad@1.3.0", "GHSA-dddd-eeee-ffff", "", "no fix yet", "UNKNOWN", "SEMVER >=0"},
				{"minimist@1.2.1", "GHSA-dddd-eeee-ffff", "", "no fix yet", "UNKNOWN", "listed version 1.2.1"},
			},
		},
		{
			name: "PEP 503 names, pre-release fix, GIT range ignored, CVSS v4",
			pkgs: []inventory.Package{lang("pypi", "Django-REST-Framework", "3.14.0"), lang("pypi", "django-rest-framework", "3.15.0")},
			want: []row{{"Django-REST-Framework@3.14.0", "PYSEC-2099-1", "3.15.0rc1", "fixed", "HIGH", "ECOSYSTEM >=0 <3.15.0rc1"}},
		},
		{
			name: "Alpine by origin and minor release",
			os:   &inventory.OS{ID: "alpine", VersionID: "3.20.3"},
			pkgs: []inventory.Package{{Name: "libcrypto3", Version: "3.3.1-r0", Type: inventory.TypeApk, Source: &inventory.Source{Name: "openssl", Version: "3.3.1-r0"}}},
			want: []row{{"libcrypto3@3.3.1-r0", "ALPINE-CVE-2099-0007", "3.3.2-r0", "fixed", "UNKNOWN", "ECOSYSTEM >=0 <3.3.2-r0"}},
		},
		{
			name: "RHEL: advisories of the enterprise_linux streams of the major release, epochs, not the AUS stream",
			os:   &inventory.OS{ID: "rhel", VersionID: "8.9"},
			pkgs: []inventory.Package{
				{Name: "openssl-libs", Version: "1.1.1k-9.el8_7", Epoch: 1, Type: inventory.TypeRPM, Source: &inventory.Source{Name: "openssl", Version: "1.1.1k-9.el8_7"}},
				{Name: "openssl-libs", Version: "1.1.1k-12.el8_9", Epoch: 1, Type: inventory.TypeRPM, Source: &inventory.Source{Name: "openssl", Version: "1.1.1k-12.el8_9"}},
			},
			want: []row{{"openssl-libs@1.1.1k-9.el8_7", "RHSA-2099:0001", "1:1.1.1k-12.el8_9", "fixed", "UNKNOWN", "ECOSYSTEM >=0 <1:1.1.1k-12.el8_9"}},
		},
		{
			name: "a range no comparator orders: warning, not a silent verdict",
			os:   debian12,
			pkgs: []inventory.Package{deb("dash", "0.5.12-2", "dash", "0.5.12-2")},
			warn: "cannot decide",
		},
		{
			name: "an installed version no comparator orders",
			os:   debian12,
			pkgs: []inventory.Package{deb("weird", "abc", "zlib", "abc")},
			warn: "unknown version order",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &inventory.Inventory{OS: tt.os, Packages: tt.pkgs}
			res, err := Match(context.Background(), src, inv)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rows(res.Vulnerabilities)); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			var ws []string
			for _, w := range res.Warnings {
				ws = append(ws, w.String())
			}
			if tt.warn != "" && !strings.Contains(strings.Join(ws, "\n"), tt.warn) {
				t.Errorf("warnings %q lack %q", ws, tt.warn)
			}
			if tt.warn == "" && len(ws) > 0 {
				t.Errorf("unexpected warnings: %q", ws)
			}
		})
	}
}

func TestFindingEvidence(t *testing.T) {
	src := loadDir(t, "testdata/osv")
	inv := &inventory.Inventory{OS: &inventory.OS{ID: "debian", VersionID: "12"},
		Packages: []inventory.Package{deb("libc6", "2.36-9+deb12u7", "glibc", "2.36-9+deb12u7")}}
	inv.Packages[0].PURL = "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12"
	res, err := Match(context.Background(), src, inv)
	if err != nil {
		t.Fatal(err)
	}
	v := res.Vulnerabilities[0]
	if diff := cmp.Diff([]string{"DEBIAN-CVE-2099-0001"}, v.Aliases); diff != "" {
		t.Errorf("aliases (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"CVE-2099-0001", "DEBIAN-CVE-2099-0001"}, v.Advisories); diff != "" {
		t.Errorf("advisories (-want +got):\n%s", diff)
	}
	if v.Package.Ecosystem != "Debian:12" || v.Package.Source.Name != "glibc" || v.Package.PURL != inv.Packages[0].PURL {
		t.Errorf("package = %+v", v.Package)
	}
	if v.Location.LayerIndex != 1 || v.Location.CreatedBy != "RUN apt-get install" || v.Location.Path != "/var/lib/dpkg/status" {
		t.Errorf("location = %+v", v.Location)
	}
	if len(v.CVSS) != 1 || v.CVSS[0].Score != 9.8 || v.SeveritySource != sourceCVSSv3 {
		t.Errorf("cvss = %+v from %s", v.CVSS, v.SeveritySource)
	}
}

// TestRealDebianAdvisories matches against the real Debian security
// tracker records in ../shared/osv-sample: a package below a DSA's fix is
// affected, at the fix it is not.
func TestRealDebianAdvisories(t *testing.T) {
	src := loadZip(t, "Debian")
	// Find a real Debian:11 record with a fixed event to test around.
	var rec *osv.Vulnerability
	var fixed, pkgName string
	for _, vs := range src {
		for _, v := range vs {
			for _, a := range v.Affected {
				if a.Package.Ecosystem != "Debian:11" || a.Package.Name != "openssl" {
					continue
				}
				for _, r := range a.Ranges {
					for _, e := range r.Events {
						if e.Fixed != "" && (fixed == "" || v.ID > rec.ID) {
							rec, fixed, pkgName = v, e.Fixed, a.Package.Name
						}
					}
				}
			}
		}
	}
	if rec == nil {
		t.Fatal("no Debian:11 openssl record with a fix in the sample")
	}
	bull := &inventory.OS{ID: "debian", VersionID: "11"}
	for _, tc := range []struct {
		ver  string
		want bool
	}{{"1.1.1d-0+deb10u1", true}, {fixed, false}} {
		inv := &inventory.Inventory{OS: bull, Packages: []inventory.Package{deb("libssl1.1", tc.ver, pkgName, tc.ver)}}
		res, err := Match(context.Background(), src, inv)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, v := range res.Vulnerabilities {
			for _, a := range v.Advisories {
				if a == rec.ID {
					found = true
				}
			}
		}
		if found != tc.want {
			t.Errorf("libssl1.1 %s (source openssl) affected by %s (fixed %s) = %v, want %v", tc.ver, rec.ID, fixed, found, tc.want)
		}
	}
}

func loadZip(t testing.TB, eco string) memSource {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "osv-sample", eco, "all.zip")
	zr, err := zip.OpenReader(p)
	if err != nil {
		if os.Getenv("CI") != "true" {
			t.Skip("no ../shared/osv-sample")
		}
		t.Fatal(err)
	}
	defer zr.Close()
	m := memSource{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		var v osv.Vulnerability
		err = json.NewDecoder(rc).Decode(&v)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		m.add(&v)
	}
	return m
}

func BenchmarkMatch2000(b *testing.B) {
	src := loadZip(b, "npm")
	var pkgs []inventory.Package
	var names []string
	for k := range src {
		names = append(names, strings.SplitN(k, "\x00", 2)[1])
	}
	sort.Strings(names)
	for i := 0; i < 2000; i++ {
		pkgs = append(pkgs, lang("npm", names[i%len(names)], "1.0.0"))
	}
	inv := &inventory.Inventory{Packages: pkgs}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Match(context.Background(), src, inv); err != nil {
			b.Fatal(err)
		}
	}
}

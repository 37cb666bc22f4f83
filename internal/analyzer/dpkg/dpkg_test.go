package dpkg

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

type fakeInfo struct {
	name string
	size int64
}

func (f fakeInfo) Name() string       { return f.name }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() os.FileMode  { return 0o644 }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return nil }

func analyze(t *testing.T, path string, b []byte) (*analyzer.Result, error) {
	t.Helper()
	a := New()
	if !a.Required(path, fakeInfo{size: int64(len(b))}) {
		t.Fatalf("Required(%s) = false", path)
	}
	return a.Analyze(context.Background(), analyzer.Input{Path: path, Content: bytes.NewReader(b)})
}

func TestRequired(t *testing.T) {
	a := New()
	for path, want := range map[string]bool{
		"/var/lib/dpkg/status":                 true,
		"/var/lib/dpkg/status-old":             false,
		"/var/lib/dpkg/status.d/libc6":         true,
		"/var/lib/dpkg/status.d/libc6.md5sums": false,
		"/usr/share/doc/libc6/copyright":       true,
		"/usr/share/doc/libc6/x/copyright":     false,
		"/usr/share/doc/copyright":             false,
		"/etc/passwd":                          false,
	} {
		if got := a.Required(path, fakeInfo{size: 10}); got != want {
			t.Errorf("Required(%s) = %v, want %v", path, got, want)
		}
	}
}

func TestStatus(t *testing.T) {
	b, err := os.ReadFile("testdata/status")
	if err != nil {
		t.Fatal(err)
	}
	res, err := analyze(t, "/var/lib/dpkg/status", b)
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ Name, Version, Arch, Source, SourceVersion string }
	var got []row
	for _, p := range res.Packages {
		if p.Type != inventory.TypeDeb || p.FoundBy != Name || len(p.Locations) != 1 || p.Locations[0].Path != "/var/lib/dpkg/status" {
			t.Errorf("%s: type %q foundBy %q locations %v", p.Name, p.Type, p.FoundBy, p.Locations)
		}
		got = append(got, row{p.Name, p.Version, p.Arch, p.Source.Name, p.Source.Version})
	}
	want := []row{
		{"base-files", "12.4+deb12u15", "amd64", "base-files", "12.4+deb12u15"},
		{"libc6", "2.36-9+deb12u14", "amd64", "glibc", "2.36-9+deb12u14"},
		{"libgcc-s1", "12.2.0-14+deb12u1", "amd64", "gcc-12", "12.2.0-14+deb12u1"},
		{"login", "1:4.13+dfsg1-1+deb12u2", "amd64", "shadow", "1:4.13+dfsg1-1+deb12u2"},
		{"tzdata", "2026b-0+deb12u1", "all", "tzdata", "2026b-0+deb12u1"},
		{"zlib1g", "1:1.2.13.dfsg-1", "amd64", "zlib", "1:1.2.13.dfsg-1"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("packages (-want +got):\n%s\n(removed-pkg, with only config files left, must not appear)", diff)
	}
}

func TestStatusSourceWithVersion(t *testing.T) {
	in := "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nSource: openssl (3.0.15-1~deb12u1)\nVersion: 3.0.15-1~deb12u1+b1\nInstalled-Size: 6\n"
	res, err := analyze(t, "/var/lib/dpkg/status.d/libssl3", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	p := res.Packages[0]
	if p.Version != "3.0.15-1~deb12u1+b1" || p.Source.Name != "openssl" || p.Source.Version != "3.0.15-1~deb12u1" || p.InstalledSize != 6144 {
		t.Errorf("got %+v source %+v", p, p.Source)
	}
}

func TestStatusCorrupt(t *testing.T) {
	tests := map[string]string{
		"no colon":      "Package: a\nVersion: 1\nthis line is garbage\n",
		"no version":    "Package: a\nStatus: install ok installed\n\n",
		"no package":    "Version: 1\n\n",
		"overlong line": "Package: a\nDescription: " + strings.Repeat("x", 2<<20) + "\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := analyze(t, "/var/lib/dpkg/status", []byte(in))
			if err == nil {
				t.Fatal("no error for a corrupt status file")
			}
			if !strings.Contains(err.Error(), "/var/lib/dpkg/status") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
	// Records before the corruption are kept.
	res, err := analyze(t, "/var/lib/dpkg/status", []byte("Package: good\nVersion: 1.0\n\nPackage: bad\n\n"))
	if err == nil || res == nil || len(res.Packages) != 1 || res.Packages[0].Name != "good" {
		t.Errorf("partial result = %+v, err %v", res, err)
	}
}

func TestCopyright(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"testdata/copyright-zlib1g", []string{"Zlib"}},
		{"testdata/copyright-tzdata", []string{"public-domain"}},
		{"testdata/copyright-libc6", []string{"LGPL-2.1-or-later", "GPL-2.0-or-later"}},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, CopyrightLicenses(b)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.file, diff)
		}
	}
	res, err := analyze(t, "/usr/share/doc/zlib1g/copyright", mustRead(t, "testdata/copyright-zlib1g"))
	if err != nil {
		t.Fatal(err)
	}
	want := []analyzer.PackageLicense{{Type: inventory.TypeDeb, Name: "zlib1g", Licenses: []string{"Zlib"}}}
	if diff := cmp.Diff(want, res.Licenses); diff != "" {
		t.Errorf("licences (-want +got):\n%s", diff)
	}
}

func TestSplitExpression(t *testing.T) {
	for in, want := range map[string][]string{
		"GPL-2+ or Artistic":                          {"GPL-2+", "Artistic"},
		"LGPL-2.1+ and GPL-2+ with OpenSSL exception": {"LGPL-2.1+", "GPL-2+"},
		"BSD-3-clause, MIT":                           {"BSD-3-clause", "MIT"},
		"(GPL-2 | LGPL-2.1)":                          {"GPL-2", "LGPL-2.1"},
	} {
		if diff := cmp.Diff(want, splitExpression(in)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", in, diff)
		}
	}
}

func mustRead(t *testing.T, p string) []byte {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzParseStatus(f *testing.F) {
	b, _ := os.ReadFile("testdata/status")
	f.Add(b)
	f.Add([]byte("Package: a\nVersion: 1\nSource: b (2)\n\n"))
	f.Add([]byte("Package: a\n Description continued\nStatus: deinstall ok config-files\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _ := ParseStatus(context.Background(), bytes.NewReader(b))
		for _, p := range pkgs {
			if p.Name == "" || p.Version == "" || p.Source == nil || p.Source.Name == "" {
				t.Fatalf("incomplete package %+v", p)
			}
		}
	})
}

func FuzzCopyright(f *testing.F) {
	for _, p := range []string{"testdata/copyright-zlib1g", "testdata/copyright-libc6", "testdata/copyright-tzdata"} {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, l := range CopyrightLicenses(b) {
			if l == "" {
				t.Fatal("empty licence")
			}
		}
	})
}

func BenchmarkParseStatus(b *testing.B) {
	one, err := os.ReadFile("testdata/status")
	if err != nil {
		b.Fatal(err)
	}
	big := bytes.Repeat(one, 100) // ~600 records, the size of a large image's status
	b.SetBytes(int64(len(big)))
	for i := 0; i < b.N; i++ {
		if _, err := ParseStatus(context.Background(), bytes.NewReader(big)); err != nil {
			b.Fatal(err)
		}
	}
}

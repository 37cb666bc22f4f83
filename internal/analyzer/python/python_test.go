package python

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/analyzertest"
)

func TestRequired(t *testing.T) {
	a := New()
	for path, want := range map[string]bool{
		"/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/PKG-INFO":            true,
		"/usr/local/lib/python3.11/site-packages/click-8.4.0.dist-info/METADATA":      true,
		"/usr/lib/python3/dist-packages/crit-3.17.1-py3.11.egg-info":                  true,
		"/opt/venv/lib/python3.12/site-packages/foo-1.0-py3.12.egg/EGG-INFO/PKG-INFO": true,
		"/usr/lib/python3/dist-packages/cryptography.egg-info/PKG-INFO":               true,
		"/usr/lib/python3/dist-packages/requests-2.28.1.egg-info/requires.txt":        false,
		"/usr/local/lib/python3.11/site-packages/click-8.4.0.dist-info/RECORD":        false,
		"/usr/local/lib/python3.11/site-packages/click-8.4.0.dist-info/WHEEL":         false,
		"/src/app/METADATA":        false,
		"/src/app/PKG-INFO":        false, // an sdist's, not installed
		"/src/.dist-info/METADATA": false,
		"/src/.egg-info":           false,
		"/src/EGG-INFO/PKG-INFO":   false,
	} {
		if got := a.Required(path, analyzertest.File(100)); got != want {
			t.Errorf("Required(%s) = %v, want %v", path, got, want)
		}
	}
	analyzertest.CheckSizeLimit(t, a, "/x/a-1.dist-info/METADATA", MaxFileSize)
}

type row struct {
	Path, Name, Version, PURL string
	Licenses                  []string
}

func walk(t *testing.T, dir string) []row {
	t.Helper()
	a := New()
	var out []row
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "README.md" {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		path := "/usr/lib/python3/" + filepath.ToSlash(rel)
		if !a.Required(path, info) {
			t.Errorf("Required(%s) = false", path)
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		res, err := a.Analyze(context.Background(), analyzer.Input{Path: path, Info: info, Content: bytes.NewReader(b)})
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return nil
		}
		for _, p := range res.Packages {
			if p.Type != Type || p.FoundBy != Name || len(p.Locations) != 1 || p.Locations[0].Path != path {
				t.Errorf("%s: type %q foundBy %q locations %v", path, p.Type, p.FoundBy, p.Locations)
			}
			out = append(out, row{filepath.ToSlash(rel), p.Name, p.Version, p.PURL, p.Licenses})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFixtures(t *testing.T) {
	want := []row{
		{"dist-packages/PyYAML-6.0.dist-info/METADATA", "pyyaml", "6.0", "pkg:pypi/pyyaml@6.0", []string{"MIT"}},
		{"dist-packages/certifi-2022.9.24.egg-info/PKG-INFO", "certifi", "2022.9.24", "pkg:pypi/certifi@2022.9.24", []string{"MPL-2.0"}},
		{"dist-packages/crit-3.17.1-py3.11.egg-info", "crit", "3.17.1", "pkg:pypi/crit@3.17.1", []string{"GPLv2"}},
		{"dist-packages/lazr.uri-1.0.6.egg-info/PKG-INFO", "lazr-uri", "1.0.6", "pkg:pypi/lazr-uri@1.0.6", []string{"LGPL v3"}},
		{"dist-packages/requests-2.28.1.egg-info/PKG-INFO", "requests", "2.28.1", "pkg:pypi/requests@2.28.1", []string{"Apache 2.0"}},
		{"dist-packages/six-1.16.0.egg-info/PKG-INFO", "six", "1.16.0", "pkg:pypi/six@1.16.0", []string{"MIT"}},
		{"dist-packages/urllib3-1.26.12.egg-info/PKG-INFO", "urllib3", "1.26.12", "pkg:pypi/urllib3@1.26.12", []string{"MIT"}},
		{"site-packages/click-8.4.0.dist-info/METADATA", "click", "8.4.0", "pkg:pypi/click@8.4.0", []string{"BSD-3-Clause"}},
		{"site-packages/docker-7.1.0.dist-info/METADATA", "docker", "7.1.0", "pkg:pypi/docker@7.1.0", []string{"Apache-2.0"}},
		{"site-packages/jinja2-3.1.6.dist-info/METADATA", "jinja2", "3.1.6", "pkg:pypi/jinja2@3.1.6", []string{"BSD License"}},
		{"site-packages/python_dateutil-2.9.0.post0.dist-info/METADATA", "python-dateutil", "2.9.0.post0", "pkg:pypi/python-dateutil@2.9.0.post0", []string{"Dual License"}},
		{"site-packages/six-1.17.0.dist-info/METADATA", "six", "1.17.0", "pkg:pypi/six@1.17.0", []string{"MIT"}},
		// A licence text in License: the classifier names it.
		{"site-packages/traitlets-5.15.0.dist-info/METADATA", "traitlets", "5.15.0", "pkg:pypi/traitlets@5.15.0", []string{"BSD License"}},
		{"site-packages/typing_extensions-4.15.0.dist-info/METADATA", "typing-extensions", "4.15.0", "pkg:pypi/typing-extensions@4.15.0", []string{"PSF-2.0"}},
	}
	if diff := cmp.Diff(want, walk(t, "testdata")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseMetadata(t *testing.T) {
	tests := []struct {
		name, in string
		want     Metadata
	}{
		{"UNKNOWN licence falls back to classifiers", "Metadata-Version: 1.1\nName: a\nVersion: 1\nLicense: UNKNOWN\nClassifier: License :: OSI Approved\nClassifier: License :: OSI Approved :: MIT License\nClassifier: License :: Public Domain\n",
			Metadata{"a", "1", []string{"MIT License", "Public Domain"}}},
		{"expression wins", "Name: a\nVersion: 1\nLicense: MIT\nLicense-Expression: MIT OR\n  Apache-2.0\n", Metadata{"a", "1", []string{"MIT OR Apache-2.0"}}},
		{"body is not read", "Name: a\nVersion: 1\n\nLicense: GPL\nName: b\n", Metadata{"a", "1", nil}},
		{"a line that is no field ends the header", "Name: a\nVersion: 1\nthis is the description\nLicense: GPL\n", Metadata{"a", "1", nil}},
		{"keys are case-insensitive, CRLF, BOM", "\ufeffname: a\r\nVERSION: 2.0\r\nlicense: BSD\r\n", Metadata{"a", "2.0", []string{"BSD"}}},
		{"a line of spaces continues a field", "Name: a\nVersion: 1\nLicense: Foo\n        \n        text\nClassifier: License :: X\n", Metadata{"a", "1", []string{"X"}}},
		{"overlong License is a text", "Name: a\nVersion: 1\nLicense: " + strings.Repeat("x", 300) + "\n", Metadata{"a", "1", nil}},
		{"empty", "", Metadata{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMetadata(context.Background(), strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSkipped(t *testing.T) {
	for _, in := range []string{"Metadata-Version: 2.1\nName: a\n", "Version: 1.0\n", "not metadata at all"} {
		res, err := New().Analyze(context.Background(), analyzer.Input{Path: "/x/a.dist-info/METADATA", Content: strings.NewReader(in)})
		if res != nil || err != nil {
			t.Errorf("%q: got %+v, %v; want nothing", in, res, err)
		}
	}
}

func TestOverlongLine(t *testing.T) {
	in := "Name: a\nVersion: 1\nLicense: " + strings.Repeat("x", maxLine+1) + "\n"
	_, err := New().Analyze(context.Background(), analyzer.Input{Path: "/x/a.dist-info/METADATA", Content: strings.NewReader(in)})
	if err == nil || !strings.Contains(err.Error(), "/x/a.dist-info/METADATA") {
		t.Errorf("err = %v, want an error naming the file", err)
	}
}

func TestNormalizeName(t *testing.T) {
	for in, want := range map[string]string{
		"Jinja2":            "jinja2",
		"typing_extensions": "typing-extensions",
		"lazr.uri":          "lazr-uri",
		"Foo.-_Bar":         "foo-bar",
		"zope.interface":    "zope-interface",
		" ruamel.yaml ":     "ruamel-yaml",
	} {
		if got := NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzParseMetadata(f *testing.F) {
	_ = filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != "README.md" {
			b, _ := os.ReadFile(p)
			f.Add(b)
		}
		return nil
	})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseMetadata(context.Background(), bytes.NewReader(b))
		if err != nil {
			return
		}
		if strings.Contains(m.Name, "\n") || strings.Contains(m.Version, "\n") {
			t.Fatalf("multi-line name or version: %+v", m)
		}
		for _, l := range m.Licenses {
			if l == "" {
				t.Fatal("empty licence")
			}
		}
		if n := NormalizeName(m.Name); strings.ContainsAny(n, "_.") || n != strings.ToLower(n) {
			t.Fatalf("NormalizeName(%q) = %q", m.Name, n)
		}
	})
}

// FuzzNormalizeName holds NormalizeName to PEP 503's own definition,
// re.sub(r"[-_.]+", "-", name).lower().
func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"Jinja2", "typing_extensions", "lazr.uri", "-_a._-B_-", "ÄÖ.x", " a "} {
		f.Add(s)
	}
	pep503 := regexp.MustCompile(`[-_.]+`)
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.ToLower(pep503.ReplaceAllString(strings.TrimSpace(s), "-"))
		if got := NormalizeName(s); got != want {
			t.Fatalf("NormalizeName(%q) = %q, want %q", s, got, want)
		}
	})
}

func BenchmarkParseMetadata(b *testing.B) {
	data, err := os.ReadFile("testdata/dist-packages/urllib3-1.26.12.egg-info/PKG-INFO")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseMetadata(context.Background(), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLongContinuation: a field continued over a million lines costs
// linear time (appending to a string would be quadratic: hours).
func TestLongContinuation(t *testing.T) {
	in := "Name: a\nVersion: 1\nLicense: x\n" + strings.Repeat(" y\n", (maxHeader-200)/3) + "Classifier: License :: OSI Approved :: MIT License\n"
	start := time.Now()
	m, err := ParseMetadata(context.Background(), strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Metadata{"a", "1", []string{"MIT License"}}, m); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Quadratic would take hours; this only guards against that, not a
	// loaded machine.
	if d := time.Since(start); d > time.Minute {
		t.Errorf("took %v", d)
	}
	// Past the header cap, the last line read may be cut: an error, not a
	// wrong licence.
	in = "Name: a\nVersion: 1\nLicense: x\n" + strings.Repeat(" y\n", maxHeader/3) + "Classifier: License :: OSI Approved :: MIT License\n"
	if _, err := ParseMetadata(context.Background(), strings.NewReader(in)); err == nil {
		t.Error("no error for a header over the cap")
	}
	// A header of exactly the cap, then the description, is fine.
	in = "Name: a\nVersion: 1\nLicense: x\n"
	in += strings.Repeat(" y\n", (maxHeader-len(in))/3) + "\n" + strings.Repeat("description\n", 1000)
	if _, err := ParseMetadata(context.Background(), strings.NewReader(in)); err != nil {
		t.Errorf("header at the cap: %v", err)
	}
}

package ruby

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/analyzertest"
)

type fakeInfo struct{ size int64 }

func (f fakeInfo) Name() string       { return "x" }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() os.FileMode  { return 0o644 }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return nil }

func TestRequired(t *testing.T) {
	a := New()
	for p, want := range map[string]bool{
		"/usr/local/bundle/specifications/rack-2.2.4.gemspec":                                       true,
		"/usr/local/lib/ruby/gems/3.3.0/specifications/default/json-2.7.1.gemspec":                  true,
		"/var/lib/gems/3.1.0/specifications/nokogiri-1.16.0-x86_64-linux.gemspec":                   true,
		"/usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec":                    true,
		"/usr/lib/x86_64-linux-gnu/rubygems-integration/3.1.0/specifications/nokogiri-1.13.gemspec": true,
		"/app/Gemfile.lock": true,
		"/app/gems.locked":  true,
		"/usr/local/bundle/gems/rack-2.2.4/rack.gemspec": false, // source gemspec, not installed
		"/app/my.gemspec": false,
		"/usr/local/bundle/specifications/.gemspec":               false,
		"/usr/local/bundle/specifications/other/x-1.gemspec":      false,
		"/usr/local/bundle/specifications/rack-2.2.4.gemspec.bak": false,
		"/app/Gemfile":                           false,
		"/app/Gemfile.lock.orig":                 false,
		"/usr/local/bundle/cache/rack-2.2.4.gem": false,
		"/usr/local/bundle/gems/x/spec/fixtures/specifications/foo-1.gemspec": true, // indistinguishable; harmless
	} {
		if got := a.Required(p, fakeInfo{100}); got != want {
			t.Errorf("Required(%s) = %v, want %v", p, got, want)
		}
	}
	analyzertest.CheckSizeLimit(t, a, "/app/Gemfile.lock", MaxLockfileSize)
	analyzertest.CheckSizeLimit(t, a, "/s/specifications/a.gemspec", MaxGemspecSize)
}

type row struct {
	Path, Name, Version, PURL string
	Licenses                  []string
}

func run(t *testing.T, path string, b []byte) []row {
	t.Helper()
	a := New()
	if !a.Required(path, fakeInfo{int64(len(b))}) {
		t.Fatalf("Required(%s) = false", path)
	}
	res, err := a.Analyze(context.Background(), analyzer.Input{Path: path, Info: fakeInfo{int64(len(b))}, Content: bytes.NewReader(b)})
	if err != nil {
		t.Fatal(err)
	}
	var out []row
	if res != nil {
		for _, p := range res.Packages {
			if p.Type != Type || p.FoundBy != Name || len(p.Locations) != 1 || p.Locations[0].Path != path {
				t.Errorf("%s: type %q foundBy %q locations %v", path, p.Type, p.FoundBy, p.Locations)
			}
			out = append(out, row{path, p.Name, p.Version, p.PURL, p.Licenses})
		}
	}
	return out
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestGemspecs(t *testing.T) {
	mit := []string{"MIT"}
	for _, tt := range []struct {
		file, path string
		want       []row
	}{
		{"testdata/specifications/rack-2.2.22.gemspec", "/usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec",
			[]row{{"", "rack", "2.2.22", "pkg:gem/rack@2.2.22", mit}}},
		{"testdata/specifications/nokogiri-1.13.10.gemspec", "/usr/lib/x86_64-linux-gnu/rubygems-integration/3.1.0/specifications/nokogiri-1.13.10.gemspec",
			[]row{{"", "nokogiri", "1.13.10", "pkg:gem/nokogiri@1.13.10", mit}}},
		{"testdata/specifications/default/bundler-2.1.4.gemspec", "/usr/local/lib/ruby/gems/2.7.0/specifications/default/bundler-2.1.4.gemspec",
			[]row{{"", "bundler", "2.1.4", "pkg:gem/bundler@2.1.4", mit}}},
	} {
		got := run(t, tt.path, read(t, tt.file))
		for i := range tt.want {
			tt.want[i].Path = tt.path
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.file, diff)
		}
	}
}

func TestParseGemspec(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     Gem
	}{
		{"hand-written, single quotes", "Gem::Specification.new do |spec|\n  spec.name    = 'faraday'\n  spec.version = '2.7.4'\n  spec.license = 'MIT'\nend\n", Gem{"faraday", "2.7.4", []string{"MIT"}}},
		{"computed version", "Gem::Specification.new do |s|\n  s.name = \"x\"\n  s.version = X::VERSION\nend\n", Gem{"x", "", nil}},
		{"Gem::Version.new", "  s.name = \"x\".freeze\n  s.version = Gem::Version.new(\"1.0.0.pre.rc1\")\n", Gem{"x", "1.0.0.pre.rc1", nil}},
		{"several licences, CRLF", "s.name = \"json\"\r\ns.version = \"2.7.1\"\r\ns.licenses = [\"Ruby\".freeze, \"BSD-2-Clause\".freeze, \"Ruby\".freeze]\r\n", Gem{"json", "2.7.1", []string{"Ruby", "BSD-2-Clause"}}},
		{"first assignment wins; names in strings ignored", "s.description = \"s.name = \\\"evil\\\"\"\ns.name = \"good\"\ns.name = \"later\"\ns.version = \"1\"\n", Gem{"good", "1", nil}},
		{"version with space is no version", "s.name = \"x\"\ns.version = \"1.0 beta\"\n", Gem{"x", "", nil}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ParseGemspec([]byte(tt.in))); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestGemfileLock(t *testing.T) {
	got := run(t, "/app/Gemfile.lock", read(t, "testdata/modern/Gemfile.lock"))
	var names []string
	for _, r := range got {
		if r.PURL != "pkg:gem/"+r.Name+"@"+r.Version || r.Licenses != nil {
			t.Errorf("bad row %+v", r)
		}
		names = append(names, r.Name+"@"+r.Version)
	}
	want := []string{
		"sprockets-rails@3.4.2", // GIT source; the PATH engine "billing" is skipped
		"actionpack@7.1.3", "activesupport@7.1.3", "concurrent-ruby@1.2.3",
		"ffi@1.16.3", "google-protobuf@3.25.2", "grpc@1.60.0", "i18n@1.14.1", "mini_portile2@2.8.5",
		"nokogiri@1.16.0", // four platforms, once
		"pg@1.5.4", "racc@1.7.3", "rack@3.0.9", "rails-html-sanitizer@1.6.0", "sassc@2.4.0",
		"sprockets@4.2.1", "turbo-rails@2.0.0.pre.beta.2", "tzinfo@2.0.6",
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestSyftGemfileLock(t *testing.T) {
	got := run(t, "/app/Gemfile.lock", read(t, "testdata/app/Gemfile.lock"))
	names := map[string]string{}
	for _, r := range got {
		names[r.Name] = r.Version
	}
	if len(got) != 51 || names["rails"] != "4.1.1" || names["turbolinks"] != "3.0.0" || names["arel"] != "5.0.1.20140414130214" {
		t.Errorf("%d gems: %v", len(got), names)
	}
	for _, skipped := range []string{"google-cloud-errors", "bad-entry", "ruby", "unicorn!"} {
		if _, ok := names[skipped]; ok {
			t.Errorf("%s reported", skipped)
		}
	}
}

func TestLockfileEdgeCases(t *testing.T) {
	in := "GEM\r\n  remote: https://rubygems.org/\r\n  specs:\r\n    a (1.0)\r\n    b (2.0-java)\r\n    c\r\n    d (not a version)\r\n    e 1.0\r\n    f (3.0.0-x64-mingw-ucrt)\r\n\r\nPLATFORMS\r\n  java\r\n"
	gems, err := ParseLockfile(context.Background(), []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Gem{{Name: "a", Version: "1.0"}, {Name: "b", Version: "2.0"}, {Name: "f", Version: "3.0.0"}}
	if diff := cmp.Diff(want, gems); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ParseLockfile(ctx, bytes.Repeat([]byte("    a (1)\n"), 10000)); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want canceled", err)
	}
}

func TestOversized(t *testing.T) {
	b := bytes.Repeat([]byte("#"), MaxGemspecSize+1)
	_, err := New().Analyze(context.Background(), analyzer.Input{Path: "/s/specifications/a.gemspec", Content: bytes.NewReader(b)})
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("err = %v", err)
	}
}

func seeds(f *testing.F) {
	_ = filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			f.Add(b)
		}
		return nil
	})
}

func FuzzParseGemspec(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		g := ParseGemspec(b)
		if g.Name != "" && !validName.MatchString(g.Name) || g.Version != "" && !validVersion.MatchString(g.Version) {
			t.Fatalf("bad gem %+v", g)
		}
		for _, l := range g.Licenses {
			if l == "" {
				t.Fatal("blank licence")
			}
		}
	})
}

func FuzzParseLockfile(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		gems, err := ParseLockfile(context.Background(), b)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, g := range gems {
			if g.Name == "" || g.Version == "" || strings.Contains(g.Version, "-") || seen[g.Name+" "+g.Version] {
				t.Fatalf("bad gem %+v", g)
			}
			seen[g.Name+" "+g.Version] = true
			if !strings.HasPrefix(PURL(g.Name, g.Version), "pkg:gem/") {
				t.Fatal("bad purl")
			}
		}
	})
}

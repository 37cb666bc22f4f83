package npm

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/analyzertest"
)

func TestRequired(t *testing.T) {
	a := New()
	for path, want := range map[string]bool{
		"/app/node_modules/lodash/package.json":                                                       true,
		"/app/node_modules/@babel/code-frame/package.json":                                            true,
		"/app/node_modules/debug/node_modules/ms/package.json":                                        true,
		"/usr/lib/node_modules/npm/package.json":                                                      true,
		"/usr/lib/node_modules/npm/node_modules/@npmcli/arborist/package.json":                        true,
		"/app/node_modules/.pnpm/lodash@4.17.21/node_modules/lodash/package.json":                     true,
		"/app/node_modules/.pnpm/@babel+code-frame@7.0.0/node_modules/@babel/code-frame/package.json": true,
		"/app/package.json":                                         true, // the application's own manifest
		"/usr/share/nodejs/acorn/package.json":                      true, // Debian's node packages: folded into the deb
		"package.json":                                              true,
		"/app/node_modules/package.json":                            false,
		"/app/node_modules/@babel/package.json":                     false, // a scope is no package
		"/app/node_modules/lodash/fp/package.json":                  false, // a file inside a package
		"/app/node_modules/some-lib/dist/esm/package.json":          false,
		"/app/node_modules/some-lib/test/fixtures/a/package.json":   false,
		"/app/node_modules/.bin/package.json":                       false,
		"/app/node_modules/.pnpm/lodash@4.17.21/package.json":       false,
		"/app/node_modules/.package-lock.json":                      false,
		"/app/node_modules/lodash/package.json.bak":                 false,
		"/app/node_modules/@/x/package.json":                        false,
		"/app/node_modules/_cacache/package.json":                   false,
		"/app/node_modules/lodash/node_modules/.cache/package.json": false,
	} {
		if got := a.Required(path, analyzertest.File(100)); got != want {
			t.Errorf("Required(%s) = %v, want %v", path, got, want)
		}
	}
	analyzertest.CheckSizeLimit(t, a, "/app/node_modules/x/package.json", MaxFileSize)
}

type row struct {
	Path, Name, Version, PURL string
	Licenses                  []string
}

// walk offers every file under dir to the analyzer, as the core would, with
// paths rooted at /app.
func walk(t *testing.T, dir string) []row {
	t.Helper()
	a := New()
	var out []row
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		path := "/app/" + filepath.ToSlash(rel)
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
			out = append(out, row{strings.TrimPrefix(path, "/app/node_modules/"), p.Name, p.Version, p.PURL, p.Licenses})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNPMTree(t *testing.T) {
	mit := []string{"MIT"}
	want := []row{
		{"@babel/code-frame/package.json", "@babel/code-frame", "7.0.0", "pkg:npm/%40babel/code-frame@7.0.0", mit},
		{"@babel/helper-validator-identifier/package.json", "@babel/helper-validator-identifier", "7.29.7", "pkg:npm/%40babel/helper-validator-identifier@7.29.7", mit},
		{"@babel/highlight/package.json", "@babel/highlight", "7.25.9", "pkg:npm/%40babel/highlight@7.25.9", mit},
		{"ansi-styles/package.json", "ansi-styles", "3.2.1", "pkg:npm/ansi-styles@3.2.1", mit},
		{"chalk/package.json", "chalk", "2.4.2", "pkg:npm/chalk@2.4.2", mit},
		{"color-convert/package.json", "color-convert", "1.9.3", "pkg:npm/color-convert@1.9.3", mit},
		{"color-name/package.json", "color-name", "1.1.3", "pkg:npm/color-name@1.1.3", mit},
		{"debug/node_modules/ms/package.json", "ms", "2.0.0", "pkg:npm/ms@2.0.0", mit},
		{"debug/package.json", "debug", "2.6.9", "pkg:npm/debug@2.6.9", mit},
		{"escape-string-regexp/package.json", "escape-string-regexp", "1.0.5", "pkg:npm/escape-string-regexp@1.0.5", mit},
		{"has-flag/package.json", "has-flag", "3.0.0", "pkg:npm/has-flag@3.0.0", mit},
		{"js-tokens/package.json", "js-tokens", "4.0.0", "pkg:npm/js-tokens@4.0.0", mit},
		{"json-schema/package.json", "json-schema", "0.2.3", "pkg:npm/json-schema@0.2.3", []string{"AFLv2.1", "BSD"}},
		{"lodash/package.json", "lodash", "4.17.15", "pkg:npm/lodash@4.17.15", mit},
		{"minimist/package.json", "minimist", "1.2.0", "pkg:npm/minimist@1.2.0", mit},
		{"ms/package.json", "ms", "2.1.3", "pkg:npm/ms@2.1.3", mit},
		{"my-lodash/package.json", "lodash", "4.17.21", "pkg:npm/lodash@4.17.21", mit}, // an alias: the real package
		{"pause-stream/package.json", "pause-stream", "0.0.11", "pkg:npm/pause-stream@0.0.11", []string{"MIT", "Apache2"}},
		{"picocolors/package.json", "picocolors", "1.1.1", "pkg:npm/picocolors@1.1.1", []string{"ISC"}},
		{"supports-color/package.json", "supports-color", "5.5.0", "pkg:npm/supports-color@5.5.0", mit},
		{"through/package.json", "through", "2.3.8", "pkg:npm/through@2.3.8", mit},
	}
	if diff := cmp.Diff(want, walk(t, "testdata/npm-tree")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestPNPMTree(t *testing.T) {
	want := []row{
		{".pnpm/@babel+code-frame@7.0.0/node_modules/@babel/code-frame/package.json", "@babel/code-frame", "7.0.0", "pkg:npm/%40babel/code-frame@7.0.0", []string{"MIT"}},
		{".pnpm/json-schema@0.2.3/node_modules/json-schema/package.json", "json-schema", "0.2.3", "pkg:npm/json-schema@0.2.3", []string{"AFLv2.1", "BSD"}},
		{".pnpm/lodash@4.17.21/node_modules/lodash/package.json", "lodash", "4.17.21", "pkg:npm/lodash@4.17.21", []string{"MIT"}},
	}
	if diff := cmp.Diff(want, walk(t, "testdata/pnpm-tree")); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseManifest(t *testing.T) {
	tests := []struct {
		name, in string
		want     Manifest
	}{
		{"legacy license object", `{"name":"a","version":"1.0.0","license":{"type":"MIT","url":"http://x"}}`, Manifest{"a", "1.0.0", []string{"MIT"}, false}},
		{"license array", `{"name":"a","version":"1.0.0","license":["MIT","Apache2"]}`, Manifest{"a", "1.0.0", []string{"MIT", "Apache2"}, false}},
		{"licenses of objects and strings", `{"name":"a","version":"1.0.0","licenses":[{"type":"BSD"},"MIT",{"name":"ISC"}]}`, Manifest{"a", "1.0.0", []string{"BSD", "MIT", "ISC"}, false}},
		{"licenses as one object", `{"name":"a","version":"1.0.0","licenses":{"type":"GPL-2.0"}}`, Manifest{"a", "1.0.0", []string{"GPL-2.0"}, false}},
		{"both fields, repeated", `{"name":"a","version":"1.0.0","license":"MIT","licenses":[{"type":"MIT"}]}`, Manifest{"a", "1.0.0", []string{"MIT"}, false}},
		{"SPDX expression kept whole", `{"name":"a","version":"1.0.0","license":"(MIT OR Apache-2.0)"}`, Manifest{"a", "1.0.0", []string{"(MIT OR Apache-2.0)"}, false}},
		{"wrong types are absent", `{"name":"a","version":1,"license":42,"licenses":[[["MIT"]]]}`, Manifest{"a", "", nil, false}},
		{"BOM", "\ufeff{\"name\":\"a\",\"version\":\"2.0.0\"}", Manifest{"a", "2.0.0", nil, false}},
		{"private", `{"name":"a","version":"1.0.0","private":true}`, Manifest{"a", "1.0.0", nil, true}},
		{"private is JavaScript-truthy, as npm reads it", `{"name":"a","version":"1.0.0","private":"yes"}`, Manifest{"a", "1.0.0", nil, true}},
		{"private 0", `{"name":"a","version":"1.0.0","private":0}`, Manifest{"a", "1.0.0", nil, false}},
		{"blank license", `{"name":"a","version":"1.0.0","license":"  "}`, Manifest{"a", "1.0.0", nil, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseManifest([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func analyze(t *testing.T, b string) (*analyzer.Result, error) {
	t.Helper()
	return New().Analyze(context.Background(), analyzer.Input{Path: "/app/node_modules/x/package.json", Content: strings.NewReader(b)})
}

func TestSkipped(t *testing.T) {
	for name, in := range map[string]string{
		"no name":     `{"version":"1.0.0"}`,
		"no version":  `{"name":"x","private":true}`,
		"module stub": `{"type":"module"}`,
	} {
		res, err := analyze(t, in)
		if res != nil || err != nil {
			t.Errorf("%s: got %+v, %v; want nothing", name, res, err)
		}
	}
}

func TestInvalidJSON(t *testing.T) {
	for _, in := range []string{`{"name":"x",`, `not json`, `["name"]`} {
		_, err := analyze(t, in)
		if err == nil || !strings.Contains(err.Error(), "/app/node_modules/x/package.json") {
			t.Errorf("%q: err = %v, want an error naming the file", in, err)
		}
	}
}

func TestPURL(t *testing.T) {
	for _, tt := range []struct{ name, version, want string }{
		{"@babel/code-frame", "7.0.0", "pkg:npm/%40babel/code-frame@7.0.0"},
		{"lodash", "4.17.15", "pkg:npm/lodash@4.17.15"},
		{"JSONStream", "1.3.5", "pkg:npm/JSONStream@1.3.5"},
		{"x", "1.0.0-beta+build.1", "pkg:npm/x@1.0.0-beta%2Bbuild.1"},
	} {
		if got := PURL(tt.name, tt.version); got != tt.want {
			t.Errorf("PURL(%q, %q) = %q, want %q", tt.name, tt.version, got, tt.want)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	_ = filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			b, _ := os.ReadFile(p)
			f.Add(b)
		}
		return nil
	})
	f.Add([]byte(`{"name":"a","version":"1","licenses":[{"type":"MIT"},"X"],"license":{"type":"Y"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseManifest(b)
		if err != nil {
			if json.Valid(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))) && bytes.HasPrefix(bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))), []byte("{")) {
				t.Fatalf("valid JSON object rejected: %v", err)
			}
			return
		}
		for _, l := range m.Licenses {
			if strings.TrimSpace(l) == "" {
				t.Fatal("blank licence")
			}
		}
		if m.Name != "" {
			if p := PURL(m.Name, m.Version); !strings.HasPrefix(p, "pkg:npm/") {
				t.Fatalf("bad purl %q", p)
			}
		}
	})
}

func BenchmarkParseManifest(b *testing.B) {
	data, err := os.ReadFile("testdata/npm-tree/node_modules/lodash/package.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseManifest(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAnalyze(b *testing.B) {
	data, err := os.ReadFile("testdata/npm-tree/node_modules/@babel/highlight/package.json")
	if err != nil {
		b.Fatal(err)
	}
	a := New()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := a.Analyze(context.Background(), analyzer.Input{Path: "/app/node_modules/@babel/highlight/package.json", Content: bytes.NewReader(data)}); err != nil {
			b.Fatal(err)
		}
	}
}

package npmlock

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/analyzertest"
)

func TestRequired(t *testing.T) {
	a := New()
	for path, want := range map[string]bool{
		"/src/app/package-lock.json":                       true,
		"/src/app/npm-shrinkwrap.json":                     true,
		"/src/app/yarn.lock":                               true,
		"/src/app/pnpm-lock.yaml":                          true,
		"/src/app/package.json":                            false,
		"/src/app/node_modules/.package-lock.json":         false, // npm's hidden lockfile: the npm analyzer reads the tree
		"/src/app/node_modules/some-lib/package-lock.json": false,
		"/src/app/node_modules/some-lib/yarn.lock":         false,
		"/src/app/yarn.lock.orig":                          false,
		"/src/app/pnpm-lock.yml":                           false,
	} {
		if got := a.Required(path, analyzertest.File(100)); got != want {
			t.Errorf("Required(%s) = %v, want %v", path, got, want)
		}
	}
	analyzertest.CheckSizeLimit(t, a, "/src/pnpm-lock.yaml", MaxPnpmFileSize)
	analyzertest.CheckSizeLimit(t, a, "/src/yarn.lock", MaxFileSize)
}

// fixture is what every lockfile of testdata pins.
func fixture(licenses, dev bool) []Package {
	mit := []string{"MIT"}
	pkgs := []Package{
		{"@babel/code-frame", "7.0.0", mit, false},
		{"@babel/helper-validator-identifier", "7.29.7", mit, false},
		{"@babel/highlight", "7.25.9", mit, false},
		{"ansi-styles", "3.2.1", mit, false},
		{"chalk", "2.4.2", mit, false},
		{"color-convert", "1.9.3", mit, false},
		{"color-name", "1.1.3", mit, false},
		{"debug", "2.6.9", mit, false},
		{"escape-string-regexp", "1.0.5", mit, false},
		{"has-flag", "3.0.0", mit, false},
		{"js-tokens", "4.0.0", mit, false},
		{"json-schema", "0.2.3", nil, false}, // its licences are in the legacy field, which npm does not copy
		{"lodash", "4.17.15", mit, false},
		{"lodash", "4.17.21", mit, false}, // my-lodash, an alias
		{"minimist", "1.2.0", mit, false},
		{"ms", "2.0.0", mit, false},
		{"ms", "2.1.3", mit, dev},
		{"pause-stream", "0.0.11", []string{"MIT", "Apache2"}, false},
		{"picocolors", "1.1.1", []string{"ISC"}, false},
		{"supports-color", "5.5.0", mit, false},
		{"through", "2.3.8", mit, false},
	}
	if !licenses {
		for i := range pkgs {
			pkgs[i].Licenses = nil
		}
	}
	return pkgs
}

func TestLockfiles(t *testing.T) {
	tests := []struct {
		file, path    string
		licenses, dev bool
	}{
		{"package-lock-v1.json", "/src/package-lock.json", false, true},
		{"package-lock-v2.json", "/src/package-lock.json", true, true},
		{"package-lock-v3.json", "/src/npm-shrinkwrap.json", true, true},
		{"yarn-v1.lock", "/src/yarn.lock", false, false},
		{"yarn-berry.lock", "/src/yarn.lock", false, false},
		{"pnpm-lock-v5.yaml", "/src/pnpm-lock.yaml", false, true},
		{"pnpm-lock-v6.yaml", "/src/pnpm-lock.yaml", false, true},
		{"pnpm-lock-v9.yaml", "/src/pnpm-lock.yaml", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			a := New()
			if !a.Required(tt.path, analyzertest.File(int64(len(b)))) {
				t.Fatalf("Required(%s) = false", tt.path)
			}
			res, err := a.Analyze(context.Background(), analyzer.Input{Path: tt.path, Content: bytes.NewReader(b)})
			if err != nil {
				t.Fatal(err)
			}
			var got []Package
			for _, p := range res.Packages {
				if p.Type != "npm" || p.FoundBy != Name || len(p.Locations) != 1 || p.Locations[0].Path != tt.path {
					t.Errorf("%s: type %q foundBy %q locations %v", p.Name, p.Type, p.FoundBy, p.Locations)
				}
				if !strings.HasPrefix(p.PURL, "pkg:npm/") || !strings.HasSuffix(p.PURL, "@"+p.Version) {
					t.Errorf("%s: purl %q", p.Name, p.PURL)
				}
				got = append(got, Package{p.Name, p.Version, p.Licenses, p.Dev})
			}
			if diff := cmp.Diff(fixture(tt.licenses, tt.dev), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPackageLock(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Package
	}{
		{"workspaces and links are the project's own", `{"lockfileVersion":3,"packages":{
			"": {"name":"root","version":"1.0.0"},
			"packages/a": {"name":"a","version":"0.1.0"},
			"node_modules/a": {"resolved":"packages/a","link":true},
			"node_modules/x": {"version":"1.0.0","devOptional":true,"license":{"type":"BSD"}},
			"packages/a/node_modules/x": {"version":"1.0.0"}}}`,
			[]Package{{"x", "1.0.0", []string{"BSD"}, false}}}, // not dev everywhere: not dev
		{"v1 git, tarball and file dependencies have no version to look up", `{"lockfileVersion":1,"dependencies":{
			"g": {"version":"git+https://github.com/u/g.git#0123456789abcdef"},
			"t": {"version":"https://example.com/t-1.0.0.tgz"},
			"f": {"version":"file:../f"},
			"s": {"version":"npm:@scope/real@2.0.0","dev":true}}}`,
			[]Package{{"@scope/real", "2.0.0", nil, true}}},
		{"no dependencies", `{"name":"x","lockfileVersion":2,"requires":true,"packages":{"":{"name":"x"}}}`, nil},
		{"lockfileVersion as a string does not matter", `{"lockfileVersion":"1","dependencies":{"a":{"version":"1.0.0"}}}`,
			[]Package{{"a", "1.0.0", nil, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePackageLock(context.Background(), []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestYarnLock(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Package
	}{
		{"classic: several specifiers, unquoted, CRLF", "# yarn lockfile v1\r\n\r\nlodash@^4.17.15, lodash@^4.17.19:\r\n  version \"4.17.21\"\r\n  resolved \"https://registry.yarnpkg.com/lodash/-/lodash-4.17.21.tgz\"\r\n",
			[]Package{{"lodash", "4.17.21", nil, false}}},
		{"classic: scoped alias and a file dependency", `"x@npm:@scope/real@^2":
  version "2.1.0"

local@file:../local:
  version "0.0.1"
`, []Package{{"@scope/real", "2.1.0", nil, false}}},
		{"berry: patch, workspace, link and portal", `__metadata:
  version: 6
  cacheKey: 8

"resolve@npm:^1.22.1":
  version: 1.22.1
  resolution: "resolve@npm:1.22.1"

"resolve@patch:resolve@npm%3A^1.22.1#~builtin<compat/resolve>":
  version: 1.22.1
  resolution: "resolve@patch:resolve@npm%3A1.22.1#~builtin<compat/resolve>::version=1.22.1&hash=07638b"
  dependencies:
    is-core-module: ^2.9.0
  languageName: node
  linkType: hard

"app@workspace:.":
  version: 0.0.0-use.local
  resolution: "app@workspace:."
  languageName: unknown
  linkType: soft

"lib@link:../lib::locator=app%40workspace%3A.":
  version: 0.0.0-use.local
  resolution: "lib@link:../lib::locator=app%40workspace%3A."
  linkType: soft

"p@portal:../p::locator=app%40workspace%3A.":
  version: 0.0.0-use.local
  resolution: "p@portal:../p::locator=app%40workspace%3A."
  linkType: soft
`, []Package{{"resolve", "1.22.1", nil, false}}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseYarnLock(context.Background(), []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestPnpmLock(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Package
	}{
		{"v5 peer suffix and tarball", `lockfileVersion: 5.4
packages:
  /react-dom/18.2.0_react@18.2.0:
    dev: false
  /react/18.2.0:
    dev: true
  registry.example.com/x/-/x-1.0.0.tgz:
    resolution: {tarball: https://registry.example.com/x/-/x-1.0.0.tgz}
    name: x
    version: 1.0.0
`, []Package{{"react", "18.2.0", nil, true}, {"react-dom", "18.2.0", nil, false}, {"x", "1.0.0", nil, false}}},
		{"v6 peer suffix", `lockfileVersion: '6.0'
packages:
  /@types/react-dom@18.2.0(@types/react@18.2.0):
    dev: true
  /@types/react@18.2.0:
    dev: true
`, []Package{{"@types/react", "18.2.0", nil, true}, {"@types/react-dom", "18.2.0", nil, true}}},
		{"v9 dev through snapshots, workspace link, shared dependency", `lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      a:
        specifier: ^1.0.0
        version: 1.0.0(p@1.0.0)
      w:
        specifier: workspace:*
        version: link:packages/w
    devDependencies:
      d:
        specifier: ^1.0.0
        version: 1.0.0
  packages/w:
    devDependencies:
      shared:
        specifier: ^1.0.0
        version: 1.0.0
packages:
  a@1.0.0: {}
  d@1.0.0: {}
  p@1.0.0: {}
  shared@1.0.0: {}
  onlydev@2.0.0: {}
snapshots:
  a@1.0.0(p@1.0.0):
    dependencies:
      shared: 1.0.0
      p: 1.0.0
  d@1.0.0:
    dependencies:
      onlydev: 2.0.0
      shared: 1.0.0
  p@1.0.0: {}
  shared@1.0.0: {}
  onlydev@2.0.0: {}
`, []Package{{"a", "1.0.0", nil, false}, {"d", "1.0.0", nil, true}, {"onlydev", "2.0.0", nil, true}, {"p", "1.0.0", nil, false}, {"shared", "1.0.0", nil, false}}},
		{"two documents (pnpm 10 config dependencies)", `---
lockfileVersion: '9.0'
importers:
  .:
    configDependencies: {}
packageManagerDependencies:
  pnpm:
    specifier: 10.0.0
    version: 10.0.0
---
lockfileVersion: '9.0'
importers:
  .:
    dependencies:
      a:
        specifier: 1.0.0
        version: 1.0.0
packages:
  a@1.0.0: {}
snapshots:
  a@1.0.0: {}
`, []Package{{"a", "1.0.0", nil, false}}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePnpmLock(context.Background(), []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	for path, in := range map[string]string{
		"/src/package-lock.json": `{"lockfileVersion":3,"packages":`,
		"/src/yarn.lock":         "this is not a yarn.lock\n",
		"/src/pnpm-lock.yaml":    "lockfileVersion: '9.0'\npackages: [unclosed\n",
	} {
		_, err := New().Analyze(context.Background(), analyzer.Input{Path: path, Content: strings.NewReader(in)})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want an error naming the file", path, err)
		}
	}
	long := "a@1:\n  version \"" + strings.Repeat("1", maxLine) + "\"\n"
	if _, err := ParseYarnLock(context.Background(), []byte(long)); err == nil {
		t.Error("no error for an overlong yarn.lock line")
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	big := bigYarnLock(5000)
	if _, err := ParseYarnLock(ctx, big); err == nil {
		t.Error("ParseYarnLock ignored a canceled context")
	}
	if _, err := ParsePackageLock(ctx, bigPackageLock(5000)); err == nil {
		t.Error("ParsePackageLock ignored a canceled context")
	}
}

func fuzzSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzParsePackageLock(f *testing.F) {
	fuzzSeeds(f, "package-lock-v1.json", "package-lock-v2.json", "package-lock-v3.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ParsePackageLock(context.Background(), b)
		checkPackages(t, pkgs, err)
	})
}

func FuzzParseYarnLock(f *testing.F) {
	fuzzSeeds(f, "yarn-v1.lock", "yarn-berry.lock")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ParseYarnLock(context.Background(), b)
		checkPackages(t, pkgs, err)
	})
}

func FuzzParsePnpmLock(f *testing.F) {
	fuzzSeeds(f, "pnpm-lock-v5.yaml", "pnpm-lock-v6.yaml", "pnpm-lock-v9.yaml")
	f.Add([]byte("lockfileVersion: '9.0'\nimporters:\n  .:\n    devDependencies:\n      a: {specifier: '1', version: 1.0.0}\npackages:\n  a@1.0.0: {}\nsnapshots:\n  a@1.0.0:\n    dependencies:\n      a: 1.0.0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ParsePnpmLock(context.Background(), b)
		checkPackages(t, pkgs, err)
	})
}

func checkPackages(t *testing.T, pkgs []Package, err error) {
	t.Helper()
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		if p.Name == "" || p.Version == "" {
			t.Fatalf("incomplete package %+v", p)
		}
		if seen[p.Name+"@"+p.Version] {
			t.Fatalf("%s@%s reported twice", p.Name, p.Version)
		}
		seen[p.Name+"@"+p.Version] = true
	}
}

func bigYarnLock(n int) []byte {
	var b bytes.Buffer
	b.WriteString("# yarn lockfile v1\n\n")
	for i := range n {
		fmt.Fprintf(&b, "\"@scope/pkg-%d@^1.0.0\", \"@scope/pkg-%d@^1.1.0\":\n  version \"1.%d.0\"\n  resolved \"https://registry.yarnpkg.com/@scope/pkg-%d/-/pkg-%d-1.%d.0.tgz#0123456789abcdef\"\n  integrity sha512-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx==\n  dependencies:\n    dep-a \"^1.0.0\"\n    dep-b \"^2.0.0\"\n\n", i, i, i, i, i, i)
	}
	return b.Bytes()
}

func bigPackageLock(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"name":"big","lockfileVersion":3,"requires":true,"packages":{"":{"name":"big"}`)
	for i := range n {
		fmt.Fprintf(&b, `,"node_modules/pkg-%d":{"version":"1.%d.0","resolved":"https://registry.npmjs.org/pkg-%d/-/pkg-%d-1.%d.0.tgz","integrity":"sha512-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx==","license":"MIT","dependencies":{"dep-a":"^1.0.0"}}`, i, i, i, i, i)
	}
	b.WriteString("}}")
	return b.Bytes()
}

func bigPnpmLock(n int) []byte {
	var b bytes.Buffer
	b.WriteString("lockfileVersion: '9.0'\n\nimporters:\n\n  .:\n    dependencies:\n")
	for i := 0; i < n; i += 10 {
		fmt.Fprintf(&b, "      pkg-%d:\n        specifier: ^1.%d.0\n        version: 1.%d.0\n", i, i, i)
	}
	b.WriteString("\npackages:\n\n")
	for i := range n {
		fmt.Fprintf(&b, "  pkg-%d@1.%d.0:\n    resolution: {integrity: sha512-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx==}\n    engines: {node: '>=14'}\n\n", i, i)
	}
	b.WriteString("snapshots:\n\n")
	for i := range n {
		fmt.Fprintf(&b, "  pkg-%d@1.%d.0:\n    dependencies:\n      pkg-%d: 1.%d.0\n\n", i, i, (i+1)%n, (i+1)%n)
	}
	return b.Bytes()
}

// Benchmarks on lockfiles of 5,000 packages, the size of a large
// application's.
func BenchmarkParsePackageLock(b *testing.B) {
	data := bigPackageLock(5000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParsePackageLock(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseYarnLock(b *testing.B) {
	data := bigYarnLock(5000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseYarnLock(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParsePnpmLock(b *testing.B) {
	data := bigPnpmLock(5000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParsePnpmLock(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
}

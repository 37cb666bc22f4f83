package pythonlock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
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
		"/src/requirements.txt":                               true,
		"/src/requirements-dev.txt":                           true,
		"/src/requirements_prod.txt":                          true,
		"/src/poetry.lock":                                    true,
		"/src/Pipfile.lock":                                   true,
		"/src/uv.lock":                                        true,
		"/src/requirements.in":                                false,
		"/src/dev-requirements.txt":                           false,
		"/src/Pipfile":                                        false,
		"/src/pyproject.toml":                                 false,
		"/src/requirements/base.txt":                          false,
		"/usr/lib/python3/dist-packages/foo/requirements.txt": false,
		"/venv/lib/python3.11/site-packages/bar-1.0.dist-info/uv.lock": false,
	} {
		if got := a.Required(path, analyzertest.File(100)); got != want {
			t.Errorf("Required(%s) = %v, want %v", path, got, want)
		}
	}
	analyzertest.CheckSizeLimit(t, a, "/src/requirements.txt", MaxRequirementsSize)
	analyzertest.CheckSizeLimit(t, a, "/src/uv.lock", MaxLockSize)
}

func TestFixtures(t *testing.T) {
	tests := []struct {
		file, path string
		want       []Package
	}{
		{"requirements.txt", "/src/requirements.txt", []Package{
			{"certifi", "2022.9.24", false},
			{"charset-normalizer", "2.1.1", false},
			{"idna", "3.3", false},
			{"pkg-resources", "0.0.0", false},
			{"requests", "2.28.1", false},
			{"urllib3", "1.26.12", false},
			{"zope-interface", "5.5.2", false},
		}},
		{"poetry-v1.lock", "/src/poetry.lock", []Package{
			{"certifi", "2022.9.24", false},
			{"charset-normalizer", "2.1.1", false},
			{"idna", "3.3", false},
			{"iniconfig", "1.1.1", true},
			{"pytest", "7.2.0", true},
			{"requests", "2.28.1", false},
			{"urllib3", "1.26.12", false},
		}},
		{"poetry.lock", "/src/poetry.lock", []Package{
			{"certifi", "2022.9.24", false},
			{"colorama", "0.4.6", false}, // main and test
			{"iniconfig", "2.0.0", true},
			{"jinja2", "3.1.6", false},
			{"markupsafe", "3.0.2", false},
			{"typing-extensions", "4.15.0", false}, // from git
		}},
		{"Pipfile.lock", "/src/Pipfile.lock", []Package{
			{"certifi", "2022.9.24", false},
			{"charset-normalizer", "2.1.1", false},
			{"idna", "3.3", false},
			{"iniconfig", "1.1.1", true},
			{"pytest", "7.2.0", true},
			{"requests", "2.28.1", false},
			{"urllib3", "1.26.12", false}, // in default and develop
		}},
		{"uv.lock", "/src/uv.lock", []Package{
			{"certifi", "2022.9.24", false},
			{"charset-normalizer", "2.1.1", false},
			{"colorama", "0.4.6", true},
			{"idna", "3.3", false},
			{"iniconfig", "1.1.1", true},
			{"pysocks", "1.7.1", false}, // an extra of the project
			{"pytest", "7.2.0", true},
			{"requests", "2.28.1", false},
			{"ruff", "0.6.9", true}, // from git, lint group
			{"urllib3", "1.26.12", false},
			{"urllib3", "2.0.7", true},
		}},
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
				if p.Type != "pypi" || p.FoundBy != Name || len(p.Locations) != 1 || p.Locations[0].Path != tt.path {
					t.Errorf("%s: type %q foundBy %q locations %v", p.Name, p.Type, p.FoundBy, p.Locations)
				}
				if want := "pkg:pypi/" + p.Name + "@" + p.Version; p.PURL != want {
					t.Errorf("purl %q, want %q", p.PURL, want)
				}
				got = append(got, Package{Name: p.Name, Version: p.Version})
			}
			// Dev is not in inventory.Package (yet): check the parser's.
			pkgs, err := parse(tt.path, b)
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				got[i].Dev = pkgs[i].Dev
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func parse(path string, b []byte) ([]Package, error) {
	ctx := context.Background()
	switch kindOf(path) {
	case kindRequirements:
		return ParseRequirements(ctx, b)
	case kindPoetry:
		return ParsePoetryLock(ctx, b)
	case kindPipfile:
		return ParsePipfileLock(ctx, b)
	case kindUV:
		return ParseUVLock(ctx, b)
	}
	return nil, fmt.Errorf("no parser for %s", path)
}

func TestRequirements(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Package
	}{
		{"CRLF, BOM, tabs", "\ufeffa==1.0\r\nb\t==\t2.0\r\n", []Package{{"a", "1.0", false}, {"b", "2.0", false}}},
		{"continuation joins the specifier", "requests\\\n==2.28.1\n", []Package{{"requests", "2.28.1", false}}},
		{"continuation at end of file", "a==1.0 \\", []Package{{"a", "1.0", false}}},
		{"marker without space", "a==1.0;python_version<'3.8'\n", []Package{{"a", "1.0", false}}},
		{"the == of several clauses", "a>=1,==1.5,<2\n", []Package{{"a", "1.5", false}}},
		{"options after the requirement", "a==1.0 --hash=sha256:00 --global-option=x\n", []Package{{"a", "1.0", false}}},
		{"URL with fragment, no pin", "b @ https://example.com/b.zip#sha1=00\n", nil},
		{"name only", "a\n", nil},
		{"repeated, case and separators", "Foo_Bar==1.0\nfoo-bar==1.0\nfoo.bar==1.0\n", []Package{{"foo-bar", "1.0", false}}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRequirements(context.Background(), []byte(tt.in))
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
		"/src/poetry.lock":      "[[package]\nname = ",
		"/src/uv.lock":          "[[package]]\nname = 1\n",
		"/src/Pipfile.lock":     `{"default": `,
		"/src/requirements.txt": "a==" + strings.Repeat("1", maxLine+1) + "\n",
	} {
		_, err := New().Analyze(context.Background(), analyzer.Input{Path: path, Content: strings.NewReader(in)})
		if err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want an error naming the file", path, err)
		}
	}
}

func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ParseRequirements(ctx, bigRequirements(5000)); err == nil {
		t.Error("ParseRequirements ignored a canceled context")
	}
	if _, err := ParseUVLock(ctx, bigUVLock(5000)); err == nil {
		t.Error("ParseUVLock ignored a canceled context")
	}
}

func seeds(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func check(t *testing.T, pkgs []Package, err error) {
	t.Helper()
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, p := range pkgs {
		if p.Name == "" || p.Version == "" || strings.ContainsAny(p.Version, " \t\r\n") {
			t.Fatalf("bad package %+v", p)
		}
		if seen[p.Name+"@"+p.Version] {
			t.Fatalf("%s@%s reported twice", p.Name, p.Version)
		}
		seen[p.Name+"@"+p.Version] = true
	}
}

func FuzzParseRequirements(f *testing.F) {
	seeds(f, "requirements.txt")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ParseRequirements(context.Background(), b)
		check(t, pkgs, err)
	})
}

func FuzzParsePoetryLock(f *testing.F) {
	seeds(f, "poetry.lock", "poetry-v1.lock")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ParsePoetryLock(context.Background(), b)
		check(t, pkgs, err)
	})
}

func FuzzParsePipfileLock(f *testing.F) {
	seeds(f, "Pipfile.lock")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ParsePipfileLock(context.Background(), b)
		check(t, pkgs, err)
	})
}

func FuzzParseUVLock(f *testing.F) {
	seeds(f, "uv.lock")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ParseUVLock(context.Background(), b)
		check(t, pkgs, err)
	})
}

func bigRequirements(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "package-%d[extra]==1.%d.0 ; python_version >= \"3.8\" \\\n    --hash=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n    # via app\n", i, i)
	}
	return b.Bytes()
}

func bigUVLock(n int) []byte {
	var b bytes.Buffer
	b.WriteString("version = 1\nrequires-python = \">=3.11\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\nsource = { virtual = \".\" }\ndependencies = [\n")
	for i := 0; i < n; i += 10 {
		fmt.Fprintf(&b, "    { name = \"package-%d\" },\n", i)
	}
	b.WriteString("]\n")
	for i := range n {
		fmt.Fprintf(&b, "\n[[package]]\nname = \"package-%d\"\nversion = \"1.%d.0\"\nsource = { registry = \"https://pypi.org/simple\" }\ndependencies = [\n    { name = \"package-%d\" },\n]\nsdist = { url = \"https://files.pythonhosted.org/packages/package-%d-1.%d.0.tar.gz\", hash = \"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\", size = 12345 }\n", i, i, (i+1)%n, i, i)
	}
	return b.Bytes()
}

func bigPoetryLock(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "[[package]]\nname = \"package-%d\"\nversion = \"1.%d.0\"\ndescription = \"A package\"\noptional = false\npython-versions = \">=3.8\"\ngroups = [\"main\"]\nfiles = [\n    {file = \"package-%d-1.%d.0.tar.gz\", hash = \"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"},\n]\n\n[package.dependencies]\npackage-%d = \">=1.0\"\n\n", i, i, i, i, (i+1)%n)
	}
	b.WriteString("[metadata]\nlock-version = \"2.1\"\npython-versions = \">=3.9\"\ncontent-hash = \"00\"\n")
	return b.Bytes()
}

func bigPipfileLock(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"_meta": {"pipfile-spec": 6}, "default": {`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"package-%d": {"hashes": ["sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"], "index": "pypi", "version": "==1.%d.0"}`, i, i)
	}
	b.WriteString(`}, "develop": {}}`)
	return b.Bytes()
}

// Benchmarks on 5,000 packages, a very large application's.
func BenchmarkParseRequirements(b *testing.B) { bench(b, bigRequirements(5000), ParseRequirements) }
func BenchmarkParsePoetryLock(b *testing.B)   { bench(b, bigPoetryLock(5000), ParsePoetryLock) }
func BenchmarkParsePipfileLock(b *testing.B)  { bench(b, bigPipfileLock(5000), ParsePipfileLock) }
func BenchmarkParseUVLock(b *testing.B)       { bench(b, bigUVLock(5000), ParseUVLock) }

func bench(b *testing.B, data []byte, parse func(context.Context, []byte) ([]Package, error)) {
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		pkgs, err := parse(context.Background(), data)
		if err != nil || len(pkgs) != 5000 {
			b.Fatalf("%d packages, %v", len(pkgs), err)
		}
	}
}

// TestHostileTOML: shapes on which the TOML parser takes quadratic time or
// worse are refused quickly; the limits leave real lockfiles alone.
func TestHostileTOML(t *testing.T) {
	for name, in := range map[string]string{
		"nested inline tables": "a = " + strings.Repeat("{b=", 10000) + "1" + strings.Repeat("}", 10000) + "\n",
		"nested arrays":        "a = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n",
		"dotted key":           strings.Repeat("a.", 100000) + "b = 1\n",
		"table header":         "[" + strings.Repeat(`"a".`, 100000) + "b]\nc = 1\n",
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			for _, parse := range []func(context.Context, []byte) ([]Package, error){ParseUVLock, ParsePoetryLock} {
				if _, err := parse(context.Background(), []byte(in)); !errors.Is(err, errTOMLShape) {
					t.Errorf("err = %v, want errTOMLShape", err)
				}
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
	// Brackets, braces, dots and # inside strings and comments do not count.
	ok := "# [[[[{{{{ ....\n" +
		"[[package]]\n" +
		"name = \"a\" # " + strings.Repeat("[{.", 200) + "\n" +
		"version = \"1.0\"\n" +
		"note = \"" + strings.Repeat("[{.\\\"", 200) + "\"\n" +
		"lit = '" + strings.Repeat("[{.", 200) + "'\n" +
		"ml = \"\"\"\n" + strings.Repeat("[{.\n", 200) + "\"\"\"\n" +
		"mll = '''" + strings.Repeat("[{.", 200) + "'''\n" +
		"source = { registry = \"https://pypi.org/simple\" }\n"
	pkgs, err := ParseUVLock(context.Background(), []byte(ok))
	if err != nil || len(pkgs) != 1 {
		t.Errorf("got %v, %v; want one package", pkgs, err)
	}
}

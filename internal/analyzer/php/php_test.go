package php

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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
	for p, want := range map[string]bool{
		"/var/www/html/vendor/composer/installed.json": true,
		"/app/lib/composer/installed.json":             true, // vendor-dir: lib
		"/var/www/html/composer.lock":                  true,
		"/var/www/html/composer.json":                  false,
		"/var/www/html/vendor/installed.json":          false,
		"/var/www/html/vendor/composer/installed.php":  false,
		"/var/www/html/composer.lock.bak":              false,
		"/var/www/html/vendor/composer/autoload.json":  false,
	} {
		if got := a.Required(p, analyzertest.File(100)); got != want {
			t.Errorf("Required(%s) = %v, want %v", p, got, want)
		}
	}
	analyzertest.CheckSizeLimit(t, a, "/x/composer.lock", MaxFileSize)
}

type row struct {
	Name, Version, PURL string
	Licenses            []string
}

func run(t *testing.T, path, file string) []row {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	a := New()
	if !a.Required(path, analyzertest.File(int64(len(b)))) {
		t.Fatalf("Required(%s) = false", path)
	}
	res, err := a.Analyze(context.Background(), analyzer.Input{Path: path, Info: analyzertest.File(int64(len(b))), Content: bytes.NewReader(b)})
	if err != nil {
		t.Fatal(err)
	}
	var out []row
	if res != nil {
		for _, p := range res.Packages {
			if p.Type != Type || p.FoundBy != Name || len(p.Locations) != 1 || p.Locations[0].Path != path {
				t.Errorf("%s: type %q foundBy %q locations %v", p.Name, p.Type, p.FoundBy, p.Locations)
			}
			out = append(out, row{p.Name, p.Version, p.PURL, p.Licenses})
		}
	}
	return out
}

func TestFiles(t *testing.T) {
	mit := []string{"MIT"}
	for _, tt := range []struct {
		path, file string
		want       []row
	}{
		{"/var/www/vendor/composer/installed.json", "testdata/v2/vendor/composer/installed.json", []row{
			{"guzzlehttp/psr7", "1.8.3", "pkg:composer/guzzlehttp/psr7@1.8.3", mit},
			{"psr/http-message", "1.1", "pkg:composer/psr/http-message@1.1", mit},
			{"ralouphie/getallheaders", "3.0.3", "pkg:composer/ralouphie/getallheaders@3.0.3", mit},
		}},
		{"/var/www/vendor/composer/installed.json", "testdata/v1/vendor/composer/installed.json", []row{
			{"monolog/monolog", "1.25.1", "pkg:composer/monolog/monolog@1.25.1", mit},
			{"psr/log", "1.1.0", "pkg:composer/psr/log@1.1.0", mit},
			{"symfony/polyfill-mbstring", "1.12.0", "pkg:composer/symfony/polyfill-mbstring@1.12.0", mit},
			{"acme/internal-tools", "dev-master", "pkg:composer/acme/internal-tools@dev-master", []string{"proprietary"}},
		}},
		{"/var/www/composer.lock", "testdata/app/composer.lock", []row{
			{"adoy/fastcgi-client", "1.0.2", "pkg:composer/adoy/fastcgi-client@1.0.2", mit},
			{"alcaeus/mongo-php-adapter", "1.1.11", "pkg:composer/alcaeus/mongo-php-adapter@1.1.11", mit},
			{"behat/gherkin", "4.6.2", "pkg:composer/behat/gherkin@4.6.2", mit},
			{"codeception/codeception", "4.1.6", "pkg:composer/codeception/codeception@4.1.6", mit},
		}},
	} {
		if diff := cmp.Diff(tt.want, run(t, tt.path, tt.file)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.file, diff)
		}
	}
}

func TestEdgeCases(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     []Package
	}{
		{"empty v2", `{"packages":[],"dev":true,"dev-package-names":[]}`, nil},
		{"empty v1", `[]`, nil},
		{"invalid names and versions skipped", `[{"name":"noslash","version":"1"},{"name":"a/b"},{"name":"a/b","version":2},{"name":"a/b","version":"1 2"},{"name":"Vendor/Pkg","version":"V2.0"},{"name":"vendor/pkg","version":"2.0"}]`,
			[]Package{{Name: "vendor/pkg", Version: "2.0"}}},
		{"BOM and odd licences", "\ufeff[{\"name\":\"a/b\",\"version\":\"v1\",\"license\":[\"MIT\",\"\",3,\"MIT\",\"GPL-2.0-or-later\"]}]",
			[]Package{{Name: "a/b", Version: "1", Licenses: []string{"MIT", "GPL-2.0-or-later"}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInstalled([]byte(tt.in))
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
	for _, p := range []string{"/a/composer.lock", "/a/vendor/composer/installed.json"} {
		for _, in := range []string{`{"packages": {}}`, `not json`, `{"packages":[`} {
			_, err := New().Analyze(context.Background(), analyzer.Input{Path: p, Content: strings.NewReader(in)})
			if err == nil || !strings.Contains(err.Error(), p) {
				t.Errorf("%s %q: err = %v, want an error naming the file", p, in, err)
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Analyze(ctx, analyzer.Input{Path: "/a/composer.lock", Content: strings.NewReader(`{}`)}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func seeds(f *testing.F) {
	_ = filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".md") {
			b, _ := os.ReadFile(p)
			f.Add(b)
		}
		return nil
	})
}

func check(t *testing.T, pkgs []Package) {
	for _, p := range pkgs {
		if !validName.MatchString(p.Name) || p.Version == "" || strings.ContainsAny(p.Version, " \t\r\n") {
			t.Fatalf("bad package %+v", p)
		}
		if !strings.HasPrefix(PURL(p.Name, p.Version), "pkg:composer/") {
			t.Fatal("bad purl")
		}
	}
}

func FuzzParseInstalled(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ParseInstalled(b)
		if err != nil {
			if json.Valid(b) && bytes.HasPrefix(bytes.TrimSpace(b), []byte("[]")) {
				t.Fatalf("empty v1 file rejected: %v", err)
			}
			return
		}
		check(t, pkgs)
	})
}

func FuzzParseLockfile(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if pkgs, err := ParseLockfile(b); err == nil {
			check(t, pkgs)
		}
	})
}

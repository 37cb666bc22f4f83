package javalock

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/analyzertest"
)

func TestRequired(t *testing.T) {
	a := New()
	for p, want := range map[string]bool{
		"/src/pom.xml":                                  true,
		"/src/module/pom.xml":                           true,
		"/src/src/test/resources/pom.xml":               false,
		"/src/target/classes/pom.xml":                   false,
		"/root/.m2/repository/g/a/1/a-1.pom":            false,
		"/root/.m2/repository/g/a/1/pom.xml":            false,
		"/src/gradle.lockfile":                          true,
		"/src/settings-gradle.lockfile":                 true,
		"/src/gradle/dependency-locks/compile.lockfile": true,
		"/src/other.lockfile":                           false,
		"/home/u/.gradle/caches/x/gradle.lockfile":      false,
		"/src/pom.xml.bak":                              false,
	} {
		if got := a.Required(p, analyzertest.File(100)); got != want {
			t.Errorf("Required(%s) = %v, want %v", p, got, want)
		}
	}
	analyzertest.CheckSizeLimit(t, a, "/src/pom.xml", MaxFileSize)
}

func analyze(t *testing.T, path, file string) ([]string, error) {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	res, err := New().Analyze(context.Background(), analyzer.Input{Path: path, Content: bytes.NewReader(b)})
	var got []string
	if res != nil {
		for _, p := range res.Packages {
			s := p.PURL
			if p.Dev {
				s += " dev"
			}
			if strings.Count(p.Name, ":") != 1 || !strings.Contains(p.PURL, strings.Replace(p.Name, ":", "/", 1)+"@") {
				t.Errorf("%s: name %q is not groupId:artifactId", p.PURL, p.Name)
			}
			if p.FoundBy != Name || len(p.Locations) != 1 || p.Locations[0].Path != path {
				t.Errorf("%s: foundBy %q locations %v", p.PURL, p.FoundBy, p.Locations)
			}
			got = append(got, s)
		}
	}
	return got, err
}

// TestPOM: versions from the dependency, the file's dependencyManagement
// and its properties (chained, and project coordinates); a range, a version
// from the parent pom and provided scope left out, and the first two named.
func TestPOM(t *testing.T) {
	got, err := analyze(t, "/src/pom.xml", "pom.xml")
	want := []string{
		"pkg:maven/com.example/orders-api@1.4.0-SNAPSHOT",
		"pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.0",
		"pkg:maven/io.micrometer/micrometer-core@1.8.0",
		"pkg:maven/junit/junit@4.12 dev",
		"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
		"pkg:maven/org.yaml/snakeyaml@1.29",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if err == nil || !strings.Contains(err.Error(), "2 declared dependencies without a version") ||
		!strings.Contains(err.Error(), "commons-collections:commons-collections") ||
		!strings.Contains(err.Error(), "org.springframework.boot:spring-boot-starter-web") {
		t.Errorf("err = %v, want the two unresolved dependencies named", err)
	}
}

func TestGradleLockfile(t *testing.T) {
	got, err := analyze(t, "/src/gradle.lockfile", "gradle.lockfile")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"pkg:maven/com.fasterxml.jackson.core/jackson-annotations@2.13.0",
		"pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.13.0",
		"pkg:maven/junit/junit@4.13.2 dev",
		"pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
		"pkg:maven/org.hamcrest/hamcrest-core@1.3 dev",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// The older per-configuration format has no "=configurations" part.
	pkgs, err := ParseGradleLockfile(context.Background(), []byte("# comment\norg.slf4j:slf4j-api:1.7.30\n"))
	if err != nil || len(pkgs) != 1 || pkgs[0].Version != "1.7.30" || pkgs[0].Dev {
		t.Errorf("old format: %+v, %v", pkgs, err)
	}
}

func TestErrors(t *testing.T) {
	for name, in := range map[string]struct {
		gradle bool
		b      string
	}{
		"not XML":                 {false, "{}"},
		"truncated XML":           {false, "<project><dependencies><dependency><groupId>a"},
		"gradle line of two":      {true, "a:b=compileClasspath\n"},
		"gradle version range":    {true, "a:b:[1,2)=compileClasspath\n"},
		"gradle line over 1 MiB":  {true, strings.Repeat("a", 2<<20)},
		"XML entity not declared": {false, "<project><version>&x;</version></project>"},
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			if in.gradle {
				_, err = ParseGradleLockfile(context.Background(), []byte(in.b))
			} else {
				_, _, err = ParsePOM(context.Background(), []byte(in.b))
			}
			if err == nil {
				t.Error("no error")
			}
		})
	}
}

// A property that refers to itself, or two that refer to each other,
// stay unresolved instead of looping.
func TestPropertyCycles(t *testing.T) {
	pom := `<project><properties><a>${b}</a><b>${a}</b><c>${c}x</c></properties><dependencies>
<dependency><groupId>g</groupId><artifactId>x</artifactId><version>${a}</version></dependency>
<dependency><groupId>g</groupId><artifactId>y</artifactId><version>${c}</version></dependency>
</dependencies></project>`
	pkgs, missing, err := ParsePOM(context.Background(), []byte(pom))
	if err != nil || len(pkgs) != 0 || len(missing) != 2 {
		t.Errorf("pkgs %v missing %v err %v", pkgs, missing, err)
	}
}

func FuzzParsePOM(f *testing.F) {
	b, _ := os.ReadFile("testdata/pom.xml")
	f.Add(b)
	f.Add([]byte(`<project><properties><a>${a}${a}${a}${a}</a></properties><dependencies><dependency><groupId>g</groupId><artifactId>a</artifactId><version>${a}</version></dependency></dependencies></project>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, _, err := ParsePOM(context.Background(), b)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if !pinned(p.Version) || p.Group == "" || p.Artifact == "" {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

func FuzzParseGradleLockfile(f *testing.F) {
	b, _ := os.ReadFile("testdata/gradle.lockfile")
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := ParseGradleLockfile(context.Background(), b)
		if err != nil {
			return
		}
		for _, p := range pkgs {
			if !pinned(p.Version) || p.Group == "" || p.Artifact == "" {
				t.Fatalf("bad package %+v", p)
			}
		}
	})
}

func BenchmarkParsePOM(b *testing.B) {
	data, err := os.ReadFile("testdata/pom.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for range b.N {
		if _, _, err := ParsePOM(context.Background(), data); err != nil {
			b.Fatal(err)
		}
	}
}

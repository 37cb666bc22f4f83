package gomod

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/analyzer/analyzertest"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

func TestRequired(t *testing.T) {
	a := New()
	for path, want := range map[string]bool{
		"/src/app/go.mod":            true,
		"/usr/local/go/src/go.mod":   true,
		"/go.mod":                    true,
		"/src/app/go.sum":            false,
		"/src/app/go.mod.bak":        false,
		"/src/app/notgo.mod":         false,
		"/src/app/testdata/x/go.mod": false,
		"/root/go/pkg/mod/github.com/google/uuid@v1.3.0/go.mod":                               false,
		"/root/go/pkg/mod/cache/download/github.com/google/uuid/@v/list":                      false,
		"/src/app/pkg/mod/go.mod":                                                             true, // a package called mod
		"/root/go/pkg/mod/golang.org/x/text@v0.3.7/cmd/gotext/go.mod":                         false,
		"/root/go/pkg/mod/github.com/!azure/go-autorest@v14.2.0+incompatible/autorest/go.mod": false,
	} {
		if got := a.Required(path, analyzertest.File(100)); got != want {
			t.Errorf("Required(%s) = %v, want %v", path, got, want)
		}
	}
	analyzertest.CheckSizeLimit(t, a, "/src/go.mod", MaxFileSize)
}

func analyze(t *testing.T, path string, b []byte) (*analyzer.Result, error) {
	t.Helper()
	a := New()
	if !a.Required(path, analyzertest.File(int64(len(b)))) {
		t.Fatalf("Required(%s) = false", path)
	}
	return a.Analyze(context.Background(), analyzer.Input{Path: path, Content: bytes.NewReader(b)})
}

// The fixture is the go.mod of the gobinary test program: versions as
// written, before its replace directives.
func TestFixture(t *testing.T) {
	b, err := os.ReadFile("testdata/fixture.go.mod")
	if err != nil {
		t.Fatal(err)
	}
	res, err := analyze(t, "/src/app/go.mod", b)
	if err != nil {
		t.Fatal(err)
	}
	want := []inventory.Package{
		{Name: "example.com/local", Version: "v0.0.0-00010101000000-000000000000", PURL: "pkg:golang/example.com/local@v0.0.0-00010101000000-000000000000"},
		{Name: "github.com/davecgh/go-spew", Version: "v1.1.2-0.20180830191138-d8f796af33cc", PURL: "pkg:golang/github.com/davecgh/go-spew@v1.1.2-0.20180830191138-d8f796af33cc"},
		{Name: "github.com/google/uuid", Version: "v1.3.0", PURL: "pkg:golang/github.com/google/uuid@v1.3.0"},
		{Name: "github.com/pkg/errors", Version: "v0.9.1", PURL: "pkg:golang/github.com/pkg/errors@v0.9.1"},
		{Name: "github.com/satori/go.uuid", Version: "v1.2.0", PURL: "pkg:golang/github.com/satori/go.uuid@v1.2.0"},
		{Name: "golang.org/x/text", Version: "v0.3.7", PURL: "pkg:golang/golang.org/x/text@v0.3.7"},
	}
	for i := range want {
		want[i].Type, want[i].FoundBy, want[i].Locations = Type, Name, []inventory.Location{{Path: "/src/app/go.mod"}}
	}
	if diff := cmp.Diff(want, res.Packages); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Require
	}{
		{"direct and indirect", `module example.com/m

go 1.23.0

toolchain go1.23.4

require github.com/a/b v1.0.0

require (
	github.com/Azure/go-autorest v14.2.0+incompatible // indirect
	golang.org/x/sys v0.0.0-20220412211240-33da011f77ad // indirect
	"github.com/quoted/path" v0.1.0
)

exclude github.com/a/b v0.9.0
replace github.com/a/b => ../b
retract v0.1.0
`, []Require{
			{"github.com/a/b", "v1.0.0", false},
			{"github.com/Azure/go-autorest", "v14.2.0+incompatible", true},
			{"golang.org/x/sys", "v0.0.0-20220412211240-33da011f77ad", true},
			{"github.com/quoted/path", "v0.1.0", false},
		}},
		{"directives from a newer Go are ignored", "module m\n\ngo 1.99\n\nfuturedirective x y\n\ntool example.com/t\n\nrequire example.com/x v1.2.3\n",
			[]Require{{"example.com/x", "v1.2.3", false}}},
		{"non-canonical version as written", "module m\nrequire example.com/x v1.2\n",
			[]Require{{"example.com/x", "v1.2", false}}},
		{"repeated requirement once", "module m\nrequire example.com/x v1.0.0\nrequire example.com/x v1.0.0\n",
			[]Require{{"example.com/x", "v1.0.0", false}}},
		{"no requirements", "module m\n\ngo 1.22\n", nil},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("go.mod", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for name, in := range map[string]string{
		"unterminated block":  "module m\nrequire (\n\texample.com/x v1.0.0\n",
		"unterminated string": "module m\nrequire \"example.com/x v1.0.0\n",
		"stray parenthesis":   "module m\nrequire example.com/x v1.0.0 )\n",
		// The go command resolves a branch name and rewrites the file;
		// until then the file is not valid.
		"unresolved branch": "module m\nrequire example.com/x master\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := analyze(t, "/src/go.mod", []byte(in))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), "/src/go.mod") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestEmptyResult(t *testing.T) {
	res, err := analyze(t, "/src/go.mod", []byte("module m\n\ngo 1.22\n"))
	if res != nil || err != nil {
		t.Errorf("got %+v, %v; want nothing", res, err)
	}
}

func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("testdata/fixture.go.mod")
	f.Add(b)
	f.Add([]byte("module m\nrequire (\n\tgithub.com/A/b v1.0.0 // indirect\n)\n"))
	f.Add([]byte("module m\nrequire \"x\" v1\nreplace x => y v2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		reqs, err := Parse("go.mod", b)
		if err != nil {
			return
		}
		for _, r := range reqs {
			if r.Path == "" || r.Version == "" {
				t.Fatalf("incomplete requirement %+v", r)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	// A go.mod the size of a large project's: 600 requirements.
	var buf bytes.Buffer
	buf.WriteString("module example.com/big\n\ngo 1.22\n\nrequire (\n")
	for i := range 600 {
		buf.WriteString("\tgithub.com/org" + string(rune('a'+i%26)) + "/module" + strings.Repeat("x", i%7) + " v1.2." + string(rune('0'+i%10)) + "\n")
	}
	buf.WriteString(")\n")
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("go.mod", data); err != nil {
			b.Fatal(err)
		}
	}
}

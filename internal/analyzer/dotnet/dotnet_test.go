package dotnet

import (
	"bytes"
	"context"
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
		"/app/MyApp.deps.json": true,
		"/usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/Microsoft.NETCore.App.deps.json": true,
		"/src/MyApp/packages.lock.json":      true,
		"/app/.deps.json":                    false,
		"/app/MyApp.runtimeconfig.json":      false,
		"/app/MyApp.deps.json.bak":           false,
		"/src/MyApp/MyApp.csproj":            false,
		"/src/MyApp/obj/project.assets.json": false,
		"/src/MyApp/package.lock.json":       false,
	} {
		if got := a.Required(p, analyzertest.File(100)); got != want {
			t.Errorf("Required(%s) = %v, want %v", p, got, want)
		}
	}
	analyzertest.CheckSizeLimit(t, a, "/app/a.deps.json", MaxFileSize)
}

func run(t *testing.T, path string, b []byte) []string {
	t.Helper()
	a := New()
	if !a.Required(path, analyzertest.File(int64(len(b)))) {
		t.Fatalf("Required(%s) = false", path)
	}
	res, err := a.Analyze(context.Background(), analyzer.Input{Path: path, Info: analyzertest.File(int64(len(b))), Content: bytes.NewReader(b)})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	if res != nil {
		for _, p := range res.Packages {
			if p.Type != Type || p.FoundBy != Name || len(p.Locations) != 1 || p.Locations[0].Path != path || p.PURL != "pkg:nuget/"+p.Name+"@"+p.Version {
				t.Errorf("bad package %+v", p)
			}
			out = append(out, p.Name+"@"+p.Version)
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

// selfContained is the shape of a self-contained app's deps.json
// (dotnet publish -r linux-x64 --self-contained), trimmed.
const selfContained = `{
  "runtimeTarget": {"name": ".NETCoreApp,Version=v8.0/linux-x64", "signature": ""},
  "compilationOptions": {},
  "targets": {
    ".NETCoreApp,Version=v8.0": {},
    ".NETCoreApp,Version=v8.0/linux-x64": {
      "webapp/1.0.0": {"dependencies": {"Azure.Identity": "1.10.2", "System.Text.Json": "8.0.0"}, "runtime": {"webapp.dll": {}}},
      "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0": {"runtime": {"System.Private.CoreLib.dll": {"assemblyVersion": "8.0.0.0", "fileVersion": "8.0.23.53103"}}},
      "Azure.Identity/1.10.2": {"runtime": {"lib/netstandard2.0/Azure.Identity.dll": {"assemblyVersion": "1.10.2.0", "fileVersion": "1.1000.223.51201"}}},
      "System.Text.Json/8.0.0": {}
    }
  },
  "libraries": {
    "webapp/1.0.0": {"type": "project", "serviceable": false, "sha512": ""},
    "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.0": {"type": "runtimepack", "serviceable": false, "sha512": ""},
    "Azure.Identity/1.10.2": {"type": "package", "serviceable": true, "sha512": "sha512-jF...==", "path": "azure.identity/1.10.2", "hashPath": "azure.identity.1.10.2.nupkg.sha512"},
    "System.Text.Json/8.0.0": {"type": "package", "serviceable": true, "sha512": "sha512-Ox...==", "path": "system.text.json/8.0.0", "hashPath": "system.text.json.8.0.0.nupkg.sha512"},
    "Broken": {"type": "package"},
    "Bad Name/1.0": {"type": "package"}
  }
}`

func TestDepsJSON(t *testing.T) {
	for _, tt := range []struct {
		path string
		in   []byte
		want []string
	}{
		{"/app/TestLibrary.deps.json", read(t, "testdata/TestLibrary.deps.json"), []string{
			"AWSSDK.Core@3.7.10.6",
			"Microsoft.Extensions.DependencyInjection@6.0.0",
			"Microsoft.Extensions.DependencyInjection.Abstractions@6.0.0",
			"Microsoft.Extensions.Logging@6.0.0",
			"Microsoft.Extensions.Logging.Abstractions@6.0.0",
			"Microsoft.Extensions.Options@6.0.0",
			"Microsoft.Extensions.Primitives@6.0.0",
			"Newtonsoft.Json@13.0.1",
			"Serilog@2.10.0",
			"Serilog.Sinks.Console@4.0.1",
			"System.Diagnostics.DiagnosticSource@6.0.0",
			"System.Runtime.CompilerServices.Unsafe@6.0.0",
		}},
		// Reference assemblies are not NuGet packages.
		{"/app/MyApp.deps.json", read(t, "testdata/MyApp.deps.json"), []string{"Newtonsoft.Json@13.0.3"}},
		{"/app/webapp.deps.json", []byte(selfContained), []string{"Azure.Identity@1.10.2", "System.Text.Json@8.0.0"}},
	} {
		if diff := cmp.Diff(tt.want, run(t, tt.path, tt.in)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.path, diff)
		}
	}
}

func TestLockfile(t *testing.T) {
	for _, tt := range []struct {
		file string
		want []string
	}{
		{"testdata/packages.lock.json", []string{
			"AutoMapper@13.0.1", "Microsoft.Extensions.DependencyInjection.Abstractions@9.0.0",
			"Microsoft.Extensions.Logging@9.0.0", "Microsoft.Extensions.Options@9.0.0",
			"Microsoft.Extensions.Primitives@9.0.0", "System.Runtime.CompilerServices.Unsafe@9.0.0",
			"bootstrap@5.0.0", "log4net@1.2.15", "log4net@2.0.5", // two frameworks, two versions
		}},
		// The project reference mylib has no package.
		{"testdata/project-reference.packages.lock.json", []string{"Newtonsoft.Json@13.0.3"}},
		// newtonsoft.json in netstandard2.0 is Newtonsoft.Json of net8.0.
		{"testdata/multi-framework.packages.lock.json", []string{
			"MyLib@1.0.0", "Newtonsoft.Json@13.0.3", "Serilog@3.1.1", "log4net@1.2.15", "log4net@2.0.5",
			"runtime.win-x64.MyLib.Native@1.0.0",
		}},
	} {
		if diff := cmp.Diff(tt.want, run(t, "/src/app/packages.lock.json", read(t, tt.file))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.file, diff)
		}
	}
}

func TestErrors(t *testing.T) {
	for _, p := range []string{"/a/x.deps.json", "/a/packages.lock.json"} {
		for _, in := range []string{`{"libraries": []}`, `{"dependencies": []}`, `nope`, `{`} {
			if p == "/a/x.deps.json" && strings.Contains(in, "dependencies") || p == "/a/packages.lock.json" && strings.Contains(in, "libraries") {
				continue
			}
			_, err := New().Analyze(context.Background(), analyzer.Input{Path: p, Content: strings.NewReader(in)})
			if err == nil || !strings.Contains(err.Error(), p) {
				t.Errorf("%s %q: err = %v, want an error naming the file", p, in, err)
			}
		}
		if res, err := New().Analyze(context.Background(), analyzer.Input{Path: p, Content: strings.NewReader(`{}`)}); res != nil || err != nil {
			t.Errorf("%s empty: %v, %v", p, res, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Analyze(ctx, analyzer.Input{Path: "/a/x.deps.json", Content: strings.NewReader(`{}`)}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func seeds(f *testing.F) {
	_ = filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			b, _ := os.ReadFile(p)
			f.Add(b)
		}
		return nil
	})
	f.Add([]byte(selfContained))
}

func check(t *testing.T, ps []Package) {
	for _, p := range ps {
		if _, ok := valid(p.Name, p.Version); !ok || !strings.HasPrefix(PURL(p.Name, p.Version), "pkg:nuget/") {
			t.Fatalf("bad package %+v", p)
		}
	}
}

func FuzzParseDepsJSON(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if ps, err := ParseDepsJSON(b); err == nil {
			check(t, ps)
		}
	})
}

func FuzzParseLockfile(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if ps, err := ParseLockfile(b); err == nil {
			check(t, ps)
			seen := map[string]bool{}
			for _, p := range ps {
				k := strings.ToLower(p.Name) + "@" + p.Version
				if seen[k] {
					t.Fatalf("%s twice", k)
				}
				seen[k] = true
			}
		}
	})
}

package misconfig

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	engine "github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

type fakeInfo struct {
	size int64
	mode fs.FileMode
}

func (f fakeInfo) Name() string       { return "f" }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() fs.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return nil }

func TestKindOf(t *testing.T) {
	for p, want := range map[string]Kind{
		"/src/Dockerfile":                  Dockerfile,
		"/src/dockerfile":                  Dockerfile,
		"/src/Containerfile":               Dockerfile,
		"/src/Dockerfile.prod":             Dockerfile,
		"/src/api.Dockerfile":              Dockerfile,
		"/src/build/ci.dockerfile":         Dockerfile,
		"/src/Dockerfile.dockerignore":     Unknown,
		"/src/Dockerfile.md":               Unknown,
		"/src/compose.yaml":                Compose,
		"/src/compose.yml":                 Compose,
		"/src/docker-compose.yml":          Compose,
		"/src/docker-compose.override.yml": Compose,
		"/src/compose.prod.yaml":           Compose,
		"/src/docker-compose-dev.yaml":     Compose,
		"/deploy/app.yaml":                 Manifest,
		"/deploy/app.yml":                  Manifest,
		"/deploy/pod.json":                 Manifest,
		"/web/package.json":                Unknown,
		"/chart/values.yaml":               Unknown,
		"/src/main.go":                     Unknown,
		"/src/README.md":                   Unknown,
	} {
		if got := KindOf(p); got != want {
			t.Errorf("KindOf(%s) = %v, want %v", p, got, want)
		}
	}
}

func TestRequired(t *testing.T) {
	a := Default()
	reg := fakeInfo{size: 1000, mode: 0o644}
	for p, want := range map[string]bool{
		"/src/Dockerfile":                      true,
		"/deploy/app.yaml":                     true,
		"/src/docker-compose.yml":              true,
		"/web/node_modules/x/k8s.yaml":         false,
		"/src/.git/config.json":                false,
		"/vendor/k8s.io/api/testdata/pod.yaml": false,
		"/src/main.go":                         false,
		"/web/package-lock.json":               false,
	} {
		if got := a.Required(p, reg); got != want {
			t.Errorf("Required(%s) = %v, want %v", p, got, want)
		}
	}
	if a.Required("/deploy/huge.yaml", fakeInfo{size: DefaultMaxManifestSize + 1, mode: 0o644}) {
		t.Error("a manifest over the size cap is required")
	}
	if a.Required("/src/Dockerfile", fakeInfo{size: 0, mode: 0o644}) {
		t.Error("an empty file is required")
	}
	if a.Required("/src/Dockerfile", fakeInfo{size: 10, mode: fs.ModeSymlink | 0o777}) {
		t.Error("a symlink is required")
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       Kind
	}{
		{"-", "# syntax=docker/dockerfile:1\nFROM alpine\n", Dockerfile},
		{"-", "\n# comment\nARG BASE=alpine\nFROM $BASE\n", Dockerfile},
		{"-", "---\n# Source: x/templates/a.yaml\napiVersion: v1\nkind: Pod\n", Kubernetes},
		{"-", `{"apiVersion": "v1", "kind": "List", "items": []}`, Kubernetes},
		{"-", "version: '3'\nservices:\n  web:\n    image: nginx\n", Compose},
		{"stdin", "hello world\n", Unknown},
		{"Dockerfile", "anything", Dockerfile},
		{"compose.yaml", "anything", Compose},
	} {
		if got := Sniff(tc.name, []byte(tc.data)); got != tc.want {
			t.Errorf("Sniff(%q, %q) = %v, want %v", tc.name, tc.data, got, tc.want)
		}
	}
}

func TestScanReaderHelmStream(t *testing.T) {
	data, err := os.ReadFile("../../misconfig/kubernetes/testdata/realworld/helm-shop-rendered.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Default().ScanReader(t.Context(), "-", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) < 20 {
		t.Fatalf("%d findings from the rendered chart", len(fs))
	}
	for _, f := range fs {
		if f.Path != "-" || f.Line == 0 || f.Template == "" || f.Resource == "" {
			t.Errorf("finding without location: %+v", f)
		}
	}
	// --skip-checks
	a, err := New(Config{Options: engine.Options{Skip: []string{"BH-K8S-0*"}}})
	if err != nil {
		t.Fatal(err)
	}
	fs, err = a.ScanReader(t.Context(), "-", bytes.NewReader(data))
	if err != nil || len(fs) != 0 {
		t.Errorf("with every K8S check skipped: %d findings, err %v", len(fs), err)
	}
	if a.Version() == Default().Version() {
		t.Error("skipping checks does not change the analyzer version (cache key)")
	}
}

func TestNewRejectsUnknownSkip(t *testing.T) {
	if _, err := New(Config{Options: engine.Options{Skip: []string{"DS002"}}}); err == nil {
		t.Error("unknown check ID accepted")
	}
}

func TestScanReaderErrors(t *testing.T) {
	_, err := ScanReader(t.Context(), "-", strings.NewReader("just text\n"), engine.Options{})
	if !errors.Is(err, engine.ErrUnknownFormat) {
		t.Errorf("unknown input: %v", err)
	}
	_, err = ScanReader(t.Context(), "-", strings.NewReader("apiVersion: v1\nkind: Pod\n"+strings.Repeat("#\n", 600)), engine.Options{MaxBytes: 1000})
	if !errors.Is(err, engine.ErrTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
}

func TestAnalyzerFindings(t *testing.T) {
	a := Default()
	df := []byte("FROM ubuntu\nRUN apt-get update\n")
	fs, err := a.Findings(t.Context(), analyzer.Input{Path: "/src/Dockerfile", Info: fakeInfo{size: int64(len(df))}, Content: bytes.NewReader(df)})
	if err != nil || len(fs) == 0 || fs[0].Path != "/src/Dockerfile" {
		t.Fatalf("Findings = %v, %v", fs, err)
	}
	// A YAML file that is not a manifest is read but yields nothing.
	y := []byte("name: CI\non: [push]\njobs: {}\n")
	fs, err = a.Findings(t.Context(), analyzer.Input{Path: "/.github/workflows/ci.yml", Content: bytes.NewReader(y)})
	if err != nil || len(fs) != 0 {
		t.Errorf("workflow file: %v, %v", fs, err)
	}
	// An unrendered Helm template is skipped quietly.
	tpl := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"x.fullname\" . }}\nspec:\n  {{- with .Values.x }}\n  replicas: 1\n  {{- end }}\n")
	if _, err := a.Findings(t.Context(), analyzer.Input{Path: "/chart/templates/deploy.yaml", Content: bytes.NewReader(tpl)}); err != nil {
		t.Errorf("unrendered template: %v", err)
	}
	// A broken manifest is an error naming the file.
	bad := []byte("apiVersion: v1\nkind: Pod\nspec: [\n")
	if _, err := a.Findings(t.Context(), analyzer.Input{Path: "/deploy/bad.yaml", Content: bytes.NewReader(bad)}); err == nil || !strings.Contains(err.Error(), "/deploy/bad.yaml") {
		t.Errorf("broken manifest: %v", err)
	}
	res, err := a.Analyze(t.Context(), analyzer.Input{Path: "/src/Dockerfile", Content: bytes.NewReader(df)})
	if err != nil {
		t.Fatal(err)
	}
	_ = res // carries the findings once analyzer.Result has Misconfigs
}

// TestCorpusThroughAnalyzer offers every corpus file to the analyzer the way
// a directory scan does: files are picked by Required and every bad variant
// yields findings.
func TestCorpusThroughAnalyzer(t *testing.T) {
	a := Default()
	n := 0
	for _, dir := range []string{"../../misconfig/dockerfile/testdata", "../../misconfig/kubernetes/testdata", "../../misconfig/compose/testdata"} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(p, ".golden") || strings.HasSuffix(p, ".md") {
				return err
			}
			info, _ := d.Info()
			if !a.Required("/"+filepath.ToSlash(p), info) {
				t.Errorf("%s is not required", p)
				return nil
			}
			data, _ := os.ReadFile(p)
			fs, err := a.Findings(t.Context(), analyzer.Input{Path: p, Info: info, Content: bytes.NewReader(data)})
			if err != nil {
				t.Errorf("%s: %v", p, err)
			}
			base := filepath.Base(p)
			if strings.Contains(base, ".bad") && len(fs) == 0 {
				t.Errorf("%s: no findings", p)
			}
			if strings.Contains(base, ".good") && len(fs) != 0 {
				t.Errorf("%s: %d findings", p, len(fs))
			}
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 150 {
		t.Errorf("only %d corpus files", n)
	}
}

func TestCatalogueHasEveryFamily(t *testing.T) {
	var types []string
	for _, c := range engine.Catalogue() {
		if !slices.Contains(types, c.Type) {
			types = append(types, c.Type)
		}
	}
	if len(types) != 4 {
		t.Errorf("types %v", types)
	}
}

package scan

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer/list"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/source"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/imagebuild"
)

// polyImage is the polyglot fixture: the demo image plus a layer with
// Debian's jackson-databind jar and python3-requests (apt), a venv, a copy
// of the jar under /app/lib and an express app under /srv/web.
func polyImage(tb testing.TB) (fx, ref string) {
	tb.Helper()
	fx = fixture.Dir(tb)
	p := filepath.Join(fx, "poly.tar")
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("no poly.tar in %s: run `make fixtures`", fx)
		}
		tb.Skipf("no poly.tar in %s: run `make fixtures`", fx)
	}
	return fx, "docker-archive:" + p
}

// npmOracle lists name@version of every package npm itself recorded as
// installed in a project: node_modules/.package-lock.json, the hidden
// lockfile npm install writes.
func npmOracle(t *testing.T, project string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(project, "node_modules", ".package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for key, e := range lock.Packages {
		i := strings.LastIndex(key, "node_modules/")
		if i < 0 || e.Version == "" {
			continue
		}
		seen[key[i+len("node_modules/"):]+"@"+e.Version] = true
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestPolyglotImage checks the language inventory of an image built from
// real packages: npm's own record of what it installed, Debian's jar and
// Python egg-info folded into their debs (with the language purl kept),
// the unowned copy of the jar and the venv's packages reported on their own.
func TestPolyglotImage(t *testing.T) {
	fx, ref := polyImage(t)
	res := scanRef(t, ref, Options{CacheDir: t.TempDir(), NoCache: true})
	inv := &res.Inventory

	var web []string
	byKey := map[string]inventory.Package{}
	for _, p := range inv.Packages {
		byKey[p.Type+"/"+p.Name+"@"+p.Version] = p
		if p.Type == "npm" && strings.HasPrefix(p.Locations[0].Path, "/srv/web/node_modules/") {
			web = append(web, p.Name+"@"+p.Version)
		}
	}
	sort.Strings(web)
	web = slices.Compact(web)
	if diff := cmp.Diff(npmOracle(t, filepath.Join(fx, "rootfs-poly", "srv", "web")), web); diff != "" {
		t.Errorf("npm packages under /srv/web differ from npm's .package-lock.json (-npm +bulkhead):\n%s", diff)
	}
	if len(web) < 40 {
		t.Errorf("only %d npm packages under /srv/web", len(web))
	}

	checks := []struct {
		key   string
		check func(p inventory.Package) string
	}{
		{"deb/libjackson2-databind-java@2.14.0-1+deb12u1", func(p inventory.Package) string {
			if !slices.Contains(p.OtherPURLs, "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.14.0") {
				return "no maven purl among " + strings.Join(p.OtherPURLs, ",")
			}
			return ""
		}},
		{"deb/python3-requests@2.28.1+dfsg-1", func(p inventory.Package) string {
			if !slices.Contains(p.OtherPURLs, "pkg:pypi/requests@2.28.1") {
				return "no pypi purl among " + strings.Join(p.OtherPURLs, ",")
			}
			return ""
		}},
		{"maven/com.fasterxml.jackson.core:jackson-databind@2.14.0", func(p inventory.Package) string {
			if len(p.Locations) != 1 || p.Locations[0].Path != "/app/lib/jackson-databind-2.14.0.jar" || p.Locations[0].LayerIndex != 2 {
				return "locations " + locs(p)
			}
			return ""
		}},
		{"pypi/pip@23.0.1", func(p inventory.Package) string {
			if !strings.HasPrefix(p.Locations[0].Path, "/app/venv/lib/python3.11/site-packages/pip-23.0.1.dist-info/") {
				return "locations " + locs(p)
			}
			return ""
		}},
		{"npm/web@0.1.0", func(p inventory.Package) string {
			if !p.Private || p.Locations[0].Path != "/srv/web/package.json" {
				return "not the private application manifest: " + locs(p)
			}
			return ""
		}},
		{"npm/@types/node@14.0.0", func(inventory.Package) string { return "" }},
		{"golang/golang.org/x/text@v0.3.0", func(inventory.Package) string { return "" }},
	}
	for _, c := range checks {
		p, ok := byKey[c.key]
		if !ok {
			t.Errorf("%s not found", c.key)
			continue
		}
		if msg := c.check(p); msg != "" {
			t.Errorf("%s: %s", c.key, msg)
		}
	}
	// Debian's own copies are reported once, as the deb: no maven or pypi
	// package may point into a path dpkg owns.
	for _, p := range inv.Packages {
		if p.Type != "maven" && p.Type != "pypi" {
			continue
		}
		for _, l := range p.Locations {
			if strings.HasPrefix(l.Path, "/usr/share/java/") || strings.HasPrefix(l.Path, "/usr/lib/python3/dist-packages/") {
				t.Errorf("%s %s reported again at %s, a path its deb owns", p.Type, p.Name, l.Path)
			}
		}
	}
}

func locs(p inventory.Package) string {
	var s []string
	for _, l := range p.Locations {
		s = append(s, l.Path)
	}
	return strings.Join(s, ",")
}

// BenchmarkLanguageOverhead scans the polyglot image cold with the OS
// analyzers only and with every package analyzer: the difference is what
// the language analyzers cost (target: under 20% more).
func BenchmarkLanguageOverhead(b *testing.B) {
	_, ref := polyImage(b)
	osOnly, err := list.Select([]string{list.TagOS})
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"os-only", Options{Analyzers: osOnly}},
		{"all-packages", Options{}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var size int64
			cpu0 := cpuTime()
			for range b.N {
				target, err := source.Open(context.Background(), ref, source.Options{})
				if err != nil {
					b.Fatal(err)
				}
				size = 0
				for _, l := range target.Image.Layers {
					size += l.Size
				}
				opts := tc.opts
				opts.CacheDir, opts.NoCache = b.TempDir(), true
				_, err = Run(context.Background(), target, opts)
				target.Image.Close()
				if err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(size)
			// CPU time is the steadier number on a shared machine.
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

// cpuTime is the user+system time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkNodeModules10k inventories a node_modules tree of 10,000
// packages (scoped, nested duplicates, ~1.3 KiB manifests like real ones)
// as a directory and as an image layer (target: under 1 s).
func BenchmarkNodeModules10k(b *testing.B) {
	root := b.TempDir()
	app := filepath.Join(root, "app")
	manifest := func(name, version string) []byte {
		return fmt.Appendf(nil, `{
  "name": %q,
  "version": %q,
  "description": "A package with a description of ordinary length, as most have.",
  "license": "MIT",
  "main": "index.js",
  "repository": {"type": "git", "url": "git+https://github.com/example/%s.git"},
  "keywords": ["one", "two", "three", "four"],
  "author": "Someone <someone@example.com>",
  "dependencies": {"dep-a": "^1.0.0", "dep-b": "~2.3.0", "dep-c": "3.x"},
  "devDependencies": {"mocha": "^10.0.0", "eslint": "^8.0.0"},
  "scripts": {"test": "mocha", "lint": "eslint ."},
  "engines": {"node": ">=14"},
  "files": ["index.js", "lib/"]%s
}
`, name, version, name, strings.Repeat(" ", 600))
	}
	n := 0
	write := func(dir, name, version string) {
		p := filepath.Join(dir, "node_modules", filepath.FromSlash(name), "package.json")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, manifest(name, version), 0o644); err != nil {
			b.Fatal(err)
		}
		n++
	}
	for i := 0; n < 10_000; i++ {
		name := fmt.Sprintf("pkg-%d", i)
		if i%10 == 0 {
			name = fmt.Sprintf("@scope%d/pkg-%d", i%50, i)
		}
		write(app, name, fmt.Sprintf("1.%d.0", i%30))
		if i%4 == 0 && n < 10_000 { // a nested duplicate at another version
			write(filepath.Join(app, "node_modules", filepath.FromSlash(name)), fmt.Sprintf("pkg-%d", i+1), "0.9.0")
		}
	}
	tarPath := filepath.Join(root, "layer.tar")
	if err := imagebuild.WriteDirTar(app, tarPath); err != nil {
		b.Fatal(err)
	}
	img, err := imagebuild.Image([]imagebuild.Layer{{Tar: tarPath, CreatedBy: "COPY node_modules /app"}}, v1.Config{}, time.Unix(1700000000, 0))
	if err != nil {
		b.Fatal(err)
	}
	archive := filepath.Join(root, "nm.tar")
	if err := imagebuild.WriteDockerArchive(archive, "nm:1", img); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, ref string }{{"dir", "dir:" + app}, {"image", "docker-archive:" + archive}} {
		b.Run(tc.name, func(b *testing.B) {
			cpu0 := cpuTime()
			for range b.N {
				target, err := source.Open(context.Background(), tc.ref, source.Options{})
				if err != nil {
					b.Fatal(err)
				}
				res, err := Run(context.Background(), target, Options{CacheDir: b.TempDir(), NoCache: true})
				if target.Image != nil {
					target.Image.Close()
				}
				if err != nil {
					b.Fatal(err)
				}
				if got := len(res.Inventory.Packages); got != 10_000 {
					b.Fatalf("%d packages, want 10,000", got)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}

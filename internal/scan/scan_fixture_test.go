package scan

import (
	"context"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/package-url/packageurl-go"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/source"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

// dpkgQuery lists the installed packages of a root filesystem with the real
// dpkg-query: the oracle the analyzer is checked against.
func dpkgQuery(t *testing.T, rootfs string) []string {
	t.Helper()
	out, err := exec.Command("dpkg-query", "--admindir", filepath.Join(rootfs, "var/lib/dpkg"),
		"-W", "-f", "${db:Status-Status} ${Package} ${Version} ${Architecture}\n").Output()
	if err != nil {
		t.Fatalf("dpkg-query: %v", err)
	}
	var pkgs []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		if len(f) == 4 && f[0] == "installed" {
			pkgs = append(pkgs, f[1]+" "+f[2]+" "+f[3])
		}
	}
	sort.Strings(pkgs)
	return pkgs
}

// names lists the deb packages of inv as dpkg-query would.
func names(inv *inventory.Inventory) []string {
	var out []string
	for _, p := range inv.Packages {
		if p.Type == inventory.TypeDeb {
			out = append(out, p.Name+" "+p.Version+" "+p.Arch)
		}
	}
	sort.Strings(out)
	return out
}

func scanRef(t *testing.T, ref string, opts Options) *Result {
	t.Helper()
	target, err := source.Open(context.Background(), ref, source.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if target.Image != nil {
		defer target.Image.Close()
	}
	res, err := Run(context.Background(), target, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestDemoImageAgainstDpkgQuery(t *testing.T) {
	fx := fixture.Dir(t)
	want := dpkgQuery(t, filepath.Join(fx, "rootfs-app"))
	base := map[string]bool{}
	for _, p := range dpkgQuery(t, filepath.Join(fx, "rootfs-base")) {
		base[p] = true
	}
	if len(want) < 100 {
		t.Fatalf("dpkg-query lists %d packages; the fixture looks wrong", len(want))
	}
	cacheDir := t.TempDir()
	refs := []string{
		"docker-archive:" + filepath.Join(fx, "demo.tar"),
		"oci-layout:" + filepath.Join(fx, "demo-oci"),
		filepath.Join(fx, "demo.tar"),
	}
	var first *inventory.Inventory
	for _, ref := range refs {
		t.Run(ref, func(t *testing.T) {
			res := scanRef(t, ref, Options{CacheDir: t.TempDir()})
			inv := &res.Inventory
			if diff := cmp.Diff(want, names(inv)); diff != "" {
				t.Errorf("packages differ from dpkg-query (-want +got):\n%s", diff)
			}
			if inv.OS == nil || inv.OS.ID != "debian" || inv.OS.VersionID != "12" || inv.OS.Codename != "bookworm" {
				t.Errorf("OS = %+v", inv.OS)
			}
			if len(inv.Artifact.Layers) != 2 || !strings.HasPrefix(inv.Artifact.Layers[1].CreatedBy, "RUN apt-get install") {
				t.Errorf("layers = %+v", inv.Artifact.Layers)
			}
			for _, p := range inv.Packages {
				if p.Type != inventory.TypeDeb {
					continue
				}
				l := p.Locations[0]
				wantLayer := 1
				if base[p.Name+" "+p.Version+" "+p.Arch] {
					wantLayer = 0
				}
				if l.LayerIndex != wantLayer || l.LayerDiffID != inv.Artifact.Layers[wantLayer].DiffID || l.Path != "/var/lib/dpkg/status" {
					t.Errorf("%s %s: location %+v, want layer %d", p.Name, p.Version, l, wantLayer)
				}
				pu, err := packageurl.FromString(p.PURL)
				if err != nil || pu.Type != "deb" || pu.Namespace != "debian" || pu.Name != p.Name || pu.Version != p.Version ||
					pu.Qualifiers.Map()["distro"] != "debian-12" || pu.Qualifiers.Map()["arch"] != p.Arch {
					t.Errorf("%s: purl %s (%v)", p.Name, p.PURL, err)
				}
				if p.Source == nil || p.Source.Name == "" {
					t.Errorf("%s: no source package", p.Name)
				}
			}
			if len(inv.Warnings) != 0 {
				t.Errorf("warnings: %v", inv.Warnings)
			}
			byName := map[string]inventory.Package{}
			for _, p := range inv.Packages {
				byName[p.Name] = p
			}
			if p := byName["libc6"]; p.Source.Name != "glibc" || len(p.Licenses) == 0 {
				t.Errorf("libc6: source %v licences %v", p.Source, p.Licenses)
			}
			if p := byName["libgcc-s1"]; len(p.Licenses) == 0 {
				t.Errorf("libgcc-s1 has no licence: its doc dir is a symlink to gcc-12-base's")
			}
			langs := map[string]string{}
			for _, p := range inv.Packages {
				if p.Type != inventory.TypeDeb {
					langs[p.Type+" "+p.Name+" "+p.Version] = p.Locations[0].Path
				}
			}
			for _, want := range []string{"npm lodash 4.17.15", "npm minimist 1.2.0", "golang golang.org/x/text v0.3.0"} {
				if _, ok := langs[want]; !ok {
					t.Errorf("%s not found; language packages: %v", want, langs)
				}
			}
			if first == nil {
				first = inv
			} else if diff := cmp.Diff(first.Packages, inv.Packages); diff != "" {
				t.Errorf("packages differ between transports (-first +this):\n%s", diff)
			}
		})
	}

	t.Run("cache", func(t *testing.T) {
		cold := scanRef(t, refs[0], Options{CacheDir: cacheDir})
		warm := scanRef(t, refs[0], Options{CacheDir: cacheDir})
		if cold.Stats.LayersCached != 0 || warm.Stats.LayersCached != 2 || warm.Stats.BytesRead != 0 {
			t.Errorf("cold cached %d, warm cached %d (read %d bytes)", cold.Stats.LayersCached, warm.Stats.LayersCached, warm.Stats.BytesRead)
		}
		if diff := cmp.Diff(cold.Inventory, warm.Inventory); diff != "" {
			t.Errorf("warm scan differs (-cold +warm):\n%s", diff)
		}
		// The OCI form shares diffIDs: its layers come from the cache too.
		oci := scanRef(t, refs[1], Options{CacheDir: cacheDir})
		if oci.Stats.LayersCached != 2 {
			t.Errorf("oci-layout scan cached %d layers, want 2", oci.Stats.LayersCached)
		}
		nocache := scanRef(t, refs[0], Options{CacheDir: cacheDir, NoCache: true})
		if nocache.Stats.LayersCached != 0 {
			t.Errorf("NoCache used the cache")
		}
	})

	t.Run("dir", func(t *testing.T) {
		res := scanRef(t, "dir:"+filepath.Join(fx, "rootfs-app"), Options{})
		if diff := cmp.Diff(want, names(&res.Inventory)); diff != "" {
			t.Errorf("dir scan differs from dpkg-query (-want +got):\n%s", diff)
		}
		for _, p := range res.Inventory.Packages {
			if p.Type == inventory.TypeDeb && p.Locations[0].LayerIndex != inventory.NoLayer {
				t.Fatalf("%s: layer %d in a directory scan", p.Name, p.Locations[0].LayerIndex)
			}
		}
	})
}

func BenchmarkScanDemo(b *testing.B) {
	fx := fixture.Dir(b)
	for _, tc := range []struct {
		name, ref string
		warm      bool
	}{
		{"docker-archive/cold", "docker-archive:" + filepath.Join(fx, "demo.tar"), false},
		{"oci-layout-gzip/cold", "oci-layout:" + filepath.Join(fx, "demo-oci"), false},
		{"docker-archive/warm", "docker-archive:" + filepath.Join(fx, "demo.tar"), true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			cacheDir := b.TempDir()
			var size int64
			if tc.warm {
				// Fill the cache first: only cache hits are timed.
				target, err := source.Open(context.Background(), tc.ref, source.Options{})
				if err != nil {
					b.Fatal(err)
				}
				_, err = Run(context.Background(), target, Options{CacheDir: cacheDir})
				target.Image.Close()
				if err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
			}
			for i := 0; i < b.N; i++ {
				target, err := source.Open(context.Background(), tc.ref, source.Options{})
				if err != nil {
					b.Fatal(err)
				}
				size = 0
				for _, l := range target.Image.Layers {
					size += l.Size
				}
				res, err := Run(context.Background(), target, Options{CacheDir: cacheDir, NoCache: !tc.warm})
				target.Image.Close()
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Inventory.Packages) < 100 {
					b.Fatalf("%d packages", len(res.Inventory.Packages))
				}
			}
			b.SetBytes(size)
		})
	}
}

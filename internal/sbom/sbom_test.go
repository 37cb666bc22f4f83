package sbom

import (
	"compress/gzip"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

func read(t *testing.T, name string) *inventory.Inventory {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := Read(zr, name)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func debs(inv *inventory.Inventory) []string {
	var out []string
	for _, p := range inv.Packages {
		if p.Type == inventory.TypeDeb {
			out = append(out, p.Name+" "+p.Version)
		}
	}
	sort.Strings(out)
	return out
}

// TestPeersAgree reads the SBOMs bulkhead, Syft and Trivy wrote for the
// same image: each must give back the same Debian packages, with epochs in
// the version (Trivy writes them as a qualifier), the source package the
// advisories are keyed by, and the Debian release.
func TestPeersAgree(t *testing.T) {
	want := debs(read(t, "bulkhead-demo.cdx.json.gz"))
	if len(want) != 106 {
		t.Fatalf("bulkhead SBOM has %d deb packages, want 106", len(want))
	}
	for _, name := range []string{"bulkhead-demo.spdx.json.gz", "syft-demo.cdx.json.gz", "syft-demo.spdx.json.gz", "trivy-demo.cdx.json.gz"} {
		t.Run(name, func(t *testing.T) {
			inv := read(t, name)
			if diff := cmp.Diff(want, debs(inv)); diff != "" {
				t.Errorf("deb packages (-bulkhead +%s):\n%s", name, diff)
			}
			if inv.OS == nil || inv.OS.ID != "debian" || !strings.HasPrefix(inv.OS.VersionID, "12") {
				t.Errorf("OS = %+v", inv.OS)
			}
			bySrc := map[string]string{}
			for _, p := range inv.Packages {
				if p.Source != nil {
					bySrc[p.Name] = p.Source.Name + " " + p.Source.Version
				}
			}
			if got := bySrc["libc6"]; !strings.HasPrefix(got, "glibc 2.36-9") {
				t.Errorf("libc6 source = %q", got)
			}
			if got := bySrc["login"]; got != "shadow 1:4.13+dfsg1-1+deb12u2" && !strings.HasPrefix(name, "syft") {
				t.Errorf("login source = %q, want shadow with its epoch", got)
			}
		})
	}
}

func TestBulkheadLocationsSurvive(t *testing.T) {
	inv := read(t, "bulkhead-demo.cdx.json.gz")
	for _, p := range inv.Packages {
		if p.Name == "curl" {
			l := p.Locations[0]
			if l.Path != "/var/lib/dpkg/status" || l.LayerIndex != 1 || !strings.HasPrefix(l.CreatedBy, "RUN apt-get install") {
				t.Errorf("curl location = %+v", l)
			}
			return
		}
	}
	t.Fatal("curl not found")
}

func TestReadErrors(t *testing.T) {
	for _, in := range []string{"", "{}", "not json", `{"bomFormat":"CycloneDX","components":"x"}`, `{"spdxVersion":"SPDX-2.3","packages":7}`} {
		if _, err := Read(strings.NewReader(in), "x"); err == nil {
			t.Errorf("Read(%q): no error", in)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"type":"library","name":"a","version":"1","purl":"pkg:deb/debian/a@1?distro=debian-12&epoch=2"}]}`))
	f.Add([]byte(`{"spdxVersion":"SPDX-2.3","packages":[{"name":"a","SPDXID":"SPDXRef-a","externalRefs":[{"referenceCategory":"PACKAGE-MANAGER","referenceType":"purl","referenceLocator":"pkg:npm/a@1"}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		inv, err := Read(strings.NewReader(string(b)), "fuzz")
		if err == nil && inv == nil {
			t.Fatal("nil inventory without error")
		}
	})
}

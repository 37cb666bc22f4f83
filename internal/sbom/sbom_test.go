package sbom

import (
	"bytes"
	"compress/gzip"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/report"
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

// TestRoundTripExtraFields writes an inventory with bulkhead's report
// writers and reads it back: a deb's identifiers in other ecosystems, a
// lockfile's dev mark and an application's private mark must survive both
// formats (the dev and private marks are CycloneDX-only).
func TestRoundTripExtraFields(t *testing.T) {
	in := &inventory.Inventory{
		Artifact: inventory.Artifact{Name: "x", Type: inventory.ArtifactFilesystem},
		OS:       &inventory.OS{ID: "debian", VersionID: "12"},
		Packages: []inventory.Package{
			{Name: "python3-requests", Version: "2.28.1+dfsg-1", Type: inventory.TypeDeb, PURL: "pkg:deb/debian/python3-requests@2.28.1%2Bdfsg-1?distro=debian-12",
				OtherPURLs: []string{"pkg:pypi/requests@2.28.1"}},
			{Name: "jest", Version: "29.0.0", Type: "npm", PURL: "pkg:npm/jest@29.0.0", Dev: true},
			{Name: "web", Version: "0.1.0", Type: "npm", PURL: "pkg:npm/web@0.1.0", Private: true},
		},
	}
	type row struct {
		Name  string
		Other string
		Dev   bool
		Priv  bool
	}
	for _, format := range []string{report.FormatCycloneDXJSON, report.FormatSPDXJSON} {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := report.Write(&buf, format, in, report.Options{}); err != nil {
				t.Fatal(err)
			}
			out, err := Read(&buf, "x.json")
			if err != nil {
				t.Fatal(err)
			}
			var got []row
			for _, p := range out.Packages {
				got = append(got, row{p.Name, strings.Join(p.OtherPURLs, ","), p.Dev, p.Private})
			}
			cdx := format == report.FormatCycloneDXJSON
			want := []row{
				{"python3-requests", "pkg:pypi/requests@2.28.1", false, false},
				{"jest", "", cdx, false},
				{"web", "", false, cdx},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

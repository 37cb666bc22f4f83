package report

import (
	"bytes"
	"slices"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// pkgSummary is what must survive a round trip through an SBOM.
type pkgSummary struct{ Name, Version, PURL string }

func wantSummaries(inv *inventory.Inventory) []pkgSummary {
	var out []pkgSummary
	for i := range inv.Packages {
		p := &inv.Packages[i]
		out = append(out, pkgSummary{p.Name, packageVersion(p), p.PURL})
	}
	return out
}

var sortSummaries = cmpopts.SortSlices(func(a, b pkgSummary) bool {
	return a.Name+"\x00"+a.Version+"\x00"+a.PURL < b.Name+"\x00"+b.Version+"\x00"+b.PURL
})

func decodeCycloneDX(t *testing.T, data []byte) *cdx.BOM {
	t.Helper()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("decode CycloneDX: %v", err)
	}
	return &bom
}

func TestCycloneDXRoundTrip(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			inv := tc.inv()
			bom := decodeCycloneDX(t, write(t, FormatCycloneDXJSON, inv))

			if bom.SpecVersion != cdx.SpecVersion1_6 || bom.JSONSchema != "http://cyclonedx.org/schema/bom-1.6.schema.json" || bom.BOMFormat != "CycloneDX" {
				t.Errorf("spec = %v %q %q, want CycloneDX 1.6", bom.SpecVersion, bom.JSONSchema, bom.BOMFormat)
			}
			if want := "urn:uuid:6f0c1a8e-3b7d-4e2a-9c5f-0d1e2f3a4b5c"; bom.SerialNumber != want {
				t.Errorf("serialNumber = %q, want %q", bom.SerialNumber, want)
			}
			md := bom.Metadata
			if md == nil || md.Component == nil || md.Tools == nil || md.Tools.Components == nil {
				t.Fatalf("metadata incomplete: %+v", md)
			}
			if md.Timestamp != "2024-07-01T10:00:00Z" {
				t.Errorf("timestamp = %q, want UTC 2024-07-01T10:00:00Z", md.Timestamp)
			}
			if tools := *md.Tools.Components; len(tools) != 1 || tools[0].Name != "bulkhead" || tools[0].Version != "1.2.3-test" {
				t.Errorf("tools = %+v, want bulkhead 1.2.3-test", tools)
			}

			var got []pkgSummary
			var refs []string
			var osComps int
			if bom.Components != nil {
				for _, c := range *bom.Components {
					refs = append(refs, c.BOMRef)
					if c.Type == cdx.ComponentTypeOS {
						osComps++
						continue
					}
					got = append(got, pkgSummary{c.Name, c.Version, c.PackageURL})
				}
			}
			if diff := cmp.Diff(wantSummaries(inv), got, sortSummaries, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("packages after round trip (-want +got):\n%s", diff)
			}
			for _, p := range inv.Packages {
				if !slices.ContainsFunc(got, func(s pkgSummary) bool { return s.PURL == p.PURL }) {
					t.Errorf("purl %s missing", p.PURL)
				}
			}
			if wantOS := inv.OS != nil; (osComps == 1) != wantOS || osComps > 1 {
				t.Errorf("%d operating-system components, want OS %v", osComps, wantOS)
			}
			assertUnique(t, "bom-ref", append([]string{md.Component.BOMRef}, refs...))

			// The artifact depends on everything else, and nothing more.
			var deps []cdx.Dependency
			if bom.Dependencies != nil {
				deps = *bom.Dependencies
			}
			if len(refs) == 0 {
				if len(deps) != 0 {
					t.Errorf("dependencies = %+v, want none for an empty BOM", deps)
				}
				return
			}
			if len(deps) != 1 || deps[0].Ref != md.Component.BOMRef || deps[0].Dependencies == nil {
				t.Fatalf("dependencies = %+v, want one entry for %s", deps, md.Component.BOMRef)
			}
			if diff := cmp.Diff(refs, *deps[0].Dependencies); diff != "" {
				t.Errorf("artifact dependsOn (-components +dependsOn):\n%s", diff)
			}
		})
	}
}

func TestCycloneDXComponents(t *testing.T) {
	bom := decodeCycloneDX(t, write(t, FormatCycloneDXJSON, debianImage()))

	wantRoot := &cdx.Component{
		BOMRef:     "pkg:oci/debian@sha256:45f2e735295654f13e3be10da2a6892c708f71a71be845818f6058982761a6d3?arch=amd64&repository_url=index.docker.io%2Flibrary%2Fdebian&tag=12",
		Type:       cdx.ComponentTypeContainer,
		Name:       "index.docker.io/library/debian:12",
		Version:    "sha256:45f2e735295654f13e3be10da2a6892c708f71a71be845818f6058982761a6d3",
		PackageURL: "pkg:oci/debian@sha256:45f2e735295654f13e3be10da2a6892c708f71a71be845818f6058982761a6d3?arch=amd64&repository_url=index.docker.io%2Flibrary%2Fdebian&tag=12",
		Properties: &[]cdx.Property{
			{Name: "bulkhead:image:architecture", Value: "amd64"},
			{Name: "bulkhead:image:configDigest", Value: "sha256:5f9a6b5c2c0e2e5dd5d0d2c3c1f5a9b8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2"},
			{Name: "bulkhead:image:repoTag", Value: "index.docker.io/library/debian:12"},
			{Name: "bulkhead:image:repoDigest", Value: "index.docker.io/library/debian@sha256:45f2e735295654f13e3be10da2a6892c708f71a71be845818f6058982761a6d3"},
			{Name: "bulkhead:image:layer:0:diffID", Value: diffID0},
			{Name: "bulkhead:image:layer:1:diffID", Value: diffID1},
		},
	}
	if diff := cmp.Diff(wantRoot, bom.Metadata.Component); diff != "" {
		t.Errorf("metadata.component (-want +got):\n%s", diff)
	}

	byName := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		byName[c.Name] = c
	}
	want := []cdx.Component{
		{
			BOMRef:      "bulkhead:os:debian@12",
			Type:        cdx.ComponentTypeOS,
			Name:        "debian",
			Version:     "12",
			Description: "Debian GNU/Linux 12 (bookworm)",
			Properties:  &[]cdx.Property{{Name: "bulkhead:os:codename", Value: "bookworm"}},
		},
		{
			BOMRef:     "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12",
			Type:       cdx.ComponentTypeLibrary,
			Publisher:  "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
			Name:       "libc6",
			Version:    "2.36-9+deb12u7",
			PackageURL: "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12",
			Licenses: &cdx.Licenses{
				{License: &cdx.License{ID: "GPL-2.0-only"}},
				{License: &cdx.License{ID: "LGPL-2.1-or-later"}},
			},
			Properties: &[]cdx.Property{
				{Name: "bulkhead:package:type", Value: "deb"},
				{Name: "bulkhead:package:foundBy", Value: "dpkg"},
				{Name: "bulkhead:package:source:name", Value: "glibc"},
				{Name: "bulkhead:package:source:version", Value: "2.36-9+deb12u7"},
				{Name: "bulkhead:location:0:path", Value: "/var/lib/dpkg/status"},
				{Name: "bulkhead:location:0:layerDiffID", Value: diffID0},
				{Name: "bulkhead:location:0:layerIndex", Value: "0"},
				{Name: "bulkhead:location:0:createdBy", Value: createdBy0},
			},
		},
	}
	for _, w := range want {
		if diff := cmp.Diff(w, byName[w.Name]); diff != "" {
			t.Errorf("component %s (-want +got):\n%s", w.Name, diff)
		}
	}

	for name, wantLic := range map[string]*cdx.Licenses{
		"libstdc++6":   {{Expression: "GPL-3.0-or-later WITH GCC-exception-3.1"}},
		"tzdata":       {{License: &cdx.License{Name: "public-domain"}}},
		"openssl-libs": {{License: &cdx.License{Name: "ASL 2.0"}}},
	} {
		if diff := cmp.Diff(wantLic, byName[name].Licenses); diff != "" {
			t.Errorf("licenses of %s (-want +got):\n%s", name, diff)
		}
	}
	if got := byName["openssl-libs"].Version; got != "1:3.0.7-27.el9" {
		t.Errorf("rpm version = %q, want the epoch in front: 1:3.0.7-27.el9", got)
	}
}

func TestCycloneDXFilesystem(t *testing.T) {
	bom := decodeCycloneDX(t, write(t, FormatCycloneDXJSON, filesystemScan()))
	want := &cdx.Component{BOMRef: "bulkhead:artifact:/home/ci/rootfs", Type: cdx.ComponentTypeFile, Name: "/home/ci/rootfs"}
	if diff := cmp.Diff(want, bom.Metadata.Component); diff != "" {
		t.Errorf("metadata.component (-want +got):\n%s", diff)
	}
	c := (*bom.Components)[0]
	for _, p := range *c.Properties {
		if p.Name == "bulkhead:location:0:layerIndex" || p.Name == "bulkhead:location:0:layerDiffID" {
			t.Errorf("directory scan has layer property %s=%s", p.Name, p.Value)
		}
	}
}

func TestCycloneDXDuplicatePURL(t *testing.T) {
	inv := debianImage()
	dup := inv.Packages[1] // libc6, also recorded by a distroless status.d file
	dup.Locations = []inventory.Location{{Path: "/var/lib/dpkg/status.d/libc6", LayerIndex: 1, LayerDiffID: diffID1}}
	inv.Packages = append(inv.Packages, dup)

	bom := decodeCycloneDX(t, write(t, FormatCycloneDXJSON, inv))
	var refs []string
	for _, c := range *bom.Components {
		if c.Name == "libc6" {
			refs = append(refs, c.BOMRef)
		}
	}
	want := []string{dup.PURL, dup.PURL + "-2"}
	if diff := cmp.Diff(want, refs); diff != "" {
		t.Errorf("bom-refs of the two libc6 (-want +got):\n%s", diff)
	}
	if deps := *(*bom.Dependencies)[0].Dependencies; len(deps) != len(*bom.Components) {
		t.Errorf("dependsOn has %d refs, want %d", len(deps), len(*bom.Components))
	}
}

func TestCDXLicenses(t *testing.T) {
	id := func(s string) cdx.LicenseChoice { return cdx.LicenseChoice{License: &cdx.License{ID: s}} }
	name := func(s string) cdx.LicenseChoice { return cdx.LicenseChoice{License: &cdx.License{Name: s}} }
	tests := []struct {
		in   []string
		want *cdx.Licenses
	}{
		{nil, nil},
		{[]string{"", " "}, nil},
		{[]string{"MIT"}, &cdx.Licenses{id("MIT")}},
		{[]string{"mit", "apache-2.0"}, &cdx.Licenses{id("MIT"), id("Apache-2.0")}},
		{[]string{"MIT", "MIT"}, &cdx.Licenses{id("MIT")}},
		{[]string{"GPL-2.0+"}, &cdx.Licenses{id("GPL-2.0+")}}, // a deprecated id, still on the list
		{[]string{"LGPL-2.1-only+"}, &cdx.Licenses{{Expression: "LGPL-2.1-only+"}}},
		{[]string{"GPL-2"}, &cdx.Licenses{name("GPL-2")}},
		{[]string{"MIT or Apache-2.0"}, &cdx.Licenses{{Expression: "MIT OR Apache-2.0"}}},
		{[]string{"MIT OR Apache-2.0", "BSD-3-Clause"}, &cdx.Licenses{{Expression: "(MIT OR Apache-2.0) AND BSD-3-Clause"}}},
		// An expression cannot sit next to a name: keep both as names.
		{[]string{"MIT OR Apache-2.0", "Expat"}, &cdx.Licenses{name("MIT OR Apache-2.0"), name("Expat")}},
		{[]string{"LicenseRef-acme"}, &cdx.Licenses{name("LicenseRef-acme")}},
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, cdxLicenses(tc.in)); diff != "" {
			t.Errorf("cdxLicenses(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func assertUnique(t *testing.T, what string, ids []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Errorf("%s %q is not unique", what, id)
		}
		seen[id] = true
	}
}

// A scan with warnings says its BOM may be incomplete.
func TestCycloneDXWarnings(t *testing.T) {
	inv := debianImage()
	bom := decodeCycloneDX(t, write(t, FormatCycloneDXJSON, inv))
	want := []cdx.Composition{{
		Aggregate:  cdx.CompositionAggregateIncomplete,
		Assemblies: &[]cdx.BOMReference{cdx.BOMReference(bom.Metadata.Component.BOMRef)},
	}}
	if bom.Compositions == nil {
		t.Fatal("no compositions for a scan with warnings")
	}
	if diff := cmp.Diff(want, *bom.Compositions); diff != "" {
		t.Errorf("compositions (-want +got):\n%s", diff)
	}
	var got []string
	for _, p := range *bom.Metadata.Properties {
		if p.Name == "bulkhead:warning" {
			got = append(got, p.Value)
		}
	}
	if len(got) != len(inv.Warnings) || got[0] != inv.Warnings[0].String() {
		t.Errorf("warning properties = %q", got)
	}

	inv.Warnings = nil
	if bom := decodeCycloneDX(t, write(t, FormatCycloneDXJSON, inv)); bom.Compositions != nil || bom.Metadata.Properties != nil {
		t.Errorf("scan without warnings: compositions %v, properties %v", bom.Compositions, bom.Metadata.Properties)
	}
}

func TestCycloneDXOSWithoutVersion(t *testing.T) {
	inv := emptyInventory()
	inv.OS = &inventory.OS{ID: "arch", Name: "Arch Linux"}
	bom := decodeCycloneDX(t, write(t, FormatCycloneDXJSON, inv))
	if c := (*bom.Components)[0]; c.BOMRef != "bulkhead:os:arch" || c.Version != "" {
		t.Errorf("OS component = %+v", c)
	}
}

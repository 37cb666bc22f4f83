package report

import (
	"bytes"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

var spdxIDPattern = regexp.MustCompile(`^SPDXRef-[A-Za-z0-9.-]+$`)

func readSPDX(t *testing.T, data []byte) *spdx.Document {
	t.Helper()
	doc, err := spdxjson.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("read SPDX: %v", err)
	}
	return doc
}

// inventoryPackages are the SPDX packages that stand for inventory
// packages: all but the artifact and the OS.
func inventoryPackages(doc *spdx.Document) []*spdx.Package {
	var out []*spdx.Package
	for _, p := range doc.Packages {
		if p.PrimaryPackagePurpose == purposeLibrary {
			out = append(out, p)
		}
	}
	return out
}

func purlOf(p *spdx.Package) string {
	for _, r := range p.PackageExternalReferences {
		if r.Category == common.CategoryPackageManager && r.RefType == common.TypePackageManagerPURL {
			return r.Locator
		}
	}
	return ""
}

func TestSPDXRoundTrip(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			inv := tc.inv()
			doc := readSPDX(t, write(t, FormatSPDXJSON, inv))

			if doc.SPDXVersion != "SPDX-2.3" || doc.DataLicense != "CC0-1.0" || doc.SPDXIdentifier != "DOCUMENT" {
				t.Errorf("header = %q %q %q", doc.SPDXVersion, doc.DataLicense, doc.SPDXIdentifier)
			}
			name := artifactName(&inv.Artifact)
			if doc.DocumentName != name {
				t.Errorf("name = %q, want %q", doc.DocumentName, name)
			}
			if ns := doc.DocumentNamespace; !strings.HasPrefix(ns, "https://") || !strings.HasSuffix(ns, "-6f0c1a8e-3b7d-4e2a-9c5f-0d1e2f3a4b5c") {
				t.Errorf("namespace %q is not an https URI ending in the UUID", ns)
			}
			wantCreators := []common.Creator{{Creator: "bulkhead", CreatorType: "Organization"}, {Creator: "bulkhead-1.2.3-test", CreatorType: "Tool"}}
			if diff := cmp.Diff(wantCreators, doc.CreationInfo.Creators); diff != "" {
				t.Errorf("creators (-want +got):\n%s", diff)
			}
			if doc.CreationInfo.Created != "2024-07-01T10:00:00Z" {
				t.Errorf("created = %q", doc.CreationInfo.Created)
			}

			var got []pkgSummary
			for _, p := range inventoryPackages(doc) {
				got = append(got, pkgSummary{p.PackageName, p.PackageVersion, purlOf(p)})
			}
			if diff := cmp.Diff(wantSummaries(inv), got, sortSummaries, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("packages after round trip (-want +got):\n%s", diff)
			}
			wantAll := len(inv.Packages) + 1
			if inv.OS != nil {
				wantAll++
			}
			if len(doc.Packages) != wantAll {
				t.Errorf("%d SPDX packages, want %d", len(doc.Packages), wantAll)
			}

			var ids []string
			for _, p := range doc.Packages {
				id := common.RenderElementID(p.PackageSPDXIdentifier)
				if !spdxIDPattern.MatchString(id) {
					t.Errorf("SPDXID %q has characters SPDX does not allow", id)
				}
				if p.FilesAnalyzed || p.PackageDownloadLocation != "NOASSERTION" || p.PackageLicenseConcluded != "NOASSERTION" {
					t.Errorf("%s: filesAnalyzed %v, downloadLocation %q, licenseConcluded %q", id, p.FilesAnalyzed, p.PackageDownloadLocation, p.PackageLicenseConcluded)
				}
				ids = append(ids, id)
			}
			assertUnique(t, "SPDXID", ids)

			// DOCUMENT DESCRIBES the artifact, which CONTAINS everything else.
			root := doc.Packages[0].PackageSPDXIdentifier
			var describes, contains int
			for _, r := range doc.Relationships {
				switch {
				case r.Relationship == common.TypeRelationshipDescribe && r.RefA.ElementRefID == "DOCUMENT" && r.RefB.ElementRefID == root:
					describes++
				case r.Relationship == common.TypeRelationshipContains && r.RefA.ElementRefID == root:
					contains++
				default:
					t.Errorf("unexpected relationship %+v", r)
				}
			}
			if describes != 1 || contains != wantAll-1 {
				t.Errorf("%d DESCRIBES and %d CONTAINS, want 1 and %d", describes, contains, wantAll-1)
			}
		})
	}
}

func TestSPDXPackages(t *testing.T) {
	doc := readSPDX(t, write(t, FormatSPDXJSON, debianImage()))
	byName := map[string]*spdx.Package{}
	for _, p := range doc.Packages {
		byName[p.PackageName] = p
	}

	root := doc.Packages[0]
	if root.PrimaryPackagePurpose != "CONTAINER" || root.PackageVersion != "sha256:45f2e735295654f13e3be10da2a6892c708f71a71be845818f6058982761a6d3" ||
		!strings.HasPrefix(purlOf(root), "pkg:oci/debian@sha256:") {
		t.Errorf("artifact package = %+v", root)
	}
	if os := byName["debian"]; os == nil || os.PrimaryPackagePurpose != "OPERATING_SYSTEM" || os.PackageVersion != "12" ||
		os.PackageDescription != "Debian GNU/Linux 12 (bookworm)" {
		t.Errorf("OS package = %+v", os)
	}

	type fields struct {
		ID, Version, Supplier, Declared, LicenseComments, SourceInfo, Comment string
	}
	get := func(p *spdx.Package) fields {
		s, _ := p.PackageSupplier.MarshalJSON()
		return fields{
			string(p.PackageSPDXIdentifier), p.PackageVersion, string(s), p.PackageLicenseDeclared,
			p.PackageLicenseComments, p.PackageSourceInfo, p.PackageComment,
		}
	}
	tests := map[string]fields{
		"libc6": {
			ID:         "Package-deb-libc6-" + packageHash(&debianImage().Packages[1]),
			Version:    "2.36-9+deb12u7",
			Supplier:   `"Organization: GNU Libc Maintainers (debian-glibc@lists.debian.org)"`,
			Declared:   "GPL-2.0-only AND LGPL-2.1-or-later",
			SourceInfo: "found by dpkg in /var/lib/dpkg/status (layer 0 " + diffID0 + ")",
			Comment:    "source package: glibc 2.36-9+deb12u7",
		},
		"zlib1g": {
			ID:         "Package-deb-zlib1g-" + packageHash(&debianImage().Packages[0]),
			Version:    "1:1.2.13.dfsg-1",
			Supplier:   `"Person: Mark Brown (broonie@debian.org)"`,
			Declared:   "Zlib",
			SourceInfo: "found by dpkg in /var/lib/dpkg/status (layer 0 " + diffID0 + ")",
			Comment:    "source package: zlib 1:1.2.13.dfsg-1",
		},
		"libstdc++6": {
			ID:         "Package-deb-libstdc--6-" + packageHash(&debianImage().Packages[3]),
			Version:    "12.2.0-14",
			Supplier:   `"Organization: Debian GCC Maintainers (debian-gcc@lists.debian.org)"`,
			Declared:   "GPL-3.0-or-later WITH GCC-exception-3.1",
			SourceInfo: "found by dpkg in /var/lib/dpkg/status (layer 1 " + diffID1 + ")",
			Comment:    "source package: gcc-12 12.2.0-14",
		},
		"openssl-libs": {
			ID:              "Package-rpm-openssl-libs-" + packageHash(&debianImage().Packages[6]),
			Version:         "1:3.0.7-27.el9",
			Supplier:        `"Organization: Red Hat, Inc."`,
			Declared:        "NOASSERTION",
			LicenseComments: "licences declared by the package, not all SPDX: ASL 2.0",
			SourceInfo:      "found by rpm in /opt/ubi/var/lib/rpm/rpmdb.sqlite (layer 1 " + diffID1 + ")",
			Comment:         "source package: openssl 1:3.0.7-27.el9",
		},
	}
	for name, want := range tests {
		p := byName[name]
		if p == nil {
			t.Errorf("package %s missing", name)
			continue
		}
		if diff := cmp.Diff(want, get(p)); diff != "" {
			t.Errorf("package %s (-want +got):\n%s", name, diff)
		}
	}
}

func TestSPDXFilesystem(t *testing.T) {
	doc := readSPDX(t, write(t, FormatSPDXJSON, filesystemScan()))
	root := doc.Packages[0]
	if root.PrimaryPackagePurpose != "SOURCE" || root.PackageVersion != "" || len(root.PackageExternalReferences) != 0 {
		t.Errorf("filesystem artifact package = %+v", root)
	}
	if got, want := doc.Packages[1].PackageSourceInfo, "found by dpkg in /var/lib/dpkg/status"; got != want {
		t.Errorf("sourceInfo = %q, want %q", got, want)
	}
}

// Names with characters SPDX ids may not hold, and two packages with one
// PURL, still get distinct valid ids.
func TestSPDXIDs(t *testing.T) {
	pkg := func(typ, name, purl string) inventory.Package {
		return inventory.Package{Name: name, Version: "1.0", Type: typ, PURL: purl, FoundBy: "test"}
	}
	inv := &inventory.Inventory{
		Artifact: inventory.Artifact{Type: inventory.ArtifactImage, Name: "registry.example.com:5000/team/app:v1@sha256:abc"},
		OS:       &inventory.OS{ID: "ubuntu", VersionID: "24.04"},
		Packages: []inventory.Package{
			pkg("npm", "@angular/core", "pkg:npm/%40angular/core@1.0"),
			pkg("deb", "libstdc++6", "pkg:deb/ubuntu/libstdc%2B%2B6@1.0"),
			pkg("deb", "libstdc--6", "pkg:deb/ubuntu/libstdc--6@1.0"),
			pkg("pypi", "zope.interface_ext", "pkg:pypi/zope.interface-ext@1.0"),
			pkg("generic", "naïve päckage", ""),
			pkg("deb", "dup", "pkg:deb/ubuntu/dup@1.0"),
			pkg("deb", "dup", "pkg:deb/ubuntu/dup@1.0"),
		},
	}
	inv.Packages[6].Locations = []inventory.Location{{Path: "/other"}}
	doc := readSPDX(t, write(t, FormatSPDXJSON, inv))

	var ids []string
	for _, p := range doc.Packages {
		id := common.RenderElementID(p.PackageSPDXIdentifier)
		if !spdxIDPattern.MatchString(id) {
			t.Errorf("SPDXID %q of %q has characters SPDX does not allow", id, p.PackageName)
		}
		ids = append(ids, id)
	}
	assertUnique(t, "SPDXID", ids)
	if ids[0] != "SPDXRef-DocumentRoot-Image-registry.example.com-5000-team-app-v1-sha256-abc" {
		t.Errorf("artifact id = %q", ids[0])
	}
	if !slices.ContainsFunc(ids, func(id string) bool { return strings.HasSuffix(id, "-2") }) {
		t.Errorf("no -2 suffix for the duplicate PURL: %q", ids)
	}
}

func TestSPDXSupplier(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `"NOASSERTION"`},
		{"  ", `"NOASSERTION"`},
		{"Mark Brown <broonie@debian.org>", `"Person: Mark Brown (broonie@debian.org)"`},
		{"Natanael Copa <ncopa@alpinelinux.org>", `"Person: Natanael Copa (ncopa@alpinelinux.org)"`},
		{"GNU Libc Maintainers <debian-glibc@lists.debian.org>", `"Organization: GNU Libc Maintainers (debian-glibc@lists.debian.org)"`},
		{"Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>", `"Organization: Ubuntu Developers (ubuntu-devel-discuss@lists.ubuntu.com)"`},
		{"Debian Python Team <team+python@tracker.debian.org>", `"Organization: Debian Python Team (team+python@tracker.debian.org)"`},
		{"Red Hat, Inc.", `"Organization: Red Hat, Inc."`},
		{"<root@localhost>", `"Person: root@localhost"`},
		{"Jane Doe", `"Person: Jane Doe"`},
	}
	for _, tc := range tests {
		got, err := spdxSupplier(tc.in).MarshalJSON()
		if err != nil || string(got) != tc.want {
			t.Errorf("spdxSupplier(%q) = %s, %v; want %s", tc.in, got, err, tc.want)
		}
	}
}

func TestSPDXWarnings(t *testing.T) {
	doc := readSPDX(t, write(t, FormatSPDXJSON, debianImage()))
	for _, w := range debianImage().Warnings {
		if !strings.Contains(doc.DocumentComment, w.String()) {
			t.Errorf("document comment lacks warning %q:\n%s", w, doc.DocumentComment)
		}
	}
	if doc := readSPDX(t, write(t, FormatSPDXJSON, filesystemScan())); doc.DocumentComment != "" {
		t.Errorf("scan without warnings has comment %q", doc.DocumentComment)
	}
}

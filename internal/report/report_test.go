package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const (
	diffID0    = "sha256:2e1ab0c1aa4d5c1e6b1d6b0a5b47f1fbc6f1c5c2b0e8d0f73b8a1c9d0e4f5a61"
	diffID1    = "sha256:9c3f1e2d4b5a69788c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7"
	createdBy0 = "# debian.sh --arch 'amd64' out/ 'bookworm' '@1719792000'"
	createdBy1 = "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends libssl3 libstdc++6 # buildkit"
)

// testOptions makes every run write the same bytes.
func testOptions() Options {
	return Options{
		ToolVersion: "1.2.3-test",
		Now:         func() time.Time { return time.Date(2024, 7, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600)) },
		UUID:        func() string { return "6f0c1a8e-3b7d-4e2a-9c5f-0d1e2f3a4b5c" },
	}
}

// debianImage is what a scan of a Debian 12 image with a few extra
// packages looks like after squashing: two layers, dpkg packages in both,
// and an apk and an rpm database copied in from other images.
func debianImage() *inventory.Inventory {
	dpkgStatus := func(layer int) []inventory.Location {
		l := inventory.Location{Path: "/var/lib/dpkg/status", LayerIndex: 0, LayerDiffID: diffID0, CreatedBy: createdBy0}
		if layer == 1 {
			l = inventory.Location{Path: "/var/lib/dpkg/status", LayerIndex: 1, LayerDiffID: diffID1, CreatedBy: createdBy1}
		}
		return []inventory.Location{l}
	}
	return &inventory.Inventory{
		Artifact: inventory.Artifact{
			Ref:            "debian:12",
			Type:           inventory.ArtifactImage,
			Transport:      "registry",
			Name:           "index.docker.io/library/debian:12",
			RepoTags:       []string{"index.docker.io/library/debian:12"},
			RepoDigests:    []string{"index.docker.io/library/debian@sha256:45f2e735295654f13e3be10da2a6892c708f71a71be845818f6058982761a6d3"},
			ManifestDigest: "sha256:45f2e735295654f13e3be10da2a6892c708f71a71be845818f6058982761a6d3",
			ConfigDigest:   "sha256:5f9a6b5c2c0e2e5dd5d0d2c3c1f5a9b8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2",
			Architecture:   "amd64",
			Created:        "2024-07-01T00:00:00Z",
			Layers: []inventory.Layer{
				{Index: 0, DiffID: diffID0, Size: 29150982, CreatedBy: createdBy0},
				{Index: 1, DiffID: diffID1, Size: 4823110, CreatedBy: createdBy1},
			},
		},
		OS: &inventory.OS{
			ID:        "debian",
			VersionID: "12",
			Codename:  "bookworm",
			Name:      "Debian GNU/Linux 12 (bookworm)",
			Location:  inventory.Location{Path: "/etc/os-release", LayerIndex: 0, LayerDiffID: diffID0, CreatedBy: createdBy0},
		},
		// Deliberately not sorted: writers must sort.
		Packages: []inventory.Package{
			{
				Name: "zlib1g", Version: "1:1.2.13.dfsg-1", Type: inventory.TypeDeb, Arch: "amd64",
				Source:     &inventory.Source{Name: "zlib", Version: "1:1.2.13.dfsg-1"},
				Licenses:   []string{"Zlib"},
				Maintainer: "Mark Brown <broonie@debian.org>",
				PURL:       "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12",
				FoundBy:    "dpkg", Locations: dpkgStatus(0), InstalledSize: 168,
			},
			{
				Name: "libc6", Version: "2.36-9+deb12u7", Type: inventory.TypeDeb, Arch: "amd64",
				Source:     &inventory.Source{Name: "glibc", Version: "2.36-9+deb12u7"},
				Licenses:   []string{"GPL-2.0-only", "LGPL-2.1-or-later"},
				Maintainer: "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
				PURL:       "pkg:deb/debian/libc6@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12",
				FoundBy:    "dpkg", Locations: dpkgStatus(0), InstalledSize: 12988,
			},
			{
				Name: "libssl3", Version: "3.0.13-1~deb12u1", Type: inventory.TypeDeb, Arch: "amd64",
				Source:     &inventory.Source{Name: "openssl", Version: "3.0.13-1~deb12u1"},
				Licenses:   []string{"Apache-2.0"},
				Maintainer: "Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>",
				PURL:       "pkg:deb/debian/libssl3@3.0.13-1~deb12u1?arch=amd64&distro=debian-12",
				FoundBy:    "dpkg", Locations: dpkgStatus(1), InstalledSize: 6307,
			},
			{
				// "+" is not allowed in an SPDX id; the licence is an expression.
				Name: "libstdc++6", Version: "12.2.0-14", Type: inventory.TypeDeb, Arch: "amd64",
				Source:     &inventory.Source{Name: "gcc-12", Version: "12.2.0-14"},
				Licenses:   []string{"GPL-3.0-or-later WITH GCC-exception-3.1"},
				Maintainer: "Debian GCC Maintainers <debian-gcc@lists.debian.org>",
				PURL:       "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64&distro=debian-12",
				FoundBy:    "dpkg", Locations: dpkgStatus(1), InstalledSize: 2920,
			},
			{
				// Not an SPDX licence.
				Name: "tzdata", Version: "2024a-0+deb12u1", Type: inventory.TypeDeb, Arch: "all",
				Source:     &inventory.Source{Name: "tzdata", Version: "2024a-0+deb12u1"},
				Licenses:   []string{"public-domain"},
				Maintainer: "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
				PURL:       "pkg:deb/debian/tzdata@2024a-0%2Bdeb12u1?arch=all&distro=debian-12",
				FoundBy:    "dpkg", Locations: dpkgStatus(0), InstalledSize: 3256,
			},
			{
				Name: "busybox", Version: "1.36.1-r15", Type: inventory.TypeApk, Arch: "x86_64",
				Source:     &inventory.Source{Name: "busybox", Version: "1.36.1-r15"},
				Licenses:   []string{"GPL-2.0-only"},
				Maintainer: "Sören Tempel <soeren+alpine@soeren-tempel.net>",
				PURL:       "pkg:apk/alpine/busybox@1.36.1-r15?arch=x86_64&distro=3.19.1",
				FoundBy:    "apk",
				Locations: []inventory.Location{{
					Path: "/opt/alpine/lib/apk/db/installed", LayerIndex: 1, LayerDiffID: diffID1, CreatedBy: createdBy1,
				}},
			},
			{
				// RPM keeps the epoch apart; the licence is Fedora's old short name.
				Name: "openssl-libs", Version: "3.0.7-27.el9", Epoch: 1, Type: inventory.TypeRPM, Arch: "x86_64",
				Source:     &inventory.Source{Name: "openssl", Version: "1:3.0.7-27.el9"},
				Licenses:   []string{"ASL 2.0"},
				Maintainer: "Red Hat, Inc.",
				PURL:       "pkg:rpm/redhat/openssl-libs@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1",
				FoundBy:    "rpm",
				Locations: []inventory.Location{{
					Path: "/opt/ubi/var/lib/rpm/rpmdb.sqlite", LayerIndex: 1, LayerDiffID: diffID1, CreatedBy: createdBy1,
				}},
			},
		},
		Warnings: []inventory.Warning{
			{Analyzer: "dpkg", Path: "/var/lib/dpkg/status.d/broken", Layer: diffID1, Message: "line 3: field without a package stanza"},
			{Layer: diffID1, Message: "unexpected EOF after 4.1 MB: results may be incomplete"},
		},
	}
}

// filesystemScan is a directory scan: no layers, no OS.
func filesystemScan() *inventory.Inventory {
	return &inventory.Inventory{
		Artifact: inventory.Artifact{Ref: "./rootfs", Type: inventory.ArtifactFilesystem, Name: "/home/ci/rootfs"},
		Packages: []inventory.Package{{
			Name: "ca-certificates", Version: "20230311", Type: inventory.TypeDeb, Arch: "all",
			Licenses: []string{"MPL-2.0", "GPL-2.0-or-later"},
			PURL:     "pkg:deb/debian/ca-certificates@20230311?arch=all",
			FoundBy:  "dpkg",
			Locations: []inventory.Location{{
				Path: "/var/lib/dpkg/status", LayerIndex: inventory.NoLayer,
			}},
		}},
	}
}

func emptyInventory() *inventory.Inventory {
	return &inventory.Inventory{Artifact: inventory.Artifact{Ref: "scratch-app:latest", Type: inventory.ArtifactImage, Name: "scratch-app:latest"}}
}

var goldenCases = []struct {
	name string
	inv  func() *inventory.Inventory
}{
	{"debian-image", debianImage},
	{"filesystem", filesystemScan},
	{"empty", emptyInventory},
	{"vulnerable-image", vulnerableImage},
	{"clean-image", cleanImage},
}

var goldenFormats = []struct {
	format, ext string
}{
	{FormatCycloneDXJSON, "cdx.json"},
	{FormatSPDXJSON, "spdx.json"},
	{FormatJSON, "json"},
	{FormatTable, "txt"},
	{FormatSARIF, "sarif.json"},
	{FormatJUnit, "junit.xml"},
	{FormatGitLab, "gitlab.json"},
}

func TestWriteGolden(t *testing.T) {
	for _, tc := range goldenCases {
		for _, f := range goldenFormats {
			t.Run(tc.name+"/"+f.format, func(t *testing.T) {
				inv := tc.inv()
				before := tc.inv()
				got := write(t, f.format, inv)
				golden(t, tc.name+"."+f.ext, got)
				if diff := cmp.Diff(before, inv); diff != "" {
					t.Errorf("Write modified the inventory (-before +after):\n%s", diff)
				}
			})
		}
	}
}

// The output depends on what was found, not on the order it was found in.
func TestWriteIgnoresInputOrder(t *testing.T) {
	for _, f := range goldenFormats {
		t.Run(f.format, func(t *testing.T) {
			inv := vulnerableImage()
			want := write(t, f.format, inv)
			slices.Reverse(inv.Packages)
			slices.Reverse(inv.Vulnerabilities)
			slices.Reverse(inv.Secrets)
			slices.Reverse(inv.Misconfigurations)
			if got := write(t, f.format, inv); !bytes.Equal(want, got) {
				t.Errorf("output changed with the order of the packages:\n%s", cmp.Diff(string(want), string(got)))
			}
		})
	}
}

func TestFormats(t *testing.T) {
	want := []string{"cyclonedx", "cyclonedx-json", "gitlab", "json", "junit", "sarif", "spdx", "spdx-json", "table"}
	if diff := cmp.Diff(want, Formats()); diff != "" {
		t.Errorf("Formats() (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ in, want string }{
		{"cyclonedx", FormatCycloneDXJSON},
		{"CycloneDX-JSON", FormatCycloneDXJSON},
		{"spdx", FormatSPDXJSON},
		{" spdx-json ", FormatSPDXJSON},
		{"json", FormatJSON},
		{"table", FormatTable},
		{"SARIF", FormatSARIF},
		{"junit", FormatJUnit},
	} {
		got, err := ParseFormat(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	var buf bytes.Buffer
	err := Write(&buf, "sarif-xml", debianImage(), testOptions())
	if !errors.Is(err, ErrUnknownFormat) {
		t.Fatalf("Write(sarif-xml) error = %v, want ErrUnknownFormat", err)
	}
	for _, f := range Formats() {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not list format %q", err, f)
		}
	}
	if buf.Len() != 0 {
		t.Errorf("Write wrote %d bytes for an unknown format", buf.Len())
	}
}

func TestWriteNilInventory(t *testing.T) {
	if err := Write(&bytes.Buffer{}, FormatJSON, nil, Options{}); err == nil {
		t.Error("Write(nil inventory) succeeded")
	}
}

// The zero Options are usable: real clock, random UUIDs, "devel" version.
func TestWriteDefaultOptions(t *testing.T) {
	var a, b bytes.Buffer
	if err := Write(&a, FormatCycloneDXJSON, debianImage(), Options{}); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, FormatCycloneDXJSON, debianImage(), Options{}); err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Error("two BOMs with default options share a serial number")
	}
	if !bytes.Contains(a.Bytes(), []byte(`"version": "devel"`)) {
		t.Error(`default tool version "devel" missing`)
	}
}

func TestNewUUID(t *testing.T) {
	u := newUUID()
	if len(u) != 36 || u[8] != '-' || u[13] != '-' || u[18] != '-' || u[23] != '-' || u[14] != '4' || !strings.ContainsRune("89ab", rune(u[19])) {
		t.Errorf("newUUID() = %q, not a version 4 UUID", u)
	}
	if newUUID() == u {
		t.Error("newUUID() repeated itself")
	}
}

func TestArtifactPURL(t *testing.T) {
	const d = "sha256:45f2e735295654f13e3be10da2a6892c708f71a71be845818f6058982761a6d3"
	tests := []struct {
		name string
		a    inventory.Artifact
		want string
	}{
		{"registry", debianImage().Artifact,
			"pkg:oci/debian@" + d + "?arch=amd64&repository_url=index.docker.io%2Flibrary%2Fdebian&tag=12"},
		{"private registry, digest ref",
			inventory.Artifact{Type: inventory.ArtifactImage, Name: "ghcr.io/acme/tools/scanner@" + d, ManifestDigest: d},
			"pkg:oci/scanner@" + d + "?repository_url=ghcr.io%2Facme%2Ftools%2Fscanner"},
		{"docker-archive without manifest: config digest",
			inventory.Artifact{Type: inventory.ArtifactImage, Name: "app:1.0", ConfigDigest: d},
			"pkg:oci/app@" + d + "?repository_url=index.docker.io%2Flibrary%2Fapp&tag=1.0"},
		{"oci-layout directory",
			inventory.Artifact{Type: inventory.ArtifactImage, Name: "/tmp/Layouts/My Image/", ManifestDigest: d},
			"pkg:oci/my%20image@" + d},
		{"no digest", inventory.Artifact{Type: inventory.ArtifactImage, Name: "app:1.0"}, ""},
		{"filesystem", inventory.Artifact{Type: inventory.ArtifactFilesystem, Name: "/src", ConfigDigest: d}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := artifactPURL(&tc.a); got != tc.want {
				t.Errorf("artifactPURL() = %q, want %q", got, tc.want)
			}
		})
	}
}

func write(t testing.TB, format string, inv *inventory.Inventory) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, format, inv, testOptions()); err != nil {
		t.Fatalf("Write(%s): %v", format, err)
	}
	return buf.Bytes()
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// The GitLab report has what the container-scanning schema requires of
// every vulnerability: an id, at least one identifier, a severity GitLab
// knows and a location with package, version, operating system and image.
func TestGitLabReport(t *testing.T) {
	var doc struct {
		Version string
		Scan    struct {
			Type, StartTime, Status string
			Analyzer, Scanner       struct{ ID, Name, Version string }
		}
		Vulnerabilities []struct {
			ID, Severity string
			Identifiers  []struct{ Type, Name, Value string }
			Location     struct {
				Dependency struct {
					Package struct{ Name string }
					Version string
				}
				OperatingSystem string `json:"operating_system"`
				Image           string
			}
		}
	}
	inv := vulnerableImage()
	if err := json.Unmarshal(write(t, FormatGitLab, inv), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != gitlabSchemaVersion || doc.Scan.Type != "container_scanning" || doc.Scan.Status != "success" || doc.Scan.Scanner.ID != "bulkhead" {
		t.Errorf("header: %+v", doc)
	}
	if len(doc.Vulnerabilities) != len(inv.Vulnerabilities) {
		t.Fatalf("%d vulnerabilities, want %d", len(doc.Vulnerabilities), len(inv.Vulnerabilities))
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	ids := map[string]bool{}
	for _, v := range doc.Vulnerabilities {
		if !uuid.MatchString(v.ID) || ids[v.ID] {
			t.Errorf("id %q: not a UUID or repeated", v.ID)
		}
		ids[v.ID] = true
		if !slices.Contains([]string{"Critical", "High", "Medium", "Low", "Unknown"}, v.Severity) {
			t.Errorf("severity %q", v.Severity)
		}
		if len(v.Identifiers) == 0 || v.Identifiers[0].Value == "" || v.Location.Dependency.Package.Name == "" ||
			v.Location.Dependency.Version == "" || v.Location.OperatingSystem != "debian:12" || v.Location.Image == "" {
			t.Errorf("incomplete vulnerability %+v", v)
		}
	}
}

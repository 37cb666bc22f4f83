package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// bigInventory is an image with n dpkg packages over two layers.
func bigInventory(n int) *inventory.Inventory {
	inv := debianImage()
	inv.Packages = make([]inventory.Package, n)
	licences := [][]string{{"GPL-2.0-only", "LGPL-2.1-or-later"}, {"MIT"}, {"public-domain"}, {"MIT OR Apache-2.0"}}
	for i := range inv.Packages {
		name := fmt.Sprintf("lib%05d-%d", i, i%7)
		version := fmt.Sprintf("1:%d.%d-%d+deb12u1", i%9, i%31, i%5)
		layer := i % 2
		inv.Packages[i] = inventory.Package{
			Name: name, Version: version, Type: inventory.TypeDeb, Arch: "amd64",
			Source:     &inventory.Source{Name: fmt.Sprintf("src%04d", i/3), Version: version},
			Licenses:   licences[i%len(licences)],
			Maintainer: "Debian Team <team@lists.debian.org>",
			PURL:       fmt.Sprintf("pkg:deb/debian/%s@%s?arch=amd64&distro=debian-12", name, version),
			FoundBy:    "dpkg",
			Locations: []inventory.Location{{
				Path: "/var/lib/dpkg/status", LayerIndex: layer, LayerDiffID: inv.Artifact.Layers[layer].DiffID,
				CreatedBy: inv.Artifact.Layers[layer].CreatedBy,
			}},
		}
	}
	return inv
}

// bigFindings is an image with n vulnerability findings, five per package
// over n/5 packages, on n*3/10 distinct ids (so rules are shared), in every
// severity, most with CVSS vectors and fixes; plus n/100 secrets.
func bigFindings(n int) *inventory.Inventory {
	inv := bigInventory(n / 5)
	sevs := []string{inventory.SeverityCritical, inventory.SeverityHigh, inventory.SeverityMedium, inventory.SeverityLow, inventory.SeverityUnknown}
	inv.Vulnerabilities = make([]inventory.Vulnerability, n)
	for i := range inv.Vulnerabilities {
		p := &inv.Packages[i/5]
		id := fmt.Sprintf("CVE-%d-%05d", 2015+i%10, (i*7919)%(n*3/10))
		v := inventory.Vulnerability{
			ID:           id,
			Aliases:      []string{"DEBIAN-" + id},
			Advisories:   []string{"DEBIAN-" + id},
			Severity:     sevs[i%len(sevs)],
			Status:       inventory.StatusNoFix,
			MatchedRange: "< 9:9",
			Title:        fmt.Sprintf("%s: heap-based buffer overflow in the parser of component %d allows remote attackers to run code", p.Name, i),
			Description:  strings.Repeat("A long advisory description with details of the flaw and its impact. ", 5),
			References:   []string{"https://security-tracker.debian.org/tracker/" + id, "https://example.org/advisory/" + id},
			Published:    "2024-06-27T11:15:24Z",
			Package: inventory.VulnPackage{Name: p.Name, Version: p.Version, Type: p.Type, Ecosystem: "Debian:12",
				PURL: p.PURL, Source: p.Source},
			Location: p.Locations[0],
		}
		if i%3 != 0 {
			v.CVSS = []inventory.CVSS{{Version: "3.1", Vector: cvss31CVE20245535, Score: float64(i%100) / 10, Source: id}}
		}
		if i%5 != 0 {
			v.FixedVersion, v.Status = p.Version+"+fix1", inventory.StatusFixed
		}
		inv.Vulnerabilities[i] = v
	}
	inv.Secrets = make([]inventory.Secret, n/100)
	for i := range inv.Secrets {
		inv.Secrets[i] = inventory.Secret{
			RuleID: "aws-access-key-id", Title: "AWS Access Key ID", Severity: inventory.SeverityCritical,
			Path: fmt.Sprintf("/app/config/%03d/.env", i), Line: i + 1, Match: awsKeyMasked,
			Fingerprint: fmt.Sprintf("sha256:%016x", i), LayerIndex: 1, LayerDiffID: diffID1,
		}
	}
	return inv
}

func benchmarkWrite(b *testing.B, format string) {
	benchmarkWriteInventory(b, format, bigInventory(5000))
}

func benchmarkWriteInventory(b *testing.B, format string, inv *inventory.Inventory) {
	opts := testOptions()
	var out bytes.Buffer
	if err := Write(&out, format, inv, opts); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(out.Len())) // MB/s of output
	b.ReportAllocs()
	for b.Loop() {
		if err := Write(io.Discard, format, inv, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCycloneDX5000(b *testing.B) { benchmarkWrite(b, FormatCycloneDXJSON) }
func BenchmarkSPDX5000(b *testing.B)      { benchmarkWrite(b, FormatSPDXJSON) }
func BenchmarkJSON5000(b *testing.B)      { benchmarkWrite(b, FormatJSON) }
func BenchmarkTable5000(b *testing.B)     { benchmarkWrite(b, FormatTable) }

// The writers of findings, on 5,000 findings over 1,000 packages.
func BenchmarkFindings5000(b *testing.B) {
	inv := bigFindings(5000)
	for _, f := range []string{FormatSARIF, FormatJUnit, FormatTable, FormatJSON, FormatCycloneDXJSON} {
		b.Run(f, func(b *testing.B) { benchmarkWriteInventory(b, f, inv) })
	}
}

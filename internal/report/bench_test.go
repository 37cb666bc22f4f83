package report

import (
	"bytes"
	"fmt"
	"io"
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

func benchmarkWrite(b *testing.B, format string) {
	inv := bigInventory(5000)
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

package vex

import (
	"bytes"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// TestCycloneDXGoProducer reads VEX documents written by the CycloneDX Go
// library at each spec version bulkhead accepts, with an affects ref to a
// component, to a PURL, and a BOM-Link into another BOM.
func TestCycloneDXGoProducer(t *testing.T) {
	const serial = "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79"
	sbomComp := cdx.Component{BOMRef: "pkg:deb/debian/zlib1g@1.2.13?arch=amd64", Type: cdx.ComponentTypeLibrary, Name: "zlib1g"}
	link, err := cdx.NewBOMLink(serial, 1, &sbomComp)
	if err != nil {
		t.Fatal(err)
	}
	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{Timestamp: "2026-11-01T00:00:00Z", Component: &cdx.Component{BOMRef: "app", Type: cdx.ComponentTypeContainer, Name: "app"}}
	bom.Components = &[]cdx.Component{{BOMRef: "c1", Type: cdx.ComponentTypeLibrary, Name: "openssl", PackageURL: "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64"}}
	bom.Vulnerabilities = &[]cdx.Vulnerability{
		{ID: "CVE-2024-5535", References: &[]cdx.VulnerabilityReference{{ID: "GHSA-4vfx-7xpj-4x2q"}},
			Analysis: &cdx.VulnerabilityAnalysis{State: cdx.IASNotAffected, Justification: cdx.IAJCodeNotReachable, Detail: "no TLS server"},
			Affects:  &[]cdx.Affects{{Ref: "c1"}}},
		{ID: "CVE-2024-0001", Analysis: &cdx.VulnerabilityAnalysis{State: cdx.IASFalsePositive},
			Affects: &[]cdx.Affects{{Ref: "pkg:npm/lodash@4.17.15"}}},
		{ID: "CVE-2024-0002", Analysis: &cdx.VulnerabilityAnalysis{State: cdx.IASResolved},
			Affects: &[]cdx.Affects{{Ref: link.String()}}},
		{ID: "CVE-2024-0003", Analysis: &cdx.VulnerabilityAnalysis{State: cdx.IASExploitable, Response: &[]cdx.ImpactAnalysisResponse{cdx.IARUpdate}},
			Affects: &[]cdx.Affects{{Ref: "app"}}},
	}
	for _, v := range []cdx.SpecVersion{cdx.SpecVersion1_4, cdx.SpecVersion1_5, cdx.SpecVersion1_6} {
		t.Run(v.String(), func(t *testing.T) {
			var buf bytes.Buffer
			if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).EncodeVersion(bom, v); err != nil {
				t.Fatal(err)
			}
			set, err := Parse("bom.cdx.json", &buf)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				id, purl, status string
				suppresses       bool
			}{
				{"GHSA-4vfx-7xpj-4x2q", "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12", "not_affected", true},
				{"CVE-2024-0001", "pkg:npm/lodash@4.17.15", "false_positive", true},
				{"CVE-2024-0002", "pkg:deb/debian/zlib1g@1.2.13?arch=amd64&distro=debian-12", "resolved", true},
				{"CVE-2024-0003", "pkg:deb/debian/bash@5.2", "exploitable", false},
			} {
				st, ok := set.Lookup(c.id, nil, c.purl)
				if !ok || st.Status != c.status || st.Suppresses() != c.suppresses {
					t.Errorf("Lookup(%s, %s) = %+v, %v", c.id, c.purl, st, ok)
				}
			}
			if _, ok := set.Lookup("CVE-2024-0001", nil, "pkg:npm/lodash@4.17.21"); ok {
				t.Error("a statement about lodash 4.17.15 covers 4.17.21")
			}
		})
	}
}

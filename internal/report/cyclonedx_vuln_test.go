package report

import (
	"bytes"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

func TestCycloneDXVulnerabilities(t *testing.T) {
	inv := vulnerableImage()
	bom := decodeCycloneDX(t, write(t, FormatCycloneDXJSON, inv))
	if bom.Vulnerabilities == nil || len(*bom.Vulnerabilities) != len(inv.Vulnerabilities) {
		t.Fatalf("vulnerabilities = %v, want %d", bom.Vulnerabilities, len(inv.Vulnerabilities))
	}
	refs := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		refs[c.BOMRef] = c
	}
	byID := map[string]cdx.Vulnerability{}
	for _, v := range *bom.Vulnerabilities {
		byID[v.ID] = v
		// Every finding points at a component of the BOM, at its version.
		if v.Affects == nil || len(*v.Affects) != 1 {
			t.Fatalf("%s: affects = %v, want one", v.ID, v.Affects)
		}
		a := (*v.Affects)[0]
		c, ok := refs[a.Ref]
		if !ok {
			t.Errorf("%s: affects %q, not a component", v.ID, a.Ref)
		}
		if a.Range == nil || len(*a.Range) != 1 || (*a.Range)[0].Version != c.Version || (*a.Range)[0].Status != cdx.VulnerabilityStatusAffected {
			t.Errorf("%s: affected versions = %v, want %s affected", v.ID, a.Range, c.Version)
		}
		if v.Analysis != nil {
			t.Errorf("%s: analysis %+v, want none", v.ID, v.Analysis)
		}
	}

	score := func(f float64) *float64 { return &f }
	want := cdx.Vulnerability{
		ID:     "CVE-2024-5535",
		Source: &cdx.Source{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/CVE-2024-5535"},
		References: &[]cdx.VulnerabilityReference{
			{ID: "DEBIAN-CVE-2024-5535", Source: &cdx.Source{Name: "OSV", URL: "https://osv.dev/vulnerability/DEBIAN-CVE-2024-5535"}},
			{ID: "GHSA-4h8f-2wvx-gg5w", Source: &cdx.Source{Name: "GitHub", URL: "https://github.com/advisories/GHSA-4h8f-2wvx-gg5w"}},
		},
		Ratings: &[]cdx.VulnerabilityRating{
			{
				Source: &cdx.Source{Name: "NVD", URL: "https://nvd.nist.gov/vuln/detail/CVE-2024-5535"},
				Score:  score(9.1), Severity: cdx.SeverityCritical, Method: cdx.ScoringMethodCVSSv31, Vector: cvss31CVE20245535,
			},
			{
				Source: &cdx.Source{Name: "GitHub", URL: "https://github.com/advisories/GHSA-4h8f-2wvx-gg5w"},
				Score:  score(8.8), Severity: cdx.SeverityHigh, Method: cdx.ScoringMethodCVSSv4, Vector: cvss40CVE20245535,
			},
		},
		Description:    inv.Vulnerabilities[1].Description,
		Recommendation: "Upgrade libssl3 to 3.0.14-1~deb12u1",
		Advisories: &[]cdx.Advisory{
			{URL: "https://security-tracker.debian.org/tracker/CVE-2024-5535"},
			{URL: "https://www.openssl.org/news/secadv/20240627.txt"},
		},
		Published: "2024-06-27T11:15:24Z",
		Updated:   "2024-07-12T14:15:16Z",
		Affects: &[]cdx.Affects{{
			Ref:   "pkg:deb/debian/libssl3@3.0.13-1~deb12u1?arch=amd64&distro=debian-12",
			Range: &[]cdx.AffectedVersions{{Version: "3.0.13-1~deb12u1", Status: cdx.VulnerabilityStatusAffected}},
		}},
		Properties: &[]cdx.Property{
			{Name: "bulkhead:vulnerability:title", Value: "openssl: SSL_select_next_proto buffer overread"},
			{Name: "bulkhead:vulnerability:status", Value: "fixed"},
			{Name: "bulkhead:vulnerability:matchedRange", Value: "< 3.0.14-1~deb12u1"},
		},
	}
	if diff := cmp.Diff(want, byID["CVE-2024-5535"]); diff != "" {
		t.Errorf("CVE-2024-5535 (-want +got):\n%s", diff)
	}

	// Without a vector, one rating with the severity alone; without a fix,
	// no recommendation; without a description, the title.
	noFix := byID["CVE-2010-4756"]
	if diff := cmp.Diff(&[]cdx.VulnerabilityRating{{Severity: cdx.SeverityLow, Justification: "severity from database_specific"}}, noFix.Ratings); diff != "" {
		t.Errorf("CVE-2010-4756 ratings (-want +got):\n%s", diff)
	}
	if noFix.Recommendation != "" || noFix.Description != inv.Vulnerabilities[0].Title {
		t.Errorf("CVE-2010-4756: recommendation %q, description %q", noFix.Recommendation, noFix.Description)
	}
	if got := (*byID["CVE-2023-45853"].Ratings)[0].Severity; got != cdx.SeverityUnknown {
		t.Errorf("CVE-2023-45853 severity = %q, want unknown", got)
	}
}

// The vulnerabilities section says whether the scanner ran: absent when it
// did not, [] when it found nothing.
func TestCycloneDXVulnerabilitiesNotRunVersusNone(t *testing.T) {
	if data := write(t, FormatCycloneDXJSON, debianImage()); bytes.Contains(data, []byte(`"vulnerabilities"`)) {
		t.Error("an SBOM-only scan has a vulnerabilities section")
	}
	data := write(t, FormatCycloneDXJSON, cleanImage())
	if !bytes.Contains(data, []byte(`"vulnerabilities": []`)) {
		t.Error(`a clean scan lacks "vulnerabilities": []`)
	}
	if bom := decodeCycloneDX(t, data); bom.Vulnerabilities == nil || len(*bom.Vulnerabilities) != 0 {
		t.Errorf("clean scan: vulnerabilities = %v", bom.Vulnerabilities)
	}
}

// A finding on a package the inventory does not list (the matcher and the
// inventory disagree) gets a component, so affects never dangles; the
// same package at two locations is matched by location.
func TestCycloneDXVulnerabilityRefs(t *testing.T) {
	inv := vulnerableImage()
	orphan := inv.Vulnerabilities[1]
	orphan.Package = inventory.VulnPackage{Name: "ghost", Version: "1.0", Type: "deb", PURL: "pkg:deb/debian/ghost@1.0"}
	orphan2 := inv.Vulnerabilities[3]
	orphan2.Package = orphan.Package
	inv.Vulnerabilities = append(inv.Vulnerabilities, orphan, orphan2)

	dup := inv.Packages[1] // libc6, also in a status.d file in layer 1
	dup.Locations = []inventory.Location{{Path: "/var/lib/dpkg/status.d/libc6", LayerIndex: 1, LayerDiffID: diffID1}}
	inv.Packages = append(inv.Packages, dup)
	onDup := inv.Vulnerabilities[4] // CVE-2024-2961 on libc6
	onDup.Location = dup.Locations[0]
	inv.Vulnerabilities = append(inv.Vulnerabilities, onDup)

	bom := decodeCycloneDX(t, write(t, FormatCycloneDXJSON, inv))
	comps := map[string]bool{}
	compRefs := []string{bom.Metadata.Component.BOMRef}
	for _, c := range *bom.Components {
		comps[c.BOMRef] = true
		compRefs = append(compRefs, c.BOMRef)
	}
	var ghost, libc []string
	for _, v := range *bom.Vulnerabilities {
		ref := (*v.Affects)[0].Ref
		if !comps[ref] {
			t.Errorf("%s affects %q, not a component", v.ID, ref)
		}
		if ref == "pkg:deb/debian/ghost@1.0" {
			ghost = append(ghost, v.ID)
		}
		if v.ID == "CVE-2024-2961" {
			libc = append(libc, ref)
		}
	}
	// Two findings on the missing package: one component for both.
	if diff := cmp.Diff([]string{"CVE-2024-4603", "CVE-2024-5535"}, ghost); diff != "" {
		t.Errorf("findings on the package missing from the inventory (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{dup.PURL, dup.PURL + "-2"}, libc); diff != "" {
		t.Errorf("CVE-2024-2961 on the two libc6 (-want +got):\n%s", diff)
	}
	assertUnique(t, "bom-ref", compRefs)
	deps := *(*bom.Dependencies)[0].Dependencies
	if len(deps) != len(*bom.Components) {
		t.Errorf("dependsOn has %d refs, want all %d components", len(deps), len(*bom.Components))
	}
}

func TestAdvisorySource(t *testing.T) {
	for id, want := range map[string][2]string{
		"CVE-2024-1234":        {"NVD", "https://nvd.nist.gov/vuln/detail/CVE-2024-1234"},
		"GHSA-4h8f-2wvx-gg5w":  {"GitHub", "https://github.com/advisories/GHSA-4h8f-2wvx-gg5w"},
		"DEBIAN-CVE-2024-1234": {"OSV", "https://osv.dev/vulnerability/DEBIAN-CVE-2024-1234"},
		"GO-2024-2687":         {"OSV", "https://osv.dev/vulnerability/GO-2024-2687"},
	} {
		if name, url := advisorySource(id); name != want[0] || url != want[1] {
			t.Errorf("advisorySource(%q) = %q, %q; want %q", id, name, url, want)
		}
	}
}

func TestCVSSMethodAndSeverity(t *testing.T) {
	for v, want := range map[string]cdx.ScoringMethod{
		"3.1": cdx.ScoringMethodCVSSv31, "3.0": cdx.ScoringMethodCVSSv3, "4.0": cdx.ScoringMethodCVSSv4,
		"2.0": cdx.ScoringMethodCVSSv2, "": cdx.ScoringMethodOther,
	} {
		if got := cvssMethod(v); got != want {
			t.Errorf("cvssMethod(%q) = %q, want %q", v, got, want)
		}
	}
	for score, want := range map[float64]cdx.Severity{
		0: cdx.SeverityNone, 0.1: cdx.SeverityLow, 3.9: cdx.SeverityLow, 4: cdx.SeverityMedium,
		6.9: cdx.SeverityMedium, 7: cdx.SeverityHigh, 8.9: cdx.SeverityHigh, 9: cdx.SeverityCritical, 10: cdx.SeverityCritical,
	} {
		if got := cvssSeverity(score); got != want {
			t.Errorf("cvssSeverity(%v) = %q, want %q", score, got, want)
		}
	}
}

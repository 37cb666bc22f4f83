package baseline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/report"
)

func curlVuln(version string) inventory.Vulnerability {
	return inventory.Vulnerability{
		ID: "CVE-2024-2398", Aliases: []string{"DSA-5000-1"}, Advisories: []string{"DSA-5000-1"}, Severity: "HIGH",
		Status: inventory.StatusFixed, FixedVersion: "7.88.1-10+deb12u9", MatchedRange: "<7.88.1-10+deb12u9",
		Package: inventory.VulnPackage{Name: "curl", Version: version, Type: "deb", Ecosystem: "Debian:12",
			PURL: "pkg:deb/debian/curl@" + version + "?arch=amd64&distro=debian-12"},
		Location: inventory.Location{Path: "/var/lib/dpkg/status", LayerIndex: 1},
	}
}

func lineAt(n int) *int { return &n }

// baselineInventory is the previous scan's findings.
func baselineInventory() *inventory.Inventory {
	return &inventory.Inventory{
		Artifact:        inventory.Artifact{Ref: "docker-archive:app-1.tar", Type: inventory.ArtifactImage, Name: "example.com/app:1"},
		Packages:        []inventory.Package{},
		Vulnerabilities: []inventory.Vulnerability{curlVuln("7.88.1-10+deb12u5")},
		Secrets: []inventory.Secret{{RuleID: "aws-access-key-id", Title: "AWS access key", Severity: "CRITICAL", Path: "/app/.env", Line: 1,
			Match: "AKIA****************", Fingerprint: "4a6bbface9a0d75d", LayerIndex: 1}},
		Misconfigurations: []misconfig.Finding{{ID: "BH-DF-002", Severity: "MEDIUM", Path: "/src/Dockerfile", Line: 1, Resource: "stage 0",
			References: []string{}, LayerIndex: lineAt(0)}},
		Malware: []inventory.Malware{{Signature: "EICAR-Test-File", Severity: "CRITICAL", Path: "/tmp/eicar.com",
			SHA256: "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}},
	}
}

func writeReport(t testing.TB, inv *inventory.Inventory) string {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Write(&buf, "json", inv, report.Options{}); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "baseline.json")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHas(t *testing.T) {
	set, err := Load(writeReport(t, baselineInventory()))
	if err != nil {
		t.Fatal(err)
	}
	if set.Vulnerabilities != 1 || set.Secrets != 1 || set.Misconfigurations != 1 || set.Malware != 1 || set.Artifact.Name != "example.com/app:1" {
		t.Errorf("set = %+v", set)
	}
	bumped := curlVuln("7.88.1-10+deb12u7")
	otherPkg := curlVuln("7.88.1-10+deb12u5")
	otherPkg.Package.Name = "libcurl4"
	otherEco := curlVuln("7.88.1-10+deb12u5")
	otherEco.Package.Ecosystem = "Debian:13"
	byAlias := curlVuln("7.88.1-10+deb12u5")
	byAlias.ID, byAlias.Aliases = "DSA-5000-1", nil
	newCVE := curlVuln("7.88.1-10+deb12u5")
	newCVE.ID, newCVE.Aliases = "CVE-2024-6197", nil
	lower := curlVuln("7.88.1-10+deb12u5")
	lower.ID = "cve-2024-2398"

	secret := baselineInventory().Secrets[0]
	movedSecret := secret
	movedSecret.Path, movedSecret.Line = "/app/config/.env", 7
	rotated := secret
	rotated.Fingerprint = "0000000000000000"

	mc := baselineInventory().Misconfigurations[0]
	mcMoved := mc
	mcMoved.Line = 4
	mcOtherFile := mc
	mcOtherFile.Path = "/src/worker/Dockerfile"
	mcOtherStage := mc
	mcOtherStage.Resource = "stage builder"
	mcSecondInStage := mc
	mcSecondInStage.Line, mcSecondInStage.Message = mc.Line+1, mc.Message+" (another occurrence)"

	mw := baselineInventory().Malware[0]
	mwMoved := mw
	mwMoved.Path, mwMoved.LayerIndex = "/opt/eicar.txt", 3
	mwOther := mw
	mwOther.SHA256 = "131f95c51cc819465fa1797f6ccacf9d494aaaff46fa3eac73ae63ffbdfd8267"

	tests := []struct {
		name string
		key  string
		want bool
	}{
		{"vuln: same", VulnKey(curlVuln("7.88.1-10+deb12u5")), true},
		{"vuln: patch bump, still unfixed", VulnKey(bumped), true},
		{"vuln: id case", VulnKey(lower), true},
		{"vuln: reported under an alias", VulnKey(byAlias), true},
		{"vuln: other package", VulnKey(otherPkg), false},
		{"vuln: other ecosystem release", VulnKey(otherEco), false},
		{"vuln: new id", VulnKey(newCVE), false},
		{"secret: same", SecretKey(secret), true},
		{"secret: moved to another file and line", SecretKey(movedSecret), true},
		{"secret: rotated", SecretKey(rotated), false},
		{"misconfig: same", MisconfigKey(mc), true},
		{"misconfig: line moved", MisconfigKey(mcMoved), true},
		{"misconfig: other file", MisconfigKey(mcOtherFile), false},
		{"misconfig: other resource", MisconfigKey(mcOtherStage), false},
		{"misconfig: a second occurrence in the same resource", MisconfigKey(mcSecondInStage), false},
		{"malware: same content elsewhere", MalwareKey(mwMoved), true},
		{"malware: other content", MalwareKey(mwOther), false},
		{"classes do not collide", "secret\x00" + mc.ID, false},
		{"empty key", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := set.Has(tt.key); got != tt.want {
				t.Errorf("Has(%q) = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
	// HasVuln checks every id of the new finding.
	renamed := curlVuln("7.88.1-10+deb12u5")
	renamed.ID, renamed.Aliases = "GHSA-xxxx-yyyy-zzzz", []string{"CVE-2024-2398"}
	if !set.HasVuln(renamed) || set.HasVuln(newCVE) {
		t.Errorf("HasVuln: renamed %v (want true), new %v (want false)", set.HasVuln(renamed), set.HasVuln(newCVE))
	}
	var nilSet *Set
	if nilSet.Has(VulnKey(bumped)) || nilSet.HasVuln(bumped) || nilSet.Len() != 0 {
		t.Error("a nil set has something")
	}
}

func TestMalwareKeyFallbacks(t *testing.T) {
	a := MalwareKey(inventory.Malware{Signature: "X", MD5: "44D88612FEA8A8F36DE82E1278ABB02F", Path: "/a"})
	b := MalwareKey(inventory.Malware{Signature: "X", MD5: "44d88612fea8a8f36de82e1278abb02f", Path: "/b"})
	c := MalwareKey(inventory.Malware{Signature: "X", SHA1: "44d88612fea8a8f36de82e1278abb02f", Path: "/b"})
	d := MalwareKey(inventory.Malware{Signature: "X", Path: "/b"})
	if a != b || b == c || c == d {
		t.Errorf("md5 keys %q %q, sha1 %q, path %q", a, b, c, d)
	}
}

func TestLoadErrors(t *testing.T) {
	sbomOnly := baselineInventory()
	sbomOnly.Vulnerabilities, sbomOnly.Secrets, sbomOnly.Misconfigurations, sbomOnly.Malware = nil, nil, nil, nil
	var cdx bytes.Buffer
	if err := report.Write(&cdx, "cyclonedx-json", baselineInventory(), report.Options{}); err != nil {
		t.Fatal(err)
	}
	var sarif bytes.Buffer
	if err := report.Write(&sarif, "sarif", baselineInventory(), report.Options{}); err != nil {
		t.Fatal(err)
	}
	var spdx bytes.Buffer
	if err := report.Write(&spdx, "spdx-json", baselineInventory(), report.Options{}); err != nil {
		t.Fatal(err)
	}
	sbomPath := writeReport(t, sbomOnly)
	sbomJSON, _ := os.ReadFile(sbomPath)
	tests := []struct {
		name string
		data string
		want string
	}{
		{"cyclonedx", cdx.String(), "this is a CycloneDX document, not a bulkhead JSON report"},
		{"sarif", sarif.String(), "this is a SARIF log"},
		{"spdx", spdx.String(), "this is an SPDX document"},
		{"openvex", `{"@context":"https://openvex.dev/ns/v0.2.0"}`, "OpenVEX"},
		{"table output", "NAME  VERSION\ncurl  7.88", "not a bulkhead JSON report (not a JSON object"},
		{"array", "[]", "not a JSON object"},
		{"other json", `{"hello":1}`, "no schemaVersion"},
		{"no artifact", `{"schemaVersion":1}`, "no artifact"},
		{"newer schema", `{"schemaVersion":99,"artifact":{}}`, "unsupported inventory schema version 99"},
		{"wrong types", `{"schemaVersion":1,"artifact":{},"vulnerabilities":{"id":1}}`, "read inventory json"},
		{"inventory only", string(sbomJSON), "no findings section"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".json")
			if err := os.WriteFile(p, []byte(tt.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range []string{tt.want, p, "--format json"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

// TestEmptyFindingsSections: a scan that found nothing is a baseline with
// nothing in it, not an error.
func TestEmptyFindingsSections(t *testing.T) {
	inv := baselineInventory()
	inv.Vulnerabilities, inv.Secrets, inv.Misconfigurations, inv.Malware = []inventory.Vulnerability{}, nil, nil, nil
	set, err := Load(writeReport(t, inv))
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 0 {
		t.Errorf("Len = %d", set.Len())
	}
}

package policy

import (
	"fmt"
	"time"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// now is the clock of every test.
var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func intp(i int) *int { return &i }

var layers = []inventory.Layer{
	{Index: 0, DiffID: "sha256:0000", CreatedBy: "/bin/sh -c #(nop) ADD file:abc in / "},
	{Index: 1, DiffID: "sha256:1111", CreatedBy: "/bin/sh -c apt-get install -y openssl"},
	{Index: 2, DiffID: "sha256:2222", CreatedBy: "COPY . /app # buildkit"},
}

func vuln(id, sev, pkg, ver, fixed, published string, score float64, layer int, aliases ...string) inventory.Vulnerability {
	v := inventory.Vulnerability{ID: id, Aliases: aliases, Severity: sev, FixedVersion: fixed, Published: published,
		Package:  inventory.VulnPackage{Name: pkg, Version: ver, Type: "deb", Ecosystem: "Debian:12", Source: &inventory.Source{Name: pkg}},
		Location: inventory.Location{Path: "/var/lib/dpkg/status", LayerIndex: layer, LayerDiffID: layers[layer].DiffID, CreatedBy: layers[layer].CreatedBy}}
	v.Status = inventory.StatusNoFix
	if fixed != "" {
		v.Status = inventory.StatusFixed
	}
	if score > 0 {
		v.CVSS = []inventory.CVSS{{Version: "3.1", Score: score}}
	}
	return v
}

// testInventory is a small image: openssl with four fixable
// vulnerabilities (different fixed versions), ncurses with an unfixed
// one, an AWS key in /app/.env, a misconfiguration, a GPL package.
func testInventory() *inventory.Inventory {
	return &inventory.Inventory{
		Artifact: inventory.Artifact{Ref: "registry.example.com/team/app:1.0", Type: inventory.ArtifactImage, Transport: "registry",
			Name: "registry.example.com/team/app:1.0", Created: "2026-01-01T00:00:00Z", Layers: layers,
			Labels: map[string]string{"org.opencontainers.image.source": "https://example.com/app"}, User: "10001"},
		Packages: []inventory.Package{
			{Name: "openssl", Version: "3.0.11-1~deb12u2", Type: "deb", Licenses: []string{"Apache-2.0"},
				Locations: []inventory.Location{{Path: "/var/lib/dpkg/status", LayerIndex: 1, LayerDiffID: "sha256:1111"}}},
			{Name: "readline", Version: "8.2-1.3", Type: "deb", Licenses: []string{"GPL-3.0-or-later"},
				Locations: []inventory.Location{{Path: "/var/lib/dpkg/status", LayerIndex: 0, LayerDiffID: "sha256:0000"}}},
			{Name: "dual", Version: "1.0", Type: "npm", Licenses: []string{"(GPL-2.0-only OR MIT)"},
				Locations: []inventory.Location{{Path: "/app/node_modules/dual/package.json", LayerIndex: 2, LayerDiffID: "sha256:2222"}}},
		},
		Vulnerabilities: []inventory.Vulnerability{
			vuln("CVE-2024-5535", "CRITICAL", "openssl", "3.0.11-1~deb12u2", "3.0.14-1~deb12u1", "2024-06-27T00:00:00Z", 9.1, 1, "DSA-5678-1"),
			vuln("CVE-2024-6119", "HIGH", "openssl", "3.0.11-1~deb12u2", "3.0.15-1~deb12u1", "2024-09-03T00:00:00Z", 7.5, 1),
			vuln("CVE-2024-2511", "MEDIUM", "openssl", "3.0.11-1~deb12u2", "3.0.13-1~deb12u4", "2024-04-08T00:00:00Z", 5.9, 1),
			vuln("CVE-2024-4741", "HIGH", "openssl", "3.0.11-1~deb12u2", "3.0.9-1~deb12u1", "2026-11-20T00:00:00Z", 7.0, 1),
			vuln("CVE-2023-50495", "MEDIUM", "ncurses", "6.4-4", "", "2023-12-12T00:00:00Z", 6.5, 0),
		},
		Secrets: []inventory.Secret{{RuleID: "aws-access-key-id", Title: "AWS access key", Severity: "CRITICAL", Path: "/app/.env", Line: 3,
			Match: "AKIA****************", Fingerprint: "f00dfeed", LayerDiffID: "sha256:2222", LayerIndex: 2, CreatedBy: layers[2].CreatedBy}},
		Malware: []inventory.Malware{},
		Misconfigurations: []misconfig.Finding{{ID: "BH-DF-002", Type: "dockerfile", Severity: "MEDIUM", Title: "FROM not pinned by digest",
			Message: "FROM debian:12 is not pinned by digest", Fix: "FROM debian:12@sha256:<digest>", Path: "Dockerfile", Line: 1}},
	}
}

// bigInventory has n packages and about 0.7 n vulnerabilities, for the
// benchmark.
func bigInventory(n int) *inventory.Inventory {
	inv := testInventory()
	sevs := []string{"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"}
	for i := range n {
		name := fmt.Sprintf("pkg%03d", i)
		inv.Packages = append(inv.Packages, inventory.Package{Name: name, Version: "1.0-1", Type: "deb", Licenses: []string{"MIT AND (GPL-2.0-only OR BSD-3-Clause)"},
			Locations: []inventory.Location{{Path: "/var/lib/dpkg/status", LayerIndex: i % 3, LayerDiffID: layers[i%3].DiffID}}})
		for j := range (i % 3) * 1 {
			fixed := ""
			if (i+j)%4 != 0 {
				fixed = fmt.Sprintf("1.%d-1", j+1)
			}
			inv.Vulnerabilities = append(inv.Vulnerabilities, vuln(fmt.Sprintf("CVE-2024-%05d", i*10+j), sevs[(i+j)%5], name, "1.0-1", fixed, "2024-01-01T00:00:00Z", float64((i+j)%10), i%3))
		}
	}
	return inv
}

func malwareFinding() inventory.Malware {
	return inventory.Malware{Signature: "Eicar-Signature", Severity: "CRITICAL", Path: "/usr/bin/x", LayerDiffID: "sha256:2222", LayerIndex: 2}
}

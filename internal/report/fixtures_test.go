package report

import (
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

const (
	diffID2    = "sha256:4a7c9e1f3b5d7092a4c6e8f0b2d4f6a8c0e2a4c6e8f0b2d4f6a8c0e2a4c6e8f0"
	createdBy2 = "RUN /bin/sh -c rm -f /root/.git-credentials # buildkit"

	cvss31CVE20245535 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H"                    // 9.1
	cvss40CVE20245535 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:N/VA:H/SC:N/SI:N/SA:N" // 8.8
	cvss31CVE20244603 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L"                    // 5.3
	cvss31CVE20242961 = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"                    // 7.8
	awsKeyMasked      = "AKIA****"                                                        // as the secret scanner masks
	ghTokenMasked     = "ghp_********"
)

// vulnerableImage is debianImage after a vulnerability and secret scan,
// plus a third layer that deletes a credentials file: five findings on
// three packages, one of each severity, one without a fix, one with CVSS
// v3.1 and v4.0 vectors (whose severities differ), and two secrets, one in
// a file a later layer deleted; and four misconfigurations: a Dockerfile
// and a Kubernetes manifest shipped in layer 1 (a line each, the manifest's
// with a resource), a setuid file in layer 0 and the image config's user
// (no path, no line, no layer).
func vulnerableImage() *inventory.Inventory {
	inv := debianImage()
	inv.Artifact.Layers = append(inv.Artifact.Layers,
		inventory.Layer{Index: 2, DiffID: diffID2, Size: 1024, CreatedBy: createdBy2})

	on := func(name string) (inventory.VulnPackage, inventory.Location) {
		for _, p := range inv.Packages {
			if p.Name == name {
				return inventory.VulnPackage{
					Name: p.Name, Version: p.Version, Type: p.Type, Ecosystem: "Debian:12",
					PURL: p.PURL, Source: p.Source,
				}, p.Locations[0]
			}
		}
		panic("no package " + name)
	}
	libc, libcAt := on("libc6")
	ssl, sslAt := on("libssl3")
	zlib, zlibAt := on("zlib1g")

	// Deliberately not sorted: writers must sort.
	inv.Vulnerabilities = []inventory.Vulnerability{
		{
			ID:             "CVE-2010-4756",
			Aliases:        []string{"DEBIAN-CVE-2010-4756"},
			Advisories:     []string{"DEBIAN-CVE-2010-4756"},
			Severity:       inventory.SeverityLow,
			SeveritySource: "database_specific",
			Status:         inventory.StatusNoFix,
			MatchedRange:   ">= 0",
			Title:          "glibc: glob implementation can cause excessive CPU and memory consumption",
			Published:      "2011-03-02T20:00:00Z",
			Modified:       "2024-06-20T08:12:09Z",
			Package:        libc, Location: libcAt,
		},
		{
			ID:             "CVE-2024-5535",
			Aliases:        []string{"DEBIAN-CVE-2024-5535", "GHSA-4h8f-2wvx-gg5w"},
			Advisories:     []string{"DEBIAN-CVE-2024-5535"},
			Severity:       inventory.SeverityCritical,
			SeveritySource: "cvss_v3",
			CVSS: []inventory.CVSS{
				{Version: "3.1", Vector: cvss31CVE20245535, Score: 9.1, Source: "CVE-2024-5535"},
				{Version: "4.0", Vector: cvss40CVE20245535, Score: 8.8, Source: "GHSA-4h8f-2wvx-gg5w"},
			},
			FixedVersion: "3.0.14-1~deb12u1",
			Status:       inventory.StatusFixed,
			MatchedRange: "< 3.0.14-1~deb12u1",
			Title:        "openssl: SSL_select_next_proto buffer overread",
			Description: "Calling the OpenSSL API function SSL_select_next_proto with an empty supported\n" +
				"client protocols buffer may cause a crash or memory contents to be sent to the peer.",
			References: []string{
				"https://security-tracker.debian.org/tracker/CVE-2024-5535",
				"https://www.openssl.org/news/secadv/20240627.txt",
			},
			Published: "2024-06-27T11:15:24Z",
			Modified:  "2024-07-12T14:15:16Z",
			Package:   ssl, Location: sslAt,
		},
		{
			ID:           "CVE-2023-45853",
			Aliases:      []string{"DEBIAN-CVE-2023-45853"},
			Advisories:   []string{"DEBIAN-CVE-2023-45853"},
			Severity:     inventory.SeverityUnknown,
			FixedVersion: "1:1.3.dfsg-3.1",
			Status:       inventory.StatusFixed,
			MatchedRange: "< 1:1.3.dfsg-3.1",
			Title:        "MiniZip in zlib through 1.3 has an integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_64",
			Published:    "2023-10-14T02:15:09Z",
			Package:      zlib, Location: zlibAt,
		},
		{
			ID:             "CVE-2024-4603",
			Aliases:        []string{"DEBIAN-CVE-2024-4603"},
			Advisories:     []string{"DEBIAN-CVE-2024-4603"},
			Severity:       inventory.SeverityMedium,
			SeveritySource: "cvss_v3",
			CVSS:           []inventory.CVSS{{Version: "3.1", Vector: cvss31CVE20244603, Score: 5.3, Source: "CVE-2024-4603"}},
			FixedVersion:   "3.0.14-1~deb12u1",
			Status:         inventory.StatusFixed,
			MatchedRange:   "< 3.0.14-1~deb12u1",
			Title:          "openssl: Excessive time spent checking DSA keys and parameters",
			References:     []string{"https://www.openssl.org/news/secadv/20240516.txt"},
			Published:      "2024-05-16T16:15:10Z",
			Package:        ssl, Location: sslAt,
		},
		{
			ID:             "CVE-2024-2961",
			Aliases:        []string{"DEBIAN-CVE-2024-2961", "DSA-5673-1"},
			Advisories:     []string{"DEBIAN-CVE-2024-2961", "DSA-5673-1"},
			Severity:       inventory.SeverityHigh,
			SeveritySource: "cvss_v3",
			CVSS:           []inventory.CVSS{{Version: "3.1", Vector: cvss31CVE20242961, Score: 7.8, Source: "CVE-2024-2961"}},
			FixedVersion:   "2.36-9+deb12u8",
			Status:         inventory.StatusFixed,
			MatchedRange:   "< 2.36-9+deb12u8",
			Title:          "glibc: Out of bounds write in iconv ISO-2022-CN-EXT character set conversion may lead to remote code execution",
			References:     []string{"https://www.openwall.com/lists/oss-security/2024/04/17/9"},
			Published:      "2024-04-17T18:15:15Z",
			Modified:       "2024-07-22T18:15:03Z",
			Package:        libc, Location: libcAt,
		},
	}

	deleted := 2
	inv.Secrets = []inventory.Secret{
		{
			RuleID: "github-pat", Category: "GitHub", Title: "GitHub Personal Access Token",
			Severity: inventory.SeverityHigh, Path: "/root/.git-credentials", Line: 1,
			Match: ghTokenMasked, Fingerprint: "sha256:8c2a4e6f1b3d5a79",
			LayerDiffID: diffID1, LayerIndex: 1, CreatedBy: createdBy1, DeletedInLayer: &deleted,
		},
		{
			RuleID: "aws-access-key-id", Category: "AWS", Title: "AWS Access Key ID",
			Severity: inventory.SeverityCritical, Path: "/app/.env", Line: 3,
			Match: awsKeyMasked, Fingerprint: "sha256:1f0e3dad99908345",
			LayerDiffID: diffID1, LayerIndex: 1, CreatedBy: createdBy1,
		},
	}

	inLayer := func(f misconfig.Finding, i int, diffID, createdBy string) misconfig.Finding {
		f.LayerIndex, f.LayerDiffID, f.CreatedBy = misconfig.Layer(i), diffID, createdBy
		return f
	}
	k8s := misconfig.New("BH-K8S-001").At("/app/deploy/web.yaml", 21)
	k8s.Resource = "Deployment/web container/app"
	k8s.Message = "container app sets privileged: true"
	df := misconfig.New("BH-DF-001").At("/app/Dockerfile", 12)
	df.Message = "the last USER instruction (line 12) sets root"
	df.Resource = "stage final"
	user := misconfig.New("BH-IMG-001")
	user.Message = "the image config sets no User: containers run as root"
	user.CreatedBy = "USER root"
	setuid := misconfig.New("BH-IMG-002").At("/usr/bin/passwd", 0)
	setuid.Message = "/usr/bin/passwd is setuid root (mode 4755)"
	// Deliberately not sorted either.
	inv.Misconfigurations = []misconfig.Finding{
		inLayer(setuid, 0, diffID0, createdBy0),
		inLayer(df, 1, diffID1, createdBy1),
		user,
		inLayer(k8s, 1, diffID1, createdBy1),
	}
	return inv
}

// cleanImage is debianImage after vulnerability and secret scans that
// found nothing: empty, not nil.
func cleanImage() *inventory.Inventory {
	inv := debianImage()
	inv.Warnings = nil
	inv.Vulnerabilities = []inventory.Vulnerability{}
	inv.Secrets = []inventory.Secret{}
	inv.Misconfigurations = []misconfig.Finding{}
	return inv
}

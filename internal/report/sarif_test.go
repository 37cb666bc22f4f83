package report

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

func decodeSARIF(t *testing.T, data []byte) *sarif.Report {
	t.Helper()
	r, err := sarif.FromBytes(data)
	if err != nil {
		t.Fatalf("decode SARIF: %v", err)
	}
	if r.Version != "2.1.0" || r.Schema == "" || len(r.Runs) != 1 {
		t.Fatalf("version %q schema %q, %d runs; want 2.1.0 with a schema and one run", r.Version, r.Schema, len(r.Runs))
	}
	run := r.Runs[0]
	if d := run.Tool.Driver; d == nil || d.Name != "bulkhead" || d.Version == nil || *d.Version != "1.2.3-test" {
		t.Fatalf("driver = %+v, want bulkhead 1.2.3-test", d)
	}
	// Every result names a rule by id and by index, consistently.
	for i, res := range run.Results {
		if res.RuleID == nil || res.RuleIndex == nil || int(*res.RuleIndex) >= len(run.Tool.Driver.Rules) ||
			run.Tool.Driver.Rules[*res.RuleIndex].ID != *res.RuleID {
			t.Errorf("result %d: ruleId/ruleIndex do not match a rule", i)
		}
	}
	return r
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func TestSARIFFindings(t *testing.T) {
	run := decodeSARIF(t, write(t, FormatSARIF, vulnerableImage())).Runs[0]

	type ruleSummary struct {
		ID, Short, Level, SecuritySeverity string
		Tags                               []any
	}
	var rules []ruleSummary
	for _, r := range run.Tool.Driver.Rules {
		s := ruleSummary{ID: r.ID, Short: str(r.ShortDescription.Text), Level: r.DefaultConfiguration.Level}
		if v, ok := r.Properties["security-severity"]; ok {
			s.SecuritySeverity = v.(string)
		}
		s.Tags, _ = r.Properties["tags"].([]any)
		rules = append(rules, s)
		if r.Help == nil || r.Help.Text == nil {
			t.Errorf("rule %s lacks help", r.ID)
		}
		if !strings.HasPrefix(r.ID, sarifSecretRule) && !strings.HasPrefix(r.ID, "BH-") && str(r.HelpURI) != "https://nvd.nist.gov/vuln/detail/"+r.ID {
			t.Errorf("rule %s: helpUri %s", r.ID, str(r.HelpURI))
		}
	}
	wantRules := []ruleSummary{
		{"CVE-2010-4756", "glibc: glob implementation can cause excessive CPU and memory consumption", "note", "", []any{"vulnerability", "security", "LOW"}},
		{"CVE-2023-45853", "MiniZip in zlib through 1.3 has an integer overflow and resultant heap-based buffer overflow in zipOpenNewFileInZip4_64", "note", "", []any{"vulnerability", "security", "UNKNOWN"}},
		{"CVE-2024-2961", "glibc: Out of bounds write in iconv ISO-2022-CN-EXT character set conversion may lead to remote code execution", "error", "7.8", []any{"vulnerability", "security", "HIGH"}},
		{"CVE-2024-4603", "openssl: Excessive time spent checking DSA keys and parameters", "warning", "5.3", []any{"vulnerability", "security", "MEDIUM"}},
		// The v3.1 score, not the v4.0 one (8.8): the severity comes from v3.
		{"CVE-2024-5535", "openssl: SSL_select_next_proto buffer overread", "error", "9.1", []any{"vulnerability", "security", "CRITICAL"}},
		{"secret/aws-access-key-id", "AWS Access Key ID", "error", "", []any{"secret", "security", "CRITICAL", "AWS"}},
		{"secret/github-pat", "GitHub Personal Access Token", "error", "", []any{"secret", "security", "HIGH", "GitHub"}},
		{"BH-DF-001", "Image runs as root", "error", "7.0", []any{"misconfiguration", "dockerfile"}},
		{"BH-IMG-001", "Image runs as root", "error", "7.0", []any{"misconfiguration", "image"}},
		{"BH-IMG-002", "setuid or setgid file", "note", "2.0", []any{"misconfiguration", "image"}},
		{"BH-K8S-001", "Privileged container", "error", "9.0", []any{"misconfiguration", "kubernetes"}},
	}
	if diff := cmp.Diff(wantRules, rules); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}

	type resultSummary struct {
		Rule, Level, Message, URI string
		Line                      int
		Layer, LayerName          string
		CreatedBy                 any
	}
	var results []resultSummary
	for _, r := range run.Results {
		if len(r.Locations) != 1 {
			t.Fatalf("result %s has %d locations, want 1", str(r.RuleID), len(r.Locations))
		}
		loc := r.Locations[0]
		pl := loc.PhysicalLocation
		s := resultSummary{
			Rule: str(r.RuleID), Level: str(r.Level), Message: str(r.Message.Text),
			URI: str(pl.ArtifactLocation.URI), CreatedBy: r.Properties["createdBy"],
		}
		if pl.Region != nil {
			s.Line = *pl.Region.StartLine
		}
		if len(loc.LogicalLocations) == 1 {
			s.Layer, s.LayerName = str(loc.LogicalLocations[0].FullyQualifiedName), str(loc.LogicalLocations[0].Name)
		}
		results = append(results, s)
	}
	wantResults := []resultSummary{
		{"CVE-2010-4756", "note", "Package libc6 2.36-9+deb12u7 is vulnerable to CVE-2010-4756; no fix yet", "var/lib/dpkg/status", 1, "layer 0", diffID0, createdBy0},
		{"CVE-2024-2961", "error", "Package libc6 2.36-9+deb12u7 is vulnerable to CVE-2024-2961; fixed in 2.36-9+deb12u8", "var/lib/dpkg/status", 1, "layer 0", diffID0, createdBy0},
		{"CVE-2024-4603", "warning", "Package libssl3 3.0.13-1~deb12u1 is vulnerable to CVE-2024-4603; fixed in 3.0.14-1~deb12u1", "var/lib/dpkg/status", 1, "layer 1", diffID1, createdBy1},
		{"CVE-2024-5535", "error", "Package libssl3 3.0.13-1~deb12u1 is vulnerable to CVE-2024-5535; fixed in 3.0.14-1~deb12u1", "var/lib/dpkg/status", 1, "layer 1", diffID1, createdBy1},
		{"CVE-2023-45853", "note", "Package zlib1g 1:1.2.13.dfsg-1 is vulnerable to CVE-2023-45853; fixed in 1:1.3.dfsg-3.1", "var/lib/dpkg/status", 1, "layer 0", diffID0, createdBy0},
		{"secret/aws-access-key-id", "error", "AWS Access Key ID (aws-access-key-id) in /app/.env:3: AKIA****", "app/.env", 3, "layer 1", diffID1, createdBy1},
		{"secret/github-pat", "error", "GitHub Personal Access Token (github-pat) in /root/.git-credentials:1: ghp_********; the file is deleted in layer 2 but still ships in layer 1",
			"root/.git-credentials", 1, "layer 1", diffID1, createdBy1},
		// Misconfigurations worst first; the image config's has no line
		// and no layer, and points at the image.
		{"BH-K8S-001", "error", "container app sets privileged: true", "app/deploy/web.yaml", 21, "layer 1", diffID1, createdBy1},
		{"BH-IMG-001", "error", "the image config sets no User: containers run as root", "index.docker.io/library/debian%3A12", 0, "", "", "USER root"},
		{"BH-DF-001", "error", "the last USER instruction (line 12) sets root", "app/Dockerfile", 12, "layer 1", diffID1, createdBy1},
		{"BH-IMG-002", "note", "/usr/bin/passwd is setuid root (mode 4755)", "usr/bin/passwd", 0, "layer 0", diffID0, createdBy0},
	}
	if diff := cmp.Diff(wantResults, results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if got := run.Results[6].Properties["deletedInLayer"]; got != 2.0 {
		t.Errorf("deletedInLayer = %v, want 2", got)
	}
	if run.Results[5].PartialFingerprints["secretFingerprint/v1"] != "sha256:1f0e3dad99908345" {
		t.Errorf("secret fingerprint = %v", run.Results[5].PartialFingerprints)
	}

	// Scan warnings are tool execution notifications.
	if len(run.Invocations) != 1 || len(run.Invocations[0].ToolExecutionNotifications) != 2 {
		t.Errorf("invocations = %+v, want one with the two warnings", run.Invocations)
	}
}

// One rule per vulnerability id, whatever the number of packages it is
// found on; the rule takes the worst severity and the highest score.
func TestSARIFRuleSharedByPackages(t *testing.T) {
	inv := vulnerableImage()
	v := inv.Vulnerabilities[4] // CVE-2024-2961 on libc6, HIGH 7.8
	v.Package.Name, v.Package.PURL = "libc-bin", "pkg:deb/debian/libc-bin@2.36-9%2Bdeb12u7?arch=amd64&distro=debian-12"
	v.Severity = inventory.SeverityCritical
	v.CVSS = []inventory.CVSS{{Version: "3.1", Vector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", Score: 9.8}}
	inv.Vulnerabilities = append(inv.Vulnerabilities, v)

	run := decodeSARIF(t, write(t, FormatSARIF, inv)).Runs[0]
	var n int
	for _, r := range run.Tool.Driver.Rules {
		if r.ID != "CVE-2024-2961" {
			continue
		}
		n++
		if r.Properties["security-severity"] != "9.8" || r.DefaultConfiguration.Level != "error" {
			t.Errorf("rule: security-severity %v, level %s; want 9.8, error", r.Properties["security-severity"], r.DefaultConfiguration.Level)
		}
		for _, want := range []string{"- libc-bin 2.36-9+deb12u7: upgrade to 2.36-9+deb12u8", "- libc6 2.36-9+deb12u7: upgrade to 2.36-9+deb12u8"} {
			if !strings.Contains(*r.Help.Text, want) {
				t.Errorf("help lacks %q:\n%s", want, *r.Help.Text)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d rules for CVE-2024-2961, want 1", n)
	}
	var results int
	for _, r := range run.Results {
		if *r.RuleID == "CVE-2024-2961" {
			results++
		}
	}
	if results != 2 {
		t.Errorf("%d results for CVE-2024-2961, want 2", results)
	}
}

// A scan without findings is a valid log with no results: GitHub closes
// the alerts of the previous upload.
func TestSARIFNoFindings(t *testing.T) {
	for _, inv := range []*inventory.Inventory{debianImage(), cleanImage(), emptyInventory()} {
		run := decodeSARIF(t, write(t, FormatSARIF, inv)).Runs[0]
		if run.Results == nil || len(run.Results) != 0 || run.Tool.Driver.Rules == nil || len(run.Tool.Driver.Rules) != 0 {
			t.Errorf("%s: results %v, rules %v; want both empty, not null", inv.Artifact.Name, run.Results, run.Tool.Driver.Rules)
		}
	}
}

func TestSARIFURI(t *testing.T) {
	for in, want := range map[string]string{
		"/var/lib/dpkg/status":           "var/lib/dpkg/status",
		"/app/node_modules/a b/pkg.json": "app/node_modules/a%20b/pkg.json",
		"config.Env:AWS_SECRET":          "config.Env%3AAWS_SECRET",
		"history[3]":                     "history%5B3%5D",
		"/opt/100%/x?y#z":                "opt/100%25/x%3Fy%23z",
		"/":                              "",
	} {
		if got := sarifURI(in); got != want {
			t.Errorf("sarifURI(%q) = %q, want %q", in, got, want)
		}
	}
	// A finding without a path points at the artifact.
	inv := vulnerableImage()
	inv.Secrets = inv.Secrets[:1]
	inv.Secrets[0].Path, inv.Secrets[0].Line = "", 0
	inv.Misconfigurations = nil // so that the secret's result is the last
	run := decodeSARIF(t, write(t, FormatSARIF, inv)).Runs[0]
	last := run.Results[len(run.Results)-1].Locations[0].PhysicalLocation
	if got := str(last.ArtifactLocation.URI); got != "index.docker.io/library/debian%3A12" || *last.Region.StartLine != 1 {
		t.Errorf("location without a path: uri %q line %d", got, *last.Region.StartLine)
	}
}

func TestSARIFLevel(t *testing.T) {
	for sev, want := range map[string]string{
		"CRITICAL": "error", "HIGH": "error", "MEDIUM": "warning", "moderate": "warning",
		"LOW": "note", "UNKNOWN": "note", "": "note", "bogus": "note",
	} {
		if got := sarifLevel(sev); got != want {
			t.Errorf("sarifLevel(%q) = %q, want %q", sev, got, want)
		}
	}
}

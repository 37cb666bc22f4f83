package report

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// Names come from the scanned image: they must not drive the terminal or
// break the columns.
func TestTableEscapesControlCharacters(t *testing.T) {
	inv := &inventory.Inventory{
		Artifact: inventory.Artifact{Type: inventory.ArtifactImage, Name: "evil\x1b]0;pwned\x07:latest"},
		Packages: []inventory.Package{{Name: "bad\x1b[2Jname", Version: "1.0\tx", Type: "deb", Licenses: []string{"MIT\nWARN fake"}}},
		Warnings: []inventory.Warning{{Message: "line1\nline2"}},
	}
	out := string(write(t, FormatTable, inv))
	if strings.ContainsAny(out, "\x1b\x07\t") {
		t.Errorf("control characters reach the terminal:\n%q", out)
	}
	for _, want := range []string{`"bad\x1b[2Jname"`, `"1.0\tx"`, `"MIT\nWARN fake"`, `WARN "line1\nline2"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\nWARN "); n != 1 {
		t.Errorf("%d WARN lines, want 1:\n%s", n, out)
	}
}

func TestTableVulnerabilities(t *testing.T) {
	out := string(write(t, FormatTable, vulnerableImage()))
	for _, want := range []string{
		"Packages: 7\n",
		"\nVulnerabilities: 5 (CRITICAL: 1, HIGH: 1, MEDIUM: 1, LOW: 1, UNKNOWN: 1)\n",
		"\nSecrets: 2 (CRITICAL: 1, HIGH: 1, MEDIUM: 0, LOW: 0, UNKNOWN: 0)\n",
		"  ID              SEVERITY  FIXED IN          TITLE\n",
		"  CVE-2010-4756   LOW       no fix yet        ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The inventory listing gives way to the findings.
	if strings.Contains(out, "LICENSE") || strings.Contains(out, "busybox") {
		t.Errorf("a vulnerability scan lists the packages:\n%s", out)
	}
	// Packages by worst finding, findings by severity then id.
	assertOrder(t, out,
		"libssl3 3.0.13-1~deb12u1 (layer 1 sha256:9c3f1e2d4b5a)\n", "CVE-2024-5535", "CVE-2024-4603",
		"libc6 2.36-9+deb12u7 (layer 0 sha256:2e1ab0c1aa4d)\n", "CVE-2024-2961", "CVE-2010-4756",
		"zlib1g 1:1.2.13.dfsg-1 (layer 0 sha256:2e1ab0c1aa4d)\n", "CVE-2023-45853",
		"aws-access-key-id", "github-pat")
	// A long title is cut, not wrapped: one line per finding.
	if !strings.Contains(out, "  CVE-2024-2961   HIGH      2.36-9+deb12u8    glibc: Out of bounds write in ico…\n") {
		t.Errorf("long title not cut to the terminal:\n%s", out)
	}
	// The secret in a deleted file says so, in its LAYER column.
	if !regexp.MustCompile(`(?m)^  github-pat .* 1, deleted +ghp_\*+\n +\.git-credentials:1 +in layer 2$`).MatchString(out) {
		t.Errorf("secret row does not say its file was deleted in layer 2:\n%s", out)
	}
}

// Two findings on the same package at two paths (two copies of a
// library) are two groups, told apart by their paths.
func TestTableSamePackageTwoPaths(t *testing.T) {
	inv := vulnerableImage()
	v := inv.Vulnerabilities[1] // CVE-2024-5535 on libssl3
	v.Location.Path = "/opt/status"
	inv.Vulnerabilities = append(inv.Vulnerabilities, v)
	out := string(write(t, FormatTable, inv))
	for _, want := range []string{
		"libssl3 3.0.13-1~deb12u1 (/opt/status, layer 1 sha256:9c3f1e2d4b5a)\n",
		"libssl3 3.0.13-1~deb12u1 (/var/lib/dpkg/status, layer 1 sha256:9c3f1e2d4b5a)\n",
		"zlib1g 1:1.2.13.dfsg-1 (layer 0 sha256:2e1ab0c1aa4d)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Every line of a vulnerability or misconfiguration scan's table fits an 80-column terminal,
// however long the names in the image and the advisories are.
func TestTableFits80Columns(t *testing.T) {
	cases := map[string]*inventory.Inventory{"hostile": hostileFindings(), "hostile misconfig only": hostileMisconfigOnly()}
	for _, tc := range goldenCases {
		if inv := tc.inv(); inv.Vulnerabilities != nil || inv.Misconfigurations != nil {
			cases[tc.name] = inv
		}
	}
	for name, inv := range cases {
		t.Run(name, func(t *testing.T) {
			out := string(write(t, FormatTable, inv))
			for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if w := textWidth(line); w > tableWidth {
					t.Errorf("line %d is %d columns wide:\n%s", i+1, w, line)
				}
				if strings.HasSuffix(line, " ") {
					t.Errorf("line %d ends in a blank: %q", i+1, line)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

// hostileFindings has every value a table cell can hold at its longest:
// a digest-pinned reference, long ids, versions and paths, East Asian
// wide characters, and control characters.
func hostileFindings() *inventory.Inventory {
	inv := vulnerableImage()
	inv.Artifact.Name = "registry.internal.example.com:5000/platform-team/payments/settlement-service@sha256:45f2e735295654f13e3be10da2a6892c708f71a71be845818f6058982761a6d3"
	inv.OS.Name = "Debian GNU/Linux 12 (bookworm) with a very long pretty name that goes on and on"
	long := inventory.Vulnerability{
		ID:           "openSUSE-SU-2024:14082-1-and-some-more",
		Severity:     "moderate",
		FixedVersion: "2:4.17.4+dfsg1-0ubuntu1~22.04.1+esm1+really4.17.4",
		Status:       inventory.StatusFixed,
		Title:        "配置文件解析器中的缓冲区溢出可能导致远程代码执行，影响所有版本",
		Package: inventory.VulnPackage{
			Name: "python3-some-extraordinarily-long-package-name-for-testing", Version: "1:3.11.2-6+deb12u2+really3.11.2-6+deb12u1",
			Type: "deb", PURL: "pkg:deb/debian/python3-some",
		},
		Location: inventory.Location{Path: "/usr/lib/python3/dist-packages/very/deeply/nested/site/METADATA", LayerIndex: 12, LayerDiffID: diffID1},
	}
	ctl := long
	ctl.ID = "GHSA-\x1b[2J-xxxx"
	ctl.Title = "line1\nline2\tand a \x1b]0;title\x07 sequence"
	inv.Vulnerabilities = append(inv.Vulnerabilities, long, ctl)
	inv.Secrets = append(inv.Secrets, inventory.Secret{
		RuleID: "hashicorp-terraform-cloud-api-token-long", Severity: "CRITICAL",
		Path: "/home/appuser/.config/some-tool/profiles/production/credentials.d/ファイル名.json",
		Line: 12345, Match: "abcd" + strings.Repeat("*", 40), LayerIndex: 11, DeletedInLayer: new(int),
	})
	inv.Warnings = append(inv.Warnings, inventory.Warning{Message: strings.Repeat("x", 200)})
	inv.Misconfigurations = append(inv.Misconfigurations, hostileMisconfigs()...)
	return inv
}

// hostileMisconfigs are misconfigurations at their longest: deep paths,
// long resources, messages and titles, wide characters, control
// characters, a line number in the millions and a layer in the hundreds.
func hostileMisconfigs() []misconfig.Finding {
	long := misconfig.New("BH-K8S-010").At("/srv/charts/platform-team/payments/templates/settlement-service/deployment-with-a-very-long-name.yaml", 1234567)
	long.Resource = "Deployment/settlement-service-with-an-extraordinarily-long-name container/sidecar-proxy-injected-by-the-mesh"
	long.Message = "container sidecar-proxy-injected-by-the-mesh adds capabilities NET_ADMIN, NET_RAW, SYS_PTRACE, SYS_MODULE and does not drop ALL; " + strings.Repeat("x", 120)
	long.LayerIndex, long.LayerDiffID = misconfig.Layer(123), diffID1
	wide := misconfig.New("BH-DF-014").At("/アプリ/設定/Dockerfile.本番環境用の非常に長いファイル名", 42)
	wide.Title = "配置文件解析器中的缓冲区溢出可能导致远程代码执行，影响所有版本"
	wide.Message = "ENV 本番環境の秘密のトークン=… が イメージに 焼き込まれています" + strings.Repeat("長", 60)
	ctl := misconfig.New("BH-IMG-008")
	ctl.ID = "BH-IMG-\x1b[2J-008-and-some-more-text"
	ctl.Message = "line1\nline2\tand a \x1b]0;title\x07 sequence "
	ctl.Resource = "config.Env"
	return []misconfig.Finding{long, wide, ctl}
}

// hostileMisconfigOnly is a scan fs - of a manifest: no packages, no
// vulnerability or secret scan, only misconfigurations.
func hostileMisconfigOnly() *inventory.Inventory {
	return &inventory.Inventory{
		Artifact:          inventory.Artifact{Type: inventory.ArtifactFilesystem, Name: "-"},
		Misconfigurations: hostileMisconfigs(),
	}
}

func TestTableEscapesControlCharactersInFindings(t *testing.T) {
	inv := vulnerableImage()
	inv.Vulnerabilities[0].Title = "bad\x1b[31mred"
	inv.Vulnerabilities[0].Package.Name = "pkg\nWARN fake"
	inv.Secrets[0].Path = "/a\tb"
	inv.Secrets[1].Match = "AK\x1b[2J"
	out := string(write(t, FormatTable, inv))
	if strings.ContainsAny(out, "\x1b\x07\t") {
		t.Errorf("control characters reach the terminal:\n%q", out)
	}
	for _, want := range []string{`"bad\x1b[31mred"`, `"pkg\nWARN fake"`, `"/a\tb"`, `"AK\x1b[2J"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
}

func TestCutLine(t *testing.T) {
	tests := []struct {
		s    string
		w    int
		want []string
	}{
		{"short", 10, []string{"short"}},
		{"exactly10!", 10, []string{"exactly10!"}},
		{"two words here", 9, []string{"two words", "here"}},
		{"aaaa bbbb", 4, []string{"aaaa", "bbbb"}},
		{"/root/.git-credentials:1", 23, []string{"/root/", ".git-credentials:1"}},
		{"CVE-2024-123456789", 10, []string{"CVE-2024-", "123456789"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"1, deleted in layer 2", 10, []string{"1, deleted", "in layer 2"}},
		{"漢字漢字漢字", 5, []string{"漢字", "漢字", "漢字"}},
		{"漢", 1, []string{"漢"}}, // a rune wider than the column still moves on
	}
	for _, tc := range tests {
		got := wrapWidth(tc.s, tc.w)
		if !slices.Equal(got, tc.want) {
			t.Errorf("wrapWidth(%q, %d) = %q, want %q", tc.s, tc.w, got, tc.want)
		}
	}
}

func TestTruncateWidth(t *testing.T) {
	for _, tc := range []struct {
		s    string
		w    int
		want string
	}{
		{"short", 10, "short"},
		{"a longer title", 8, "a longe…"},
		{"漢字漢字", 5, "漢字…"},
	} {
		if got := truncateWidth(tc.s, tc.w); got != tc.want || textWidth(got) > tc.w {
			t.Errorf("truncateWidth(%q, %d) = %q, want %q", tc.s, tc.w, got, tc.want)
		}
	}
}

// assertOrder checks that the strings occur in out in this order.
func assertOrder(t *testing.T, out string, in ...string) {
	t.Helper()
	at := 0
	for _, s := range in {
		i := strings.Index(out[at:], s)
		if i < 0 {
			t.Errorf("%q missing or out of order (after byte %d):\n%s", s, at, out)
			return
		}
		at += i + len(s)
	}
}

package policy

import (
	"errors"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const header = "apiVersion: bulkhead.dev/v1\nkind: Policy\nmetadata:\n  name: test\nrules:\n"

func mustParse(t testing.TB, rules string) *Policy {
	t.Helper()
	p, err := Parse("policy.yaml", []byte(header+rules))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// summary is what a verdict says in short: each reason as
// "action rule: fix [ids]".
func summary(v *Verdict) []string {
	var out []string
	for _, rs := range [][]Reason{v.Reasons, v.Warnings} {
		for _, r := range rs {
			var ids []string
			for _, f := range r.Findings {
				ids = append(ids, f.ID)
			}
			out = append(out, string(r.Action)+" "+r.Rule+": "+r.Fix+" ["+strings.Join(ids, " ")+"]")
		}
	}
	return out
}

func TestRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rules   string
		ignore  string
		mutate  func(*Input)
		blocked bool
		want    []string
	}{
		{
			name:    "vulnerabilities by severity: grouped by the upgrade that fixes them, highest fixed version",
			rules:   "  - name: high\n    action: block\n    vulnerabilities:\n      minSeverity: HIGH\n      fixable: true\n",
			blocked: true,
			want:    []string{"block high: upgrade openssl 3.0.11-1~deb12u2 → 3.0.15-1~deb12u1 (fixes 3) [CVE-2024-5535 CVE-2024-4741 CVE-2024-6119]"},
		},
		{
			name:    "fix age: only fixes published more than 30 days ago",
			rules:   "  - name: stale\n    action: block\n    vulnerabilities:\n      minSeverity: HIGH\n      fixOlderThanDays: 30\n",
			blocked: true,
			want:    []string{"block stale: upgrade openssl 3.0.11-1~deb12u2 → 3.0.15-1~deb12u1 (fixes 2) [CVE-2024-5535 CVE-2024-6119]"},
		},
		{
			name:  "warn only: not blocked",
			rules: "  - name: unfixed\n    action: warn\n    vulnerabilities:\n      fixable: false\n",
			want:  []string{"warn unfixed: no fix yet for ncurses 6.4-4 (1 vulnerability): replace or remove the package, or accept the risk in .bulkheadignore.yaml [CVE-2023-50495]"},
		},
		{
			name:    "CVSS minimum and exact severities",
			rules:   "  - name: cvss\n    action: block\n    vulnerabilities:\n      minCVSS: 7.2\n      severity: [HIGH]\n",
			blocked: true,
			want:    []string{"block cvss: upgrade openssl 3.0.11-1~deb12u2 → 3.0.15-1~deb12u1 (fixes 1) [CVE-2024-6119]"},
		},
		{
			name:    "ids always, exceptIds never; an alias counts",
			rules:   "  - name: ids\n    action: block\n    vulnerabilities:\n      minSeverity: CRITICAL\n      ids: [cve-2023-50495]\n      exceptIds: [DSA-5678-1]\n",
			blocked: true,
			want:    []string{"block ids: no fix yet for ncurses 6.4-4 (1 vulnerability): replace or remove the package, or accept the risk in .bulkheadignore.yaml [CVE-2023-50495]"},
		},
		{
			name:  "pass: nothing matches",
			rules: "  - name: none\n    action: block\n    vulnerabilities:\n      ids: [CVE-1999-0001]\n",
		},
		{
			name:    "any secret: rotate and remove, with the layer",
			rules:   "  - name: secrets\n    action: block\n    secrets: {}\n",
			blocked: true,
			want:    []string{"block secrets: rotate and remove the AWS access key in /app/.env (added in layer 2) [aws-access-key-id]"},
		},
		{
			name:   "secret suppressed by fingerprint",
			rules:  "  - name: secrets\n    action: block\n    secrets:\n",
			ignore: "ignores:\n  - id: f00dfeed\n    reason: test key, revoked\n    expires: 2027-01-01\n",
		},
		{
			name:    "expired exception stops applying and is reported",
			rules:   "  - name: secrets\n    action: block\n    secrets:\n",
			ignore:  "ignores:\n  - id: aws-access-key-id\n    path: /app/*\n    reason: test key\n    expires: 2026-11-27\n    owner: alice\n",
			blocked: true,
			want: []string{
				"block secrets: rotate and remove the AWS access key in /app/.env (added in layer 2) [aws-access-key-id]",
				"warn exceptions: renew (new expires date) or remove the expired exceptions; they no longer apply [aws-access-key-id]",
			},
		},
		{
			name:   "exception scoped to a package, by alias; the last day still applies",
			rules:  "  - name: crit\n    action: block\n    vulnerabilities:\n      minSeverity: CRITICAL\n",
			ignore: "ignores:\n  - id: DSA-5678-1\n    package: openssl\n    reason: no TLS server\n    expires: 2026-11-28\n",
		},
		{
			name:    "exception for another package does not apply",
			rules:   "  - name: crit\n    action: block\n    vulnerabilities:\n      minSeverity: CRITICAL\n",
			ignore:  "ignores:\n  - id: CVE-2024-5535\n    package: libssl*\n    reason: x\n    expires: 2027-01-01\n",
			blocked: true,
			want:    []string{"block crit: upgrade openssl 3.0.11-1~deb12u2 → 3.0.14-1~deb12u1 (fixes 1) [CVE-2024-5535]"},
		},
		{
			name:    "misconfig by id glob, with file:line",
			rules:   "  - name: df\n    action: block\n    misconfig:\n      ids: [BH-DF-*]\n",
			blocked: true,
			want:    []string{"block df: Dockerfile:1: FROM debian:12@sha256:<digest> [BH-DF-002]"},
		},
		{
			name:  "misconfig by severity: below the minimum passes",
			rules: "  - name: df\n    action: block\n    misconfig:\n      minSeverity: HIGH\n",
		},
		{
			name:    "licences: AND blocks on any part, OR only when every alternative is denied",
			rules:   "  - name: lic\n    action: block\n    licenses:\n      deny: [GPL-3.0-*, GPL-2.0-only]\n",
			blocked: true,
			want:    []string{"block lic: replace readline 8.2-1.3: licence GPL-3.0-or-later is denied [GPL-3.0-or-later]"},
		},
		{
			name:    "malware: any",
			rules:   "  - name: mw\n    action: block\n    malware: {}\n",
			mutate:  func(in *Input) { in.Inventory.Malware = append(in.Inventory.Malware, malwareFinding()) },
			blocked: true,
			want:    []string{"block mw: remove /usr/bin/x (added in layer 2) and find out how malware Eicar-Signature got into the build [Eicar-Signature]"},
		},
		{
			name:  "sources: the image and FROM lines against allowed globs",
			rules: "  - name: src\n    action: block\n    sources:\n      allowed: [\"registry.example.com/**\", \"docker.io/library/*\"]\n",
			mutate: func(in *Input) {
				in.Froms = []From{{Image: "debian:12", Path: "Dockerfile", Line: 1}, {Image: "quay.io/evil/img:1", Path: "Dockerfile", Line: 5}}
			},
			blocked: true,
			want:    []string{"block src: use an image from an allowed source (registry.example.com/**, docker.io/library/*) instead of quay.io/evil/img [quay.io/evil/img:1]"},
		},
		{
			name:  "sources: a FROM chosen by a build ARG without default cannot be checked: a warning, not a pass",
			rules: "  - name: src\n    action: block\n    sources:\n      allowed: [\"registry.example.com/**\"]\n",
			mutate: func(in *Input) {
				in.Froms = []From{{Image: "$BASE", Path: "Dockerfile", Line: 2, Unresolved: true}}
			},
			blocked: false,
			want:    []string{"warn src: give the ARG a default from an allowed source (ARG BASE=registry.example.com/base:1), so the policy can check it [unresolved-from]"},
		},
		{
			name:  "sources: require digest",
			rules: "  - name: pin\n    action: warn\n    sources:\n      requireDigest: true\n",
			mutate: func(in *Input) {
				in.Froms = []From{{Image: "debian:12@sha256:" + strings.Repeat("a", 64), Path: "Dockerfile", Line: 1}}
			},
			blocked: false,
			want:    []string{"warn pin: pin registry.example.com/team/app:1.0 by digest: registry.example.com/team/app:1.0@sha256:<digest> [registry.example.com/team/app:1.0]"},
		},
		{
			name:    "image: labels, root user, age",
			rules:   "  - name: img\n    action: block\n    image:\n      requiredLabels: [org.opencontainers.image.source, owner]\n      nonRoot: true\n      maxAgeDays: 300\n",
			mutate:  func(in *Input) { in.Inventory.Artifact.User = "root" },
			blocked: true,
			want: []string{
				"block img: rebuild the image (built 2026-01-01, 331 days ago; limit 300 days) [max-age]",
				"block img: add the missing labels to the Dockerfile: LABEL owner=… [label:owner]",
				"block img: add USER with a non-root uid (USER 10001) to the Dockerfile [non-root]",
			},
		},
		{
			name:    "cel custom rule",
			rules:   "  - name: openssl\n    action: block\n    cel: vulnerabilities.exists(v, v.package.name == \"openssl\" && v.severity == \"CRITICAL\")\n    message: no critical openssl\n",
			blocked: true,
			want:    []string{"block openssl: no critical openssl [openssl]"},
		},
		{
			name:   "cel sees the report after exceptions",
			rules:  "  - name: openssl\n    action: block\n    cel: vulnerabilities.exists(v, v.package.name == \"openssl\" && v.severity == \"CRITICAL\")\n",
			ignore: "ignores:\n  - id: CVE-2024-5535\n    reason: x\n    expires: 2027-01-01\n",
		},
		{
			name:    "cel rule that fails at runtime is a finding, not a pass",
			rules:   "  - name: bad\n    action: block\n    cel: vulnerabilities.exists(v, int(v.package.version) > 1)\n",
			blocked: true,
			want:    []string{"block bad: fix custom rule bad: it could not be evaluated on this report [bad]"},
		},
		{
			name:  "origin: app-only rule ignores base findings",
			rules: "  - name: app\n    action: block\n    origin: app\n    vulnerabilities: {}\n",
			mutate: func(in *Input) {
				in.Origin = func(i int) string { return map[bool]string{true: "base", false: "app"}[i < 2] }
			},
			blocked: false,
		},
		{
			name:    "approved base: drift names the nearest base",
			rules:   "  - name: base\n    action: block\n    approvedBase:\n      file: bases.yaml\n",
			mutate:  func(in *Input) { in.Base = &BaseCheck{Nearest: "debian-12", MatchedLayers: 1, DifferingLayers: 1} },
			blocked: true,
			want:    []string{"block base: rebuild on an approved base (nearest: debian-12, 1 layers match, 1 differ) [approved-base]"},
		},
		{
			name:   "approved base: on an approved base passes",
			rules:  "  - name: base\n    action: block\n    approvedBase:\n      images: [registry.example.com/base/debian:12]\n",
			mutate: func(in *Input) { in.Base = &BaseCheck{Approved: true, Base: "debian-12", MatchedLayers: 2} },
		},
		{
			name:  "approved base: a check that did not run is not a pass",
			rules: "  - name: base\n    action: warn\n    approvedBase:\n      file: bases.yaml\n",
			want:  []string{"warn base: make the approved bases readable (bulkhead policy baseline REF -o FILE) [approved-base]"},
		},
		{
			name:    "block wins over warn; both rule names kept",
			rules:   "  - name: w\n    action: warn\n    vulnerabilities: {minSeverity: CRITICAL}\n  - name: b\n    action: block\n    vulnerabilities: {ids: [CVE-2024-5535]}\n  - name: b2\n    action: block\n    vulnerabilities: {minCVSS: 9}\n",
			blocked: true,
			want:    []string{"block b, b2: upgrade openssl 3.0.11-1~deb12u2 → 3.0.14-1~deb12u1 (fixes 1) [CVE-2024-5535]"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, tc.rules)
			in := Input{Inventory: testInventory(), Now: now}
			if tc.ignore != "" {
				ex, err := ParseIgnore(".bulkheadignore.yaml", []byte(tc.ignore))
				if err != nil {
					t.Fatal(err)
				}
				in.Exceptions = ex
			}
			if tc.mutate != nil {
				tc.mutate(&in)
			}
			v := Evaluate(p, in)
			if v.Blocked != tc.blocked {
				t.Errorf("blocked = %v, want %v", v.Blocked, tc.blocked)
			}
			if diff := cmp.Diff(tc.want, summary(v)); diff != "" {
				t.Errorf("reasons (-want +got):\n%s", diff)
			}
			if tc.ignore != "" && !v.Blocked && v.Counts.Suppressed == 0 {
				t.Errorf("nothing suppressed: %+v", v.Counts)
			}
		})
	}
}

func TestCounts(t *testing.T) {
	p := mustParse(t, "  - name: crit\n    action: block\n    vulnerabilities: {minSeverity: CRITICAL}\n  - name: med\n    action: warn\n    vulnerabilities: {minSeverity: MEDIUM, fixable: false}\n")
	ex, _ := ParseIgnore("i.yaml", []byte("ignores:\n  - id: CVE-2024-6119\n    reason: r\n    expires: 2027-01-01\n"))
	v := Evaluate(p, Input{Inventory: testInventory(), Now: now, Exceptions: ex})
	want := Counts{Findings: 7, Blocked: 1, Warned: 1, Allowed: 4, Suppressed: 1}
	if v.Counts != want {
		t.Errorf("counts = %+v, want %+v", v.Counts, want)
	}
	if len(v.Suppressed) != 1 || v.Suppressed[0].By != "i.yaml:2" || v.Suppressed[0].Finding.ID != "CVE-2024-6119" {
		t.Errorf("suppressed = %+v", v.Suppressed)
	}
}

type fakeBaseline struct{ ids map[string]bool }

func (b fakeBaseline) HasVuln(v *inventory.Vulnerability) bool { return b.ids[v.ID] }
func (fakeBaseline) HasSecret(*inventory.Secret) bool          { return false }
func (fakeBaseline) HasMisconfig(*misconfig.Finding) bool      { return false }
func (fakeBaseline) HasMalware(*inventory.Malware) bool        { return false }

type fakeVEX struct{}

func (fakeVEX) NotAffected(v *inventory.Vulnerability) (string, string, bool) {
	return "vex.json", "not_affected: vulnerable_code_not_in_execute_path", v.ID == "CVE-2024-5535"
}

func TestBaselineAndVEX(t *testing.T) {
	p := mustParse(t, "  - name: high\n    action: block\n    vulnerabilities: {minSeverity: HIGH}\n")
	v := Evaluate(p, Input{Inventory: testInventory(), Now: now, VEX: fakeVEX{},
		Baseline: fakeBaseline{ids: map[string]bool{"CVE-2024-6119": true}}})
	if diff := cmp.Diff([]string{"block high: upgrade openssl 3.0.11-1~deb12u2 → 3.0.9-1~deb12u1 (fixes 1) [CVE-2024-4741]"}, summary(v)); diff != "" {
		t.Error(diff)
	}
	if v.Counts.Preexisting != 1 || v.Preexisting[0].ID != "CVE-2024-6119" {
		t.Errorf("preexisting = %+v", v.Preexisting)
	}
	if len(v.Suppressed) != 1 || v.Suppressed[0].By != "vex: vex.json" {
		t.Errorf("suppressed = %+v", v.Suppressed)
	}
}

func TestInvalidPolicy(t *testing.T) {
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"wrong apiVersion", "apiVersion: bulkhead.dev/v2\nkind: Policy\n", `p.yaml:1:13: "bulkhead.dev/v2" is not supported: want "bulkhead.dev/v1"`},
		{"wrong kind", "apiVersion: bulkhead.dev/v1\nkind: Pol\n", `p.yaml:2:7: "Pol" is not supported: want "Policy"`},
		{"unknown top field", header + "  - name: a\n    action: block\n    secrets: {}\nrulez: []\n", `p.yaml:9:1: unknown field "rulez" in policy`},
		{"unknown rule field", header + "  - name: a\n    action: block\n    secret: {}\n", `p.yaml:8:5: unknown field "secret" in rule`},
		{"unknown vuln field", header + "  - name: a\n    action: block\n    vulnerabilities:\n      severty: HIGH\n", `p.yaml:9:7: unknown field "severty" in vulnerabilities`},
		{"bad severity", header + "  - name: a\n    action: block\n    vulnerabilities:\n      minSeverity: SEVERE\n", `p.yaml:9:20: severity "SEVERE": use CRITICAL, HIGH, MEDIUM or LOW`},
		{"bad severity in list", header + "  - name: a\n    action: block\n    vulnerabilities:\n      severity: [HIGH, BAD]\n", `p.yaml:9:24: severity "BAD"`},
		{"bad action", header + "  - name: a\n    action: deny\n    secrets: {}\n", `p.yaml:7:13: action "deny": use block or warn`},
		{"bad cel", header + "  - name: a\n    action: block\n    cel: vulnerabilities.exists(v, v.severity ==)\n", `p.yaml:8:49: cel: Syntax error: mismatched input ')'`},
		{"cel unknown field", header + "  - name: a\n    action: block\n    cel: packages.exists(p, p.nosuchfield == 1)\n", `p.yaml:8:30: cel: undefined field 'nosuchfield'`},
		{"cel unknown field, quoted", header + "  - name: a\n    action: block\n    cel: \"packages.exists(p, p.nosuchfield == 1)\"\n", `p.yaml:8:31: cel: undefined field 'nosuchfield'`},
		{"cel unknown field, block", header + "  - name: a\n    action: block\n    cel: |\n      packages.exists(p,\n        p.nosuchfield == 1)\n", `p.yaml:10:1: cel: undefined field 'nosuchfield'`},
		{"cel not bool", header + "  - name: a\n    action: block\n    cel: size(packages)\n", `p.yaml:8:10: cel: the expression is a int`},
		{"cel unknown variable", header + "  - name: a\n    action: block\n    cel: images.exists(i, true)\n", `undeclared reference to 'images'`},
		{"two kinds", header + "  - name: a\n    action: block\n    secrets: {}\n    malware: {}\n", `p.yaml:9:5: a rule has exactly one kind; "malware" comes after another`},
		{"no kind", header + "  - name: a\n    action: block\n", `p.yaml:6:5: rule "a" has no kind`},
		{"no action", header + "  - name: a\n    secrets: {}\n", `p.yaml:6:5: rule "a" has no action`},
		{"duplicate name", header + "  - name: a\n    action: block\n    secrets: {}\n  - name: a\n    action: warn\n    malware: {}\n", `p.yaml:9:5: rule name "a" is already used at line 6`},
		{"no rules", "apiVersion: bulkhead.dev/v1\nkind: Policy\nmetadata: {name: x}\n", "rules is missing"},
		{"empty rules", "apiVersion: bulkhead.dev/v1\nkind: Policy\nmetadata: {name: x}\nrules: []\n", "p.yaml:4:8: rules is empty"},
		{"no name", "apiVersion: bulkhead.dev/v1\nkind: Policy\nrules: []\n", "metadata.name is missing"},
		{"bad yaml", "apiVersion: bulkhead.dev/v1\nkind: [\n", "p.yaml:2:1: not valid YAML: did not find expected node content"},
		{"fixable not bool", header + "  - name: a\n    action: block\n    vulnerabilities:\n      fixable: yes please\n", `p.yaml:9:16: want true or false`},
		{"bad days", header + "  - name: a\n    action: block\n    vulnerabilities:\n      fixOlderThanDays: -3\n", `p.yaml:9:25: want a whole number of days`},
		{"bad cvss", header + "  - name: a\n    action: block\n    vulnerabilities:\n      minCVSS: 11\n", `p.yaml:9:16: minCVSS "11"`},
		{"cvss NaN", header + "  - name: a\n    action: block\n    vulnerabilities:\n      minCVSS: .nan\n", `p.yaml:9:16: minCVSS ".nan"`},
		{"cvss NaN spelled out", header + "  - name: a\n    action: block\n    vulnerabilities:\n      minCVSS: NaN\n", `p.yaml:9:16: minCVSS "NaN"`},
		{"empty severity list", header + "  - name: a\n    action: block\n    vulnerabilities:\n      severity: []\n", `p.yaml:9:17: severity: an empty list matches nothing`},
		{"empty ids list", header + "  - name: a\n    action: block\n    vulnerabilities:\n      ids: []\n", `p.yaml:9:12: an empty list of ids matches nothing`},
		{"empty sources", header + "  - name: a\n    action: block\n    sources: {}\n", `p.yaml:8:14: sources needs allowed patterns`},
		{"alias", header + "  - &r\n    name: a\n    action: block\n    secrets: {}\n  - *r\n", `YAML aliases are not allowed here`},
		{"duplicate key", header + "  - name: a\n    name: b\n    action: block\n    secrets: {}\n", `p.yaml:7:5: "name" appears twice`},
		{"approvedBase without bases", header + "  - name: a\n    action: block\n    approvedBase: {}\n", `p.yaml:8:19: approvedBase needs a file`},
		{"message on a non-cel rule", header + "  - name: a\n    action: block\n    message: x\n    secrets: {}\n", `message is for cel rules`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(tc.doc))
			if err == nil {
				t.Fatalf("no error; policy %+v", p)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error\n  %v\nwant it to contain\n  %s", err, tc.want)
			}
		})
	}
}

func TestInvalidIgnore(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"no expires", "ignores:\n  - id: CVE-1\n    reason: x\n", "i.yaml:2:5: ignore entry CVE-1 has no expires date"},
		{"bad date", "ignores:\n  - id: CVE-1\n    reason: x\n    expires: 31/12/2026\n", `i.yaml:4:14: expires "31/12/2026": want a date YYYY-MM-DD`},
		{"no reason", "ignores:\n  - id: CVE-1\n    expires: 2026-01-01\n", "has no reason"},
		{"no id", "ignores:\n  - reason: x\n    expires: 2026-01-01\n", "i.yaml:2:5: ignore entry has no id"},
		{"unknown field", "ignores:\n  - id: CVE-1\n    reason: x\n    expires: 2026-01-01\n    until: 2027-01-01\n", `i.yaml:5:5: unknown field "until"`},
		{"top", "ignore:\n  - id: x\n", `i.yaml:1:1: unknown field "ignore" in ignore file`},
		{"not a list", "ignores: CVE-1\n", "i.yaml:1:10: ignores must be a list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseIgnore("i.yaml", []byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestStarterPolicy(t *testing.T) {
	p, err := Parse("starter.yaml", []byte(Starter))
	if err != nil {
		t.Fatal(err)
	}
	ex, err := ParseIgnore("starter-ignore.yaml", []byte(StarterIgnore))
	if err != nil {
		t.Fatal(err)
	}
	v := Evaluate(p, Input{Inventory: testInventory(), Now: now, Exceptions: ex})
	if !v.Blocked {
		t.Fatal("the starter policy passes the test inventory, which has a secret")
	}
	got := summary(v)
	for _, want := range []string{
		"block no-secrets: rotate and remove the AWS access key in /app/.env (added in layer 2) [aws-access-key-id]",
		"block fixable-critical-high, stale-fixes: upgrade openssl 3.0.11-1~deb12u2 → 3.0.15-1~deb12u1 (fixes 3) [CVE-2024-4741 CVE-2024-6119 CVE-2024-2511]",
		"warn misconfig-rest: Dockerfile:1: FROM debian:12@sha256:<digest> [BH-DF-002]",
	} {
		if !contains(got, want) {
			t.Errorf("missing %q in\n%s", want, strings.Join(got, "\n"))
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestLicenseExpressions(t *testing.T) {
	deny := []string{"GPL-*", "AGPL-3.0-only"}
	for expr, want := range map[string]string{
		"MIT":                                           "",
		"GPL-2.0-only":                                  "GPL-2.0-only",
		"GPL-2.0+":                                      "GPL-2.0+",
		"MIT OR GPL-2.0-only":                           "",
		"GPL-2.0-only OR AGPL-3.0-only":                 "GPL-2.0-only,AGPL-3.0-only",
		"MIT AND GPL-3.0-only":                          "GPL-3.0-only",
		"(MIT OR GPL-2.0-only) AND Apache-2.0":          "",
		"(MIT AND GPL-2.0-only) OR AGPL-3.0-only":       "GPL-2.0-only,AGPL-3.0-only",
		"GPL-2.0-only WITH Classpath-exception-2.0":     "GPL-2.0-only WITH Classpath-exception-2.0",
		"Apache-2.0 WITH LLVM-exception":                "",
		"((((MIT":                                       "",
		"GPL-2.0-only or MIT":                           "",
		"some random text with GPL-2.0-only inside it ": "",
	} {
		got := strings.Join(deniedLicenses([]string{expr}, deny), ",")
		if got != want {
			t.Errorf("%q: denied %q, want %q", expr, got, want)
		}
	}
}

func TestParseFroms(t *testing.T) {
	df := "ARG BASE=debian:12\nARG TAG\nFROM ${BASE} AS build\nRUN make\nFROM build AS test\nFROM scratch\nFROM gcr.io/distroless/static:${TAG}\nFROM registry.example.com/app:1 \\\n  AS final\nCOPY --from=build /x /x\n"
	got, err := ParseFroms("Dockerfile", []byte(df))
	if err != nil {
		t.Fatal(err)
	}
	want := []From{
		{Image: "debian:12", Path: "Dockerfile", Line: 3},
		// An ARG with no default: kept, so the policy can say it cannot check it.
		{Image: "gcr.io/distroless/static:$TAG", Path: "Dockerfile", Line: 7, Unresolved: true},
		{Image: "registry.example.com/app:1", Path: "Dockerfile", Line: 8},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
}

func TestInstruction(t *testing.T) {
	for in, want := range map[string]string{
		"/bin/sh -c #(nop)  COPY file:abc in /app ": "COPY file:abc in /app",
		"/bin/sh -c apt-get install -y openssl":     "RUN apt-get install -y openssl",
		"RUN /bin/sh -c make # buildkit":            "RUN make",
		"COPY . /app # buildkit":                    "COPY . /app",
	} {
		if got := Instruction(in); got != want {
			t.Errorf("Instruction(%q) = %q, want %q", in, got, want)
		}
	}
}

// A scanner that did not run leaves its list empty for CEL, not null.
func TestCELOnMissingLists(t *testing.T) {
	p := mustParse(t, "  - name: c\n    action: block\n    cel: vulnerabilities.exists(v, v.severity == \"CRITICAL\") || secrets.size() > 0\n")
	inv := testInventory()
	inv.Vulnerabilities, inv.Secrets = nil, nil
	v := Evaluate(p, Input{Inventory: inv, Now: now})
	if v.Blocked {
		t.Errorf("blocked: %v", summary(v))
	}
}

// An expression that would run for minutes stops at the cost limit and
// is reported as a rule that could not be evaluated, not a pass.
func TestCELCostLimit(t *testing.T) {
	p := mustParse(t, "  - name: slow\n    action: block\n    cel: packages.all(a, packages.all(b, packages.all(c, a.name != 'x')))\n")
	start := time.Now()
	v := Evaluate(p, Input{Inventory: bigInventory(500), Now: now})
	if d := time.Since(start); d > time.Minute {
		t.Errorf("took %v", d)
	}
	if !v.Blocked || !strings.Contains(v.Reasons[0].Findings[0].Message, "could not be evaluated") {
		t.Errorf("verdict %v", summary(v))
	}
}

func TestImageSource(t *testing.T) {
	p := mustParse(t, "  - name: src\n    action: block\n    sources:\n      allowed: [\"registry.example.com/**\"]\n")
	for _, tc := range []struct {
		name string
		a    inventory.Artifact
		want []string
	}{
		{"archive with an allowed tag", inventory.Artifact{Type: inventory.ArtifactImage, Transport: "docker-archive", Ref: "x.tar", Name: "registry.example.com/a:1", RepoTags: []string{"registry.example.com/a:1"}}, nil},
		{"archive path is not a reference", inventory.Artifact{Type: inventory.ArtifactImage, Transport: "docker-archive", Ref: "x.tar", Name: "x.tar"},
			[]string{"warn src: scan the image by its registry reference, or tag the archive (docker save REPO:TAG) [unknown-source]"}},
		{"oci layout tag alone", inventory.Artifact{Type: inventory.ArtifactImage, Transport: "oci-layout", Ref: "oci-layout:lay:1.0", Name: "1.0", RepoTags: []string{"1.0"}},
			[]string{"warn src: scan the image by its registry reference, or tag the archive (docker save REPO:TAG) [unknown-source]"}},
		{"registry pull from elsewhere", inventory.Artifact{Type: inventory.ArtifactImage, Transport: "registry", Ref: "ghcr.io/x/y:1", Name: "ghcr.io/x/y:1"},
			[]string{"block src: use an image from an allowed source (registry.example.com/**) instead of ghcr.io/x/y [ghcr.io/x/y:1]"}},
		{"docker daemon, Docker Hub short name", inventory.Artifact{Type: inventory.ArtifactImage, Transport: "docker", Ref: "docker:alpine:3", Name: "alpine:3"},
			[]string{"block src: use an image from an allowed source (registry.example.com/**) instead of docker.io/library/alpine [alpine:3]"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Evaluate(p, Input{Inventory: &inventory.Inventory{Artifact: tc.a}, Now: now})
			if diff := cmp.Diff(tc.want, summary(v)); diff != "" {
				t.Error(diff)
			}
		})
	}
}

// Binary packages of one source package are one upgrade; the count is of
// distinct vulnerabilities.
func TestSourcePackageGroup(t *testing.T) {
	inv := testInventory()
	for _, v := range inv.Vulnerabilities[:2] {
		v.Package.Name = "libssl3"
		inv.Vulnerabilities = append(inv.Vulnerabilities, v)
	}
	p := mustParse(t, "  - name: crit\n    action: block\n    vulnerabilities: {minSeverity: HIGH, fixable: true}\n")
	v := Evaluate(p, Input{Inventory: inv, Now: now})
	want := []string{"block crit: upgrade openssl 3.0.11-1~deb12u2 → 3.0.15-1~deb12u1 (libssl3, openssl; fixes 3) [CVE-2024-5535 CVE-2024-5535 CVE-2024-4741 CVE-2024-6119 CVE-2024-6119]"}
	if diff := cmp.Diff(want, summary(v)); diff != "" {
		t.Error(diff)
	}
}

// Paths and instructions come from the image: the WHY block never passes
// their control characters to the terminal.
func TestWriteTextHostile(t *testing.T) {
	inv := testInventory()
	inv.Secrets[0].Path = "/app/\x1b[2J.env\r"
	inv.Secrets[0].CreatedBy = "COPY . /app\u202e"
	p := mustParse(t, "  - name: s\n    action: block\n    secrets: {}\n")
	var b strings.Builder
	if err := Evaluate(p, Input{Inventory: inv, Now: now}).WriteText(&b, true); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\r\u202e") {
		t.Errorf("control characters in:\n%q", out)
	}
	if !strings.Contains(out, "/app/?[2J.env?") {
		t.Errorf("path not shown:\n%s", out)
	}
}

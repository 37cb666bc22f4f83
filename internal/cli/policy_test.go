package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/bulkhead-sec/bulkhead/internal/basecheck"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/imagebuild"
	"github.com/bulkhead-sec/bulkhead/internal/vex"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/gate")

// gateGolden is absolute: some tests change directory.
var gateGolden, _ = filepath.Abs(filepath.Join("testdata", "gate"))

// gateOSV are the advisories of the gate tests: three for curl (two
// fixed in different versions, one unfixed), one for zlib.
var gateOSV = map[string]string{
	"CVE-2024-0001": osvRecord("CVE-2024-0001", "curl", "7.88.1-10+deb12u6", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "2024-03-01T00:00:00Z"),
	"CVE-2024-0002": osvRecord("CVE-2024-0002", "curl", "7.88.1-10+deb12u8", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", "2024-07-01T00:00:00Z"),
	"CVE-2024-0003": osvRecord("CVE-2024-0003", "curl", "", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:L/A:N", "2024-08-01T00:00:00Z"),
	"CVE-2023-0004": osvRecord("CVE-2023-0004", "zlib", "1:1.2.13.dfsg-2", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "2023-10-01T00:00:00Z"),
}

func osvRecord(id, pkg, fixed, vector, published string) string {
	events := `{"introduced":"0"}`
	if fixed != "" {
		events += fmt.Sprintf(`,{"fixed":%q}`, fixed)
	}
	return fmt.Sprintf(`{"schema_version":"1.6.0","id":%q,"modified":"2024-09-01T00:00:00Z","published":%q,
  "summary":"%s in %s","severity":[{"type":"CVSS_V3","score":%q}],
  "affected":[{"package":{"ecosystem":"Debian:12","name":%q},"ranges":[{"type":"ECOSYSTEM","events":[%s]}]}]}`,
		id, published, id, pkg, vector, pkg, events)
}

// gateCache returns a cache directory with a vulnerability DB of gateOSV.
func gateCache(t *testing.T) string {
	t.Helper()
	cache, src := t.TempDir(), t.TempDir()
	for id, rec := range gateOSV {
		if err := os.WriteFile(filepath.Join(src, id+".json"), []byte(rec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, errOut, code := runDB(t, cache, "import", src); code != ExitOK {
		t.Fatalf("db import: %s %s", out, errOut)
	}
	return cache
}

// gateImage is a three-layer image: a Debian base, curl installed, and an
// .env with an AWS key copied in.
func gateImage(t *testing.T, labels map[string]string) string {
	t.Helper()
	layers := gateLayers(t, nil)
	return writeImage(t, layers, labels, "registry.example.com/team/app:1.0")
}

// gateLayers builds the layers of gateImage; extraBase adds files to the
// base (and so to every layer above it), for a different base.
func gateLayers(t *testing.T, extraBase map[string]string) []imagebuild.Layer {
	t.Helper()
	dir := t.TempDir()
	base, app, final := filepath.Join(dir, "base"), filepath.Join(dir, "app"), filepath.Join(dir, "final")
	osRelease := "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
	curl := statusFile + "Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u5\n\n"
	writeTree(t, base, map[string]string{"etc/os-release": osRelease, "var/lib/dpkg/status": statusFile})
	writeTree(t, app, map[string]string{"etc/os-release": osRelease, "var/lib/dpkg/status": curl})
	writeTree(t, final, map[string]string{"etc/os-release": osRelease, "var/lib/dpkg/status": curl,
		"app/.env": "AWS_ACCESS_KEY_ID=AKIAZ7VRSQ5TJ4WBN2QH\n"})
	for _, root := range []string{base, app, final} {
		writeTree(t, root, extraBase)
	}
	old := time.Unix(1700000000, 0)
	for _, root := range []string{base, app, final} {
		os.Chtimes(filepath.Join(root, "etc/os-release"), old, old)
		for p := range extraBase {
			os.Chtimes(filepath.Join(root, p), old, old)
		}
	}
	os.Chtimes(filepath.Join(final, "var/lib/dpkg/status"), old, old)
	os.Chtimes(filepath.Join(app, "var/lib/dpkg/status"), old, old)
	var layers []imagebuild.Layer
	steps := []struct{ prev, dir, by string }{
		{"", base, "ADD rootfs.tar /"},
		{base, app, "RUN apt-get install -y curl"},
		{app, final, "COPY .env /app/.env"},
	}
	for i, st := range steps {
		tarPath := filepath.Join(dir, fmt.Sprintf("layer%d.tar", i))
		var err error
		if st.prev == "" {
			err = imagebuild.WriteDirTar(st.dir, tarPath)
		} else {
			err = imagebuild.WriteDiffTar(st.prev, st.dir, tarPath)
		}
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, imagebuild.Layer{Tar: tarPath, CreatedBy: st.by})
	}
	return layers
}

// writeImage writes a docker-archive of layers, tagged tag.
func writeImage(t *testing.T, layers []imagebuild.Layer, labels map[string]string, tag string) string {
	t.Helper()
	img, err := imagebuild.Image(layers, v1.Config{Cmd: []string{"/bin/sh"}, Labels: labels}, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "img.tar")
	if err := imagebuild.WriteDockerArchive(out, tag, img); err != nil {
		t.Fatal(err)
	}
	return out
}

// runGate runs the CLI with a given cache and environment.
func runGate(t *testing.T, cache string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), append([]string{"--cache-dir", cache}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// why is the WHY block: from the BLOCKED or PASSED line to the end.
func why(t *testing.T, out string) string {
	t.Helper()
	for _, head := range []string{"\nBLOCKED by policy", "\nPASSED policy"} {
		if i := strings.Index(out, head); i >= 0 {
			return out[i+1:]
		}
	}
	if strings.HasPrefix(out, "BLOCKED") || strings.HasPrefix(out, "PASSED") {
		return out
	}
	t.Fatalf("no WHY block in:\n%s", out)
	return ""
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join(gateGolden, name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

const gatePolicy = `apiVersion: bulkhead.dev/v1
kind: Policy
metadata:
  name: production
rules:
  - name: fixable-high
    action: block
    vulnerabilities:
      minSeverity: HIGH
      fixable: true
  - name: no-secrets
    action: block
    secrets: {}
  - name: unfixed
    action: warn
    vulnerabilities:
      fixable: false
  - name: labels
    action: warn
    image:
      requiredLabels: [org.opencontainers.image.source]
  - name: no-critical-curl
    action: block
    cel: vulnerabilities.exists(v, v.package.name == "curl" && v.severity == "CRITICAL")
    message: curl with a CRITICAL vulnerability never ships
`

const gateIgnore = `ignores:
  - id: CVE-2023-0004
    package: zlib1g
    reason: zlib is not reachable from the network in this image
    expires: 2099-12-31
    owner: platform-team
  - id: CVE-2024-0003
    reason: was accepted last year
    expires: 2025-01-01
    owner: alice
`

// Everything the pass case accepts.
const gateIgnoreAll = gateIgnore + `  - id: CVE-2024-0001
    reason: curl is only used at build time
    expires: 2099-12-31
  - id: CVE-2024-0002
    reason: curl is only used at build time
    expires: 2099-12-31
  - id: aws-access-key-id
    path: /app/*
    reason: a revoked key kept for the test
    expires: 2099-12-31
`

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGate(t *testing.T) {
	cache := gateCache(t)
	img := "docker-archive:" + gateImage(t, nil)
	dir := t.TempDir()
	writeFile(t, dir, "policy.yaml", gatePolicy)
	writeFile(t, dir, "ignore.yaml", gateIgnore)
	writeFile(t, dir, "ignore-all.yaml", gateIgnoreAll)
	// Relative names, so the goldens do not hold a temporary directory.
	t.Chdir(dir)
	pol, ign, ignAll := "policy.yaml", "ignore.yaml", "ignore-all.yaml"
	scanners := "--scanners=vuln,secret"

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		golden string
	}{
		{"fail-on critical", []string{"--fail-on", "CRITICAL"}, ExitBlocked, "fail-on-critical.txt"},
		{"fail-on low with ignore-unfixed", []string{"--fail-on", "low", "--ignore-unfixed"}, ExitBlocked, "fail-on-low.txt"},
		{"policy blocks", []string{"--policy", pol, "--ignorefile", ign}, ExitBlocked, "policy-blocked.txt"},
		{"policy passes with exceptions", []string{"--policy", pol, "--ignorefile", ignAll, "--show-suppressed"}, ExitOK, "policy-passed.txt"},
		{"exit-code replaces 1 for blocked", []string{"--fail-on", "CRITICAL", "--exit-code", "3"}, 3, "fail-on-critical.txt"},
		// --severity chooses what the report lists, never what the gate sees.
		{"severity does not hide findings from the gate", []string{"--fail-on", "CRITICAL", "--severity", "LOW"}, ExitBlocked, "fail-on-critical.txt"},
		{"severity does not hide findings from a policy", []string{"--policy", pol, "--ignorefile", ign, "--severity", "LOW"}, ExitBlocked, "policy-blocked.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"scan", "image", img, scanners}, tc.args...)
			code, out, errOut := runGate(t, cache, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.code, errOut)
			}
			golden(t, tc.golden, why(t, out))
		})
	}

	// The same verdict from the saved report, without rescanning.
	t.Run("policy test on a saved report", func(t *testing.T) {
		reportFile := filepath.Join(t.TempDir(), "report.json")
		if code, _, errOut := runGate(t, cache, "scan", "image", img, scanners, "-f", "json", "-o", reportFile); code != ExitOK {
			t.Fatalf("scan: exit %d: %s", code, errOut)
		}
		code, out, errOut := runGate(t, cache, "policy", "test", pol, "--report", reportFile, "--ignorefile", ign)
		if code != ExitBlocked {
			t.Fatalf("exit %d, want 1: %s", code, errOut)
		}
		golden(t, "policy-blocked.txt", out)
	})

	t.Run("json report carries the verdict, stderr the WHY", func(t *testing.T) {
		code, out, errOut := runGate(t, cache, "scan", "image", img, scanners, "--policy", pol, "--ignorefile", ign, "-f", "json")
		if code != ExitBlocked {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var doc struct {
			SchemaVersion int
			Verdict       struct {
				Blocked bool
				Policy  string
				Reasons []struct {
					Rule, Action, Fix string
					Findings          []struct{ ID string }
				}
				Warnings []struct{ Rule, Fix string }
			}
			Vulnerabilities []struct{ ID string }
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		v := doc.Verdict
		if doc.SchemaVersion != 1 || !v.Blocked || v.Policy != "production" || len(v.Reasons) != 3 || len(v.Warnings) != 3 {
			t.Errorf("verdict = %+v", v)
		}
		if len(doc.Vulnerabilities) != 3 {
			t.Errorf("the suppressed vulnerability is still in the report: %+v", doc.Vulnerabilities)
		}
		golden(t, "policy-blocked.txt", why(t, errOut))
	})

	t.Run("GitHub annotations: the ignore file, not paths inside the image", func(t *testing.T) {
		t.Setenv("GITHUB_ACTIONS", "true")
		_, _, errOut := runGate(t, cache, "scan", "image", img, scanners, "--policy", pol, "--ignorefile", ign, "-q")
		var got []string
		for _, l := range strings.Split(errOut, "\n") {
			if strings.HasPrefix(l, "::") {
				got = append(got, l)
			}
		}
		want := []string{"::warning file=ignore.yaml,line=7,title=CVE-2024-0003 (exceptions)::expired 2025-01-01, owner alice: was accepted last year: renew (new expires date) or remove the expired exceptions; they no longer apply"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("annotations:\n%s", strings.Join(got, "\n"))
		}
	})

	t.Run("sarif validates against the SARIF 2.1.0 schema", func(t *testing.T) {
		code, out, errOut := runGate(t, cache, "scan", "image", img, scanners, "--policy", pol, "--ignorefile", ign, "-f", "sarif", "-q")
		if code != ExitBlocked {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		validateSARIF(t, out)
	})

	t.Run("junit has one testcase per rule", func(t *testing.T) {
		code, out, _ := runGate(t, cache, "scan", "image", img, scanners, "--policy", pol, "--ignorefile", ign, "-f", "junit", "-q")
		if code != ExitBlocked {
			t.Fatalf("exit %d", code)
		}
		var doc struct {
			Suites []struct {
				Name  string `xml:"name,attr"`
				Cases []struct {
					Name    string `xml:"name,attr"`
					Failure *struct {
						Message string `xml:"message,attr"`
					} `xml:"failure"`
				} `xml:"testcase"`
			} `xml:"testsuite"`
		}
		if err := xml.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, s := range doc.Suites {
			if s.Name != "policy production" {
				continue
			}
			for _, c := range s.Cases {
				got[c.Name] = "pass"
				if c.Failure != nil {
					got[c.Name] = c.Failure.Message
				}
			}
		}
		want := map[string]string{
			"fixable-high":     "2 findings: upgrade curl 7.88.1-10+deb12u5 → 7.88.1-10+deb12u8 (fixes 2)",
			"no-secrets":       "1 finding: rotate and remove the AWS access key ID in /app/.env (added in layer 2)",
			"unfixed":          "pass",
			"labels":           "pass",
			"no-critical-curl": "1 finding: curl with a CRITICAL vulnerability never ships",
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("testcase %s = %q, want %q", k, got[k], w)
			}
		}
	})
}

func TestGateNoVerdict(t *testing.T) {
	img := "docker-archive:" + gateImage(t, nil)
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", strings.Replace(gatePolicy, "minSeverity: HIGH", "minSeverity: SEVERE", 1))
	badIgnore := writeFile(t, dir, "bad-ignore.yaml", "ignores:\n  - id: CVE-1\n    reason: x\n")
	cache := gateCache(t)
	for _, tc := range []struct {
		name  string
		cache string
		args  []string
		want  string
	}{
		{"invalid policy", cache, []string{"scan", "image", img, "--policy", bad}, bad + ":9:20: severity \"SEVERE\""},
		{"invalid ignore file", cache, []string{"scan", "image", img, "--fail-on", "HIGH", "--ignorefile", badIgnore}, badIgnore + ":2:5: ignore entry CVE-1 has no expires date"},
		{"missing policy", cache, []string{"scan", "image", img, "--policy", filepath.Join(dir, "nope.yaml")}, "no such file"},
		{"bad fail-on", cache, []string{"scan", "image", img, "--fail-on", "SEVERE"}, `--fail-on: severity "SEVERE"`},
		{"no vulnerability DB", t.TempDir(), []string{"scan", "image", img, "--fail-on", "HIGH"}, "bulkhead db update"},
		{"unreadable image", cache, []string{"scan", "image", "docker-archive:/nonexistent.tar", "--fail-on", "HIGH"}, "no such file"},
		{"policy test: invalid policy", cache, []string{"policy", "test", bad, "--report", bad}, ":9:20:"},
		{"policy test: empty policy argument", cache, []string{"policy", "test", "", "--report", bad}, "policy test needs a policy file"},
		{"policy test: bad report", cache, []string{"policy", "test", writeFile(t, dir, "ok.yaml", gatePolicy), "--report", bad}, "read inventory json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runGate(t, tc.cache, tc.args...)
			if code != ExitError {
				t.Errorf("exit %d, want 2", code)
			}
			if out != "" {
				t.Errorf("stdout on error: %.200q", out)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q lacks %q", errOut, tc.want)
			}
		})
	}
}

// TestGateDiscoveryAndAnnotations: scan fs finds .bulkhead/policy.yaml
// and .bulkheadignore.yaml in the scanned directory, checks the FROM lines
// of its Dockerfiles and, on GitHub Actions, annotates them.
func TestGateDiscoveryAndAnnotations(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, ".bulkhead/policy.yaml", `apiVersion: bulkhead.dev/v1
kind: Policy
metadata:
  name: sources
rules:
  - name: trusted
    action: block
    sources:
      allowed: ["registry.example.com/**"]
  - name: pinned
    action: warn
    sources:
      requireDigest: true
`)
	writeFile(t, dir, "Dockerfile", "FROM registry.example.com/base/debian:12 AS build\nRUN make\nFROM docker.io/library/alpine:3.20\nCOPY --from=build /out /out\n")
	writeFile(t, dir, "svc/Containerfile", "FROM quay.io/acme/tool:1\n")
	writeFile(t, dir, ".bulkheadignore.yaml", "ignores:\n  - id: quay.io/acme/tool\n    reason: vendor image, reviewed\n    expires: 2099-01-01\n")
	t.Setenv("GITHUB_ACTIONS", "true")
	t.Setenv("GITHUB_WORKSPACE", filepath.Dir(dir))
	writeFile(t, dir, "k8s/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: app\n    image: registry.example.com/app@sha256:"+strings.Repeat("a", 64)+"\n    securityContext: {privileged: true}\n")
	code, out, errOut := runGate(t, t.TempDir(), "scan", "fs", dir, "--scanners=misconfig", "--fail-on", "CRITICAL")
	if code != ExitBlocked {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	golden(t, "fs-sources.txt", why(t, out))
	for _, want := range []string{
		"::error file=" + filepath.Base(dir) + "/Dockerfile,line=3,title=docker.io/library/alpine%3A3.20 (trusted)::FROM docker.io/library/alpine:3.20 comes from docker.io/library/alpine, which no allowed pattern matches: use an image from an allowed source (registry.example.com/**) instead of docker.io/library/alpine\n",
		"::error file=" + filepath.Base(dir) + "/k8s/pod.yaml,line=8,title=BH-K8S-001 (fail-on CRITICAL (misconfig))::container app sets privileged: true: /k8s/pod.yaml:8: securityContext:%0A  privileged: false\n",
		"::warning file=" + filepath.Base(dir) + "/Dockerfile,line=1,title=registry.example.com/base/debian%3A12 (pinned)::FROM registry.example.com/base/debian:12 is not pinned by digest: pin the base image by digest: FROM registry.example.com/base/debian:12@sha256:<digest>\n",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks\n%s\nstderr:\n%s", want, errOut)
		}
	}
}

// TestGateDemoFixture: the debootstrapped demo image is blocked by
// --fail-on HIGH for running as root, and the WHY says where.
func TestGateDemoFixture(t *testing.T) {
	dir := fixture.Dir(t)
	code, out, errOut := runGate(t, t.TempDir(), "scan", "image", "docker-archive:"+filepath.Join(dir, "demo.tar"),
		"--scanners=secret,misconfig,malware", "--fail-on", "HIGH")
	if code != ExitBlocked {
		t.Fatalf("exit %d, want 1: %s", code, errOut)
	}
	w := why(t, out)
	if !strings.HasPrefix(w, `BLOCKED by policy "--fail-on HIGH"`) || !strings.Contains(w, "BH-IMG-001  HIGH") {
		t.Errorf("WHY block:\n%s", w)
	}
}

func TestPolicyInit(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, ".bulkhead", "policy.yaml")
	if code, _, errOut := runGate(t, t.TempDir(), "policy", "init", "-o", out); code != ExitOK {
		t.Fatal(errOut)
	}
	if code, _, errOut := runGate(t, t.TempDir(), "policy", "init", "-o", out); code != ExitError || !strings.Contains(errOut, "--force") {
		t.Errorf("second init: exit %d %s", code, errOut)
	}
	// The starter policy is valid for policy test (an empty report passes
	// everything but the image rules, which need an image).
	report := writeFile(t, dir, "r.json", `{"schemaVersion":1,"artifact":{"ref":"x","type":"filesystem","name":"x"},"packages":[]}`)
	if code, stdout, errOut := runGate(t, t.TempDir(), "policy", "test", out, "--report", report); code != ExitOK || !strings.HasPrefix(stdout, `PASSED policy "production"`) {
		t.Errorf("policy test of the starter: exit %d\n%s%s", code, stdout, errOut)
	}
}

// TestGateVEXAndBaseline: the accepted exceptions exported as OpenVEX
// suppress the same findings when read back with --vex; a scan against
// its own report as --baseline blocks on nothing new.
func TestGateVEXAndBaseline(t *testing.T) {
	cache := gateCache(t)
	img := "docker-archive:" + gateImage(t, nil)
	dir := t.TempDir()
	writeFile(t, dir, "policy.yaml", gatePolicy)
	writeFile(t, dir, "ignore-all.yaml", gateIgnoreAll)
	t.Chdir(dir)
	if code, _, errOut := runGate(t, cache, "scan", "image", img, "--scanners=vuln,secret", "-f", "json", "-o", "report.json"); code != ExitOK {
		t.Fatalf("scan: %s", errOut)
	}

	code, out, errOut := runGate(t, cache, "policy", "vex", "--ignorefile", "ignore-all.yaml", "--report", "report.json", "--author", "platform-team", "-o", "accepted.openvex.json")
	if code != ExitOK || out != "" {
		t.Fatalf("policy vex: exit %d %s %s", code, out, errOut)
	}
	data, err := os.ReadFile("accepted.openvex.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Context    string `json:"@context"`
		Author     string
		Statements []struct {
			Vulnerability struct{ Name string }
			Products      []struct {
				ID            string `json:"@id"`
				Subcomponents []struct {
					ID string `json:"@id"`
				}
			}
			Status          string
			ImpactStatement string `json:"impact_statement"`
		}
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, st := range doc.Statements {
		line := st.Vulnerability.Name + " " + st.Status + " " + st.Products[0].ID
		for _, sc := range st.Products[0].Subcomponents {
			line += " " + sc.ID
		}
		got = append(got, line)
	}
	// The expired CVE-2024-0003 and the secret exception are not VEX.
	prod := "pkg:oci/app?repository_url=registry.example.com%2Fteam%2Fapp&tag=1.0"
	want := []string{
		"CVE-2023-0004 not_affected " + prod + " pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12&upstream=zlib",
		"CVE-2024-0001 not_affected " + prod,
		"CVE-2024-0002 not_affected " + prod,
	}
	slices.Sort(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") || doc.Author != "platform-team" {
		t.Errorf("statements:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// Read back: the VEX suppresses the three; the secret still blocks.
	code, out, errOut = runGate(t, cache, "scan", "image", img, "--scanners=vuln,secret", "--policy", "policy.yaml", "--vex", "accepted.openvex.json", "--show-suppressed")
	if code != ExitBlocked {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "policy-vex.txt", why(t, out))

	// The report as its own baseline: nothing is new.
	code, out, errOut = runGate(t, cache, "scan", "image", img, "--scanners=vuln,secret", "--policy", "policy.yaml", "--baseline", "report.json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden(t, "policy-baseline.txt", why(t, out))

	// Without a policy, --exit-code counts only what the baseline lacks.
	if code, _, errOut := runGate(t, cache, "scan", "image", img, "--scanners=vuln,secret", "--baseline", "report.json", "--exit-code", "5"); code != ExitOK {
		t.Errorf("--exit-code with a baseline: exit %d: %s", code, errOut)
	}
	if code, _, _ := runGate(t, cache, "scan", "image", img, "--scanners=vuln,secret", "--exit-code", "5"); code != 5 {
		t.Errorf("--exit-code without a baseline: exit %d, want 5", code)
	}
	for _, tc := range []struct{ flag, file, want string }{
		{"--vex", "policy.yaml", "--vex:"},
		{"--baseline", "policy.yaml", "--baseline:"},
	} {
		code, _, errOut := runGate(t, cache, "scan", "image", img, tc.flag, tc.file)
		if code != ExitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s %s: exit %d %s", tc.flag, tc.file, code, errOut)
		}
	}
}

const basePolicy = `apiVersion: bulkhead.dev/v1
kind: Policy
metadata:
  name: platform
rules:
  - name: approved-base
    action: block
    approvedBase:
      file: bases.yaml
  - name: app-vulns
    action: block
    origin: app
    vulnerabilities:
      minSeverity: HIGH
  - name: base-vulns
    action: warn
    origin: base
    vulnerabilities: {}
`

// TestGateApprovedBase: an image built on the recorded base passes the
// approved-base rule and its findings are labelled base or app; the same
// app on a different base is drift, reported with the nearest base.
func TestGateApprovedBase(t *testing.T) {
	cache := gateCache(t)
	layers := gateLayers(t, nil)
	baseImg := writeImage(t, layers[:1], nil, "registry.example.com/base/debian:12")
	onBase := writeImage(t, layers, nil, "registry.example.com/team/app:1.0")
	otherLayers := gateLayers(t, map[string]string{"etc/motd": "another base\n"})
	elsewhere := writeImage(t, otherLayers, nil, "registry.example.com/team/app:1.0")
	dir := t.TempDir()
	writeFile(t, dir, ".bulkhead/policy.yaml", basePolicy)
	t.Chdir(dir)
	if code, _, errOut := runGate(t, cache, "policy", "baseline", "docker-archive:"+baseImg, "--name", "debian-12", "-o", ".bulkhead/bases.yaml"); code != ExitOK {
		t.Fatalf("policy baseline: exit %d %s", code, errOut)
	}
	code, out, errOut := runGate(t, cache, "scan", "image", "docker-archive:"+onBase, "--scanners=vuln")
	if code != ExitBlocked {
		t.Fatalf("on the approved base: exit %d: %s", code, errOut)
	}
	golden(t, "base-approved.txt", why(t, out))
	// policy test reads the layer digests from a saved report.
	if code, _, errOut := runGate(t, cache, "scan", "image", "docker-archive:"+onBase, "--scanners=vuln", "-f", "json", "-o", "r.json", "--policy", ".bulkhead/policy.yaml"); code != ExitBlocked {
		t.Fatalf("json scan: exit %d %s", code, errOut)
	}
	code, out, errOut = runGate(t, cache, "policy", "test", ".bulkhead/policy.yaml", "--report", "r.json")
	if code != ExitBlocked {
		t.Fatalf("policy test: exit %d %s", code, errOut)
	}
	golden(t, "base-approved.txt", out)
	code, out, errOut = runGate(t, cache, "scan", "image", "docker-archive:"+elsewhere, "--scanners=vuln")
	if code != ExitBlocked {
		t.Fatalf("on another base: exit %d: %s", code, errOut)
	}
	golden(t, "base-drift.txt", why(t, out))

	writeFile(t, dir, ".bulkhead/bases.yaml", "apiVersion: nope\n")
	if code, out, errOut := runGate(t, cache, "scan", "image", "docker-archive:"+onBase, "--scanners=vuln"); code != ExitError || out != "" || !strings.Contains(errOut, "approvedBase") {
		t.Errorf("broken bases file: exit %d %s", code, errOut)
	}
}

// TestGateApprovedBaseDemoFixture: the approved-base check on the real
// layer digests of the debootstrapped demo image: its bottom layer is the
// approved base, so the app layer's findings are the app's.
func TestGateApprovedBaseDemoFixture(t *testing.T) {
	fx := fixture.Dir(t)
	demo := filepath.Join(fx, "demo.tar")
	img, err := tarball.ImageFromPath(demo, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.RootFS.DiffIDs) < 2 {
		t.Fatalf("demo.tar has %d layers", len(cfg.RootFS.DiffIDs))
	}
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := basecheck.WriteBases(&buf, []basecheck.Base{{Name: "debian-12-minbase", DiffIDs: []string{cfg.RootFS.DiffIDs[0].String()}}}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "bases.yaml", buf.String())
	pol := strings.Replace(basePolicy, "vulnerabilities:\n      minSeverity: HIGH", "misconfig: {minSeverity: HIGH}", 1)
	writeFile(t, dir, "policy.yaml", strings.Replace(pol, "vulnerabilities: {}", "misconfig: {}", 1))
	code, out, errOut := runGate(t, t.TempDir(), "scan", "image", "docker-archive:"+demo, "--scanners=misconfig", "--policy", filepath.Join(dir, "policy.yaml"))
	w := why(t, out)
	if code != ExitBlocked || strings.Contains(w, "rebuild on an approved base") || !strings.Contains(w, "rule: app-vulns (block)") {
		t.Errorf("exit %d, WHY:\n%s%s", code, w, errOut)
	}
	if !strings.Contains(w, "layer 0 (base): debootstrap") || strings.Contains(w, "layer 0 (app)") {
		t.Errorf("base/app labels:\n%s", w)
	}
	// The demo on a base it is not built on: drift.
	buf.Reset()
	basecheck.WriteBases(&buf, []basecheck.Base{{Name: "alpine-3.20", DiffIDs: []string{"sha256:" + strings.Repeat("ab", 32)}}})
	writeFile(t, dir, "bases.yaml", buf.String())
	_, out, _ = runGate(t, t.TempDir(), "scan", "image", "docker-archive:"+demo, "--scanners=misconfig", "--policy", filepath.Join(dir, "policy.yaml"))
	if w := why(t, out); !strings.Contains(w, "rebuild on an approved base (nearest: alpine-3.20, 0 layers match, 1 differ)") {
		t.Errorf("drift WHY:\n%s", w)
	}
}

// validateSARIF validates a SARIF log against the schema internal/report
// ships in its testdata.
func validateSARIF(t *testing.T, log string) {
	t.Helper()
	const url = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	data, err := os.ReadFile(filepath.Join(gateGolden, "..", "..", "..", "report", "testdata", "schema", "sarif-schema-2.1.0.json"))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	sch, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource(url, sch); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(log))
	if err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if err := schema.Validate(doc); err != nil {
		t.Error(err)
	}
	if !strings.Contains(log, "CVE-2024-0002") || !strings.Contains(log, "aws-access-key-id") {
		t.Errorf("the SARIF log lacks the findings:\n%.2000s", log)
	}
}

// TestGateSBOM: scan sbom gates like scan image; bulkhead's own SBOM keeps
// the layer and the instruction, so the WHY still says where.
func TestGateSBOM(t *testing.T) {
	cache := gateCache(t)
	img := "docker-archive:" + gateImage(t, nil)
	bom := filepath.Join(t.TempDir(), "app.cdx.json")
	if code, _, errOut := runGate(t, cache, "sbom", img, "-o", bom); code != ExitOK {
		t.Fatalf("sbom: %s", errOut)
	}
	code, out, errOut := runGate(t, cache, "scan", "sbom", bom, "--fail-on", "CRITICAL", "--scanners=vuln")
	if code != ExitBlocked {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	w := why(t, out)
	if !strings.Contains(w, "upgrade curl 7.88.1-10+deb12u5 → 7.88.1-10+deb12u6 (fixes 1)") || !strings.Contains(w, "layer 1: RUN apt-get install -y curl") {
		t.Errorf("WHY:\n%s", w)
	}
}

// TestPolicyVEXLeavesOutPathScopes: an exception scoped by path is
// narrower than any VEX statement, so it is not exported (exporting it
// would suppress the vulnerability everywhere).
func TestPolicyVEXLeavesOutPathScopes(t *testing.T) {
	dir := t.TempDir()
	ign := writeFile(t, dir, "ignore.yaml", `ignores:
  - id: CVE-2021-44906
    path: /opt/other/**
    reason: only the copy under /opt/other is unreachable
    expires: 2099-12-31
  - id: CVE-2020-8203
    reason: not reachable
    expires: 2099-12-31
`)
	out := filepath.Join(dir, "vex.json")
	code, _, errOut := runGate(t, t.TempDir(), "policy", "vex", "--ignorefile", ign, "--author", "me", "--product", "registry.example.com/app:1", "-o", out)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "path-scoped exception") || !strings.Contains(errOut, "CVE-2021-44906") {
		t.Errorf("no warning about the path-scoped entry: %s", errOut)
	}
	set, err := vex.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := set.Lookup("CVE-2021-44906", nil, "pkg:npm/minimist@1.2.0"); ok {
		t.Error("the path-scoped exception was exported")
	}
	if _, ok := set.Lookup("CVE-2020-8203", nil, "pkg:npm/lodash@4.17.15"); !ok {
		t.Error("the unscoped exception was not exported")
	}
}

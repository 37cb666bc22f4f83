package report

import (
	"bytes"
	"encoding/xml"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

func decodeJUnit(t *testing.T, data []byte) junitTestsuites {
	t.Helper()
	if !bytes.HasPrefix(data, []byte(xml.Header)) {
		t.Errorf("no XML declaration: %.60s", data)
	}
	var doc junitTestsuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("decode JUnit: %v", err)
	}
	// The counts add up.
	var tests, failures, skipped int
	for _, s := range doc.Suites {
		var f, sk int
		for _, c := range s.Cases {
			if c.Failure != nil {
				f++
			}
			if c.Skipped != nil {
				sk++
			}
		}
		if s.Tests != len(s.Cases) || s.Failures != f || s.Skipped != sk {
			t.Errorf("suite %s: tests/failures/skipped = %d/%d/%d, want %d/%d/%d", s.Name, s.Tests, s.Failures, s.Skipped, len(s.Cases), f, sk)
		}
		tests, failures, skipped = tests+s.Tests, failures+s.Failures, skipped+s.Skipped
	}
	if doc.Tests != tests || doc.Failures != failures || doc.Skipped != skipped {
		t.Errorf("testsuites: tests/failures/skipped = %d/%d/%d, want %d/%d/%d", doc.Tests, doc.Failures, doc.Skipped, tests, failures, skipped)
	}
	return doc
}

// outcome is a testcase as a dashboard shows it.
type outcome struct {
	Suite, Class, Name, Result, Message string
}

func outcomes(doc junitTestsuites) []outcome {
	var out []outcome
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			o := outcome{Suite: s.Name, Class: c.Classname, Name: c.Name, Result: "pass"}
			switch {
			case c.Failure != nil:
				o.Result, o.Message = "FAIL "+c.Failure.Type, c.Failure.Message
			case c.Skipped != nil:
				o.Result, o.Message = "skip", c.Skipped.Message
			}
			out = append(out, o)
		}
	}
	return out
}

func TestJUnit(t *testing.T) {
	tests := []struct {
		name string
		inv  *inventory.Inventory
		want []outcome
	}{
		{"findings", vulnerableImage(), []outcome{
			{"vulnerabilities", "vulnerabilities.apk", "busybox 1.36.1-r15", "pass", ""},
			{"vulnerabilities", "vulnerabilities.deb", "libc6 2.36-9+deb12u7", "FAIL HIGH", "2 vulnerabilities (HIGH: 1, LOW: 1)"},
			{"vulnerabilities", "vulnerabilities.deb", "libssl3 3.0.13-1~deb12u1", "FAIL CRITICAL", "2 vulnerabilities (CRITICAL: 1, MEDIUM: 1)"},
			{"vulnerabilities", "vulnerabilities.deb", "libstdc++6 12.2.0-14", "pass", ""},
			{"vulnerabilities", "vulnerabilities.deb", "tzdata 2024a-0+deb12u1", "pass", ""},
			{"vulnerabilities", "vulnerabilities.deb", "zlib1g 1:1.2.13.dfsg-1", "FAIL UNKNOWN", "1 vulnerability (UNKNOWN: 1)"},
			{"vulnerabilities", "vulnerabilities.rpm", "openssl-libs 1:3.0.7-27.el9", "pass", ""},
			{"secrets", "secrets", "/app/.env", "FAIL CRITICAL", "1 secret (CRITICAL: 1)"},
			{"secrets", "secrets", "/root/.git-credentials", "FAIL HIGH", "1 secret (HIGH: 1)"},
			{"misconfigurations", "misconfigurations.dockerfile", "/app/Dockerfile", "FAIL HIGH", "1 misconfiguration (HIGH: 1)"},
			{"misconfigurations", "misconfigurations.kubernetes", "/app/deploy/web.yaml", "FAIL CRITICAL", "1 misconfiguration (CRITICAL: 1)"},
			{"misconfigurations", "misconfigurations.image", "/usr/bin/passwd", "FAIL LOW", "1 misconfiguration (LOW: 1)"},
			{"misconfigurations", "misconfigurations.image", "image config", "FAIL HIGH", "1 misconfiguration (HIGH: 1)"},
		}},
		{"clean scan passes", cleanImage(), []outcome{
			{"vulnerabilities", "vulnerabilities.apk", "busybox 1.36.1-r15", "pass", ""},
			{"vulnerabilities", "vulnerabilities.deb", "libc6 2.36-9+deb12u7", "pass", ""},
			{"vulnerabilities", "vulnerabilities.deb", "libssl3 3.0.13-1~deb12u1", "pass", ""},
			{"vulnerabilities", "vulnerabilities.deb", "libstdc++6 12.2.0-14", "pass", ""},
			{"vulnerabilities", "vulnerabilities.deb", "tzdata 2024a-0+deb12u1", "pass", ""},
			{"vulnerabilities", "vulnerabilities.deb", "zlib1g 1:1.2.13.dfsg-1", "pass", ""},
			{"vulnerabilities", "vulnerabilities.rpm", "openssl-libs 1:3.0.7-27.el9", "pass", ""},
			{"secrets", "secrets", "secret scan", "pass", ""},
			{"misconfigurations", "misconfigurations", "misconfiguration scan", "pass", ""},
		}},
		{"no packages, clean", func() *inventory.Inventory {
			inv := emptyInventory()
			inv.Vulnerabilities, inv.Secrets = []inventory.Vulnerability{}, []inventory.Secret{}
			return inv
		}(), []outcome{
			{"vulnerabilities", "vulnerabilities", "vulnerability scan", "pass", ""},
			{"secrets", "secrets", "secret scan", "pass", ""},
		}},
		{"scanners not run", debianImage(), []outcome{
			{"vulnerabilities", "vulnerabilities", "vulnerability scan", "skip", "vulnerability scanning was not run"},
			{"secrets", "secrets", "secret scan", "skip", "secret scanning was not run"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			doc := decodeJUnit(t, write(t, FormatJUnit, tc.inv))
			if diff := cmp.Diff(tc.want, outcomes(doc)); diff != "" {
				t.Errorf("testcases (-want +got):\n%s", diff)
			}
		})
	}
}

// A failing testcase lists its findings, worst first, with what to do.
func TestJUnitFailureText(t *testing.T) {
	doc := decodeJUnit(t, write(t, FormatJUnit, vulnerableImage()))
	text := map[string]string{}
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				text[c.Name] = c.Failure.Text
			}
		}
	}
	want := map[string]string{
		"libssl3 3.0.13-1~deb12u1": "Package libssl3 3.0.13-1~deb12u1 in /var/lib/dpkg/status, layer 1 sha256:9c3f1e2d4b5a: " + createdBy1 + "\n" +
			"CVE-2024-5535 CRITICAL: openssl: SSL_select_next_proto buffer overread; fixed in 3.0.14-1~deb12u1\n" +
			"CVE-2024-4603 MEDIUM: openssl: Excessive time spent checking DSA keys and parameters; fixed in 3.0.14-1~deb12u1",
		"/root/.git-credentials": "github-pat HIGH line 1: GitHub Personal Access Token ghp_********; layer 1 sha256:9c3f1e2d4b5a, deleted in layer 2 but still in the image",
	}
	for name, w := range want {
		if diff := cmp.Diff(w, text[name]); diff != "" {
			t.Errorf("failure of %s (-want +got):\n%s", name, diff)
		}
	}
	if !strings.Contains(text["libc6 2.36-9+deb12u7"], "CVE-2010-4756 LOW: glibc: glob implementation can cause excessive CPU and memory consumption; no fix yet") {
		t.Errorf("no-fix finding: %s", text["libc6 2.36-9+deb12u7"])
	}
}

// The same package at two paths is two testcases, named by their paths;
// control characters XML cannot hold do not break the document.
func TestJUnitDuplicatesAndControlCharacters(t *testing.T) {
	inv := vulnerableImage()
	dup := inv.Packages[1] // libc6
	dup.Locations = []inventory.Location{{Path: "/var/lib/dpkg/status.d/libc6", LayerIndex: 1}}
	inv.Packages = append(inv.Packages, dup)
	inv.Vulnerabilities[0].Title = "bad\x1b[31m\x00title"
	doc := decodeJUnit(t, write(t, FormatJUnit, inv))
	var names []string
	for _, c := range doc.Suites[0].Cases {
		if strings.HasPrefix(c.Name, "libc6") {
			names = append(names, c.Name)
		}
	}
	want := []string{"libc6 2.36-9+deb12u7 (/var/lib/dpkg/status)", "libc6 2.36-9+deb12u7 (/var/lib/dpkg/status.d/libc6)"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("testcases of the two libc6 (-want +got):\n%s", diff)
	}
	if !regexp.MustCompile("bad\uFFFD\\[31m\uFFFDtitle").MatchString(outcomesText(doc)) {
		t.Errorf("control characters not replaced:\n%s", outcomesText(doc))
	}
}

func outcomesText(doc junitTestsuites) string {
	var b strings.Builder
	for _, s := range doc.Suites {
		for _, c := range s.Cases {
			if c.Failure != nil {
				b.WriteString(c.Failure.Text + "\n")
			}
		}
	}
	return b.String()
}

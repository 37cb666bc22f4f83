package vex

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	opensslPURL = "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12"
	bashPURL    = "pkg:deb/debian/bash@5.2.15-2%2Bb2?arch=amd64&distro=debian-12"
)

func TestLookup(t *testing.T) {
	set, err := Load("testdata/openvex.json", "testdata/openvex-v001.json", "testdata/cyclonedx.json")
	if err != nil {
		t.Fatal(err)
	}
	if set.Len() != 16 {
		t.Errorf("Len = %d, want 16 (9 + 1 + 6 analysed)", set.Len())
	}
	tests := []struct {
		name       string
		id         string
		aliases    []string
		purl       string
		wantSource string // "" = no statement applies
		wantStatus string
		suppresses bool
	}{
		{"versionless product covers every version", "CVE-2024-5535", nil, "pkg:deb/debian/openssl@3.0.15-1~deb12u1?arch=arm64&distro=debian-12",
			"testdata/openvex.json#0", "not_affected", true},
		// The CycloneDX statement (2026-11-06) about that exact version is
		// later than the OpenVEX one (document time 2026-11-01).
		{"later statement of another file wins", "CVE-2024-5535", nil, opensslPURL, "testdata/cyclonedx.json#0", "not_affected", true},
		{"match by alias, case-insensitive", "DSA-0000-1", []string{"ghsa-4vfx-7xpj-4x2q"}, "pkg:deb/debian/openssl@1.0?arch=amd64",
			"testdata/openvex.json#0", "not_affected", true},
		{"id case-insensitive", "cve-2024-5535", nil, "pkg:deb/debian/openssl@1.0", "testdata/openvex.json#0", "not_affected", true},
		{"other package", "CVE-2024-5535", nil, "pkg:deb/debian/libssl3@3.0.11-1~deb12u2", "", "", false},
		{"versioned product: that version", "CVE-2023-5678", nil, opensslPURL, "testdata/openvex.json#1", "fixed", true},
		{"versioned product: other version", "CVE-2023-5678", nil, "pkg:deb/debian/openssl@3.0.9-1", "", "", false},
		{"subcomponent of image product", "CVE-2024-0001", nil, "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64", "testdata/openvex.json#2", "not_affected", true},
		{"subcomponent by identifiers.purl", "CVE-2024-0001", nil, "pkg:npm/%40scope/left-pad@1.0.0", "testdata/openvex.json#2", "not_affected", true},
		{"subcomponent version differs", "CVE-2024-0001", nil, "pkg:npm/%40scope/left-pad@1.0.1", "", "", false},
		{"not a subcomponent of the image", "CVE-2024-0001", nil, bashPURL, "", "", false},
		{"latest timestamp wins, not file order", "CVE-2024-0002", nil, bashPURL, "testdata/openvex.json#4", "not_affected", true},
		{"image product without subcomponents covers all", "CVE-2024-0003", nil, bashPURL, "testdata/openvex.json#6", "not_affected", true},
		{"no products covers all", "CVE-2024-0004", nil, "pkg:npm/x@1", "testdata/openvex.json#7", "fixed", true},
		{"qualifier set by statement must match", "CVE-2024-0005", nil, "pkg:deb/debian/curl@7.88?arch=amd64", "", "", false},
		{"qualifier set by statement matches", "CVE-2024-0005", nil, "pkg:deb/debian/curl@7.88?arch=arm64&distro=debian-12", "testdata/openvex.json#8", "not_affected", true},
		{"v0.0.1 string shapes", "CVE-2022-39046", nil, "pkg:deb/debian/libc6@2.36-9?arch=amd64", "testdata/openvex-v001.json#0", "not_affected", true},
		{"cdx nested component via bom-link", "CVE-2024-0010", nil, "pkg:deb/debian/minizip@1.1", "testdata/cyclonedx.json#1", "false_positive", true},
		{"cdx explicit unaffected version", "CVE-2024-0011", nil, "pkg:npm/lodash@4.17.21", "testdata/cyclonedx.json#2", "resolved", true},
		{"cdx version marked affected is not covered", "CVE-2024-0011", nil, "pkg:npm/lodash@4.17.20", "", "", false},
		{"cdx range not evaluated", "CVE-2024-0011", nil, "pkg:npm/lodash@4.16.0", "", "", false},
		{"cdx metadata component is the image", "CVE-2024-0012", nil, bashPURL, "testdata/cyclonedx.json#3", "exploitable", false},
		{"cdx component without purl covers nothing", "CVE-2024-0013", nil, bashPURL, "", "", false},
		{"cdx vulnerability without analysis", "CVE-2024-0014", nil, bashPURL, "", "", false},
		{"cdx bom-link to another BOM with purl fragment", "CVE-2024-0015", nil, "pkg:deb/debian/gzip@1.12-1", "testdata/cyclonedx.json#6", "not_affected", true},
		{"unknown vulnerability", "CVE-1999-0001", nil, bashPURL, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, ok := set.Lookup(tt.id, tt.aliases, tt.purl)
			if ok != (tt.wantSource != "") {
				t.Fatalf("Lookup found = %v (%+v), want %v", ok, st, tt.wantSource != "")
			}
			if !ok {
				return
			}
			if st.Source != tt.wantSource || st.Status != tt.wantStatus || st.Suppresses() != tt.suppresses {
				t.Errorf("got %s %s suppresses=%v, want %s %s %v", st.Source, st.Status, st.Suppresses(), tt.wantSource, tt.wantStatus, tt.suppresses)
			}
		})
	}
}

func TestStatementFields(t *testing.T) {
	set, err := Load("testdata/openvex.json", "testdata/cyclonedx.json")
	if err != nil {
		t.Fatal(err)
	}
	st, ok := set.Lookup("CVE-2024-5535", nil, "pkg:deb/debian/openssl@1")
	if !ok {
		t.Fatal("no statement")
	}
	want := Statement{
		VulnID:        "CVE-2024-5535",
		Aliases:       []string{"https://nvd.nist.gov/vuln/detail/CVE-2024-5535", "GHSA-4vfx-7xpj-4x2q"},
		Products:      []string{"pkg:deb/debian/openssl"},
		Status:        "not_affected",
		Justification: "vulnerable_code_not_in_execute_path",
		Impact:        "no TLS server in this image",
		Source:        "testdata/openvex.json#0",
		Format:        FormatOpenVEX,
		Timestamp:     time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC),
	}
	if !equalStatement(st, want) {
		t.Errorf("got  %+v\nwant %+v", st, want)
	}
	st, _ = set.Lookup("CVE-2024-5535", nil, opensslPURL)
	if st.Justification != "code_not_reachable" || st.Impact != "no TLS server" || st.Format != FormatCycloneDX ||
		len(st.Aliases) != 1 || st.Aliases[0] != "GHSA-4vfx-7xpj-4x2q" || st.Products[0] != "pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64" {
		t.Errorf("cyclonedx statement = %+v", st)
	}
}

func equalStatement(a, b Statement) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

func TestSuppresses(t *testing.T) {
	for status, want := range map[string]bool{
		"not_affected": true, "false_positive": true, "fixed": true, "resolved": true, "resolved_with_pedigree": true,
		"affected": false, "exploitable": false, "under_investigation": false, "in_triage": false, "": false,
	} {
		if got := (Statement{Status: status}).Suppresses(); got != want {
			t.Errorf("Suppresses(%q) = %v, want %v", status, got, want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string // substrings of the error
	}{
		{"not json", "hello", []string{"bad.json", "not a JSON object"}},
		{"xml", "<bom/>", []string{"bad.json", "XML"}},
		{"unknown format", `{"spdxVersion":"SPDX-2.3"}`, []string{"bad.json", "neither OpenVEX", "CycloneDX"}},
		{"bad status", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"status":"ok"}]}`,
			[]string{"bad.json", "statement 0", "CVE-1", `status "ok"`}},
		{"not_affected without reason", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"status":"not_affected"}]}`,
			[]string{"statement 0", "justification or an impact_statement"}},
		{"bad justification", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"status":"not_affected","justification":"trust me"}]}`,
			[]string{"justification \"trust me\""}},
		{"no vulnerability", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"status":"fixed"}]}`, []string{"statement 0", "vulnerability"}},
		{"bad timestamp", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"status":"fixed","timestamp":"yesterday"}]}`,
			[]string{"statement 0", "RFC 3339"}},
		{"product without id", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"CVE-1"},"status":"fixed","products":[{}]}]}`,
			[]string{"product 0", "neither @id nor identifiers.purl"}},
		{"wrong type", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":{}}`, []string{"OpenVEX document", "bad.json"}},
		{"cdx old spec", `{"bomFormat":"CycloneDX","specVersion":"1.3"}`, []string{"specVersion \"1.3\""}},
		{"cdx bad state", `{"bomFormat":"CycloneDX","specVersion":"1.5","vulnerabilities":[{"id":"CVE-1","analysis":{"state":"meh"}}]}`,
			[]string{"vulnerabilities[0]", "analysis.state \"meh\""}},
		{"cdx no id", `{"bomFormat":"CycloneDX","specVersion":"1.5","vulnerabilities":[{"analysis":{"state":"resolved"}}]}`,
			[]string{"vulnerabilities[0]", "no id"}},
		{"cdx empty ref", `{"bomFormat":"CycloneDX","specVersion":"1.5","vulnerabilities":[{"id":"CVE-1","analysis":{"state":"resolved"},"affects":[{}]}]}`,
			[]string{"affects[0] has no ref"}},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, "bad.json")
			if err := os.WriteFile(p, []byte(tt.doc), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("missing file: %v", err)
	}
}

func TestWriteOpenVEXRoundTrip(t *testing.T) {
	ts := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	in := []Statement{
		{VulnID: "CVE-2024-5535", Aliases: []string{"GHSA-4vfx-7xpj-4x2q", "cve-2024-5535"}, Products: []string{"pkg:deb/debian/openssl"},
			Status: "not_affected", Impact: "not reachable, no TLS server in this image", Timestamp: ts},
		{VulnID: "CVE-2024-0010", Products: []string{"pkg:deb/debian/minizip@1.1"}, Status: "false_positive", Timestamp: ts.Add(-time.Hour)},
		{VulnID: "CVE-2024-0011", Products: []string{"registry.example/app:1"}, Subcomponents: []string{"pkg:npm/lodash@4.17.21"},
			Status: "resolved", Justification: "", Timestamp: ts},
		{VulnID: "CVE-2024-0012", Products: []string{"pkg:npm/qs"}, Status: "affected", Action: "upgrade qs to 6.11", Timestamp: ts},
	}
	var buf bytes.Buffer
	if err := WriteOpenVEX(&buf, in, "platform-team@example.com"); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"@context", "@id", "author", "timestamp", "version", "statements"} {
		if doc[k] == nil {
			t.Errorf("document has no %s:\n%s", k, buf.String())
		}
	}
	if doc["@context"] != OpenVEXContext || doc["timestamp"] != "2026-11-20T08:00:00Z" || doc["version"] != float64(1) {
		t.Errorf("document header: %v %v %v", doc["@context"], doc["timestamp"], doc["version"])
	}
	// The same statements give the same document.
	var again bytes.Buffer
	if err := WriteOpenVEX(&again, in, "platform-team@example.com"); err != nil || again.String() != buf.String() {
		t.Errorf("second write differs (err %v)", err)
	}

	p := filepath.Join(t.TempDir(), "out.openvex.json")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	set, err := Load(p)
	if err != nil {
		t.Fatalf("reading what WriteOpenVEX wrote: %v\n%s", err, buf.String())
	}
	checks := []struct {
		id, purl, status, just string
	}{
		{"GHSA-4VFX-7XPJ-4X2Q", opensslPURL, "not_affected", ""},
		{"CVE-2024-0010", "pkg:deb/debian/minizip@1.1", "not_affected", "vulnerable_code_not_present"},
		{"CVE-2024-0011", "pkg:npm/lodash@4.17.21", "fixed", ""},
		{"CVE-2024-0012", "pkg:npm/qs@6.10.0", "affected", ""},
	}
	for _, c := range checks {
		st, ok := set.Lookup(c.id, nil, c.purl)
		if !ok || st.Status != c.status || st.Justification != c.just {
			t.Errorf("Lookup(%s, %s) = %+v, %v; want status %s justification %q", c.id, c.purl, st, ok, c.status, c.just)
		}
	}
	st, _ := set.Lookup("CVE-2024-5535", nil, opensslPURL)
	if st.Impact != in[0].Impact || !st.Timestamp.Equal(ts) || len(st.Aliases) != 1 {
		t.Errorf("round-tripped statement = %+v", st)
	}
	if _, ok := set.Lookup("CVE-2024-0011", nil, "pkg:npm/lodash@4.17.20"); ok {
		t.Error("subcomponent version not kept")
	}
}

func TestWriteOpenVEXErrors(t *testing.T) {
	tests := []struct {
		name   string
		st     Statement
		author string
		want   string
	}{
		{"no author", Statement{VulnID: "CVE-1", Products: []string{"pkg:npm/a"}, Status: "fixed"}, "", "author"},
		{"no id", Statement{Products: []string{"pkg:npm/a"}, Status: "fixed"}, "me", "no vulnerability id"},
		{"bad status", Statement{VulnID: "CVE-1", Products: []string{"pkg:npm/a"}, Status: "ok"}, "me", `status "ok"`},
		{"no reason", Statement{VulnID: "CVE-1", Products: []string{"pkg:npm/a"}, Status: "not_affected"}, "me", "justification or an impact"},
		{"no action", Statement{VulnID: "CVE-1", Products: []string{"pkg:npm/a"}, Status: "affected"}, "me", "action"},
		{"no product", Statement{VulnID: "CVE-1", Status: "fixed"}, "me", "no product"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := WriteOpenVEX(&bytes.Buffer{}, []Statement{tt.st}, tt.author)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

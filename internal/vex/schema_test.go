package vex

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// checkOpenVEXSchema checks doc against the rules of the OpenVEX v0.2.0
// JSON schema (openvex/spec openvex_json_schema.json): allowed and required
// properties, enums, the not_affected and affected conditions, IRIs and
// date-times.
func checkOpenVEXSchema(t *testing.T, raw []byte) {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	only := func(where string, m map[string]any, allowed ...string) {
		ok := map[string]bool{}
		for _, a := range allowed {
			ok[a] = true
		}
		for k := range m {
			if !ok[k] {
				t.Errorf("%s: property %q is not in the schema", where, k)
			}
		}
	}
	need := func(where string, m map[string]any, keys ...string) {
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: required %q missing", where, k)
			}
		}
	}
	iri := func(where string, v any) {
		s, _ := v.(string)
		if u, err := url.Parse(s); err != nil || u.Scheme == "" {
			t.Errorf("%s: %q is not an IRI", where, s)
		}
	}
	dateTime := func(where string, v any) {
		if s, _ := v.(string); s != "" {
			if _, err := time.Parse(time.RFC3339, s); err != nil {
				t.Errorf("%s: %q is not a date-time", where, s)
			}
		}
	}
	enum := func(where string, v any, values []string) {
		s, _ := v.(string)
		if !oneOf(s, values) {
			t.Errorf("%s: %q not in %v", where, s, values)
		}
	}
	only("document", doc, "@context", "@id", "author", "role", "timestamp", "last_updated", "version", "tooling", "statements")
	need("document", doc, "@context", "@id", "author", "timestamp", "version", "statements")
	iri("@context", doc["@context"])
	iri("@id", doc["@id"])
	dateTime("timestamp", doc["timestamp"])
	if v, _ := doc["version"].(float64); v < 1 || v != float64(int(v)) {
		t.Errorf("version %v", doc["version"])
	}
	stmts, _ := doc["statements"].([]any)
	if len(stmts) == 0 {
		t.Error("statements: minItems 1")
	}
	component := func(where string, c map[string]any, sub bool) {
		if sub {
			only(where, c, "@id", "identifiers", "hashes")
		} else {
			only(where, c, "@id", "identifiers", "hashes", "subcomponents")
		}
		if id, ok := c["@id"]; ok {
			iri(where+".@id", id)
		}
		if ids, ok := c["identifiers"].(map[string]any); ok {
			only(where+".identifiers", ids, "purl", "@cpe22", "@cpe23")
		}
	}
	for i, x := range stmts {
		st := x.(map[string]any)
		where := "statements[" + string(rune('0'+i)) + "]"
		only(where, st, "@id", "version", "vulnerability", "timestamp", "last_updated", "products", "status", "supplier",
			"status_notes", "justification", "impact_statement", "action_statement", "action_statement_timestamp")
		need(where, st, "vulnerability", "status")
		v, _ := st["vulnerability"].(map[string]any)
		only(where+".vulnerability", v, "@id", "name", "description", "aliases")
		need(where+".vulnerability", v, "name")
		enum(where+".status", st["status"], ovStatuses)
		if j, ok := st["justification"]; ok {
			enum(where+".justification", j, ovJustifications)
		}
		_, hasJ := st["justification"]
		_, hasI := st["impact_statement"]
		if st["status"] == StatusNotAffected && hasJ == hasI {
			t.Errorf("%s: not_affected needs exactly one of justification and impact_statement", where)
		}
		if _, ok := st["action_statement"]; st["status"] == StatusAffected && !ok {
			t.Errorf("%s: affected needs action_statement", where)
		}
		dateTime(where+".timestamp", st["timestamp"])
		prods, _ := st["products"].([]any)
		for _, p := range prods {
			pm := p.(map[string]any)
			component(where+".product", pm, false)
			subs, _ := pm["subcomponents"].([]any)
			for _, s := range subs {
				component(where+".subcomponent", s.(map[string]any), true)
			}
		}
	}
}

func TestWriteOpenVEXSchema(t *testing.T) {
	ts := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	stmts := []Statement{
		{VulnID: "CVE-2024-5535", Products: []string{"pkg:deb/debian/openssl"}, Status: "not_affected", Justification: "vulnerable_code_not_in_execute_path",
			Impact: "no TLS server", Timestamp: ts},
		{VulnID: "CVE-2024-0001", Products: []string{"registry.example/team/app:1.2"}, Subcomponents: []string{"pkg:npm/lodash@4.17.21"},
			Status: "false_positive", Impact: "scanner confused two packages"},
		{VulnID: "CVE-2024-0002", Products: []string{"registry.example/app@sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}, Status: "in_triage"},
		{VulnID: "CVE-2024-0003", Products: []string{"pkg:npm/qs@6.10.0"}, Status: "exploitable", Action: "upgrade qs", Justification: ""},
		{VulnID: "GHSA-aaaa-bbbb-cccc", Products: []string{"pkg:pypi/requests"}, Status: "resolved_with_pedigree"},
	}
	var buf bytes.Buffer
	if err := WriteOpenVEX(&buf, stmts, "platform-team@example.com"); err != nil {
		t.Fatal(err)
	}
	checkOpenVEXSchema(t, buf.Bytes())
	if t.Failed() {
		t.Logf("document:\n%s", buf.String())
	}
	set, err := Parse("written", &buf)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := set.Lookup("CVE-2024-5535", nil, "pkg:deb/debian/openssl@3")
	if !ok || st.Impact != "no TLS server" || st.Justification != "vulnerable_code_not_in_execute_path" {
		t.Errorf("justification and impact did not both survive: %+v", st)
	}
	st, _ = set.Lookup("CVE-2024-0002", nil, "pkg:deb/debian/bash@5")
	if len(st.Products) != 1 || !strings.HasPrefix(st.Products[0], "pkg:oci/app@sha256:0123456789abcdef") ||
		!strings.Contains(st.Products[0], "?repository_url=registry.example%2Fapp") {
		t.Errorf("image product = %v", st.Products)
	}
	if err := WriteOpenVEX(&buf, nil, "me"); !errors.Is(err, ErrNoStatements) {
		t.Errorf("empty list: %v", err)
	}
}

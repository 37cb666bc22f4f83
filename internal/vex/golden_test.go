package vex

import (
	"bytes"
	"flag"
	"os"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestWriteOpenVEXGolden pins the document WriteOpenVEX writes for the
// exceptions a policy export produces. Run with -update to rewrite.
func TestWriteOpenVEXGolden(t *testing.T) {
	ts := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	stmts := []Statement{
		{VulnID: "CVE-2024-5535", Aliases: []string{"GHSA-4vfx-7xpj-4x2q"}, Products: []string{"pkg:deb/debian/openssl"},
			Status: StatusNotAffected, Impact: "not reachable, no TLS server in this image", Timestamp: ts},
		{VulnID: "CVE-2023-5678", Products: []string{"registry.example/app:1.2"}, Subcomponents: []string{"pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64"},
			Status: StatusNotAffected, Justification: "vulnerable_code_not_in_execute_path", Impact: "openssl is only used by curl for HTTPS downloads at build time",
			Timestamp: ts.Add(-24 * time.Hour)},
		{VulnID: "CVE-2024-0010", Products: []string{"pkg:npm/lodash@4.17.15"}, Status: StateFalsePositive, Timestamp: ts},
	}
	var buf bytes.Buffer
	if err := WriteOpenVEX(&buf, stmts, "platform-team@example.com"); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/export.openvex.json"
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("WriteOpenVEX differs from %s (go test -update rewrites it):\n%s", golden, buf.String())
	}
	checkOpenVEXSchema(t, buf.Bytes())
}

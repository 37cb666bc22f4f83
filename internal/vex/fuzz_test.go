package vex

import (
	"bytes"
	"os"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the OpenVEX / CycloneDX reader and to
// Lookup and WriteOpenVEX on what it accepts: errors are fine, panics and
// hangs are not.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"testdata/openvex.json", "testdata/openvex-v001.json", "testdata/cyclonedx.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"@context":"https://openvex.dev/ns","statements":[{"vulnerability":"x","products":["pkg:"],"status":"fixed"}]}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.4","vulnerabilities":[{"id":"x","analysis":{"state":"resolved"},"affects":[{"ref":"urn:cdx:a#%zz"}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := Parse("fuzz.json", bytes.NewReader(data))
		if err != nil {
			return
		}
		stmts := set.Statements()
		for _, st := range stmts {
			set.Lookup(st.VulnID, st.Aliases, "pkg:deb/debian/openssl@3.0.11?arch=amd64")
			for _, p := range st.Products {
				set.Lookup(st.VulnID, nil, p)
			}
		}
		_ = WriteOpenVEX(&bytes.Buffer{}, stmts, "fuzz")
	})
}

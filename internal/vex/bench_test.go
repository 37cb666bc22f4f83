package vex

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// benchSet builds a set of n statements: one CVE each, about a package
// (half versionless, half versioned), plus an alias.
func benchSet(n int) *Set {
	s := &Set{}
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		p := fmt.Sprintf("pkg:deb/debian/pkg%d", i%2000)
		if i%2 == 1 {
			p += fmt.Sprintf("@1.%d-1", i)
		}
		s.add(Statement{
			VulnID: fmt.Sprintf("CVE-2024-%05d", i), Aliases: []string{fmt.Sprintf("GHSA-%04x-xxxx-yyyy", i)},
			Products: []string{p}, Status: StatusNotAffected, Justification: "component_not_present",
			Timestamp: ts.Add(time.Duration(i) * time.Second),
		})
	}
	return s
}

// BenchmarkLookup looks up findings in a set of 10,000 statements: by id
// (a hit), by alias (a miss on the version) and an unknown id.
func BenchmarkLookup(b *testing.B) {
	s := benchSet(10000)
	type q struct {
		id      string
		aliases []string
		purl    string
	}
	var qs []q
	for i := range 1000 {
		j := i * 10
		qs = append(qs,
			q{fmt.Sprintf("CVE-2024-%05d", j), nil, fmt.Sprintf("pkg:deb/debian/pkg%d@1.%d-1?arch=amd64&distro=debian-12", j%2000, j)},
			q{"DSA-1-1", []string{fmt.Sprintf("ghsa-%04x-xxxx-yyyy", j+1)}, fmt.Sprintf("pkg:deb/debian/pkg%d@9?arch=amd64", (j+1)%2000)},
			q{fmt.Sprintf("CVE-2025-%05d", j), nil, "pkg:deb/debian/other@1"})
	}
	b.ReportAllocs()
	b.ResetTimer()
	hits := 0
	for i := 0; b.Loop(); i++ {
		x := qs[i%len(qs)]
		if _, ok := s.Lookup(x.id, x.aliases, x.purl); ok {
			hits++
		}
	}
	if hits == 0 {
		b.Fatal("no hits")
	}
}

// BenchmarkParse reads an OpenVEX document of 10,000 statements.
func BenchmarkParse(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteOpenVEX(&buf, benchSet(10000).Statements(), "bench"); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := Parse("bench.json", bytes.NewReader(data))
		if err != nil || s.Len() != 10000 {
			b.Fatal(err)
		}
	}
}

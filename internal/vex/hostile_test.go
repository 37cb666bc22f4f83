package vex

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// spaces is an endless reader of spaces.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestHostileInput(t *testing.T) {
	deep := strings.Repeat("[", 200000) + strings.Repeat("]", 200000)
	tests := []struct {
		name string
		r    io.Reader
		want string
	}{
		{"endless input stops at the limit", spaces{}, "larger than 64 MiB"},
		{"deep nesting", strings.NewReader(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":` + deep + `}`), "exceeded max depth"},
		{"huge id", strings.NewReader(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"` + strings.Repeat("A", 10000) + `"},"status":"fixed"}]}`), "longer than"},
		{"huge product", strings.NewReader(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"vulnerability":{"name":"X"},"status":"fixed","products":[{"@id":"pkg:npm/` + strings.Repeat("a", 10000) + `"}]}]}`), "longer than"},
		{"null statement", strings.NewReader(`{"@context":"https://openvex.dev/ns/v0.2.0","statements":[null]}`), "vulnerability"},
		{"cdx null analysis fields", strings.NewReader(`{"bomFormat":"CycloneDX","specVersion":"1.6","components":[null],"vulnerabilities":[null,{"id":"X","analysis":{"state":null}}]}`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("hostile.json", tt.r)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestManyStatements: 100,000 statements about one vulnerability and one
// package load, and Lookup returns the latest.
func TestManyStatements(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"@context":"https://openvex.dev/ns/v0.2.0","timestamp":"2026-01-01T00:00:00Z","statements":[`)
	for i := range 100000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"vulnerability":{"name":"CVE-2024-1"},"products":[{"@id":"pkg:npm/a"}],"status":"under_investigation","timestamp":"2026-01-01T00:%02d:%02dZ"}`, (i/60)%60, i%60)
	}
	b.WriteString(`]}`)
	set, err := Parse("many.json", &b)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := set.Lookup("CVE-2024-1", nil, "pkg:npm/a@1")
	// Timestamps repeat every hour: the last statement at 00:59:59 wins
	// (i = 3599 + 3600k, the last below 100,000).
	if !ok || st.Source != "many.json#97199" {
		t.Errorf("Lookup = %+v %v", st, ok)
	}
}

package policy

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParse: any input is a policy or a ParseError, never a panic or a
// hang; a parsed policy evaluates.
func FuzzParse(f *testing.F) {
	f.Add([]byte(Starter))
	f.Add([]byte(header + "  - name: a\n    action: block\n    cel: packages.exists(p, p.name.startsWith(\"x\"))\n"))
	f.Add([]byte(header + "  - name: a\n    action: warn\n    sources:\n      allowed: [\"**\"]\n      requireDigest: true\n"))
	f.Add([]byte(header + "  - &a {name: a, action: block, secrets: {}}\n  - *a\n"))
	f.Add([]byte("apiVersion: bulkhead.dev/v1\nkind: Policy\nmetadata: {name: [x]}\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Add([]byte(header + "  - name: b\n    action: block\n    origin: app\n    approvedBase: {file: ../b.yaml, images: [x]}\n"))
	inv := testInventory()
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) && !strings.Contains(err.Error(), "cel environment") {
				t.Fatalf("error is not a ParseError: %v", err)
			}
			return
		}
		if p.Name == "" || len(p.Rules) == 0 {
			t.Fatalf("accepted a policy without a name or rules: %q", data)
		}
		Evaluate(p, Input{Inventory: inv, Now: now})
	})
}

// FuzzParseIgnore: any input is exceptions or a ParseError; every
// accepted exception has an id, a reason and an expiry.
func FuzzParseIgnore(f *testing.F) {
	f.Add([]byte(StarterIgnore))
	f.Add([]byte("ignores:\n  - id: x\n    path: '[a-'\n    reason: r\n    expires: 2026-01-01\n"))
	f.Add([]byte("ignores: []\n"))
	f.Add([]byte("ignores:\n  - {id: CVE-1, reason: r, expires: 2026-02-30}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ex, err := ParseIgnore("fuzz.yaml", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
			return
		}
		for _, e := range ex {
			if e.ID == "" || strings.TrimSpace(e.Reason) == "" || e.Expires.IsZero() {
				t.Fatalf("accepted an incomplete exception %+v", e)
			}
		}
	})
}

// FuzzLicenseAndFroms: licence expressions and Dockerfiles come from the
// scanned image or repository.
func FuzzLicenseAndFroms(f *testing.F) {
	f.Add("(MIT OR GPL-2.0-only) AND Apache-2.0 WITH LLVM-exception")
	f.Add("((((((((((((((((((((((((((((((((((((MIT))))))))))))))))))))))))))))))))))")
	f.Add("ARG X=debian\nFROM ${X}:12 AS a\nFROM a\nFROM scratch\n")
	f.Fuzz(func(t *testing.T, s string) {
		deniedLicenses([]string{s}, []string{"GPL-*", "MIT"})
		ParseFroms("Dockerfile", []byte(s))
	})
}

package report

import (
	"strings"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Names come from the scanned image: they must not drive the terminal or
// break the columns.
func TestTableEscapesControlCharacters(t *testing.T) {
	inv := &inventory.Inventory{
		Artifact: inventory.Artifact{Type: inventory.ArtifactImage, Name: "evil\x1b]0;pwned\x07:latest"},
		Packages: []inventory.Package{{Name: "bad\x1b[2Jname", Version: "1.0\tx", Type: "deb", Licenses: []string{"MIT\nWARN fake"}}},
		Warnings: []inventory.Warning{{Message: "line1\nline2"}},
	}
	out := string(write(t, FormatTable, inv))
	if strings.ContainsAny(out, "\x1b\x07\t") {
		t.Errorf("control characters reach the terminal:\n%q", out)
	}
	for _, want := range []string{`"bad\x1b[2Jname"`, `"1.0\tx"`, `"MIT\nWARN fake"`, `WARN "line1\nline2"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\nWARN "); n != 1 {
		t.Errorf("%d WARN lines, want 1:\n%s", n, out)
	}
}

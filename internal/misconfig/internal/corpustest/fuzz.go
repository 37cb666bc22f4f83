package corpustest

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// Seed adds every file under dir/checks and dir/realworld to the fuzzer's
// corpus.
func Seed(f *testing.F, dir string) {
	for _, sub := range []string{"checks", "realworld"} {
		ms, _ := filepath.Glob(filepath.Join(dir, sub, "*"))
		for _, m := range ms {
			if b, err := os.ReadFile(m); err == nil {
				f.Add(b)
			}
		}
	}
}

// CheckFindings fails when a finding is malformed: unknown ID, metadata not
// from the catalogue, or a line outside the input.
func CheckFindings(t *testing.T, data []byte, fs []misconfig.Finding) {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + 1
	for _, f := range fs {
		c, ok := misconfig.Lookup(f.ID)
		if !ok {
			t.Fatalf("unknown check %q", f.ID)
		}
		if f.Why != c.Why || f.Severity != c.Severity || f.Title != c.Title || f.Fix == "" || f.Message == "" {
			t.Fatalf("%s: metadata differs from the catalogue: %+v", f.ID, f)
		}
		if f.Line < 0 || f.Line > lines {
			t.Fatalf("%s: line %d outside 1..%d", f.ID, f.Line, lines)
		}
	}
}

package analyzertest

import (
	"strings"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
)

// CheckSizeLimit asserts that a group holding only a is offered path at
// limit bytes and, one byte over, skips it with a warning that names the
// file and the limit instead of dropping it in silence.
func CheckSizeLimit(t *testing.T, a analyzer.Analyzer, path string, limit int64) {
	t.Helper()
	g, err := analyzer.NewGroup(a)
	if err != nil {
		t.Fatal(err)
	}
	if as, skipped := g.Select(path, File(limit)); len(as) != 1 || len(skipped) != 0 {
		t.Errorf("%s at the %d-byte limit: %d analyzers, %d skipped; want it analyzed", path, limit, len(as), len(skipped))
	}
	as, skipped := g.Select(path, File(limit+1))
	if len(as) != 0 || len(skipped) != 1 {
		t.Fatalf("%s one byte over the limit: %d analyzers, %d skipped; want one warning", path, len(as), len(skipped))
	}
	if e := skipped[0].Error; !strings.Contains(e, "skipped") || !strings.Contains(e, a.Name()) {
		t.Errorf("warning %q does not say the file was skipped by %s", e, a.Name())
	}
}

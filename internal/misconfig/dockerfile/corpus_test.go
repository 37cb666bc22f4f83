package dockerfile

import (
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig/internal/corpustest"
)

// TestCorpus runs every check's bad and good variants (testdata/checks) and
// the real-world shaped Dockerfiles (testdata/realworld) against the golden
// file testdata/findings.golden.
func TestCorpus(t *testing.T) {
	corpustest.Run(t, "testdata", "findings.golden", Scan)
}

package compose

import (
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig/internal/corpustest"
)

func FuzzScan(f *testing.F) {
	corpustest.Seed(f, "testdata")
	f.Add([]byte("services:\n  a:\n    ports: ['[::1', 80, {published: x}]\n    volumes: ['C:\\\\x:/y', {type: bind}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, _ := Scan(t.Context(), "compose.yaml", data, misconfig.Options{})
		corpustest.CheckFindings(t, data, fs)
	})
}

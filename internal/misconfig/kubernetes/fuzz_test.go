package kubernetes

import (
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig/internal/corpustest"
)

func FuzzScan(f *testing.F) {
	corpustest.Seed(f, "testdata")
	f.Add([]byte("a: &a [*a]\nkind: Pod\nspec: {containers: [*a]}\n"))
	f.Add([]byte("{\"kind\":\"List\",\"items\":[{\"kind\":\"Pod\",\"spec\":{\"containers\":[{\"name\":\"x\"}]}}]}"))
	f.Add([]byte("kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          <<: {hostPID: true}\n          containers: [{}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, _ := Scan(t.Context(), "m.yaml", data, misconfig.Options{})
		corpustest.CheckFindings(t, data, fs)
	})
}

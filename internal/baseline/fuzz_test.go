package baseline

import (
	"bytes"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/report"
)

// FuzzRead feeds arbitrary bytes to the baseline reader: an error is fine,
// a panic or a hang is not, and what it accepts answers Has.
func FuzzRead(f *testing.F) {
	var buf bytes.Buffer
	if err := report.Write(&buf, "json", baselineInventory(), report.Options{}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"schemaVersion":1,"artifact":{},"vulnerabilities":[{"id":"X","aliases":["Y"],"package":{}}]}`))
	f.Add([]byte(`{"schemaVersion":1,"artifact":{},"secrets":[],"malware":[{"signature":"s","md5":"AB"}],"misconfigurations":[{"id":"a","layerIndex":-1}]}`))
	f.Add([]byte(`{"bomFormat":"CycloneDX"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		if s.Len() > len(data) {
			t.Fatalf("%d keys from %d bytes", s.Len(), len(data))
		}
		for k := range s.keys {
			if !s.Has(k) {
				t.Fatalf("key %q not found", k)
			}
		}
	})
}

package basecheck

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzReadBases feeds arbitrary bytes to the approved-bases reader: an
// error is fine, a panic or a hang is not; what it accepts is valid, can
// be written and read back the same, and can be checked against.
func FuzzReadBases(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteBases(&buf, []Base{base("debian-12", "deb"), base("python", "deb", "py")}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"apiVersion":"bulkhead.dev/v1","kind":"BaseImages","bases":[{"name":"a","diffIDs":["` + d("x") + `"]}]}`))
	f.Add([]byte("apiVersion: bulkhead.dev/v1\nkind: BaseImages\nbases:\n  - &a {name: a, diffIDs: [" + d("x") + "]}\n  - *a\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		bases, err := ReadBases(bytes.NewReader(data), "fuzz.yaml")
		if err != nil {
			return
		}
		for _, b := range bases {
			if b.Name == "" || len(b.DiffIDs) == 0 {
				t.Fatalf("accepted an invalid base %+v", b)
			}
		}
		var out bytes.Buffer
		if err := WriteBases(&out, bases); err != nil {
			t.Fatal(err)
		}
		again, err := ReadBases(&out, "again.yaml")
		if err != nil || len(again) != len(bases) {
			t.Fatalf("written bases do not read back (%v):\n%s", err, out.String())
		}
		r := Check(imageOf("deb", "py", "app"), bases)
		if r.Reason == "" || strings.Count(r.Reason, "\n") > 0 {
			t.Fatalf("reason %q", r.Reason)
		}
	})
}

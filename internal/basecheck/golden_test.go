package basecheck

import (
	"bytes"
	"flag"
	"os"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestWriteBasesGolden pins the approved-bases file format. Run with
// -update to rewrite.
func TestWriteBasesGolden(t *testing.T) {
	added := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	bases := []Base{
		{Name: "python-3.12", Ref: "registry.example/base/python:3.12-slim", Digest: d("manifest"), ConfigDigest: d("config"), Added: added,
			DiffIDs: []string{d("deb"), d("py")}},
		{Name: "debian-12", Ref: "docker-archive:debian.tar", ConfigDigest: d("config-deb"), Added: added, DiffIDs: []string{d("deb")}},
	}
	var buf bytes.Buffer
	if err := WriteBases(&buf, bases); err != nil {
		t.Fatal(err)
	}
	const golden = "testdata/bases.yaml"
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("WriteBases differs from %s (go test -update rewrites it):\n%s", golden, buf.String())
	}
	got, err := LoadBases(golden)
	if err != nil || len(got) != 2 || got[0].Name != "debian-12" {
		t.Errorf("LoadBases(golden) = %+v, %v", got, err)
	}
}

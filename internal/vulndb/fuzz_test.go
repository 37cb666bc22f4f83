package vulndb

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/osv"
)

// fuzzLimits keep each fuzz input cheap while exercising every limit.
var fuzzLimits = Limits{
	MaxRecordBytes:  1 << 20,
	MaxRecordValues: 10_000,
	MaxPackages:     100,
	MaxArchiveBytes: 8 << 20,
	MaxRatio:        100,
	MaxRecords:      1000,
}.withDefaults()

// checkRecord decodes data as a record and, when accepted, checks that
// both stored forms give back what encoding/json reads.
func checkRecord(t *testing.T, data []byte, c *codec) {
	r, err := decodeRecord(data, fuzzLimits, c)
	if err != nil {
		if !errors.Is(err, errMalformed) && !errors.Is(err, errTooLarge) {
			t.Fatalf("decodeRecord error %v wraps neither errMalformed nor errTooLarge", err)
		}
		return
	}
	var want osv.Vulnerability
	if err := unmarshal(data, &want); err != nil {
		t.Fatalf("accepted a record encoding/json refuses: %v", err)
	}
	bin, err := unpackRec(r.rec)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeBin(bin)
	if err != nil {
		t.Fatalf("decodeBin of our own encoding: %v", err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Fatalf("binary round trip (-json +bin):\n%s", diff)
	}
	raw, err := c.decompress(r.raw)
	if err != nil || !bytes.Equal(raw, data) {
		t.Fatalf("raw round trip: %v", err)
	}
	if len(r.pkgs) > fuzzLimits.MaxPackages {
		t.Fatalf("%d packages past the limit", len(r.pkgs))
	}
}

// walkBytes runs the importer's zip walk over data as a zip file.
func walkBytes(t *testing.T, data []byte, c *codec) {
	z, err := openZip(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return
	}
	read := int64(0)
	walkZip(context.Background(), z, "fuzz", "fuzz.zip", int64(len(data)), fuzzLimits, func(_, _ string, rec []byte, skip error) error {
		if skip != nil {
			return nil
		}
		if read += int64(len(rec)); read > fuzzLimits.MaxRatio*int64(len(data))+fuzzLimits.MaxRecordBytes {
			t.Fatalf("read %d bytes from a %d-byte zip, past the ratio limit", read, len(data))
		}
		checkRecord(t, rec, c)
		return nil
	})
}

// FuzzImport feeds bytes to the import path three ways: as an OSV JSON
// record, as the only member of a zip, and as a zip file.
func FuzzImport(f *testing.F) {
	f.Add([]byte(`{"id":"GHSA-1","modified":"2024-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"versions":["1"]}]}`))
	f.Add([]byte(`{"id":"X","withdrawn":"2024-01-01T00:00:00Z","database_specific":null,"aliases":[],"affected":[{"ranges":[{"type":"GIT","events":[]}]}]}`))
	f.Add([]byte(`{"id": 1}`))
	f.Add([]byte(`[[[[`))
	f.Add(adv{id: "DSA-1", pkgs: []string{"Debian:12/openssl", "PyPI/Foo_Bar"}, withdrawn: "2024-02-01T00:00:00Z", gitOnly: true}.json())
	if sample, ok := samplePath(); ok {
		for _, eco := range []string{"Ubuntu", "Maven"} {
			data, err := os.ReadFile(filepath.Join(sample, eco, "all.zip"))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
			zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				f.Fatal(err)
			}
			for _, m := range zr.File {
				rc, _ := m.Open()
				b, _ := io.ReadAll(rc)
				rc.Close()
				f.Add(b)
			}
		}
	}
	c, err := getCodec()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkRecord(t, data, c)

		var one bytes.Buffer
		zw := zip.NewWriter(&one)
		w, _ := zw.Create("RECORD.json")
		w.Write(data)
		zw.Close()
		walkBytes(t, one.Bytes(), c)

		walkBytes(t, data, c)
	})
}

// FuzzDecodeBin checks that a damaged binary record fails cleanly, without
// panicking or allocating more than its size allows.
func FuzzDecodeBin(f *testing.F) {
	for _, a := range []adv{
		{id: "A", pkgs: []string{"npm/a"}},
		{id: "B", pkgs: []string{"Debian:12/x", "Debian:11/x"}, withdrawn: "2024-01-01T00:00:00Z", versions: []string{"1", "2"}, gitOnly: true},
	} {
		f.Add(encodeBin(nil, a.vuln()))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeBin(data)
		if err != nil {
			return
		}
		// What decodes must survive another round trip unchanged.
		again, err := decodeBin(encodeBin(nil, v))
		if err != nil {
			t.Fatalf("decoding our own encoding: %v", err)
		}
		if diff := cmp.Diff(v, again); diff != "" {
			t.Fatalf("round trip (-first +second):\n%s", diff)
		}
	})
}

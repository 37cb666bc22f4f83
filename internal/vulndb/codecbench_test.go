package vulndb

import (
	"archive/zip"
	"io"
	"os"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

func TestCodecOptions(t *testing.T) {
	if os.Getenv("SMOKE") == "" {
		t.Skip()
	}
	var recs [][]byte
	total := 0
	for _, e := range []string{"Debian", "PyPI", "Go", "Alpine"} {
		zr, err := zip.OpenReader("/work/shared/osv-sample/" + e + "/all.zip")
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			recs = append(recs, b)
			total += len(b)
		}
	}
	try := func(name string, f func([]byte) []byte) {
		start := time.Now()
		out := 0
		for _, r := range recs {
			out += len(f(r))
		}
		d := time.Since(start)
		t.Logf("%-28s %6.1f MB/s  ratio %.2f  (%v)", name, float64(total)/d.Seconds()/1e6, float64(total)/float64(out), d)
	}
	for _, lvl := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault} {
		for _, noEnt := range []bool{false, true} {
			enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(lvl), zstd.WithEncoderCRC(false), zstd.WithNoEntropyCompression(noEnt), zstd.WithEncoderConcurrency(1))
			try(lvl.String()+map[bool]string{true: " noentropy", false: ""}[noEnt], func(b []byte) []byte { return enc.EncodeAll(b, nil) })
		}
	}
	try("s2 default", func(b []byte) []byte { return s2.Encode(nil, b) })
	try("s2 better", func(b []byte) []byte { return s2.EncodeBetter(nil, b) })
}

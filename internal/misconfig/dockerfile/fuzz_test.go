package dockerfile

import (
	"strings"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
	"github.com/bulkhead-sec/bulkhead/internal/misconfig/internal/corpustest"
)

func FuzzScan(f *testing.F) {
	corpustest.Seed(f, "testdata")
	f.Add([]byte("# escape=`\nFROM x\nRUN a `\n b\n"))
	f.Add([]byte("FROM a AS b\nFROM b\nRUN <<EOF bash\ncurl x | sh\nEOF\nUSER 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs, err := Scan(t.Context(), "Dockerfile", data, misconfig.Options{})
		if err != nil {
			if len(fs) != 0 {
				t.Fatal("findings and an error")
			}
			return
		}
		corpustest.CheckFindings(t, data, fs)
	})
}

func FuzzSplitShell(f *testing.F) {
	for _, s := range []string{
		"apt-get update && apt-get install -y curl | sh",
		`sh -c "$(curl -fsSL https://x)"`,
		"a 2>&1 >/dev/null | b <(c) `d` $(e $(f)) 'g' \"h\\\"i\" # j\nk",
		"if [ -f x ]; then sudo -u app make; fi",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words := 0
		for _, c := range splitShell(s) {
			words += len(c.words)
			for _, w := range c.words {
				if len(w) > len(s)+1 {
					t.Fatalf("word %q longer than the script", w)
				}
			}
			c.name()
		}
		if words > len(s) {
			t.Fatalf("%d words from %d bytes", words, len(s))
		}
		if strings.Count(s, "\x00") > 0 {
			return
		}
	})
}

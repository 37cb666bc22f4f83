package secret

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// benchText is source-like text with a realistic sprinkling of keywords
// (token, password, https://) and one secret per ~64 KiB.
func benchText(size int) []byte {
	g := newGen(40)
	lines := []string{
		`import { createServer } from "node:http";`,
		`const url = "https://registry.npmjs.org/" + name; // fetch the token later`,
		`if (!options.password) throw new Error("password required");`,
		`  return fn.apply(this, arguments).then(function (res) { return res.body; });`,
		`# Configuration for the service; see docs for details`,
		`export default { key: process.env.API_KEY, timeout: 3000, retries: 5 };`,
	}
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		b.WriteString(lines[i%len(lines)])
		b.WriteByte('\n')
		if i%1000 == 999 {
			b.WriteString("GH_TOKEN=" + g.ghToken("ghp_") + "\n")
		}
	}
	return b.Bytes()
}

func BenchmarkScanSource(b *testing.B) {
	s := defaultScanner(b)
	data := benchText(16 << 20)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Scan(context.Background(), "/app/src/server.js", bytes.NewReader(data)); err != nil && !strings.Contains(err.Error(), "too many") {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanMinified(b *testing.B) {
	s := defaultScanner(b)
	data := bytes.ReplaceAll(benchText(16<<20), []byte("\n"), []byte(";"))
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Scan(context.Background(), "/app/static/bundle.min.js", bytes.NewReader(data)); err != nil && !strings.Contains(err.Error(), "too many") {
			b.Fatal(err)
		}
	}
}

func BenchmarkScanNoKeywords(b *testing.B) {
	s := defaultScanner(b)
	data := bytes.Repeat([]byte("lorem ipsum dolor sit amet, consectetur adipiscing elit\n"), (16<<20)/56)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Scan(context.Background(), "/usr/share/doc/x/README", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSmallFiles(b *testing.B) {
	s := defaultScanner(b)
	data := benchText(2 << 10)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Scan(context.Background(), "/app/src/a.js", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

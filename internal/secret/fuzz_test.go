package secret

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// naiveHits finds every keyword occurrence by brute force, ASCII-folded.
func naiveHits(keywords []string, text []byte) []hit {
	fold := func(b []byte) []byte {
		out := make([]byte, len(b))
		for i, c := range b {
			out[i] = lowerASCII(c)
		}
		return out
	}
	low := fold(text)
	var out []hit
	for end := 1; end <= len(low); end++ {
		for id, k := range keywords {
			k := string(fold([]byte(k)))
			if k != "" && end >= len(k) && string(low[end-len(k):end]) == k {
				out = append(out, hit{kw: int32(id), end: end})
			}
		}
	}
	return out
}

func acHits(m *matcher, text []byte) []hit {
	var out []hit
	m.scan(text, func(h hit) { out = append(out, h) })
	return out
}

func sortHits(h []hit) {
	sort.Slice(h, func(i, j int) bool {
		if h[i].end != h[j].end {
			return h[i].end < h[j].end
		}
		return h[i].kw < h[j].kw
	})
}

func TestMatcher(t *testing.T) {
	kws := []string{"he", "she", "his", "hers", "HIS", "s", "", "aws_secret", "ghp_"}
	text := []byte("ushers AWS_SECRET his Ghp_x she\xffhe")
	want, got := naiveHits(kws, text), acHits(newMatcher(kws), text)
	sortHits(want)
	sortHits(got)
	if len(want) != len(got) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if want[i] != got[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func FuzzMatcher(f *testing.F) {
	f.Add("he,she,his,hers", []byte("ushers"))
	f.Add("a,aa,aaa", []byte("aaaaAAAA"))
	f.Add("ghp_,gho_,-----begin", []byte("x ghp_ GHO_ -----BEGIN"))
	f.Fuzz(func(t *testing.T, kwList string, text []byte) {
		kws := strings.Split(kwList, ",")
		if len(kws) > 64 {
			kws = kws[:64]
		}
		if len(text) > 4096 {
			text = text[:4096]
		}
		want, got := naiveHits(kws, text), acHits(newMatcher(kws), text)
		sortHits(want)
		sortHits(got)
		if len(want) != len(got) {
			t.Fatalf("keywords %q: %d hits, want %d", kws, len(got), len(want))
		}
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("keywords %q: hit %v, want %v", kws, got[i], want[i])
			}
		}
	})
}

var fpRe = regexp.MustCompile(`^[0-9a-f]{16}$`)

// checkFindings holds for any input: masked matches, well-formed
// fingerprints, lines within the input.
func checkFindings(t *testing.T, found []inventory.Secret, data []byte) {
	t.Helper()
	lines := bytes.Count(data, []byte{'\n'}) + 1
	for _, s := range found {
		if !fpRe.MatchString(s.Fingerprint) {
			t.Fatalf("fingerprint %q", s.Fingerprint)
		}
		if s.Match != fileMatch && (!strings.HasSuffix(s.Match, maskStars) || utf8.RuneCountInString(s.Match) > 4+len(maskStars)) {
			t.Fatalf("match %q is not masked", s.Match)
		}
		if s.Match != fileMatch && (s.Line < 1 || s.Line > lines) {
			t.Fatalf("line %d of %d", s.Line, lines)
		}
	}
}

type lineMatch struct {
	line  int
	match string
}

func lineMatches(found []inventory.Secret) []lineMatch {
	out := make([]lineMatch, 0, len(found))
	for _, s := range found {
		out = append(out, lineMatch{s.Line, s.Match})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].line != out[j].line {
			return out[i].line < out[j].line
		}
		return out[i].match < out[j].match
	})
	return out
}

// FuzzScan: the scanner never panics, masks what it finds, and finds the
// same secrets however the input is chunked and read.
func FuzzScan(f *testing.F) {
	for _, pl := range plants(f) {
		f.Add(pl.path, []byte(pl.content))
	}
	f.Add("/app/.env", []byte("DB_PASSWORD=changeme\nAPI_KEY=${X}\n"))
	f.Add("/app/x.min.js", bytes.Repeat([]byte("ghp_aws_secretakiaeyJ-----BEGIN "), 200))
	if b, err := os.ReadFile("testdata/gitleaks.toml"); err == nil {
		f.Add("/app/gitleaks.toml", b)
	}
	whole, err := New(DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	tiny, err := New(DefaultConfig())
	if err != nil {
		f.Fatal(err)
	}
	tiny.chunk = 3
	f.Fuzz(func(t *testing.T, path string, data []byte) {
		ctx := context.Background()
		a, errA := whole.Scan(ctx, path, bytes.NewReader(data))
		checkFindings(t, a, data)
		b, errB := tiny.Scan(ctx, path, iotest.OneByteReader(bytes.NewReader(data)))
		checkFindings(t, b, data)
		if (errA == nil) != (errB == nil) {
			t.Fatalf("errors differ: %v / %v", errA, errB)
		}
		la, lb := lineMatches(a), lineMatches(b)
		if len(la) != len(lb) {
			t.Fatalf("whole: %+v\ntiny chunks: %+v", a, b)
		}
		for i := range la {
			if la[i] != lb[i] {
				t.Fatalf("whole: %+v\ntiny chunks: %+v", a, b)
			}
		}
		_ = whole.ScanText(ctx, "history[0]", string(data))
		if red := whole.Redact(ctx, "history[0]", string(data)); len(a) == 0 && len(whole.ScanText(ctx, "history[0]", string(data))) == 0 && red != string(data) {
			t.Fatalf("Redact changed a text without secrets")
		}
	})
}

func FuzzParseConfigYAML(f *testing.F) {
	f.Add([]byte("rules: [{id: a, regex: 'a(b)', keywords: [a], secret-group: 1}]\nallow: {paths: ['**/x'], fingerprints: [0123456789abcdef]}\n"))
	f.Add([]byte("default-rules: false\ndisable: []\nmax-file-size: 10\n"))
	f.Add([]byte("allow: {regexes: ['^x'], stop-words: [a], rules: [jwt]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := ParseConfig(b, "yaml")
		if err != nil {
			return
		}
		if s, err := New(cfg); err == nil {
			_, _ = s.Scan(context.Background(), "/x/y.conf", bytes.NewReader(b))
		}
	})
}

func FuzzParseConfigTOML(f *testing.F) {
	if b, err := os.ReadFile("testdata/gitleaks.toml"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("[[rules]]\nid = 'a'\nregex = 'a(b)'\nsecretGroup = 1\n[rules.allowlist]\nregexes = ['x']\n"))
	f.Add([]byte("[extend]\nuseDefault = true\ndisabledRules = ['jwt']\n[allowlist]\npaths = ['x']\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cfg, err := ParseConfig(b, "toml")
		if err != nil {
			return
		}
		if s, err := New(cfg); err == nil {
			_, _ = s.Scan(context.Background(), "/x/y.conf", bytes.NewReader(b))
		}
	})
}

func FuzzGlob(f *testing.F) {
	for _, g := range []string{"*.md", "**/testdata/**", "/etc/[ab]?.conf", "a**b"} {
		f.Add(g, "/etc/a1.conf")
	}
	f.Fuzz(func(t *testing.T, glob, path string) {
		re, err := GlobRegexp(glob)
		if err != nil {
			return
		}
		_ = re.MatchString(path)
	})
}

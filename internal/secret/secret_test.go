package secret

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

func newScanner(t testing.TB, cfg Config) *Scanner {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func defaultScanner(t testing.TB) *Scanner { return newScanner(t, DefaultConfig()) }

func scanString(t testing.TB, s *Scanner, path, content string) []inventory.Secret {
	t.Helper()
	got, err := s.Scan(context.Background(), path, strings.NewReader(content))
	if err != nil {
		t.Fatalf("Scan(%s): %v", path, err)
	}
	return got
}

// assertHidden fails when the marshalled findings reveal the secret, or its
// part past the shown prefix.
func assertHidden(t testing.TB, found []inventory.Secret, secret string) {
	t.Helper()
	b, err := json.Marshal(found)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) {
		t.Fatalf("the secret appears in the report: %s", b)
	}
	if hidden := secret[min(4, len(secret)):]; len(hidden) >= 6 && bytes.Contains(b, []byte(hidden)) {
		t.Fatalf("the hidden part of the secret appears in the report: %s", b)
	}
}

func findRule(found []inventory.Secret, rule string) *inventory.Secret {
	for i := range found {
		if found[i].RuleID == rule {
			return &found[i]
		}
	}
	return nil
}

func TestBuiltinRules(t *testing.T) {
	rules := Builtin()
	t.Logf("%d built-in rules", len(rules))
	if len(rules) < 70 {
		t.Errorf("%d built-in rules, want at least 70", len(rules))
	}
	s := defaultScanner(t)
	if len(s.Rules()) != len(rules) {
		t.Fatalf("scanner has %d rules, Builtin %d", len(s.Rules()), len(rules))
	}
	for _, r := range rules {
		if r.Title == "" || r.Category == "" {
			t.Errorf("%s: no title or category", r.ID)
		}
		if r.Regex != nil && len(r.Keywords) == 0 && r.Path == nil {
			t.Errorf("%s: a rule without keywords must be limited by path", r.ID)
		}
		for _, k := range r.Keywords {
			if k != strings.ToLower(k) {
				t.Errorf("%s: keyword %q is not lower case", r.ID, k)
			}
		}
	}
}

// TestPlanted: one realistic credential per rule is found by that rule, on
// its line, masked, with the expected fingerprint, and never shown.
func TestPlanted(t *testing.T) {
	s := defaultScanner(t)
	covered := map[string]bool{}
	for _, pl := range plants(t) {
		covered[pl.rule] = true
		t.Run(pl.rule, func(t *testing.T) {
			found := scanString(t, s, pl.path, pl.content)
			f := findRule(found, pl.rule)
			if f == nil {
				t.Fatalf("%s not found in %s; found %+v\n%s", pl.rule, pl.path, found, pl.content)
			}
			r := ruleByID(t, s, pl.rule)
			want := inventory.Secret{
				RuleID: r.ID, Category: r.Category, Title: r.Title, Severity: r.Severity, Path: pl.path,
				Line: pl.line, Match: Mask(pl.secret), Fingerprint: Fingerprint(r.ID, pl.secret),
			}
			if pl.file {
				want.Match = fileMatch
			}
			if diff := cmp.Diff(want, *f); diff != "" {
				t.Errorf("finding (-want +got):\n%s", diff)
			}
			if !pl.file {
				assertHidden(t, found, pl.secret)
			}
			if n := countRule(found, pl.rule); n != 1 {
				t.Errorf("%d findings of %s, want 1", n, pl.rule)
			}
		})
	}
	for _, r := range s.Rules() {
		if !covered[r.ID] {
			t.Errorf("rule %s has no planted test case", r.ID)
		}
	}
}

func countRule(found []inventory.Secret, rule string) int {
	n := 0
	for _, f := range found {
		if f.RuleID == rule {
			n++
		}
	}
	return n
}

func ruleByID(t testing.TB, s *Scanner, id string) *Rule {
	for _, r := range s.Rules() {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no rule %s", id)
	return nil
}

// TestPlantedReaders: the findings do not depend on how the input is read
// or chunked (one byte per Read, tiny chunks).
func TestPlantedReaders(t *testing.T) {
	big := defaultScanner(t)
	small := defaultScanner(t)
	small.chunk = 7
	for _, pl := range plants(t) {
		want, err := big.Scan(context.Background(), pl.path, strings.NewReader(pl.content))
		if err != nil {
			t.Fatal(err)
		}
		got, err := small.Scan(context.Background(), pl.path, iotest.OneByteReader(strings.NewReader(pl.content)))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: tiny chunks and one-byte reads differ (-want +got):\n%s", pl.rule, diff)
		}
	}
}

// TestPlantedInMinified: a token inside a long minified line, anywhere
// relative to the chunk boundaries, is found once, on line 1.
func TestPlantedInMinified(t *testing.T) {
	s := defaultScanner(t)
	g := newGen(7)
	tok := g.ghToken("ghp_")
	filler := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			b.WriteString(`function(e){return e&&e.__esModule?e:{default:e}};var t=require("x");`)
		}
		return b.String()[:n]
	}
	// The first round ends near chunk+lookback; probe around it.
	reach := max(maxLine, s.span) + longWindow
	boundary := s.chunk + reach
	for _, off := range []int{10, s.chunk - 3, boundary - 40, boundary - 20, boundary - 5, boundary - 1, boundary, boundary + 3, boundary + 500, 3 * s.chunk} {
		content := filler(off) + `a.token="` + tok + `";` + filler(3*s.chunk)
		found := scanString(t, s, "/app/static/js/main.min.js", content)
		if len(found) != 1 || found[0].RuleID != "github-pat" || found[0].Line != 1 {
			t.Errorf("offset %d: %+v", off, found)
		}
	}
}

func TestLineNumbersManyLines(t *testing.T) {
	s := defaultScanner(t)
	g := newGen(9)
	tok := "dop_v1_" + g.s(hexC, 64)
	var b strings.Builder
	for i := 1; i < 300_000; i++ {
		b.WriteString("key=value\n")
	}
	b.WriteString("DO_TOKEN=" + tok + "\n")
	found := scanString(t, s, "/app/big.txt", b.String())
	if len(found) != 1 || found[0].Line != 300_000 {
		t.Fatalf("%+v", found)
	}
}

func TestNegatives(t *testing.T) {
	s := defaultScanner(t)
	g := newGen(11)
	badSum := "ghp_" + g.s(alnumC, 30) + "AAAAAA"
	tests := []struct{ name, path, content string }{
		{"placeholder var yaml", "/app/config.yml", "password: ${PASSWORD}\n"},
		{"placeholder changeme", "/app/.env", "DB_PASSWORD=changeme\n"},
		{"placeholder xxx", "/app/config.yml", "api_key: xxxxxxxxxxxxxxxx\n"},
		{"placeholder angle", "/app/.env", "API_TOKEN=<your-token-here>\n"},
		{"placeholder template", "/app/config.yml", "client_secret: '{{ .Values.secret }}'\n"},
		{"low entropy", "/app/config.yml", "password: aaaaaaaabbbbbbbb\n"},
		{"env var reference", "/app/.env", "API_KEY=$API_KEY_FROM_VAULT\n"},
		{"password file path", "/app/.env", "DB_PASSWORD_FILE=/run/secrets/db\nSECRET=/run/secrets/app\n"},
		{"bad github checksum", "/app/x.sh", "GH_TOKEN=" + badSum + "\n"},
		{"url doc password", "/app/README.txt", "postgres://user:password@localhost/db\n"},
		{"pem header only", "/app/x.go", `const hdr = "-----BEGIN RSA PRIVATE KEY-----"` + "\n"},
		{"binary with keyword", "/usr/bin/tool", "\x7fELF\x00\x00ghp_" + g.ghToken("")[:0] + g.ghToken("ghp_") + "\n"},
		{"trust store", "/usr/lib/jvm/lib/security/app.jks", string(newGen(3).jks(2))},
		{"generic rule off its paths", "/app/main.go", `password := "Zx8#kQ2!mW9@pL4$"` + "\n"},
		{"kubeconfig token elsewhere", "/app/values.yml.txt", "    token: " + g.s(alnumC, 52) + "\n"},
		{"shell pwd", "/app/.env", "PWD=/home/app/src\n"},
		{"hf identifier", "/app/x.py", "hf_hub_download_with_cache_enabled\n"},
		{"curl then uid:gid", "/build.sh", "curl -fsSL https://x.internal/a.tgz | tar xz && docker run -u 1000:1000 app\n"},
		{"expired jwt ok but alg none", "/app/x.js", jwtNone() + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if found := scanString(t, s, tt.path, tt.content); len(found) != 0 {
				t.Errorf("unexpected findings: %+v", found)
			}
		})
	}
}

func jwtNone() string {
	return "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJzdmMtYWJjZGVmIiwiaWF0IjoxNzE4MDAwMDAwfQ.c2lnbmF0dXJlLW5vdC1yZWFsbHk"
}

func TestExamples(t *testing.T) {
	s := defaultScanner(t)
	tests := []struct {
		name, path, content, rule string
	}{
		{"aws doc key id", "/app/aws.txt", "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n", "aws-access-key-id"},
		{"aws doc secret", "/app/aws.txt", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", "aws-secret-access-key"},
		{"azurite", "/app/local.settings.json", `"AzureWebJobsStorage": "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"` + "\n", "azure-storage-connection-string"},
		{"jwt.io sample", "/app/x.js", "const t = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'\n", "jwt"},
		{"example host", "/app/x.py", `URL = "mongodb://reader:Sup3rS3cretPa55@db.example.com:27017/app"` + "\n", "mongodb-url-password"},
		{"documented in a comment", "/app/x.go", "// ex: " + "HRKU-" + newGen(5).s(alnumC, 60) + "\n", "heroku-api-key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found := scanString(t, s, tt.path, tt.content)
			f := findRule(found, tt.rule)
			if f == nil {
				t.Fatalf("%s not reported: %+v", tt.rule, found)
			}
			if !f.Example || f.Severity != Low {
				t.Errorf("example=%v severity=%s, want an example of severity LOW", f.Example, f.Severity)
			}
		})
	}
}

func TestLowSeverityPaths(t *testing.T) {
	s := defaultScanner(t)
	g := newGen(12)
	tok := g.ghToken("ghp_")
	for path, low := range map[string]bool{
		"/app/src/auth.go":                         false,
		"/app/src/auth_test.go":                    true,
		"/usr/lib/node_modules/x/test/fixtures.js": true,
		"/go/pkg/mod/x@v1/testdata/token.txt":      true,
		"/go/pkg/mod/x@v1/keys_test_data.go":       true,
		"/app/docs/setup.md":                       true,
		"/app/latest/config.js":                    false,
	} {
		found := scanString(t, s, path, "token = "+tok+"\n")
		if len(found) != 1 {
			t.Fatalf("%s: %+v", path, found)
		}
		if got := found[0].Severity == Low; got != low {
			t.Errorf("%s: severity %s", path, found[0].Severity)
		}
	}
}

func TestExpiredJWT(t *testing.T) {
	s := defaultScanner(t)
	hdr := "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
	pay := "eyJzdWIiOiJzdmMtcXd6bGtqIiwiZXhwIjoxNTAwMDAwMDAwfQ" // exp 2017
	found := scanString(t, s, "/app/x.js", "Authorization: Bearer "+hdr+"."+pay+"."+newGen(1).s(urlC, 43)+"\n")
	if len(found) != 1 || found[0].Severity != Low || found[0].Example {
		t.Fatalf("%+v", found)
	}
}

func TestSameSecretOnce(t *testing.T) {
	s := defaultScanner(t)
	tok := newGen(13).ghToken("ghp_")
	found := scanString(t, s, "/app/x.sh", "A="+tok+"\nB="+tok+"\nC="+tok+"\n")
	if len(found) != 1 || found[0].Line != 1 {
		t.Fatalf("%+v", found)
	}
}

func TestFindingCap(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxFindings = 5
	s := newScanner(t, cfg)
	g := newGen(14)
	var b strings.Builder
	for i := 0; i < 20; i++ {
		b.WriteString("t=" + g.ghToken("ghp_") + "\n")
	}
	found, err := s.Scan(context.Background(), "/app/x", strings.NewReader(b.String()))
	if !errors.Is(err, ErrTooMany) || len(found) != 5 {
		t.Fatalf("%d findings, err %v", len(found), err)
	}
}

func TestSizeCap(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MaxFileSize = 1 << 20
	s := newScanner(t, cfg)
	tok := newGen(15).ghToken("ghp_")
	head := "t=" + tok + "\n"
	_, err := s.Scan(context.Background(), "/x", strings.NewReader(head+strings.Repeat("a\n", 1<<20)))
	if !errors.Is(err, ErrFileTooLarge) {
		t.Fatalf("err %v, want ErrFileTooLarge", err)
	}
	exact := head + strings.Repeat("a", (1<<20)-len(head))
	if _, err := s.Scan(context.Background(), "/x", strings.NewReader(exact)); err != nil {
		t.Fatalf("a file of exactly the cap: %v", err)
	}
}

func TestReadError(t *testing.T) {
	s := defaultScanner(t)
	boom := errors.New("disk on fire")
	_, err := s.Scan(context.Background(), "/x", io.MultiReader(strings.NewReader(strings.Repeat("x", 20000)), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
}

func TestContextCancelled(t *testing.T) {
	s := defaultScanner(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Scan(ctx, "/x", strings.NewReader(strings.Repeat("x\n", 1<<20))); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
}

func TestScanText(t *testing.T) {
	s := defaultScanner(t)
	g := newGen(16)
	pw := g.password()
	tok := g.ghToken("ghp_")
	tests := []struct {
		path, text, rule string
	}{
		{"config.Env:DB_PASSWORD", "DB_PASSWORD=" + pw, "generic-env-secret"},
		{"config.Env:GITHUB_TOKEN", "GITHUB_TOKEN=" + tok, "github-pat"},
		{"config.Labels:deploy.token", "deploy.token=" + tok, "github-pat"},
		{"history[3]", "RUN /bin/sh -c curl -fsSL -u admin:" + pw + " https://repo.internal/x.tgz | tar xz # buildkit", "curl-basic-auth"},
		{"history[4]", "ARG NPM_AUTH_TOKEN=" + g.uuid(), "generic-env-secret"},
		{"history[5]", "/bin/sh -c #(nop)  ENV API_KEY=" + pw, "generic-env-secret"},
		{"history[6]", "RUN |1 SECRET_KEY=" + pw + " /bin/sh -c make", "generic-env-secret"},
		{"config.Cmd", "app --db-password=" + pw + " --port 80", "generic-env-secret"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			found := s.ScanText(context.Background(), tt.path, tt.text)
			if len(found) != 1 || found[0].RuleID != tt.rule || found[0].Path != tt.path || found[0].Line != 1 {
				t.Fatalf("%+v", found)
			}
			b, _ := json.Marshal(found)
			if strings.Contains(string(b), pw) || strings.Contains(string(b), tok) {
				t.Fatalf("secret in output: %s", b)
			}
		})
	}
	if found := s.ScanText(context.Background(), "config.Env:PATH", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin"); len(found) != 0 {
		t.Errorf("PATH: %+v", found)
	}
}

func TestRedact(t *testing.T) {
	s := defaultScanner(t)
	g := newGen(17)
	pw := g.password()
	tok := g.ghToken("ghp_")
	in := "RUN curl -u admin:" + pw + " https://x.internal/a && GH=" + tok + " make"
	got := s.Redact(context.Background(), "history[1]", in)
	want := "RUN curl -u admin:" + Mask(pw) + " https://x.internal/a && GH=" + Mask(tok) + " make"
	if got != want {
		t.Errorf("Redact:\n got %q\nwant %q", got, want)
	}
	if clean := "RUN apt-get update"; s.Redact(context.Background(), "history[0]", clean) != clean {
		t.Error("clean text changed")
	}
}

func TestAllowlists(t *testing.T) {
	g := newGen(18)
	tok := g.ghToken("ghp_")
	content := "t=" + tok + "\n"
	fp := Fingerprint("github-pat", tok)
	glob := func(s string) *regexp.Regexp { re, err := GlobRegexp(s); must(t, err); return re }
	tests := []struct {
		name  string
		allow Allowlist
		path  string
		want  int
	}{
		{"path glob", Allowlist{Paths: []*regexp.Regexp{glob("**/vendor/**")}}, "/app/vendor/x/y.sh", 0},
		{"path glob other", Allowlist{Paths: []*regexp.Regexp{glob("**/vendor/**")}}, "/app/src/y.sh", 1},
		{"base name glob", Allowlist{Paths: []*regexp.Regexp{glob("*.sh")}}, "/app/src/y.sh", 0},
		{"rule", Allowlist{Rules: []string{"github-pat"}}, "/x", 0},
		{"other rule", Allowlist{Rules: []string{"jwt"}}, "/x", 1},
		{"fingerprint", Allowlist{Fingerprints: []string{fp}}, "/x", 0},
		{"regex on secret", Allowlist{Regexes: []*regexp.Regexp{regexp.MustCompile(`^ghp_`)}}, "/x", 0},
		{"regex on line", Allowlist{Regexes: []*regexp.Regexp{regexp.MustCompile(`^t=`)}, RegexTarget: "line"}, "/x", 0},
		{"regex on match misses", Allowlist{Regexes: []*regexp.Regexp{regexp.MustCompile(`^t=`)}, RegexTarget: "match"}, "/x", 1},
		{"stop word", Allowlist{StopWords: []string{strings.ToUpper(tok[6:10])}}, "/x", 0},
		{"and: both", Allowlist{MatchAll: true, Fingerprints: []string{fp}, Paths: []*regexp.Regexp{glob("/x")}}, "/x", 0},
		{"and: one", Allowlist{MatchAll: true, Fingerprints: []string{fp}, Paths: []*regexp.Regexp{glob("/y")}}, "/x", 1},
		{"rule-scoped path", Allowlist{Rules: []string{"github-pat"}, Paths: []*regexp.Regexp{glob("/x")}}, "/x", 0},
		{"rule-scoped path other rule", Allowlist{Rules: []string{"jwt"}, Paths: []*regexp.Regexp{glob("/x")}}, "/x", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Allow = []Allowlist{tt.allow}
			s := newScanner(t, cfg)
			if got := len(scanString(t, s, tt.path, content)); got != tt.want {
				t.Errorf("%d findings, want %d", got, tt.want)
			}
		})
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestGlobRegexp(t *testing.T) {
	for glob, cases := range map[string]map[string]bool{
		"*.md":             {"/a/b/README.md": true, "README.md": true, "/a/md": false},
		"**/testdata/**":   {"/a/testdata/x": true, "testdata/x/y": true, "/a/testdatax/y": false},
		"usr/share/doc/**": {"/usr/share/doc/x/y": true, "usr/share/doc/z": true, "/opt/usr/share/doc/x": false},
		"/etc/secret?.txt": {"/etc/secret1.txt": true, "/etc/secret12.txt": false},
		"[ab].conf":        {"/x/a.conf": true, "/x/c.conf": false},
	} {
		re, err := GlobRegexp(glob)
		must(t, err)
		for path, want := range cases {
			if got := re.MatchString(path); got != want {
				t.Errorf("glob %q on %q = %v", glob, path, got)
			}
		}
	}
	if _, err := GlobRegexp("[abc"); err == nil {
		t.Error("unclosed [ accepted")
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"ghp_abcdefghijklmnopqrstuvwxyz0123456789": "ghp_********",
		"hunter2!":              "hu********",
		"abc":                   "********",
		"":                      "********",
		"pässwörd-pässwörd":     "päss********",
		"ab\x00cdefghijklmnopq": "ab?c********",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	a := Fingerprint("github-pat", "ghp_x")
	if len(a) != 16 || a == Fingerprint("github-oauth-token", "ghp_x") || a == Fingerprint("github-pat", "ghp_y") {
		t.Errorf("fingerprints not distinct: %s", a)
	}
	if a != Fingerprint("github-pat", "ghp_x") {
		t.Error("fingerprint not stable")
	}
	// Rule and secret are separated: "ab"+"c" differs from "a"+"bc".
	if Fingerprint("ab", "c") == Fingerprint("a", "bc") {
		t.Error("ambiguous fingerprint")
	}
}

func TestEntropy(t *testing.T) {
	if e := Entropy("aaaa"); e != 0 {
		t.Errorf("Entropy(aaaa) = %v", e)
	}
	if e := Entropy("abcd"); e != 2 {
		t.Errorf("Entropy(abcd) = %v", e)
	}
}

func TestChecksums(t *testing.T) {
	g := newGen(19)
	tok := g.ghToken("ghp_")
	if !base62Checksum(tok) {
		t.Error("generated token fails its checksum")
	}
	if base62Checksum(tok[:39] + string(rune(tok[39]^1))) {
		t.Error("corrupted token passes")
	}
	data := make([]byte, 52)
	for i := range data {
		data[i] = byte(g.r.IntN(32))
	}
	age := bech32Upper("age-secret-key-", data)
	if !validBech32(age) || validBech32(age[:len(age)-1]+"Q") && age[len(age)-1] != 'Q' {
		t.Error("bech32 check wrong")
	}
}

func TestNewRejects(t *testing.T) {
	re := regexp.MustCompile(`(a)`)
	for name, cfg := range map[string]Config{
		"no id":          {Rules: []*Rule{{Regex: re, Severity: High}}},
		"duplicate":      {Rules: []*Rule{{ID: "a", Regex: re, Severity: High}, {ID: "a", Regex: re, Severity: High}}},
		"nothing":        {Rules: []*Rule{{ID: "a", Severity: High}}},
		"group":          {Rules: []*Rule{{ID: "a", Regex: re, SecretGroup: 2, Severity: High}}},
		"severity":       {Rules: []*Rule{{ID: "a", Regex: re, Severity: "URGENT"}}},
		"empty allow":    {Allow: []Allowlist{{}}},
		"regex target":   {Allow: []Allowlist{{Rules: []string{"a"}, RegexTarget: "commit"}}},
		"span too large": {Rules: []*Rule{{ID: "a", Regex: re, Severity: High, Span: 1 << 30}}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestPlaceholderOnlyShort: a long random body that happens to contain a
// stand-in word ("fake", "xxxx", "-here") is still a secret; one in twenty
// generated RSA keys was dropped before this.
func TestPlaceholderOnlyShort(t *testing.T) {
	long := strings.Repeat("MIICXAIBAAKBgQDSh6R", 5) + "Fake" + strings.Repeat("u9VFS61pHomzt56tw0B", 5)
	if isPlaceholder(long) {
		t.Errorf("a %d-character body with \"Fake\" in it taken for a placeholder", len(long))
	}
	for _, s := range []string{"your_api_key_here", "xxxxxxxxxxxx", "fake-token-123", "${AWS_SECRET}", strings.Repeat("A", 60) + "..."} {
		if !isPlaceholder(s) {
			t.Errorf("%q not taken for a placeholder", s)
		}
	}
}

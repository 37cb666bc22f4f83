package secret

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func loadScanner(t *testing.T, path string) (*Scanner, Config) {
	t.Helper()
	cfg, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	return newScanner(t, cfg), cfg
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	must(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func TestGitleaksConfig(t *testing.T) {
	s, cfg := loadScanner(t, "testdata/gitleaks.toml")
	g := newGen(20)
	acme := "acme_live_" + g.s(lowerC+digitsC, 32)
	acmeTest := "acme_test_" + g.s(lowerC+digitsC, 28) + "0000"
	dbpw := g.password()

	// useDefault keeps our rules, minus the disabled one.
	if ruleByIDOrNil(s, "aws-access-key-id") == nil || ruleByIDOrNil(s, "jwt") != nil {
		t.Error("[extend] useDefault/disabledRules not applied")
	}
	if r := ruleByIDOrNil(s, "github-pat"); r == nil || r.Entropy != 3.5 || r.Validate == nil {
		t.Errorf("override of github-pat: %+v", r)
	}
	if r := ruleByIDOrNil(s, "acme-internal-token"); r == nil || r.Title != "ACME internal service token" || r.Category != "acme" || r.Keywords[1] != "acme_test_" {
		t.Errorf("acme rule: %+v", r)
	}
	wantWarn := []string{`no rule "no-such-default-rule"`, "[[rules.required]]"}
	for _, w := range wantWarn {
		if !strings.Contains(strings.Join(cfg.Warnings, "\n"), w) {
			t.Errorf("warnings %q lack %q", cfg.Warnings, w)
		}
	}

	tests := []struct {
		name, path, content string
		want                []string
	}{
		{"custom rule", "/srv/app.txt", "token: " + acme + "\n", []string{"acme-internal-token"}},
		{"rule allowlist on line", "/srv/app.txt", "fixture token: " + acme + "\n", nil},
		{"targeted AND allowlist: both", "/srv/app.txt", "token: " + acmeTest + "\n", nil},
		{"path-limited rule", "/srv/deploy.env", "ACME_DB_PASSWORD=" + dbpw + "\n", []string{"acme-db-password"}},
		{"path-limited rule elsewhere", "/srv/other.env", "ACME_DB_PASSWORD=" + dbpw + "\n", []string{"generic-env-secret"}},
		// A rule's allowlist is its own (as in gitleaks): the generic rule
		// still reports the value.
		{"legacy rule allowlist stopword", "/srv/deploy.env", "ACME_DB_PASSWORD=rotateme-" + g.s(alnumC, 8) + "\n", []string{"generic-env-secret"}},
		{"global path allowlist", "/srv/vendor/x/app.txt", "token: " + acme + "\n", nil},
		{"path-only rule", "/opt/acme/acme.lic", "LICENSE-" + g.s(alnumC, 40) + "\n", []string{"acme-license-file"}},
		{"default rule still on", "/srv/x.sh", "T=" + g.ghToken("ghp_") + "\n", []string{"github-pat"}},
		{"disabled default rule", "/srv/x.js", "t='" + jwtOf(g) + "'\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range scanString(t, s, tt.path, tt.content) {
				got = append(got, f.RuleID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("rules %v, want %v", got, tt.want)
			}
		})
	}
}

func jwtOf(g *gen) string {
	return "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4eXp6eSJ9." + g.s(urlC, 43)
}

func ruleByIDOrNil(s *Scanner, id string) *Rule {
	for _, r := range s.Rules() {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func TestGitleaksExtendPath(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "base.toml", `
[[rules]]
id = "base-token"
regex = '''base_[0-9a-f]{24}'''
keywords = ["base_"]
[[rules]]
id = "noisy"
regex = '''noisy_[0-9]{4}'''
keywords = ["noisy_"]
`)
	top := writeFile(t, dir, "top.toml", `
[extend]
path = "base.toml"
disabledRules = ["noisy"]
[[rules]]
id = "top-token"
regex = '''top_[0-9a-f]{24}'''
keywords = ["top_"]
`)
	s, _ := loadScanner(t, top)
	var ids []string
	for _, r := range s.Rules() {
		ids = append(ids, r.ID)
	}
	if strings.Join(ids, ",") != "base-token,top-token" {
		t.Errorf("rules %v", ids)
	}
	// Without [extend] only the file's rules run, as in gitleaks.
	only := writeFile(t, dir, "only.toml", "[[rules]]\nid = \"x\"\nregex = 'x_[0-9]{8}'\n")
	s, _ = loadScanner(t, only)
	if len(s.Rules()) != 1 {
		t.Errorf("%d rules", len(s.Rules()))
	}
	// A cycle is cut by the depth limit.
	loop := writeFile(t, dir, "loop.toml", "[extend]\npath = \"loop.toml\"\n")
	if _, err := LoadConfig(loop); err == nil || !strings.Contains(err.Error(), "nested") {
		t.Errorf("extend cycle: %v", err)
	}
}

func TestGitleaksConfigErrors(t *testing.T) {
	for name, src := range map[string]string{
		"bad regex":     "[[rules]]\nid = \"a\"\nregex = '(['\n",
		"bad toml":      "[[rules]\n",
		"no id":         "[[rules]]\nregex = 'a'\n",
		"both defaults": "[extend]\nuseDefault = true\npath = \"x.toml\"\n",
		"both allow":    "[allowlist]\npaths = ['a']\n[[allowlists]]\npaths = ['b']\n",
		"bad condition": "[[allowlists]]\ncondition = 'XOR'\npaths = ['a']\n",
		"empty allow":   "[[allowlists]]\ndescription = 'nothing'\n",
		"bad target":    "[[allowlists]]\ntargetRules = ['nope']\npaths = ['a']\n",
		"group":         "[[rules]]\nid = \"a\"\nregex = 'a'\nsecretGroup = 3\n",
	} {
		if _, err := ParseConfig([]byte(src), "toml"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestGitleaksDefaultConfig loads gitleaks' own default configuration, when
// its module is in the module cache (it is not a dependency): every rule
// must compile and run.
func TestGitleaksDefaultConfig(t *testing.T) {
	// gitleaks is not a dependency: fetch its module from the Go module
	// proxy (a reachable registry) the way `go mod download` does.
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/zricethezav/gitleaks/v8@v8.30.1").Output()
	var mod struct{ Dir string }
	if err == nil {
		err = json.Unmarshal(out, &mod)
	}
	if err != nil || mod.Dir == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("go mod download gitleaks v8.30.1: %v %s", err, out)
		}
		t.Skipf("gitleaks' module could not be downloaded: %v", err)
	}
	matches := []string{filepath.Join(mod.Dir, "config", "gitleaks.toml")}
	s, cfg := loadScanner(t, matches[len(matches)-1])
	if len(s.Rules()) < 100 {
		t.Errorf("%d rules from gitleaks' default config", len(s.Rules()))
	}
	t.Logf("%d rules, warnings %q", len(s.Rules()), cfg.Warnings)
	tok := newGen(21).ghToken("ghp_")
	found := scanString(t, s, "/app/x.sh", "export GITHUB_TOKEN="+tok+"\n")
	if len(found) == 0 {
		t.Error("gitleaks rules found no GitHub token")
	}
	assertHidden(t, found, tok)
}

func TestYAMLConfig(t *testing.T) {
	dir := t.TempDir()
	g := newGen(22)
	tok := g.ghToken("ghp_")
	p := writeFile(t, dir, "secrets.yaml", `
disable: [jwt]
max-file-size: 1048576
rules:
  - id: acme-api-key
    title: ACME API key
    category: ACME
    severity: critical
    keywords: [acme_]
    regex: '\b(acme_[a-z0-9]{32})\b'
    entropy: 3
    allow:
      regexes: ['^acme_0']
  - id: github-pat
    title: overridden
    severity: LOW
    keywords: [ghp_]
    regex: '\b(ghp_[A-Za-z0-9]{36})\b'
allow:
  paths: ['**/vendor/**', '*.md']
  rules: [aws-access-key-id]
  fingerprints: [`+Fingerprint("github-pat", tok)+`]
  stop-words: [dummy]
`)
	s, cfg := loadScanner(t, p)
	if cfg.MaxFileSize != 1<<20 || ruleByIDOrNil(s, "jwt") != nil {
		t.Errorf("max %d, jwt %v", cfg.MaxFileSize, ruleByIDOrNil(s, "jwt"))
	}
	if r := ruleByIDOrNil(s, "github-pat"); r.Title != "overridden" || r.Severity != Low {
		t.Errorf("override: %+v", r)
	}
	acme := "acme_" + g.s(lowerC+digitsC, 32)
	cases := map[string]int{
		"/app/x.conf:k=" + acme:                                1,
		"/app/x.conf:k=acme_0" + g.s(lowerC, 31):               0,
		"/app/vendor/x.conf:k=" + acme:                         0,
		"/app/README.md:k=" + acme:                             0,
		"/app/x.conf:k=AKIA" + g.s(upperC, 16):                 0,
		"/app/x.conf:k=" + tok:                                 0,
		"/app/x.conf:k=" + g.ghToken("ghp_"):                   1,
		"/app/x.conf:k=acme_" + "dummy" + g.s(lowerC, 27) + "": 0,
	}
	for in, want := range cases {
		path, content, _ := strings.Cut(in, ":")
		if got := len(scanString(t, s, path, content+"\n")); got != want {
			t.Errorf("%s: %d findings, want %d", in, got, want)
		}
	}
}

func TestYAMLConfigErrors(t *testing.T) {
	for name, src := range map[string]string{
		"unknown field": "rulez: []\n",
		"bad regex":     "rules: [{id: a, regex: '(['}]\n",
		"no id":         "rules: [{regex: a}]\n",
		"bad severity":  "rules: [{id: a, regex: a, severity: urgent}]\n",
		"bad glob":      "allow: {paths: ['[a']}\n",
		"bad fp":        "allow: {fingerprints: [xyz]}\n",
		"disable none":  "disable: [no-such-rule]\n",
		"negative size": "max-file-size: -1\n",
		"rule rules":    "rules: [{id: a, regex: a, allow: {rules: [b]}}]\n",
	} {
		if _, err := ParseConfig([]byte(src), "yaml"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ParseConfig([]byte("default-rules: false\n"), "yaml"); err != nil {
		t.Error(err)
	}
}

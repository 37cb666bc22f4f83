package secret

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
	"sigs.k8s.io/yaml"
)

// Custom rules come in two formats.
//
// bulkhead's YAML (.yaml, .yml, .json):
//
//	default-rules: true            # keep the built-in rules (default)
//	disable: [jwt]                 # rules to drop
//	max-file-size: 16777216
//	rules:
//	  - id: acme-api-key
//	    title: ACME API key
//	    severity: HIGH             # CRITICAL, HIGH (default), MEDIUM, LOW
//	    keywords: [acme_]
//	    regex: '\b(acme_[a-z0-9]{32})\b'
//	    secret-group: 1
//	    entropy: 3.5
//	    path: '\.conf$'            # regular expression limiting the rule
//	    allow: {regexes: ['^acme_0+$']}
//	allow:
//	  paths: ['**/testdata/**', '*.md']   # globs: files not scanned
//	  rules: [generic-config-secret]      # rules whose findings are dropped
//	  fingerprints: [0123456789abcdef]    # findings dropped by fingerprint
//	  regexes: ['^dev-']                  # secrets dropped by pattern
//	  stop-words: [sample]
//
// A rule whose id is a built-in rule's replaces it.
//
// gitleaks' TOML (.toml) is read as gitleaks reads it: [[rules]] with id,
// description, regex, secretGroup, entropy, keywords, path, tags and
// allowlists; [allowlist] / [[allowlists]] with targetRules, condition,
// regexTarget, paths, regexes and stopwords; [extend] with useDefault (our
// built-in rules stand in for gitleaks' own), path and disabledRules.
// Without [extend] only the file's rules run, as in gitleaks.

// maxConfigSize bounds a configuration file.
const maxConfigSize = 16 << 20

// maxExtendDepth bounds [extend] path chains.
const maxExtendDepth = 3

// customSpan is the window given to rules from configuration files: their
// patterns may cross lines (gitleaks matches over the whole file).
const customSpan = 2 << 10

// LoadConfig reads a rule file and returns the scanner configuration it
// describes, starting from DefaultConfig. Config.Warnings lists what was
// read but is not supported.
func LoadConfig(path string) (Config, error) {
	return loadConfig(path, 0)
}

func loadConfig(path string, depth int) (Config, error) {
	b, err := readLimited(path)
	if err != nil {
		return Config{}, err
	}
	format := "yaml"
	if strings.EqualFold(filepath.Ext(path), ".toml") {
		format = "toml"
	}
	cfg, err := parseConfig(b, format, filepath.Dir(path), depth)
	if err != nil {
		return Config{}, fmt.Errorf("secret config %s: %w", path, err)
	}
	return cfg, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(b) > maxConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxConfigSize)
	}
	return b, nil
}

// ParseConfig parses a configuration in format "yaml" or "toml" (gitleaks).
// An [extend] path is not followed: use LoadConfig for files.
func ParseConfig(b []byte, format string) (Config, error) {
	return parseConfig(b, format, "", 0)
}

func parseConfig(b []byte, format, dir string, depth int) (Config, error) {
	switch format {
	case "yaml", "yml", "json":
		return parseYAML(b)
	case "toml":
		return parseGitleaks(b, dir, depth)
	}
	return Config{}, fmt.Errorf("unknown config format %q", format)
}

// ---- bulkhead YAML --------------------------------------------------------

type yamlConfig struct {
	DefaultRules *bool      `json:"default-rules"`
	Disable      []string   `json:"disable"`
	MaxFileSize  *int64     `json:"max-file-size"`
	MaxFindings  *int       `json:"max-findings"`
	Rules        []yamlRule `json:"rules"`
	Allow        *yamlAllow `json:"allow"`
}

type yamlRule struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Category    string     `json:"category"`
	Severity    string     `json:"severity"`
	Keywords    []string   `json:"keywords"`
	Regex       string     `json:"regex"`
	SecretGroup int        `json:"secret-group"`
	Entropy     float64    `json:"entropy"`
	Path        string     `json:"path"`
	Allow       *yamlAllow `json:"allow"`
}

type yamlAllow struct {
	Paths        []string `json:"paths"`
	Rules        []string `json:"rules"`
	Fingerprints []string `json:"fingerprints"`
	Regexes      []string `json:"regexes"`
	StopWords    []string `json:"stop-words"`
}

func parseYAML(b []byte) (Config, error) {
	var yc yamlConfig
	if err := yaml.UnmarshalStrict(b, &yc); err != nil {
		return Config{}, fmt.Errorf("parsing: %w", err)
	}
	cfg := DefaultConfig()
	if yc.DefaultRules != nil && !*yc.DefaultRules {
		cfg.Rules = nil
	}
	if yc.MaxFileSize != nil {
		if *yc.MaxFileSize < 0 {
			return Config{}, errors.New("max-file-size: negative")
		}
		cfg.MaxFileSize = *yc.MaxFileSize
	}
	if yc.MaxFindings != nil {
		if *yc.MaxFindings < 0 {
			return Config{}, errors.New("max-findings: negative")
		}
		cfg.MaxFindings = *yc.MaxFindings
	}
	for i, yr := range yc.Rules {
		r, err := yr.rule()
		if err != nil {
			return Config{}, fmt.Errorf("rules[%d]: %w", i, err)
		}
		cfg.Rules = upsert(cfg.Rules, r)
	}
	var err error
	if cfg.Rules, err = disable(cfg.Rules, yc.Disable); err != nil {
		return Config{}, err
	}
	if yc.Allow != nil {
		al, err := yc.Allow.lists(true)
		if err != nil {
			return Config{}, fmt.Errorf("allow: %w", err)
		}
		cfg.Allow = append(cfg.Allow, al...)
	}
	return cfg, nil
}

func (yr yamlRule) rule() (*Rule, error) {
	if yr.ID == "" {
		return nil, errors.New("no id")
	}
	r := &Rule{
		ID: yr.ID, Title: yr.Title, Category: yr.Category, Severity: strings.ToUpper(yr.Severity),
		SecretGroup: yr.SecretGroup, Entropy: yr.Entropy, Span: customSpan,
	}
	if r.Title == "" {
		r.Title = r.ID
	}
	if r.Category == "" {
		r.Category = "Custom"
	}
	if r.Severity == "" {
		r.Severity = High
	}
	for _, k := range yr.Keywords {
		if k = strings.ToLower(k); k != "" {
			r.Keywords = append(r.Keywords, k)
		}
	}
	var err error
	if yr.Regex != "" {
		if r.Regex, err = regexp.Compile(yr.Regex); err != nil {
			return nil, fmt.Errorf("rule %s: regex: %w", yr.ID, err)
		}
	}
	if yr.Path != "" {
		if r.Path, err = regexp.Compile(yr.Path); err != nil {
			return nil, fmt.Errorf("rule %s: path: %w", yr.ID, err)
		}
	}
	if yr.Allow != nil {
		if len(yr.Allow.Rules) > 0 {
			return nil, fmt.Errorf("rule %s: allow.rules is only valid at the top level", yr.ID)
		}
		if r.Allow, err = yr.Allow.lists(false); err != nil {
			return nil, fmt.Errorf("rule %s: allow: %w", yr.ID, err)
		}
	}
	if err := checkRule(r); err != nil {
		return nil, err
	}
	return r, nil
}

// lists turns one allow block into independent allowlists: each criterion
// suppresses on its own.
func (ya *yamlAllow) lists(top bool) ([]Allowlist, error) {
	var out []Allowlist
	if len(ya.Paths) > 0 {
		a := Allowlist{Description: "allow.paths"}
		for _, g := range ya.Paths {
			re, err := GlobRegexp(g)
			if err != nil {
				return nil, err
			}
			a.Paths = append(a.Paths, re)
		}
		out = append(out, a)
	}
	if top && len(ya.Rules) > 0 {
		out = append(out, Allowlist{Description: "allow.rules", Rules: ya.Rules})
	}
	if len(ya.Fingerprints) > 0 {
		for _, fp := range ya.Fingerprints {
			if !isFingerprint(fp) {
				return nil, fmt.Errorf("fingerprint %q: want 16 hex digits", fp)
			}
		}
		out = append(out, Allowlist{Description: "allow.fingerprints", Fingerprints: ya.Fingerprints})
	}
	if len(ya.Regexes) > 0 {
		a := Allowlist{Description: "allow.regexes"}
		for _, s := range ya.Regexes {
			re, err := regexp.Compile(s)
			if err != nil {
				return nil, fmt.Errorf("regex: %w", err)
			}
			a.Regexes = append(a.Regexes, re)
		}
		out = append(out, a)
	}
	if len(ya.StopWords) > 0 {
		out = append(out, Allowlist{Description: "allow.stop-words", StopWords: ya.StopWords})
	}
	return out, nil
}

func isFingerprint(s string) bool {
	if len(s) != 16 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("0123456789abcdef", rune(s[i])) {
			return false
		}
	}
	return true
}

// GlobRegexp compiles a path glob: "*" matches within a path segment, "**"
// across segments, "?" one character. A glob without "/" matches a base
// name anywhere ("*.md"); one with "/" matches from the root, with or
// without a leading "/" ("usr/share/doc/**", "**/testdata/**").
func GlobRegexp(glob string) (*regexp.Regexp, error) {
	if glob == "" {
		return nil, errors.New("empty path glob")
	}
	g := strings.TrimPrefix(glob, "/")
	var b strings.Builder
	if strings.Contains(g, "/") {
		b.WriteString(`^/?`)
	} else {
		b.WriteString(`(?:^|/)`)
	}
	for i := 0; i < len(g); i++ {
		c := g[i]
		switch {
		case c == '*' && strings.HasPrefix(g[i:], "**/"):
			b.WriteString(`(?:.*/)?`)
			i += 2
		case c == '*' && strings.HasPrefix(g[i:], "**"):
			b.WriteString(`.*`)
			i++
		case c == '*':
			b.WriteString(`[^/]*`)
		case c == '?':
			b.WriteString(`[^/]`)
		case c == '[':
			j := strings.IndexByte(g[i:], ']')
			if j < 0 {
				return nil, fmt.Errorf("path glob %q: unclosed [", glob)
			}
			b.WriteString(g[i : i+j+1])
			i += j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("path glob %q: %w", glob, err)
	}
	return re, nil
}

// upsert replaces the rule with r's ID, or appends r.
func upsert(rules []*Rule, r *Rule) []*Rule {
	for i, x := range rules {
		if x.ID == r.ID {
			rules[i] = r
			return rules
		}
	}
	return append(rules, r)
}

func disable(rules []*Rule, ids []string) ([]*Rule, error) {
	if len(ids) == 0 {
		return rules, nil
	}
	drop := map[string]bool{}
	for _, id := range ids {
		drop[id] = true
	}
	out := rules[:0]
	for _, r := range rules {
		if drop[r.ID] {
			delete(drop, r.ID)
			continue
		}
		out = append(out, r)
	}
	for id := range drop {
		return nil, fmt.Errorf("disable: no rule %q", id)
	}
	return out, nil
}

// ---- gitleaks TOML -------------------------------------------------------

type glConfig struct {
	Title       string    `toml:"title"`
	Description string    `toml:"description"`
	MinVersion  string    `toml:"minVersion"`
	Extend      glExtend  `toml:"extend"`
	Rules       []glRule  `toml:"rules"`
	Allowlist   *glAllow  `toml:"allowlist"`
	Allowlists  []glAllow `toml:"allowlists"`
}

type glExtend struct {
	Path          string   `toml:"path"`
	URL           string   `toml:"url"`
	UseDefault    bool     `toml:"useDefault"`
	DisabledRules []string `toml:"disabledRules"`
}

type glRule struct {
	ID          string       `toml:"id"`
	Description string       `toml:"description"`
	Regex       string       `toml:"regex"`
	Path        string       `toml:"path"`
	SecretGroup int          `toml:"secretGroup"`
	Entropy     float64      `toml:"entropy"`
	Keywords    []string     `toml:"keywords"`
	Tags        []string     `toml:"tags"`
	Allowlist   *glAllow     `toml:"allowlist"`
	Allowlists  []glAllow    `toml:"allowlists"`
	Required    []glRequired `toml:"required"`
	SkipReport  bool         `toml:"skipReport"`
}

type glRequired struct {
	ID            string `toml:"id"`
	WithinLines   *int   `toml:"withinLines"`
	WithinColumns *int   `toml:"withinColumns"`
}

type glAllow struct {
	Description string   `toml:"description"`
	Condition   string   `toml:"condition"`
	Commits     []string `toml:"commits"`
	Paths       []string `toml:"paths"`
	RegexTarget string   `toml:"regexTarget"`
	Regexes     []string `toml:"regexes"`
	StopWords   []string `toml:"stopwords"`
	TargetRules []string `toml:"targetRules"`
}

func parseGitleaks(b []byte, dir string, depth int) (Config, error) {
	var gc glConfig
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&gc)
	if err != nil {
		return Config{}, fmt.Errorf("parsing: %w", err)
	}
	var warnings []string
	for _, k := range md.Undecoded() {
		warnings = append(warnings, fmt.Sprintf("ignored unknown key %q", k.String()))
	}
	if gc.Allowlist != nil {
		if len(gc.Allowlists) > 0 {
			return Config{}, errors.New("[allowlist] cannot be used alongside [[allowlists]]")
		}
		gc.Allowlists = append(gc.Allowlists, *gc.Allowlist)
	}

	// The base: our rules for useDefault, another file for path, or none.
	base := DefaultConfig()
	base.Rules = nil
	switch {
	case gc.Extend.UseDefault && gc.Extend.Path != "":
		return Config{}, errors.New("[extend] sets both useDefault and path")
	case gc.Extend.UseDefault:
		base.Rules = Builtin()
	case gc.Extend.Path != "":
		if dir == "" {
			return Config{}, errors.New("[extend] path needs a config file, not bytes")
		}
		if depth+1 >= maxExtendDepth {
			return Config{}, fmt.Errorf("[extend] nested deeper than %d", maxExtendDepth)
		}
		p := gc.Extend.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if base, err = loadConfig(p, depth+1); err != nil {
			return Config{}, err
		}
		warnings = append(warnings, base.Warnings...)
	case gc.Extend.URL != "":
		warnings = append(warnings, "[extend] url is not supported; ignored")
	}
	if base.Rules, err = disableLenient(base.Rules, gc.Extend.DisabledRules, &warnings); err != nil {
		return Config{}, err
	}

	for i, gr := range gc.Rules {
		r, err := gr.rule()
		if err != nil {
			return Config{}, fmt.Errorf("rules[%d] (%s): %w", i, gr.ID, err)
		}
		if len(gr.Required) > 0 {
			warnings = append(warnings, fmt.Sprintf("rule %s: [[rules.required]] is not supported; the rule reports on its own", gr.ID))
		}
		base.Rules = mergeRule(base.Rules, r, gr)
	}

	for i, ga := range gc.Allowlists {
		a, err := ga.allowlist()
		if err != nil {
			return Config{}, fmt.Errorf("allowlists[%d]: %w", i, err)
		}
		if len(ga.TargetRules) == 0 {
			base.Allow = append(base.Allow, a)
			continue
		}
		for _, id := range ga.TargetRules {
			found := false
			for _, r := range base.Rules {
				if r.ID == id {
					r.Allow = append(r.Allow, a)
					found = true
				}
			}
			if !found {
				return Config{}, fmt.Errorf("allowlists[%d]: target rule %q does not exist", i, id)
			}
		}
	}
	for _, r := range base.Rules {
		if err := checkRule(r); err != nil {
			return Config{}, err
		}
	}
	base.Warnings = warnings
	return base, nil
}

func (gr glRule) rule() (*Rule, error) {
	if gr.ID == "" {
		return nil, errors.New("no id")
	}
	r := &Rule{ID: gr.ID, Title: gr.Description, Category: "Custom", Severity: High,
		SecretGroup: gr.SecretGroup, Entropy: gr.Entropy, Span: customSpan, NoReport: gr.SkipReport}
	if r.Title == "" {
		r.Title = r.ID
	}
	if len(gr.Tags) > 0 {
		r.Category = gr.Tags[0]
	}
	for _, k := range gr.Keywords {
		if k = strings.ToLower(k); k != "" {
			r.Keywords = append(r.Keywords, k)
		}
	}
	var err error
	if gr.Regex != "" {
		if r.Regex, err = regexp.Compile(gr.Regex); err != nil {
			return nil, fmt.Errorf("regex: %w", err)
		}
	}
	if gr.Path != "" {
		if r.Path, err = regexp.Compile(gr.Path); err != nil {
			return nil, fmt.Errorf("path: %w", err)
		}
	}
	if gr.Allowlist != nil {
		if len(gr.Allowlists) > 0 {
			return nil, errors.New("[rules.allowlist] cannot be used alongside [[rules.allowlists]]")
		}
		gr.Allowlists = append(gr.Allowlists, *gr.Allowlist)
	}
	for i, ga := range gr.Allowlists {
		a, err := ga.allowlist()
		if err != nil {
			return nil, fmt.Errorf("allowlists[%d]: %w", i, err)
		}
		r.Allow = append(r.Allow, a)
	}
	return r, nil
}

// mergeRule adds r, or, when the base has a rule with its ID, overrides
// the base rule's fields that the file sets (gitleaks' extend semantics).
func mergeRule(rules []*Rule, r *Rule, gr glRule) []*Rule {
	for i, b := range rules {
		if b.ID != r.ID {
			continue
		}
		m := *b
		if gr.Description != "" {
			m.Title = r.Title
		}
		if r.Entropy != 0 {
			m.Entropy = r.Entropy
		}
		if r.SecretGroup != 0 {
			m.SecretGroup = r.SecretGroup
		}
		if r.Regex != nil {
			m.Regex, m.Validate, m.Span, m.squeeze = r.Regex, nil, r.Span, false
		}
		if r.Path != nil {
			m.Path = r.Path
		}
		m.Keywords = append(append([]string(nil), b.Keywords...), r.Keywords...)
		m.Allow = append(append([]Allowlist(nil), b.Allow...), r.Allow...)
		m.NoReport = m.NoReport || r.NoReport
		rules[i] = &m
		return rules
	}
	if r.Regex == nil && r.Path == nil {
		return rules // a rule that only overrides, with nothing to override
	}
	return append(rules, r)
}

func disableLenient(rules []*Rule, ids []string, warnings *[]string) ([]*Rule, error) {
	known := map[string]bool{}
	for _, r := range rules {
		known[r.ID] = true
	}
	var drop []string
	for _, id := range ids {
		if known[id] {
			drop = append(drop, id)
		} else {
			*warnings = append(*warnings, fmt.Sprintf("[extend] disabledRules: no rule %q", id))
		}
	}
	return disable(rules, drop)
}

func (ga glAllow) allowlist() (Allowlist, error) {
	a := Allowlist{Description: ga.Description, StopWords: ga.StopWords}
	switch strings.ToUpper(ga.Condition) {
	case "", "OR", "||":
	case "AND", "&&":
		a.MatchAll = true
	default:
		return a, fmt.Errorf("condition %q: want AND or OR", ga.Condition)
	}
	switch ga.RegexTarget {
	case "", "secret":
	case "match", "line":
		a.RegexTarget = ga.RegexTarget
	default:
		return a, fmt.Errorf("regexTarget %q: want secret, match or line", ga.RegexTarget)
	}
	for _, p := range ga.Paths {
		re, err := regexp.Compile(p)
		if err != nil {
			return a, fmt.Errorf("path: %w", err)
		}
		a.Paths = append(a.Paths, re)
	}
	for _, s := range ga.Regexes {
		re, err := regexp.Compile(s)
		if err != nil {
			return a, fmt.Errorf("regex: %w", err)
		}
		a.Regexes = append(a.Regexes, re)
	}
	if len(a.Paths)+len(a.Regexes)+len(a.StopWords) == 0 {
		if len(ga.Commits) > 0 {
			// Commit allowlists mean nothing for a file scan: allow nothing.
			a.Regexes = []*regexp.Regexp{regexp.MustCompile(`$^`)}
			return a, nil
		}
		return a, errors.New("empty allowlist")
	}
	return a, nil
}

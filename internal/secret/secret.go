// Package secret finds credentials in files and in short texts (an image's
// Env, Labels, Cmd and history). It reports each finding masked, with a
// stable fingerprint; the secret itself never leaves the scanner.
//
// A file is read once, in bounded chunks. A keyword prefilter (an
// Aho–Corasick automaton over the lower-cased keywords of every rule) runs
// over each chunk; only the rules whose keywords occur run their regular
// expression, and only over a window around each occurrence (the line, or a
// slice of a long line), so the cost stays linear in the input and a file
// without any keyword never meets a regex.
package secret

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Severities, as in inventory.Secret.
const (
	Critical = "CRITICAL"
	High     = "HIGH"
	Medium   = "MEDIUM"
	Low      = "LOW"
)

// Rule describes one kind of credential.
type Rule struct {
	ID       string // stable, kebab-case: "github-pat"
	Category string // family: "GitHub", "AWS", "Private key"
	Title    string
	Severity string
	// Keywords gate the rule: its regex runs only near an occurrence of one
	// of them (compared case-insensitively). A rule without keywords runs
	// on every line of the files it applies to.
	Keywords []string
	// Regex finds the credential. Nil makes a file rule: every file whose
	// path matches Path is reported as a whole (keystores).
	Regex *regexp.Regexp
	// SecretGroup is the capture group holding the secret; 0 means the
	// first non-empty group, or the whole match when there is none.
	SecretGroup int
	// Entropy, when positive, is the minimum Shannon entropy (bits per
	// byte) of the secret.
	Entropy float64
	// Validate, when set, must accept the secret (checksums, structure).
	// For file rules it receives the file's first bytes.
	Validate func(secret string) bool
	// Path, when set, limits the rule to matching paths.
	Path *regexp.Regexp
	// Span, when positive, lets the regex match across lines: it runs on a
	// window reaching Span bytes either side of the keyword (PEM blocks).
	Span int
	// Allow lists exceptions for this rule only.
	Allow []Allowlist
	// NoReport keeps a rule that must never produce a finding (a gitleaks
	// rule with skipReport, which exists only to be required by others).
	NoReport bool

	squeeze bool // multi-line secret: drop line breaks before fingerprinting
	// grade, when set, tells a documentation sample (example) or a
	// credential that can no longer be used (low: an expired JWT).
	grade func(secret string) (example, low bool)
	// generic rules run after all others, custom ones included, so that a
	// specific rule claims a secret first.
	generic bool
	// need, when set, must occur in a window for the regex to run on it (a
	// URL with credentials has an "@"): a cheap test that spares most
	// windows the regex.
	need string
	// pre, when set, must accept a window for the regex to run on it.
	pre func(win []byte) bool
	// reach, when positive, narrows the window to that many bytes either
	// side of the keyword (within its line): for rules whose keyword is
	// inside a short token, so that long minified lines cost little.
	reach int
}

// Allowlist suppresses findings. With MatchAll false a finding is allowed
// when any criterion matches; with MatchAll true, when all that are set
// match. An allowlist with only Rules set allows every finding of those
// rules.
type Allowlist struct {
	Description string
	// Rules limits the allowlist to findings of these rule IDs.
	Rules        []string
	Paths        []*regexp.Regexp
	Fingerprints []string
	// Regexes are tested against RegexTarget: "secret" (default), "match"
	// or "line".
	Regexes     []*regexp.Regexp
	RegexTarget string
	StopWords   []string
	MatchAll    bool
}

// Config configures a Scanner.
type Config struct {
	Rules []*Rule
	Allow []Allowlist
	// MaxFileSize caps the bytes read from one file; 0 means no cap.
	MaxFileSize int64
	// MaxFindings caps findings per file; 0 means DefaultMaxFindings.
	MaxFindings int
	// LowSeverityPaths: findings in matching paths (tests, fixtures,
	// examples, docs) are reported with severity LOW. Nil disables.
	LowSeverityPaths *regexp.Regexp
	// Warnings is set by LoadConfig: parts of a rule file that were read
	// but are not supported (gitleaks' [[rules.required]], [extend] url).
	Warnings []string
}

// Defaults.
const (
	DefaultMaxFileSize = 32 << 20
	DefaultMaxFindings = 100
)

// DefaultConfig is the built-in rule set with default limits.
func DefaultConfig() Config {
	return Config{
		Rules:            Builtin(),
		MaxFileSize:      DefaultMaxFileSize,
		MaxFindings:      DefaultMaxFindings,
		LowSeverityPaths: DefaultLowSeverityPaths,
	}
}

// Errors returned, wrapped, alongside partial results.
var (
	ErrFileTooLarge = errors.New("file exceeds the size cap")
	ErrTooMany      = errors.New("too many findings")
	ErrBudget       = errors.New("regex budget exhausted")
)

// Tuning.
const (
	chunkSize  = 1 << 20 // bytes of a file scanned per round
	sniffSize  = 8 << 10 // bytes inspected to tell text from binary
	maxLine    = 4 << 10 // lines longer than this are searched in windows
	longWindow = 2 << 10 // bytes either side of a keyword on a long line
	maxSpan    = 64 << 10
	// regexBudget bounds regex input per byte of file: dense keyword soup
	// cannot make a scan superlinear.
	regexBudget     = 24
	regexBudgetBase = 4 << 20
	maxCandidates   = 256 // regex matches examined per window
	fileRuleMax     = 16 << 20
)

// Scanner finds secrets. It is safe for concurrent use.
type Scanner struct {
	cfg       Config
	rules     []*Rule
	ac        *matcher
	kwRules   [][]int32 // keyword id -> rule indexes
	maxKw     int
	noKw      []int32 // regex rules without keywords
	fileRules []int32
	span      int // largest Span of any rule
	skipPaths []*regexp.Regexp
	chunk     int // bytes scanned per round; tests shrink it
	pool      sync.Pool
}

// New compiles a scanner. Rule IDs must be unique.
func New(cfg Config) (*Scanner, error) {
	if cfg.MaxFindings <= 0 {
		cfg.MaxFindings = DefaultMaxFindings
	}
	s := &Scanner{cfg: cfg, chunk: chunkSize}
	seen := map[string]bool{}
	kwID := map[string]int32{}
	var keywords []string
	ordered := make([]*Rule, 0, len(cfg.Rules))
	for _, generic := range []bool{false, true} {
		for _, r := range cfg.Rules {
			if r != nil && r.generic == generic {
				ordered = append(ordered, r)
			}
		}
	}
	if len(ordered) != len(cfg.Rules) {
		return nil, errors.New("nil rule")
	}
	for _, r := range ordered {
		if err := checkRule(r); err != nil {
			return nil, err
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("rule %q defined twice", r.ID)
		}
		seen[r.ID] = true
		ri := int32(len(s.rules))
		s.rules = append(s.rules, r)
		if r.Regex == nil {
			s.fileRules = append(s.fileRules, ri)
			continue
		}
		if r.Span > s.span {
			s.span = r.Span
		}
		if len(r.Keywords) == 0 {
			s.noKw = append(s.noKw, ri)
			continue
		}
		for _, k := range r.Keywords {
			k = foldASCII(k)
			id, ok := kwID[k]
			if !ok {
				id = int32(len(keywords))
				kwID[k] = id
				keywords = append(keywords, k)
				s.kwRules = append(s.kwRules, nil)
				s.maxKw = max(s.maxKw, len(k))
			}
			if !containsInt(s.kwRules[id], ri) {
				s.kwRules[id] = append(s.kwRules[id], ri)
			}
		}
	}
	for _, a := range cfg.Allow {
		if err := checkAllowlist(a); err != nil {
			return nil, err
		}
		if len(a.Rules) == 0 && len(a.Paths) > 0 && len(a.Fingerprints)+len(a.Regexes)+len(a.StopWords) == 0 {
			s.skipPaths = append(s.skipPaths, a.Paths...)
		}
	}
	s.ac = newMatcher(keywords)
	return s, nil
}

func checkRule(r *Rule) error {
	if r == nil || r.ID == "" {
		return errors.New("rule without an id")
	}
	if r.Regex == nil && r.Path == nil {
		return fmt.Errorf("rule %q: needs a regex or a path", r.ID)
	}
	if r.Regex != nil && r.SecretGroup > r.Regex.NumSubexp() {
		return fmt.Errorf("rule %q: secret group %d, but the regex has %d groups", r.ID, r.SecretGroup, r.Regex.NumSubexp())
	}
	if r.SecretGroup < 0 || r.Entropy < 0 || r.Span < 0 || r.Span > maxSpan {
		return fmt.Errorf("rule %q: secret group, entropy and span must be >= 0 (span <= %d)", r.ID, maxSpan)
	}
	switch r.Severity {
	case Critical, High, Medium, Low:
	default:
		return fmt.Errorf("rule %q: severity %q is not one of CRITICAL, HIGH, MEDIUM, LOW", r.ID, r.Severity)
	}
	for _, a := range r.Allow {
		if err := checkAllowlist(a); err != nil {
			return fmt.Errorf("rule %q: %w", r.ID, err)
		}
	}
	return nil
}

func checkAllowlist(a Allowlist) error {
	switch a.RegexTarget {
	case "", "secret", "match", "line":
	default:
		return fmt.Errorf("allowlist: regex target %q is not secret, match or line", a.RegexTarget)
	}
	if len(a.Rules)+len(a.Paths)+len(a.Fingerprints)+len(a.Regexes)+len(a.StopWords) == 0 {
		return errors.New("allowlist: empty (no rules, paths, fingerprints, regexes or stop words)")
	}
	return nil
}

// foldASCII lower-cases A-Z only, as the keyword automaton does.
func foldASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		b[i] = lowerASCII(c)
	}
	return string(b)
}

func containsInt(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Rules returns the scanner's rules in order.
func (s *Scanner) Rules() []*Rule { return s.rules }

// Fingerprint identifies a secret found by a rule without disclosing it:
// the first 16 hex digits of SHA-256(ruleID, 0x00, secret).
func Fingerprint(ruleID, secret string) string {
	h := sha256.New()
	h.Write([]byte(ruleID))
	h.Write([]byte{0})
	h.Write([]byte(secret))
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// ScanText scans a short text that is not a file: an image config entry or
// a history line. path names it in findings ("config.Env:DB_PASSWORD",
// "config.Labels:KEY", "config.Cmd", "history[5]") and selects path-limited
// rules the same way a file path does. The text is never treated as
// binary and is not size-capped.
func (s *Scanner) ScanText(ctx context.Context, path, text string) []inventory.Secret {
	out, _ := s.scan(ctx, path, strings.NewReader(text), true)
	return out
}

// Scan reads r to the end (or the size cap) and returns the secrets in it,
// in order of line. Binary content is skipped, except files that a file
// rule reports (keystores). On a limit (size cap, finding cap, regex
// budget) it returns what it found with an error wrapping ErrFileTooLarge,
// ErrTooMany or ErrBudget; on a read error, what it found and that error.
func (s *Scanner) Scan(ctx context.Context, path string, r io.Reader) ([]inventory.Secret, error) {
	return s.scan(ctx, path, r, false)
}

// Redact returns text with every secret that ScanText finds replaced by its
// mask, for showing a history line or an Env entry in a report.
func (s *Scanner) Redact(ctx context.Context, path, text string) string {
	f := s.getFile(ctx, path, true)
	defer s.putFile(f)
	f.redact, f.eof = true, true
	buf := []byte(text)
	f.process(buf, 0, len(buf))
	if len(f.spans) == 0 {
		return text
	}
	sort.Slice(f.spans, func(i, j int) bool { return f.spans[i].start < f.spans[j].start })
	var b strings.Builder
	last := 0
	for _, sp := range f.spans {
		if int(sp.start) < last {
			continue
		}
		b.WriteString(text[last:sp.start])
		b.WriteString(Mask(text[sp.start:sp.end]))
		last = int(sp.end)
	}
	b.WriteString(text[last:])
	return b.String()
}

func (s *Scanner) pathSkipped(path string) bool {
	for _, re := range s.skipPaths {
		if re.MatchString(path) {
			return true
		}
	}
	return false
}

func (s *Scanner) scan(ctx context.Context, path string, r io.Reader, text bool) ([]inventory.Secret, error) {
	if s.pathSkipped(path) {
		return nil, nil
	}
	f := s.getFile(ctx, path, text)
	defer s.putFile(f)
	err := f.run(r)
	out := f.out
	f.out = nil
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out, err
}

// window is a byte range of the buffer a rule's regex runs on.
type window struct{ start, end int }

type span struct{ start, end int64 }

// fileScan is the state of one scan; pooled.
type fileScan struct {
	s      *Scanner
	ctx    context.Context
	path   string
	text   bool
	redact bool

	active   []int8 // per rule: 0 unknown, 1 applies to this path, -1 not
	windows  [][]window
	touched  []int32
	seen     map[string]bool // rule+fingerprint already reported
	claimed  map[int64]bool  // secret start offsets claimed by an earlier rule
	out      []inventory.Secret
	spans    []span
	base     int64 // file offset of buf[0]
	baseLine int   // line number of buf[0]
	budget   int64
	eof      bool // buf ends at the end of the input
	err      error
	buf      []byte
}

func (s *Scanner) getFile(ctx context.Context, path string, text bool) *fileScan {
	f, _ := s.pool.Get().(*fileScan)
	if f == nil {
		f = &fileScan{
			s:       s,
			active:  make([]int8, len(s.rules)),
			windows: make([][]window, len(s.rules)),
			seen:    map[string]bool{},
			claimed: map[int64]bool{},
		}
	}
	f.ctx, f.path, f.text = ctx, path, text
	f.baseLine = 1
	f.budget = regexBudgetBase
	return f
}

func (s *Scanner) putFile(f *fileScan) {
	clear(f.active)
	clear(f.seen)
	clear(f.claimed)
	f.out, f.spans, f.err, f.ctx, f.redact, f.eof = nil, f.spans[:0], nil, nil, false, false
	f.base = 0
	if cap(f.buf) > 2*chunkSize+4*maxSpan {
		f.buf = nil
	}
	s.pool.Put(f)
}

func (f *fileScan) applies(ri int32) bool {
	switch f.active[ri] {
	case 1:
		return true
	case -1:
		return false
	}
	r := f.s.rules[ri]
	ok := r.Path == nil || r.Path.MatchString(f.path)
	if ok {
		for i := range r.Allow {
			if pathOnly(&r.Allow[i]) && anyMatch(r.Allow[i].Paths, f.path) {
				ok = false
			}
		}
		for i := range f.s.cfg.Allow {
			a := &f.s.cfg.Allow[i]
			if pathOnly(a) && len(a.Rules) > 0 && containsStr(a.Rules, r.ID) && anyMatch(a.Paths, f.path) {
				ok = false
			}
		}
	}
	if ok {
		f.active[ri] = 1
	} else {
		f.active[ri] = -1
	}
	return ok
}

func pathOnly(a *Allowlist) bool {
	return len(a.Paths) > 0 && len(a.Fingerprints)+len(a.Regexes)+len(a.StopWords) == 0
}

func anyMatch(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

func containsStr(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// run reads the input in chunks and processes each.
func (f *fileScan) run(r io.Reader) error {
	s := f.s
	reach := max(maxLine, s.span) + longWindow
	lookahead := reach + s.maxKw
	lookback := reach
	size := s.chunk + lookahead + lookback
	if cap(f.buf) < size {
		f.buf = make([]byte, 0, size)
	}
	buf := f.buf[:0]

	// Sniff: text or binary.
	var total int64
	n, err := io.ReadFull(r, buf[:sniffSize])
	buf = buf[:n]
	total += int64(n)
	eof := err == io.EOF || err == io.ErrUnexpectedEOF
	if err != nil && !eof {
		return fmt.Errorf("reading: %w", err)
	}
	var fileHash hashSink
	if len(s.fileRules) > 0 {
		fileHash.rules = f.matchFileRules()
		if len(fileHash.rules) > 0 {
			fileHash.start(buf)
		}
	}
	if !f.text && isBinary(buf) {
		var ferr error
		if len(fileHash.rules) > 0 {
			ferr = fileHash.drain(r)
			f.reportFiles(&fileHash)
		}
		return ferr
	}

	scanFrom := 0
	for {
		if err := f.ctx.Err(); err != nil {
			return err
		}
		for !eof && len(buf) < cap(buf) {
			want := cap(buf) - len(buf)
			if max := s.cfg.MaxFileSize; max > 0 && !f.text && total+int64(want) > max {
				want = int(max - total)
				if want <= 0 {
					var probe [1]byte
					if n, _ := io.ReadFull(r, probe[:]); n > 0 {
						f.setErr(fmt.Errorf("%w (%d bytes); the rest is not scanned", ErrFileTooLarge, max))
					}
					eof = true
					break
				}
			}
			n, err := io.ReadFull(r, buf[len(buf):len(buf)+want])
			fileHash.write(buf[len(buf) : len(buf)+n])
			buf = buf[:len(buf)+n]
			total += int64(n)
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				eof = true
			} else if err != nil {
				return fmt.Errorf("reading: %w", err)
			}
		}
		limit := len(buf)
		if !eof {
			limit = len(buf) - lookahead
			if i := bytes.LastIndexByte(buf[scanFrom:limit], '\n'); i >= 0 {
				limit = scanFrom + i + 1
			}
		}
		f.buf, f.eof = buf, eof
		f.budget += int64(limit-scanFrom) * regexBudget
		f.process(buf, scanFrom, limit)
		if f.err != nil && !errors.Is(f.err, ErrFileTooLarge) {
			break // finding cap or budget: stop reading
		}
		if eof {
			break
		}
		keep := max(0, limit-lookback)
		f.baseLine += bytes.Count(buf[:keep], []byte{'\n'})
		f.base += int64(keep)
		n := copy(buf, buf[keep:])
		buf = buf[:n]
		scanFrom = limit - keep
	}
	f.buf = buf
	if len(fileHash.rules) > 0 {
		if !eof {
			_ = fileHash.drain(r)
		}
		f.reportFiles(&fileHash)
	}
	return f.err
}

func (f *fileScan) setErr(err error) {
	if f.err == nil {
		f.err = err
	}
}

// process finds secrets whose keyword starts in buf[from:limit]. Windows may
// reach outside that range, up to the whole of buf.
func (f *fileScan) process(buf []byte, from, limit int) {
	s := f.s
	f.touched = f.touched[:0]
	end := min(len(buf), limit+s.maxKw-1)
	if len(s.kwRules) > 0 && from < end {
		s.ac.scan(buf[from:end], func(h hit) {
			e := from + h.end
			st := e - s.ac.kwLen[h.kw]
			if st >= limit {
				return
			}
			for _, ri := range s.kwRules[h.kw] {
				f.addWindow(buf, ri, st, e)
			}
		})
	}
	for _, ri := range s.noKw {
		if !f.applies(ri) {
			continue
		}
		// The whole segment, with its margins: a match that crosses the
		// segment's end is whole here, and found again (and deduplicated)
		// from the next segment.
		reach := max(maxLine, s.span) + longWindow
		lo, hi := max(0, from-reach), min(len(buf), limit+reach)
		if len(f.windows[ri]) == 0 {
			f.touched = append(f.touched, ri)
		}
		f.windows[ri] = append(f.windows[ri], window{lo, hi})
	}
	// Rules in rule order, so that a specific rule claims a secret before a
	// generic one sees it.
	sort.Slice(f.touched, func(i, j int) bool { return f.touched[i] < f.touched[j] })
	for _, ri := range f.touched {
		for _, w := range f.windows[ri] {
			if f.err != nil {
				break
			}
			f.runRegex(buf, ri, w)
		}
		f.windows[ri] = f.windows[ri][:0]
	}
}

// addWindow records the window around a keyword at buf[st:e] for rule ri,
// merging it with the rule's previous window when they overlap.
func (f *fileScan) addWindow(buf []byte, ri int32, st, e int) {
	ws := f.windows[ri]
	if n := len(ws); n > 0 && e <= ws[n-1].end && st >= ws[n-1].start {
		return // inside the current window
	}
	if !f.applies(ri) {
		return
	}
	r := f.s.rules[ri]
	var lo, hi int
	if r.Span > 0 {
		lo, hi = max(0, st-r.Span), min(len(buf), e+r.Span)
	} else {
		reach, long := maxLine, longWindow
		if r.reach > 0 {
			reach, long = r.reach, r.reach
		}
		lo = max(0, st-reach)
		if i := bytes.LastIndexByte(buf[lo:st], '\n'); i >= 0 {
			lo += i + 1
		} else if lo > 0 {
			lo = max(0, st-long)
		}
		hi = min(len(buf), e+reach)
		if i := bytes.IndexByte(buf[e:hi], '\n'); i >= 0 {
			hi = e + i
		} else if hi < len(buf) {
			hi = min(len(buf), e+long)
		}
	}
	// Overlapping windows merge, so no byte is searched twice; but a rule
	// with a reach keeps its windows small (a small input lets the regex
	// engine backtrack instead of simulating an NFA, many times faster),
	// and a secret seen from two windows is reported once.
	if n := len(ws); n > 0 && lo <= ws[n-1].end && (r.reach == 0 || hi-ws[n-1].start <= 8*r.reach) {
		ws[n-1].start = min(ws[n-1].start, lo)
		ws[n-1].end = max(ws[n-1].end, hi)
		return
	}
	if len(ws) == 0 {
		f.touched = append(f.touched, ri)
	}
	f.windows[ri] = append(ws, window{lo, hi})
}

func (f *fileScan) runRegex(buf []byte, ri int32, w window) {
	r := f.s.rules[ri]
	if !f.text {
		f.budget -= int64(w.end - w.start)
		if f.budget < 0 {
			f.setErr(fmt.Errorf("%w: keyword-dense content, the rest is not scanned", ErrBudget))
			return
		}
	}
	win := buf[w.start:w.end]
	if r.need != "" && !bytes.Contains(win, []byte(r.need)) || r.pre != nil && !r.pre(win) {
		return
	}
	// A window edge that is not a line break or an end of the file may cut
	// a token: a match touching it could be a fragment, so it is dropped
	// (the token is longer than the window reaches, or another window
	// holds it whole).
	cutStart := w.start > 0 && buf[w.start-1] != '\n' || w.start == 0 && f.base > 0 && !f.text
	cutEnd := w.end < len(buf) && buf[w.end] != '\n' || w.end == len(buf) && !f.eof
	for _, m := range r.Regex.FindAllSubmatchIndex(win, maxCandidates) {
		ss, se := secretSpan(r, m)
		if ss < 0 || se <= ss || cutStart && m[0] == 0 || cutEnd && m[1] == len(win) {
			continue
		}
		f.consider(buf, ri, w.start+m[0], w.start+m[1], w.start+ss, w.start+se)
		if f.err != nil {
			return
		}
	}
}

// secretSpan picks the secret out of a match: SecretGroup, else the first
// non-empty group, else the whole match.
func secretSpan(r *Rule, m []int) (int, int) {
	if r.SecretGroup > 0 {
		return m[2*r.SecretGroup], m[2*r.SecretGroup+1]
	}
	for g := 1; 2*g+1 < len(m); g++ {
		if m[2*g] >= 0 && m[2*g+1] > m[2*g] {
			return m[2*g], m[2*g+1]
		}
	}
	return m[0], m[1]
}

// consider applies the rule's conditions, the placeholder and example
// checks and the allowlists to one candidate, and records a finding.
func (f *fileScan) consider(buf []byte, ri int32, ms, me, ss, se int) {
	s := f.s
	r := s.rules[ri]
	if r.NoReport {
		return
	}
	abs := f.base + int64(ss)
	if f.claimed[abs] {
		return
	}
	secret := string(buf[ss:se])
	if r.squeeze {
		secret = squeeze(secret)
	}
	if r.Entropy > 0 && Entropy(secret) < r.Entropy {
		return
	}
	if r.Validate != nil && !r.Validate(secret) {
		return
	}
	if isPlaceholder(secret) {
		return
	}
	fp := Fingerprint(r.ID, secret)
	match := string(buf[ms:me])
	if f.allowed(r, buf, fp, secret, match, ms, me) {
		return
	}
	f.claimed[abs] = true
	if f.redact {
		f.spans = append(f.spans, span{int64(ss), int64(se)})
		return
	}
	key := r.ID + "\x00" + fp
	if f.seen[key] {
		return
	}
	f.seen[key] = true
	if len(f.out) >= s.cfg.MaxFindings {
		f.setErr(fmt.Errorf("%w: more than %d in one file, the rest is not reported", ErrTooMany, s.cfg.MaxFindings))
		return
	}
	sev := r.Severity
	example := isExample(secret, match) || exampleContext(buf, ms)
	var low bool
	if r.grade != nil {
		ex, l := r.grade(secret)
		example, low = example || ex, l
	}
	if example || low || (s.cfg.LowSeverityPaths != nil && s.cfg.LowSeverityPaths.MatchString(f.path)) {
		sev = Low
	}
	f.out = append(f.out, inventory.Secret{
		RuleID:      r.ID,
		Category:    r.Category,
		Title:       r.Title,
		Severity:    sev,
		Path:        f.path,
		Line:        f.baseLine + bytes.Count(buf[:ss], []byte{'\n'}),
		Match:       Mask(secret),
		Fingerprint: fp,
		Example:     example,
	})
}

// squeeze removes the line breaks (real or JSON-escaped) and blanks of a
// multi-line secret, so that a PEM body has one fingerprint however it is
// wrapped or quoted.
func squeeze(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == '\\' && i+1 < len(s) && (s[i+1] == 'n' || s[i+1] == 'r'):
			i++
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (f *fileScan) allowed(r *Rule, buf []byte, fp, secret, match string, ms, me int) bool {
	for i := range f.s.cfg.Allow {
		a := &f.s.cfg.Allow[i]
		if len(a.Rules) > 0 && !containsStr(a.Rules, r.ID) {
			continue
		}
		if f.allowMatch(a, buf, fp, secret, match, ms, me) {
			return true
		}
	}
	for i := range r.Allow {
		if f.allowMatch(&r.Allow[i], buf, fp, secret, match, ms, me) {
			return true
		}
	}
	return false
}

func (f *fileScan) allowMatch(a *Allowlist, buf []byte, fp, secret, match string, ms, me int) bool {
	var checks []bool
	if len(a.Paths) > 0 {
		checks = append(checks, anyMatch(a.Paths, f.path))
	}
	if len(a.Fingerprints) > 0 {
		checks = append(checks, containsStr(a.Fingerprints, fp))
	}
	if len(a.Regexes) > 0 {
		target := secret
		switch a.RegexTarget {
		case "match":
			target = match
		case "line":
			target = lineAround(buf, ms, me)
		}
		checks = append(checks, anyMatch(a.Regexes, target))
	}
	if len(a.StopWords) > 0 {
		low := strings.ToLower(secret)
		hit := false
		for _, w := range a.StopWords {
			if w != "" && strings.Contains(low, strings.ToLower(w)) {
				hit = true
				break
			}
		}
		checks = append(checks, hit)
	}
	if len(checks) == 0 {
		return len(a.Rules) > 0 // a rules-only allowlist allows the rules
	}
	for _, c := range checks {
		if c && !a.MatchAll {
			return true
		}
		if !c && a.MatchAll {
			return false
		}
	}
	return a.MatchAll
}

// lineAround returns the line holding buf[ms:me], at most maxLine bytes
// either side.
func lineAround(buf []byte, ms, me int) string {
	lo := max(0, ms-maxLine)
	if i := bytes.LastIndexByte(buf[lo:ms], '\n'); i >= 0 {
		lo += i + 1
	}
	hi := min(len(buf), me+maxLine)
	if i := bytes.IndexByte(buf[me:hi], '\n'); i >= 0 {
		hi = me + i
	}
	return string(buf[lo:hi])
}

// isBinary: a NUL byte, or more than 10% control characters other than
// the usual whitespace and escape, in the first bytes.
func isBinary(head []byte) bool {
	if bytes.IndexByte(head, 0) >= 0 {
		return true
	}
	ctl := 0
	for _, c := range head {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b || c == 0x7f {
			ctl++
		}
	}
	return ctl*10 > len(head)
}

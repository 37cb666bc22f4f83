// Package policy is bulkhead's CI/CD gate: a versioned policy file of rules
// that each block or warn, an ignore file of exceptions that expire, and the
// evaluation of both against a scan's inventory into a Verdict that says
// why, grouped by the action that fixes it.
//
// A policy is YAML:
//
//	apiVersion: bulkhead.dev/v1
//	kind: Policy
//	metadata:
//	  name: production
//	rules:
//	  - name: fixable-high
//	    action: block              # block | warn
//	    vulnerabilities:
//	      minSeverity: HIGH
//	      fixable: true
//
// Each rule has a name, an action and exactly one kind: vulnerabilities,
// secrets, malware, misconfig, licenses, sources, image or cel (see Rule).
// Parsing is strict: an unknown field, a bad value, a CEL expression that
// does not compile or a wrong apiVersion is an error naming file:line:column
// (ParseError), never a rule that silently matches nothing.
package policy

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// APIVersion and Kind are the only ones this bulkhead reads.
const (
	APIVersion = "bulkhead.dev/v1"
	Kind       = "Policy"
)

// Action is what a matching rule does to the verdict.
type Action string

// Actions.
const (
	Block Action = "block"
	Warn  Action = "warn"
)

// maxFileSize bounds a policy or ignore file; real ones are a few KB.
const maxFileSize = 1 << 20

// Policy is a parsed, validated policy file.
type Policy struct {
	Name  string
	File  string // where it was read from, for messages
	Rules []*Rule
}

// Rule is one named rule. Exactly one of the kind fields is set.
type Rule struct {
	Name        string
	Action      Action
	Description string
	// Origin limits the rule to findings in the app's layers ("app") or
	// the base image's ("base"); "" is both. It needs the base to be known
	// (Input.Origin); when it is not, the rule applies to every finding.
	Origin string
	Line   int

	Vulns     *VulnRule
	Secrets   *SeverityRule
	Malware   *SeverityRule
	Misconfig *MisconfigRule
	Licenses  *LicenseRule
	Sources   *SourceRule
	Image     *ImageRule
	CEL       *CELRule
	Base      *BaseRule
}

// BaseRule requires the image to be built on an approved base: its bottom
// layers must equal one approved base's layers. Bases come from a file of
// layer digests written by bulkhead policy baseline (File, relative to the
// policy file) and/or image references whose layers are read (Images).
// The check itself is the caller's (Input.Base).
type BaseRule struct {
	File   string
	Images []string
}

// VulnRule matches vulnerabilities. A vulnerability whose id or alias is in
// IDs always matches; one in ExceptIDs never does; otherwise every set
// criterion must hold. A rule with no criterion and no IDs matches every
// vulnerability; with IDs only, only those.
type VulnRule struct {
	MinSeverity int             // inventory.SeverityRank; 0: any
	Severities  map[string]bool // exact severities; nil: any
	Fixable     *bool
	MinCVSS     float64 // highest CVSS score of the finding ≥ this; 0: any
	// FixOlderThanDays: a fix exists and the advisory was published more
	// than this many days ago (see fixAge for the date used).
	FixOlderThanDays int
	IDs              map[string]bool
	ExceptIDs        map[string]bool
}

func (v *VulnRule) hasCriteria() bool {
	return v.MinSeverity > 0 || v.Severities != nil || v.Fixable != nil || v.MinCVSS > 0 || v.FixOlderThanDays > 0
}

// SeverityRule matches secrets or malware at or above a severity (any
// when MinSeverity is 0).
type SeverityRule struct {
	MinSeverity int
}

// MisconfigRule matches misconfigurations by id (globs: BH-K8S-*) and
// severity; both must hold when both are set.
type MisconfigRule struct {
	IDs         []string
	MinSeverity int
}

// LicenseRule denies licences by SPDX id (globs allowed: AGPL-*). A
// package's licence expression is denied when every alternative of an OR
// is denied, or any part of an AND.
type LicenseRule struct {
	Deny []string
}

// SourceRule says where images may come from: the scanned image's
// reference and every FROM in scanned Dockerfiles must match one of
// Allowed ("registry/repository" globs, * within one path segment, **
// across segments), and with RequireDigest be pinned by digest.
type SourceRule struct {
	Allowed       []string
	RequireDigest bool
	allowed       []*regexp.Regexp
}

// ImageRule checks the image configuration.
type ImageRule struct {
	RequiredLabels []string
	NonRoot        bool
	MaxAgeDays     int
}

// CELRule is a custom rule: Expr is a CEL expression over the JSON
// report's shape that is true when the rule is violated.
type CELRule struct {
	Expr    string
	Message string
	prg     celProgram
}

// ParseError is an invalid policy or ignore file: where and what.
type ParseError struct {
	File   string
	Line   int
	Column int
	Msg    string
}

func (e *ParseError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// ErrInvalid is wrapped by every error about an invalid policy or ignore
// file, so a caller can tell "no verdict possible" from other errors.
var ErrInvalid = errors.New("invalid policy")

func (e *ParseError) Unwrap() error { return ErrInvalid }

// LoadFile reads and parses a policy file.
func LoadFile(path string) (*Policy, error) {
	data, err := readBounded(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, data)
}

func readBounded(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if fi.Size() > maxFileSize {
		return nil, &ParseError{File: path, Msg: fmt.Sprintf("file is %d bytes, the limit is %d", fi.Size(), maxFileSize)}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

// Parse parses and validates a policy; file names it in errors.
func Parse(file string, data []byte) (*Policy, error) {
	if len(data) > maxFileSize {
		return nil, &ParseError{File: file, Msg: fmt.Sprintf("file is %d bytes, the limit is %d", len(data), maxFileSize)}
	}
	d := decoder{file: file}
	root, err := d.document(data)
	if err != nil {
		return nil, err
	}
	p := &Policy{File: file}
	var apiVersion, kind *yaml.Node
	var rules *yaml.Node
	err = d.fields(root, func(key string, k, v *yaml.Node) error {
		switch key {
		case "apiVersion":
			apiVersion = v
			return d.expectString(v, APIVersion)
		case "kind":
			kind = v
			return d.expectString(v, Kind)
		case "metadata":
			return d.fields(v, func(key string, k, v *yaml.Node) error {
				switch key {
				case "name":
					s, err := d.str(v)
					p.Name = s
					return err
				case "description":
					_, err := d.str(v)
					return err
				}
				return d.unknown(k, "metadata", "name, description")
			})
		case "rules":
			rules = v
			return nil
		}
		return d.unknown(k, "policy", "apiVersion, kind, metadata, rules")
	})
	if err != nil {
		return nil, err
	}
	if apiVersion == nil {
		return nil, d.errAt(root, "apiVersion is missing (want "+APIVersion+")")
	}
	if kind == nil {
		return nil, d.errAt(root, "kind is missing (want "+Kind+")")
	}
	if p.Name == "" {
		return nil, d.errAt(root, "metadata.name is missing: name the policy, it is quoted in every verdict")
	}
	if rules == nil {
		return nil, d.errAt(root, "rules is missing: a policy without rules passes everything")
	}
	if rules.Kind != yaml.SequenceNode {
		return nil, d.errAt(rules, "rules must be a list")
	}
	if len(rules.Content) == 0 {
		return nil, d.errAt(rules, "rules is empty: a policy without rules passes everything")
	}
	names := map[string]int{}
	env, err := celEnv()
	if err != nil {
		return nil, err
	}
	for _, rn := range rules.Content {
		r, err := d.rule(rn, env)
		if err != nil {
			return nil, err
		}
		if prev, ok := names[r.Name]; ok {
			return nil, d.errAt(rn, fmt.Sprintf("rule name %q is already used at line %d", r.Name, prev))
		}
		names[r.Name] = r.Line
		p.Rules = append(p.Rules, r)
	}
	return p, nil
}

func (d *decoder) rule(n *yaml.Node, env *celEnvironment) (*Rule, error) {
	r := &Rule{Line: n.Line}
	kinds := 0
	var kindNode *yaml.Node
	setKind := func(k *yaml.Node) error {
		kinds++
		if kinds > 1 {
			return d.errAt(k, fmt.Sprintf("a rule has exactly one kind; %q comes after another (split it into two rules)", k.Value))
		}
		kindNode = k
		return nil
	}
	var celMessage string
	err := d.fields(n, func(key string, k, v *yaml.Node) error {
		switch key {
		case "name":
			s, err := d.str(v)
			r.Name = s
			return err
		case "action":
			s, err := d.str(v)
			if err != nil {
				return err
			}
			switch Action(strings.ToLower(s)) {
			case Block, Warn:
				r.Action = Action(strings.ToLower(s))
				return nil
			}
			return d.errAt(v, fmt.Sprintf("action %q: use block or warn", s))
		case "description":
			s, err := d.str(v)
			r.Description = s
			return err
		case "origin":
			s, err := d.str(v)
			if err != nil {
				return err
			}
			if s != "app" && s != "base" && s != "any" {
				return d.errAt(v, fmt.Sprintf("origin %q: use app, base or any", s))
			}
			if s != "any" {
				r.Origin = s
			}
			return nil
		case "message":
			s, err := d.str(v)
			celMessage = s
			return err
		case "vulnerabilities":
			if err := setKind(k); err != nil {
				return err
			}
			vr, err := d.vulnRule(v)
			r.Vulns = vr
			return err
		case "secrets", "malware":
			if err := setKind(k); err != nil {
				return err
			}
			sr := &SeverityRule{}
			err := d.fields(v, func(key string, k, v *yaml.Node) error {
				if key == "minSeverity" {
					var err error
					sr.MinSeverity, err = d.severity(v)
					return err
				}
				return d.unknown(k, key, "minSeverity")
			})
			if key == "secrets" {
				r.Secrets = sr
			} else {
				r.Malware = sr
			}
			return err
		case "misconfig":
			if err := setKind(k); err != nil {
				return err
			}
			mr := &MisconfigRule{}
			r.Misconfig = mr
			return d.fields(v, func(key string, k, v *yaml.Node) error {
				var err error
				switch key {
				case "ids":
					mr.IDs, err = d.strings(v)
					return err
				case "minSeverity":
					mr.MinSeverity, err = d.severity(v)
					return err
				}
				return d.unknown(k, "misconfig", "ids, minSeverity")
			})
		case "licenses":
			if err := setKind(k); err != nil {
				return err
			}
			lr := &LicenseRule{}
			r.Licenses = lr
			err := d.fields(v, func(key string, k, v *yaml.Node) error {
				if key == "deny" {
					var err error
					lr.Deny, err = d.strings(v)
					return err
				}
				return d.unknown(k, "licenses", "deny")
			})
			if err == nil && len(lr.Deny) == 0 {
				return d.errAt(v, "licenses.deny is empty")
			}
			return err
		case "sources":
			if err := setKind(k); err != nil {
				return err
			}
			sr := &SourceRule{}
			r.Sources = sr
			err := d.fields(v, func(key string, k, v *yaml.Node) error {
				var err error
				switch key {
				case "allowed":
					if sr.Allowed, err = d.strings(v); err != nil {
						return err
					}
					for i, g := range sr.Allowed {
						re, err := compileGlob(g)
						if err != nil {
							return d.errAt(item(v, i), err.Error())
						}
						sr.allowed = append(sr.allowed, re)
					}
					return nil
				case "requireDigest":
					sr.RequireDigest, err = d.boolean(v)
					return err
				}
				return d.unknown(k, "sources", "allowed, requireDigest")
			})
			if err == nil && len(sr.Allowed) == 0 && !sr.RequireDigest {
				return d.errAt(v, "sources needs allowed patterns or requireDigest: true")
			}
			return err
		case "image":
			if err := setKind(k); err != nil {
				return err
			}
			ir := &ImageRule{}
			r.Image = ir
			err := d.fields(v, func(key string, k, v *yaml.Node) error {
				var err error
				switch key {
				case "requiredLabels":
					ir.RequiredLabels, err = d.strings(v)
				case "nonRoot":
					ir.NonRoot, err = d.boolean(v)
				case "maxAgeDays":
					ir.MaxAgeDays, err = d.positiveInt(v)
				default:
					err = d.unknown(k, "image", "requiredLabels, nonRoot, maxAgeDays")
				}
				return err
			})
			if err == nil && len(ir.RequiredLabels) == 0 && !ir.NonRoot && ir.MaxAgeDays == 0 {
				return d.errAt(v, "image needs requiredLabels, nonRoot or maxAgeDays")
			}
			return err
		case "approvedBase":
			if err := setKind(k); err != nil {
				return err
			}
			br := &BaseRule{}
			r.Base = br
			err := d.fields(v, func(key string, k, v *yaml.Node) error {
				var err error
				switch key {
				case "file":
					br.File, err = d.str(v)
					if err == nil && br.File != "" && !filepath.IsAbs(br.File) {
						br.File = filepath.Join(filepath.Dir(d.file), br.File)
					}
				case "images":
					br.Images, err = d.strings(v)
				default:
					err = d.unknown(k, "approvedBase", "file, images")
				}
				return err
			})
			if err == nil && br.File == "" && len(br.Images) == 0 {
				return d.errAt(v, "approvedBase needs a file (bulkhead policy baseline) or images")
			}
			return err
		case "cel":
			if err := setKind(k); err != nil {
				return err
			}
			s, err := d.str(v)
			if err != nil {
				return err
			}
			prg, err := env.compile(s)
			if err != nil {
				return d.celErrAt(v, s, err)
			}
			r.CEL = &CELRule{Expr: s, prg: prg}
			return nil
		}
		return d.unknown(k, "rule", "name, action, description, origin, message, and one of vulnerabilities, secrets, malware, misconfig, licenses, sources, image, approvedBase, cel")
	})
	if err != nil {
		return nil, err
	}
	switch {
	case r.Name == "":
		return nil, d.errAt(n, "rule has no name")
	case r.Action == "":
		return nil, d.errAt(n, fmt.Sprintf("rule %q has no action (block or warn)", r.Name))
	case kinds == 0:
		return nil, d.errAt(n, fmt.Sprintf("rule %q has no kind (vulnerabilities, secrets, malware, misconfig, licenses, sources, image, approvedBase or cel)", r.Name))
	}
	if r.CEL != nil {
		r.CEL.Message = celMessage
	} else if celMessage != "" {
		return nil, d.errAt(n, fmt.Sprintf("rule %q: message is for cel rules (%s rules say what they found)", r.Name, kindNode.Value))
	}
	return r, nil
}

// celErrAt places a CEL compile error in the file: at the exact line and
// column for a one-line plain or quoted scalar, and a block scalar's line;
// else at the scalar, with the position inside the expression.
func (d *decoder) celErrAt(n *yaml.Node, expr string, err error) error {
	var ce *celError
	if !errors.As(err, &ce) || ce.line == 0 {
		return d.errAt(n, "cel: "+err.Error())
	}
	line, col := n.Line, n.Column
	switch {
	case !strings.Contains(expr, "\n") && n.Style == 0:
		col += ce.column - 1
	case !strings.Contains(expr, "\n") && (n.Style == yaml.DoubleQuotedStyle || n.Style == yaml.SingleQuotedStyle):
		col += ce.column // after the quote (escapes would shift it)
	case n.Style == yaml.LiteralStyle:
		line += ce.line // the expression starts on the line after "|"
		col = 0
	default:
		return d.errAt(n, fmt.Sprintf("cel: %s (at line %d, column %d of the expression)", ce.msg, ce.line, ce.column))
	}
	return &ParseError{File: d.file, Line: line, Column: max(col, 1), Msg: "cel: " + ce.msg}
}

func (d *decoder) vulnRule(n *yaml.Node) (*VulnRule, error) {
	vr := &VulnRule{}
	err := d.fields(n, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "minSeverity":
			vr.MinSeverity, err = d.severity(v)
		case "severity", "severities":
			var ss []string
			if ss, err = d.strings(v); err != nil {
				return err
			}
			if len(ss) == 0 {
				// An empty list would match nothing: a rule that silently
				// never fires.
				return d.errAt(v, key+": an empty list matches nothing; name severities or remove the field")
			}
			vr.Severities = map[string]bool{}
			for i, s := range ss {
				u := strings.ToUpper(s)
				if inventory.SeverityRank(u) == 0 && u != inventory.SeverityUnknown || u == "MODERATE" {
					return d.errAt(item(v, i), fmt.Sprintf("severity %q: use CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN", s))
				}
				vr.Severities[u] = true
			}
		case "fixable":
			var b bool
			b, err = d.boolean(v)
			vr.Fixable = &b
		case "minCVSS":
			if vr.MinCVSS, err = strconv.ParseFloat(v.Value, 64); err != nil || v.Kind != yaml.ScalarNode || !(vr.MinCVSS >= 0 && vr.MinCVSS <= 10) {
				return d.errAt(v, fmt.Sprintf("minCVSS %q: want a score from 0 to 10", v.Value))
			}
		case "fixOlderThanDays":
			vr.FixOlderThanDays, err = d.positiveInt(v)
		case "ids":
			vr.IDs, err = d.idSet(v)
		case "exceptIds":
			vr.ExceptIDs, err = d.idSet(v)
		default:
			err = d.unknown(k, "vulnerabilities", "minSeverity, severity, fixable, minCVSS, fixOlderThanDays, ids, exceptIds")
		}
		return err
	})
	return vr, err
}

func (d *decoder) idSet(v *yaml.Node) (map[string]bool, error) {
	ss, err := d.strings(v)
	if err != nil {
		return nil, err
	}
	if len(ss) == 0 {
		return nil, d.errAt(v, "an empty list of ids matches nothing; name ids or remove the field")
	}
	m := make(map[string]bool, len(ss))
	for _, s := range ss {
		m[strings.ToUpper(s)] = true
	}
	return m, nil
}

func parseSeverity(s string, fail func(string) error) (int, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	r := inventory.SeverityRank(u)
	if r == 0 || u == "MODERATE" {
		return 0, fail(fmt.Sprintf("severity %q: use CRITICAL, HIGH, MEDIUM or LOW", s))
	}
	return r, nil
}

// ParseSeverity checks a --fail-on value and returns its rank.
func ParseSeverity(s string) (int, error) {
	return parseSeverity(s, func(msg string) error { return errors.New(msg) })
}

// compileGlob turns a registry/repository pattern into a regexp: * is any
// run of characters but /, ** any run at all, ? one character but /.
func compileGlob(g string) (*regexp.Regexp, error) {
	if g == "" || len(g) > 512 {
		return nil, fmt.Errorf("pattern %q: want 1 to 512 characters", g)
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			if i+1 < len(g) && g[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// FailOn returns the rules of --fail-on SEVERITY: block vulnerabilities,
// secrets, malware and misconfigurations at or above the severity.
func FailOn(severity string) ([]*Rule, error) {
	rank, err := ParseSeverity(severity)
	if err != nil {
		return nil, fmt.Errorf("--fail-on: %w", err)
	}
	name := "fail-on " + strings.ToUpper(strings.TrimSpace(severity))
	return []*Rule{
		{Name: name, Action: Block, Vulns: &VulnRule{MinSeverity: rank}},
		{Name: name + " (secrets)", Action: Block, Secrets: &SeverityRule{MinSeverity: rank}},
		{Name: name + " (malware)", Action: Block, Malware: &SeverityRule{MinSeverity: rank}},
		{Name: name + " (misconfig)", Action: Block, Misconfig: &MisconfigRule{MinSeverity: rank}},
	}, nil
}

// BaseRules returns the approvedBase rules, so a caller knows which bases
// to load and check (Input.Base).
func (p *Policy) BaseRules() []*BaseRule {
	var out []*BaseRule
	for _, r := range p.Rules {
		if r.Base != nil {
			out = append(out, r.Base)
		}
	}
	return out
}

// NeedsFroms reports whether a rule looks at Dockerfile FROM lines, so a
// caller knows whether to look for Dockerfiles.
func (p *Policy) NeedsFroms() bool {
	for _, r := range p.Rules {
		if r.Sources != nil {
			return true
		}
	}
	return false
}

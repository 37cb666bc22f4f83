package report

import (
	_ "embed"
	"slices"
	"strings"
	"sync"
)

var (
	//go:embed spdx_licenses.txt
	spdxLicenseList string
	//go:embed spdx_exceptions.txt
	spdxExceptionList string
)

// spdxIDs maps the lower-cased SPDX licence and exception identifiers to
// their canonical spelling: identifiers match case-insensitively (SPDX 2.3
// annex D) and are written back canonically.
var spdxIDs = sync.OnceValues(func() (licenses, exceptions map[string]string) {
	return parseIDList(spdxLicenseList), parseIDList(spdxExceptionList)
})

func parseIDList(s string) map[string]string {
	m := make(map[string]string, 1024)
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		m[strings.ToLower(line)] = line
	}
	return m
}

// spdxLicenseID returns the canonical spelling of s if s is an identifier
// on the SPDX licence list.
func spdxLicenseID(s string) (string, bool) {
	licenses, _ := spdxIDs()
	id, ok := licenses[strings.ToLower(s)]
	return id, ok
}

// spdxSimpleExpression accepts a licence id with an optional "+" ("or
// later") suffix.
func spdxSimpleExpression(s string) (string, bool) {
	if id, ok := spdxLicenseID(s); ok {
		return id, true
	}
	if base, ok := strings.CutSuffix(s, "+"); ok {
		if id, ok := spdxLicenseID(base); ok {
			return id + "+", true
		}
	}
	return "", false
}

// licenseKind classifies one licence string of a package.
type licenseKind int

const (
	licenseName       licenseKind = iota // free text, not SPDX
	licenseID                            // one SPDX identifier
	licenseExpression                    // a compound SPDX expression
)

// classifyLicense says whether s is an SPDX licence id, a valid SPDX
// expression over listed identifiers, or neither, and returns the canonical
// form for the first two. LicenseRef- and DocumentRef- references count as
// neither: they would need a definition in the document that we cannot give.
func classifyLicense(s string) (string, licenseKind) {
	s = strings.TrimSpace(s)
	if id, ok := spdxLicenseID(s); ok {
		return id, licenseID
	}
	p := exprParser{toks: tokenizeExpression(s)}
	var b strings.Builder
	if !p.parseOr(&b) || p.pos != len(p.toks) {
		return s, licenseName
	}
	return b.String(), licenseExpression
}

// cleanLicenses drops blank and repeated licence strings, keeping order.
func cleanLicenses(ls []string) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// joinLicenses returns the SPDX expression for all of ls together (AND), and
// false if any of them is not an SPDX id or expression.
func joinLicenses(ls []string) (string, bool) {
	ls = cleanLicenses(ls)
	if len(ls) == 0 {
		return "", false
	}
	parts := make([]string, 0, len(ls))
	compound := make([]bool, 0, len(ls))
	for _, l := range ls {
		c, kind := classifyLicense(l)
		if kind == licenseName {
			return "", false
		}
		if !slices.Contains(parts, c) {
			parts = append(parts, c)
			compound = append(compound, kind == licenseExpression)
		}
	}
	if len(parts) > 1 {
		for i := range parts {
			if compound[i] {
				parts[i] = "(" + parts[i] + ")"
			}
		}
	}
	return strings.Join(parts, " AND "), true
}

func tokenizeExpression(s string) []string {
	var toks []string
	start := -1
	flush := func(i int) {
		if start >= 0 {
			toks = append(toks, s[start:i])
			start = -1
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\r':
			flush(i)
		case '(', ')':
			flush(i)
			toks = append(toks, s[i:i+1])
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(s))
	return toks
}

// exprParser is a recursive-descent parser for the SPDX 2.3 licence
// expression grammar; it renders the canonical form as it goes.
//
//	or     = and *("OR" and)
//	and    = with *("AND" with)
//	with   = "(" or ")" / id ["+"] ["WITH" exception]
type exprParser struct {
	toks []string
	pos  int
}

func (p *exprParser) peekOp(op string) bool {
	return p.pos < len(p.toks) && strings.EqualFold(p.toks[p.pos], op)
}

func (p *exprParser) parseOr(b *strings.Builder) bool {
	if !p.parseAnd(b) {
		return false
	}
	for p.peekOp("OR") {
		p.pos++
		b.WriteString(" OR ")
		if !p.parseAnd(b) {
			return false
		}
	}
	return true
}

func (p *exprParser) parseAnd(b *strings.Builder) bool {
	if !p.parseWith(b) {
		return false
	}
	for p.peekOp("AND") {
		p.pos++
		b.WriteString(" AND ")
		if !p.parseWith(b) {
			return false
		}
	}
	return true
}

func (p *exprParser) parseWith(b *strings.Builder) bool {
	if p.pos >= len(p.toks) {
		return false
	}
	if p.toks[p.pos] == "(" {
		p.pos++
		b.WriteByte('(')
		if !p.parseOr(b) || p.pos >= len(p.toks) || p.toks[p.pos] != ")" {
			return false
		}
		p.pos++
		b.WriteByte(')')
		return true
	}
	id, ok := spdxSimpleExpression(p.toks[p.pos])
	if !ok {
		return false
	}
	p.pos++
	b.WriteString(id)
	if p.peekOp("WITH") {
		p.pos++
		if p.pos >= len(p.toks) {
			return false
		}
		_, exceptions := spdxIDs()
		exc, ok := exceptions[strings.ToLower(p.toks[p.pos])]
		if !ok {
			return false
		}
		p.pos++
		b.WriteString(" WITH " + exc)
	}
	return true
}

package policy

import (
	"strings"
)

// deniedLicenses returns the denied licence ids that make a package's
// licences denied, or nil. A package's licence entries all apply (AND);
// each entry may be an SPDX expression: an OR is denied when every
// alternative is, an AND when any part is, "X WITH exception" when X (or
// the whole "X WITH exception") is.
func deniedLicenses(licenses []string, deny []string) []string {
	var out []string
	for _, l := range licenses {
		p := exprParser{toks: tokenize(l)}
		e := p.or()
		if p.bad || p.pos != len(p.toks) || e == nil {
			// Not an expression we understand: compare it whole.
			if id := deniedID(strings.TrimSpace(l), deny); id != "" {
				out = appendNew(out, id)
			}
			continue
		}
		for _, id := range e.denied(deny) {
			out = appendNew(out, id)
		}
	}
	return out
}

func appendNew(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// deniedID returns id when a deny pattern matches it (case-insensitive;
// "GPL-2.0+" and "GPL-2.0-or-later" are the same), else "".
func deniedID(id string, deny []string) string {
	u := strings.ToUpper(id)
	alt := u
	if base, ok := strings.CutSuffix(u, "+"); ok {
		alt = base + "-OR-LATER"
	}
	for _, d := range deny {
		du := strings.ToUpper(d)
		if globMatch(du, u) || globMatch(du, alt) {
			return id
		}
	}
	return ""
}

// maxLicenseTokens bounds an expression (hostile package metadata).
const maxLicenseTokens = 256

func tokenize(s string) []string {
	var toks []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case r == '(' || r == ')':
			flush()
			toks = append(toks, string(r))
		case r == ' ' || r == '\t' || r == '\n':
			flush()
		default:
			cur.WriteRune(r)
		}
		if len(toks) > maxLicenseTokens {
			return nil
		}
	}
	flush()
	return toks
}

type licenseExpr struct {
	op   string // "", AND, OR
	id   string // leaf: "MIT", "GPL-2.0-only WITH Classpath-exception-2.0"
	base string // leaf: the licence before WITH
	kids []*licenseExpr
}

func (e *licenseExpr) denied(deny []string) []string {
	switch e.op {
	case "OR":
		var all []string
		for _, k := range e.kids {
			d := k.denied(deny)
			if len(d) == 0 {
				return nil // one allowed alternative is enough
			}
			all = append(all, d...)
		}
		return all
	case "AND":
		var any []string
		for _, k := range e.kids {
			any = append(any, k.denied(deny)...)
		}
		return any
	}
	if id := deniedID(e.id, deny); id != "" {
		return []string{id}
	}
	if id := deniedID(e.base, deny); id != "" {
		return []string{id}
	}
	return nil
}

// exprParser is a recursive-descent parser of SPDX license expressions:
// or := and ("OR" and)*; and := with ("AND" with)*; with := atom ["WITH" id];
// atom := id | "(" or ")".
type exprParser struct {
	toks  []string
	pos   int
	bad   bool
	depth int
}

func (p *exprParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *exprParser) or() *licenseExpr {
	first := p.and()
	if first == nil {
		return nil
	}
	e := &licenseExpr{op: "OR", kids: []*licenseExpr{first}}
	for strings.EqualFold(p.peek(), "OR") {
		p.pos++
		k := p.and()
		if k == nil {
			return nil
		}
		e.kids = append(e.kids, k)
	}
	if len(e.kids) == 1 {
		return first
	}
	return e
}

func (p *exprParser) and() *licenseExpr {
	first := p.with()
	if first == nil {
		return nil
	}
	e := &licenseExpr{op: "AND", kids: []*licenseExpr{first}}
	for strings.EqualFold(p.peek(), "AND") {
		p.pos++
		k := p.with()
		if k == nil {
			return nil
		}
		e.kids = append(e.kids, k)
	}
	if len(e.kids) == 1 {
		return first
	}
	return e
}

func (p *exprParser) with() *licenseExpr {
	a := p.atom()
	if a == nil {
		return nil
	}
	if strings.EqualFold(p.peek(), "WITH") && a.op == "" {
		p.pos++
		exc := p.peek()
		if exc == "" || exc == "(" || exc == ")" {
			p.bad = true
			return nil
		}
		p.pos++
		a.id = a.base + " WITH " + exc
	}
	return a
}

func (p *exprParser) atom() *licenseExpr {
	t := p.peek()
	switch {
	case t == "":
		p.bad = true
		return nil
	case t == "(":
		p.depth++
		if p.depth > 32 {
			p.bad = true
			return nil
		}
		p.pos++
		e := p.or()
		if e == nil || p.peek() != ")" {
			p.bad = true
			return nil
		}
		p.pos++
		p.depth--
		return e
	case t == ")" || strings.EqualFold(t, "AND") || strings.EqualFold(t, "OR") || strings.EqualFold(t, "WITH"):
		p.bad = true
		return nil
	}
	p.pos++
	return &licenseExpr{id: t, base: t}
}

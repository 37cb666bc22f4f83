package vex

import (
	"net/url"
	"strings"

	"github.com/package-url/packageurl-go"
)

// Set is the statements of one or more VEX documents, indexed for Lookup.
type Set struct {
	stmts []entry
	byID  map[string][]int // upper-cased id or alias → indexes into stmts
}

type entry struct {
	Statement
	products []product // nil: applies to every package
}

// product is one product of a statement, parsed once for matching.
type product struct {
	purl  *purlKey // a package PURL; nil for an image or other reference
	raw   string   // the identifier as written, for non-PURL products
	image bool     // an image (pkg:oci, pkg:docker, a reference): covers its packages
	subs  []*purlKey
	// rawSubs are subcomponents that are not PURLs: they match nothing
	// (Lookup is by PURL) but keep the product from covering everything.
	rawSubs int
}

// purlKey is a PURL split for matching.
type purlKey struct {
	typ, namespace, name, version, subpath string
	qualifiers                             map[string]string
}

// Len returns the number of statements.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.stmts)
}

// Statements returns every statement in the order it was read.
func (s *Set) Statements() []Statement {
	if s == nil {
		return nil
	}
	out := make([]Statement, len(s.stmts))
	for i := range s.stmts {
		out[i] = s.stmts[i].Statement
	}
	return out
}

func (s *Set) add(st Statement) {
	if s.byID == nil {
		s.byID = map[string][]int{}
	}
	e := entry{Statement: st}
	for _, p := range st.Products {
		e.products = append(e.products, parseProduct(p, nil))
	}
	if len(st.Products) == 0 && len(st.Subcomponents) > 0 {
		// Subcomponents of no named product: the packages themselves.
		for _, sc := range st.Subcomponents {
			e.products = append(e.products, parseProduct(sc, nil))
		}
	} else if len(st.Subcomponents) > 0 {
		for i := range e.products {
			e.products[i] = parseProduct(st.Products[i], st.Subcomponents)
		}
	}
	idx := len(s.stmts)
	s.stmts = append(s.stmts, e)
	seen := map[string]bool{}
	for _, id := range st.IDs() {
		k := normID(id)
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		s.byID[k] = append(s.byID[k], idx)
	}
}

func parseProduct(id string, subs []string) product {
	p := product{raw: id}
	if k, ok := parsePURL(id); ok {
		switch k.typ {
		case "oci", "docker":
			p.image = true
		default:
			p.purl = k
		}
	} else {
		p.image = true // an image reference, a file or some IRI
	}
	for _, sc := range subs {
		if k, ok := parsePURL(sc); ok {
			p.subs = append(p.subs, k)
		} else {
			p.rawSubs++
		}
	}
	return p
}

// Lookup returns the statement that applies to a vulnerability (vulnID or
// any of aliases) of the package purl, and whether there is one. See the
// package documentation for the matching rules; the statement returned may
// or may not suppress the finding (Statement.Suppresses).
func (s *Set) Lookup(vulnID string, aliases []string, purl string) (Statement, bool) {
	if s == nil || len(s.stmts) == 0 {
		return Statement{}, false
	}
	// The package PURL is parsed only when some statement names the
	// vulnerability: most findings have none.
	var q *purlKey
	parsed := false
	best := -1
	consider := func(id string) {
		cands := s.byID[normID(id)]
		if len(cands) > 0 && !parsed {
			q, _ = parsePURL(purl)
			parsed = true
		}
		for _, i := range cands {
			if i == best || !s.stmts[i].covers(q, purl) {
				continue
			}
			if best < 0 || s.later(i, best) {
				best = i
			}
		}
	}
	consider(vulnID)
	for _, a := range aliases {
		consider(a)
	}
	if best < 0 {
		return Statement{}, false
	}
	return s.stmts[best].Statement, true
}

// later reports whether statement i overrides statement j: a later
// timestamp, or the same timestamp and read later.
func (s *Set) later(i, j int) bool {
	ti, tj := s.stmts[i].Timestamp, s.stmts[j].Timestamp
	if !ti.Equal(tj) {
		return ti.After(tj)
	}
	return i > j
}

// covers reports whether the entry's products include the package q (the
// parsed form of raw; nil when raw is not a PURL).
func (e *entry) covers(q *purlKey, raw string) bool {
	if len(e.products) == 0 {
		return true
	}
	for i := range e.products {
		p := &e.products[i]
		switch {
		case p.purl != nil && len(p.subs) == 0 && p.rawSubs == 0:
			if q != nil && p.purl.covers(q) {
				return true
			}
		case len(p.subs) > 0 || p.rawSubs > 0:
			for _, sub := range p.subs {
				if q != nil && sub.covers(q) {
					return true
				}
			}
		case p.image:
			return true
		}
		if q == nil && raw != "" && p.raw == raw {
			return true
		}
	}
	return false
}

// covers reports whether the statement's PURL p names the package q: the
// same type, namespace and name, and the same value for every other part p
// sets.
func (p *purlKey) covers(q *purlKey) bool {
	if p.typ != q.typ || p.namespace != q.namespace || p.name != q.name {
		return false
	}
	if p.version != "" && p.version != q.version {
		return false
	}
	if p.subpath != "" && p.subpath != q.subpath {
		return false
	}
	for k, v := range p.qualifiers {
		if q.qualifiers[k] != v {
			return false
		}
	}
	return true
}

// caseInsensitive are the PURL types whose namespace and name are
// case-insensitive (purl-spec PURL-TYPES).
var caseInsensitive = map[string]bool{
	"alpm": true, "apk": true, "bitbucket": true, "composer": true, "deb": true,
	"github": true, "hex": true, "npm": true, "pypi": true,
}

// parsePURL parses s as a PURL, normalised for comparison.
func parsePURL(s string) (*purlKey, bool) {
	if !strings.HasPrefix(s, "pkg:") || len(s) > maxIDLen {
		return nil, false
	}
	p, err := packageurl.FromString(s)
	if err != nil || p.Type == "" || p.Name == "" {
		return nil, false
	}
	k := &purlKey{
		typ:       strings.ToLower(p.Type),
		namespace: p.Namespace,
		name:      p.Name,
		version:   p.Version,
		subpath:   strings.Trim(p.Subpath, "/"),
	}
	if caseInsensitive[k.typ] {
		k.namespace, k.name = strings.ToLower(k.namespace), strings.ToLower(k.name)
	}
	if k.typ == "pypi" {
		k.name = strings.ReplaceAll(k.name, "_", "-")
	}
	for _, q := range p.Qualifiers {
		if q.Value == "" {
			continue
		}
		if k.qualifiers == nil {
			k.qualifiers = map[string]string{}
		}
		k.qualifiers[strings.ToLower(q.Key)] = q.Value
	}
	return k, true
}

// normID normalises a vulnerability id for comparison: CVE and GHSA ids
// are compared case-insensitively, and an id given as a URL
// (https://nvd.nist.gov/vuln/detail/CVE-…, an OpenVEX @id) by its last
// path element when that looks like an id (has a dash).
func normID(id string) string {
	id = strings.TrimSpace(id)
	if strings.Contains(id, "://") {
		if u, err := url.Parse(id); err == nil {
			p := strings.TrimRight(u.Path, "/")
			if i := strings.LastIndexByte(p, '/'); i >= 0 {
				p = p[i+1:]
			}
			if strings.Contains(p, "-") {
				id = p
			}
		}
	}
	return strings.ToUpper(id)
}

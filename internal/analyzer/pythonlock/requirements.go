package pythonlock

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
)

// commentRE is pip's: a # at the start of a line or after whitespace
// starts a comment (one inside a URL, as in #egg=, does not).
var commentRE = regexp.MustCompile(`(^|\s+)#.*$`)

// nameRE matches a PEP 508 name, its extras and what follows.
var nameRE = regexp.MustCompile(`^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(.*)$`)

// ParseRequirements reads a pip requirements file and returns the
// requirements pinned to one version with == (or ===). As pip does, it
// joins lines ending in a backslash and then strips comments. Options
// (-r and -c includes, -e editables, --index-url, per-requirement --hash)
// are ignored, as are environment markers; direct URL references
// (name @ https://...) and paths have no version to report.
func ParseRequirements(ctx context.Context, b []byte) ([]Package, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 16<<10), maxLine)
	var (
		c       collector
		tick    ticker
		logical strings.Builder
		line    int
	)
	for sc.Scan() {
		line++
		if err := tick.check(ctx); err != nil {
			return nil, err
		}
		l := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			l = strings.TrimPrefix(l, "\ufeff")
		}
		// A comment line ending in a backslash continues nothing (pip).
		if strings.HasSuffix(l, `\`) && !strings.HasPrefix(strings.TrimLeft(l, " \t"), "#") {
			if logical.Len()+len(l) > maxLine {
				return nil, fmt.Errorf("line %d: continued line too long", line)
			}
			logical.WriteString(l[:len(l)-1])
			continue
		}
		logical.WriteString(l)
		if name, version, ok := requirement(logical.String()); ok {
			c.add(name, version, false)
		}
		logical.Reset()
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	if name, version, ok := requirement(logical.String()); ok {
		c.add(name, version, false)
	}
	return c.sorted(), nil
}

// requirement reads one logical line: name, pinned version and whether it
// is a pin.
func requirement(l string) (name, version string, ok bool) {
	l = strings.TrimSpace(commentRE.ReplaceAllString(l, ""))
	if l == "" || l[0] == '-' {
		return "", "", false // an option: -r, -c, -e, -i, --hash, ...
	}
	// Per-requirement options follow the specifier.
	if i := strings.Index(l, " -"); i >= 0 {
		l = l[:i]
	}
	if i := strings.Index(l, "\t-"); i >= 0 {
		l = l[:i]
	}
	// Environment markers.
	l, _, _ = strings.Cut(l, ";")
	m := nameRE.FindStringSubmatch(strings.TrimSpace(l))
	if m == nil {
		return "", "", false
	}
	name, spec := m[1], strings.TrimSpace(m[2])
	if strings.HasPrefix(spec, "@") {
		return "", "", false // name @ URL
	}
	// Old-style parenthesised specifiers: name (==1.0).
	spec = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(spec, "("), ")"))
	for _, clause := range strings.Split(spec, ",") {
		clause = strings.TrimSpace(clause)
		v, ok := strings.CutPrefix(clause, "===")
		if !ok {
			v, ok = strings.CutPrefix(clause, "==")
		}
		v = strings.TrimSpace(v)
		// ==1.2.* is a range, not a pin.
		if ok && v != "" && !strings.Contains(v, "*") {
			return name, v, true
		}
	}
	return "", "", false
}

package pythonlock

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strings"
)

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
	l = strings.TrimSpace(stripComment(l))
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
	name, spec, ok := cutName(strings.TrimSpace(l))
	if !ok {
		return "", "", false
	}
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

// stripComment cuts a comment as pip does: a # at the start of the line or
// after whitespace (one inside a URL, as in #egg=, is not a comment).
func stripComment(l string) string {
	for i := 0; i < len(l); i++ {
		if l[i] == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t') {
			return l[:i]
		}
	}
	return l
}

// cutName reads a PEP 508 name (letters and digits, with ".", "_" and "-"
// inside) and its [extras], and returns the name and what follows.
func cutName(s string) (name, rest string, ok bool) {
	i := 0
	for i < len(s) && (isAlnum(s[i]) || s[i] == '.' || s[i] == '_' || s[i] == '-') {
		i++
	}
	for i > 0 && !isAlnum(s[i-1]) {
		i--
	}
	if i == 0 || !isAlnum(s[0]) {
		return "", "", false
	}
	name, rest = s[:i], strings.TrimLeft(s[i:], " \t")
	if strings.HasPrefix(rest, "[") {
		j := strings.IndexByte(rest, ']')
		if j < 0 {
			return "", "", false
		}
		rest = strings.TrimLeft(rest[j+1:], " \t")
	}
	return name, rest, true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

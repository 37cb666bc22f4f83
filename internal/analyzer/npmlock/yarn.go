package npmlock

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
)

// yarnEntry is one top-level entry of a yarn.lock.
type yarnEntry struct {
	key        string // the specifiers, as written before the colon
	version    string
	resolution string // berry only: "lodash@npm:4.17.21"
	soft       bool   // berry linkType: soft (workspaces, links)
}

// localProtocols are dependencies on the project's own directories:
// nothing to look up in a registry.
var localProtocols = []string{"workspace:", "link:", "portal:", "file:", "exec:"}

func isLocal(rangeOrProto string) bool {
	for _, p := range localProtocols {
		if strings.HasPrefix(rangeOrProto, p) {
			return true
		}
	}
	return false
}

// ParseYarnLock reads a yarn.lock of either format: classic (v1), whose
// entries read `version "1.2.3"`, or berry (yarn 2 and later, a YAML
// subset), whose entries read `version: 1.2.3` and `resolution:
// "name@npm:1.2.3"`. Both are read line by line: only the top-level keys
// and their version and resolution matter. Workspaces and links to local
// directories are skipped; aliases (my-lodash@npm:lodash@4.17.21) are
// reported under the real package's name.
func ParseYarnLock(ctx context.Context, b []byte) ([]Package, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	var (
		c    collector
		tick ticker
		cur  *yarnEntry
		line int
	)
	flush := func() {
		if cur != nil {
			if p, ok := cur.pkg(); ok {
				c.add(p)
			}
		}
		cur = nil
	}
	for sc.Scan() {
		line++
		if err := tick.check(ctx); err != nil {
			return nil, err
		}
		l := strings.TrimRight(sc.Text(), " \t\r")
		body := strings.TrimLeft(l, " ")
		if body == "" || body[0] == '#' {
			continue
		}
		if indent := len(l) - len(body); indent == 0 {
			flush()
			key, ok := strings.CutSuffix(l, ":")
			if !ok {
				return nil, fmt.Errorf("line %d: not an entry: %.60q", line, l)
			}
			if key != "__metadata" {
				cur = &yarnEntry{key: key}
			}
			continue
		} else if indent != 2 || cur == nil {
			continue // dependency lists, metadata, checksums
		}
		field, value := yarnField(body)
		switch field {
		case "version":
			cur.version = yarnUnquote(value)
		case "resolution":
			cur.resolution = yarnUnquote(value)
		case "linkType":
			cur.soft = yarnUnquote(value) == "soft"
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", line+1, err)
	}
	flush()
	return c.sorted(), nil
}

// yarnField splits `version "1.2.3"` (classic) or `version: 1.2.3`
// (berry).
func yarnField(s string) (field, value string) {
	i := strings.IndexAny(s, " :")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(strings.TrimPrefix(s[i:], ":"))
}

// yarnUnquote removes the JSON-style quotes yarn puts around values that
// need them.
func yarnUnquote(s string) string {
	if len(s) >= 2 && s[0] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
		return strings.Trim(s, `"`)
	}
	return s
}

// firstSpec returns the first specifier of an entry key: `"a@^1", "a@^2"`
// (classic), `"a@npm:^1, a@npm:^2"` (berry) or `a@^1, a@^2`.
func firstSpec(key string) string {
	if strings.HasPrefix(key, `"`) {
		if j := strings.IndexByte(key[1:], '"'); j >= 0 {
			key = key[1 : j+1]
		} else {
			key = key[1:]
		}
	}
	spec, _, _ := strings.Cut(key, ",")
	return strings.TrimSpace(spec)
}

func (e *yarnEntry) pkg() (Package, bool) {
	if e.version == "" || e.soft {
		return Package{}, false
	}
	name, rng, ok := splitSpec(firstSpec(e.key))
	if !ok {
		return Package{}, false
	}
	if e.resolution != "" {
		// berry: the resolution names the package actually installed.
		if name, rng, ok = splitSpec(e.resolution); !ok {
			return Package{}, false
		}
	} else if alias, ok := strings.CutPrefix(rng, "npm:"); ok {
		// classic alias: my-lodash@npm:lodash@4.17.21
		if real, _, ok := splitLast(alias); ok {
			name = real
		} else if alias != "" {
			name = alias // npm:lodash, any version
		}
	}
	if isLocal(rng) || strings.ContainsAny(e.version, " \t") {
		return Package{}, false
	}
	return Package{Name: name, Version: e.version}, true
}

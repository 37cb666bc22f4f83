package npmlock

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// pnpmLock is the part of a pnpm-lock.yaml that bulkhead reads, across
// lockfile versions 5.x, 6.0 and 9.0.
type pnpmLock struct {
	LockfileVersion any                     `json:"lockfileVersion"` // 5.4 (a number), '6.0', '9.0'
	pnpmDeps                                // v5 and v6 single-project lockfiles
	Importers       map[string]pnpmDeps     `json:"importers"`
	Packages        map[string]pnpmPackage  `json:"packages"`
	Snapshots       map[string]pnpmSnapshot `json:"snapshots"` // v9
}

type pnpmDeps struct {
	Dependencies         map[string]pnpmRef `json:"dependencies"`
	DevDependencies      map[string]pnpmRef `json:"devDependencies"`
	OptionalDependencies map[string]pnpmRef `json:"optionalDependencies"`
}

type pnpmPackage struct {
	Name    string `json:"name"`    // set for tarball and git dependencies
	Version string `json:"version"` // likewise
	Dev     *bool  `json:"dev"`     // v5, v6: true dev only, false prod only, absent both
}

type pnpmSnapshot struct {
	Dependencies         map[string]string `json:"dependencies"`
	OptionalDependencies map[string]string `json:"optionalDependencies"`
}

// pnpmRef is the version an importer resolved a dependency to: a plain
// string in v5 ("4.17.15", "/lodash/4.17.21" for an alias), {specifier,
// version} from v6 on.
type pnpmRef struct{ Version string }

func (r *pnpmRef) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var o struct {
			Version json.RawMessage `json:"version"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		r.Version = scalar(o.Version)
		return nil
	}
	r.Version = scalar(b)
	return nil
}

// scalar renders a JSON string or number as text; anything else is "".
func scalar(b json.RawMessage) string {
	var s string
	if json.Unmarshal(b, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(b, &n) == nil {
		return n.String()
	}
	return ""
}

// ParsePnpmLock reads a pnpm-lock.yaml. Package keys are "/name/1.0.0" in
// version 5, "/name@1.0.0" in 6 and "name@1.0.0" in 9, with peer-dependency
// suffixes ("_react@18.2.0" in 5, "(react@18.2.0)" later) that do not
// change the package. Versions 5 and 6 mark dev-only packages; for 9 it is
// worked out from the importers' devDependencies through the snapshots. A
// file may hold several YAML documents (pnpm 10 puts the lockfile of its
// configuration dependencies first).
func ParsePnpmLock(ctx context.Context, b []byte) ([]Package, error) {
	var c collector
	for _, doc := range yamlDocuments(b) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		var lock pnpmLock
		if err := yaml.Unmarshal(doc, &lock); err != nil {
			return nil, err
		}
		if err := lock.collect(ctx, &c); err != nil {
			return nil, err
		}
	}
	return c.sorted(), nil
}

// yamlDocuments splits a YAML stream at its "---" separators.
func yamlDocuments(b []byte) [][]byte {
	var docs [][]byte
	start := 0
	for i := 0; i < len(b); {
		end := bytes.IndexByte(b[i:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += i
		}
		if l := bytes.TrimRight(b[i:end], " \t\r"); bytes.Equal(l, []byte("---")) {
			docs = append(docs, b[start:i])
			start = end + 1
		}
		i = end + 1
	}
	if start < len(b) {
		docs = append(docs, b[start:])
	}
	return docs
}

func (l *pnpmLock) major() int {
	var s string
	switch v := l.LockfileVersion.(type) {
	case string:
		s = v
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	}
	m, _, _ := strings.Cut(s, ".")
	n, err := strconv.Atoi(m)
	if err != nil {
		return 0
	}
	return n
}

func (l *pnpmLock) collect(ctx context.Context, c *collector) error {
	major := l.major()
	if major == 0 && len(l.Packages) > 0 {
		return fmt.Errorf("lockfile version %v not understood", l.LockfileVersion)
	}
	var devOnly map[string]bool
	if major >= 9 {
		devOnly = l.devOnly()
	}
	var tick ticker
	for key, p := range l.Packages {
		if err := tick.check(ctx); err != nil {
			return err
		}
		name, version, ok := pnpmKey(key, major)
		if p.Name != "" && p.Version != "" {
			name, version, ok = p.Name, p.Version, true
		}
		if !ok || !registryVersion(version) {
			continue
		}
		dev := p.Dev != nil && *p.Dev
		if major >= 9 {
			dev = devOnly[key]
		}
		c.add(Package{Name: name, Version: version, Dev: dev})
	}
	return nil
}

// pnpmKey reads name and version from a packages key.
func pnpmKey(key string, major int) (name, version string, ok bool) {
	k := strings.TrimPrefix(key, "/")
	if major < 6 {
		i := strings.LastIndexByte(k, '/')
		if i <= 0 {
			return "", "", false
		}
		name, version = k[:i], k[i+1:]
		version, _, _ = strings.Cut(version, "_")
		return name, version, true
	}
	k, _, _ = strings.Cut(k, "(")
	return splitLast(k)
}

// devOnly returns, for a v9 lockfile, the packages keys reachable from some
// importer's devDependencies but from no importer's dependencies or
// optionalDependencies.
func (l *pnpmLock) devOnly() map[string]bool {
	var prodRoots, devRoots []string
	for _, imp := range l.Importers {
		for _, deps := range []map[string]pnpmRef{imp.Dependencies, imp.OptionalDependencies} {
			for name, ref := range deps {
				if k := snapshotKey(name, ref.Version); k != "" {
					prodRoots = append(prodRoots, k)
				}
			}
		}
		for name, ref := range imp.DevDependencies {
			if k := snapshotKey(name, ref.Version); k != "" {
				devRoots = append(devRoots, k)
			}
		}
	}
	prod := l.reach(prodRoots)
	out := map[string]bool{}
	for k := range l.reach(devRoots) {
		if !prod[k] {
			out[k] = true
		}
	}
	return out
}

// reach walks the snapshots from roots and returns the packages keys (peer
// suffixes removed) it visits.
func (l *pnpmLock) reach(roots []string) map[string]bool {
	seen := map[string]bool{}
	pkgs := map[string]bool{}
	queue := roots
	for len(queue) > 0 {
		k := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		if seen[k] {
			continue
		}
		seen[k] = true
		base, _, _ := strings.Cut(k, "(")
		pkgs[base] = true
		s := l.Snapshots[k]
		for _, deps := range []map[string]string{s.Dependencies, s.OptionalDependencies} {
			for name, v := range deps {
				if dk := snapshotKey(name, v); dk != "" && !seen[dk] {
					queue = append(queue, dk)
				}
			}
		}
	}
	return pkgs
}

// snapshotKey returns the snapshots key a dependency reference points at:
// "ms" with "2.0.0" is "ms@2.0.0"; an alias carries its own key
// ("lodash@4.17.21"); links to local directories have none.
func snapshotKey(name, ref string) string {
	switch {
	case ref == "" || strings.HasPrefix(ref, "link:"):
		return ""
	case ref[0] >= '0' && ref[0] <= '9', strings.Contains(ref, ":"):
		return name + "@" + ref
	case strings.Contains(ref[1:], "@"):
		return ref
	}
	return name + "@" + ref
}

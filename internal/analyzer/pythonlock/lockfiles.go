package pythonlock

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer/python"
)

// ParsePoetryLock reads a poetry.lock (lock-version 1.x and 2.x). Dev
// packages are marked by category = "dev" (Poetry before 1.5) or by groups
// that do not include "main" (lock-version 2.1, Poetry 2). Packages from a
// local directory (the project's own, or a path dependency) are skipped.
func ParsePoetryLock(ctx context.Context, b []byte) ([]Package, error) {
	var lock struct {
		Package []struct {
			Name     string   `toml:"name"`
			Version  string   `toml:"version"`
			Category string   `toml:"category"`
			Groups   []string `toml:"groups"`
			Source   struct {
				Type string `toml:"type"`
			} `toml:"source"`
		} `toml:"package"`
	}
	if err := decodeTOML(b, &lock); err != nil {
		return nil, err
	}
	var c collector
	var tick ticker
	for _, p := range lock.Package {
		if err := tick.check(ctx); err != nil {
			return nil, err
		}
		if p.Source.Type == "directory" {
			continue
		}
		dev := p.Category == "dev" || len(p.Groups) > 0 && !slices.Contains(p.Groups, "main")
		c.add(p.Name, p.Version, dev)
	}
	return c.sorted(), nil
}

// ParsePipfileLock reads a Pipfile.lock. "develop" holds the dev packages,
// "default" and any custom category the others; entries without a version
// (editable, path and VCS requirements) are skipped.
func ParsePipfileLock(ctx context.Context, b []byte) ([]Package, error) {
	var lock map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), &lock); err != nil {
		return nil, err
	}
	var c collector
	var tick ticker
	for section, raw := range lock {
		if section == "_meta" {
			continue
		}
		var entries map[string]struct {
			Version string `json:"version"`
		}
		if err := json.Unmarshal(raw, &entries); err != nil {
			continue // not a package category
		}
		for name, e := range entries {
			if err := tick.check(ctx); err != nil {
				return nil, err
			}
			v, ok := strings.CutPrefix(e.Version, "===")
			if !ok {
				v, ok = strings.CutPrefix(e.Version, "==")
			}
			if ok {
				c.add(name, v, section == "develop")
			}
		}
	}
	return c.sorted(), nil
}

type uvDep struct {
	Name    string `toml:"name"`
	Version string `toml:"version"` // set when several versions of name are locked
}

type uvPackage struct {
	Name                 string             `toml:"name"`
	Version              string             `toml:"version"`
	Source               map[string]any     `toml:"source"`
	Dependencies         []uvDep            `toml:"dependencies"`
	OptionalDependencies map[string][]uvDep `toml:"optional-dependencies"`
	DevDependencies      map[string][]uvDep `toml:"dev-dependencies"`
}

// local reports whether the package is the project itself or another
// directory of the source tree: a workspace member, an editable or path
// dependency.
func (p *uvPackage) local() bool {
	for _, k := range []string{"editable", "virtual", "directory", "path"} {
		if _, ok := p.Source[k]; ok {
			return true
		}
	}
	return false
}

// ParseUVLock reads a uv.lock. The project and other local packages are
// not reported; a package is dev when it is reachable from their
// dev-dependencies (any group) and not from their dependencies or
// optional dependencies.
func ParseUVLock(ctx context.Context, b []byte) ([]Package, error) {
	var lock struct {
		Package []uvPackage `toml:"package"`
	}
	if err := decodeTOML(b, &lock); err != nil {
		return nil, err
	}
	pkgs := lock.Package
	norm := map[string]string{} // NormalizeName is a regexp: once per name
	normalize := func(n string) string {
		v, ok := norm[n]
		if !ok {
			v = python.NormalizeName(n)
			norm[n] = v
		}
		return v
	}
	type nameVersion struct{ name, version string }
	byKey := map[nameVersion]int{} // first package of each name and version
	byName := map[string][]int{}   // its versions
	for i := range pkgs {
		k := nameVersion{normalize(pkgs[i].Name), pkgs[i].Version}
		if _, dup := byKey[k]; !dup {
			byKey[k] = i
			byName[k.name] = append(byName[k.name], i)
		}
	}
	// reach marks every package reachable from roots through dependencies
	// and optional dependencies. A dependency without a version stands for
	// every locked version of its name; each name is expanded once, so the
	// walk is linear in the edges however the file repeats them.
	reach := func(roots []uvDep) []bool {
		seen := make([]bool, len(pkgs))
		expanded := map[string]bool{}
		var queue []int
		visit := func(i int) {
			if !seen[i] {
				seen[i] = true
				queue = append(queue, i)
			}
		}
		push := func(d uvDep) {
			n := normalize(d.Name)
			if d.Version != "" {
				if i, ok := byKey[nameVersion{n, d.Version}]; ok {
					visit(i)
				}
				return
			}
			if !expanded[n] {
				expanded[n] = true
				for _, i := range byName[n] {
					visit(i)
				}
			}
		}
		for _, d := range roots {
			push(d)
		}
		for len(queue) > 0 {
			i := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			for _, d := range pkgs[i].Dependencies {
				push(d)
			}
			for _, ds := range pkgs[i].OptionalDependencies {
				for _, d := range ds {
					push(d)
				}
			}
		}
		return seen
	}
	var prodRoots, devRoots []uvDep
	for i := range pkgs {
		if !pkgs[i].local() {
			continue
		}
		prodRoots = append(prodRoots, pkgs[i].Dependencies...)
		for _, ds := range pkgs[i].OptionalDependencies {
			prodRoots = append(prodRoots, ds...)
		}
		for _, ds := range pkgs[i].DevDependencies {
			devRoots = append(devRoots, ds...)
		}
	}
	prod, dev := reach(prodRoots), reach(devRoots)
	var c collector
	var tick ticker
	for i := range pkgs {
		if err := tick.check(ctx); err != nil {
			return nil, err
		}
		if pkgs[i].local() {
			continue
		}
		c.add(pkgs[i].Name, pkgs[i].Version, dev[i] && !prod[i])
	}
	return c.sorted(), nil
}

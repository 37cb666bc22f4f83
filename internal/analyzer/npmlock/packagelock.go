package npmlock

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer/npm"
)

type lockEntry struct {
	Name        string          `json:"name"`
	Version     string          `json:"version"`
	Dev         bool            `json:"dev"`
	DevOptional bool            `json:"devOptional"`
	Link        bool            `json:"link"`
	License     json.RawMessage `json:"license"`
}

type v1Entry struct {
	Version      string             `json:"version"`
	Dev          bool               `json:"dev"`
	Dependencies map[string]v1Entry `json:"dependencies"`
}

// ParsePackageLock reads package-lock.json or npm-shrinkwrap.json. Versions
// 2 and 3 list every installed path under "packages"; version 1 nests
// "dependencies". The root project, workspace members and links are not
// packages of their own.
func ParsePackageLock(ctx context.Context, b []byte) ([]Package, error) {
	var lock struct {
		Packages     map[string]lockEntry `json:"packages"`
		Dependencies map[string]v1Entry   `json:"dependencies"`
	}
	if err := json.Unmarshal(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), &lock); err != nil {
		return nil, err
	}
	var c collector
	var tick ticker
	if len(lock.Packages) > 0 {
		for key, e := range lock.Packages {
			if err := tick.check(ctx); err != nil {
				return nil, err
			}
			i := strings.LastIndex(key, "node_modules/")
			if i < 0 || e.Link {
				continue // the project (""), a workspace member's sources, or a link to one
			}
			name := e.Name // set when the directory is an alias
			if name == "" {
				name = key[i+len("node_modules/"):]
			}
			c.add(Package{Name: name, Version: e.Version, Licenses: npm.Licenses(e.License), Dev: e.Dev || e.DevOptional})
		}
		return c.sorted(), nil
	}
	// encoding/json bounds the nesting, and so this recursion.
	var walk func(deps map[string]v1Entry) error
	walk = func(deps map[string]v1Entry) error {
		for name, e := range deps {
			if err := tick.check(ctx); err != nil {
				return err
			}
			version := e.Version
			if alias, ok := strings.CutPrefix(version, "npm:"); ok {
				// "my-lodash": {"version": "npm:lodash@4.17.21"}
				name, version, _ = splitLast(alias)
			}
			// Git, tarball and file dependencies have a URL or path for
			// a version, and nothing to look up.
			if registryVersion(version) {
				c.add(Package{Name: name, Version: version, Dev: e.Dev})
			}
			if err := walk(e.Dependencies); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(lock.Dependencies); err != nil {
		return nil, err
	}
	return c.sorted(), nil
}

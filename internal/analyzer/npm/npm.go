// Package npm reads the packages installed in node_modules trees from
// their package.json files: npm's nested layout, scoped packages and pnpm's
// store (node_modules/.pnpm/NAME@VERSION/node_modules/NAME); and the
// applications' own package.json files outside node_modules.
package npm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Name of the analyzer.
const Name = "lang/npm"

// Type is the package type of npm packages, as in their PURL.
const Type = "npm"

// MaxFileSize caps the package.json files read. The largest real ones
// (with embedded readme or long file lists) are a few hundred KiB.
const MaxFileSize = 8 << 20

// Analyzer reads installed package.json files.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 2 }

// Required accepts the package.json directly inside an installed package's
// directory (.../node_modules/NAME/package.json or
// .../node_modules/@SCOPE/NAME/package.json) and an application's own
// manifest: a package.json outside any node_modules tree (/app/package.json,
// or /usr/share/nodejs/NAME/package.json, which Debian's node packages own
// and the inventory folds into them). Other package.json files inside a
// package (test fixtures, dist/package.json module-type stubs) are not
// installed packages.
func (*Analyzer) Required(path string, info fs.FileInfo) bool {
	return IsInstalledManifest(path) || IsApplicationManifest(path)
}

// IsApplicationManifest reports whether path is a package.json outside any
// node_modules tree.
func IsApplicationManifest(path string) bool {
	return (path == "package.json" || strings.HasSuffix(path, "/package.json")) &&
		!strings.Contains(path, "/node_modules/") && !strings.HasPrefix(path, "node_modules/")
}

// SizeLimit: the core skips larger files with a warning.
func (*Analyzer) SizeLimit(string) int64 { return MaxFileSize }

// IsInstalledManifest reports whether path is the package.json of a package
// directory in a node_modules tree.
func IsInstalledManifest(path string) bool {
	dir, ok := strings.CutSuffix(path, "/package.json")
	if !ok {
		return false
	}
	i := strings.LastIndex(dir, "/node_modules/")
	if i < 0 {
		return false
	}
	name := dir[i+len("/node_modules/"):]
	if scope, rest, scoped := strings.Cut(name, "/"); scoped {
		return len(scope) > 1 && scope[0] == '@' && validSegment(scope[1:]) && validSegment(rest)
	}
	return validSegment(name) && name[0] != '@'
}

// validSegment: a directory npm could have installed a package (or scope)
// into. Names never start with a dot or an underscore, which keeps out
// .bin, .pnpm, .cache and the like.
func validSegment(s string) bool {
	return s != "" && s[0] != '.' && s[0] != '_' && !strings.Contains(s, "/")
}

func (*Analyzer) Analyze(ctx context.Context, in analyzer.Input) (*analyzer.Result, error) {
	b, err := analyzer.ReadAll(in, int64(MaxFileSize))
	if err != nil {
		return nil, err
	}
	m, err := ParseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", in.Path, err)
	}
	// npm itself ignores a package.json without name or version.
	if m.Name == "" || m.Version == "" {
		return nil, nil
	}
	return &analyzer.Result{Packages: []inventory.Package{{
		Name:      m.Name,
		Version:   m.Version,
		Type:      Type,
		Licenses:  m.Licenses,
		PURL:      PURL(m.Name, m.Version),
		FoundBy:   Name,
		Private:   m.Private && IsApplicationManifest(in.Path),
		Locations: []inventory.Location{{Path: in.Path}},
	}}}, nil
}

// Manifest is what bulkhead reads from a package.json.
type Manifest struct {
	Name     string
	Version  string
	Licenses []string
	// Private: "private": true, the package is never published.
	Private bool
}

// ParseManifest decodes a package.json. Fields of the wrong JSON type are
// treated as absent, as npm does; JSON that does not parse is an error.
func ParseManifest(b []byte) (Manifest, error) {
	var raw struct {
		Name     json.RawMessage `json:"name"`
		Version  json.RawMessage `json:"version"`
		License  json.RawMessage `json:"license"`
		Licenses json.RawMessage `json:"licenses"`
		Private  json.RawMessage `json:"private"`
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // editors on Windows add a BOM
	if err := json.Unmarshal(b, &raw); err != nil {
		return Manifest{}, err
	}
	return Manifest{
		Name:     strings.TrimSpace(jsonString(raw.Name)),
		Version:  strings.TrimSpace(jsonString(raw.Version)),
		Licenses: Licenses(raw.License, raw.Licenses),
		Private:  truthy(raw.Private),
	}, nil
}

// truthy is JavaScript's truthiness of a JSON value, which is what npm
// checks "private" with: absent, false, null, 0 and "" are false.
func truthy(v json.RawMessage) bool {
	switch t := string(bytes.TrimSpace(v)); t {
	case "", "false", "null", `""`:
		return false
	default:
		if f, err := strconv.ParseFloat(t, 64); err == nil {
			return f != 0
		}
		return true
	}
}

// Licenses reads the licence fields of a package.json or lockfile entry in
// all the shapes found in the wild: "MIT"; the legacy {"type": "MIT",
// "url": ...}; arrays of either, under "license" or "licenses". Empty
// entries are dropped and repeated ones kept once, in order.
func Licenses(fields ...json.RawMessage) []string {
	var out []string
	seen := map[string]bool{}
	add := func(s string) {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	var one func(m json.RawMessage, depth int)
	one = func(m json.RawMessage, depth int) {
		m = bytes.TrimSpace(m)
		if len(m) == 0 {
			return
		}
		switch m[0] {
		case '"':
			add(jsonString(m))
		case '{':
			var o struct {
				Type json.RawMessage `json:"type"`
				Name json.RawMessage `json:"name"`
			}
			if json.Unmarshal(m, &o) == nil {
				if t := jsonString(o.Type); t != "" {
					add(t)
				} else {
					add(jsonString(o.Name))
				}
			}
		case '[':
			if depth > 0 {
				return // arrays of arrays are no licence shape anyone wrote
			}
			var a []json.RawMessage
			if json.Unmarshal(m, &a) == nil {
				for _, e := range a {
					one(e, depth+1)
				}
			}
		}
	}
	for _, f := range fields {
		one(f, 0)
	}
	return out
}

// jsonString returns the string a raw JSON value holds, or "" when it is
// not a string.
func jsonString(m json.RawMessage) string {
	var s string
	if len(m) == 0 || json.Unmarshal(m, &s) != nil {
		return ""
	}
	return s
}

// PURL returns the package URL of an npm package; a scope becomes the
// namespace (pkg:npm/%40babel/code-frame@7.0.0).
func PURL(name, version string) string {
	ns := ""
	if strings.HasPrefix(name, "@") {
		if scope, rest, ok := strings.Cut(name, "/"); ok {
			ns, name = scope, rest
		}
	}
	return packageurl.NewPackageURL(packageurl.TypeNPM, ns, name, version, nil, "").ToString()
}

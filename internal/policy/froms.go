package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// From is one FROM line of a Dockerfile: the image a build starts from.
type From struct {
	Image string `json:"image"` // as written, build ARGs with defaults expanded
	Path  string `json:"path"`  // the Dockerfile: /-rooted at the scanned directory, as misconfigurations are
	Line  int    `json:"line"`
	// Unresolved: the reference still holds a build ARG with no default
	// (FROM ${BASE}), so where the image comes from cannot be checked.
	Unresolved bool `json:"unresolved,omitempty"`
}

// Bounds on what DockerfileFroms reads.
const (
	maxDockerfileSize = 1 << 20
	maxDockerfiles    = 1000
	maxWalkEntries    = 200000
)

// ParseFroms returns the FROM lines of a Dockerfile that name an image:
// not scratch, not an earlier stage, not a reference that still holds an
// unresolved build ARG.
func ParseFroms(path string, data []byte) ([]From, error) {
	if len(data) > maxDockerfileSize {
		return nil, fmt.Errorf("%s: %d bytes, the limit is %d", path, len(data), maxDockerfileSize)
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: parse Dockerfile: %w", path, err)
	}
	args := map[string]string{}
	stages := map[string]bool{}
	var out []From
	seenFrom := false
	for _, n := range res.AST.Children {
		var words []string
		for x := n.Next; x != nil; x = x.Next {
			words = append(words, x.Value)
		}
		switch strings.ToLower(n.Value) {
		case "arg":
			if seenFrom {
				continue // stage ARGs do not apply to FROM
			}
			for _, w := range words {
				k, v, _ := strings.Cut(w, "=")
				args[k] = strings.Trim(v, `"'`)
			}
		case "from":
			seenFrom = true
			if len(words) == 0 {
				continue
			}
			img := expandArgs(words[0], args)
			if strings.EqualFold(img, "scratch") || stages[strings.ToLower(img)] || img == "" {
				if len(words) >= 3 && strings.EqualFold(words[1], "as") {
					stages[strings.ToLower(words[2])] = true
				}
				continue
			}
			if strings.Contains(img, "$") {
				if len(words) >= 3 && strings.EqualFold(words[1], "as") {
					stages[strings.ToLower(words[2])] = true
				}
				out = append(out, From{Image: img, Path: path, Line: n.StartLine, Unresolved: true})
				continue
			}
			if len(words) >= 3 && strings.EqualFold(words[1], "as") {
				stages[strings.ToLower(words[2])] = true
			}
			out = append(out, From{Image: img, Path: path, Line: n.StartLine})
		}
	}
	return out, nil
}

// expandArgs replaces $NAME and ${NAME} with the global ARG defaults.
func expandArgs(s string, args map[string]string) string {
	return os.Expand(s, func(k string) string {
		if v, ok := args[k]; ok && v != "" {
			return v
		}
		return "$" + k // stays unresolved
	})
}

// IsDockerfile reports whether a file name is a Dockerfile or Containerfile
// by the names docker build and bulkhead's misconfig scanner use.
func IsDockerfile(name string) bool {
	base := filepath.Base(name)
	l := strings.ToLower(base)
	return l == "dockerfile" || l == "containerfile" ||
		strings.HasPrefix(l, "dockerfile.") || strings.HasPrefix(l, "containerfile.") ||
		strings.HasSuffix(l, ".dockerfile") || strings.HasSuffix(l, ".containerfile")
}

// DockerfileFroms finds the Dockerfiles under dir (skipping .git and
// node_modules, bounded) and returns their FROM lines, with paths relative
// to dir. Files that cannot be read or parsed are returned as warnings.
func DockerfileFroms(dir string) ([]From, []string) {
	var out []From
	var warnings []string
	entries, files := 0, 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			warnings = append(warnings, err.Error())
			return nil
		}
		entries++
		if entries > maxWalkEntries {
			return errWalkLimit
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "vendor":
				if p != dir {
					return filepath.SkipDir
				}
			}
			return nil
		}
		if !d.Type().IsRegular() || !IsDockerfile(d.Name()) {
			return nil
		}
		files++
		if files > maxDockerfiles {
			return errWalkLimit
		}
		rel, _ := filepath.Rel(dir, p)
		rel = "/" + filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil || info.Size() > maxDockerfileSize {
			warnings = append(warnings, fmt.Sprintf("%s: skipped (unreadable or over %d bytes)", rel, maxDockerfileSize))
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			warnings = append(warnings, err.Error())
			return nil
		}
		fs, err := ParseFroms(rel, data)
		if err != nil {
			warnings = append(warnings, err.Error())
			return nil
		}
		out = append(out, fs...)
		return nil
	})
	if errors.Is(err, errWalkLimit) {
		warnings = append(warnings, fmt.Sprintf("stopped looking for Dockerfiles after %d entries / %d Dockerfiles", maxWalkEntries, maxDockerfiles))
	}
	return out, warnings
}

var errWalkLimit = errors.New("walk limit")

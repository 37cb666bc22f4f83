// Package osrelease identifies the operating system from os-release(5)
// files, and from the release files of distributions that predate it.
package osrelease

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
)

// Name of the analyzer.
const Name = "os/release"

// Paths the analyzer reads, in order of preference when several exist.
var Paths = []string{"/etc/os-release", "/usr/lib/os-release", "/etc/alpine-release", "/etc/debian_version", "/etc/redhat-release"}

const maxSize = 64 << 10

// Analyzer reads os-release files.
type Analyzer struct{}

var _ analyzer.Analyzer = (*Analyzer)(nil)

// New returns the analyzer.
func New() *Analyzer { return &Analyzer{} }

func (*Analyzer) Name() string { return Name }
func (*Analyzer) Version() int { return 1 }

func (*Analyzer) Required(path string, info fs.FileInfo) bool {
	for _, p := range Paths {
		if p == path {
			return info.Size() <= maxSize
		}
	}
	return false
}

func (*Analyzer) Analyze(_ context.Context, in analyzer.Input) (*analyzer.Result, error) {
	b, err := io.ReadAll(io.LimitReader(in.Content, maxSize))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	var os *inventory.OS
	switch in.Path {
	case "/etc/os-release", "/usr/lib/os-release":
		os = Parse(string(b))
	case "/etc/alpine-release":
		if v := strings.TrimSpace(string(b)); v != "" {
			os = &inventory.OS{ID: "alpine", VersionID: v, Name: "Alpine Linux v" + v}
		}
	case "/etc/debian_version":
		if v := strings.TrimSpace(string(b)); v != "" {
			os = &inventory.OS{ID: "debian", VersionID: v, Name: "Debian GNU/Linux " + v}
		}
	case "/etc/redhat-release":
		os = parseRedHatRelease(strings.TrimSpace(string(b)))
	}
	if os == nil {
		return nil, nil
	}
	os.Location = inventory.Location{Path: in.Path}
	return &analyzer.Result{OS: os}, nil
}

// Parse reads the KEY=value lines of an os-release file. It returns nil
// when the file names no ID.
func Parse(s string) *inventory.OS {
	vals := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		vals[k] = unquote(strings.TrimSpace(v))
	}
	id := strings.ToLower(vals["ID"])
	if id == "" {
		return nil
	}
	o := &inventory.OS{
		ID:        id,
		VersionID: vals["VERSION_ID"],
		Codename:  vals["VERSION_CODENAME"],
		Name:      vals["PRETTY_NAME"],
	}
	if o.Name == "" {
		o.Name = strings.TrimSpace(vals["NAME"] + " " + vals["VERSION"])
	}
	if like := vals["ID_LIKE"]; like != "" {
		o.IDLike = strings.Fields(strings.ToLower(like))
	}
	// Debian testing/sid ship no VERSION_ID; the codename is all there is.
	return o
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		if v[0] == '"' {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
		}
		return v[1 : len(v)-1]
	}
	return v
}

// parseRedHatRelease understands "CentOS release 6.10 (Final)" and
// "Red Hat Enterprise Linux Server release 7.9 (Maipo)".
func parseRedHatRelease(s string) *inventory.OS {
	i := strings.Index(s, " release ")
	if i < 0 {
		return nil
	}
	name := s[:i]
	ver := strings.Fields(s[i+len(" release "):])
	if len(ver) == 0 {
		return nil
	}
	id := "rhel"
	switch {
	case strings.HasPrefix(name, "CentOS"):
		id = "centos"
	case strings.HasPrefix(name, "Fedora"):
		id = "fedora"
	case strings.HasPrefix(name, "Rocky"):
		id = "rocky"
	case strings.HasPrefix(name, "AlmaLinux"):
		id = "almalinux"
	}
	return &inventory.OS{ID: id, VersionID: ver[0], Name: s}
}

// Pick chooses the OS among what the release files said, by the order of
// Paths: os-release wins over older release files.
func Pick(found map[string]*inventory.OS) *inventory.OS {
	for _, p := range Paths {
		if o := found[p]; o != nil {
			return o
		}
	}
	return nil
}

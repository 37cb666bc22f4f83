package policy

import (
	"fmt"
	"path"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultIgnoreFile is looked for in the scanned directory, then the
// current one, when --ignorefile is not given.
const DefaultIgnoreFile = ".bulkheadignore.yaml"

// DefaultPolicyFile is the policy looked for the same way.
const DefaultPolicyFile = ".bulkhead/policy.yaml"

// Exception is one entry of an ignore file: a finding id accepted until a
// date, for a reason, by an owner.
//
//	ignores:
//	  - id: CVE-2024-5535        # CVE, GHSA, check id, secret rule id or fingerprint, malware signature
//	    package: openssl         # optional scope: package (binary or source name), path, image (globs)
//	    reason: not reachable, no TLS server in this image
//	    expires: 2026-12-31      # required
//	    owner: platform-team
type Exception struct {
	ID      string    `json:"id"`
	Package string    `json:"package,omitempty"`
	Path    string    `json:"path,omitempty"`
	Image   string    `json:"image,omitempty"`
	Reason  string    `json:"reason"`
	Owner   string    `json:"owner,omitempty"`
	Expires time.Time `json:"expires"`
	File    string    `json:"file,omitempty"`
	Line    int       `json:"line,omitempty"`
}

// ExpiresString is the expiry date as written.
func (e *Exception) ExpiresString() string { return e.Expires.Format(time.DateOnly) }

// Expired reports whether the exception no longer applies at now: it
// applies through its expiry day (UTC).
func (e *Exception) Expired(now time.Time) bool {
	return !now.UTC().Before(e.Expires.AddDate(0, 0, 1))
}

// Where is "file:line" of the entry.
func (e *Exception) Where() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return e.File
}

// LoadIgnoreFile reads and parses an ignore file.
func LoadIgnoreFile(file string) ([]Exception, error) {
	data, err := readBounded(file)
	if err != nil {
		return nil, err
	}
	return ParseIgnore(file, data)
}

// maxExceptions bounds an ignore file.
const maxExceptions = 10000

// ParseIgnore parses an ignore file strictly: every entry needs an id, a
// reason and an expiry date (YYYY-MM-DD); unknown fields are errors.
func ParseIgnore(file string, data []byte) ([]Exception, error) {
	if len(data) > maxFileSize {
		return nil, &ParseError{File: file, Msg: fmt.Sprintf("file is %d bytes, the limit is %d", len(data), maxFileSize)}
	}
	d := decoder{file: file}
	root, err := d.document(data)
	if err != nil {
		return nil, err
	}
	var out []Exception
	var found bool
	err = d.fields(root, func(key string, k, v *yaml.Node) error {
		if key != "ignores" {
			return d.unknown(k, "ignore file", "ignores")
		}
		found = true
		if v.Kind != yaml.SequenceNode {
			return d.errAt(v, "ignores must be a list")
		}
		if len(v.Content) > maxExceptions {
			return d.errAt(v, fmt.Sprintf("%d entries; the limit is %d", len(v.Content), maxExceptions))
		}
		for _, en := range v.Content {
			e, err := d.exception(en)
			if err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, d.errAt(root, "ignores is missing")
	}
	return out, nil
}

func (d *decoder) exception(n *yaml.Node) (Exception, error) {
	e := Exception{File: d.file, Line: n.Line}
	var hasExpires bool
	err := d.fields(n, func(key string, k, v *yaml.Node) error {
		var err error
		switch key {
		case "id":
			e.ID, err = d.str(v)
			e.ID = strings.TrimSpace(e.ID)
		case "package":
			e.Package, err = d.str(v)
		case "path":
			e.Path, err = d.str(v)
			if err == nil {
				_, err = path.Match(e.Path, "")
				if err != nil {
					err = d.errAt(v, fmt.Sprintf("path %q: %v", e.Path, err))
				}
			}
		case "image":
			e.Image, err = d.str(v)
		case "reason":
			e.Reason, err = d.str(v)
		case "owner":
			e.Owner, err = d.str(v)
		case "expires":
			hasExpires = true
			// yaml.v3 resolves 2026-12-31 to a timestamp; take the text.
			if v.Kind != yaml.ScalarNode {
				return d.errAt(v, "expires: want a date YYYY-MM-DD")
			}
			t, perr := time.Parse(time.DateOnly, v.Value)
			if perr != nil {
				return d.errAt(v, fmt.Sprintf("expires %q: want a date YYYY-MM-DD", v.Value))
			}
			e.Expires = t
		default:
			err = d.unknown(k, "ignore entry", "id, package, path, image, reason, expires, owner")
		}
		return err
	})
	if err != nil {
		return e, err
	}
	switch {
	case e.ID == "":
		return e, d.errAt(n, "ignore entry has no id")
	case !hasExpires:
		return e, d.errAt(n, fmt.Sprintf("ignore entry %s has no expires date: every exception must end (YYYY-MM-DD)", e.ID))
	case strings.TrimSpace(e.Reason) == "":
		return e, d.errAt(n, fmt.Sprintf("ignore entry %s has no reason: say why the risk is accepted", e.ID))
	}
	return e, nil
}

// matches reports whether the exception covers a finding with these ids
// and scope.
func (e *Exception) matches(ids []string, pkgs []string, where string, image string) bool {
	hit := false
	for _, id := range ids {
		if id != "" && strings.EqualFold(id, e.ID) {
			hit = true
			break
		}
	}
	if !hit {
		return false
	}
	if e.Package != "" {
		ok := false
		for _, p := range pkgs {
			if p != "" && globMatch(e.Package, p) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	if e.Path != "" && !pathMatch(e.Path, where) {
		return false
	}
	if e.Image != "" && !globMatch(e.Image, image) {
		return false
	}
	return true
}

// globMatch is path.Match where a bad pattern matches only itself.
func globMatch(pattern, s string) bool {
	ok, err := path.Match(pattern, s)
	return ok || (err != nil && pattern == s)
}

// pathMatch matches a path pattern with or without the leading slash.
func pathMatch(pattern, p string) bool {
	pattern, p = strings.TrimPrefix(pattern, "/"), strings.TrimPrefix(p, "/")
	if globMatch(pattern, p) {
		return true
	}
	// A directory pattern covers what is below it.
	return strings.HasPrefix(p, strings.TrimSuffix(pattern, "/")+"/")
}

// Package misconfig is bulkhead's misconfiguration engine: the catalogue of
// checks (every check has a stable ID, a severity, a title, a WHY written for
// the developer who has to fix it, the fix and references), the Finding they
// produce, inline suppressions and the options shared by the parsers.
//
// The checks themselves live next to their input format:
//
//	misconfig/dockerfile  Dockerfiles and Containerfiles   BH-DF-…
//	misconfig/kubernetes  Kubernetes manifests (YAML/JSON) BH-K8S-…
//	misconfig/compose     Docker Compose files             BH-CMP-…
//	misconfig/image       built images: config + files     BH-IMG-…
//
// This package imports none of them, so they can all build on it.
package misconfig

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Types of input a check applies to; Finding.Type and Check.Type.
const (
	TypeDockerfile = "dockerfile"
	TypeKubernetes = "kubernetes"
	TypeCompose    = "compose"
	TypeImage      = "image"
)

// Severities, the same words the rest of bulkhead uses.
const (
	SeverityCritical = "CRITICAL"
	SeverityHigh     = "HIGH"
	SeverityMedium   = "MEDIUM"
	SeverityLow      = "LOW"
)

// Finding is one failed check at one place.
type Finding struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Severity string `json:"severity"`
	Title    string `json:"title"`
	// Message says what exactly is wrong here ("container app sets
	// privileged: true"); Title is the same for every finding of a check.
	Message string `json:"message"`
	Why     string `json:"why"`
	// Fix is the check's fix, or a fix written for this occurrence (the
	// corrected line) when one can be computed.
	Fix  string `json:"fix"`
	Path string `json:"path"`
	// Line is 1-based; 0 when the finding has no line (image config).
	Line int `json:"line,omitempty"`
	// Resource names the object inside the file: "Deployment/web
	// container/app", "service/db", "stage builder".
	Resource string `json:"resource,omitempty"`
	// Template is the Helm template a rendered document came from (its
	// "# Source:" comment), when known.
	Template   string   `json:"template,omitempty"`
	References []string `json:"references"`
	// Image findings: the layer that added the file or the history entry
	// (Dockerfile instruction) responsible. LayerIndex is nil for findings
	// that are not in a layer (a config field, an ENV step).
	LayerIndex  *int   `json:"layerIndex,omitempty"`
	LayerDiffID string `json:"layerDiffID,omitempty"`
	CreatedBy   string `json:"createdBy,omitempty"`
}

// New returns a finding of check id, with the check's metadata filled in.
// An unknown id is a programming error and panics: every ID a parser uses is
// in the catalogue (TestEveryIDUsedIsCatalogued).
func New(id string) Finding {
	c, ok := Lookup(id)
	if !ok {
		panic("misconfig: unknown check " + id)
	}
	return Finding{
		ID:         c.ID,
		Type:       c.Type,
		Severity:   c.Severity,
		Title:      c.Title,
		Message:    c.Title,
		Why:        c.Why,
		Fix:        c.Fix,
		References: slices.Clone(c.References),
	}
}

// At sets the location and returns f, for chaining.
func (f Finding) At(path string, line int) Finding {
	f.Path, f.Line = path, line
	return f
}

// Layer returns a pointer to i, for Finding.LayerIndex.
func Layer(i int) *int { return &i }

// Options are shared by every parser.
type Options struct {
	// Skip lists check IDs not to run (--skip-checks). A trailing "*"
	// matches a prefix: "BH-DF-*" skips every Dockerfile check.
	Skip []string
	// MaxBytes bounds the bytes read from one input; zero means
	// DefaultMaxBytes. Larger inputs are an ErrTooLarge error.
	MaxBytes int64
}

// DefaultMaxBytes bounds one input file or stream (a Helm chart rendered to
// stdin is rarely over a few MiB; a 64 MiB manifest is not a manifest).
const DefaultMaxBytes = 32 << 20

// Limit returns the byte limit in effect.
func (o Options) Limit() int64 {
	if o.MaxBytes > 0 {
		return o.MaxBytes
	}
	return DefaultMaxBytes
}

// Skipped reports whether check id is skipped.
func (o Options) Skipped(id string) bool {
	for _, s := range o.Skip {
		if p, ok := strings.CutSuffix(s, "*"); ok {
			if strings.HasPrefix(id, p) {
				return true
			}
		} else if s == id {
			return true
		}
	}
	return false
}

// ValidateSkip returns an error naming every entry of skip that matches no
// check, so a typo in --skip-checks is not silently ignored.
func ValidateSkip(skip []string) error {
	var bad []string
	for _, s := range skip {
		o := Options{Skip: []string{s}}
		found := false
		for _, c := range catalogue {
			if o.Skipped(c.ID) {
				found = true
				break
			}
		}
		if !found {
			bad = append(bad, s)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("unknown check ID %s (bulkhead checks list shows them all)", strings.Join(bad, ", "))
	}
	return nil
}

// Errors callers can test for with errors.Is.
var (
	// ErrTooLarge: the input is over Options.MaxBytes.
	ErrTooLarge = errors.New("input too large")
	// ErrTooComplex: a document has more nodes than the parser allows.
	ErrTooComplex = errors.New("document too complex")
	// ErrUnknownFormat: ScanReader could not tell what the input is.
	ErrUnknownFormat = errors.New("not a Dockerfile, Kubernetes manifest or Compose file")
)

// Filter drops skipped checks and suppressed findings, then sorts: by path,
// line, ID, resource and message, so output is deterministic.
func Filter(fs []Finding, sups []Suppression, opts Options) []Finding {
	idx := indexSuppressions(sups)
	out := fs[:0]
	for _, f := range fs {
		if opts.Skipped(f.ID) || idx.covers(f) {
			continue
		}
		out = append(out, f)
	}
	Sort(out)
	return slices.Clip(out)
}

// Sort orders findings deterministically.
func Sort(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.ID, b.ID),
			cmp.Compare(a.Resource, b.Resource),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// Suppression is one inline "bulkhead:ignore" comment: findings of IDs whose
// line is within [From, To] are dropped.
type Suppression struct {
	IDs    []string
	Reason string
	Line   int // where the comment is
	From   int
	To     int
}

// suppressionIndex answers "is this finding suppressed" in O(log n): for
// every ID or "PREFIX*" pattern, the union of the line ranges that suppress
// it, merged and sorted. (A file with thousands of ignore comments and
// thousands of findings must not cost their product.)
type suppressionIndex struct {
	exact    map[string][][2]int
	prefixes map[string][][2]int
}

func indexSuppressions(sups []Suppression) suppressionIndex {
	idx := suppressionIndex{}
	if len(sups) == 0 {
		return idx
	}
	idx.exact, idx.prefixes = map[string][][2]int{}, map[string][][2]int{}
	for _, s := range sups {
		for _, id := range s.IDs {
			if p, ok := strings.CutSuffix(id, "*"); ok {
				if !prefixOfSomeCheck(p) {
					continue // matches nothing; keeps the pattern set small
				}
				idx.prefixes[p] = append(idx.prefixes[p], [2]int{s.From, s.To})
			} else if _, known := Lookup(id); known {
				idx.exact[id] = append(idx.exact[id], [2]int{s.From, s.To})
			}
		}
	}
	for _, m := range []map[string][][2]int{idx.exact, idx.prefixes} {
		for k, rs := range m {
			m[k] = mergeRanges(rs)
		}
	}
	return idx
}

func prefixOfSomeCheck(p string) bool {
	for _, c := range catalogue {
		if strings.HasPrefix(c.ID, p) {
			return true
		}
	}
	return false
}

func mergeRanges(rs [][2]int) [][2]int {
	slices.SortFunc(rs, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
	out := rs[:0]
	for _, r := range rs {
		if n := len(out); n > 0 && r[0] <= out[n-1][1]+1 {
			out[n-1][1] = max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

func inRanges(rs [][2]int, line int) bool {
	i, _ := slices.BinarySearchFunc(rs, line, func(r [2]int, l int) int {
		switch {
		case r[1] < l:
			return -1
		case r[0] > l:
			return 1
		}
		return 0
	})
	return i < len(rs) && rs[i][0] <= line && line <= rs[i][1]
}

func (idx suppressionIndex) covers(f Finding) bool {
	if idx.exact == nil {
		return false
	}
	if inRanges(idx.exact[f.ID], f.Line) {
		return true
	}
	for p, rs := range idx.prefixes {
		if strings.HasPrefix(f.ID, p) && inRanges(rs, f.Line) {
			return true
		}
	}
	return false
}

// IgnoreMarker starts an inline suppression comment.
const IgnoreMarker = "bulkhead:ignore"

// ParseIgnore reads a comment's text (after the '#'), which must start with
// the marker, and returns the IDs it suppresses and the reason: "bulkhead:ignore BH-DF-003,BH-DF-002 pinned by
// renovate" gives [BH-DF-003 BH-DF-002] and "pinned by renovate". IDs may be
// separated by commas or spaces; the reason is what follows the last ID.
func ParseIgnore(comment string) (ids []string, reason string, ok bool) {
	s := strings.TrimSpace(comment)
	if !strings.HasPrefix(s, IgnoreMarker) {
		return nil, "", false // the marker must start the comment
	}
	rest := s[len(IgnoreMarker):]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' && rest[0] != ':' && rest[0] != '=' {
		return nil, "", false // bulkhead:ignore-something else
	}
	rest = strings.TrimLeft(rest, ":= \t")
	for rest != "" {
		word, tail, _ := strings.Cut(rest, " ")
		for _, id := range strings.Split(word, ",") {
			if id == "" {
				continue
			}
			if !looksLikeID(id) {
				if len(ids) == 0 {
					return nil, "", false
				}
				return ids, strings.TrimSpace(rest), true
			}
			ids = append(ids, id)
		}
		rest = strings.TrimSpace(tail)
	}
	return ids, "", len(ids) > 0
}

func looksLikeID(s string) bool {
	return strings.HasPrefix(s, "BH-") && len(s) > 3
}

// CommentText returns the comment part of a YAML or Dockerfile line: the text
// after a '#' that starts the line or follows whitespace and is not inside
// quotes. ok is false when the line has no comment.
func CommentText(line string) (string, bool) {
	var quote byte
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' {
				i++
			}
		case c == '"' || c == '\'':
			// A quote inside a plain scalar ("it's") does not open a
			// string; only one at the start of a token does.
			if i == 0 || line[i-1] == ' ' || line[i-1] == '\t' || line[i-1] == ':' || line[i-1] == '[' || line[i-1] == ',' || line[i-1] == '{' || line[i-1] == '-' {
				quote = c
			}
		case c == '#':
			if i == 0 || line[i-1] == ' ' || line[i-1] == '\t' {
				return line[i+1:], true
			}
		}
	}
	return "", false
}

// Package dockerfile checks Dockerfiles and Containerfiles. It parses them
// with BuildKit's own parser (github.com/moby/buildkit/frontend/dockerfile/
// parser), so line continuations, heredocs and the "# syntax=" and
// "# escape=" directives behave exactly as in docker build, and it is
// multi-stage aware: checks about what ships (USER, HEALTHCHECK, package
// caches, exposed ports) look only at the final stage and the stages it is
// built FROM; checks about the build itself (secrets, ADD of URLs, curl | sh)
// look at every stage.
package dockerfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// Scan parses a Dockerfile and returns its findings.
func Scan(ctx context.Context, path string, data []byte, opts misconfig.Options) ([]misconfig.Finding, error) {
	if int64(len(data)) > opts.Limit() {
		return nil, fmt.Errorf("%s: %w: %d bytes, the limit is %d", path, misconfig.ErrTooLarge, len(data), opts.Limit())
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := parser.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s%s: parse Dockerfile: %w", path, errLine(err), err)
	}
	f := newFile(path, data, res.AST)
	f.check()
	return misconfig.Filter(f.findings, f.suppressions(), opts), nil
}

// errLine returns ":N" for a parser error that carries a location.
func errLine(err error) string {
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		if l := le.Locations[0][0].Start.Line; l > 0 {
			if strings.Contains(err.Error(), "line greater than max allowed size") {
				l++ // the parser reports the last line it read, not the long one
			}
			return fmt.Sprintf(":%d", l)
		}
	}
	return ""
}

// inst is one instruction.
type inst struct {
	cmd        string // lower case: from, run, …
	node       *parser.Node
	start, end int
	flags      []string
	args       []string // the words after the instruction
	json       bool     // exec (JSON) form
	heredocs   []parser.Heredoc
}

func (i *inst) flag(name string) (string, bool) {
	for _, f := range i.flags {
		if v, ok := strings.CutPrefix(f, "--"+name+"="); ok {
			return v, true
		}
		if f == "--"+name {
			return "", true
		}
	}
	return "", false
}

// stage is one FROM and the instructions up to the next.
type stage struct {
	index     int
	name      string // AS name, lower case
	from      *inst
	image     string // base image, ARGs expanded ("" when unresolved)
	rawImage  string
	baseStage *stage
	insts     []*inst
	shipped   bool // the final stage or one of its FROM ancestors
	posix     bool // RUN shell is a POSIX shell (no SHELL ["powershell"…])
}

func (s *stage) label() string {
	if s.name != "" {
		return "stage " + s.name
	}
	return fmt.Sprintf("stage %d", s.index)
}

type file struct {
	path     string
	lines    []string
	globals  []*inst // instructions before the first FROM (ARG)
	stages   []*stage
	all      []*inst
	findings []misconfig.Finding
}

func newFile(path string, data []byte, ast *parser.Node) *file {
	f := &file{path: path, lines: strings.Split(string(data), "\n")}
	globalArgs := map[string]string{}
	var cur *stage
	byName := map[string]*stage{}
	for _, n := range ast.Children {
		in := &inst{cmd: strings.ToLower(n.Value), node: n, start: n.StartLine, end: n.EndLine,
			flags: n.Flags, json: n.Attributes["json"], heredocs: n.Heredocs}
		for x := n.Next; x != nil; x = x.Next {
			in.args = append(in.args, x.Value)
		}
		f.all = append(f.all, in)
		if in.cmd == "from" {
			cur = &stage{index: len(f.stages), from: in, posix: true}
			if len(in.args) > 0 {
				cur.rawImage = in.args[0]
				cur.image, _ = expand(in.args[0], globalArgs)
			}
			if len(in.args) >= 3 && strings.EqualFold(in.args[1], "as") {
				cur.name = strings.ToLower(in.args[2])
			}
			if b, ok := byName[strings.ToLower(cur.image)]; ok {
				cur.baseStage = b
			} else if b, ok := stageByIndex(f.stages, cur.image); ok {
				cur.baseStage = b
			}
			if cur.baseStage != nil {
				cur.posix = cur.baseStage.posix
			}
			f.stages = append(f.stages, cur)
			if cur.name != "" {
				byName[cur.name] = cur
			}
			continue
		}
		if cur == nil {
			f.globals = append(f.globals, in)
			if in.cmd == "arg" {
				for _, a := range in.args {
					k, v, _ := strings.Cut(a, "=")
					globalArgs[k] = unquote(v)
				}
			}
			continue
		}
		if in.cmd == "shell" && in.json && len(in.args) > 0 {
			cur.posix = posixShell(in.args[0])
		}
		cur.insts = append(cur.insts, in)
	}
	if len(f.stages) > 0 {
		for s := f.stages[len(f.stages)-1]; s != nil && !s.shipped; s = s.baseStage {
			s.shipped = true
		}
	}
	return f
}

// stageByIndex resolves FROM 0 (a stage referenced by number).
func stageByIndex(stages []*stage, ref string) (*stage, bool) {
	if ref == "" || !allDigits(ref) {
		return nil, false
	}
	var n int
	fmt.Sscan(ref, &n)
	if n < len(stages) {
		return stages[n], true
	}
	return nil, false
}

func posixShell(p string) bool {
	switch base(p) {
	case "sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox":
		return true
	}
	return false
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

// expand substitutes $VAR, ${VAR}, ${VAR:-default} and ${VAR-default} from
// vars. ok is false when a variable has no value and no default.
func expand(s string, vars map[string]string) (string, bool) {
	if !strings.Contains(s, "$") {
		return s, true
	}
	var b strings.Builder
	ok := true
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		var name, def string
		hasDef := false
		if s[i+1] == '{' {
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				return s, false
			}
			expr := s[i+2 : i+j]
			i += j
			name = expr
			if k := strings.IndexAny(expr, ":-?+"); k > 0 {
				name = expr[:k]
				op := expr[k:]
				switch {
				case strings.HasPrefix(op, ":-"):
					def, hasDef = op[2:], true
				case op[0] == '-':
					def, hasDef = op[1:], true
				case strings.HasPrefix(op, ":+") || op[0] == '+':
					if v := vars[name]; v != "" {
						b.WriteString(strings.TrimLeft(op, ":+"))
					}
					continue
				}
			}
		} else {
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			name = s[i+1 : j]
			i = j - 1
		}
		if v, found := vars[name]; found && v != "" {
			b.WriteString(v)
		} else if hasDef {
			b.WriteString(def)
		} else {
			ok = false
		}
	}
	return b.String(), ok
}

// locate returns the first line of in that contains needle (case
// sensitive), else in's first line.
func (f *file) locate(in *inst, needles ...string) int {
	return f.locateFrom(in, in.start, needles...)
}

// locateFrom is locate starting at line from (for several findings in one
// instruction, in order, without rescanning).
func (f *file) locateFrom(in *inst, from int, needles ...string) int {
	for l := max(from, in.start); l <= in.end && l <= len(f.lines); l++ {
		for _, n := range needles {
			if strings.Contains(f.lines[l-1], n) {
				return l
			}
		}
	}
	return in.start
}

func (f *file) add(id string, line int, resource, msg string) *misconfig.Finding {
	fd := misconfig.New(id).At(f.path, line)
	fd.Resource = resource
	if msg != "" {
		fd.Message = msg
	}
	f.findings = append(f.findings, fd)
	return &f.findings[len(f.findings)-1]
}

// suppressions maps "# bulkhead:ignore" comments to the instruction they
// precede or sit in: the first instruction that ends at or after the comment.
func (f *file) suppressions() []misconfig.Suppression {
	var out []misconfig.Suppression
	next := 0
	for i, l := range f.lines {
		t := strings.TrimSpace(l)
		if !strings.HasPrefix(t, "#") || !strings.Contains(t, misconfig.IgnoreMarker) {
			continue
		}
		ids, reason, ok := misconfig.ParseIgnore(t[1:])
		if !ok {
			continue
		}
		line := i + 1
		// Comments come in line order, so the instruction cursor only
		// moves forward.
		for next < len(f.all) && f.all[next].end < line {
			next++
		}
		if next < len(f.all) {
			in := f.all[next]
			out = append(out, misconfig.Suppression{IDs: ids, Reason: reason, Line: line, From: min(in.start, line), To: in.end})
		}
	}
	return out
}

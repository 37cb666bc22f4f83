// Package yamlx reads YAML (and JSON, a subset of it) streams for the
// misconfiguration parsers: it splits a stream into documents with their
// starting line, parses each into yaml.v3 nodes under a complexity budget,
// looks values up without expanding aliases (so a billion-laughs document
// costs what its text costs), and maps "# bulkhead:ignore" comments to the
// line ranges of the nodes they annotate.
package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// DefaultMaxNodes bounds the estimated node count of one document. A
// yaml.v3 node costs about 150-230 bytes (measured), so this keeps one
// document's tree under ~250 MB at the very worst; a real manifest of 8 MB
// stays below it, and CRDs (the only documents that large) are not parsed.
// With aliases, the document's size with every alias expanded must stay
// under twice this, so the checks' work is bounded too.
const DefaultMaxNodes = 1_000_000

// Chunk is one document of a stream.
type Chunk struct {
	Data []byte
	Line int // 1-based line of Data's first byte in the stream
}

// Split cuts a YAML stream into documents at "---" and "..." marker lines.
// Markers at column 0 end any scalar (YAML 1.2, 9.1.2), so this needs no
// parsing; the marker line itself starts the next chunk. Chunks holding only
// comments and blank lines are kept: the caller decides.
func Split(data []byte) []Chunk {
	var out []Chunk
	start, startLine, line := 0, 1, 1
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '\n')
		end := len(data)
		if j >= 0 {
			end = i + j + 1
		}
		l := data[i:end]
		if isMarker(l, "---") && i > start {
			out = append(out, Chunk{Data: data[start:i], Line: startLine})
			start, startLine = i, line
		} else if isMarker(l, "...") {
			out = append(out, Chunk{Data: data[start:end], Line: startLine})
			start, startLine = end, line+1
		}
		i = end
		line++
	}
	if start < len(data) {
		out = append(out, Chunk{Data: data[start:], Line: startLine})
	}
	return out
}

func isMarker(l []byte, m string) bool {
	if !bytes.HasPrefix(l, []byte(m)) {
		return false
	}
	return len(l) == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\n' || l[3] == '\r'
}

// Empty reports whether a chunk has no content besides markers, comments
// and blank lines.
func (c Chunk) Empty() bool {
	for rest := c.Data; len(rest) > 0; {
		l := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			l, rest = rest[:i], rest[i+1:]
		} else {
			rest = nil
		}
		t := bytes.TrimSpace(l)
		switch {
		case len(t) == 0, t[0] == '#', bytes.Equal(t, []byte("...")):
			continue
		case isMarker(t, "---"):
			if r := bytes.TrimSpace(t[3:]); len(r) == 0 || r[0] == '#' {
				continue
			}
		}
		return false
	}
	return true
}

// EstimateNodes returns an upper bound of the nodes a document can produce:
// every node but the first needs a line break, ':', ',', '-', '[' or '{'
// before it, or is the key/value pair around a ':'.
func EstimateNodes(b []byte) int {
	n := 1
	for _, c := range b {
		switch c {
		case '\n', ',', '-', '[', '{':
			n++
		case ':':
			n += 2
		}
	}
	return n
}

// Doc is a parsed document.
type Doc struct {
	Root   *yaml.Node // the document's content node (mapping, sequence, …)
	Offset int        // add to a node's Line for the stream line
	Lines  []string   // the chunk's lines, for comments
	head   int        // first content line in the stream
}

// Parse parses one chunk. JSON input (starting with '{' or '[') has its tabs
// turned into spaces first (yaml.v3 rejects some tab indentation that JSON
// allows; a raw tab cannot occur inside a JSON string, so this is exact).
func Parse(c Chunk, maxNodes int) (*Doc, error) {
	if maxNodes <= 0 {
		maxNodes = DefaultMaxNodes
	}
	if n := EstimateNodes(c.Data); n > maxNodes {
		return nil, fmt.Errorf("document at line %d: %w (about %d nodes, the limit is %d)", c.Line, misconfig.ErrTooComplex, n, maxNodes)
	}
	data := c.Data
	if t := bytes.TrimLeft(data, " \t\r\n\ufeff"); len(t) > 0 && (t[0] == '{' || t[0] == '[') && bytes.IndexByte(data, '\t') >= 0 {
		data = bytes.ReplaceAll(data, []byte("\t"), []byte(" "))
	}
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("document at line %d: %w", c.Line, relineError(err, c.Line-1))
	}
	if bytes.IndexByte(c.Data, '*') >= 0 {
		if err := checkAliases(&n, 2*maxNodes); err != nil {
			return nil, fmt.Errorf("document at line %d: %w", c.Line, err)
		}
	}
	d := &Doc{Offset: c.Line - 1, Lines: strings.Split(string(c.Data), "\n")}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		d.Root = n.Content[0]
		d.head = d.Line(d.Root)
	}
	return d, nil
}

// checkAliases computes the size of the document with every alias expanded
// (memoised per node, iteratively: no recursion on hostile depth) and fails
// when it exceeds limit or an alias contains itself — the billion-laughs
// defence yaml.v3 applies when decoding into Go values, applied to nodes.
func checkAliases(root *yaml.Node, limit int) error {
	const inProgress = -1
	size := map[*yaml.Node]int{}
	type frame struct {
		n    *yaml.Node
		next int // next child to visit
		sum  int
	}
	stack := []frame{{n: root, sum: 1}}
	size[root] = inProgress
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		children := top.n.Content
		if top.n.Kind == yaml.AliasNode {
			children = nil
			if top.n.Alias != nil && top.next == 0 {
				children = []*yaml.Node{top.n.Alias}
			}
		}
		if top.next < len(children) {
			c := children[top.next]
			top.next++
			if c == nil {
				continue
			}
			switch s, seen := size[c]; {
			case seen && s == inProgress:
				return fmt.Errorf("%w: an alias contains its own anchor", misconfig.ErrTooComplex)
			case seen:
				top.sum += s
			default:
				size[c] = inProgress
				stack = append(stack, frame{n: c, sum: 1})
			}
			if top.sum > limit {
				return fmt.Errorf("%w: excessive aliasing (more than %d nodes once aliases are expanded)", misconfig.ErrTooComplex, limit)
			}
			continue
		}
		done := *top
		stack = stack[:len(stack)-1]
		size[done.n] = min(done.sum, limit+1)
		if len(stack) > 0 {
			p := &stack[len(stack)-1]
			p.sum += size[done.n]
			if p.sum > limit {
				return fmt.Errorf("%w: excessive aliasing (more than %d nodes once aliases are expanded)", misconfig.ErrTooComplex, limit)
			}
		}
	}
	return nil
}

// relineError rewrites "yaml: line N:" in a yaml.v3 error to the stream's
// line numbering.
func relineError(err error, offset int) error {
	msg := err.Error()
	const p = "yaml: line "
	i := strings.Index(msg, p)
	if i < 0 || offset == 0 {
		return err
	}
	j := i + len(p)
	k := j
	for k < len(msg) && msg[k] >= '0' && msg[k] <= '9' {
		k++
	}
	n, convErr := strconv.Atoi(msg[j:k])
	if convErr != nil {
		return err
	}
	return errors.New(msg[:j] + strconv.Itoa(n+offset) + msg[k:])
}

// Line returns n's line in the stream (0 for nil).
func (d *Doc) Line(n *yaml.Node) int {
	if n == nil || n.Line == 0 {
		return 0
	}
	return n.Line + d.Offset
}

// maxAliasHops bounds alias chains followed by Resolve.
const maxAliasHops = 8

// Resolve follows aliases (a bounded number of hops).
func Resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < maxAliasHops; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return nil
	}
	return n
}

// Get returns the key and value nodes of key in mapping m, looking into
// merge keys ("<<: *defaults") when m itself does not have it. Both are nil
// when absent or m is not a mapping.
func Get(m *yaml.Node, key string) (k, v *yaml.Node) {
	return get(Resolve(m), key, 0)
}

func get(m *yaml.Node, key string, depth int) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode || depth > maxAliasHops {
		return nil, nil
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		kn := m.Content[i]
		if kn.Kind == yaml.ScalarNode && kn.Value == key {
			return kn, Resolve(m.Content[i+1])
		}
		if kn.Kind == yaml.ScalarNode && kn.Value == "<<" && kn.Tag != "!!str" {
			merges = append(merges, m.Content[i+1])
		}
	}
	for _, mv := range merges {
		mv = Resolve(mv)
		if mv == nil {
			continue
		}
		if mv.Kind == yaml.SequenceNode {
			for _, e := range mv.Content {
				if k, v := get(Resolve(e), key, depth+1); k != nil {
					return k, v
				}
			}
			continue
		}
		if k, v := get(mv, key, depth+1); k != nil {
			return k, v
		}
	}
	return nil, nil
}

// Val returns the value of key in m, or nil.
func Val(m *yaml.Node, key string) *yaml.Node {
	_, v := Get(m, key)
	return v
}

// Path follows keys from m: Path(pod, "spec", "template", "spec").
func Path(m *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		m = Val(m, k)
		if m == nil {
			return nil
		}
	}
	return m
}

// Pairs returns the key/value pairs of mapping m (merge keys expanded one
// level, own keys winning), values resolved.
func Pairs(m *yaml.Node) [][2]*yaml.Node {
	m = Resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var out [][2]*yaml.Node
	seen := map[string]bool{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag != "!!str" {
			merges = append(merges, m.Content[i+1])
			continue
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, Resolve(m.Content[i+1])})
	}
	for _, mv := range merges {
		mv = Resolve(mv)
		var ms []*yaml.Node
		if mv != nil && mv.Kind == yaml.SequenceNode {
			ms = mv.Content
		} else {
			ms = []*yaml.Node{mv}
		}
		for _, mm := range ms {
			mm = Resolve(mm)
			if mm == nil || mm.Kind != yaml.MappingNode {
				continue
			}
			for i := 0; i+1 < len(mm.Content); i += 2 {
				k := mm.Content[i]
				if seen[k.Value] || k.Value == "<<" {
					continue
				}
				seen[k.Value] = true
				out = append(out, [2]*yaml.Node{k, Resolve(mm.Content[i+1])})
			}
		}
	}
	return out
}

// Items returns the resolved items of sequence n (nil otherwise).
func Items(n *yaml.Node) []*yaml.Node {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, e := range n.Content {
		if e = Resolve(e); e != nil {
			out = append(out, e)
		}
	}
	return out
}

// Str returns a scalar's value ("" for nil or non-scalars).
func Str(n *yaml.Node) string {
	n = Resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// IsScalar reports whether n is a non-null scalar.
func IsScalar(n *yaml.Node) bool {
	n = Resolve(n)
	return n != nil && n.Kind == yaml.ScalarNode && n.Tag != "!!null"
}

// Bool reads a boolean scalar; ok is false when n is absent or not a
// boolean. YAML 1.1 spellings (yes/on) count, as Kubernetes' parser and
// Compose accept them.
func Bool(n *yaml.Node) (val, ok bool) {
	switch strings.ToLower(Str(n)) {
	case "true", "yes", "on", "y":
		return true, true
	case "false", "no", "off", "n":
		return false, true
	}
	return false, false
}

// Int reads an integer scalar.
func Int(n *yaml.Node) (int64, bool) {
	s := Str(n)
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

// HeadComment returns the text of the comment lines right above the
// document's first content line (the "# Source: chart/templates/x.yaml"
// comment of helm template output).
func (d *Doc) HeadComment() []string {
	if d.Root == nil {
		return nil
	}
	var out []string
	for i := d.head - d.Offset - 2; i >= 0 && i < len(d.Lines); i-- {
		t := strings.TrimSpace(d.Lines[i])
		if t == "" || isMarker([]byte(t), "---") && !strings.Contains(t, "#") {
			break
		}
		if isMarker([]byte(t), "---") {
			t = strings.TrimSpace(t[3:])
		}
		if !strings.HasPrefix(t, "#") {
			break
		}
		out = append([]string{strings.TrimSpace(t[1:])}, out...)
	}
	return out
}

// HelmSource returns the template named by a "# Source:" head comment.
func (d *Doc) HelmSource() string {
	for _, c := range d.HeadComment() {
		if s, ok := strings.CutPrefix(c, "Source:"); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// Suppressions maps every "# bulkhead:ignore" comment of the document to the
// lines it covers: a comment at the end of a line covers the node that starts
// on that line; a comment on a line of its own covers the node on the next
// content line; a comment above the document's first line covers the whole
// document. A node covers itself and everything nested in it.
func (d *Doc) Suppressions() []misconfig.Suppression {
	type raw struct {
		ids    []string
		reason string
		line   int // stream line of the comment
		target int // stream line of the node it annotates
	}
	var rs []raw
	// nextContent[i] is the first line at or after i that is neither blank
	// nor a comment (len(d.Lines) if none): computed once, so a run of
	// many comment lines costs linear time.
	var nextContent []int
	for i, l := range d.Lines {
		if !strings.Contains(l, misconfig.IgnoreMarker) {
			continue
		}
		text, ok := misconfig.CommentText(l)
		if !ok {
			continue
		}
		ids, reason, ok := misconfig.ParseIgnore(text)
		if !ok {
			continue
		}
		r := raw{ids: ids, reason: reason, line: i + 1 + d.Offset}
		code := strings.TrimSpace(l[:len(l)-len(text)-1])
		if code != "" && code != "---" {
			r.target = r.line
		} else {
			if nextContent == nil {
				nextContent = make([]int, len(d.Lines)+1)
				nextContent[len(d.Lines)] = len(d.Lines)
				for j := len(d.Lines) - 1; j >= 0; j-- {
					t := strings.TrimSpace(d.Lines[j])
					if t != "" && !strings.HasPrefix(t, "#") {
						nextContent[j] = j
					} else {
						nextContent[j] = nextContent[j+1]
					}
				}
			}
			if j := nextContent[i+1]; j < len(d.Lines) {
				r.target = j + 1 + d.Offset
			}
		}
		if r.target > 0 {
			rs = append(rs, r)
		}
	}
	if len(rs) == 0 {
		return nil
	}
	ends := d.rangeIndex()
	last := d.Offset + len(d.Lines)
	out := make([]misconfig.Suppression, 0, len(rs))
	for _, r := range rs {
		s := misconfig.Suppression{IDs: r.ids, Reason: r.reason, Line: r.line, From: r.target, To: r.target}
		if r.target <= d.head {
			s.From, s.To = d.Offset+1, last // head of the document: all of it
		} else if e, ok := ends[r.target]; ok && e > s.To {
			s.To = e
		}
		out = append(out, s)
	}
	return out
}

// rangeIndex returns, for each line where a mapping entry or sequence item
// starts, the last line of the largest such node.
func (d *Doc) rangeIndex() map[int]int {
	ends := map[int]int{}
	var walk func(n *yaml.Node) int
	walk = func(n *yaml.Node) int {
		if n == nil {
			return 0
		}
		end := d.Line(n)
		if n.Kind == yaml.ScalarNode && (n.Style == yaml.LiteralStyle || n.Style == yaml.FoldedStyle) {
			end += strings.Count(strings.TrimRight(n.Value, "\n"), "\n") + 1
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				e := max(walk(k), walk(v))
				if l := d.Line(k); e > ends[l] {
					ends[l] = e
				}
				end = max(end, e)
			}
		case yaml.SequenceNode:
			for _, e := range n.Content {
				x := walk(e)
				if l := d.Line(e); x > ends[l] {
					ends[l] = x
				}
				end = max(end, x)
			}
		}
		return end
	}
	walk(d.Root)
	return ends
}

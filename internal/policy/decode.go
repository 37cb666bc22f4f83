package policy

// decoder: strict reading of yaml.v3 nodes, with file:line:column in
// every error. Policy and ignore files share it.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder walks yaml.v3 nodes strictly, with positions in every error.
type decoder struct {
	file string
}

func (d *decoder) errAt(n *yaml.Node, msg string) error {
	return &ParseError{File: d.file, Line: n.Line, Column: n.Column, Msg: msg}
}

// document parses data and returns its one top-level mapping.
func (d *decoder) document(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ParseError{File: d.file, Line: yamlErrLine(err), Column: 1, Msg: "not valid YAML: " + yamlErrMsg(err)}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, &ParseError{File: d.file, Msg: "the file is empty"}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, d.errAt(root, "want a mapping at the top")
	}
	return root, nil
}

var (
	yamlLineRe       = regexp.MustCompile(`line (\d+)`)
	yamlLinePrefixRe = regexp.MustCompile(`line \d+: `)
)

func yamlErrLine(err error) int {
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

func yamlErrMsg(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:\n  ")
	return strings.TrimSpace(yamlLinePrefixRe.ReplaceAllString(s, ""))
}

// fields calls fn for each key of mapping n, in order; duplicate keys, and
// aliases (which could blow up a small file), are errors.
func (d *decoder) fields(n *yaml.Node, fn func(key string, k, v *yaml.Node) error) error {
	if n.Kind == yaml.AliasNode {
		return d.errAt(n, "YAML aliases are not allowed here")
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil // "secrets:" with nothing after it: the empty mapping
	}
	if n.Kind != yaml.MappingNode {
		return d.errAt(n, fmt.Sprintf("want a mapping, found %s", nodeKind(n)))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return d.errAt(k, "keys must be plain strings")
		}
		if v.Kind == yaml.AliasNode {
			return d.errAt(v, "YAML aliases are not allowed here")
		}
		if seen[k.Value] {
			return d.errAt(k, fmt.Sprintf("%q appears twice", k.Value))
		}
		seen[k.Value] = true
		if err := fn(k.Value, k, v); err != nil {
			return err
		}
	}
	return nil
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func (d *decoder) unknown(k *yaml.Node, where, known string) error {
	return d.errAt(k, fmt.Sprintf("unknown field %q in %s (known: %s)", k.Value, where, known))
}

func (d *decoder) str(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return "", d.errAt(n, fmt.Sprintf("want a string, found %s", nodeKind(n)))
	}
	return n.Value, nil
}

func (d *decoder) expectString(n *yaml.Node, want string) error {
	s, err := d.str(n)
	if err != nil {
		return err
	}
	if s != want {
		return d.errAt(n, fmt.Sprintf("%q is not supported: want %q", s, want))
	}
	return nil
}

func (d *decoder) strings(n *yaml.Node) ([]string, error) {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []string{n.Value}, nil // one value for a one-item list
	}
	if n.Kind != yaml.SequenceNode {
		return nil, d.errAt(n, fmt.Sprintf("want a list of strings, found %s", nodeKind(n)))
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		s, err := d.str(c)
		if err != nil {
			return nil, err
		}
		if strings.TrimSpace(s) == "" {
			return nil, d.errAt(c, "empty string in list")
		}
		out = append(out, strings.TrimSpace(s))
	}
	return out, nil
}

func (d *decoder) boolean(n *yaml.Node) (bool, error) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		return strconv.ParseBool(strings.ToLower(n.Value))
	}
	return false, d.errAt(n, fmt.Sprintf("want true or false, found %s", nodeKind(n)))
}

func (d *decoder) positiveInt(n *yaml.Node) (int, error) {
	i, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil || i <= 0 || i > 100000 {
		return 0, d.errAt(n, fmt.Sprintf("want a whole number of days from 1 to 100000, found %s", nodeKind(n)))
	}
	return i, nil
}

func (d *decoder) severity(n *yaml.Node) (int, error) {
	s, err := d.str(n)
	if err != nil {
		return 0, err
	}
	return parseSeverity(s, func(msg string) error { return d.errAt(n, msg) })
}

// item is the node of the i-th value of a list that d.strings read: the
// list's element, or the scalar itself for a one-value shorthand.
func item(n *yaml.Node, i int) *yaml.Node {
	if n.Kind == yaml.SequenceNode && i < len(n.Content) {
		return n.Content[i]
	}
	return n
}

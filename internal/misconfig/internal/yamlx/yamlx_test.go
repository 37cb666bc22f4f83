package yamlx

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

func TestSplit(t *testing.T) {
	in := "# leading comment\n" + // 1
		"a: 1\n" + // 2
		"---\n" + // 3
		"b: |\n" + // 4
		"  text\n" + // 5
		"  --- not a marker (indented)\n" + // 6
		"--- # c\n" + // 7
		"c: 3\n" + // 8
		"...\n" + // 9
		"---\n" + // 10
		"---foo: not a marker\n" // 11
	got := Split([]byte(in))
	var lines []int
	var empty []bool
	for _, c := range got {
		lines = append(lines, c.Line)
		empty = append(empty, c.Empty())
	}
	if diff := cmp.Diff([]int{1, 3, 7, 10}, lines); diff != "" {
		t.Errorf("chunk lines (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]bool{false, false, false, false}, empty); diff != "" {
		t.Errorf("empty (-want +got):\n%s", diff)
	}
	if !(Chunk{Data: []byte("---\n# only a comment\n\n--- # x\n")}).Empty() {
		t.Error("comment-only chunk is not empty")
	}
	// Line numbers of nodes are stream lines.
	d, err := Parse(got[2], 0)
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := Get(d.Root, "c"); d.Line(k) != 8 {
		t.Errorf("c at line %d, want 8", d.Line(k))
	}
}

func TestParseErrorsNameStreamLines(t *testing.T) {
	c := Split([]byte("a: 1\n---\nb: 2\nc: [\n"))[1]
	_, err := Parse(c, 0)
	if err == nil || !strings.Contains(err.Error(), "document at line 2") || !strings.Contains(err.Error(), "line 4:") {
		t.Errorf("error = %v", err)
	}
}

func TestJSONWithTabs(t *testing.T) {
	d, err := Parse(Chunk{Data: []byte("{\n\t\"kind\":\t\"Pod\",\n\t\"spec\": {\"hostPID\": true}\n}\n"), Line: 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	k, v := Get(Path(d.Root, "spec"), "hostPID")
	if b, _ := Bool(v); !b || d.Line(k) != 3 {
		t.Errorf("hostPID = %v at line %d", Str(v), d.Line(k))
	}
}

func TestMergeKeys(t *testing.T) {
	in := `
base: &base
  a: 1
  b: 2
more: &more
  c: 3
svc:
  <<: [*base, *more]
  b: 20
`
	d, err := Parse(Chunk{Data: []byte(in), Line: 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	svc := Val(d.Root, "svc")
	for k, want := range map[string]string{"a": "1", "b": "20", "c": "3", "d": ""} {
		if got := Str(Val(svc, k)); got != want {
			t.Errorf("svc.%s = %q, want %q", k, got, want)
		}
	}
	var keys []string
	for _, kv := range Pairs(svc) {
		keys = append(keys, kv[0].Value+"="+Str(kv[1]))
	}
	if diff := cmp.Diff([]string{"b=20", "a=1", "c=3"}, keys); diff != "" {
		t.Errorf("Pairs (-want +got):\n%s", diff)
	}
}

// billionLaughs builds the classic exponential alias document.
func billionLaughs(levels int) string {
	var b strings.Builder
	b.WriteString("a0: &a0 [\"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\", \"lol\"]\n")
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [", i, i)
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestHostileAliases(t *testing.T) {
	for name, in := range map[string]string{
		"billion laughs": billionLaughs(10),
		"self reference": "a: &a [1, *a]\n",
		"merge bomb":     "a: &a {x: 1}\nb: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a]}\nc: &c {<<: [*b, *b, *b, *b, *b, *b, *b, *b]}\nd: &d {<<: [*c, *c, *c, *c, *c, *c, *c, *c]}\ne: &e {<<: [*d, *d, *d, *d, *d, *d, *d, *d]}\nf: &f {<<: [*e, *e, *e, *e, *e, *e, *e, *e]}\ng: &g {<<: [*f, *f, *f, *f, *f, *f, *f, *f]}\nh: {<<: [*g, *g, *g, *g, *g, *g, *g, *g]}\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(Chunk{Data: []byte(in), Line: 1}, 100_000)
			if !errors.Is(err, misconfig.ErrTooComplex) {
				t.Fatalf("err = %v, want ErrTooComplex", err)
			}
		})
	}
	// A few aliases are fine.
	if _, err := Parse(Chunk{Data: []byte(billionLaughs(3)), Line: 1}, 100_000); err != nil {
		t.Errorf("small alias document rejected: %v", err)
	}
}

func TestHostileShapes(t *testing.T) {
	for name, in := range map[string]string{
		"deep flow nesting":  strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		"deep JSON objects":  strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000),
		"deep block nesting": strings.Repeat("- ", 12000) + "x\n",
		"invalid UTF-8":      "kind: Pod\nmetadata:\n  name: \xff\xfe\xfd\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(Chunk{Data: []byte(in), Line: 1}, 0)
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
		})
	}
	// Too many nodes is refused before parsing.
	_, err := Parse(Chunk{Data: []byte("[" + strings.Repeat("1,", 2000) + "1]"), Line: 1}, 1000)
	if !errors.Is(err, misconfig.ErrTooComplex) {
		t.Errorf("err = %v", err)
	}
}

func TestSuppressions(t *testing.T) {
	in := `# bulkhead:ignore BH-K8S-027 whole document
kind: Pod
spec:
  hostPID: true # bulkhead:ignore BH-K8S-003 trailing comment
  containers:
  # bulkhead:ignore BH-K8S-001,BH-K8S-024 the container below

  - name: a
    securityContext:
      privileged: true
  - name: b
    image: x # url: http://example.com/#bulkhead:ignore BH-K8S-025
`
	d, err := Parse(Chunk{Data: []byte(in), Line: 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	type rng struct {
		IDs      []string
		From, To int
	}
	var got []rng
	for _, s := range d.Suppressions() {
		got = append(got, rng{s.IDs, s.From, s.To})
	}
	want := []rng{
		{[]string{"BH-K8S-027"}, 1, 13},
		{[]string{"BH-K8S-003"}, 4, 4},
		{[]string{"BH-K8S-001", "BH-K8S-024"}, 8, 10},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("suppressions (-want +got):\n%s", diff)
	}
}

func TestHelmSource(t *testing.T) {
	c := Split([]byte("---\n# Source: shop/templates/api.yaml\n# another comment\napiVersion: v1\nkind: Pod\n"))[0]
	d, err := Parse(c, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.HelmSource(); got != "shop/templates/api.yaml" {
		t.Errorf("HelmSource = %q", got)
	}
}

func TestEstimateNodesIsAnUpperBound(t *testing.T) {
	for _, in := range []string{
		"a: 1\nb: [1, 2, {c: d}]\n",
		"- a\n- b: c\n  d: e\n",
		`{"a": [1,2,3], "b": {"c": null}}`,
		"k: |\n  multi\n  line\n",
	} {
		d, err := Parse(Chunk{Data: []byte(in), Line: 1}, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := count(d.Root)
		if est := EstimateNodes([]byte(in)); est < n {
			t.Errorf("%q: estimate %d < %d nodes", in, est, n)
		}
	}
}

func count(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	c := 1
	for _, x := range n.Content {
		c += count(x)
	}
	return c
}

// Package corpustest runs a misconfiguration parser over a testdata corpus:
// every file named [prefix.]<ID>.bad*.<ext> must produce check ID (and nothing else,
// unless an "expect: ID ID…" comment lists what it must produce), every
// <ID>.good*.<ext> must produce nothing at all, and the findings of every
// file are compared with a golden text file (go test -update rewrites it).
package corpustest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// Update rewrites golden files.
var Update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// ScanFunc is a parser's entry point.
type ScanFunc func(ctx context.Context, path string, data []byte, opts misconfig.Options) ([]misconfig.Finding, error)

// Run checks the bad/good files under dir/checks and writes every file's
// findings (dir/checks and dir/realworld) to dir/<golden>.
func Run(t *testing.T, dir, golden string, scan ScanFunc) {
	t.Helper()
	var files []string
	for _, sub := range []string{"checks", "realworld"} {
		es, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range es {
			if !e.IsDir() && !strings.HasSuffix(e.Name(), ".md") {
				files = append(files, filepath.Join(sub, e.Name()))
			}
		}
	}
	slices.Sort(files)
	var out strings.Builder
	seenBad := map[string]bool{}
	seenGood := map[string]bool{}
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		fs, err := scan(t.Context(), rel, data, misconfig.Options{})
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		fmt.Fprintf(&out, "== %s (%d)\n", rel, len(fs))
		for _, f := range fs {
			fmt.Fprintf(&out, "%d %s %s [%s] %s\n", f.Line, f.ID, f.Severity, f.Resource, f.Message)
			if f.Fix != "" {
				if c, _ := misconfig.Lookup(f.ID); c.Fix != f.Fix {
					fmt.Fprintf(&out, "    fix: %q\n", f.Fix)
				}
			}
			if f.Template != "" {
				fmt.Fprintf(&out, "    template: %s\n", f.Template)
			}
		}
		name := filepath.Base(rel)
		if !strings.HasPrefix(rel, "checks"+string(filepath.Separator)) {
			continue
		}
		// <ID>.bad.<ext>, or <prefix>.<ID>.bad.<ext> where a tool needs a
		// prefix to recognise the file (compose.BH-CMP-001.bad.yaml).
		i := strings.Index(name, "BH-")
		id, variant, ok := strings.Cut(name[max(i, 0):], ".")
		if i < 0 || !ok {
			t.Errorf("%s: name is not <ID>.bad|good.<ext>", rel)
			continue
		}
		if _, ok := misconfig.Lookup(id); !ok {
			t.Errorf("%s: unknown check %s", rel, id)
		}
		got := ids(fs)
		switch {
		case strings.HasPrefix(variant, "bad"):
			seenBad[id] = true
			want := expected(string(data), id)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: check IDs (-want +got):\n%s%s", rel, diff, describe(fs))
			}
		case strings.HasPrefix(variant, "good"):
			seenGood[id] = true
			if len(fs) > 0 {
				t.Errorf("%s: a good variant must produce nothing, got:%s", rel, describe(fs))
			}
		default:
			t.Errorf("%s: name is not <ID>.bad|good.<ext>", rel)
		}
	}
	// Every check of the family has both variants.
	if len(seenBad) > 0 {
		family := ""
		for id := range seenBad {
			family = id[:strings.LastIndexByte(id, '-')+1]
		}
		for _, c := range misconfig.Catalogue() {
			if !strings.HasPrefix(c.ID, family) {
				continue
			}
			if !seenBad[c.ID] || !seenGood[c.ID] {
				t.Errorf("check %s lacks a bad or good variant in %s/checks (bad %v, good %v)", c.ID, dir, seenBad[c.ID], seenGood[c.ID])
			}
		}
	}
	Golden(t, filepath.Join(dir, golden), out.String())
}

// Golden compares got with the golden file, or rewrites it under -update.
func Golden(t *testing.T, path, got string) {
	t.Helper()
	if *Update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; go test -update rewrites it):\n%s", path, diff)
	}
}

func ids(fs []misconfig.Finding) []string {
	var out []string
	for _, f := range fs {
		if !slices.Contains(out, f.ID) {
			out = append(out, f.ID)
		}
	}
	slices.Sort(out)
	return out
}

// expected reads "expect: ID ID…" from a comment of the file, else [id].
func expected(data, id string) []string {
	for _, l := range strings.Split(data, "\n") {
		i := strings.Index(l, "expect:")
		if i < 0 || !strings.Contains(l[:i], "#") {
			continue
		}
		want := strings.Fields(l[i+len("expect:"):])
		slices.Sort(want)
		return slices.Compact(want)
	}
	return []string{id}
}

func describe(fs []misconfig.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n\t%d %s %s", f.Line, f.ID, f.Message)
	}
	return b.String()
}

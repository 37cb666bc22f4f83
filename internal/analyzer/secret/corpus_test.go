package secret

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bulkhead-sec/bulkhead/internal/analyzer"
	"github.com/bulkhead-sec/bulkhead/internal/inventory"
	engine "github.com/bulkhead-sec/bulkhead/internal/secret"
	"github.com/bulkhead-sec/bulkhead/internal/testutil/fixture"
)

// treeResult is what scanning a directory tree found.
type treeResult struct {
	secrets  []inventory.Secret
	errors   []string
	files    int64
	bytes    int64
	required int64
}

// scanTree offers every regular file under root to the analyzer, as the
// core would, with paths made absolute from root ("/usr/bin/x"), on
// `workers` goroutines.
func scanTree(tb testing.TB, a *Analyzer, root string, workers int) treeResult {
	tb.Helper()
	type job struct {
		path, rel string
		info      fs.FileInfo
	}
	jobs := make(chan job, 256)
	var (
		mu  sync.Mutex
		res treeResult
		wg  sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				f, err := os.Open(j.path)
				if err != nil {
					continue
				}
				r, err := a.Analyze(context.Background(), analyzer.Input{Path: j.rel, Info: j.info, Content: f})
				f.Close()
				atomic.AddInt64(&res.bytes, j.info.Size())
				atomic.AddInt64(&res.required, 1)
				if r == nil && err == nil {
					continue
				}
				mu.Lock()
				if r != nil {
					res.secrets = append(res.secrets, r.Secrets...)
				}
				if err != nil {
					res.errors = append(res.errors, err.Error())
				}
				mu.Unlock()
			}
		}()
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		res.files++
		rel, _ := filepath.Rel(root, p)
		rel = "/" + filepath.ToSlash(rel)
		if a.Required(rel, info) {
			jobs <- job{p, rel, info}
		}
		return nil
	})
	close(jobs)
	wg.Wait()
	if err != nil {
		tb.Fatal(err)
	}
	sort.Slice(res.secrets, func(i, j int) bool {
		if res.secrets[i].Path != res.secrets[j].Path {
			return res.secrets[i].Path < res.secrets[j].Path
		}
		return res.secrets[i].Line < res.secrets[j].Line
	})
	return res
}

// checkNoAlerts fails on any HIGH or CRITICAL finding and logs the rest by
// rule, so that a run documents what the lower ones are.
func checkNoAlerts(t *testing.T, root string) {
	t.Helper()
	res := scanTree(t, Default(), root, runtime.GOMAXPROCS(0))
	bySev := map[string]int{}
	byRule := map[string]int{}
	for _, s := range res.secrets {
		key := s.Severity
		if s.Example {
			key += " (example)"
		}
		bySev[key]++
		byRule[s.RuleID+" "+key]++
		if s.Severity == engine.Critical || s.Severity == engine.High {
			t.Errorf("%s:%d: %s %s %s", s.Path, s.Line, s.Severity, s.RuleID, s.Match)
		} else if testing.Verbose() {
			t.Logf("%s:%d: %s %s %s example=%v", s.Path, s.Line, s.Severity, s.RuleID, s.Match, s.Example)
		}
	}
	t.Logf("%s: %d files, %d scanned (%.1f MB), findings by severity %v", root, res.files, res.required, float64(res.bytes)/1e6, bySev)
	rules := make([]string, 0, len(byRule))
	for k, n := range byRule {
		rules = append(rules, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(rules)
	t.Logf("by rule: %s", strings.Join(rules, ", "))
	for _, e := range res.errors {
		t.Logf("warning: %s", e)
	}
}

// TestNoAlertsOnDebianBase: a clean Debian minbase root filesystem has no
// HIGH or CRITICAL finding.
func TestNoAlertsOnDebianBase(t *testing.T) {
	if testing.Short() {
		t.Skip("walks a root filesystem")
	}
	root := filepath.Join(fixture.Dir(t), "rootfs-base")
	checkNoAlerts(t, root)
}

// TestNoAlertsOnCorpus runs the same check on the trees listed in
// BULKHEAD_SECRET_FP_DIRS (colon-separated): a node_modules tree, a Go
// module cache.
func TestNoAlertsOnCorpus(t *testing.T) {
	dirs := os.Getenv("BULKHEAD_SECRET_FP_DIRS")
	if dirs == "" {
		t.Skip("BULKHEAD_SECRET_FP_DIRS not set")
	}
	for _, d := range filepath.SplitList(dirs) {
		t.Run(filepath.Base(d), func(t *testing.T) { checkNoAlerts(t, d) })
	}
}

// BenchmarkCorpus measures throughput over the tree in
// BULKHEAD_SECRET_BENCH_DIR, on GOMAXPROCS workers (as the pipeline runs
// analyzers) and, in the /1 variant, on one.
func BenchmarkCorpus(b *testing.B) {
	dir := os.Getenv("BULKHEAD_SECRET_BENCH_DIR")
	if dir == "" {
		b.Skip("BULKHEAD_SECRET_BENCH_DIR not set")
	}
	a := Default()
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			var n int64
			for i := 0; i < b.N; i++ {
				res := scanTree(b, a, dir, workers)
				n = res.bytes
			}
			b.SetBytes(n)
		})
	}
}

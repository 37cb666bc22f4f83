package misconfig

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	engine "github.com/bulkhead-sec/bulkhead/internal/misconfig"
)

// measure runs f and returns its result, the wall time and the bytes
// allocated meanwhile.
func measure(f func() ([]engine.Finding, error)) ([]engine.Finding, error, time.Duration, uint64) {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	fs, err := f()
	el := time.Since(start)
	runtime.ReadMemStats(&m1)
	return fs, err, el, m1.TotalAlloc - m0.TotalAlloc
}

// endless is an io.Reader of n bytes of a repeated pattern, without holding
// them in memory.
type endless struct {
	pat []byte
	n   int64
	off int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && e.n > 0 {
		c := copy(p[k:min(len(p), k+int(e.n))], e.pat[e.off%int64(len(e.pat)):])
		k += c
		e.n -= int64(c)
		e.off += int64(c)
	}
	return k, nil
}

func laughs(levels int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Pod\nmetadata:\n  name: lol\n  annotations:\n    a0: &a0 [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for i := 1; i < levels; i++ {
		fmt.Fprintf(&b, "    a%d: &a%d [*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString("spec:\n  containers:\n  - name: c\n    image: x\n")
	return b.String()
}

func TestHostileInputs(t *testing.T) {
	const mb = 1 << 20
	bigItem := "- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec: {containers: [{name: c, image: 'nginx:1'}]}\n"
	for _, tc := range []struct {
		name    string
		input   func() io.Reader
		opts    engine.Options
		wantErr error  // nil: any error or none; checked with errors.Is
		errText string // substring the error must contain
		maxTime time.Duration
		maxMem  uint64
	}{
		{
			name:    "YAML bomb (billion laughs)",
			input:   func() io.Reader { return strings.NewReader(laughs(12)) },
			wantErr: engine.ErrTooComplex, errText: "aliasing",
			maxTime: 2 * time.Second, maxMem: 32 * mb,
		},
		{
			name: "50 MB single document, default limit",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader("apiVersion: v1\nkind: List\nitems:\n"), &endless{pat: []byte(bigItem), n: 50 * mb})
			},
			wantErr: engine.ErrTooLarge, errText: "over 33554432 bytes",
			maxTime: 5 * time.Second, maxMem: 160 * mb,
		},
		{
			name: "50 MB single document, limit raised to 64 MB",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader("apiVersion: v1\nkind: List\nitems:\n"), &endless{pat: []byte(bigItem), n: 50 * mb})
			},
			opts:    engine.Options{MaxBytes: 64 * mb},
			wantErr: engine.ErrTooComplex, errText: "nodes",
			maxTime: 5 * time.Second, maxMem: 300 * mb,
		},
		{
			name: "20 MB scalar in one document",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader("apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\n  annotations:\n    blob: "),
					&endless{pat: []byte("QUFBQUFBQUFB"), n: 20 * mb},
					strings.NewReader("\nspec:\n  hostPID: true\n  containers: [{name: c, image: 'x:1'}]\n"))
			},
			maxTime: 20 * time.Second, maxMem: 400 * mb,
		},
		{
			name: "invalid UTF-8",
			input: func() io.Reader {
				return strings.NewReader("apiVersion: v1\nkind: Pod\nmetadata:\n  name: \xc3\x28\xff\n")
			},
			errText: "invalid", maxTime: time.Second, maxMem: 8 * mb,
		},
		{
			name: "deeply nested JSON",
			input: func() io.Reader {
				return strings.NewReader(`{"apiVersion":"v1","kind":"Pod","spec":` + strings.Repeat(`{"a":[`, 50000) + "1" + strings.Repeat("]}", 50000) + "}")
			},
			errText: "exceeded max depth", maxTime: 2 * time.Second, maxMem: 64 * mb,
		},
		{
			name: "Dockerfile of one 1 MB line",
			input: func() io.Reader {
				return strings.NewReader("FROM alpine:3.20\nRUN echo " + strings.Repeat("A", mb) + "\n")
			},
			errText: "line greater than max allowed size", maxTime: time.Second, maxMem: 32 * mb,
		},
		{
			name: "Dockerfile RUN of 100k continuation lines",
			input: func() io.Reader {
				var b strings.Builder
				b.WriteString("FROM alpine:3.20\nRUN true")
				for i := range 100000 {
					fmt.Fprintf(&b, " \\\n && chmod 777 /data/%d && curl -s https://x/%d | sh", i, i)
				}
				b.WriteString("\n")
				return strings.NewReader(b.String())
			},
			maxTime: 10 * time.Second, maxMem: 600 * mb,
		},
		{
			name: "NUL bytes and garbage",
			input: func() io.Reader {
				return strings.NewReader("FROM \x00\x00\nRUN \xff\xfe\x00 | sh\n")
			},
			maxTime: time.Second, maxMem: 8 * mb,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.input()
			fs, err, el, mem := measure(func() ([]engine.Finding, error) {
				return ScanReader(t.Context(), "-", r, tc.opts)
			})
			t.Logf("%d findings, err=%.200v, %v, %d MB allocated", len(fs), err, el.Round(time.Millisecond), mem>>20)
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.errText != "" && (err == nil || !strings.Contains(err.Error(), tc.errText)) {
				t.Errorf("err = %v, want it to mention %q", err, tc.errText)
			}
			if el > tc.maxTime {
				t.Errorf("took %v, budget %v", el, tc.maxTime)
			}
			if mem > tc.maxMem {
				t.Errorf("allocated %d MB, budget %d MB", mem>>20, tc.maxMem>>20)
			}
		})
	}
}

// TestLinearScaling checks that scanning 8x the input takes well under the
// 64x a quadratic algorithm would (the bound is loose: the machine is
// shared and timings are noisy; min of five runs, each after a GC).
// TestLinearScaling compares wall times, which a loaded machine distorts:
// it runs only when BULKHEAD_TIMING_TESTS=1 (timings belong in benchmarks;
// make test does not set it).
func TestLinearScaling(t *testing.T) {
	if testing.Short() || os.Getenv("BULKHEAD_TIMING_TESTS") != "1" {
		t.Skip("timing test: set BULKHEAD_TIMING_TESTS=1 on an idle machine")
	}
	dfStage := "FROM alpine:3.20 AS s%d\nENV DB_PASSWORD_%d=x\nRUN apk add curl && chmod 777 /x && curl -s https://x | sh\n# bulkhead:ignore BH-DF-010 fine\nRUN apk add git\nCMD node a.js\nCMD node b.js\n"
	k8sDoc := "---\n# Source: c/templates/d%d.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d%d\nspec:\n  template:\n    spec:\n      hostPID: true # bulkhead:ignore BH-K8S-003 ok\n      containers:\n      - name: c\n        image: nginx\n        securityContext:\n          privileged: true\n"
	listItem := "- {apiVersion: v1, kind: Pod, metadata: {name: p%d}, spec: {containers: [{name: c, image: nginx, env: [{name: DB_PASSWORD, value: x}]}]}}\n"
	svc := "  s%d:\n    image: redis\n    ports: [\"6379:6379\"]\n    privileged: true\n"
	runCont := " \\\n && apt-get install -y x%d && chmod 777 /d%d"
	gen := map[string]func(n int) (string, []byte){
		"dockerfile stages": func(n int) (string, []byte) {
			var b strings.Builder
			for i := range n {
				fmt.Fprintf(&b, dfStage, i, i)
			}
			return "Dockerfile", []byte(b.String())
		},
		"dockerfile one long RUN": func(n int) (string, []byte) {
			var b strings.Builder
			b.WriteString("FROM debian:12\nRUN apt-get update")
			for i := range n * 5 {
				fmt.Fprintf(&b, runCont, i, i)
			}
			b.WriteString("\n")
			return "Dockerfile", []byte(b.String())
		},
		"helm stream": func(n int) (string, []byte) {
			var b strings.Builder
			for i := range n {
				fmt.Fprintf(&b, k8sDoc, i, i)
			}
			return "-", []byte(b.String())
		},
		"one List document": func(n int) (string, []byte) {
			var b strings.Builder
			b.WriteString("apiVersion: v1\nkind: List\nitems:\n")
			for i := range n {
				fmt.Fprintf(&b, listItem, i)
			}
			return "-", []byte(b.String())
		},
		"compose services": func(n int) (string, []byte) {
			var b strings.Builder
			b.WriteString("services:\n")
			for i := range n {
				fmt.Fprintf(&b, svc, i)
			}
			return "compose.yaml", []byte(b.String())
		},
	}
	for name, g := range gen {
		t.Run(name, func(t *testing.T) {
			timeOf := func(n int) (time.Duration, int) {
				nm, data := g(n)
				best := time.Duration(1 << 62)
				var count int
				for range 5 {
					runtime.GC()
					start := time.Now()
					fs, err := ScanReader(t.Context(), nm, bytes.NewReader(data), engine.Options{})
					if err != nil {
						t.Fatal(err)
					}
					count = len(fs)
					best = min(best, time.Since(start))
				}
				return best, count
			}
			small, n1 := timeOf(400)
			large, n2 := timeOf(3200)
			ratio := float64(large) / float64(max(small, time.Microsecond))
			t.Logf("400 → %v (%d findings); 3200 → %v (%d findings); ratio %.1f (linear 8, quadratic 64)", small, n1, large, n2, ratio)
			if ratio > 24 {
				t.Errorf("8x the input took %.1fx the time", ratio)
			}
		})
	}
}

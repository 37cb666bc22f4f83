package secret

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Hostile inputs are streamed from generators, never written to disk. Set
// BULKHEAD_HOSTILE_BYTES (e.g. 2147483648) for the full-size runs; the
// default keeps `go test` quick.

func hostileSize(def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv("BULKHEAD_HOSTILE_BYTES"), 10, 64); err == nil && v > 0 {
		return v
	}
	return def
}

// patternReader yields size bytes: pattern repeated, then tail.
type patternReader struct {
	pattern []byte
	size    int64
	off     int64
	tail    []byte
}

func (p *patternReader) Read(b []byte) (int, error) {
	total := p.size + int64(len(p.tail))
	if p.off >= total {
		return 0, io.EOF
	}
	n := 0
	for n < len(b) && p.off < total {
		if p.off < p.size {
			i := int(p.off % int64(len(p.pattern)))
			c := copy(b[n:], p.pattern[i:])
			if rem := p.size - p.off; int64(c) > rem {
				c = int(rem)
			}
			n += c
			p.off += int64(c)
			continue
		}
		c := copy(b[n:], p.tail[p.off-p.size:])
		n += c
		p.off += int64(c)
	}
	return n, nil
}

// peakHeap samples the heap while fn runs.
func peakHeap(fn func()) uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	return peak.Load()
}

func hostileScanner(t *testing.T) *Scanner {
	cfg := DefaultConfig()
	cfg.MaxFileSize = 0 // no cap: the point is to stream it all
	return newScanner(t, cfg)
}

// TestHostileSingleLine: one line of minified-JavaScript-like text, with a
// token at the very end.
func TestHostileSingleLine(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile input")
	}
	s := hostileScanner(t)
	size := hostileSize(256 << 20)
	tok := newGen(30).ghToken("ghp_")
	r := &patternReader{
		pattern: []byte(`function(e,t){return e&&e.__esModule?e:{default:e,token:t.key,password:n.pwd}};var o=require("./secret.js");`),
		size:    size, tail: []byte(`;x.auth="` + tok + `"`),
	}
	var found []error
	var got int
	start := time.Now()
	peak := peakHeap(func() {
		res, err := s.Scan(context.Background(), "/app/bundle.min.js", r)
		got = len(res)
		if err != nil {
			found = append(found, err)
		}
		if len(res) != 1 || res[0].RuleID != "github-pat" || res[0].Line != 1 {
			t.Errorf("findings %+v", res)
		}
	})
	el := time.Since(start)
	t.Logf("%d MB single line: %v (%.0f MB/s), peak heap %d MB, %d findings, errors %v", size>>20, el, float64(size)/1e6/el.Seconds(), peak>>20, got, found)
	if peak > 128<<20 {
		t.Errorf("peak heap %d MB: memory grows with the input", peak>>20)
	}
}

// TestHostileManyLines: 10 million short lines with keywords sprinkled in.
func TestHostileManyLines(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile input")
	}
	s := hostileScanner(t)
	const lines = 10_000_000
	pattern := strings.Repeat("k=v\nx=1\n", 499) + "token: none\nsecret\n" // 1000 lines
	tok := newGen(31).ghToken("ghp_")
	r := &patternReader{pattern: []byte(pattern), size: int64(len(pattern)) * lines / 1000, tail: []byte("T=" + tok + "\n")}
	start := time.Now()
	var res []int
	peak := peakHeap(func() {
		found, err := s.Scan(context.Background(), "/var/log/app.log", r)
		if err != nil {
			t.Error(err)
		}
		for _, f := range found {
			res = append(res, f.Line)
		}
	})
	t.Logf("10M lines (%d MB): %v, peak heap %d MB", r.size>>20, time.Since(start), peak>>20)
	if len(res) != 1 || res[0] != lines+1 {
		t.Errorf("lines of findings %v, want [%d]", res, lines+1)
	}
}

// TestHostileKeywordSoup: every few bytes a keyword of some rule, with no
// line breaks: the regex budget bounds the work.
func TestHostileKeywordSoup(t *testing.T) {
	if testing.Short() {
		t.Skip("hostile input")
	}
	s := hostileScanner(t)
	var kws []string
	for _, r := range s.Rules() {
		kws = append(kws, r.Keywords...)
	}
	pattern := strings.Join(kws, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ") + "-----BEGIN RSA PRIVATE KEY-----MIIE" + strings.Repeat("A", 300)
	size := hostileSize(64 << 20)
	if size > 256<<20 {
		size = 256 << 20
	}
	start := time.Now()
	var err error
	peak := peakHeap(func() {
		_, err = s.Scan(context.Background(), "/app/x.env", &patternReader{pattern: []byte(pattern), size: size})
	})
	el := time.Since(start)
	t.Logf("%d MB of keyword soup: %v (%.0f MB/s), peak heap %d MB, err %v", size>>20, el, float64(size)/1e6/el.Seconds(), peak>>20, err)
	if err != nil && !errors.Is(err, ErrBudget) {
		t.Error(err)
	}
	if peak > 128<<20 {
		t.Errorf("peak heap %d MB", peak>>20)
	}
}

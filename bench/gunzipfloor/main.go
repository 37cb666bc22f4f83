// Command gunzipfloor measures the floor of reading image layers: how long
// it takes only to decompress them (and optionally hash and tar-walk them),
// with no analyzers. bench/compare.sh uses it for the "floor" lines.
//
//	go run ./bench/gunzipfloor [-mode MODE] [-parallel N] [-n RUNS] FILE...
//
// FILEs are layer blobs (gzip, sniffed from the magic bytes, or plain tar).
// Modes, each including the ones before it:
//
//	read      read the stored bytes only (page cache → userspace)
//	gunzip    + inflate with klauspost/compress/gzip (what bulkhead uses)
//	stdgunzip   inflate with the standard library's compress/gzip instead
//	sha256    + sha256 of the uncompressed stream (bulkhead's diffID check)
//	tar       + archive/tar walk of every entry (bodies skipped by reading)
//	pipe      like tar, but inflate in its own goroutine with 4 MiB of
//	          read-ahead (what pgzip-style read-ahead would buy)
//
// It prints one line per run (wall and CPU seconds for all files, read
// -parallel at a time) and a last line with the medians. On a shared machine
// the CPU seconds are the steadier number.
package main

import (
	"archive/tar"
	"bufio"
	stdgzip "compress/gzip"
	"crypto/sha256"
	"flag"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
)

func main() {
	mode := flag.String("mode", "gunzip", "read|gunzip|stdgunzip|sha256|tar|pipe")
	par := flag.Int("parallel", 1, "files processed at once")
	runs := flag.Int("n", 3, "runs")
	quiet := flag.Bool("q", false, "print only the median line")
	flag.Parse()
	if flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: gunzipfloor [-mode MODE] [-parallel N] [-n RUNS] FILE...")
		os.Exit(2)
	}
	var times, cpus []float64
	var total int64
	for r := 0; r < *runs; r++ {
		start, cpu0 := time.Now(), cpuTime()
		n, err := runAll(flag.Args(), *mode, *par)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gunzipfloor:", err)
			os.Exit(1)
		}
		el, cpu := time.Since(start).Seconds(), cpuTime()-cpu0
		times = append(times, el)
		cpus = append(cpus, cpu)
		total = n
		if !*quiet {
			fmt.Printf("run %d: %-9s %.3f s wall, %.3f s CPU, %.1f MiB, %.0f MiB/s\n", r+1, *mode, el, cpu, mib(n), mib(n)/el)
		}
	}
	sort.Float64s(times)
	sort.Float64s(cpus)
	med, cmed := times[len(times)/2], cpus[len(cpus)/2]
	fmt.Printf("%-9s parallel=%d median %.3f s (min %.3f, max %.3f), CPU %.3f s, %d runs, %.1f MiB out, %.0f MiB/s per CPU-second\n",
		*mode, *par, med, times[0], times[len(times)-1], cmed, len(times), mib(total), mib(total)/cmed)
}

// cpuTime is the user+system CPU time of this process so far, in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func runAll(files []string, mode string, par int) (int64, error) {
	var (
		mu    sync.Mutex
		total int64
		first error
		wg    sync.WaitGroup
	)
	sem := make(chan struct{}, max(par, 1))
	for _, f := range files {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			n, err := one(f, mode)
			mu.Lock()
			defer mu.Unlock()
			total += n
			if err != nil && first == nil {
				first = fmt.Errorf("%s: %w", f, err)
			}
		}()
	}
	wg.Wait()
	return total, first
}

type countHash struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (c *countHash) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		if c.h != nil {
			c.h.Write(p[:n])
		}
		c.n += int64(n)
	}
	return n, err
}

func one(name, mode string) (int64, error) {
	f, err := os.Open(name)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	if mode == "read" {
		return io.Copy(io.Discard, br)
	}
	head, _ := br.Peek(3)
	var r io.Reader = br
	if len(head) == 3 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8 {
		if mode == "stdgunzip" {
			zr, err := stdgzip.NewReader(br)
			if err != nil {
				return 0, err
			}
			defer zr.Close()
			r = zr
		} else {
			zr, err := gzip.NewReader(br)
			if err != nil {
				return 0, err
			}
			defer zr.Close()
			r = zr
		}
	}
	if mode == "pipe" {
		r = readAhead(r)
	}
	c := &countHash{r: r}
	switch mode {
	case "gunzip", "stdgunzip":
		_, err := io.Copy(io.Discard, c)
		return c.n, err
	case "sha256":
		c.h = sha256.New()
		_, err := io.Copy(io.Discard, c)
		return c.n, err
	case "tar", "pipe":
		c.h = sha256.New()
		tr := tar.NewReader(c)
		for {
			_, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return c.n, err
			}
		}
		_, err := io.Copy(io.Discard, c) // trailing zeros, as bulkhead does
		return c.n, err
	}
	return 0, fmt.Errorf("unknown mode %q", mode)
}

// readAhead inflates r in its own goroutine, up to 4 MiB (16 × 256 KiB
// buffers, reused) ahead of the reader.
func readAhead(r io.Reader) io.Reader {
	const chunk, nbuf = 256 << 10, 16
	free := make(chan []byte, nbuf)
	for i := 0; i < nbuf; i++ {
		free <- make([]byte, chunk)
	}
	full := make(chan []byte, nbuf)
	errc := make(chan error, 1)
	go func() {
		for {
			b := <-free
			n, err := io.ReadFull(r, b)
			if n > 0 {
				full <- b[:n]
			}
			if err != nil {
				if err == io.ErrUnexpectedEOF {
					err = io.EOF
				}
				errc <- err
				close(full)
				return
			}
		}
	}()
	return &chanReader{full: full, free: free, errc: errc}
}

type chanReader struct {
	full, free chan []byte
	errc       chan error
	buf, cur   []byte
	err        error
}

func (c *chanReader) Read(p []byte) (int, error) {
	for len(c.cur) == 0 {
		if c.buf != nil {
			c.free <- c.buf[:cap(c.buf)]
			c.buf = nil
		}
		if c.err != nil {
			return 0, c.err
		}
		b, ok := <-c.full
		if !ok {
			c.err = <-c.errc
			continue
		}
		c.buf, c.cur = b, b
	}
	n := copy(p, c.cur)
	c.cur = c.cur[n:]
	return n, nil
}

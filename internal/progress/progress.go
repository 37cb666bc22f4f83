// Package progress draws a one-line progress report on a terminal: layers
// and bytes done. It writes nothing when its writer is not a terminal.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// Bar tracks layers and bytes. A nil *Bar is valid and does nothing.
type Bar struct {
	w           io.Writer
	totalLayers int
	totalBytes  int64
	doneLayers  atomic.Int64
	doneBytes   atomic.Int64
	stop        chan struct{}
	wg          sync.WaitGroup
	label       string
}

// New returns a bar drawing on w when w is a terminal, else nil.
func New(w io.Writer, quiet bool) *Bar {
	if quiet {
		return nil
	}
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &Bar{w: w}
}

// Start begins drawing for a job of layers and bytes.
func (b *Bar) Start(label string, layers int, bytes int64) {
	if b == nil {
		return
	}
	b.label, b.totalLayers, b.totalBytes = label, layers, bytes
	b.stop = make(chan struct{})
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				fmt.Fprint(b.w, "\r\033[K")
				return
			case <-t.C:
				b.draw()
			}
		}
	}()
}

func (b *Bar) draw() {
	fmt.Fprintf(b.w, "\r\033[K%s: layers %d/%d, %s/%s", b.label, b.doneLayers.Load(), b.totalLayers,
		human(b.doneBytes.Load()), human(b.totalBytes))
}

// AddBytes records bytes read.
func (b *Bar) AddBytes(n int64) {
	if b != nil {
		b.doneBytes.Add(n)
	}
}

// LayerDone records a finished layer.
func (b *Bar) LayerDone() {
	if b != nil {
		b.doneLayers.Add(1)
	}
}

// Finish clears the line.
func (b *Bar) Finish() {
	if b == nil || b.stop == nil {
		return
	}
	close(b.stop)
	b.wg.Wait()
	b.stop = nil
}

func human(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Reader counts bytes read through it on b.
func (b *Bar) Reader(r io.Reader) io.Reader {
	if b == nil {
		return r
	}
	return &countReader{r: r, b: b}
}

type countReader struct {
	r io.Reader
	b *Bar
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.b.AddBytes(int64(n))
	return n, err
}

package progress

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestNotATerminal(t *testing.T) {
	var buf bytes.Buffer
	if b := New(&buf, false); b != nil {
		t.Fatal("a bar on a non-terminal writer")
	}
	// A nil bar is usable and silent.
	var b *Bar
	b.Start("x", 1, 1)
	b.AddBytes(1)
	b.LayerDone()
	b.Finish()
	if _, err := io.Copy(io.Discard, b.Reader(strings.NewReader("abc"))); err != nil {
		t.Fatal(err)
	}
}

func TestDraws(t *testing.T) {
	var buf syncBuffer
	b := &Bar{w: &buf}
	b.Start("reading img", 2, 3<<20)
	io.Copy(io.Discard, b.Reader(strings.NewReader(strings.Repeat("x", 2<<20))))
	b.LayerDone()
	time.Sleep(250 * time.Millisecond)
	b.Finish()
	out := buf.String()
	if !strings.Contains(out, "reading img: layers 1/2, 2.0 MiB/3.0 MiB") {
		t.Errorf("output %q", out)
	}
	if !strings.HasSuffix(out, "\r\033[K") {
		t.Errorf("the line is not cleared at the end: %q", out)
	}
}

type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	if s.mu == nil {
		s.mu = make(chan struct{}, 1)
	}
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string { return s.buf.String() }

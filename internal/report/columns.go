package report

import (
	"bufio"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// A small fixed-width layout for the table: columns that fit tableWidth
// terminal columns, cells that wrap inside their column or are cut with an
// ellipsis. Widths are terminal columns, not bytes: East Asian wide
// characters take two, combining marks none. Every string laid out here
// has been through printable, so it holds no control characters.

// column is one column of a table.
type column struct {
	title string
	// max is the widest the column gets; longer cells wrap. 0 makes the
	// column the flexible one: it takes the width the others leave.
	max int
	// truncate cuts a cell too long for the column to one line ending in
	// "…" instead of wrapping it.
	truncate bool
}

const columnGap = 2

// minFlexWidth is the narrowest the flexible column is made, whatever the
// other columns take; the maxima of the tables are chosen so that it is
// never reached at tableWidth.
const minFlexWidth = 10

type columnLayout struct {
	cols   []column
	widths []int
	indent string
}

// layoutColumns sizes each column to its widest cell, within its max; the
// flexible column gets what is left of tableWidth, or less if its cells
// are narrower.
func layoutColumns(cols []column, rows [][]string, indent int) *columnLayout {
	t := &columnLayout{cols: cols, widths: make([]int, len(cols)), indent: strings.Repeat(" ", indent)}
	flex := -1
	used := indent + columnGap*(len(cols)-1)
	for i, c := range cols {
		w := textWidth(c.title)
		for _, row := range rows {
			w = max(w, textWidth(row[i]))
		}
		if c.max == 0 {
			flex = i
		} else {
			w = min(w, max(c.max, textWidth(c.title)))
			used += w
		}
		t.widths[i] = w
	}
	if flex >= 0 {
		t.widths[flex] = max(min(t.widths[flex], tableWidth-used), minFlexWidth)
	}
	return t
}

func (t *columnLayout) titles() []string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = c.title
	}
	return out
}

// writeRow writes one row over as many lines as its tallest cell needs.
func (t *columnLayout) writeRow(bw *bufio.Writer, row []string) {
	cells := make([][]string, len(row))
	height := 1
	for i, s := range row {
		if t.cols[i].truncate {
			cells[i] = []string{truncateWidth(s, t.widths[i])}
		} else {
			cells[i] = wrapWidth(s, t.widths[i])
		}
		height = max(height, len(cells[i]))
	}
	var line strings.Builder
	for l := range height {
		line.Reset()
		line.WriteString(t.indent)
		pad := 0
		for i, lines := range cells {
			if i > 0 {
				pad += columnGap
			}
			if l < len(lines) && lines[l] != "" {
				line.WriteString(strings.Repeat(" ", pad))
				line.WriteString(lines[l])
				pad = t.widths[i] - textWidth(lines[l])
			} else {
				pad += t.widths[i]
			}
		}
		bw.WriteString(line.String())
		bw.WriteByte('\n')
	}
}

// writeWrapped writes s wrapped to tableWidth, continuation lines indented
// by indent spaces.
func writeWrapped(bw *bufio.Writer, s string, indent int) {
	first := true
	rest := s
	for {
		w := tableWidth
		if !first {
			w -= indent
			bw.WriteString(strings.Repeat(" ", indent))
		}
		line, tail := cutLine(rest, w)
		bw.WriteString(line)
		bw.WriteByte('\n')
		if tail == "" {
			return
		}
		rest, first = tail, false
	}
}

// textWidth is the number of terminal columns s takes.
func textWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	if r < utf8.RuneSelf {
		return 1
	}
	if unicode.In(r, unicode.Mn, unicode.Me) {
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// truncateWidth cuts s to w columns, the last one an ellipsis.
func truncateWidth(s string, w int) string {
	if textWidth(s) <= w {
		return s
	}
	n := 0
	for i, r := range s {
		rw := runeWidth(r)
		if n+rw > w-1 {
			return s[:i] + "…"
		}
		n += rw
	}
	return s
}

// wrapWidth splits s into lines of at most w columns.
func wrapWidth(s string, w int) []string {
	var lines []string
	for {
		line, rest := cutLine(s, w)
		lines = append(lines, line)
		if rest == "" {
			return lines
		}
		s = rest
	}
}

// cutLine returns the first line of s wrapped at w columns and the rest.
// It breaks at the last space that fits (dropping it), else after the last
// "/" (paths), else after the last "-" or "," (ids, versions, lists), else
// wherever the width runs out. A break that would leave the line less than
// a quarter full is passed over ("Artifact:" alone on a line above a long
// reference).
func cutLine(s string, w int) (line, rest string) {
	if textWidth(s) <= w {
		return s, ""
	}
	w = max(w, 1)
	// Break candidates: byte offset and the columns of the line before it.
	type brk struct{ at, cols int }
	space, slash, punct := brk{-1, 0}, brk{-1, 0}, brk{-1, 0}
	n, end := 0, 0 // end: byte offset where the first w columns end
	for i, r := range s {
		rw := runeWidth(r)
		if n+rw > w {
			break
		}
		end = i + utf8.RuneLen(r)
		switch r {
		case ' ':
			space = brk{i, n}
		case '/':
			slash = brk{end, n + rw}
		case '-', ',':
			punct = brk{end, n + rw}
		}
		n += rw
	}
	if end < len(s) && s[end] == ' ' {
		space = brk{end, n}
	}
	if end == 0 { // a rune wider than w
		_, size := utf8.DecodeRuneInString(s)
		return s[:size], s[size:]
	}
	minCols := max(w/4, 1)
	switch {
	case space.at > 0 && space.cols >= minCols:
		return strings.TrimRight(s[:space.at], " "), strings.TrimLeft(s[space.at:], " ")
	case slash.at > 0 && slash.at < len(s) && slash.cols >= minCols:
		return s[:slash.at], s[slash.at:]
	case punct.at > 0 && punct.at < len(s) && punct.cols >= minCols:
		return s[:punct.at], s[punct.at:]
	}
	return s[:end], s[end:]
}

package pythonlock

import (
	"errors"
	"fmt"

	"github.com/BurntSushi/toml"
)

// BurntSushi/toml v1.6.0 takes time quadratic or worse in the nesting of
// inline tables and arrays and in the number of parts of a dotted key or
// table header: 2,000 nested inline tables take seconds, 10,000 minutes; a
// 20 KB key of 10,000 parts takes 10 seconds. Lockfiles nest three or four
// levels and their keys have two or three parts, so input beyond these
// limits is refused before it is parsed.
const (
	maxTOMLDepth       = 32
	maxTOMLDotsPerLine = 128
)

// errTOMLShape is the error, wrapped, for TOML refused by checkTOMLShape.
var errTOMLShape = errors.New("refused: TOML shaped like no lockfile")

// decodeTOML checks b with checkTOMLShape and decodes it into v.
func decodeTOML(b []byte, v any) error {
	if err := checkTOMLShape(b); err != nil {
		return err
	}
	return toml.Unmarshal(b, v)
}

// checkTOMLShape scans b once, skipping strings and comments, and returns
// an error wrapping errTOMLShape when brackets and braces nest deeper than
// maxTOMLDepth or a line has more than maxTOMLDotsPerLine dots outside
// strings (the parts of dotted keys and table headers; floats in
// lockfiles are rare and few). It does not validate anything else.
func checkTOMLShape(b []byte) error {
	depth, dots, line := 0, 0, 1
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '\n':
			line++
			dots = 0
		case '#':
			for i+1 < len(b) && b[i+1] != '\n' {
				i++
			}
		case '"', '\'':
			multi := i+2 < len(b) && b[i+1] == c && b[i+2] == c
			if multi {
				i += 2
			}
			// Skip to the closing quote(s). Only basic strings have
			// escapes; single-line strings end at the line too.
			for i++; i < len(b); i++ {
				if b[i] == '\\' && c == '"' {
					if i+1 < len(b) && b[i+1] == '\n' {
						line++
					}
					i++
					continue
				}
				if b[i] == '\n' {
					line++
					if !multi {
						dots = 0
						break
					}
				}
				if b[i] == c && (!multi || i+2 < len(b) && b[i+1] == c && b[i+2] == c) {
					if multi {
						i += 2
					}
					break
				}
			}
		case '[', '{':
			if depth++; depth > maxTOMLDepth {
				return fmt.Errorf("line %d: %w: nested over %d levels", line, errTOMLShape, maxTOMLDepth)
			}
		case ']', '}':
			if depth > 0 {
				depth--
			}
		case '.':
			if dots++; dots > maxTOMLDotsPerLine {
				return fmt.Errorf("line %d: %w: over %d dots outside strings", line, errTOMLShape, maxTOMLDotsPerLine)
			}
		}
	}
	return nil
}

package dockerfile

import "strings"

// simpleCmd is one simple command of a shell script: its words with quotes
// removed, leading VAR=value assignments dropped and redirections removed.
type simpleCmd struct {
	words []string
	// piped is true when the command's stdin is the previous command's
	// stdout (it follows a '|').
	piped bool
}

// name returns the command run, skipping wrappers (sudo, env, exec, …) and
// their options; sudo reports whether sudo was one of them.
func (c simpleCmd) name() (name string, args []string, sudo bool) {
	w := c.words
	for len(w) > 0 {
		switch base(w[0]) {
		case "sudo", "doas":
			sudo = true
			w = skipOpts(w[1:], map[string]bool{"-u": true, "-g": true, "-C": true, "-D": true, "-h": true, "-p": true, "-r": true, "-t": true, "-U": true})
		case "env":
			w = w[1:]
			for len(w) > 0 && (strings.HasPrefix(w[0], "-") || isAssignment(w[0])) {
				w = w[1:]
			}
		case "exec", "time", "nohup", "command", "builtin", "nice", "stdbuf", "chroot-noop":
			w = skipOpts(w[1:], nil)
		default:
			return base(w[0]), w[1:], sudo
		}
	}
	return "", nil, sudo
}

// skipOpts drops leading options; withArg lists options that take a value.
func skipOpts(w []string, withArg map[string]bool) []string {
	for len(w) > 0 && strings.HasPrefix(w[0], "-") {
		if w[0] == "--" {
			return w[1:]
		}
		if withArg[w[0]] && len(w) > 1 {
			w = w[1:]
		}
		w = w[1:]
	}
	return w
}

func base(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func isAssignment(w string) bool {
	i := strings.IndexByte(w, '=')
	if i <= 0 {
		return false
	}
	for j := 0; j < i; j++ {
		c := w[j]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// shellKeywords start compound commands; they are dropped so that the
// command after them is seen ("then apt-get install …").
var shellKeywords = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true, "do": true, "done": true,
	"while": true, "until": true, "!": true, "{": true, "}": true, "(": true, ")": true, "esac": true,
}

// maxShellWords bounds the words kept for one script; past it the rest of
// the script is ignored (a RUN of a million words is not something to lint
// word by word).
const maxShellWords = 1 << 20

// splitShell splits a POSIX shell script into simple commands. It is a
// linear scanner, not a full shell parser: it understands quotes, escapes,
// comments, line continuations, the control operators && || | ; & and
// newlines, subshell parentheses, redirections (dropped with their target)
// and keeps $(…), `…` and <(…) inside the word they appear in.
func splitShell(s string) []simpleCmd {
	var (
		out      []simpleCmd
		cur      simpleCmd
		word     strings.Builder
		inWord   bool
		dropNext bool // the next word is a redirection target
		total    int
	)
	endWord := func() {
		if !inWord {
			return
		}
		w := word.String()
		word.Reset()
		inWord = false
		if dropNext {
			dropNext = false
			return
		}
		if total >= maxShellWords {
			return
		}
		total++
		if len(cur.words) == 0 && (isAssignment(w) || shellKeywords[w]) {
			return
		}
		cur.words = append(cur.words, w)
	}
	endCmd := func(pipeNext bool) {
		endWord()
		if len(cur.words) > 0 {
			out = append(out, cur)
		}
		cur = simpleCmd{piped: pipeNext}
	}
	// group copies a balanced $( … ), <( … ) or ` … ` span into the word.
	group := func(i int, open, close byte) int {
		depth := 0
		for ; i < len(s); i++ {
			c := s[i]
			word.WriteByte(c)
			switch {
			case c == '\\' && i+1 < len(s):
				i++
				word.WriteByte(s[i])
			case c == open && open != close:
				depth++
			case c == close:
				if open == close {
					if depth == 0 {
						depth = 1
						continue
					}
					return i
				}
				depth--
				if depth == 0 {
					return i
				}
			}
		}
		return i
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++ // line continuation
				continue
			}
			if i+1 < len(s) {
				i++
				word.WriteByte(s[i])
				inWord = true
			}
		case '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				word.WriteString(s[i+1:])
				i = len(s)
				continue
			}
			word.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case '"':
			inWord = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				switch {
				case s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`\n", s[i+1]) >= 0:
					i++
					if s[i] != '\n' {
						word.WriteByte(s[i])
					}
				case s[i] == '$' && i+1 < len(s) && s[i+1] == '(':
					i = group(i, '(', ')')
				default:
					word.WriteByte(s[i])
				}
			}
		case '$':
			inWord = true
			if i+1 < len(s) && s[i+1] == '(' {
				i = group(i, '(', ')')
			} else {
				word.WriteByte(c)
			}
		case '`':
			inWord = true
			i = group(i, '`', '`')
		case '#':
			if inWord {
				word.WriteByte(c)
				continue
			}
			j := strings.IndexByte(s[i:], '\n')
			if j < 0 {
				i = len(s)
			} else {
				i += j - 1
			}
		case ' ', '\t', '\r':
			endWord()
		case '\n', ';':
			endCmd(false)
		case '|':
			if i+1 < len(s) && s[i+1] == '|' {
				i++
				endCmd(false)
			} else {
				if i+1 < len(s) && s[i+1] == '&' {
					i++
				}
				endCmd(true)
			}
		case '&':
			switch {
			case i+1 < len(s) && s[i+1] == '&':
				i++
				endCmd(false)
			case i+1 < len(s) && s[i+1] == '>':
				endWord()
				i++
				if i+1 < len(s) && s[i+1] == '>' {
					i++
				}
				dropNext = true
			default:
				endCmd(false)
			}
		case '(', ')':
			endCmd(false)
		case '<', '>':
			if c == '<' && i+1 < len(s) && s[i+1] == '(' {
				inWord = true
				word.WriteByte('<')
				i = group(i+1, '(', ')')
				continue
			}
			// A word of digits right before is the file descriptor.
			if inWord && allDigits(word.String()) {
				word.Reset()
				inWord = false
			} else {
				endWord()
			}
			for i+1 < len(s) && (s[i+1] == '<' || s[i+1] == '>' || s[i+1] == '&' || s[i+1] == '|' || s[i+1] == '-') {
				i++
			}
			// "2>&1": the target follows directly.
			dropNext = true
		default:
			inWord = true
			word.WriteByte(c)
		}
	}
	endCmd(false)
	return out
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

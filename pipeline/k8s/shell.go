package k8s

import "strings"

// Word is one shell word of a script with its byte offset in the script.
type Word struct {
	Text string
	Off  int
}

// maxWords bounds the words Commands returns for one script.
const maxWords = 100_000

// Commands splits shell text into simple commands (at newlines, ;, &&, ||
// and |) of words, honouring single and double quotes and backslashes. It
// is a reader for finding installs and downloads, not a shell: expansions
// are left as written. Each command also records whether its output is
// piped into the next one.
func Commands(script string) [][]Word {
	var cmds [][]Word
	var cur []Word
	var b strings.Builder
	start, inWord := 0, false
	total := 0
	flushWord := func() {
		if inWord {
			cur = append(cur, Word{Text: b.String(), Off: start})
			total++
		}
		b.Reset()
		inWord = false
	}
	flushCmd := func(sep string) {
		flushWord()
		if len(cur) > 0 {
			if sep != "" {
				cur = append(cur, Word{Text: sep, Off: -1})
			}
			cmds = append(cmds, cur)
		}
		cur = nil
	}
	begin := func(i int) {
		if !inWord {
			inWord, start = true, i
		}
	}
	for i := 0; i < len(script) && total < maxWords; i++ {
		c := script[i]
		switch c {
		case '\'':
			begin(i)
			j := strings.IndexByte(script[i+1:], '\'')
			if j < 0 {
				b.WriteString(script[i+1:])
				i = len(script)
				break
			}
			b.WriteString(script[i+1 : i+1+j])
			i += j + 1
		case '"':
			begin(i)
			for i++; i < len(script) && script[i] != '"'; i++ {
				if script[i] == '\\' && i+1 < len(script) && strings.IndexByte("\"\\$`", script[i+1]) >= 0 {
					i++
				}
				b.WriteByte(script[i])
			}
		case '\\':
			if i+1 < len(script) && script[i+1] == '\n' {
				i++
				continue
			}
			begin(i)
			if i+1 < len(script) {
				i++
				b.WriteByte(script[i])
			}
		case ' ', '\t', '\r':
			flushWord()
		case '\n', ';':
			flushCmd("")
		case '&':
			if i+1 < len(script) && script[i+1] == '&' {
				i++
			}
			flushCmd("")
		case '|':
			if i+1 < len(script) && script[i+1] == '|' {
				i++
				flushCmd("")
			} else {
				flushCmd("|")
			}
		case '#':
			if !inWord {
				for i < len(script) && script[i] != '\n' {
					i++
				}
				flushCmd("")
				continue
			}
			b.WriteByte(c)
		default:
			begin(i)
			b.WriteByte(c)
		}
	}
	flushCmd("")
	return cmds
}

// Piped reports whether a command from Commands pipes into the next.
func Piped(cmd []Word) bool { return len(cmd) > 0 && cmd[len(cmd)-1].Off == -1 }

// Args returns a command's words without the trailing pipe marker, and
// without leading VAR=value assignments and "sudo"/"env"/"exec" wrappers.
func Args(cmd []Word) []Word {
	if Piped(cmd) {
		cmd = cmd[:len(cmd)-1]
	}
	for len(cmd) > 0 {
		w := cmd[0].Text
		if w == "sudo" || w == "env" || w == "exec" || w == "command" ||
			(strings.IndexByte(w, '=') > 0 && !strings.HasPrefix(w, "-") && isIdent(w[:strings.IndexByte(w, '=')])) {
			cmd = cmd[1:]
			continue
		}
		break
	}
	return cmd
}

func isIdent(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// base returns the last path element of a command name.
func base(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

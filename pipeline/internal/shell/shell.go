// Package shell splits shell script text into simple commands and words,
// lightly and without executing anything, for rules that look for commands
// in pipeline steps (dependency installs, downloads, `curl | sh`).
//
// It is not a full POSIX parser. It understands what matters for finding
// commands and their arguments: quoting ('...', "...", $'...'), backslash
// escapes and line continuations, comments, the operators ; & && || | |&
// and newlines, subshell parentheses, redirections (which are dropped from
// the words), here-documents (whose bodies are recorded, not parsed as
// commands), leading variable assignments and control keywords, and it
// descends into $(...), `...`, <(...) and the script of `sh -c '...'`.
// Offsets of words point into the original text, so callers can turn them
// into exact source positions. Work is linear in the input and bounded by
// MaxCommands and MaxDepth; Parse never panics.
package shell

import "strings"

// Limits on what Parse returns.
const (
	// MaxCommands is the most commands Parse returns for one script.
	MaxCommands = 4096
	// MaxWords is the most words kept for one command.
	MaxWords = 1024
	// MaxDepth is how deep Parse descends into nested substitutions and
	// `sh -c` scripts.
	MaxDepth = 8
)

// Word is one shell word with its quoting removed.
type Word struct {
	// Val is the word's value after quote removal. Parameter expansions and
	// command substitutions are kept as written ("$HOME", "$(pwd)").
	Val string
	// Start and End are the byte offsets of the word's raw text in the
	// script given to Parse (End exclusive).
	Start, End int
	// Quoted is true when any part of the word was quoted or escaped.
	Quoted bool
}

// Range is a span of the script, byte offsets, End exclusive.
type Range struct{ Start, End int }

// Cmd is one simple command.
type Cmd struct {
	// Words are the command name and arguments, without leading variable
	// assignments, control keywords and redirections.
	Words []Word
	// Assigns are the leading NAME=value words.
	Assigns []Word
	// Op is the operator that ended the command: ";", "&", "&&", "||",
	// "|", "|&", "\n", or "" at the end of the script or of a subshell.
	Op string
	// Heredocs are the bodies of the command's here-documents.
	Heredocs []Range
	// Depth is 0 for commands of the script itself, 1 and more for those
	// found inside substitutions and `sh -c` strings.
	Depth int
	// Exact is false when the offsets of a nested command are only
	// approximate (the script of `sh -c "..."` with escapes in it).
	Exact bool
}

// Name returns the command name with wrappers such as sudo, env, nohup,
// exec, command and time skipped, and the index of that word in Words; ""
// and -1 when there is none.
func (c *Cmd) Name() (string, int) {
	i := c.NameIndex()
	if i < 0 {
		return "", -1
	}
	return c.Words[i].Val, i
}

// NameIndex returns the index of the command name after wrappers (see
// Name), or -1.
func (c *Cmd) NameIndex() int {
	w := c.Words
	i := 0
	for i < len(w) {
		switch base(w[i].Val) {
		case "sudo", "doas":
			i++
			for i < len(w) && strings.HasPrefix(w[i].Val, "-") {
				opt := w[i].Val
				i++
				if (opt == "-u" || opt == "-g" || opt == "-C" || opt == "-h") && i < len(w) {
					i++
				}
			}
		case "env":
			i++
			for i < len(w) && (strings.HasPrefix(w[i].Val, "-") || isAssign(w[i].Val)) {
				i++
			}
		case "nohup", "exec", "command", "time", "builtin", "stdbuf", "nice":
			i++
			for i < len(w) && strings.HasPrefix(w[i].Val, "-") {
				i++
			}
		case "timeout":
			i++
			for i < len(w) && strings.HasPrefix(w[i].Val, "-") {
				i++
			}
			if i < len(w) {
				i++ // the duration
			}
		default:
			return i
		}
	}
	return -1
}

// Args returns the words after the command name (see Name).
func (c *Cmd) Args() []Word {
	i := c.NameIndex()
	if i < 0 {
		return nil
	}
	return c.Words[i+1:]
}

// base returns the last path element of a command name: /usr/bin/pip -> pip.
func base(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Base returns the last path element of a command name (/usr/bin/pip ->
// pip), so callers match commands however they were invoked.
func Base(s string) string { return base(s) }

// isAssign reports whether a word is NAME=value.
func isAssign(s string) bool {
	eq := strings.IndexByte(s, '=')
	if eq <= 0 {
		return false
	}
	for i := 0; i < eq; i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

var keywords = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "fi": true,
	"do": true, "done": true, "while": true, "until": true,
	"{": true, "}": true, "!": true, "esac": true,
}

// Parse splits script into simple commands, in order of appearance;
// commands nested in substitutions and `sh -c` follow the command that
// contains them.
func Parse(script string) []Cmd {
	p := &parser{}
	p.parse(script, 0, 0, true)
	return p.out
}

type parser struct {
	out   []Cmd
	words []Word // scratch for the current command
}

type pendingDoc struct {
	delim     string
	stripTabs bool
}

type nested struct {
	r     Range
	exact bool
}

// parse tokenizes s, whose offset 0 is offset off of the outer script.
func (p *parser) parse(s string, off, depth int, exact bool) {
	var (
		cur     Cmd
		docs    []pendingDoc
		subs    []nested
		redir   bool // the next word is a redirection target
		heredoc int  // 0: no; 1: next word is a here-doc delimiter; 2: same with <<-
	)
	cur.Depth, cur.Exact = depth, exact
	flush := func(op string) {
		if len(p.out) >= MaxCommands {
			return
		}
		words := p.words
		p.words = p.words[:0]
		i := 0
		for i < len(words) && isAssign(words[i].Val) {
			i++
		}
		assigns := words[:i]
		for i < len(words) && !words[i].Quoted && keywords[words[i].Val] {
			i++
		}
		if len(words) > i || len(cur.Heredocs) > 0 {
			c := cur
			c.Op = op
			if len(words) > i {
				c.Words = append([]Word(nil), words[i:]...)
			}
			if len(assigns) > 0 {
				c.Assigns = append([]Word(nil), assigns...)
			}
			p.out = append(p.out, c)
			if depth < MaxDepth {
				p.nestShC(&p.out[len(p.out)-1], s, off, depth)
			}
		}
		cur = Cmd{Depth: depth, Exact: exact}
		redir, heredoc = false, 0
		if depth < MaxDepth {
			for _, n := range subs {
				p.parse(s[n.r.Start:n.r.End], off+n.r.Start, depth+1, exact && n.exact)
			}
		}
		subs = subs[:0]
	}
	n := len(s)
	i := 0
	for i < n && len(p.out) < MaxCommands {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '\\' && i+1 < n && s[i+1] == '\n':
			i += 2
		case c == '\\' && i+2 < n && s[i+1] == '\r' && s[i+2] == '\n':
			i += 3
		case c == '#':
			for i < n && s[i] != '\n' {
				i++
			}
		case c == '\n':
			i++
			pending := docs
			docs = docs[:0]
			// Here-document bodies start on the next line; attach them to
			// the command that is being ended.
			for _, d := range pending {
				start := i
				end := n
				for i < n {
					ls := i
					le := strings.IndexByte(s[i:], '\n')
					var line string
					if le < 0 {
						line, i = s[i:], n
					} else {
						line, i = s[i:i+le], i+le+1
					}
					l := strings.TrimSuffix(line, "\r")
					if d.stripTabs {
						l = strings.TrimLeft(l, "\t")
					}
					if l == d.delim {
						end = ls
						break
					}
				}
				cur.Heredocs = append(cur.Heredocs, Range{off + start, off + end})
			}
			flush("\n")
		case c == ';' || c == '&' || c == '|':
			op := string(c)
			if i+1 < n && (s[i+1] == c || c == '|' && s[i+1] == '&' || c == ';' && s[i+1] == '&') {
				op = s[i : i+2]
				i++
			} else if c == '&' && i+1 < n && s[i+1] == '>' {
				// &> file: redirection of stdout and stderr
				i += 2
				if i < n && s[i] == '>' {
					i++
				}
				redir = true
				continue
			}
			i++
			flush(op)
		case c == '(' || c == ')':
			i++
			flush("")
		case (c == '<' || c == '>') && !(i+1 < n && s[i+1] == '('):
			i = p.redirect(s, i, &redir, &heredoc)
		default:
			w, next, wsubs := p.word(s, i, off)
			i = next
			if w.End == w.Start {
				i++ // an unexpected byte; skip it
				continue
			}
			// fd number directly before a redirection: 2>&1, 1>out
			if !w.Quoted && i < n && (s[i] == '<' || s[i] == '>') && allDigits(w.Val) {
				continue
			}
			if heredoc > 0 {
				docs = append(docs, pendingDoc{delim: w.Val, stripTabs: heredoc == 2})
				heredoc = 0
				redir = false
				continue
			}
			if redir {
				redir = false
				subs = append(subs, wsubs...)
				continue
			}
			subs = append(subs, wsubs...)
			if len(p.words) < MaxWords {
				p.words = append(p.words, w)
			}
		}
	}
	flush("")
}

// redirect consumes a redirection operator at s[i].
func (p *parser) redirect(s string, i int, redir *bool, heredoc *int) int {
	n := len(s)
	if s[i] == '<' && i+1 < n && s[i+1] == '<' {
		if i+2 < n && s[i+2] == '<' {
			*redir = true // here-string: the next word is data
			return i + 3
		}
		if i+2 < n && s[i+2] == '-' {
			*heredoc = 2
			return i + 3
		}
		*heredoc = 1
		return i + 2
	}
	i++
	for i < n && (s[i] == '>' || s[i] == '&' || s[i] == '|') {
		i++
	}
	// >&2 and <&0 name a descriptor, not a file; treat the digits as the
	// target word anyway.
	*redir = true
	return i
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

// word reads one word starting at s[i]. It returns the word (offsets
// shifted by off), the index after it and the substitutions inside it
// (offsets relative to s).
func (p *parser) word(s string, i, off int) (Word, int, []nested) {
	n := len(s)
	start := i
	var b strings.Builder
	plain := true // no quoting so far: Val is the raw slice
	quoted := false
	var subs []nested
	toBuilder := func() {
		if plain {
			b.WriteString(s[start:i])
			plain = false
		}
	}
loop:
	for i < n {
		c := s[i]
		switch c {
		case ' ', '\t', '\r', '\n', ';', '&', '|', ')':
			break loop
		case '(':
			if i == start {
				break loop
			}
			// "foo(" inside a word (e.g. python code without quotes):
			// keep it literal.
			if !plain {
				b.WriteByte(c)
			}
			i++
		case '<', '>':
			if i+1 < n && s[i+1] == '(' {
				// process substitution
				end := matchParen(s, i+2)
				subs = append(subs, nested{Range{i + 2, max(i+2, end-1)}, true})
				if !plain {
					b.WriteString(s[i:end])
				}
				i = end
				continue
			}
			break loop
		case '\\':
			toBuilder()
			quoted = true
			if i+1 < n {
				if s[i+1] != '\n' {
					b.WriteByte(s[i+1])
				}
				i += 2
			} else {
				i++
			}
		case '\'':
			toBuilder()
			quoted = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				b.WriteString(s[i+1:])
				i = n
			} else {
				b.WriteString(s[i+1 : i+1+j])
				i += j + 2
			}
		case '"':
			toBuilder()
			quoted = true
			i++
			for i < n && s[i] != '"' {
				switch {
				case s[i] == '\\' && i+1 < n:
					switch s[i+1] {
					case '"', '\\', '$', '`':
						b.WriteByte(s[i+1])
						i += 2
					case '\n':
						i += 2
					default:
						b.WriteByte('\\')
						i++
					}
				case s[i] == '$' && i+1 < n && s[i+1] == '(':
					end := matchParen(s, i+2)
					if !(i+2 < n && s[i+2] == '(') {
						subs = append(subs, nested{Range{i + 2, max(i+2, end-1)}, true})
					}
					b.WriteString(s[i:end])
					i = end
				case s[i] == '`':
					end := matchBacktick(s, i+1)
					subs = append(subs, nested{Range{i + 1, max(i+1, end-1)}, true})
					b.WriteString(s[i:end])
					i = end
				default:
					b.WriteByte(s[i])
					i++
				}
			}
			if i < n {
				i++ // closing quote
			}
		case '$':
			if i+1 < n && s[i+1] == '\'' {
				toBuilder()
				quoted = true
				i += 2
				for i < n && s[i] != '\'' {
					if s[i] == '\\' && i+1 < n {
						b.WriteByte(s[i+1])
						i += 2
						continue
					}
					b.WriteByte(s[i])
					i++
				}
				if i < n {
					i++
				}
				continue
			}
			if i+1 < n && (s[i+1] == '(' || s[i+1] == '{') {
				var end int
				if s[i+1] == '(' {
					end = matchParen(s, i+2)
					if !(i+2 < n && s[i+2] == '(') {
						subs = append(subs, nested{Range{i + 2, max(i+2, end-1)}, true})
					}
				} else {
					end = matchBrace(s, i+2)
				}
				if !plain {
					b.WriteString(s[i:end])
				}
				i = end
				continue
			}
			if !plain {
				b.WriteByte(c)
			}
			i++
		case '`':
			end := matchBacktick(s, i+1)
			subs = append(subs, nested{Range{i + 1, max(i+1, end-1)}, true})
			if !plain {
				b.WriteString(s[i:end])
			}
			i = end
		default:
			if !plain {
				b.WriteByte(c)
			}
			i++
		}
	}
	w := Word{Start: off + start, End: off + i, Quoted: quoted}
	if plain {
		w.Val = s[start:i]
	} else {
		w.Val = b.String()
	}
	return w, i, subs
}

// matchParen returns the index after the ')' closing a '(' whose contents
// start at i, skipping quoted text; len(s) when unclosed.
func matchParen(s string, i int) int {
	depth := 1
	n := len(s)
	for i < n {
		switch s[i] {
		case '\\':
			i++
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return n
			}
			i += j + 1
		case '"':
			i++
			for i < n && s[i] != '"' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return n
}

// matchBrace returns the index after the '}' closing ${ whose contents
// start at i; len(s) when unclosed.
func matchBrace(s string, i int) int {
	depth := 1
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}

// matchBacktick returns the index after the closing backquote.
func matchBacktick(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '`':
			return i + 1
		}
	}
	return len(s)
}

// shells are the interpreters whose -c argument is itself a shell script.
var shells = map[string]bool{"sh": true, "bash": true, "dash": true, "zsh": true, "ash": true, "ksh": true}

// nestShC parses the script of `sh -c 'script'` as nested commands.
func (p *parser) nestShC(c *Cmd, s string, off, depth int) {
	name, idx := c.Name()
	if !shells[base(name)] {
		return
	}
	args := c.Words[idx+1:]
	for k, a := range args {
		if !strings.HasPrefix(a.Val, "-") || a.Quoted {
			return
		}
		if strings.Contains(a.Val, "c") && k+1 < len(args) {
			w := args[k+1]
			raw := s[w.Start-off : w.End-off]
			start, exact := w.Start, false
			if len(raw) >= 2 && (raw[0] == '\'' || raw[0] == '"') && raw[len(raw)-1] == raw[0] &&
				raw[1:len(raw)-1] == w.Val {
				start, exact = w.Start+1, true
			}
			sub := &parser{}
			sub.parse(w.Val, start, depth+1, c.Exact && exact)
			room := MaxCommands - len(p.out)
			if len(sub.out) > room {
				sub.out = sub.out[:room]
			}
			p.out = append(p.out, sub.out...)
			return
		}
	}
}

// Package dockerfile parses Dockerfiles (and Containerfiles) into the
// stage graph, one stage per build stage, so the cross-format script rules
// of pipeline/practice (unhashed installs, `curl | sh`, unpinned model
// downloads) apply to RUN instructions too, and holds the
// Dockerfile-specific rules (root final user, network tools left in the
// image, secrets in ARG/ENV, unverified remote ADD).
//
// The parser follows the Dockerfile reference: parser directives (escape,
// syntax, check) at the top, comments, line continuations with the escape
// character (comment and empty lines inside a continuation are dropped),
// here-documents for RUN, COPY and ADD, JSON (exec) and shell forms,
// instruction flags (--mount, --network, --from, --checksum...),
// multi-stage builds and ARG substitution in FROM. It is bounded by the
// limits below, never executes anything and never panics.
package dockerfile

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/mlgate/mlgate/pipeline"
)

// Limits on what Parse accepts.
const (
	// MaxInstructions is the most instructions in one Dockerfile.
	MaxInstructions = 20000
	// MaxHeredocs is the most here-documents one instruction may open.
	MaxHeredocs = 64
	// MaxStages is the most build stages in one Dockerfile.
	MaxStages = 1000
)

// File is a parsed Dockerfile.
type File struct {
	// Directives are the parser directives at the top (lower-case keys).
	Directives map[string]string
	// Escape is the escape and line-continuation character: '\\' or '`'.
	Escape byte
	// Instructions are all instructions in source order.
	Instructions []*Instruction
	// Stages are the build stages in order; the last one is the image
	// that `docker build` produces by default.
	Stages []*BuildStage
	// Comments are the comment lines (and trailing shell comments of RUN
	// lines), trimmed, each starting with '#'.
	Comments []string
}

// Instruction is one Dockerfile instruction.
type Instruction struct {
	// Cmd is the upper-case keyword ("RUN", "FROM").
	Cmd string
	Pos pipeline.Pos
	// Flags are the --name=value options before the arguments.
	Flags []Flag
	// Args is the argument text with continuations joined and comment
	// lines inside them removed; heredoc bodies are not included.
	Args string
	// ArgsPos is where the arguments start in the source.
	ArgsPos pipeline.Pos
	// JSON holds the exec-form arguments (`["a", "b"]`), nil for the shell form.
	JSON []string
	// Heredocs are the here-documents the instruction opens.
	Heredocs []Heredoc

	rawStart, rawEnd int   // byte range of the raw arguments (without heredoc bodies)
	masked           []int // byte offsets of comment lines inside the continuation
	end              int   // byte offset after the instruction, heredocs included
}

// Flag is an instruction option such as --mount=type=secret,id=x.
type Flag struct {
	Name, Value string
	Pos         pipeline.Pos
}

// Heredoc is one here-document.
type Heredoc struct {
	Name string
	Body string
	// BodyPos is where the body starts; zero when the body is empty.
	BodyPos pipeline.Pos
	bodyOff int
	endOff  int // offset after the terminator line's content
}

// BuildStage is one FROM and the instructions that follow it.
type BuildStage struct {
	// Name is the stage's alias (lower case) or "stage-N".
	Name  string
	Alias string
	Index int
	// Image is the FROM reference after ARG substitution; "" when the
	// stage builds on an earlier stage (Parent) or on scratch.
	Image    string
	ImagePos pipeline.Pos
	// Parent is the earlier stage this one builds FROM, if any.
	Parent       *BuildStage
	From         *Instruction
	Instructions []*Instruction
}

// FlagValue returns the value of the first flag named name.
func (in *Instruction) FlagValue(name string) (string, bool) {
	for _, f := range in.Flags {
		if f.Name == name {
			return f.Value, true
		}
	}
	return "", false
}

var knownCmds = map[string]bool{
	"FROM": true, "RUN": true, "CMD": true, "LABEL": true, "MAINTAINER": true, "EXPOSE": true,
	"ENV": true, "ADD": true, "COPY": true, "ENTRYPOINT": true, "VOLUME": true, "USER": true,
	"WORKDIR": true, "ARG": true, "ONBUILD": true, "STOPSIGNAL": true, "HEALTHCHECK": true, "SHELL": true,
}

// lines indexes line starts for offset -> position.
type lines struct {
	src    string
	starts []int
}

func newLines(src string) *lines {
	l := &lines{src: src, starts: []int{0}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			l.starts = append(l.starts, i+1)
		}
	}
	return l
}

func (l *lines) pos(off int) pipeline.Pos {
	if off < 0 {
		off = 0
	}
	if off > len(l.src) {
		off = len(l.src)
	}
	i := sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > off }) - 1
	return pipeline.Pos{Line: i + 1, Column: utf8.RuneCountInString(l.src[l.starts[i]:off]) + 1}
}

// lineEnd returns the offset of the end of the line that starts at i (the
// '\n' or len).
func lineEnd(src string, i int) int {
	if j := strings.IndexByte(src[i:], '\n'); j >= 0 {
		return i + j
	}
	return len(src)
}

func trimCR(s string) string { return strings.TrimSuffix(s, "\r") }

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

// Parse parses a Dockerfile. Problems that make Docker reject the file (an
// unknown instruction, an instruction before the first FROM other than
// ARG, an unterminated here-document, no FROM at all) are returned as
// pipeline.SourceErrors, together with what could be parsed.
func Parse(file string, data []byte) (*File, error) {
	src := strings.TrimPrefix(string(data), "\uFEFF")
	bom := len(data) - len(src)
	_ = bom
	f := &File{Directives: map[string]string{}, Escape: '\\'}
	ln := newLines(src)
	var errs pipeline.SourceErrors
	errorf := func(off int, format string, a ...any) {
		if len(errs) >= 20 {
			return
		}
		p := ln.pos(off)
		errs = append(errs, &pipeline.SourceError{File: file, Line: p.Line, Column: p.Column, Msg: fmt.Sprintf(format, a...)})
	}

	i := 0
	// Parser directives.
	for i < len(src) {
		le := lineEnd(src, i)
		line := strings.TrimSpace(trimCR(src[i:le]))
		k, v, ok := directive(line)
		if !ok {
			break
		}
		if _, dup := f.Directives[k]; dup {
			break
		}
		f.Directives[k] = v
		f.Comments = append(f.Comments, line)
		i = le + 1
	}
	if e := f.Directives["escape"]; e == "`" {
		f.Escape = '`'
	}
	esc := f.Escape

	for i < len(src) && len(f.Instructions) < MaxInstructions {
		le := lineEnd(src, i)
		line := trimCR(src[i:le])
		trimmed := strings.TrimLeft(line, " \t")
		if strings.TrimSpace(trimmed) == "" {
			i = le + 1
			continue
		}
		if trimmed[0] == '#' {
			f.Comments = append(f.Comments, strings.TrimSpace(trimmed))
			i = le + 1
			continue
		}
		kwStart := i + len(line) - len(trimmed)
		kwEnd := kwStart
		for kwEnd < le && !isBlank(src[kwEnd]) {
			kwEnd++
		}
		in := &Instruction{Cmd: strings.ToUpper(src[kwStart:kwEnd]), Pos: ln.pos(kwStart)}
		// The logical line: follow continuations.
		end := le
		var joined strings.Builder
		seg := src[kwEnd:le]
		for {
			t := strings.TrimRight(trimCR(seg), " \t")
			if len(t) == 0 || t[len(t)-1] != esc || end >= len(src) {
				joined.WriteString(trimCR(seg))
				break
			}
			joined.WriteString(t[:len(t)-1])
			// Next physical line; comment and empty lines inside a
			// continuation are dropped.
			next := end + 1
			for next < len(src) {
				nle := lineEnd(src, next)
				nl := strings.TrimLeft(trimCR(src[next:nle]), " \t")
				if nl == "" || nl[0] == '#' {
					if nl != "" {
						f.Comments = append(f.Comments, strings.TrimSpace(nl))
					}
					in.masked = append(in.masked, next)
					next = nle + 1
					continue
				}
				break
			}
			if next >= len(src) {
				end = len(src)
				break
			}
			end = lineEnd(src, next)
			seg = src[next:end]
		}
		in.rawStart, in.rawEnd = kwEnd, end
		args := joined.String()
		// Flags.
		rest := strings.TrimLeft(args, " \t")
		argOff := kwEnd + skipRaw(src, kwEnd, end, esc)
		for strings.HasPrefix(rest, "--") && len(in.Flags) < 64 {
			w := rest
			if k := strings.IndexAny(w, " \t"); k >= 0 {
				w = w[:k]
			}
			name, val, _ := strings.Cut(w[2:], "=")
			in.Flags = append(in.Flags, Flag{Name: strings.ToLower(name), Value: val, Pos: ln.pos(argOff)})
			rest = strings.TrimLeft(rest[len(w):], " \t")
			argOff = skipWordRaw(src, argOff, end, esc)
		}
		in.Args = strings.TrimSpace(rest)
		in.ArgsPos = ln.pos(argOff)
		in.rawStart = argOff
		if strings.HasPrefix(in.Args, "[") {
			var xs []string
			if json.Unmarshal([]byte(in.Args), &xs) == nil {
				in.JSON = xs
			}
		}
		i = end + 1
		// Here-documents.
		if (in.Cmd == "RUN" || in.Cmd == "COPY" || in.Cmd == "ADD") && in.JSON == nil {
			for _, m := range heredocMarkers(in.Args) {
				if len(in.Heredocs) >= MaxHeredocs {
					break
				}
				h := Heredoc{Name: m.name, bodyOff: min(i, len(src))}
				found := false
				for i < len(src) {
					ble := lineEnd(src, i)
					l := trimCR(src[i:ble])
					if m.stripTabs {
						l = strings.TrimLeft(l, "\t")
					}
					if l == m.name {
						h.Body = src[h.bodyOff:i]
						h.endOff = ble
						i = ble + 1
						found = true
						break
					}
					i = ble + 1
				}
				if !found {
					errorf(kwStart, "%s here-document <<%s is not terminated", in.Cmd, m.name)
					h.Body = src[h.bodyOff:]
					h.endOff = len(src)
					i = len(src)
				}
				if h.Body != "" {
					h.BodyPos = ln.pos(h.bodyOff)
				}
				in.Heredocs = append(in.Heredocs, h)
			}
		}
		in.end = min(i, len(src))
		if in.Cmd == "RUN" && in.JSON == nil && len(in.Heredocs) == 0 && in.rawStart <= in.rawEnd {
			f.Comments = append(f.Comments, trailingComments(src[in.rawStart:in.rawEnd])...)
		}
		if !knownCmds[in.Cmd] {
			errorf(kwStart, "unknown instruction %q", truncate(src[kwStart:kwEnd], 40))
			continue
		}
		f.Instructions = append(f.Instructions, in)
	}
	if len(f.Instructions) >= MaxInstructions && i < len(src) {
		errorf(i, "more than %d instructions", MaxInstructions)
	}
	f.buildStages(file, ln, &errs)
	if len(errs) > 0 {
		return f, errs
	}
	return f, nil
}

// skipRaw returns how many bytes after off are blanks, continuations and
// masked lines, up to end.
func skipRaw(src string, off, end int, esc byte) int {
	i := off
	for i < end {
		c := src[i]
		switch {
		case isBlank(c):
			i++
		case c == esc && continuation(src, i):
			i = min(lineEnd(src, i)+1, end)
			// skip comment/empty lines
			for i < end {
				nle := lineEnd(src, i)
				nl := strings.TrimLeft(trimCR(src[i:nle]), " \t")
				if nl == "" || nl[0] == '#' {
					i = nle + 1
					continue
				}
				break
			}
		default:
			return i - off
		}
	}
	return min(i, end) - off
}

// continuation reports whether the escape character at src[i] ends its
// line (only blanks after it).
func continuation(src string, i int) bool {
	j := i + 1
	for j < len(src) && (src[j] == ' ' || src[j] == '\t' || src[j] == '\r') {
		j++
	}
	return j < len(src) && src[j] == '\n'
}

// skipWordRaw returns the offset of the next word after the word at off.
func skipWordRaw(src string, off, end int, esc byte) int {
	i := off
	for i < end && !isBlank(src[i]) && src[i] != '\n' {
		i++
	}
	return min(i+skipRaw(src, i, end, esc), end)
}

// directive parses a "# key=value" parser directive line.
func directive(line string) (string, string, bool) {
	if !strings.HasPrefix(line, "#") {
		return "", "", false
	}
	k, v, ok := strings.Cut(strings.TrimSpace(line[1:]), "=")
	if !ok {
		return "", "", false
	}
	k = strings.ToLower(strings.TrimSpace(k))
	switch k {
	case "syntax", "escape", "check":
		return k, strings.TrimSpace(v), true
	}
	return "", "", false
}

type marker struct {
	name      string
	stripTabs bool
}

// heredocMarkers finds <<EOF, <<-EOF, <<"EOF" and <<'EOF' in args,
// outside quotes.
func heredocMarkers(args string) []marker {
	var out []marker
	var q byte
	for i := 0; i < len(args) && len(out) < MaxHeredocs; i++ {
		c := args[i]
		if q != 0 {
			if c == q {
				q = 0
			}
			continue
		}
		if c == '\'' || c == '"' {
			q = c
			continue
		}
		if c != '<' || i+1 >= len(args) || args[i+1] != '<' {
			continue
		}
		j := i + 2
		if j < len(args) && args[j] == '<' {
			i = j // here-string
			continue
		}
		m := marker{}
		if j < len(args) && args[j] == '-' {
			m.stripTabs = true
			j++
		}
		var quote byte
		if j < len(args) && (args[j] == '"' || args[j] == '\'') {
			quote = args[j]
			j++
		}
		k := j
		for k < len(args) && (args[k] == '_' || args[k] >= 'a' && args[k] <= 'z' || args[k] >= 'A' && args[k] <= 'Z' || k > j && args[k] >= '0' && args[k] <= '9') {
			k++
		}
		if k == j {
			continue
		}
		m.name = args[j:k]
		if quote != 0 && k < len(args) && args[k] == quote {
			k++
		}
		out = append(out, m)
		i = k - 1
	}
	return out
}

// trailingComments returns the shell comments at the end of the lines of a
// RUN instruction's raw text ("# mlgate: ignore[...]" after a command).
func trailingComments(raw string) []string {
	var out []string
	for _, line := range strings.Split(raw, "\n") {
		if !strings.Contains(line, "#") || strings.HasPrefix(strings.TrimLeft(line, " \t"), "#") {
			continue // no comment, or a whole-line comment recorded already
		}
		var q byte
		for i := 0; i < len(line); i++ {
			c := line[i]
			if q != 0 {
				if c == '\\' && q == '"' {
					i++
				} else if c == q {
					q = 0
				}
				continue
			}
			if c == '\'' || c == '"' {
				q = c
				continue
			}
			if c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
				out = append(out, strings.TrimSpace(trimCR(line[i:])))
				break
			}
		}
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// buildStages groups instructions into build stages and resolves FROM.
func (f *File) buildStages(file string, ln *lines, errs *pipeline.SourceErrors) {
	global := map[string]string{}
	byAlias := map[string]*BuildStage{}
	var cur *BuildStage
	for _, in := range f.Instructions {
		if in.Cmd == "FROM" {
			if len(f.Stages) >= MaxStages {
				*errs = append(*errs, &pipeline.SourceError{File: file, Line: in.Pos.Line, Column: in.Pos.Column,
					Msg: fmt.Sprintf("more than %d build stages", MaxStages)})
				return
			}
			fields := strings.Fields(in.Args)
			st := &BuildStage{Index: len(f.Stages), From: in}
			if len(fields) >= 3 && strings.EqualFold(fields[len(fields)-2], "as") {
				st.Alias = strings.ToLower(fields[len(fields)-1])
			}
			ref := ""
			if len(fields) > 0 {
				ref = substitute(fields[0], global)
			}
			st.ImagePos = in.ArgsPos
			if parent, ok := byAlias[strings.ToLower(ref)]; ok {
				st.Parent = parent
			} else if !strings.EqualFold(ref, "scratch") {
				st.Image = ref
			}
			st.Name = st.Alias
			if st.Name == "" {
				st.Name = fmt.Sprintf("stage-%d", st.Index)
			}
			if st.Alias != "" {
				byAlias[st.Alias] = st
			}
			f.Stages = append(f.Stages, st)
			cur = st
			continue
		}
		if cur == nil {
			if in.Cmd == "ARG" {
				for _, a := range argDecls(in.Args) {
					if a.hasDefault {
						global[a.name] = substitute(a.value, global)
					} else if _, ok := global[a.name]; !ok {
						global[a.name] = "\x00" // declared without a default: unresolvable
					}
				}
				continue
			}
			*errs = append(*errs, &pipeline.SourceError{File: file, Line: in.Pos.Line, Column: in.Pos.Column,
				Msg: in.Cmd + " before the first FROM (only ARG may come before FROM)"})
			continue
		}
		cur.Instructions = append(cur.Instructions, in)
	}
	if len(f.Stages) == 0 && len(*errs) == 0 {
		*errs = append(*errs, &pipeline.SourceError{File: file, Line: 1, Column: 1, Msg: "no FROM instruction"})
	}
}

type argDecl struct {
	name, value string
	hasDefault  bool
}

// argDecls parses "ARG a=1 b" (one or more declarations).
func argDecls(args string) []argDecl {
	var out []argDecl
	for _, w := range splitWords(args) {
		name, val, ok := strings.Cut(w, "=")
		if name == "" {
			continue
		}
		out = append(out, argDecl{name: name, value: unquote(val), hasDefault: ok})
	}
	return out
}

// splitWords splits on blanks outside quotes, keeping the quotes.
func splitWords(s string) []string {
	var out []string
	var q byte
	start := -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if q != 0 {
			if c == '\\' && q == '"' {
				i++
			} else if c == q {
				q = 0
			}
			continue
		}
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
		if c == '"' || c == '\'' {
			q = c
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

// unquote removes one level of surrounding quotes.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// substitute expands $NAME, ${NAME} and ${NAME:-default} from the global
// ARGs; unknown or default-less names are left as written.
func substitute(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		var name, def, raw string
		hasDef := false
		if s[i+1] == '{' {
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				break
			}
			raw = s[i : i+end+1]
			inner := s[i+2 : i+end]
			if k := strings.Index(inner, ":-"); k >= 0 {
				name, def, hasDef = inner[:k], inner[k+2:], true
			} else {
				name = inner
			}
			i += end
		} else {
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			name, raw = s[i+1:j], s[i:j]
			i = j - 1
		}
		if v, ok := vars[name]; ok && v != "\x00" && v != "" {
			b.WriteString(v)
		} else if hasDef {
			b.WriteString(def)
		} else {
			b.WriteString(raw)
		}
	}
	return b.String()
}

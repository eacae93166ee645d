// Package yamlsrc holds what every YAML-based pipeline adapter needs to read
// hostile input safely and with positions: a text check that keeps line
// numbers honest, a decoder that never panics and bounds documents and
// aliases, comment collection for suppressions, and small node helpers.
package yamlsrc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlgate/mlgate/pipeline"
	"go.yaml.in/yaml/v3"
)

// AliasBudget bounds the extra nodes a reader may visit through YAML
// aliases, so "billion laughs" documents cannot blow up.
const AliasBudget = 100_000

// MaxDocuments bounds the documents in one multi-document file.
const MaxDocuments = 10_000

// CheckText rejects bytes that YAML forbids or that make line numbers
// ambiguous, with their position: invalid UTF-8, control characters other
// than tab, LF and CR, a CR not followed by LF, the Unicode line and
// paragraph separators and NEL (YAML parsers count these as line breaks,
// editors and diff tools do not, so findings and suppressions would land on
// the wrong lines), and a byte-order mark anywhere but at the start.
func CheckText(file string, src []byte) *pipeline.SourceError {
	line, col := 1, 1
	for i := 0; i < len(src); {
		c := src[i]
		if c >= 0x20 && c < 0x7f { // fast path: printable ASCII
			col++
			i++
			continue
		}
		r, size := utf8.DecodeRune(src[i:])
		msg := ""
		switch {
		case r == utf8.RuneError && size <= 1:
			msg = fmt.Sprintf("invalid UTF-8 byte 0x%02x", src[i])
		case r == '\r' && (i+1 >= len(src) || src[i+1] != '\n'):
			msg = "carriage return without line feed: use \\n or \\r\\n line endings"
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r', r == 0x7f, r >= 0x80 && r < 0xa0 && r != 0x85:
			msg = fmt.Sprintf("control character U+%04X is not allowed", r)
		case r == 0x85 || r == 0x2028 || r == 0x2029:
			msg = fmt.Sprintf("line separator U+%04X is not supported: YAML counts it as a line break and editors do not", r)
		case r == 0xfeff && i > 0:
			msg = "byte-order mark (U+FEFF) inside the file"
		}
		if msg != "" {
			return &pipeline.SourceError{File: file, Line: line, Column: col, Msg: msg}
		}
		if r == '\n' {
			line, col = line+1, 1
		} else if r != '\r' {
			col++
		}
		i += size
	}
	return nil
}

// Error converts a yaml.v3 error ("yaml: line N: msg") to a positioned
// error.
func Error(file string, e error) *pipeline.SourceError {
	msg := strings.TrimPrefix(e.Error(), "yaml: ")
	line := 0
	if strings.HasPrefix(msg, "line ") {
		rest := msg[len("line "):]
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line = n
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	col := 0
	if line > 0 {
		col = 1
	}
	return &pipeline.SourceError{File: file, Line: line, Column: col, Msg: "invalid YAML: " + msg}
}

// Decode checks src with CheckText and decodes every YAML document in it,
// recovering from parser panics. Empty documents are dropped. Files larger
// than pipeline.MaxSourceSize or with more than MaxDocuments documents are
// refused. Files in the common subset of YAML that pipelines use are read
// by a fast parser that builds the same trees (see fast.go); the others by
// yaml.v3.
func Decode(file string, src []byte) (docs []*yaml.Node, err error) {
	if len(src) > pipeline.MaxSourceSize {
		return nil, pipeline.SourceErrors{{File: file, Msg: fmt.Sprintf("file is larger than the %d MiB limit", pipeline.MaxSourceSize>>20)}}
	}
	if e := CheckText(file, src); e != nil {
		return nil, pipeline.SourceErrors{e}
	}
	if fast, comments, ok := fastDecode(src); ok {
		for _, doc := range fast {
			if docs, err = keepDocument(file, docs, doc); err != nil {
				return nil, err
			}
		}
		// Comments are kept as text, all on the first document: they
		// only serve to tell real comments from look-alikes inside
		// strings (Comments), for the whole file.
		if len(docs) > 0 {
			docs[0].HeadComment = strings.Join(comments, "\n")
		}
		return docs, nil
	}
	return decodeV3(file, src)
}

// decodeV3 decodes src with yaml.v3.
func decodeV3(file string, src []byte) (docs []*yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			docs, err = nil, pipeline.SourceErrors{{File: file, Msg: fmt.Sprintf("YAML parser failed: %v", r)}}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(src))
	for {
		var doc yaml.Node
		e := dec.Decode(&doc)
		if errors.Is(e, io.EOF) {
			return docs, nil
		}
		if e != nil {
			return nil, pipeline.SourceErrors{Error(file, e)}
		}
		if docs, err = keepDocument(file, docs, &doc); err != nil {
			return nil, err
		}
	}
}

// keepDocument appends doc to docs unless it is empty, and enforces
// MaxDocuments.
func keepDocument(file string, docs []*yaml.Node, doc *yaml.Node) ([]*yaml.Node, error) {
	if len(doc.Content) == 0 || doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" {
		return docs, nil
	}
	if len(docs) == MaxDocuments {
		return nil, pipeline.SourceErrors{{File: file, Line: doc.Line, Column: doc.Column, Msg: fmt.Sprintf("more than %d YAML documents in one file", MaxDocuments)}}
	}
	return append(docs, doc), nil
}

// Comments returns every comment line of a document, trimmed, without
// following aliases: what config.FilterSuppressions needs to honour only
// real comments.
func Comments(n *yaml.Node) []string {
	var out []string
	stack := []*yaml.Node{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, c := range []string{x.HeadComment, x.LineComment, x.FootComment} {
			if c == "" {
				continue
			}
			for _, line := range strings.Split(c, "\n") {
				if line = strings.TrimSpace(line); strings.HasPrefix(line, "#") {
					out = append(out, line)
				}
			}
		}
		stack = append(stack, x.Content...)
	}
	return out
}

// CountNodes counts the nodes of a document without following aliases.
func CountNodes(n *yaml.Node) int {
	count := 0
	stack := []*yaml.Node{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		count++
		stack = append(stack, x.Content...)
	}
	return count
}

// Budget bounds the work of walking a document through aliases. Create it
// with NewBudget(doc) and pass every node through Resolve before reading it.
type Budget struct {
	left int
	// Exceeded is set once the budget ran out; readers should stop and
	// report ErrBudget.
	Exceeded bool
}

// NewBudget allows a few visits per node of the document plus AliasBudget.
func NewBudget(doc *yaml.Node) *Budget {
	return &Budget{left: 4*CountNodes(doc) + AliasBudget}
}

// ErrBudgetMsg is the message for a document whose aliases expand too far.
var ErrBudgetMsg = fmt.Sprintf("YAML aliases expand beyond the limit of %d extra nodes", AliasBudget)

// Resolve follows aliases and charges one unit; it returns nil once the
// budget is exhausted or for an alias chain deeper than 100.
func (b *Budget) Resolve(n *yaml.Node) *yaml.Node {
	if n == nil {
		return nil
	}
	b.left--
	if b.left < 0 {
		b.Exceeded = true
		return nil
	}
	for depth := 0; n != nil && n.Kind == yaml.AliasNode; depth++ {
		if depth > 100 {
			return nil
		}
		n = n.Alias
	}
	return n
}

// Pos returns a node's position.
func Pos(n *yaml.Node) pipeline.Pos {
	if n == nil {
		return pipeline.Pos{}
	}
	return pipeline.Pos{Line: n.Line, Column: n.Column}
}

// Get returns the value node for key in mapping m (aliases of m resolved by
// the caller), or nil. Merge keys are not expanded.
func Get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// GetKey is Get that also returns the key node (for positions).
func GetKey(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			return k, m.Content[i+1]
		}
	}
	return nil, nil
}

// KindName describes a node for error messages: "a mapping", "a list",
// "null", `a str ("abc")`.
func KindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		v := n.Value
		if len(v) > 40 {
			v = v[:40] + "..."
		}
		return "a " + strings.TrimPrefix(n.ShortTag(), "!!") + " (" + strconv.Quote(v) + ")"
	}
	return "an unsupported node"
}

// Lines indexes the line starts of a source once, so positions inside
// scalars can be computed in constant time per lookup.
type Lines struct {
	src    []byte
	starts []int // starts[i] is the offset of line i+1
}

// NewLines indexes src.
func NewLines(src []byte) *Lines {
	starts := make([]int, 1, 64+len(src)/32)
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &Lines{src: src, starts: starts}
}

// Line returns 1-based line l without its line break, or nil past the end.
func (x *Lines) Line(l int) []byte {
	if l < 1 || l > len(x.starts) {
		return nil
	}
	start := x.starts[l-1]
	end := len(x.src)
	if l < len(x.starts) {
		end = x.starts[l] - 1
	}
	if start > end {
		return nil
	}
	return bytes.TrimRight(x.src[start:end], "\r")
}

// TextStart returns where a scalar's text begins, and whether its line
// breaks are the source's own (pipeline.Step.RunLiteral). For a literal
// block scalar (`|`) that is the first content line, at the block's
// indentation; for a plain or quoted single-line scalar it is the node's
// position (after the opening quote); folded and multi-line quoted scalars
// are not literal.
func (x *Lines) TextStart(n *yaml.Node) (pipeline.Pos, bool) {
	p := Pos(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Line <= 0 {
		return p, false
	}
	// A tag or anchor before the value (`!!str x`, `&a "x"`) is where the
	// node's position points; the text starts after them.
	if n.Anchor != "" || n.Style&yaml.TaggedStyle != 0 {
		p.Column = x.skipProperties(n.Line, n.Column)
	}
	switch {
	case n.Style&yaml.LiteralStyle != 0:
		// Leading empty lines are part of the value; the block's
		// indentation is given by an indentation indicator (`|2`) or is
		// that of its first non-blank line.
		if ind := x.indentIndicator(n.Line, p.Column); ind > 0 {
			return pipeline.Pos{Line: n.Line + 1, Column: x.parentIndent(n.Line) + ind + 1}, true
		}
		lead := len(n.Value) - len(strings.TrimLeft(n.Value, "\n"))
		for l := n.Line + 1; l <= len(x.starts) && l <= n.Line+1+lead+1; l++ {
			line := x.Line(l)
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			indent := len(line) - len(bytes.TrimLeft(line, " "))
			return pipeline.Pos{Line: n.Line + 1, Column: indent + 1}, true
		}
		return pipeline.Pos{Line: n.Line + 1, Column: p.Column}, true
	case n.Style&yaml.FoldedStyle != 0:
		return pipeline.Pos{Line: n.Line + 1, Column: p.Column}, false
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
		start := pipeline.Pos{Line: n.Line, Column: p.Column + 1}
		return start, x.verbatimAt(start, n.Value)
	}
	return p, x.verbatimAt(p, n.Value)
}

// verbatimAt reports whether value appears exactly as written at pos, on
// one line: then offsets in it map to columns. A plain scalar folded over
// several lines, or a quoted one with escapes, does not.
func (x *Lines) verbatimAt(pos pipeline.Pos, value string) bool {
	if strings.ContainsAny(value, "\n\r") {
		return false
	}
	line := x.Line(pos.Line)
	i := byteIndex(line, pos.Column)
	return i <= len(line) && bytes.HasPrefix(line[i:], []byte(value))
}

// byteIndex converts a 1-based character column of line to a byte index.
func byteIndex(line []byte, col int) int {
	i := 0
	for c := 1; c < col && i < len(line); c++ {
		_, size := utf8.DecodeRune(line[i:])
		i += size
	}
	return i
}

// skipProperties returns the column after the tag and anchor tokens that
// start at col on line l.
func (x *Lines) skipProperties(l, col int) int {
	line := x.Line(l)
	i := byteIndex(line, col)
	start := i
	for i < len(line) && (line[i] == '!' || line[i] == '&') {
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
	}
	return col + utf8.RuneCount(line[start:i])
}

// indentIndicator returns the digit of a block scalar header (`|2`, `|-2`,
// `|2+`) at col on line l, or 0.
func (x *Lines) indentIndicator(l, col int) int {
	line := x.Line(l)
	i := byteIndex(line, col)
	if i >= len(line) || line[i] != '|' {
		return 0
	}
	for j := i + 1; j < len(line) && j <= i+2; j++ {
		if c := line[j]; c >= '1' && c <= '9' {
			return int(c - '0')
		}
	}
	return 0
}

// parentIndent is the indentation of the node that holds a block scalar
// whose header is on line l: leading spaces, plus any "- " sequence-entry
// markers before the key.
func (x *Lines) parentIndent(l int) int {
	line := x.Line(l)
	i := 0
	for {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i+1 < len(line) && line[i] == '-' && line[i+1] == ' ' {
			i += 2
			continue
		}
		return i
	}
}

// Lookup returns the value of key in mapping m, both resolved through the
// budget; nil when m is not a mapping or has no such key.
func (b *Budget) Lookup(m *yaml.Node, key string) *yaml.Node {
	m = b.Resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	return b.Resolve(Get(m, key))
}

// Str returns the scalar value of key in m, or "".
func (b *Budget) Str(m *yaml.Node, key string) string {
	n := b.Lookup(m, key)
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// Pairs returns the key/value pairs of a mapping with scalar keys, both
// resolved; pairs whose alias ran out of budget are dropped.
func (b *Budget) Pairs(m *yaml.Node) [][2]*yaml.Node {
	m = b.Resolve(m)
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	out := make([][2]*yaml.Node, 0, len(m.Content)/2)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := b.Resolve(m.Content[i])
		v := b.Resolve(m.Content[i+1])
		if k == nil || v == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		out = append(out, [2]*yaml.Node{k, v})
	}
	return out
}

// Items returns a sequence's items, resolved.
func (b *Budget) Items(n *yaml.Node) []*yaml.Node {
	n = b.Resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]*yaml.Node, 0, len(n.Content))
	for _, c := range n.Content {
		if c = b.Resolve(c); c != nil {
			out = append(out, c)
		}
	}
	return out
}

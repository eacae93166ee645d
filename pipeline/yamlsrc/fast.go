package yamlsrc

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// The fast path. Pipeline files are overwhelmingly written in a small part
// of YAML: block mappings and sequences indented with spaces, plain and
// quoted scalars (folded over several lines too), literal and folded block
// scalars, one-line flow collections and comments. fastDecode parses
// exactly that part, one line at a time, into the same yaml.Node trees
// yaml.v3 builds (kinds, styles, resolved tags, values, lines and columns;
// comments are kept as text, all of them, not attached where yaml.v3 would
// put them: only yamlsrc.Comments reads them). On anything else — anchors,
// aliases, tags, directives, tabs in indentation, multi-line flow
// collections, explicit indentation indicators, keep chomping, folded
// scalars with more-indented lines, implicit keys past YAML's length
// limit, malformed input — it gives up and Decode uses yaml.v3 on the
// whole file, so the result never depends on which parser ran. A
// differential test over the corpora and a differential fuzz target hold
// the two parsers to the same trees.
//
// It exists for speed: yaml.v3 reads a character at a time through three
// buffers and was a third of the CPU time of `mlgate pipeline` on real
// workflows.

// errFallback is the panic value that abandons the fast path.
type errFallback struct{}

func fallback() {
	if fallbackHook != nil {
		fallbackHook()
	}
	panic(errFallback{})
}

// fallbackHook, when set (by tests), is called each time the fast path
// gives up.
var fallbackHook func()

// maxFastDepth bounds nesting on the fast path; deeper documents go to
// yaml.v3, which has its own limits.
const maxFastDepth = 100

type fastLine struct {
	start, end int // byte offsets of the line's text, without the newline
	indent     int // leading spaces
	blank      bool
	comment    bool // only a comment after the indentation
}

type fastParser struct {
	src      []byte
	lines    []fastLine
	ascii    bool
	li       int // current line
	depth    int
	comments []string
	noEOL    bool // the last line has no newline
	slab     []yaml.Node
	// The last column computed: line, byte offset, column.
	colLine, colOff, colCol int
}

// alloc returns a new node with n's fields, from a slab: a workflow has
// hundreds of nodes, and allocating them one by one was a fifth of the
// parse.
func (p *fastParser) alloc(n yaml.Node) *yaml.Node {
	if len(p.slab) == cap(p.slab) {
		p.slab = make([]yaml.Node, 0, 64)
	}
	p.slab = append(p.slab, n)
	return &p.slab[len(p.slab)-1]
}

// fastDecode parses src (already checked by CheckText) into its documents
// and every comment in it, or reports ok=false when src is outside the
// fast path's subset.
func fastDecode(src []byte) (docs []*yaml.Node, comments []string, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			if _, is := r.(errFallback); !is {
				panic(r)
			}
			docs, comments, ok = nil, nil, false
		}
	}()
	p := &fastParser{src: src, ascii: true, colLine: -1}
	p.split()
	for {
		d, cs, more := p.document()
		if d != nil {
			docs = append(docs, d)
		}
		comments = append(comments, cs...)
		if !more {
			return docs, comments, true
		}
	}
}

// split indexes the lines, refusing what the fast path does not handle
// anywhere: carriage returns, a byte-order mark, directives.
func (p *fastParser) split() {
	src := p.src
	p.noEOL = len(src) > 0 && src[len(src)-1] != '\n'
	for i := 0; i < len(src); {
		j := i
		for j < len(src) && src[j] != '\n' {
			c := src[j]
			if c == '\r' {
				fallback()
			}
			if c >= utf8.RuneSelf {
				p.ascii = false
			}
			j++
		}
		l := fastLine{start: i, end: j}
		k := i
		for k < j && src[k] == ' ' {
			k++
		}
		l.indent = k - i
		switch {
		case k == j:
			l.blank = true
		case src[k] == '#':
			l.comment = true
		case src[k] == '\t':
			fallback()
		}
		if l.indent == 0 && !l.blank && (src[i] == '%' || src[i] == '\xef') {
			fallback()
		}
		p.lines = append(p.lines, l)
		i = j + 1
	}
}

// text returns line l's bytes.
func (p *fastParser) text(l int) []byte { return p.src[p.lines[l].start:p.lines[l].end] }

// col is the 1-based column, in characters, of byte offset off of line l.
func (p *fastParser) col(l, off int) int {
	if p.ascii {
		return off + 1
	}
	// Count from the last column asked for on this line when possible:
	// nodes on one line come left to right, and counting from the line's
	// start each time would be quadratic on a long one-line flow
	// collection.
	from, col := 0, 1
	if p.colLine == l && p.colOff <= off {
		from, col = p.colOff, p.colCol
	}
	col += utf8.RuneCount(p.text(l)[from:off])
	p.colLine, p.colOff, p.colCol = l, off, col
	return col
}

// isDocMarker reports whether line l is "---" or "..." (optionally with a
// comment or more after a space).
func (p *fastParser) docMarker(l int) byte {
	t := p.text(l)
	if len(t) >= 3 && (string(t[:3]) == "---" || string(t[:3]) == "...") && (len(t) == 3 || t[3] == ' ' || t[3] == '\t') {
		return t[0]
	}
	return 0
}

// skip moves past blank and comment lines, collecting the comments, and
// returns the next content line or -1.
func (p *fastParser) skip() int {
	for p.li < len(p.lines) {
		l := p.lines[p.li]
		if l.comment {
			p.addComment(p.src[l.start+l.indent : l.end])
		} else if !l.blank {
			return p.li
		}
		p.li++
	}
	return -1
}

func (p *fastParser) addComment(b []byte) {
	p.comments = append(p.comments, strings.TrimRight(string(b), " \t"))
}

// document parses one document; more reports whether another follows.
func (p *fastParser) document() (doc *yaml.Node, comments []string, more bool) {
	p.comments = nil
	l := p.skip()
	if l < 0 {
		return nil, nil, false
	}
	marker := -1
	if m := p.docMarker(l); m != 0 {
		marker = l
		if m == '.' {
			fallback()
		}
		rest := p.text(l)[3:]
		if r := trimSpace(rest); len(r) > 0 {
			if r[0] != '#' {
				fallback() // content on the marker line
			}
			p.addComment(r)
		}
		p.li++
		l = p.skip()
		if l < 0 || p.docMarker(l) != 0 {
			// An empty document: yaml.v3 yields no content, Decode drops it.
			return nil, p.comments, l >= 0
		}
	}
	if p.lines[l].indent != 0 && p.atBlockCollection(l, p.lines[l].indent) == 0 {
		fallback() // an indented root scalar
	}
	n := p.blockNode(l, -1)
	if l := p.skip(); l >= 0 {
		if p.docMarker(l) != '-' {
			fallback() // trailing content, or "..."
		}
		more = true
	}
	doc = &yaml.Node{Kind: yaml.DocumentNode, Line: n.Line, Column: n.Column, Content: []*yaml.Node{n}}
	if marker >= 0 {
		// An explicit document starts at its marker.
		doc.Line, doc.Column = marker+1, 1
	}
	return doc, p.comments, more
}

// atBlockCollection says what starts at byte offset off of line l: 's' a
// block sequence entry, 'm' a block mapping key, 0 anything else.
func (p *fastParser) atBlockCollection(l, off int) byte {
	t := p.text(l)[off:]
	if len(t) > 0 && t[0] == '-' && (len(t) == 1 || t[1] == ' ') {
		return 's'
	}
	if _, _, ok := p.keyEnd(t); ok {
		return 'm'
	}
	return 0
}

// enter and leave bracket a nested collection; past maxFastDepth the fast
// path gives up.
func (p *fastParser) enter() {
	p.depth++
	if p.depth > maxFastDepth {
		fallback()
	}
}

func (p *fastParser) leave() { p.depth-- }

// blockNode parses the node whose first line is l (a content line) at its
// indentation, in a parent indented parent columns.
func (p *fastParser) blockNode(l, parent int) *yaml.Node {
	p.enter()
	defer p.leave()
	ind := p.lines[l].indent
	switch p.atBlockCollection(l, ind) {
	case 's':
		return p.sequence(l, ind, ind)
	case 'm':
		return p.mapping(l, ind, ind)
	}
	p.li = l
	return p.inline(l, ind, parent)
}

// sequence parses a block sequence whose entries start at column ind; the
// first entry is on line l at byte offset first (first > ind inside
// "- - x").
func (p *fastParser) sequence(l, first, ind int) *yaml.Node {
	seq := p.alloc(yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: l + 1, Column: p.col(l, first)})
	dash := first
	for {
		t := p.text(l)
		if dash == first && l+1 == seq.Line {
			// The first entry may follow another indicator on its line.
		} else if p.lines[l].indent != ind {
			fallback()
		}
		if t[dash] != '-' || (len(t) > dash+1 && t[dash+1] != ' ') {
			fallback()
		}
		off := dash + 1
		for off < len(t) && t[off] == ' ' {
			off++
		}
		if off < len(t) && t[off] == '\t' {
			fallback()
		}
		var item *yaml.Node
		if off == len(t) || t[off] == '#' {
			if off < len(t) {
				p.addComment(t[off:])
			}
			p.li = l + 1
			item = p.child(ind, false, l, ind+1)
		} else {
			switch p.atBlockCollection(l, off) {
			case 's':
				p.enter()
				item = p.sequence(l, off, off)
				p.leave()
			case 'm':
				p.enter()
				item = p.mapping(l, off, off)
				p.leave()
			default:
				p.li = l
				item = p.inline(l, off, ind)
			}
		}
		seq.Content = append(seq.Content, item)
		dash = ind
		l = p.skip()
		if l < 0 || p.lines[l].indent < ind || p.docMarker(l) != 0 {
			return seq
		}
		if p.lines[l].indent > ind || p.atBlockCollection(l, ind) != 's' {
			if p.lines[l].indent == ind {
				return seq // a mapping key after a sequence at its key's indentation
			}
			fallback()
		}
	}
}

// mapping parses a block mapping whose keys start at column ind; the first
// key is on line l at byte offset off (off > ind inside "- key: value").
func (p *fastParser) mapping(l, off, ind int) *yaml.Node {
	m := p.alloc(yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: l + 1, Column: p.col(l, off)})
	for {
		t := p.text(l)
		rawEnd, colon, ok := p.keyEnd(t[off:])
		if !ok {
			fallback()
		}
		key := p.scalarAt(l, off, t[off:off+rawEnd], true)
		if key.Style == 0 && key.Value == "<<" {
			fallback() // merge keys
		}
		colon += off
		v := colon + 1
		for v < len(t) && t[v] == ' ' {
			v++
		}
		if v < len(t) && t[v] == '\t' {
			fallback()
		}
		var val *yaml.Node
		if v == len(t) || t[v] == '#' {
			if v < len(t) {
				p.addComment(t[v:])
			}
			p.li = l + 1
			val = p.child(ind, true, l, colon+1)
		} else {
			p.li = l
			val = p.inline(l, v, ind)
		}
		m.Content = append(m.Content, key, val)
		l = p.skip()
		if l < 0 || p.lines[l].indent < ind || p.docMarker(l) != 0 {
			return m
		}
		if p.lines[l].indent > ind {
			fallback()
		}
		off = ind
	}
}

// child parses the value of a key or sequence entry that has nothing after
// its indicator on line l: a block node on the following lines, indented
// more than parent (or, for a mapping value, a sequence at the key's
// indentation), or an empty null scalar just after the indicator (byte
// offset at).
func (p *fastParser) child(parent int, mapValue bool, l, at int) *yaml.Node {
	save := p.li
	n := p.skip()
	if n >= 0 && p.docMarker(n) == 0 {
		ind := p.lines[n].indent
		if ind > parent {
			return p.blockNode(n, parent)
		}
		if mapValue && ind == parent && p.atBlockCollection(n, ind) == 's' {
			p.enter()
			s := p.sequence(n, ind, ind)
			p.leave()
			return s
		}
	}
	// Comments after an empty value belong to whatever follows; rewind so
	// the caller's skip collects them once.
	p.comments = p.comments[:len(p.comments)-p.countComments(save, n)]
	p.li = save
	return p.alloc(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: l + 1, Column: p.col(l, at)})
}

// countComments counts comment lines in [from, to) (to -1: to the end).
func (p *fastParser) countComments(from, to int) int {
	if to < 0 {
		to = len(p.lines)
	}
	n := 0
	for i := from; i < to; i++ {
		if p.lines[i].comment {
			n++
		}
	}
	return n
}

// inline parses the scalar or flow collection starting at byte offset off
// of line l, in a block parent indented parent columns, and leaves p.li on
// the line after it.
func (p *fastParser) inline(l, off, parent int) *yaml.Node {
	t := p.text(l)
	switch t[off] {
	case '|', '>':
		return p.blockScalar(l, off, parent)
	case '[', '{':
		fp := flowParser{p: p, l: l, t: t, i: off}
		n := fp.node(0)
		p.trailer(l, t, fp.i)
		return n
	case '"', '\'':
		end := quotedEnd(t, off)
		if end < 0 {
			return p.quotedLines(l, off, parent)
		}
		n := p.scalarAt(l, off, t[off:end], false)
		p.trailer(l, t, end)
		return n
	}
	// A plain scalar: the rest of the line up to a comment.
	end := len(t)
	for i := off + 1; i < len(t); i++ {
		if t[i] == '#' && (t[i-1] == ' ' || t[i-1] == '\t') {
			end = i
			break
		}
	}
	text := trimSpace(t[off:end])
	n := p.scalarAt(l, off, text, false)
	if end < len(t) {
		p.addComment(t[end:])
	}
	p.li = l + 1
	// More indented lines that are not comments continue a plain scalar:
	// each line break folds to a space, k empty lines to k newlines.
	var value []byte
	empty := 0
	for i := l + 1; i < len(p.lines); i++ {
		x := p.lines[i]
		if x.blank {
			empty++
			continue
		}
		if x.comment || x.indent <= parent || p.docMarker(i) != 0 {
			break
		}
		if end < len(t) {
			fallback() // nothing may follow a comment
		}
		seg := trimSpace(p.text(i)[x.indent:])
		for j, c := range seg {
			if c == '\t' || c == ':' && (j+1 == len(seg) || seg[j+1] == ' ') || c == '#' && j > 0 && seg[j-1] == ' ' {
				fallback()
			}
		}
		if value == nil {
			value = append(value, text...)
		}
		if empty == 0 {
			value = append(value, ' ')
		}
		for ; empty > 0; empty-- {
			value = append(value, '\n')
		}
		value = append(value, seg...)
		p.li = i + 1
	}
	if value != nil {
		n.Value = string(value)
		n.Tag = resolvePlain(n.Value)
	}
	return n
}

// quotedLines parses a quoted scalar that opens at byte offset off of line
// l and closes on a later line. Line breaks fold as YAML says: a break
// becomes a space, k empty lines become k newlines, whitespace around
// breaks goes, and in double quotes a backslash before the break joins
// the lines. Continuation lines must be indented more than parent.
func (p *fastParser) quotedLines(l, off, parent int) *yaml.Node {
	t := p.text(l)
	q := t[off]
	n := p.alloc(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Line: l + 1, Column: p.col(l, off), Style: yaml.SingleQuotedStyle})
	if q == '"' {
		n.Style = yaml.DoubleQuotedStyle
	}
	var b []byte
	line, start := l, off+1
	for {
		seg := p.text(line)[start:]
		if end := closeQuote(seg, q); end >= 0 {
			b = appendQuoted(b, seg[:end], q)
			p.trailer(line, p.text(line), start+end+1)
			n.Value = string(b)
			return n
		}
		escaped := q == '"' && oddBackslashes(seg)
		if escaped {
			seg = seg[:len(seg)-1]
		} else {
			seg = trimRightSpace(p.text(line)[start:])
			if q == '"' && oddBackslashes(seg) {
				fallback() // an escaped space or tab before the break
			}
		}
		b = appendQuoted(b, seg, q)
		empty := 0
		next := line + 1
		for next < len(p.lines) && p.lines[next].blank {
			if p.lines[next].end > p.lines[next].start {
				fallback() // whitespace-only lines
			}
			empty++
			next++
		}
		if next == len(p.lines) || p.lines[next].indent <= parent || p.docMarker(next) != 0 {
			fallback()
		}
		switch {
		case escaped:
			if empty > 0 {
				fallback()
			}
		case empty == 0:
			b = append(b, ' ')
		default:
			for ; empty > 0; empty-- {
				b = append(b, '\n')
			}
		}
		line, start = next, p.lines[next].indent
	}
}

// closeQuote returns the offset of the quote closing a scalar in seg (the
// text after the opening quote or a line break), or -1.
func closeQuote(seg []byte, q byte) int {
	for i := 0; i < len(seg); i++ {
		switch {
		case q == '"' && seg[i] == '\\':
			i++
		case seg[i] == q:
			if q == '\'' && i+1 < len(seg) && seg[i+1] == '\'' {
				i++
				continue
			}
			return i
		}
	}
	return -1
}

// appendQuoted decodes the inside of a quoted scalar's line.
func appendQuoted(b, seg []byte, q byte) []byte {
	if q == '\'' {
		return append(b, strings.ReplaceAll(string(seg), "''", "'")...)
	}
	return append(b, unescapeDouble(seg)...)
}

func oddBackslashes(seg []byte) bool {
	n := 0
	for i := len(seg) - 1; i >= 0 && seg[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func trimRightSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// trailer checks that only spaces and a comment follow byte offset i on
// line l, and moves to the next line.
func (p *fastParser) trailer(l int, t []byte, i int) {
	r := t[i:]
	for len(r) > 0 && r[0] == ' ' {
		r = r[1:]
	}
	if len(r) > 0 {
		if r[0] != '#' || len(r) == len(t[i:]) {
			fallback()
		}
		p.addComment(r)
	}
	p.li = l + 1
}

// maxKeyBytes is where the fast path stops trusting an implicit key: YAML
// limits them to 1,024 characters (yaml.v3 counts to the colon), and bytes
// are at least characters.
const maxKeyBytes = 1000

// keyEnd recognises an implicit key at the start of t, a plain key or a
// one-line quoted key: rawEnd is the end of the key's text (trailing
// spaces excluded), colon the offset of the colon after it.
func (p *fastParser) keyEnd(t []byte) (rawEnd, colon int, ok bool) {
	if len(t) == 0 {
		return 0, 0, false
	}
	switch t[0] {
	case '"', '\'':
		end := quotedEnd(t, 0)
		if end < 0 {
			return 0, 0, false
		}
		i := end
		for i < len(t) && t[i] == ' ' {
			i++
		}
		if i < len(t) && t[i] == ':' && (i+1 == len(t) || t[i+1] == ' ') {
			if i > maxKeyBytes {
				fallback()
			}
			return end, i, true
		}
		return 0, 0, false
	}
	if !plainStart(t) {
		return 0, 0, false
	}
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case ':':
			if i+1 == len(t) || t[i+1] == ' ' {
				if i > maxKeyBytes {
					fallback()
				}
				return len(trimSpace(t[:i])), i, true
			}
			if t[i+1] == '\t' {
				fallback()
			}
		case '#':
			if i > 0 && (t[i-1] == ' ' || t[i-1] == '\t') {
				return 0, 0, false
			}
		}
	}
	return 0, 0, false
}

// plainStart reports whether a plain scalar may start t (in block context).
func plainStart(t []byte) bool {
	switch t[0] {
	case '-', '?', ':':
		return len(t) > 1 && t[1] != ' ' && t[1] != '\t'
	case ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	return true
}

// quotedEnd returns the offset just after the quoted scalar opening at
// t[i], or -1 when it does not close on this line.
func quotedEnd(t []byte, i int) int {
	q := t[i]
	for j := i + 1; j < len(t); j++ {
		switch {
		case q == '\'' && t[j] == '\'':
			if j+1 < len(t) && t[j+1] == '\'' {
				j++
				continue
			}
			return j + 1
		case q == '"' && t[j] == '\\':
			j++
		case q == '"' && t[j] == '"':
			return j + 1
		}
	}
	return -1
}

// scalarAt builds the scalar node for raw (a plain, single- or
// double-quoted scalar's source text) at byte offset off of line l.
func (p *fastParser) scalarAt(l, off int, raw []byte, key bool) *yaml.Node {
	if len(raw) == 0 {
		fallback()
	}
	n := p.alloc(yaml.Node{Kind: yaml.ScalarNode, Line: l + 1, Column: p.col(l, off)})
	switch raw[0] {
	case '\'':
		n.Style, n.Tag = yaml.SingleQuotedStyle, "!!str"
		n.Value = strings.ReplaceAll(string(raw[1:len(raw)-1]), "''", "'")
	case '"':
		n.Style, n.Tag = yaml.DoubleQuotedStyle, "!!str"
		n.Value = unescapeDouble(raw[1 : len(raw)-1])
	default:
		if !plainStart(raw) {
			fallback()
		}
		for _, c := range raw {
			if c == '\t' {
				fallback()
			}
		}
		if !key {
			for i, c := range raw {
				if c == ':' && (i+1 == len(raw) || raw[i+1] == ' ') {
					fallback() // a mapping where a scalar was expected
				}
			}
		}
		n.Value = string(raw)
		n.Tag = resolvePlain(n.Value)
	}
	return n
}

// unescapeDouble decodes the escapes of a one-line double-quoted scalar.
func unescapeDouble(b []byte) string {
	i := 0
	for i < len(b) && b[i] != '\\' {
		i++
	}
	if i == len(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	out = append(out, b[:i]...)
	for ; i < len(b); i++ {
		c := b[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(b) {
			fallback()
		}
		switch b[i] {
		case '0':
			out = append(out, 0)
		case 'a':
			out = append(out, '\a')
		case 'b':
			out = append(out, '\b')
		case 't', '\t':
			out = append(out, '\t')
		case 'n':
			out = append(out, '\n')
		case 'v':
			out = append(out, '\v')
		case 'f':
			out = append(out, '\f')
		case 'r':
			out = append(out, '\r')
		case 'e':
			out = append(out, 0x1b)
		case ' ', '"', '\'', '\\': // yaml.v3 has no \/ escape
			out = append(out, b[i])
		case 'N':
			out = utf8.AppendRune(out, 0x85)
		case '_':
			out = utf8.AppendRune(out, 0xa0)
		case 'L':
			out = utf8.AppendRune(out, 0x2028)
		case 'P':
			out = utf8.AppendRune(out, 0x2029)
		case 'x', 'u', 'U':
			w := 2
			if b[i] == 'u' {
				w = 4
			} else if b[i] == 'U' {
				w = 8
			}
			if i+1+w > len(b) {
				fallback()
			}
			v, err := strconv.ParseUint(string(b[i+1:i+1+w]), 16, 32)
			if err != nil || v > utf8.MaxRune || (v >= 0xd800 && v <= 0xdfff) {
				fallback()
			}
			out = utf8.AppendRune(out, rune(v))
			i += w
		default:
			fallback()
		}
	}
	return string(out)
}

// blockScalar parses a literal (|) or folded (>) scalar whose indicator is
// at byte offset off of line l, in a block parent indented parent columns.
func (p *fastParser) blockScalar(l, off, parent int) *yaml.Node {
	t := p.text(l)
	n := p.alloc(yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Line: l + 1, Column: p.col(l, off)})
	folded := t[off] == '>'
	if folded {
		n.Style = yaml.FoldedStyle
	} else {
		n.Style = yaml.LiteralStyle
	}
	strip := false
	i := off + 1
	if i < len(t) && t[i] == '-' {
		strip = true
		i++
	}
	if i < len(t) && t[i] != ' ' {
		fallback() // keep chomping, indentation indicators
	}
	p.trailer(l, t, i)
	if parent < 0 {
		fallback()
	}
	// The content indentation is that of the first non-empty line.
	first := -1
	for k := l + 1; k < len(p.lines); k++ {
		if !p.lines[k].blank {
			first = k
			break
		}
		if p.lines[k].end-p.lines[k].start > 0 {
			fallback() // leading lines of spaces: their width matters
		}
	}
	var body []string
	last := l
	if first >= 0 && p.lines[first].indent > parent {
		ind := p.lines[first].indent
		if first > l+1 {
			fallback() // leading empty lines
		}
		for k := first; k < len(p.lines); k++ {
			x := p.lines[k]
			if x.blank {
				if x.end-x.start > ind {
					fallback() // spaces beyond the indentation are content
				}
				body = append(body, "")
				continue
			}
			if x.indent < ind {
				break
			}
			s := string(p.src[x.start+ind : x.end])
			if folded && (s[0] == ' ' || s[0] == '\t') {
				fallback() // more-indented lines keep their breaks
			}
			body = append(body, s)
			last = k
		}
		body = body[:last-first+1]
	}
	p.li = last + 1
	if len(body) == 0 {
		return n
	}
	if p.noEOL && last == len(p.lines)-1 {
		fallback() // without a final newline, chomping differs
	}
	if folded {
		var b strings.Builder
		b.WriteString(body[0])
		empty := 0
		for _, s := range body[1:] {
			if s == "" {
				empty++
				continue
			}
			if empty == 0 {
				b.WriteByte(' ')
			}
			for ; empty > 0; empty-- {
				b.WriteByte('\n')
			}
			b.WriteString(s)
		}
		n.Value = b.String()
	} else {
		n.Value = strings.Join(body, "\n")
	}
	if !strip {
		n.Value += "\n"
	}
	return n
}

// flowParser parses a one-line flow collection.
type flowParser struct {
	p *fastParser
	l int
	t []byte
	i int
}

func (f *flowParser) spaces() {
	for f.i < len(f.t) && f.t[f.i] == ' ' {
		f.i++
	}
	if f.i == len(f.t) {
		fallback() // continues on the next line
	}
	if f.t[f.i] == '\t' || f.t[f.i] == '#' {
		fallback()
	}
}

// node parses a flow node at f.i.
func (f *flowParser) node(depth int) *yaml.Node {
	if depth > maxFastDepth {
		fallback()
	}
	c := f.t[f.i]
	switch c {
	case '[', '{':
		n := f.p.alloc(yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle, Line: f.l + 1, Column: f.p.col(f.l, f.i)})
		closer := byte(']')
		if c == '{' {
			n.Kind, n.Tag, closer = yaml.MappingNode, "!!map", '}'
		}
		f.i++
		f.spaces()
		if f.t[f.i] == closer {
			f.i++
			return n
		}
		for {
			keyStart := f.i
			item := f.node(depth + 1)
			f.spaces()
			if c == '{' {
				if f.t[f.i] != ':' || f.i+1 >= len(f.t) || f.t[f.i+1] != ' ' || f.i-keyStart > maxKeyBytes {
					fallback()
				}
				f.i++
				f.spaces()
				n.Content = append(n.Content, item, f.node(depth+1))
				f.spaces()
			} else {
				if f.t[f.i] == ':' {
					fallback() // a single-pair mapping inside a sequence
				}
				n.Content = append(n.Content, item)
			}
			switch f.t[f.i] {
			case closer:
				f.i++
				return n
			case ',':
				f.i++
				f.spaces()
				if f.t[f.i] == ']' || f.t[f.i] == '}' || f.t[f.i] == ',' {
					fallback()
				}
			default:
				fallback()
			}
		}
	case '"', '\'':
		end := quotedEnd(f.t, f.i)
		if end < 0 {
			fallback()
		}
		n := f.p.scalarAt(f.l, f.i, f.t[f.i:end], true)
		f.i = end
		return n
	}
	start := f.i
	for f.i < len(f.t) {
		switch f.t[f.i] {
		case ',', '[', ']', '{', '}', '#', '\t', '?':
			// '?' ends a plain scalar in flow context (yaml.v3); what
			// follows it is then not a ',' or closer, so it falls back.
			goto done
		case ':':
			if f.i+1 < len(f.t) && f.t[f.i+1] == ' ' {
				goto done
			}
			fallback() // "a:b" inside flow collections differs between YAML versions
		}
		f.i++
	}
done:
	if f.i == len(f.t) {
		fallback()
	}
	raw := trimSpace(f.t[start:f.i])
	if len(raw) == 0 || f.t[f.i] == '#' {
		fallback()
	}
	// In flow context '?' and ':' are indicators whatever follows them.
	if !plainStart(raw) || raw[0] == '?' || raw[0] == ':' {
		fallback()
	}
	return f.p.scalarAt(f.l, start, raw, true)
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// resolvePlain returns the tag yaml.v3 resolves an untagged plain scalar
// to (YAML 1.2 core schema with yaml.v3's additions: base prefixes,
// underscores in numbers, timestamps).
func resolvePlain(v string) string {
	switch v {
	case "", "~", "null", "Null", "NULL":
		return "!!null"
	case "true", "True", "TRUE", "false", "False", "FALSE":
		return "!!bool"
	case "<<":
		return "!!merge"
	case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return "!!float"
	}
	switch c := v[0]; {
	case c == '.':
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return "!!float"
		}
		return "!!str"
	case c == '+' || c == '-' || c >= '0' && c <= '9':
	default:
		return "!!str"
	}
	if isTimestamp(v) {
		return "!!timestamp"
	}
	plain := strings.ReplaceAll(v, "_", "")
	if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
		return "!!int"
	}
	if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
		return "!!int"
	}
	if floatSyntax.MatchString(plain) {
		if _, err := strconv.ParseFloat(plain, 64); err == nil {
			return "!!float"
		}
	}
	for _, pre := range []struct {
		prefix string
		base   int
	}{{"0b", 2}, {"-0b", 2}, {"0o", 8}, {"-0o", 8}} {
		if rest, ok := strings.CutPrefix(plain, pre.prefix); ok {
			if pre.prefix[0] == '-' {
				if _, err := strconv.ParseInt("-"+rest, pre.base, 64); err == nil {
					return "!!int"
				}
				continue
			}
			if _, err := strconv.ParseInt(rest, pre.base, 64); err == nil {
				return "!!int"
			}
			if _, err := strconv.ParseUint(rest, pre.base, 64); err == nil {
				return "!!int"
			}
		}
	}
	return "!!str"
}

var floatSyntax = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// timestampLayouts are the forms yaml.v3 accepts for !!timestamp.
var timestampLayouts = []string{
	"2006-1-2T15:4:5.999999999Z07:00",
	"2006-1-2t15:4:5.999999999Z07:00",
	"2006-1-2 15:4:5.999999999",
	"2006-1-2",
}

func isTimestamp(v string) bool {
	i := 0
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if i != 4 || i == len(v) || v[i] != '-' {
		return false
	}
	for _, layout := range timestampLayouts {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}
	return false
}

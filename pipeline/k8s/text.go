package k8s

import (
	"unicode/utf8"

	"github.com/mlgate/mlgate/pipeline"
	"go.yaml.in/yaml/v3"
)

// Text indexes a YAML source so that byte offsets inside a decoded scalar
// value can be mapped back to the line and column that produced them, also
// for double-quoted, single-quoted and plain scalars whose line breaks were
// folded or escaped (the form the KFP compiler writes its bootstraps in).
type Text struct {
	src    []byte
	starts []int
}

// NewText indexes src.
func NewText(src []byte) *Text {
	starts := make([]int, 1, 64+len(src)/40)
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return &Text{src: src, starts: starts}
}

// offset converts a 1-based line and rune column to a byte offset, or -1.
func (t *Text) offset(line, col int) int {
	if line < 1 || line > len(t.starts) || col < 1 {
		return -1
	}
	i := t.starts[line-1]
	for c := 1; c < col; c++ {
		if i >= len(t.src) || t.src[i] == '\n' {
			return -1
		}
		_, size := utf8.DecodeRune(t.src[i:])
		i += size
	}
	return i
}

// maxLocate bounds the source bytes Locate walks.
const maxLocate = 8 << 20

// Locate returns the source position of byte off of scalar n's decoded
// value. Block scalars and unknown styles fall back to the first content
// line; the result is zero when n has no position.
func (t *Text) Locate(n *yaml.Node, off int) pipeline.Pos {
	if n == nil || n.Kind != yaml.ScalarNode || n.Line <= 0 {
		return pipeline.Pos{}
	}
	start := pipeline.Pos{Line: n.Line, Column: n.Column}
	if off >= len(n.Value) && len(n.Value) > 0 {
		off = len(n.Value) - 1
	}
	if off < 0 {
		off = 0
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return t.locateBlock(n, off)
	}
	i := t.offset(n.Line, n.Column)
	if i < 0 {
		return start
	}
	line, col := n.Line, n.Column
	// Skip a tag (!!str, !x) and an anchor (&a) written before the value.
	for k := 0; k < 4 && i < len(t.src) && (t.src[i] == '!' || t.src[i] == '&'); k++ {
		for i < len(t.src) && t.src[i] != ' ' && t.src[i] != '\t' && t.src[i] != '\n' && t.src[i] != '\r' {
			i++
			col++
		}
		for i < len(t.src) && (t.src[i] == ' ' || t.src[i] == '\t' || t.src[i] == '\n' || t.src[i] == '\r') {
			if t.src[i] == '\n' {
				line, col = line+1, 0
			}
			i++
			col++
		}
	}
	var quote byte
	if n.Style&yaml.DoubleQuotedStyle != 0 {
		quote = '"'
	} else if n.Style&yaml.SingleQuotedStyle != 0 {
		quote = '\''
	}
	adv := func(k int) { // advance k bytes on the current line
		for j := 0; j < k && i < len(t.src); {
			_, size := utf8.DecodeRune(t.src[i:])
			i += size
			j += size
			col++
		}
	}
	if quote != 0 {
		adv(1)
	}
	out := 0
	limit := i + maxLocate
	for i < len(t.src) && i < limit {
		c := t.src[i]
		here := pipeline.Pos{Line: line, Column: col}
		switch {
		case quote != 0 && c == quote:
			if quote == '\'' && i+1 < len(t.src) && t.src[i+1] == '\'' {
				if out >= off {
					return here
				}
				out++
				adv(2)
				continue
			}
			return here // closing quote: off is at the end
		case quote == '"' && c == '\\':
			if i+1 >= len(t.src) {
				return here
			}
			e := t.src[i+1]
			if e == '\n' || e == '\r' { // escaped line break: no output
				i++
				if t.src[i] == '\r' {
					i++
				}
				i++
				line, col = line+1, 1
				for i < len(t.src) && (t.src[i] == ' ' || t.src[i] == '\t') {
					i++
					col++
				}
				continue
			}
			n, w := escapeLen(e, t.src[i+2:])
			if out+n > off {
				return here
			}
			out += n
			adv(w)
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			// A run of blanks: kept unless it ends the line.
			j := i
			for j < len(t.src) && (t.src[j] == ' ' || t.src[j] == '\t') {
				j++
			}
			if j < len(t.src) && (t.src[j] == '\n' || t.src[j] == '\r') {
				// Fold: count empty lines that follow.
				empty := 0
				for {
					if j < len(t.src) && t.src[j] == '\r' {
						j++
					}
					if j >= len(t.src) || t.src[j] != '\n' {
						break
					}
					j++
					line, col = line+1, 1
					k := j
					for k < len(t.src) && (t.src[k] == ' ' || t.src[k] == '\t') {
						k++
					}
					col += k - j
					j = k
					if j < len(t.src) && (t.src[j] == '\n' || t.src[j] == '\r') {
						empty++
						continue
					}
					break
				}
				produced := empty
				if produced == 0 {
					produced = 1
				}
				if out+produced > off {
					return here
				}
				out += produced
				i = j
				continue
			}
			if out+(j-i) > off {
				return pipeline.Pos{Line: line, Column: col + off - out}
			}
			out += j - i
			col += j - i
			i = j
			continue
		}
		_, size := utf8.DecodeRune(t.src[i:])
		if out+size > off {
			return here
		}
		out += size
		adv(size)
	}
	return start
}

// escapeLen returns how many decoded bytes a double-quoted escape \e
// yields and how many source bytes it spans; hex is what follows e.
func escapeLen(e byte, hex []byte) (decoded, width int) {
	digits := 0
	switch e {
	case 'x':
		digits = 2
	case 'u':
		digits = 4
	case 'U':
		digits = 8
	case 'N', '_':
		return 2, 2 // U+0085, U+00A0
	case 'L', 'P':
		return 3, 2 // U+2028, U+2029
	default:
		return 1, 2
	}
	if len(hex) < digits {
		return 1, 2
	}
	var r rune
	for _, c := range hex[:digits] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 1, 2
		}
	}
	n := utf8.RuneLen(r)
	if n < 0 {
		n = 3 // invalid runes decode to U+FFFD
	}
	return n, 2 + digits
}

// locateBlock maps an offset inside a literal or folded block scalar. For
// literal blocks it is exact; folded blocks map to the line of the
// nearest preceding source line break, which is exact at line starts.
func (t *Text) locateBlock(n *yaml.Node, off int) pipeline.Pos {
	v := n.Value
	if off > len(v) {
		off = len(v)
	}
	first := n.Line + 1
	// The block's indentation is the source indentation of its first
	// non-blank line minus the spaces the value keeps at its start (an
	// explicit indentation indicator lets content start with spaces).
	lead := 0
	for lead < len(v) && v[lead] == '\n' {
		lead++
	}
	keep := 0
	for lead+keep < len(v) && v[lead+keep] == ' ' {
		keep++
	}
	indent := -1
	if l := first + lead; l <= len(t.starts) {
		s := t.starts[l-1]
		k := s
		for k < len(t.src) && t.src[k] == ' ' {
			k++
		}
		indent = k - s - keep
	}
	if indent < 0 {
		return pipeline.Pos{Line: first, Column: 1}
	}
	nl, last := 0, -1
	for i := 0; i < off; i++ {
		if v[i] == '\n' {
			nl++
			last = i
		}
	}
	if n.Style&yaml.FoldedStyle != 0 {
		return pipeline.Pos{Line: first + nl, Column: indent + 1}
	}
	return pipeline.Pos{Line: first + nl, Column: indent + 1 + utf8.RuneCountInString(v[last+1:off])}
}

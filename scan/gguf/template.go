package gguf

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// templatePattern is a substring that marks a chat template as an attempt
// to reach Python internals from Jinja2.
type templatePattern struct {
	s string
	// attr: only a match if the next byte starts an identifier (so the
	// prose "the user's request." is not an attribute access).
	attr bool
}

// templatePatterns are matched case-sensitively against the whole template
// text, inside and outside Jinja delimiters.
var templatePatterns = []templatePattern{
	// Python attributes that lead from any object to classes, modules,
	// functions' globals and the builtins.
	{s: "__class__"}, {s: "__mro__"}, {s: "__base__"}, {s: "__bases__"},
	{s: "__subclasses__"}, {s: "__globals__"}, {s: "__builtins__"},
	{s: "__init__"}, {s: "__import__"}, {s: "__getattribute__"},
	{s: "__dict__"}, {s: "__code__"}, {s: "__func__"}, {s: "__self__"},
	// Jinja2 globals whose functions carry __globals__.
	{s: "lipsum"}, {s: "cycler"}, {s: "joiner"}, {s: "namespace.__"},
	// Flask globals probed by generic SSTI payloads.
	{s: "config.", attr: true}, {s: "request.", attr: true},
	// The template's own internals.
	{s: "self._TemplateReference"},
	// Code execution spelled out.
	{s: "os.popen"}, {s: "subprocess"}, {s: "eval("}, {s: "exec("},
	// Underscores escaped in a string literal, to build dunder names
	// that the patterns above cannot see ('\x5f\x5fclass\x5f\x5f').
	{s: `\x5f`}, {s: `\x5F`}, {s: `\u005f`}, {s: `\u005F`},
	{s: `\U0000005f`}, {s: `\U0000005F`}, {s: `\137`}, {s: `\N{`},
}

// attrPattern names the |attr(...) filter, matched separately because
// Jinja allows whitespace around its parts.
const attrPattern = "|attr("

// overlap is how much of the previous chunk the scanner keeps: enough for
// the longest pattern plus one byte and some excerpt context.
const overlap = 128

type templateHit struct {
	pattern string // quoted pattern
	pos     int64  // byte offset in the template text
	excerpt string // quoted text around the match
}

// templateScanner finds the first occurrence of each pattern in a template
// fed to it in chunks, holding only the chunk and a short tail.
type templateScanner struct {
	buf       []byte // tail of earlier text, then the current chunk
	base      int64  // template offset of buf[0]
	found     []bool // per templatePatterns
	attrFound bool
	attrState int
	hits      []templateHit
}

func (s *templateScanner) reset() {
	s.buf = s.buf[:0]
	s.base = 0
	if s.found == nil {
		s.found = make([]bool, len(templatePatterns))
	}
	clear(s.found)
	s.attrFound = false
	s.attrState = 0
	s.hits = s.hits[:0]
}

func (s *templateScanner) hit(pattern string, i int) {
	lo := max(i-40, 0)
	hi := min(i+80, len(s.buf))
	ex, _ := escape(s.buf[lo:hi], 118)
	s.hits = append(s.hits, templateHit{
		pattern: strconv.Quote(pattern),
		pos:     s.base + int64(i),
		excerpt: `"` + ex + `"`,
	})
}

// feed scans the next chunk of template text.
func (s *templateScanner) feed(chunk []byte) {
	tail := len(s.buf)
	s.buf = append(s.buf, chunk...)
	for k, pat := range templatePatterns {
		if s.found[k] {
			continue
		}
		for from := 0; ; {
			i := bytes.Index(s.buf[from:], []byte(pat.s))
			if i < 0 {
				break
			}
			i += from
			if pat.attr {
				j := i + len(pat.s)
				if j == len(s.buf) {
					break // decided with the next chunk (the tail keeps it)
				}
				if c := s.buf[j]; !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
					from = i + 1
					continue
				}
			}
			s.found[k] = true
			s.hit(pat.s, i)
			break
		}
	}
	// |attr( with any whitespace (or non-ASCII bytes, conservatively)
	// between its parts.
	for i := tail; i < len(s.buf) && !s.attrFound; i++ {
		c := s.buf[i]
		space := c <= ' ' || c >= 0x7f
		switch {
		case c == '|':
			s.attrState = 1
		case s.attrState == 1 && space:
		case s.attrState == 1 && c == 'a':
			s.attrState = 2
		case s.attrState == 2 && c == 't', s.attrState == 3 && c == 't', s.attrState == 4 && c == 'r':
			s.attrState++
		case s.attrState == 5 && space:
		case s.attrState == 5 && c == '(':
			s.attrFound = true
			s.hit(attrPattern, i)
		default:
			s.attrState = 0
		}
	}
	if n := len(s.buf); n > overlap {
		copy(s.buf, s.buf[n-overlap:])
		s.buf = s.buf[:overlap]
		s.base += int64(n - overlap)
	}
}

// escape renders b for a message: control and format characters and
// invalid UTF-8 are escaped, and the result is cut to at most limit bytes.
func escape(b []byte, limit int) (out string, cut bool) {
	var w []byte
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		var e string
		switch {
		case r == utf8.RuneError && n <= 1:
			e = fmt.Sprintf(`\x%02x`, b[0])
		case r == '\n':
			e = `\n`
		case r == '\r':
			e = `\r`
		case r == '\t':
			e = `\t`
		case r == '"':
			e = `\"`
		case r == '\\':
			e = `\\`
		case r < 0x20 || r == 0x7f:
			e = fmt.Sprintf(`\x%02x`, r)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029':
			e = fmt.Sprintf(`\u%04x`, r)
		default:
			e = string(b[:n])
		}
		if len(w)+len(e) > limit {
			return string(w), true
		}
		w = append(w, e...)
		b = b[n:]
	}
	return string(w), false
}

// quote quotes b for a message, escaped and cut to about limit bytes.
func quote(b []byte, limit int) string {
	s, cut := escape(b, limit)
	if cut {
		return `"` + s + `"...`
	}
	return `"` + s + `"`
}

// quoteString is quote for a string.
func quoteString(s string, limit int) string {
	if len(s) > 4*limit+8 {
		s = s[:4*limit+8]
	}
	return quote([]byte(s), limit)
}

// clip cuts s to at most n bytes.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/mlgate/mlgate/finding"
)

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
)

var severityColor = map[finding.Severity]string{
	finding.Critical: "\x1b[1;35m",
	finding.High:     "\x1b[1;31m",
	finding.Medium:   "\x1b[33m",
	finding.Low:      "\x1b[36m",
	finding.Info:     "\x1b[2m",
}

// maxShownLine is how much of a source line text output shows.
const maxShownLine = 160

// WriteText renders a report for people: findings grouped by file in source
// order, each with the offending source line and a caret where there is one,
// then input errors, then the counts per severity. Everything that comes from
// the analyzed input is escaped, so a hostile file cannot inject terminal
// control sequences.
func WriteText(w io.Writer, r *Report, opts Options) error {
	_, err := writeText(w, r, opts)
	return err
}

// writeText is WriteText; it also returns how many bytes of source lines it
// decoded, which tests use to check that the cost stays linear.
func writeText(w io.Writer, r *Report, opts Options) (int, error) {
	bw := bufio.NewWriter(w)
	var cur lineCursor
	c := func(code, s string) string {
		if !opts.Color {
			return s
		}
		return code + s + ansiReset
	}
	fs := append([]finding.Finding(nil), r.Findings...)
	finding.Sort(fs)
	file := "\x00"
	for _, f := range fs {
		if f.Location.File != file {
			if file != "\x00" {
				fmt.Fprintln(bw)
			}
			file = f.Location.File
			name := file
			if name == "" {
				name = "(no file)"
			}
			fmt.Fprintln(bw, c(ansiBold, Sanitize(name)))
		}
		pos := ""
		if f.Location.Line > 0 {
			pos = strconv.Itoa(f.Location.Line)
			if f.Location.Column > 0 {
				pos += ":" + strconv.Itoa(f.Location.Column)
			}
		}
		sev := fmt.Sprintf("%-8s", f.Severity.String())
		fmt.Fprintf(bw, "  %-7s %s %s", pos, c(severityColor[f.Severity], sev), f.RuleID)
		if f.Location.Logical != "" {
			fmt.Fprintf(bw, "  %s", c(ansiDim, "("+Sanitize(f.Location.Logical)+")"))
		}
		fmt.Fprintln(bw)
		fmt.Fprintf(bw, "      %s\n", Sanitize(f.Message))
		if opts.Source != nil && f.Location.Line > 0 {
			lines := opts.Source(f.Location.File)
			if f.Location.Line <= len(lines) {
				writeSourceLine(bw, &cur, f.Location.File, lines[f.Location.Line-1], f.Location.Line, f.Location.Column, c)
			}
		}
		if f.Evidence != "" {
			fmt.Fprintf(bw, "      %s %s\n", c(ansiDim, "evidence:"), Sanitize(f.Evidence))
		}
		if f.Remediation != "" {
			fmt.Fprintf(bw, "      %s %s\n", c(ansiDim, "fix:"), Sanitize(f.Remediation))
		}
	}
	var errs []Input
	for _, in := range r.Inputs {
		if in.Status == StatusError {
			errs = append(errs, in)
		}
	}
	if len(errs) > 0 {
		if len(fs) > 0 {
			fmt.Fprintln(bw)
		}
		fmt.Fprintln(bw, c(severityColor[finding.High], "Inputs that could not be analyzed:"))
		for _, in := range errs {
			fmt.Fprintf(bw, "  %s (%s)\n", Sanitize(in.Path), in.Format)
			for _, line := range strings.Split(in.Error, "\n") {
				fmt.Fprintf(bw, "      %s\n", Sanitize(line))
			}
		}
	}
	if len(fs) > 0 || len(errs) > 0 {
		fmt.Fprintln(bw)
	}
	fmt.Fprintln(bw, Summary(r))
	return cur.work, bw.Flush()
}

// Summary is the one-line tally that ends text output.
func Summary(r *Report) string {
	counts := finding.Counts(r.Findings)
	parts := make([]string, 0, len(finding.Severities))
	for _, s := range finding.Severities {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	noun := "findings"
	if len(r.Findings) == 1 {
		noun = "finding"
	}
	analyzed := 0
	for _, in := range r.Inputs {
		if in.Status == StatusAnalyzed {
			analyzed++
		}
	}
	s := fmt.Sprintf("%d %s: %s", len(r.Findings), noun, strings.Join(parts, ", "))
	var extra []string
	if r.Suppressed > 0 {
		extra = append(extra, fmt.Sprintf("%d suppressed", r.Suppressed))
	}
	if r.Baselined > 0 {
		extra = append(extra, fmt.Sprintf("%d in baseline", r.Baselined))
	}
	extra = append(extra, fmt.Sprintf("%d of %d inputs analyzed", analyzed, len(r.Inputs)))
	return s + " (" + strings.Join(extra, ", ") + ")"
}

// Window geometry for long source lines: at most maxShownLine characters are
// shown, and when the caret would fall past maxShownLine-windowLead the
// window starts windowLead characters before it.
const windowLead = 20

// lineCursor remembers where the previous finding's column was on its source
// line. Findings are printed sorted by file, line and column, so several
// findings on one long line come at increasing columns: advancing the cursor
// from the previous column costs only the distance between the two, where
// scanning from the start of the line each time would be quadratic.
type lineCursor struct {
	file string
	line int
	text string
	// col is the 1-based rune column reached, off its byte offset in text and
	// width the display width of text[:off] (tabs as 4 spaces, escaped
	// characters at their escaped length).
	col, off, width int
	// work counts the source bytes decoded so far; tests use it to check
	// that the cost per finding does not grow with the length of the line.
	work int
}

// seek moves the cursor to rune column col (1-based) of text, or to the end
// of text if it is shorter. It restarts from the beginning of the line only
// when the file, line or text changes or the column goes backwards.
func (c *lineCursor) seek(file string, n int, text string, col int) {
	// Comparing text is cheap for the same string: equal lengths and equal
	// data pointers short-circuit the comparison.
	if c.file != file || c.line != n || col < c.col || c.text != text {
		*c = lineCursor{file: file, line: n, text: text, col: 1, work: c.work}
	}
	i, width := c.off, c.width
	for c.col < col && i < len(text) {
		_, size, w := displayToken(text[i:])
		i += size
		width += w
		c.col++
	}
	c.work += i - c.off
	c.off, c.width = i, width
}

// displayToken returns how the first character of s is shown (a tab as four
// spaces, anything else as Sanitize escapes it), its length in bytes and its
// display width in characters. An invalid UTF-8 byte is one character, shown
// as \xNN.
func displayToken(s string) (shown string, size, width int) {
	switch b := s[0]; {
	case b >= 0x20 && b < 0x7f:
		return s[:1], 1, 1
	case b == '\t':
		return "    ", 1, 4
	}
	_, size = utf8.DecodeRuneInString(s)
	shown = Sanitize(s[:size])
	return shown, size, utf8.RuneCountInString(shown)
}

// displayRunes appends the display form of s to dst until at least limit
// characters have been added or s ends, and reports how many bytes of s it
// consumed.
func displayRunes(dst []rune, s string, limit int) ([]rune, int) {
	i, n := 0, 0
	for i < len(s) && n < limit {
		shown, size, w := displayToken(s[i:])
		for _, r := range shown {
			dst = append(dst, r)
		}
		i += size
		n += w
	}
	return dst, i
}

// tailRunes returns the last (at most) k display characters of s, decoding s
// backwards from its end, and the number of bytes it decoded.
func tailRunes(s string, k int) ([]rune, int) {
	var rev [][]rune
	i, n := len(s), 0
	for i > 0 && n < k {
		size := 1
		if s[i-1] >= utf8.RuneSelf {
			// Decoding backwards splits the text into the same characters
			// as decoding forwards: an invalid byte is one character.
			_, size = utf8.DecodeLastRuneInString(s[:i])
		}
		shown, _, w := displayToken(s[i-size : i])
		rev = append(rev, []rune(shown))
		i -= size
		n += w
	}
	out := make([]rune, 0, n)
	for j := len(rev) - 1; j >= 0; j-- {
		out = append(out, rev[j]...)
	}
	return out[max(0, len(out)-k):], len(s) - i
}

// writeSourceLine prints line n of file with a caret under column col (in
// characters, 1-based, as YAML parsers count them; 0 means no caret). Tabs
// are expanded so the caret lines up, control characters are escaped, and a
// line longer than maxShownLine characters is cut to a window around the
// column, marked with "…" where it was cut. Only that window is decoded and
// escaped, and the cursor carries the position of the column over from the
// previous finding on the same line, so the cost does not depend on the
// length of the line.
func writeSourceLine(w io.Writer, cur *lineCursor, file, line string, n, col int, c func(string, string) string) {
	line = strings.TrimRight(line, "\r")
	cur.seek(file, n, line, max(col, 1))
	off, caret := cur.off, cur.width
	// The characters after the column: enough to fill any window and to
	// tell whether the line goes on past it.
	need := max(maxShownLine-caret, maxShownLine-windowLead) + 1
	after, used := displayRunes(nil, line[off:], need)
	cur.work += used
	var shown string
	switch {
	case caret+len(after) <= maxShownLine:
		// The whole line fits (so the prefix is short).
		before, used := displayRunes(nil, line[:off], caret)
		cur.work += used
		shown = string(before) + string(after)
	case caret <= maxShownLine-windowLead:
		// Cut at the end only.
		before, used := displayRunes(nil, line[:off], caret)
		cur.work += used
		shown = string(before) + string(after[:maxShownLine-caret]) + "…"
	default:
		// Start windowLead characters before the caret.
		before, used := tailRunes(line[:off], windowLead)
		cur.work += used
		shown = "…" + string(before) + string(after[:min(len(after), maxShownLine-windowLead)])
		if len(after) > maxShownLine-windowLead {
			shown += "…"
		}
		caret = windowLead + 1
	}
	num := strconv.Itoa(n)
	fmt.Fprintf(w, "      %s %s %s\n", c(ansiDim, num), c(ansiDim, "|"), shown)
	if col > 0 {
		fmt.Fprintf(w, "      %s %s %s%s\n", strings.Repeat(" ", len(num)), c(ansiDim, "|"), strings.Repeat(" ", caret), c(severityColor[finding.High], "^"))
	}
}

// Sanitize escapes control characters (including ESC and C1 controls) and
// invalid UTF-8 so text from analyzed files cannot drive the terminal.
func Sanitize(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r == 0x2028 || r == 0x2029 || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069):
			// Line separators and bidirectional overrides (Trojan Source).
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// maxSourceFile bounds the files FileSource reads for display.
const maxSourceFile = 64 << 20

// FileSource returns an Options.Source that reads files from disk once each
// (up to 64 MiB) and caches their lines. Unreadable files show no source.
func FileSource() func(string) []string {
	var mu sync.Mutex
	cache := map[string][]string{}
	return func(file string) []string {
		mu.Lock()
		defer mu.Unlock()
		if lines, ok := cache[file]; ok {
			return lines
		}
		var lines []string
		if fi, err := os.Stat(file); err == nil && fi.Mode().IsRegular() && fi.Size() <= maxSourceFile {
			if b, err := os.ReadFile(file); err == nil {
				lines = strings.Split(string(b), "\n")
			}
		}
		cache[file] = lines
		return lines
	}
}

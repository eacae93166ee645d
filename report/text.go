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
	bw := bufio.NewWriter(w)
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
				writeSourceLine(bw, lines[f.Location.Line-1], f.Location.Line, f.Location.Column, c)
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
	return bw.Flush()
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

func writeSourceLine(w io.Writer, line string, n, col int, c func(string, string) string) {
	line = strings.TrimRight(line, "\r")
	// Expand tabs so the caret lines up, then cut long lines around the column.
	prefix, rest := line, ""
	if col > 0 && col-1 <= len(line) {
		prefix, rest = line[:col-1], line[col-1:]
	}
	prefix = strings.ReplaceAll(prefix, "\t", "    ")
	rest = strings.ReplaceAll(rest, "\t", "    ")
	shownPrefix := Sanitize(prefix)
	shown := shownPrefix + Sanitize(rest)
	caret := utf8.RuneCountInString(shownPrefix)
	if utf8.RuneCountInString(shown) > maxShownLine {
		runes := []rune(shown)
		start := 0
		if caret > maxShownLine-20 {
			start = caret - 20
		}
		end := min(start+maxShownLine, len(runes))
		shown = string(runes[start:end])
		if start > 0 {
			shown = "…" + shown
			caret = caret - start + 1
		}
		if end < len(runes) {
			shown += "…"
		}
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

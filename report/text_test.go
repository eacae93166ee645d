package report

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mlgate/mlgate/finding"
)

var textTestRule = finding.Register(&finding.Rule{
	ID: "test/text-internal-rule", Title: "Test rule", Severity: finding.High,
	Doc: "A rule used by the text report tests.", Remediation: "Nothing to do.",
})

func plain(_, s string) string { return s }

// refSourceLine is the straightforward rendering writeSourceLine must match:
// split the line at the column counted in characters, expand tabs, escape
// the whole line, then cut it to the window around the caret.
func refSourceLine(line string, n, col int) string {
	line = strings.TrimRight(line, "\r")
	b := 0
	for k := 1; k < col && b < len(line); k++ {
		_, size := utf8.DecodeRuneInString(line[b:])
		b += size
	}
	prefix := strings.ReplaceAll(line[:b], "\t", "    ")
	rest := strings.ReplaceAll(line[b:], "\t", "    ")
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
	num := fmt.Sprint(n)
	out := fmt.Sprintf("      %s | %s\n", num, shown)
	if col > 0 {
		out += fmt.Sprintf("      %s | %s^\n", strings.Repeat(" ", len(num)), strings.Repeat(" ", caret))
	}
	return out
}

// TestSourceLineMatchesReference renders random lines mixing ASCII, non-ASCII,
// tabs, control and bidi characters, invalid UTF-8 and carriage returns, with
// several findings per line at increasing columns (so the cursor is reused)
// and sometimes going back, and compares every rendering with refSourceLine.
func TestSourceLineMatchesReference(t *testing.T) {
	pieces := []string{"a", "b", " ", ",", "é", "世", "\U0001F600", "\t", "\x1b", "\x07", "\u009b", "\u202e", "\u2028", "\xff", "\xc3", "\xe4\xb8", "\x80", "\ufffd", "\r"}
	rng := rand.New(rand.NewPCG(1, 2))
	var cur lineCursor
	for iter := 0; iter < 3000; iter++ {
		var sb strings.Builder
		length := rng.IntN(500)
		if rng.IntN(4) == 0 {
			length = rng.IntN(20)
		}
		for i := 0; i < length; i++ {
			if rng.IntN(3) == 0 {
				sb.WriteString(pieces[rng.IntN(len(pieces))])
			} else {
				sb.WriteByte(byte('a' + rng.IntN(26)))
			}
		}
		line := sb.String()
		runes := utf8.RuneCountInString(line)
		file := fmt.Sprintf("f%d", iter/3) // consecutive lines share a file
		n := iter%3 + 1
		cols := make([]int, 1+rng.IntN(6))
		for i := range cols {
			cols[i] = 1 + rng.IntN(runes+5)
		}
		if rng.IntN(5) != 0 {
			// Sorted, as WriteText prints them; otherwise columns go back.
			for i := 1; i < len(cols); i++ {
				for j := i; j > 0 && cols[j] < cols[j-1]; j-- {
					cols[j], cols[j-1] = cols[j-1], cols[j]
				}
			}
		}
		for _, col := range cols {
			var b bytes.Buffer
			writeSourceLine(&b, &cur, file, line, n, col, plain)
			if want := refSourceLine(line, n, col); b.String() != want {
				t.Fatalf("line %q column %d:\ngot\n%s\nwant\n%s", line, col, b.String(), want)
			}
		}
	}
}

// TestSourceLineNoColumn: without a column the line is shown from its start.
func TestSourceLineNoColumn(t *testing.T) {
	var b bytes.Buffer
	var cur lineCursor
	line := strings.Repeat("x", 300)
	writeSourceLine(&b, &cur, "f", line, 7, 0, plain)
	if want := "      7 | " + strings.Repeat("x", maxShownLine) + "…\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// longLineReport is a one-line flow sequence of n items of about 90 bytes
// each, with a finding at the column of every item.
func longLineReport(n int) (*Report, Options, string) {
	var sb strings.Builder
	sb.WriteString("secrets: [")
	fs := make([]finding.Finding, 0, n)
	for i := 0; i < n; i++ {
		fs = append(fs, textTestRule.New(finding.Location{File: "big.yaml", Line: 1, Column: sb.Len() + 1}, "Item.", ""))
		fmt.Fprintf(&sb, "secret_name_%s_%06d, ", strings.Repeat("x", 70), i)
	}
	sb.WriteString("]")
	line := sb.String()
	return &Report{Findings: fs}, Options{Source: func(string) []string { return []string{line} }}, line
}

// TestLongLineWorkIsLinear counts the source bytes WriteText decodes for a
// one-line file of about 1 MB with 10,000 findings on that line. A rendering
// that decoded the line up to (or past) the column for each finding would
// decode about 10,000 × 450 KB; the cursor and the window keep it to one pass
// over the line plus a bounded window per finding.
func TestLongLineWorkIsLinear(t *testing.T) {
	work := func(n int) (int, int) {
		r, opts, line := longLineReport(n)
		w, err := writeText(io.Discard, r, opts)
		if err != nil {
			t.Fatal(err)
		}
		return w, len(line)
	}
	// Per finding at most two windows of characters of up to 4 bytes each.
	const perFinding = 2 * maxShownLine * utf8.UTFMax
	small, smallLen := work(1000)
	big, bigLen := work(10000)
	if bigLen < 900_000 {
		t.Fatalf("test line is only %d bytes", bigLen)
	}
	t.Logf("decoded %d bytes for 1,000 findings on %d bytes, %d for 10,000 on %d", small, smallLen, big, bigLen)
	if limit := bigLen + 10000*perFinding; big > limit {
		t.Errorf("decoded %d bytes for 10,000 findings on a %d-byte line, want at most %d", big, bigLen, limit)
	}
	if big > 12*small {
		t.Errorf("10× the findings on a 10× longer line cost %.1f× the work, want about 10×", float64(big)/float64(small))
	}
}

// TestLongLineOutput checks the window shown for findings far into a long line.
func TestLongLineOutput(t *testing.T) {
	r, opts, _ := longLineReport(10000)
	var b bytes.Buffer
	if err := WriteText(&b, r, opts); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	// Finding k (from 0) is at item k, whose column is past the first window.
	for _, k := range []int{2, 5000, 9999} {
		want := fmt.Sprintf("      1 | …%s_%06d, secret_name_", strings.Repeat("x", 11), k-1)
		caret := "\n        | " + strings.Repeat(" ", 21) + "^\n"
		k := strings.Index(out, want)
		if k < 0 || !strings.HasPrefix(out[k+strings.Index(out[k:], "\n"):], caret) {
			t.Errorf("finding %d: no %q followed by the caret", k, want)
		}
	}
	if !strings.Contains(out, fmt.Sprintf("x_%06d, ]\n", 9999)) {
		t.Error("last finding does not show the end of the line")
	}
}

func BenchmarkWriteTextLongLine(b *testing.B) {
	r, opts, line := longLineReport(10000)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if err := WriteText(io.Discard, r, opts); err != nil {
			b.Fatal(err)
		}
	}
}

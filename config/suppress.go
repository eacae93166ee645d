package config

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mlgate/mlgate/finding"
)

// maxSuppressionLine is the longest line ParseSuppressions looks at; longer
// lines are skipped.
const maxSuppressionLine = 64 << 10

// Rules about suppression comments themselves. Their findings are located at
// the comment, with Logical "suppression" and the trimmed comment text as
// evidence.
var (
	// RuleSuppressionMissingReason reports a suppression without a reason.
	RuleSuppressionMissingReason = finding.Register(&finding.Rule{
		ID:       "config/suppression-missing-reason",
		Title:    "Suppression without a reason",
		Severity: finding.Medium,
		Doc: "An inline `# mlgate: ignore[...]` comment silences findings but gives no reason. " +
			"The suppression still applies, but a reviewer reading the file later cannot tell whether the " +
			"finding was a false positive, an accepted risk or a shortcut taken under pressure, and so cannot " +
			"judge whether the suppression is still justified. Suppressions are security decisions and should " +
			"be as reviewable as the code they sit next to.",
		Remediation: "Write the reason after the closing bracket, e.g. " +
			"`# mlgate: ignore[pipeline/shared-gpu-access] single-tenant cluster, see SEC-123`.",
	})
	// RuleSuppressionUnknownRule reports a suppression naming a rule that
	// does not exist.
	RuleSuppressionUnknownRule = finding.Register(&finding.Rule{
		ID:       "config/suppression-unknown-rule",
		Title:    "Suppression names an unknown rule",
		Severity: finding.Low,
		Doc: "An inline `# mlgate: ignore[...]` comment lists a rule ID that mlgate does not know. " +
			"This is usually a typo or a rule that was renamed or removed; either way the comment does not " +
			"suppress what its author meant it to, and the finding it was written for may be reported " +
			"again or, worse, silently be suppressed by nothing at all.",
		Remediation: "Correct the rule ID (`mlgate rules` lists them all) or delete the stale suppression.",
	})
	// RuleUnusedSuppression reports a suppression that matched no finding.
	RuleUnusedSuppression = finding.Register(&finding.Rule{
		ID:       "config/unused-suppression",
		Title:    "Unused suppression",
		Severity: finding.Low,
		Doc: "An inline `# mlgate: ignore[...]` comment lists a rule that reported nothing on the comment's " +
			"line or the line below it. The problem it was written for may have been fixed, or the code may " +
			"have moved away from the comment. A stale suppression is dangerous: if the problem comes back " +
			"in that place it will be silenced without anyone looking at it.",
		Remediation: "Delete the suppression, or the rule IDs in it that no longer match, or move it onto " +
			"the line of the finding or directly above it.",
	})
	// RuleSuppressionMalformed reports a "# mlgate:" comment that does not
	// parse.
	RuleSuppressionMalformed = finding.Register(&finding.Rule{
		ID:       "config/suppression-malformed",
		Title:    "Malformed suppression comment",
		Severity: finding.Low,
		Doc: "A comment starts with `# mlgate:` but is not a valid `# mlgate: ignore[rule-id, ...] reason` " +
			"directive: the keyword is misspelled, the closing bracket is missing, the brackets are empty or " +
			"a rule ID is not a plain identifier. Such a comment suppresses nothing, although its author " +
			"clearly meant it to.",
		Remediation: "Rewrite the comment as `# mlgate: ignore[rule-id] reason`, listing one or more rule IDs " +
			"separated by commas, or delete it.",
	})
)

// Suppression is one "# mlgate:" comment found by ParseSuppressions.
type Suppression struct {
	// File is the file the comment is in, as given to ParseSuppressions.
	File string
	// Line is the 1-based line of the comment.
	Line int
	// Column is the 1-based column of the comment's "#", counted in
	// characters (runes).
	Column int
	// Rules lists the rule IDs inside ignore[...], without duplicates.
	Rules []string
	// Reason is the text after the closing bracket, trimmed; "" if none.
	Reason string
	// Text is the comment, from "#" to the end of the line, trimmed.
	Text string
	// Problem is empty for a well-formed suppression. For a comment that
	// starts with "# mlgate:" but does not parse, it says what is wrong;
	// such a suppression has no Rules and suppresses nothing.
	Problem string
}

// ParseSuppressions finds the suppression comments in src, the content of
// file. A suppression comment is
//
//	# mlgate: ignore[rule-id] reason
//	# mlgate: ignore[rule-a, rule-b] reason
//
// with any amount of space or none around "mlgate", ":", "ignore", the
// brackets and the commas. The "#" must start the line or follow a space or
// tab, and must not be inside a quoted string. Each line is scanned on its
// own; a single or double quote opens a string (running to its closing
// quote, with YAML's escapes) only where a quoted value can begin: the
// character before it is the line start, a space, a tab or one of
// ":-[{,?=(", and so is the last non-blank character before it. A quote in
// the middle of a word or of an unquoted value is an ordinary character.
// Only the first comment of a line is considered. Comments that start with
// "# mlgate:" but are not valid directives are returned with Problem set.
// Lines longer than 64 KiB are skipped. ParseSuppressions never panics.
func ParseSuppressions(file string, src []byte) []Suppression {
	var out []Suppression
	for lineNo := 1; len(src) > 0; lineNo++ {
		var line []byte
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			line, src = src, nil
		}
		if len(line) > maxSuppressionLine || !bytes.Contains(line, []byte("mlgate")) {
			continue
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		start := commentStart(line)
		if start < 0 {
			continue
		}
		comment := line[start:]
		s, ok := parseDirective(comment)
		if !ok {
			continue
		}
		s.File = file
		s.Line = lineNo
		s.Column = utf8.RuneCount(line[:start]) + 1
		s.Text = strings.ToValidUTF8(strings.TrimSpace(string(comment)), "\uFFFD")
		out = append(out, s)
	}
	return out
}

// FilterSuppressions keeps the suppressions that a YAML parser confirms are
// comments. ParseSuppressions scans lines without parsing YAML, so it also
// returns "# mlgate: ignore[...]" text that is data rather than a comment:
// a line of a block scalar ("description: |" followed by indented lines) or
// of a quoted string that spans several lines. Such text must not suppress
// anything.
//
// comments lists the comment lines of the file as the YAML parser reported
// them, one line per entry, each starting with "#" (a parser's multi-line
// comment must be split into lines). Surrounding whitespace in an entry is
// ignored, and entries that do not start with "#" are ignored. A suppression
// is kept when its Text equals an entry; comments is a multiset, so each entry
// vouches for at most one suppression, and suppressions are matched in order,
// so when several have the same Text the first ones are kept. A suppression
// with an empty Text is dropped.
//
// The result is a new slice in the order of sups; the input slices are not
// modified.
func FilterSuppressions(sups []Suppression, comments []string) []Suppression {
	avail := make(map[string]int, len(comments))
	for _, c := range comments {
		c = strings.TrimSpace(c)
		if strings.HasPrefix(c, "#") {
			avail[c]++
		}
	}
	out := make([]Suppression, 0, len(sups))
	for _, s := range sups {
		if s.Text == "" || avail[s.Text] == 0 {
			continue
		}
		avail[s.Text]--
		out = append(out, s)
	}
	return out
}

// isBlank reports whether c is a space or a tab.
func isBlank(c byte) bool { return c == ' ' || c == '\t' }

// commentStart returns the index of the "#" that starts the line's comment,
// or -1 if there is none.
func commentStart(line []byte) int {
	var quote byte
	lastNonBlank := byte(0) // last non-blank character outside strings; 0 at line start
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch quote {
		case '"':
			if c == '\\' {
				i++
			} else if c == '"' {
				quote = 0
				lastNonBlank = c
			}
			continue
		case '\'':
			if c == '\'' {
				if i+1 < len(line) && line[i+1] == '\'' {
					i++
				} else {
					quote = 0
					lastNonBlank = c
				}
			}
			continue
		}
		switch {
		case c == '#':
			if i == 0 || isBlank(line[i-1]) {
				return i
			}
		case c == '"' || c == '\'':
			opener := lastNonBlank == 0 || strings.IndexByte(":-[{,?=(", lastNonBlank) >= 0
			adjacent := i == 0 || isBlank(line[i-1]) || strings.IndexByte(":-[{,?=(", line[i-1]) >= 0
			if opener && adjacent {
				quote = c
				continue
			}
		}
		if !isBlank(c) {
			lastNonBlank = c
		}
	}
	return -1
}

// parseDirective parses a comment starting with "#". ok is false when the
// comment is not a "# mlgate:" directive at all; otherwise s holds the rules
// and reason, or Problem when the directive is malformed.
func parseDirective(comment []byte) (s Suppression, ok bool) {
	rest := strings.TrimLeft(string(comment[1:]), " \t")
	after, found := strings.CutPrefix(rest, "mlgate")
	if !found {
		return s, false
	}
	after = strings.TrimLeft(after, " \t")
	after, found = strings.CutPrefix(after, ":")
	if !found {
		return s, false
	}
	after = strings.TrimLeft(after, " \t")
	after, found = strings.CutPrefix(after, "ignore")
	if !found {
		s.Problem = `expected "ignore[rule-id, ...]" after "mlgate:"`
		return s, true
	}
	after = strings.TrimLeft(after, " \t")
	after, found = strings.CutPrefix(after, "[")
	if !found {
		s.Problem = `expected "[" after "ignore"`
		return s, true
	}
	inside, reason, found := strings.Cut(after, "]")
	if !found {
		s.Problem = `missing closing "]"`
		return s, true
	}
	if strings.TrimSpace(inside) == "" {
		s.Problem = "no rule IDs inside the brackets"
		return s, true
	}
	for _, id := range strings.Split(inside, ",") {
		id = strings.Trim(id, " \t")
		if id == "" {
			s.Problem = "empty rule ID in the list"
			s.Rules = nil
			return s, true
		}
		if !plainID(id) {
			s.Problem = clip(strings.ToValidUTF8(id, "\uFFFD")) + " is not a rule ID"
			s.Rules = nil
			return s, true
		}
		if !slices.Contains(s.Rules, id) {
			s.Rules = append(s.Rules, id)
		}
	}
	s.Reason = strings.ToValidUTF8(strings.TrimSpace(reason), "\uFFFD")
	return s, true
}

// plainID reports whether id uses only the characters a rule ID may hold
// (checked loosely, so that a well-shaped but unregistered ID is reported as
// unknown rather than malformed).
func plainID(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_./", c) >= 0) {
			return false
		}
	}
	return id != ""
}

// supKey indexes suppressions by file and line.
type supKey struct {
	file string
	line int
}

// ApplySuppressions drops every finding f for which a well-formed
// suppression in the same file (Location.File compared exactly) lists
// f.RuleID and sits on f.Location.Line or on the line directly above it. It
// returns the kept findings, the number suppressed, and extra findings about
// the suppressions themselves:
//
//   - config/suppression-malformed for each suppression with a Problem;
//   - config/suppression-missing-reason for each one without a Reason (it
//     still suppresses);
//   - config/suppression-unknown-rule for each one listing rule IDs that are
//     not in the registry and matched no finding (checked now, not when
//     parsing, because rules register as their packages initialise);
//   - config/unused-suppression for each one listing registered rules that
//     matched no finding.
//
// The input slices are not modified.
func ApplySuppressions(fs []finding.Finding, sups []Suppression) (kept []finding.Finding, suppressed int, extra []finding.Finding) {
	idx := map[supKey][]int{}
	for i, s := range sups {
		if s.Problem == "" && len(s.Rules) > 0 {
			k := supKey{s.File, s.Line}
			idx[k] = append(idx[k], i)
		}
	}
	used := make([]map[string]bool, len(sups))
	kept = make([]finding.Finding, 0, len(fs))
	for _, f := range fs {
		hit := false
		for _, line := range [2]int{f.Location.Line, f.Location.Line - 1} {
			if line < 1 {
				continue
			}
			for _, i := range idx[supKey{f.Location.File, line}] {
				if !slices.Contains(sups[i].Rules, f.RuleID) {
					continue
				}
				hit = true
				if used[i] == nil {
					used[i] = map[string]bool{}
				}
				used[i][f.RuleID] = true
			}
		}
		if hit {
			suppressed++
		} else {
			kept = append(kept, f)
		}
	}
	for i, s := range sups {
		loc := finding.Location{File: s.File, Line: s.Line, Column: s.Column, Logical: "suppression"}
		ev := s.Text
		if ev == "" {
			ev = "# mlgate: ignore[" + strings.Join(s.Rules, ", ") + "]"
			if s.Reason != "" {
				ev += " " + s.Reason
			}
		}
		switch {
		case s.Problem != "":
			extra = append(extra, RuleSuppressionMalformed.New(loc, "malformed mlgate suppression: "+s.Problem, ev))
			continue
		case len(s.Rules) == 0:
			extra = append(extra, RuleSuppressionMalformed.New(loc, "malformed mlgate suppression: no rule IDs", ev))
			continue
		}
		if s.Reason == "" {
			extra = append(extra, RuleSuppressionMissingReason.New(loc,
				fmt.Sprintf("suppression of %s gives no reason; write one after the closing bracket", strings.Join(s.Rules, ", ")), ev))
		}
		var unknown, unused []string
		for _, id := range s.Rules {
			if used[i][id] {
				continue
			}
			if _, ok := finding.Lookup(id); ok {
				unused = append(unused, id)
			} else {
				unknown = append(unknown, id)
			}
		}
		if len(unknown) > 0 {
			extra = append(extra, RuleSuppressionUnknownRule.New(loc,
				fmt.Sprintf("suppression names %s, which %s not a known rule", strings.Join(unknown, ", "), isAre(len(unknown))), ev))
		}
		if len(unused) > 0 {
			extra = append(extra, RuleUnusedSuppression.New(loc,
				fmt.Sprintf("suppression of %s matched no finding on this line or the next", strings.Join(unused, ", ")), ev))
		}
	}
	return kept, suppressed, extra
}

// isAre picks the verb for n subjects.
func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
)

func TestParseSuppressions(t *testing.T) {
	tests := []struct {
		name string
		line string
		want *Suppression // nil: no suppression; File and Line are filled in
	}{
		{"own line", "# mlgate: ignore[test/alpha] reviewed, false positive",
			&Suppression{Column: 1, Rules: []string{"test/alpha"}, Reason: "reviewed, false positive"}},
		{"trailing", `image: "foo" # mlgate: ignore[test/alpha] pinned elsewhere`,
			&Suppression{Column: 14, Rules: []string{"test/alpha"}, Reason: "pinned elsewhere"}},
		{"indented", "    # mlgate: ignore[test/alpha] x",
			&Suppression{Column: 5, Rules: []string{"test/alpha"}, Reason: "x"}},
		{"tab before hash", "key: v\t# mlgate: ignore[test/alpha] x",
			&Suppression{Column: 8, Rules: []string{"test/alpha"}, Reason: "x"}},
		{"no spaces", "#mlgate:ignore[test/alpha]why",
			&Suppression{Column: 1, Rules: []string{"test/alpha"}, Reason: "why"}},
		{"lots of spaces", "#   mlgate :  ignore [ test/alpha ,test/gamma  ]   why not  ",
			&Suppression{Column: 1, Rules: []string{"test/alpha", "test/gamma"}, Reason: "why not"}},
		{"two rules", "# mlgate: ignore[test/alpha, test/gamma] both fine",
			&Suppression{Column: 1, Rules: []string{"test/alpha", "test/gamma"}, Reason: "both fine"}},
		{"duplicate rule", "# mlgate: ignore[test/alpha, test/alpha] r",
			&Suppression{Column: 1, Rules: []string{"test/alpha"}, Reason: "r"}},
		{"no reason", "# mlgate: ignore[test/alpha]",
			&Suppression{Column: 1, Rules: []string{"test/alpha"}}},
		{"multibyte column", `name: "héllo" # mlgate: ignore[test/alpha] r`,
			&Suppression{Column: 15, Rules: []string{"test/alpha"}, Reason: "r"}},
		{"after quoted hash", `cmd: "echo #1" # mlgate: ignore[test/alpha] r`,
			&Suppression{Column: 16, Rules: []string{"test/alpha"}, Reason: "r"}},
		{"apostrophe in plain value", `msg: don't # mlgate: ignore[test/alpha] r`,
			&Suppression{Column: 12, Rules: []string{"test/alpha"}, Reason: "r"}},
		{"single-quoted escape", `msg: 'it''s # not' # mlgate: ignore[test/alpha] r`,
			&Suppression{Column: 20, Rules: []string{"test/alpha"}, Reason: "r"}},
		{"crlf", "# mlgate: ignore[test/alpha] r\r",
			&Suppression{Column: 1, Rules: []string{"test/alpha"}, Reason: "r"}},

		// Look-alikes that are not suppressions.
		{"hash inside word", "url: a#mlgate:ignore[test/alpha] r", nil},
		{"hash inside double-quoted string", `cmd: "x # mlgate: ignore[test/alpha] r"`, nil},
		{"hash inside single-quoted string", `cmd: 'x # mlgate: ignore[test/alpha] r'`, nil},
		{"hash inside flow string", `args: ["a", "# mlgate: ignore[test/alpha] r"]`, nil},
		{"escaped quote in string", `cmd: "say \" # mlgate: ignore[test/alpha] r"`, nil},
		{"not first in comment", "# note # mlgate: ignore[test/alpha] r", nil},
		{"other tool", "# nolint: ignore[test/alpha] r", nil},
		{"mlgate without colon", "# mlgate ignore[test/alpha] r", nil},
		{"longer word", "# mlgatex: ignore[test/alpha] r", nil},
		{"no hash", "mlgate: ignore[test/alpha] r", nil},

		// Malformed directives.
		{"misspelled", "# mlgate: ignor[test/alpha] r", &Suppression{Column: 1, Problem: `expected "ignore[rule-id, ...]" after "mlgate:"`}},
		{"missing bracket", "# mlgate: ignore[test/alpha r", &Suppression{Column: 1, Problem: `missing closing "]"`}},
		{"no open bracket", "# mlgate: ignore test/alpha", &Suppression{Column: 1, Problem: `expected "[" after "ignore"`}},
		{"ignores", "# mlgate: ignores[test/alpha] r", &Suppression{Column: 1, Problem: `expected "[" after "ignore"`}},
		{"empty brackets", "# mlgate: ignore[] r", &Suppression{Column: 1, Problem: "no rule IDs inside the brackets"}},
		{"blank brackets", "# mlgate: ignore[  ] r", &Suppression{Column: 1, Problem: "no rule IDs inside the brackets"}},
		{"empty entry", "# mlgate: ignore[test/alpha,] r", &Suppression{Column: 1, Problem: "empty rule ID in the list"}},
		{"bad id", "# mlgate: ignore[test alpha] r", &Suppression{Column: 1, Problem: `"test alpha" is not a rule ID`}},
		{"nothing after colon", "# mlgate:", &Suppression{Column: 1, Problem: `expected "ignore[rule-id, ...]" after "mlgate:"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "first: line\n" + tt.line + "\nlast: line\n"
			got := ParseSuppressions("f.yaml", []byte(src))
			if tt.want == nil {
				if len(got) != 0 {
					t.Fatalf("got %+v, want none", got)
				}
				return
			}
			want := *tt.want
			want.File, want.Line = "f.yaml", 2
			want.Text = strings.TrimSpace(string([]rune(tt.line)[want.Column-1:]))
			if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Errorf("got %+v\nwant [%+v]", got, want)
			}
		})
	}
}

func TestParseSuppressionsLines(t *testing.T) {
	src := "# mlgate: ignore[test/alpha] a\n" +
		"x: 1\n" +
		strings.Repeat("y", maxSuppressionLine+1) + " # mlgate: ignore[test/alpha] long\n" +
		"# mlgate: ignore[test/gamma] b" // no final newline
	got := ParseSuppressions("f", []byte(src))
	if len(got) != 2 || got[0].Line != 1 || got[1].Line != 4 || got[1].Reason != "b" {
		t.Errorf("got %+v", got)
	}
	if got := ParseSuppressions("f", nil); len(got) != 0 {
		t.Errorf("nil input: %+v", got)
	}
}

func TestApplySuppressions(t *testing.T) {
	src := strings.Join([]string{
		"stages:", // 1
		"  - name: a # mlgate: ignore[test/alpha] reviewed", // 2: same line
		"    # mlgate: ignore[test/gamma] line below",       // 3: applies to 4
		"    image: x", // 4
		"  # mlgate: ignore[test/alpha] two lines above", // 5: must not apply to 7
		"  - name: b",  // 6
		"    image: y", // 7
		"    run: z # mlgate: ignore[test/alpha]",          // 8: no reason
		"    # mlgate: ignore[test/nope, test/gamma] typo", // 9: unknown + unused
		"    # mlgate: ignor[test/alpha] oops",             // 10: malformed
		"    cmd: w",                                       // 11
	}, "\n")
	sups := ParseSuppressions("p.yaml", []byte(src))
	if len(sups) != 6 {
		t.Fatalf("parsed %d suppressions, want 6: %+v", len(sups), sups)
	}
	at := func(r *finding.Rule, file string, line int) finding.Finding {
		return r.New(finding.Location{File: file, Line: line, Column: 5}, "msg", "ev")
	}
	fs := []finding.Finding{
		at(testAlpha, "p.yaml", 2),     // suppressed by line 2 (same line)
		at(testGamma, "p.yaml", 4),     // suppressed by line 3 (line above)
		at(testGamma, "p.yaml", 2),     // different rule on a suppressed line: kept
		at(testAlpha, "p.yaml", 7),     // suppression two lines above: kept
		at(testAlpha, "p.yaml", 8),     // suppressed, no reason
		at(testAlpha, "other.yaml", 2), // different file: kept
		at(testAlpha, "p.yaml", 11),    // malformed suppression above: kept
		at(testAlpha, "p.yaml", 0),     // no line: kept
	}
	kept, n, extra := ApplySuppressions(fs, sups)
	if n != 3 {
		t.Errorf("suppressed %d, want 3", n)
	}
	wantKept := []finding.Finding{fs[2], fs[3], fs[5], fs[6], fs[7]}
	if !reflect.DeepEqual(kept, wantKept) {
		t.Errorf("kept:\n%+v\nwant\n%+v", kept, wantKept)
	}

	type key struct {
		rule string
		line int
	}
	got := map[key]finding.Finding{}
	for _, f := range extra {
		k := key{f.RuleID, f.Location.Line}
		if _, dup := got[k]; dup {
			t.Errorf("duplicate extra finding %+v", f)
		}
		got[k] = f
		if f.Location.File != "p.yaml" || f.Location.Logical != "suppression" || f.Location.Column == 0 {
			t.Errorf("bad location %+v", f.Location)
		}
		if f.Fingerprint == "" || f.Fingerprint != f.ComputeFingerprint() {
			t.Errorf("bad fingerprint in %+v", f)
		}
		if !strings.HasPrefix(f.Evidence, "# mlgate:") {
			t.Errorf("evidence %q", f.Evidence)
		}
	}
	want := map[key]string{
		{RuleUnusedSuppression.ID, 5}:        "test/alpha",
		{RuleSuppressionMissingReason.ID, 8}: "gives no reason",
		{RuleSuppressionUnknownRule.ID, 9}:   "test/nope",
		{RuleUnusedSuppression.ID, 9}:        "test/gamma",
		{RuleSuppressionMalformed.ID, 10}:    `expected "ignore[rule-id, ...]"`,
	}
	for k, msg := range want {
		f, ok := got[k]
		if !ok {
			t.Errorf("missing %s finding at line %d", k.rule, k.line)
			continue
		}
		if !strings.Contains(f.Message, msg) {
			t.Errorf("%s at line %d: message %q lacks %q", k.rule, k.line, f.Message, msg)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d extra findings, want %d: %+v", len(got), len(want), extra)
	}
	if f := got[key{RuleSuppressionMissingReason.ID, 8}]; f.Severity != finding.Medium || f.Evidence != "# mlgate: ignore[test/alpha]" || f.Location.Column != 12 {
		t.Errorf("missing-reason finding %+v", f)
	}
	if f := got[key{RuleSuppressionUnknownRule.ID, 9}]; strings.Contains(f.Message, "test/gamma") {
		t.Errorf("unknown-rule finding names a known rule: %q", f.Message)
	}
}

func TestApplySuppressionsUnregisteredFinding(t *testing.T) {
	// A suppression of a rule ID that is not registered but did match a
	// finding is neither unknown nor unused.
	sups := ParseSuppressions("f", []byte("# mlgate: ignore[ext/rule] ok\n"))
	fs := []finding.Finding{{RuleID: "ext/rule", Location: finding.Location{File: "f", Line: 1}}}
	kept, n, extra := ApplySuppressions(fs, sups)
	if len(kept) != 0 || n != 1 || len(extra) != 0 {
		t.Errorf("kept=%v n=%d extra=%+v", kept, n, extra)
	}
	_, _, extra = ApplySuppressions(nil, sups)
	if len(extra) != 1 || extra[0].RuleID != RuleSuppressionUnknownRule.ID {
		t.Errorf("extra=%+v", extra)
	}
}

func TestSuppressionRulesRegistered(t *testing.T) {
	for _, r := range []*finding.Rule{RuleSuppressionMissingReason, RuleSuppressionUnknownRule, RuleUnusedSuppression, RuleSuppressionMalformed} {
		got, ok := finding.Lookup(r.ID)
		if !ok || got != r || len(r.Doc) < 100 {
			t.Errorf("rule %s not registered properly", r.ID)
		}
	}
	if RuleSuppressionMissingReason.Severity != finding.Medium || RuleSuppressionUnknownRule.Severity != finding.Low ||
		RuleUnusedSuppression.Severity != finding.Low || RuleSuppressionMalformed.Severity != finding.Low {
		t.Error("wrong default severities")
	}
}

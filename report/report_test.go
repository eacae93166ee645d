package report_test

import (
	"bytes"
	"encoding/json"
	"github.com/mlgate/mlgate/internal/testutil"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/report"
)

var testRule = finding.Register(&finding.Rule{
	ID: "test/report-rule", Title: "Test rule", Severity: finding.High,
	Doc: "A rule used by the report tests.", Remediation: "Nothing to do.",
})

func sample() *report.Report {
	f1 := testRule.New(finding.Location{File: "ci/mlgate-pipeline.yaml", Line: 3, Column: 2, Logical: "stage train"}, "Stage 'train' is \x1b[31mbad\x1b[0m.", "evidence=1")
	f2 := testRule.New(finding.Location{File: "ci/mlgate-pipeline.yaml", Line: 1, Column: 1, Logical: "stage a"}, "Another.", "evidence=2")
	f2.Severity = finding.Medium
	f3 := testRule.New(finding.Location{Logical: "model.pt!data.pkl@offset 12"}, "No file.", "")
	return &report.Report{
		Tool: report.Tool{Name: "mlgate", Version: "test"},
		Inputs: []report.Input{
			{Path: "ci/mlgate-pipeline.yaml", Format: "mlgate-pipeline", Status: report.StatusAnalyzed},
			{Path: "broken.yaml", Format: "mlgate-pipeline", Status: report.StatusError, Error: "broken.yaml:1:1: invalid YAML"},
		},
		Findings:   []finding.Finding{f1, f2, f3},
		Suppressed: 2,
		Baselined:  1,
	}
}

func source(file string) []string {
	if file == "ci/mlgate-pipeline.yaml" {
		return []string{"stages:", "  - name: a", "\tsecrets: [\x1b]0;pwned\x07K]"}
	}
	return nil
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteText(&b, sample(), report.Options{Source: source}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"ci/mlgate-pipeline.yaml\n",
		"  1:1     medium   test/report-rule  (stage a)",
		"  3:2     high     test/report-rule  (stage train)",
		`Stage 'train' is \x1b[31mbad\x1b[0m.`,
		`3 |     secrets: [\x1b]0;pwned\x07K]`,
		"  |     ^\n", // caret under column 2, after the tab expanded to 4 spaces
		"evidence: evidence=1",
		"fix: Nothing to do.",
		"(no file)",
		"Inputs that could not be analyzed:",
		"broken.yaml:1:1: invalid YAML",
		"3 findings: 0 critical, 2 high, 1 medium, 0 low, 0 info (2 suppressed, 1 in baseline, 1 of 2 inputs analyzed)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("raw control characters leaked into uncoloured output:\n%q", out)
	}
	if strings.Index(out, "1:1 ") > strings.Index(out, "3:2 ") {
		t.Error("findings are not in source order")
	}
	b.Reset()
	_ = report.WriteText(&b, sample(), report.Options{Color: true})
	if !strings.Contains(b.String(), "\x1b[1;31mhigh") {
		t.Error("colour requested but not used")
	}
}

// renderLine renders one finding at column col of a one-line file and returns
// the shown source line and the caret line, each without the "      N | "
// gutter.
func renderLine(t *testing.T, line string, col int) (shown, caret string) {
	t.Helper()
	f := testRule.New(finding.Location{File: "x.yaml", Line: 1, Column: col}, "Message.", "")
	var b bytes.Buffer
	err := report.WriteText(&b, &report.Report{Findings: []finding.Finding{f}}, report.Options{
		Source: func(string) []string { return []string{line} },
	})
	if err != nil {
		t.Fatal(err)
	}
	out := b.String()
	i := strings.Index(out, "      1 | ")
	if i < 0 {
		t.Fatalf("no source line in:\n%s", out)
	}
	rest := strings.SplitN(out[i:], "\n", 3)
	if len(rest) < 3 || !strings.HasPrefix(rest[1], "        | ") {
		t.Fatalf("no caret line in:\n%s", out)
	}
	return strings.TrimPrefix(rest[0], "      1 | "), strings.TrimPrefix(rest[1], "        | ")
}

// checkCaret checks that the shown line is want and that the caret sits
// under the first character of the first occurrence of under in it.
func checkCaret(t *testing.T, line string, col int, want, under string) {
	t.Helper()
	shown, caret := renderLine(t, line, col)
	if shown != want {
		t.Errorf("line %q column %d shown as %q, want %q", line, col, shown, want)
	}
	i := strings.Index(shown, under)
	if i < 0 {
		t.Fatalf("%q not in %q", under, shown)
	}
	if wantCaret := strings.Repeat(" ", utf8.RuneCountInString(shown[:i])) + "^"; caret != wantCaret {
		t.Errorf("line %q column %d: caret line %q, want %q (under %q)", line, col, caret, wantCaret, under)
	}
}

func TestTextColumnIsCharacters(t *testing.T) {
	// go.yaml.in/yaml/v3 counts columns in characters: "model" is at 29.
	line := "    secrets_available: [éé, model]"
	col := utf8.RuneCountInString(line[:strings.Index(line, "model")]) + 1
	if col != 29 {
		t.Fatalf("column %d", col)
	}
	checkCaret(t, line, col, line, "model")
	shown, _ := renderLine(t, line, col)
	if !strings.Contains(shown, "éé, model]") || strings.Contains(shown, `\x`) {
		t.Errorf("non-ASCII text mangled: %q", shown)
	}
	// Wider characters too, and a caret on a non-ASCII character.
	checkCaret(t, "k: 世界 \U0001F600 v", 9, "k: 世界 \U0001F600 v", "v")
	checkCaret(t, "k: 世界", 5, "k: 世界", "界")
}

func TestTextCaretAlignment(t *testing.T) {
	// Tabs before the column are shown as 4 spaces.
	checkCaret(t, "\t\tkey: [a, target]", 12, "        key: [a, target]", "target")
	checkCaret(t, "a\tb", 3, "a    b", "b")
	// Escaped control and bidi characters before the column take their
	// escaped width.
	checkCaret(t, "k: [\x1b[31m, target]", 12, `k: [\x1b[31m, target]`, "target")
	checkCaret(t, "k: \u202eevil, target", 11, `k: \u202eevil, target`, "target")
	checkCaret(t, "\tk: \x07é\u009b Z", 9, `    k: \x07é\x9b Z`, "Z")
	// Each invalid UTF-8 byte is one column.
	checkCaret(t, "a\xff\xfeb: x", 4, `a\xff\xfeb: x`, "b")
	checkCaret(t, "\xc3(z", 3, `\xc3(z`, "z")
	// A column past the end puts the caret just after the last character,
	// and a trailing carriage return is not shown.
	shown, caret := renderLine(t, "k: é\t\x1b\r", 40)
	if want := `k: é    \x1b`; shown != want {
		t.Errorf("shown %q, want %q", shown, want)
	}
	if want := strings.Repeat(" ", 12) + "^"; caret != want {
		t.Errorf("caret %q, want %q", caret, want)
	}
}

func TestTextLongLineWindow(t *testing.T) {
	// A long line is cut to a window around the column, counted in
	// characters, with "…" where it was cut.
	line := strings.Repeat("é", 300) + "TARGET" + strings.Repeat("ü", 300)
	checkCaret(t, line, 301, "…"+strings.Repeat("é", 20)+"TARGET"+strings.Repeat("ü", 134)+"…", "TARGET")
	checkCaret(t, line, 10, strings.Repeat("é", 160)+"…", strings.Repeat("é", 151)+"…")
	line = strings.Repeat("\t", 100) + "x\x1by"
	checkCaret(t, line, 102, "…"+strings.Repeat(" ", 19)+`x\x1by`, `\x1b`)
}

// TestTextLongLineScales renders 1,000 findings on a ~90 KB line and 10,000
// on a ~900 KB line. Linear cost makes the second about 10 times slower; a
// cost per finding that grows with the line makes it about 100 times slower.
// Minimums of a few runs of process CPU time keep scheduling noise out.
func TestTextLongLineScales(t *testing.T) {
	render := func(n int) time.Duration {
		var sb strings.Builder
		sb.WriteString("secrets: [")
		fs := make([]finding.Finding, 0, n)
		for i := 0; i < n; i++ {
			fs = append(fs, testRule.New(finding.Location{File: "big.yaml", Line: 1, Column: sb.Len() + 1}, "Item.", ""))
			sb.WriteString("secret_name_" + strings.Repeat("x", 70) + "_000001, ")
		}
		line := sb.String() + "]"
		r := &report.Report{Findings: fs}
		opts := report.Options{Source: func(string) []string { return []string{line} }}
		runtime.GC()
		start := testutil.CPUTime()
		if err := report.WriteText(io.Discard, r, opts); err != nil {
			t.Fatal(err)
		}
		return testutil.CPUTime() - start
	}
	small := render(1000)
	for range 4 {
		small = min(small, render(1000))
	}
	// Retry the big case while the ratio is suspicious but not clearly
	// quadratic, which would take long to confirm.
	big := render(10000)
	for i := 0; i < 4 && (i < 2 || big > 40*small) && big < 80*small; i++ {
		big = min(big, render(10000))
	}
	t.Logf("1,000 findings on a ~90 KB line: %v; 10,000 on a ~900 KB line: %v (%.1f×)", small, big, float64(big)/float64(small))
	if big > 40*small {
		t.Errorf("10× the findings on a 10× longer line took %.1f× as long, want about 10×", float64(big)/float64(small))
	}
}

func TestSanitize(t *testing.T) {
	for in, want := range map[string]string{
		"plain é":        "plain é",
		"a\x1b[2Jb":      `a\x1b[2Jb`,
		"bidi\u202eevil": `bidi\u202eevil`,
		"bad\xffutf8":    `bad\xffutf8`,
		"c1\u009bx":      `c1\x9bx`,
		"tab\tx":         `tab\tx`,
	} {
		if got := report.Sanitize(in); got != want {
			t.Errorf("Sanitize(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExitCode(t *testing.T) {
	r := sample()
	if got := report.ExitCode(r, finding.High); got != report.ExitError {
		t.Errorf("input error: exit %d, want 2", got)
	}
	r.Inputs = r.Inputs[:1]
	for failOn, want := range map[finding.Severity]int{finding.Critical: 0, finding.High: 1, finding.Medium: 1, finding.Info: 1} {
		if got := report.ExitCode(r, failOn); got != want {
			t.Errorf("fail-on %s: exit %d, want %d", failOn, got, want)
		}
	}
	r.Findings = nil
	if got := report.ExitCode(r, finding.Info); got != 0 {
		t.Errorf("no findings: exit %d", got)
	}
}

func compile(t *testing.T, path string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	s, err := c.Compile(path)
	if err != nil {
		t.Fatalf("compile schema %s: %v", path, err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, doc []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if err := s.Validate(inst); err != nil {
		t.Errorf("output does not validate: %v\n%s", err, doc)
	}
}

func TestJSONMatchesSchema(t *testing.T) {
	var b bytes.Buffer
	if err := report.WriteJSON(&b, sample()); err != nil {
		t.Fatal(err)
	}
	validate(t, compile(t, "../docs/schema/report-v1.schema.json"), b.Bytes())
	var doc struct {
		SchemaVersion string `json:"schema_version"`
		Findings      []finding.Finding
		Summary       struct {
			BySeverity map[string]int `json:"by_severity"`
		}
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.SchemaVersion != report.SchemaVersion || len(doc.Findings) != 3 || doc.Summary.BySeverity["high"] != 2 {
		t.Errorf("round trip: %+v", doc)
	}
	// An empty report still has arrays, not nulls.
	b.Reset()
	_ = report.WriteJSON(&b, &report.Report{Tool: report.Tool{Name: "mlgate", Version: "x"}})
	validate(t, compile(t, "../docs/schema/report-v1.schema.json"), b.Bytes())
}

// sarifSchemaPath is the official SARIF 2.1.0 schema in ../shared. It comes
// from another repository, so it is read from there and never copied here.
func sarifSchemaPath(t *testing.T) string {
	p, _ := filepath.Abs("../../shared/schemas/sarif-schema-2.1.0.json")
	if _, err := os.Stat(p); err != nil {
		t.Skip("../shared/schemas/sarif-schema-2.1.0.json is absent; skipping SARIF schema validation")
	}
	return p
}

func TestSARIFMatchesSchema(t *testing.T) {
	schema := compile(t, sarifSchemaPath(t))
	var b bytes.Buffer
	if err := report.WriteSARIF(&b, sample()); err != nil {
		t.Fatal(err)
	}
	validate(t, schema, b.Bytes())
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID         string
						Properties map[string]any
						Help       struct{ Text string }
						Default    struct{ Level string } `json:"defaultConfiguration"`
					}
				}
			}
			Invocations []struct {
				ExecutionSuccessful bool
			}
			Results []struct {
				RuleID              string
				RuleIndex           int
				Level               string
				PartialFingerprints map[string]string
				Locations           []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct{ URI string }
						Region           struct{ StartLine, StartColumn int }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(b.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if len(run.Results) != 3 || run.Invocations[0].ExecutionSuccessful {
		t.Fatalf("results/invocation: %+v", run)
	}
	for _, r := range run.Results {
		rule := run.Tool.Driver.Rules[r.RuleIndex]
		if rule.ID != r.RuleID || rule.Properties["security-severity"] != "8.0" || rule.Help.Text == "" || rule.Default.Level != "error" {
			t.Errorf("rule metadata for %s: %+v", r.RuleID, rule)
		}
		if len(r.PartialFingerprints["mlgate/v1"]) != 32 {
			t.Errorf("fingerprint missing: %+v", r)
		}
	}
	first := run.Results[1] // the file-less finding sorts first
	if first.Level != "warning" || first.Locations[0].PhysicalLocation.ArtifactLocation.URI != "ci/mlgate-pipeline.yaml" ||
		first.Locations[0].PhysicalLocation.Region.StartLine != 1 {
		t.Errorf("first result: %+v", first)
	}
}

func TestParseFormat(t *testing.T) {
	for _, s := range []string{"text", "JSON", "sarif"} {
		if _, err := report.ParseFormat(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := report.ParseFormat("xml"); err == nil {
		t.Error("xml accepted")
	}
}

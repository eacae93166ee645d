package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

package checklist

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/report"
)

// SchemaVersion is the version of the JSON layout WriteJSON produces.
const SchemaVersion = "1"

// WriteText writes the result for people: one line per item grouped by
// category, evidence under failures, what would prove undetermined items,
// and the score with the critical failures at the end.
func WriteText(w io.Writer, res *Result) error {
	var b strings.Builder
	cat := ""
	for _, it := range res.Items {
		if it.Category != cat {
			cat = it.Category
			fmt.Fprintf(&b, "\n%s\n", strings.ReplaceAll(cat, "_", " "))
		}
		mark := map[Status]string{Pass: "PASS", Fail: "FAIL", Undetermined: "  ? "}[it.Status]
		crit := ""
		if it.Critical {
			crit = " [critical]"
		}
		fmt.Fprintf(&b, "  %s  %s%s\n", mark, report.Sanitize(it.Check), crit)
		fmt.Fprintf(&b, "        %s (%s)\n", report.Sanitize(it.Reason), it.ID)
		for _, e := range it.Evidence {
			where := e.File
			if e.Line > 0 {
				where = fmt.Sprintf("%s:%d", e.File, e.Line)
			}
			who := e.Rule
			if who == "" {
				who = "stage " + e.Stage
			}
			fmt.Fprintf(&b, "        - %s %s: %s\n", report.Sanitize(where), report.Sanitize(who), report.Sanitize(firstLine(e.Message)))
		}
		if it.Prove != "" {
			fmt.Fprintf(&b, "        to settle it: %s\n", report.Sanitize(it.Prove))
		}
	}
	fmt.Fprintf(&b, "\nposture score %d/100: %d passed, %d failed, %d undetermined (%d pipelines, %d stages)\n",
		res.Score, res.Passed, res.Failed, res.Undetermined, res.Pipelines, res.Stages)
	if len(res.CriticalFailures) > 0 {
		fmt.Fprintf(&b, "critical failures: %s\n", strings.Join(res.CriticalFailures, ", "))
	}
	_, err := io.WriteString(w, strings.TrimPrefix(b.String(), "\n"))
	return err
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// WriteJSON writes the result as JSON (docs/checklist.md describes it).
func WriteJSON(w io.Writer, res *Result, tool report.Tool) error {
	out := struct {
		SchemaVersion string      `json:"schema_version"`
		Tool          report.Tool `json:"tool"`
		*Result
	}{SchemaVersion, tool, res}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteSARIF writes failed items as SARIF results (rule IDs
// "checklist/ITEM-ID"; critical items at error level, others at warning)
// and undetermined items as notes, so code-scanning dashboards show the
// posture next to the findings.
func WriteSARIF(w io.Writer, res *Result, tool report.Tool) error {
	var fs []finding.Finding
	for _, it := range res.Items {
		if it.Status == Pass {
			continue
		}
		sev := finding.Medium
		if it.Critical {
			sev = finding.High
		}
		msg := it.Check + ": " + it.Reason
		if it.Status == Undetermined {
			sev = finding.Info
			msg = it.Check + ": not determinable from the files: " + it.Reason
		}
		f := finding.Finding{
			RuleID:      "checklist/" + it.ID,
			Severity:    sev,
			Title:       it.Check,
			Message:     msg,
			Remediation: it.Prove,
			Evidence:    string(it.Status),
			Location:    finding.Location{Logical: "checklist item " + it.ID},
		}
		if len(it.Evidence) > 0 {
			f.Location.File, f.Location.Line = it.Evidence[0].File, it.Evidence[0].Line
		}
		f.Fingerprint = f.ComputeFingerprint()
		fs = append(fs, f)
	}
	return report.WriteSARIF(w, &report.Report{Tool: tool, Findings: fs})
}

package report

import (
	"encoding/json"
	"io"

	"github.com/mlgate/mlgate/finding"
)

// jsonReport is the on-disk JSON shape, version SchemaVersion. Documented in
// docs/json-report.md; its JSON Schema is docs/schema/report-v1.schema.json.
type jsonReport struct {
	SchemaVersion string            `json:"schema_version"`
	Tool          Tool              `json:"tool"`
	Inputs        []Input           `json:"inputs"`
	Findings      []finding.Finding `json:"findings"`
	Summary       jsonSummary       `json:"summary"`
}

type jsonSummary struct {
	Total      int            `json:"total"`
	BySeverity map[string]int `json:"by_severity"`
	Suppressed int            `json:"suppressed"`
	Baselined  int            `json:"baselined"`
}

// WriteJSON renders r as an indented JSON document. A JSON report is also
// what --baseline reads back.
func WriteJSON(w io.Writer, r *Report) error {
	fs := append([]finding.Finding{}, r.Findings...)
	finding.Sort(fs)
	by := map[string]int{}
	for s, n := range finding.Counts(fs) {
		by[s.String()] = n
	}
	inputs := r.Inputs
	if inputs == nil {
		inputs = []Input{}
	}
	doc := jsonReport{
		SchemaVersion: SchemaVersion,
		Tool:          r.Tool,
		Inputs:        inputs,
		Findings:      fs,
		Summary: jsonSummary{
			Total:      len(fs),
			BySeverity: by,
			Suppressed: r.Suppressed,
			Baselined:  r.Baselined,
		},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

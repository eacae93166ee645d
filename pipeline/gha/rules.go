package gha

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// workflowOf returns the workflow a pass is about, or nil when the graph is
// not a GitHub Actions graph.
func workflowOf(p *pipeline.Pass) *Workflow {
	if p.Graph == nil || p.Graph.Format != Format {
		return nil
	}
	w, _ := p.Graph.Doc.(*Workflow)
	return w
}

// report records a finding about job j with a severity other than the
// rule's default when sev is valid and differs.
func report(p *pipeline.Pass, j *Job, pos pipeline.Pos, sev finding.Severity, msg, evidence string) {
	var f *finding.Finding
	if j.info != nil && j.info.Stage != nil {
		f = p.Report(j.info.Stage, pos, msg, evidence)
	} else {
		if pos.Line == 0 {
			pos = j.Pos
		}
		f = p.ReportAt(pos, "job "+j.ID, msg, evidence)
	}
	if sev != f.Severity {
		f.Severity = sev
	}
}

// quote returns s in backquotes, cut to a readable length.
func quote(s string) string {
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return "`" + s + "`"
}

var fullSHA = regexp.MustCompile(`^[0-9a-fA-F]{40}$`)

// firstParty reports whether an action is maintained by GitHub.
func firstParty(uses string) bool {
	u := strings.ToLower(uses)
	return strings.HasPrefix(u, "actions/") || strings.HasPrefix(u, "github/")
}

func joinEvents(evs []string) string { return strings.Join(evs, ", ") }

// stepAt returns the step with index i, or nil.
func (j *Job) stepAt(i int) *Step {
	if i < 0 || i >= len(j.Steps) {
		return nil
	}
	return j.Steps[i]
}

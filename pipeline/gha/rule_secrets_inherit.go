package gha

import (
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// SecretsInherit reports `secrets: inherit`.
var SecretsInherit = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-secrets-inherit",
	Title:    "Reusable workflow called with secrets: inherit",
	Severity: finding.Medium,
	Doc: "`secrets: inherit` passes every secret the caller can read to the called workflow, whatever it needs. " +
		"A compromise or a careless change of the called workflow (or of an action it uses) then exposes all of " +
		"them, and nobody reading the caller can tell which secrets are in play. High when outsiders can start " +
		"the calling job (pull_request_target, workflow_run, issue_comment, issues, discussion).",
	Remediation: "Pass only the secrets the called workflow declares: `secrets: { PYPI_TOKEN: ${{ secrets.PYPI_TOKEN }} }`.",
}, func(p *pipeline.Pass) {
	w := workflowOf(p)
	if w == nil {
		return
	}
	for _, j := range w.Jobs {
		if !j.SecretsInherit {
			continue
		}
		sev := finding.Medium
		msg := "Job '" + j.ID + "' calls " + quote(j.Uses) + " with `secrets: inherit`, passing every secret of the repository."
		if a := j.info; a != nil && len(a.PrivilegedForkEvents) > 0 {
			sev = finding.High
			msg += " Outsiders can start it (" + joinEvents(a.PrivilegedForkEvents) + ")."
		}
		report(p, j, j.SecretsPos, sev, msg, "inherit uses="+j.Uses)
	}
})

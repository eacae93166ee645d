package gha

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// WorkflowRunArtifact reports workflow_run workflows that take artifacts
// from the triggering run into a privileged job.
var WorkflowRunArtifact = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-workflow-run-artifact",
	Title:    "workflow_run job uses artifacts of the triggering run with privileges",
	Severity: finding.High,
	Doc: "A workflow triggered by workflow_run runs in the base repository's context with its secrets and a " +
		"token that may write, even when the run that triggered it was a fork pull request. It downloads the " +
		"triggering run's artifacts (actions/download-artifact with `run-id: ${{ github.event.workflow_run.id }}`, " +
		"dawidd6/action-download-artifact, `gh run download`, or listWorkflowRunArtifacts in github-script) " +
		"— content the pull request's code produced — and the job holds secrets or write permissions. If the " +
		"artifact is executed, extracted over the workspace, or its text is used in commands or API calls, the " +
		"pull request escalates to the privileged job.",
	Remediation: "Treat the artifact as untrusted data: extract it into a separate directory, never execute or " +
		"source it, validate every value read from it, and give the job only the permissions it needs (for " +
		"example `pull-requests: write` to comment) and no secrets.",
}, func(p *pipeline.Pass) {
	w := workflowOf(p)
	if w == nil || !w.HasTrigger("workflow_run") {
		return
	}
	for _, j := range w.Jobs {
		a := j.info
		if a == nil || !containsString(a.Events, "workflow_run") {
			continue
		}
		var dl *Step
		for _, st := range j.Steps {
			if downloadsTriggeringArtifacts(st) {
				dl = st
				break
			}
		}
		if dl == nil {
			continue
		}
		var priv []string
		for _, r := range j.Secrets {
			if r.Name != "GITHUB_TOKEN" && r.Name != "*" && r.Available([]string{"workflow_run"}) && !containsString(priv, r.Name) {
				priv = append(priv, r.Name)
			}
		}
		perm := effectivePermissions(w, j)
		writes := perm.Writes()
		what := ""
		switch {
		case len(priv) > 0 && len(writes) > 0:
			what = "secrets " + strings.Join(priv, ", ") + " and write access to " + strings.Join(writes, ", ")
		case len(priv) > 0:
			what = "secrets " + strings.Join(priv, ", ")
		case len(writes) > 0:
			what = "write access to " + strings.Join(writes, ", ")
		case perm == nil:
			what = "the repository's default token permissions (no permissions block; may be read-write)"
		default:
			continue
		}
		pos := dl.UsesPos
		if pos.Line == 0 {
			pos = dl.RunPos
		}
		report(p, j, pos, finding.High, "Job '"+j.ID+"' runs on workflow_run, downloads artifacts of the triggering run (step "+
			stepLabel(dl)+"), which pull request code may have produced, and holds "+what+".",
			"workflow-run-artifact step="+stepLabel(dl))
	}
})

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

var ghRunDownload = regexp.MustCompile(`(?i)\bgh\s+run\s+download\b`)

func downloadsTriggeringArtifacts(st *Step) bool {
	switch actionName(st.Uses) {
	case "actions/download-artifact":
		return strings.Contains(st.With["run-id"].Value, "workflow_run")
	case "dawidd6/action-download-artifact", "bettermarks/action-artifact-download", "aochmann/actions-download-artifact":
		return true
	case "actions/github-script":
		s := st.With["script"].Value
		return strings.Contains(s, "listWorkflowRunArtifacts") || strings.Contains(s, "downloadArtifact")
	}
	return st.Run != "" && ghRunDownload.MatchString(st.Run)
}

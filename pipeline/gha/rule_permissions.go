package gha

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// ExcessivePermissions reports broad GITHUB_TOKEN permissions.
var ExcessivePermissions = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-excessive-permissions",
	Title:    "Overly broad GITHUB_TOKEN permissions",
	Severity: finding.Medium,
	Doc: "The GITHUB_TOKEN a job receives should carry only the scopes the job needs. Reported: " +
		"`permissions: write-all` (high); a workflow with a trigger that outsiders start in the base " +
		"repository's context (pull_request_target, workflow_run, issue_comment, issues, discussion) and no " +
		"`permissions:` block at all, so the repository's default applies, which is read-write on older " +
		"repositories and organisations (medium); and such a job that holds contents, packages, id-token, " +
		"actions, attestations or deployments write (medium; high when the job also runs the pull request's " +
		"code, since that code can then push to branches, publish packages or mint cloud credentials). " +
		"Write scopes on the pull_request trigger are not reported: GitHub makes the token read-only for forks.",
	Remediation: "Add `permissions: {}` or `permissions: contents: read` at the top of the workflow and grant " +
		"each job only the scopes it needs. Never combine write scopes with checking out pull request code.",
}, func(p *pipeline.Pass) {
	w := workflowOf(p)
	if w == nil || w.Action {
		return
	}
	if w.Permissions != nil && w.Permissions.All == "write-all" {
		p.ReportAt(w.Permissions.Pos, "workflow", "The workflow grants `permissions: write-all` to every job's GITHUB_TOKEN.",
			"write-all workflow").Severity = finding.High
	}
	var privileged []string
	for _, t := range w.Triggers {
		if privilegedEvents[t.Event] {
			privileged = append(privileged, t.Event)
		}
	}
	if w.Permissions == nil && len(privileged) > 0 {
		missing := false
		for _, j := range w.Jobs {
			if j.Permissions == nil && j.Uses == "" {
				missing = true
			}
		}
		if missing {
			p.ReportAt(w.OnPos, "workflow", "The workflow runs on "+joinEvents(privileged)+", which outsiders can trigger, "+
				"but sets no `permissions:`; its jobs get the repository's default token permissions, which may be read-write.",
				"no-permissions events="+joinEvents(privileged))
		}
	}
	for _, j := range w.Jobs {
		if j.Permissions != nil && j.Permissions.All == "write-all" {
			report(p, j, j.Permissions.Pos, finding.High, "Job '"+j.ID+"' grants `permissions: write-all` to its GITHUB_TOKEN.",
				"write-all job")
			continue
		}
		a := j.info
		if a == nil || len(a.PrivilegedForkEvents) == 0 {
			continue
		}
		perm := effectivePermissions(w, j)
		if perm == nil || perm.All == "write-all" {
			continue
		}
		var risky []string
		for _, s := range []string{"actions", "attestations", "contents", "deployments", "id-token", "packages"} {
			if perm.Scopes[s] == "write" {
				risky = append(risky, s)
			}
		}
		if len(risky) == 0 {
			continue
		}
		sev := finding.Medium
		extra := ""
		if a.PrivilegedPRCode.MaybeTrue() {
			sev = finding.High
			extra = " and runs the pull request's code"
		}
		pos := perm.ScopePos[risky[0]]
		report(p, j, pos, sev, "Job '"+j.ID+"' can be started by outsiders ("+joinEvents(a.PrivilegedForkEvents)+")"+extra+
			" with a token that can write "+strings.Join(risky, ", ")+".", "write="+strings.Join(risky, ","))
	}
})

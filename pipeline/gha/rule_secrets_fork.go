package gha

import (
	"sort"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// SecretsForkReachable reports secrets handed to jobs that outsiders can
// start and that run their code.
var SecretsForkReachable = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-secrets-fork-reachable",
	Title:    "Secrets passed to a job that runs code from outsiders",
	Severity: finding.High,
	Doc: "A job that outsiders can start under a trigger that hands out secrets (pull_request_target, " +
		"workflow_run, issue_comment, issues, discussion) reads repository secrets (`secrets.X` in env, with, " +
		"run or a reusable workflow's secrets, or `secrets: inherit`) and runs code the outsider controls (it " +
		"checks out the pull request, or mlgate cannot tell). GitHub withholds secrets from fork pull requests " +
		"on the pull_request trigger, so those jobs are not reported; neither are secrets behind a condition " +
		"that really excludes outsiders: `github.event_name != 'pull_request_target' && secrets.X || ''`, a job " +
		"or step `if:` on `github.event.pull_request.head.repo.full_name == github.repository`, " +
		"`head.repo.fork == false`, an author association or actor check, or a maintainer-applied label.",
	Remediation: "Do not give secrets to jobs that run pull request code. Move the step that needs the secret " +
		"into a separate job or workflow that does not check out the pull request, or guard the secret with a " +
		"condition that excludes forks.",
}, func(p *pipeline.Pass) {
	w := workflowOf(p)
	if w == nil {
		return
	}
	for _, j := range w.Jobs {
		a := j.info
		if a == nil || len(a.PrivilegedForkEvents) == 0 || !a.PrivilegedPRCode.MaybeTrue() {
			continue
		}
		names := map[string]pipeline.Pos{}
		for _, r := range j.Secrets {
			if r.Name == "GITHUB_TOKEN" || !r.Available(a.PrivilegedForkEvents) {
				continue
			}
			// A secret read only by a step before the pull request's
			// code is checked out does not meet that code (unless the
			// step persists it, which mlgate does not follow).
			if a.Checkout >= 0 && r.Step >= 0 && r.Step < a.Checkout {
				continue
			}
			if st := j.stepAt(r.Step); st != nil && stepGuarded(st, a.PrivilegedForkEvents) {
				continue
			}
			n := r.Name
			if n == "*" {
				n = "(the whole secrets context)"
			}
			if _, ok := names[n]; !ok {
				names[n] = r.Pos
			}
		}
		if j.SecretsInherit {
			names["(all, via secrets: inherit)"] = j.SecretsPos
		}
		if len(names) == 0 {
			continue
		}
		list := make([]string, 0, len(names))
		for n := range names {
			list = append(list, n)
		}
		sort.Strings(list)
		first := names[list[0]]
		for _, n := range list {
			if pos := names[n]; pos.Line > 0 && (first.Line == 0 || pos.Line < first.Line) {
				first = pos
			}
		}
		how := "checks out and runs the pull request's code"
		if a.PrivilegedPRCode == pipeline.Unknown {
			how = "may run the pull request's code (a checked-out ref or a reusable workflow mlgate cannot evaluate)"
		}
		report(p, j, first, finding.High,
			"Job '"+j.ID+"' can be started by outsiders ("+joinEvents(a.PrivilegedForkEvents)+"), "+how+
				", and reads secrets "+strings.Join(list, ", ")+" that this code can exfiltrate.",
			"secrets="+strings.Join(list, ","))
	}
})

package gha

import (
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// PwnRequest reports privileged triggers that check out and run pull
// request code.
var PwnRequest = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-pwn-request",
	Title:    "Privileged trigger checks out and runs pull request code",
	Severity: finding.Critical,
	Doc: "A job triggered by pull_request_target, workflow_run, issue_comment (or issues, discussion) runs in " +
		"the base repository's context: it has the repository's secrets, a GITHUB_TOKEN that may write, and " +
		"access to the default branch's caches. The job checks out the pull request's head (actions/checkout " +
		"with ref github.event.pull_request.head.sha/ref, github.head_ref, refs/pull/N/..., " +
		"workflow_run.head_sha, `gh pr checkout`, `git fetch origin pull/N/head`) and then runs a step — a build, " +
		"a test, an install, a local action — that executes files from it. Anyone who opens a pull request " +
		"controls that code (the \"pwn request\"). Medium when the checked-out ref is an expression mlgate " +
		"cannot evaluate.",
	Remediation: "Use the pull_request trigger for anything that builds or tests pull request code. If a privileged " +
		"trigger is needed (commenting, labelling), do not check out the head, or split the workflow: an " +
		"unprivileged pull_request workflow uploads results as an artifact, and a workflow_run workflow only " +
		"reads that data, never executes it. Gate remaining cases on `github.event.pull_request.head.repo.full_name " +
		"== github.repository` or a maintainer-applied label.",
}, func(p *pipeline.Pass) {
	w := workflowOf(p)
	if w == nil {
		return
	}
	for _, j := range w.Jobs {
		a := j.info
		if a == nil || len(a.PrivilegedForkEvents) == 0 || !a.RunsAfterCheckout {
			continue
		}
		if st := j.stepAt(a.Checkout); st != nil {
			if stepGuarded(st, a.PrivilegedForkEvents) {
				continue
			}
			pos := st.UsesPos
			if pos.Line == 0 {
				pos = st.RunPos
			}
			report(p, j, pos, finding.Critical,
				"Job '"+j.ID+"' runs on "+joinEvents(a.PrivilegedForkEvents)+" with the repository's secrets and token, "+
					"checks out the pull request's code (step "+stepLabel(st)+") and then runs it. Anyone who opens a "+
					"pull request controls what this job executes.",
				"checkout events="+joinEvents(a.PrivilegedForkEvents)+" step="+stepLabel(st))
			continue
		}
		if a.CheckoutUnknown {
			for _, st := range j.Steps {
				if checkoutKind(st) == 3 && !stepGuarded(st, a.PrivilegedForkEvents) {
					report(p, j, st.UsesPos, finding.Medium,
						"Job '"+j.ID+"' runs on "+joinEvents(a.PrivilegedForkEvents)+" and checks out a ref chosen by an expression ("+
							quote(st.With["ref"].Value+st.With["repository"].Value)+") that mlgate cannot evaluate, then runs "+
							"further steps; if it names the pull request's head, outsiders control this privileged job.",
						"checkout-unknown events="+joinEvents(a.PrivilegedForkEvents)+" step="+stepLabel(st))
					break
				}
			}
		}
	}
})

// stepGuarded reports whether a step's own `if:` keeps outsiders' runs of
// every event in evs out.
func stepGuarded(st *Step, evs []string) bool {
	if st.Condition == "" {
		return false
	}
	g := guardOf(st.Condition)
	for _, ev := range evs {
		if !g.Excludes(ev) {
			return false
		}
	}
	return true
}

// stepLabel names a step for messages: its name, id, uses or number.
func stepLabel(st *Step) string {
	switch {
	case st.Name != "":
		return quote(st.Name)
	case st.Uses != "":
		return quote(st.Uses)
	}
	return "#" + itoa(st.Index+1)
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	neg := i < 0
	if neg {
		i = -i
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}

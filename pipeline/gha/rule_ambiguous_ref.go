package gha

import (
	"regexp"
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// AmbiguousRef reports action refs that look like commits but are not
// full SHAs.
var AmbiguousRef = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-ambiguous-ref",
	Title:    "Action ref is an abbreviated commit SHA",
	Severity: finding.Medium,
	Doc: "`uses: owner/repo@abc1234` looks pinned but is not: GitHub resolves a ref by branch and tag names " +
		"first, so anyone who can push a branch or tag named `abc1234` to the action's repository decides what " +
		"runs, and a short SHA can collide with a commit from a fork (the impostor-commit problem: commits of " +
		"forks are reachable through the parent repository's name). mlgate works offline, so it cannot check " +
		"that a full SHA belongs to the action's own history or that a `# v1.2.3` comment matches it; it reports " +
		"refs of 7 to 39 hex digits (with at least one letter, so date-like tags are left alone), which are ambiguous by construction.",
	Remediation: "Pin to the full 40-character commit SHA of a release of the action's own repository.",
}, func(p *pipeline.Pass) {
	w := workflowOf(p)
	if w == nil {
		return
	}
	check := func(j *Job, uses string, pos pipeline.Pos) {
		i := strings.LastIndexByte(uses, '@')
		if i < 0 || strings.HasPrefix(uses, "docker://") {
			return
		}
		ref := uses[i+1:]
		if shortSHA.MatchString(ref) && strings.ContainsAny(ref, "abcdef") {
			report(p, j, pos, finding.Medium, "The ref "+quote(ref)+" of "+quote(uses[:i])+" is an abbreviated commit SHA; a branch or tag "+
				"of that name, or a colliding commit, takes its place.", "short-sha uses="+uses)
		}
	}
	for _, j := range w.Jobs {
		check(j, j.Uses, j.UsesPos)
		for _, st := range j.Steps {
			check(j, st.Uses, st.UsesPos)
		}
	}
})

var shortSHA = regexp.MustCompile(`^[0-9a-f]{7,39}$`)

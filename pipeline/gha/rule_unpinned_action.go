package gha

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// UnpinnedAction reports actions and reusable workflows not pinned to a
// full commit SHA.
var UnpinnedAction = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-unpinned-action",
	Title:    "Action or reusable workflow not pinned to a commit SHA",
	Severity: finding.Medium,
	Doc: "A step's `uses: owner/repo@v1` (or a job's reusable workflow) names a tag or branch, which its owner — " +
		"or whoever compromises the owner's account — can move to other code at any time (tj-actions/changed-files, " +
		"2025). Only a full 40-character commit SHA fixes what runs. Actions maintained by GitHub (actions/*, " +
		"github/*) are reported at low severity; local actions (./...) and docker:// images (see " +
		"pipeline/unpinned-image) are not reported here.",
	Remediation: "Pin to a full commit SHA and keep the tag as a comment (`uses: owner/repo@<40-hex> # v1.2.3`); let " +
		"Dependabot or Renovate update the pins.",
}, func(p *pipeline.Pass) {
	w := workflowOf(p)
	if w == nil {
		return
	}
	check := func(j *Job, uses string, pos pipeline.Pos) {
		if uses == "" || strings.HasPrefix(uses, "./") || strings.HasPrefix(uses, "docker://") || strings.Contains(uses, "${{") {
			return
		}
		ref := ""
		if i := strings.LastIndexByte(uses, '@'); i >= 0 {
			ref = uses[i+1:]
		}
		if fullSHA.MatchString(ref) {
			return
		}
		sev := finding.Medium
		who := "third-party "
		if firstParty(uses) {
			sev, who = finding.Low, "GitHub-maintained "
		}
		what := "is pinned to " + quote(ref) + ", a tag or branch that can be moved"
		if ref == "" {
			what = "has no ref at all"
		}
		report(p, j, pos, sev, "The "+who+"action "+quote(uses)+" "+what+"; pin it to a full commit SHA.", "uses="+uses)
	}
	for _, j := range w.Jobs {
		check(j, j.Uses, j.UsesPos)
		for _, st := range j.Steps {
			check(j, st.Uses, st.UsesPos)
		}
	}
})

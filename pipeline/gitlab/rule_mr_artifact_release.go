package gitlab

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// MRArtifactToRelease reports release and deploy jobs that consume
// artifacts built by merge-request code.
var MRArtifactToRelease = pipeline.Register(finding.Rule{
	ID:       "pipeline/gitlab-mr-artifact-to-release",
	Title:    "Release or deploy job consumes artifacts from merge-request jobs",
	Severity: finding.High,
	Doc: "A release, publish, sign or deploy job (by its name, its `environment:`, or a signing secret) may run " +
		"in a merge-request pipeline and downloads artifacts (through needs, dependencies or the default " +
		"download from earlier stages) that merge-request jobs build from the merge request's code. A merge " +
		"request can then ship, sign or deploy whatever its code put into those artifacts, under the project's " +
		"name. It also reports privileged jobs that take artifacts from another project or pipeline (`needs: " +
		"project:` / `needs: pipeline:`) at a ref chosen by the merge request ($CI_COMMIT_REF_NAME and " +
		"friends). High when the privileged job certainly runs in merge-request pipelines, medium when that " +
		"could not be determined.",
	Remediation: "Keep release and deploy jobs out of merge-request pipelines (rules on $CI_COMMIT_TAG or " +
		"protected branches), rebuild release artifacts in the release pipeline, and scan and sign them there.",
}, func(p *pipeline.Pass) {
	d := docOf(p)
	if d == nil {
		return
	}
	g := p.Graph
	for _, j := range d.Jobs {
		if !isPrivileged(j) || j.MR == pipeline.False {
			continue
		}
		var from []string
		var at pipeline.Pos
		for _, in := range j.Stage.Inputs {
			if !strings.HasPrefix(in.Artifact, "artifacts") {
				continue
			}
			for _, pr := range g.Producers(in.Artifact) {
				pj := d.JobByName(pr.Name)
				if pj == nil || pj == j || pj.MR != pipeline.True || contains(from, pr.Name) {
					continue
				}
				from = append(from, pr.Name)
				if at.Line == 0 {
					at = in.Pos
				}
			}
		}
		sev := finding.High
		if j.MR == pipeline.Unknown {
			sev = finding.Medium
		}
		if len(from) > 0 {
			msg := "Privileged job '" + j.Name + "' consumes artifacts of merge-request job(s) " + quoteNames(from) +
				", and " + mrWhy(j) + ": a merge request can release, sign or deploy what its code built."
			f := p.Report(j.Stage, at, msg, "artifacts-from="+evidence(from))
			setSeverity(f, sev)
		}
		for _, n := range j.Needs {
			if n.Project == "" && n.Pipeline == "" || !n.Artifacts {
				continue
			}
			ref := n.Ref
			if n.Pipeline != "" {
				continue // a parent pipeline id: same trust as this pipeline
			}
			if strings.Contains(ref, "CI_COMMIT_REF") || strings.Contains(ref, "CI_MERGE_REQUEST_SOURCE_BRANCH") || strings.Contains(ref, "CI_COMMIT_BRANCH") {
				msg := "Privileged job '" + j.Name + "' downloads artifacts of project '" + n.Project + "' at ref '" + ref +
					"', which the merge request chooses, and " + mrWhy(j) + "."
				f := p.Report(j.Stage, n.Pos, msg, "needs-project="+n.Project+"@"+ref)
				setSeverity(f, sev)
			}
		}
	}
})

package gitlab

import (
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// MRSelfHostedRunner reports jobs of merge-request pipelines that run on
// self-managed or GPU runners.
var MRSelfHostedRunner = pipeline.Register(finding.Rule{
	ID:       "pipeline/gitlab-mr-self-hosted-runner",
	Title:    "Merge-request job runs on a self-managed or GPU runner",
	Severity: finding.High,
	Doc: "A GitLab job that runs in merge-request pipelines selects a self-managed runner (a tag other than " +
		"GitLab's hosted saas-* runners) or a GPU runner. The merge request's author controls the code the job " +
		"runs, so it executes on the project's own machine: a shell or docker executor shares the host, its " +
		"caches, Docker daemon and credentials with every later job, and a GPU runner is a target for " +
		"cryptomining and for reading model weights left in GPU memory. Merge requests from forks run in the " +
		"parent project once a maintainer runs their pipeline. Severity is critical when the runner is a GPU " +
		"runner and self-managed, high for self-managed runners, medium for GitLab-hosted GPU runners and when " +
		"it cannot be decided from the file whether merge-request pipelines run the job.",
	Remediation: "Run merge-request jobs on GitLab-hosted runners or on ephemeral, autoscaled runners that are " +
		"destroyed after each job; keep self-managed and GPU runners for protected branches (rules: - if: " +
		"$CI_COMMIT_REF_PROTECTED == \"true\") and register them as protected runners, which GitLab only gives " +
		"jobs of protected branches and tags.",
	Options: map[string]string{
		"gpu_tags": "runner tag patterns (shell-style, case-insensitive) that select GPU runners, replacing the defaults; " +
			"read when the file is parsed, so every rule sees the same GPU property",
		"hosted_tags": "tag patterns of GitLab-operated (hosted, ephemeral VM) runners, replacing the defaults saas-linux-*, " +
			"saas-macos-*, saas-windows-*; any other tag selects a self-managed runner",
	},
}, func(p *pipeline.Pass) {
	// The tag patterns were applied by the adapter; reading them here
	// checks their type when the configuration is loaded.
	p.MustStringList("gpu_tags")
	p.MustStringList("hosted_tags")
	d := docOf(p)
	if d == nil {
		return
	}
	for _, j := range d.Jobs {
		s := j.Stage
		if j.MR == pipeline.False || s.Kind == "trigger" {
			continue
		}
		if s.SelfHosted != pipeline.True && s.GPU != pipeline.True {
			continue
		}
		what := "a self-managed runner"
		sev := finding.High
		switch {
		case s.SelfHosted == pipeline.True && s.GPU == pipeline.True:
			what, sev = "a self-managed GPU runner", finding.Critical
		case s.GPU == pipeline.True && s.SelfHosted == pipeline.False:
			what, sev = "a GitLab-hosted GPU runner", finding.Medium
		case s.GPU == pipeline.True:
			what = "a GPU runner"
		}
		if j.MR == pipeline.Unknown && sev > finding.Medium {
			sev = finding.Medium
		}
		msg := "Job '" + s.Name + "' runs on " + what + " (tags " + quoteNames(j.Tags) + ") and " + mrWhy(j) +
			": code from a merge request executes on the project's own machine." + forkNote
		f := p.Report(s, s.FieldPos("tags"), msg, "mr="+j.MR.String()+" tags="+evidence(j.Tags))
		setSeverity(f, sev)
	}
})

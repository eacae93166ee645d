package gha

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// UntrustedTriggerSelfHosted reports fork-reachable jobs on self-hosted or
// GPU runners.
var UntrustedTriggerSelfHosted = pipeline.Register(finding.Rule{
	ID:       "pipeline/gha-untrusted-trigger-self-hosted",
	Title:    "Untrusted trigger reaches a self-hosted or GPU runner",
	Severity: finding.High,
	Doc: "A job that outsiders can start — a fork pull request (pull_request), or pull_request_target, " +
		"issue_comment, issues, discussion or workflow_run — runs on a self-hosted runner or a GPU runner " +
		"(labels such as self-hosted, gpu, cuda, a100, h100, linux.g5..., also when the label is chosen through " +
		"a matrix value). Self-hosted runners are usually persistent and shared: code from a pull request can " +
		"mine cryptocurrency on the GPUs, leave a backdoor for the next job, read model and dataset caches and " +
		"steal credentials of later, privileged jobs. Critical when the job runs the pull request's code under a " +
		"trigger that also hands out secrets; high for fork pull requests running on the host without a job " +
		"container; medium when a job container or only base-branch code stands between the attacker and the host; " +
		"low when runs-on could not be resolved.",
	Remediation: "Run fork-reachable jobs on GitHub-hosted runners, or require approval for outside collaborators and " +
		"run such jobs on ephemeral, isolated runners (just-in-time runners, one VM per job) with no access to " +
		"shared caches or credentials. Keep GPU runners for trusted branches (push, schedule, workflow_dispatch).",
	Options: map[string]string{
		"gpu_labels":    "runner label patterns that mean a GPU runner, replacing the defaults (a pattern without * must equal the label or one of its words; with * it is a glob)",
		"hosted_labels": "labels of GitHub-hosted larger runners, which are not self-hosted",
	},
}, func(p *pipeline.Pass) {
	gpu := p.MustStringList("gpu_labels")
	hosted := p.MustStringList("hosted_labels")
	w := workflowOf(p)
	if w == nil {
		return
	}
	for _, j := range w.Jobs {
		a := j.info
		if a == nil || len(a.ForkEvents) == 0 || j.Uses != "" {
			continue
		}
		jj := j
		if len(hosted) > 0 {
			jj = withoutLabels(j, hosted)
		}
		rc := ClassifyRunners(jj, gpu)
		what := ""
		switch {
		case rc.SelfHosted == pipeline.True && rc.GPU == pipeline.True:
			what = "a self-hosted GPU runner"
		case rc.SelfHosted == pipeline.True:
			what = "a self-hosted runner"
		case rc.GPU == pipeline.True:
			what = "a GPU runner"
		}
		labels := strings.Join(rc.Labels, ", ")
		if what == "" {
			if rc.SelfHosted == pipeline.Unknown && j.RunsOnPos.Line > 0 {
				report(p, j, j.RunsOnPos, finding.Low,
					"Job '"+j.ID+"' can be started by outsiders ("+joinEvents(a.ForkEvents)+") and its runs-on could not be "+
						"resolved; if it selects a self-hosted or GPU runner, pull request code reaches that machine.",
					"unresolved-runner events="+joinEvents(a.ForkEvents))
			}
			continue
		}
		sev := finding.Medium
		why := ""
		switch {
		case a.PrivilegedPRCode.MaybeTrue():
			sev = finding.Critical
			why = " It checks out and runs pull request code under " + joinEvents(a.PrivilegedForkEvents) + ", with the repository's secrets."
		case a.RunsPRCode.MaybeTrue() && j.Container == nil:
			sev = finding.High
			why = " It runs the pull request's code directly on the host, with no job container."
		case a.RunsPRCode.MaybeTrue():
			why = " It runs the pull request's code in a job container (" + j.Container.Image + "), which does not isolate the host's GPUs, caches and runner process well."
		default:
			why = " It runs base-branch code, but input from outsiders (titles, comments, branch names) reaches the machine."
		}
		report(p, j, j.RunsOnPos, sev,
			"Job '"+j.ID+"' can be started by outsiders ("+joinEvents(a.ForkEvents)+") and runs on "+what+" ("+labels+")."+why,
			"runner="+labels+" events="+joinEvents(a.ForkEvents))
	}
})

// withoutLabels returns a copy of j whose runners treat the given labels
// as GitHub-hosted (they are removed).
func withoutLabels(j *Job, hosted []string) *Job {
	skip := map[string]bool{}
	for _, h := range hosted {
		skip[strings.ToLower(h)] = true
	}
	c := *j
	c.Runners = nil
	for _, r := range j.Runners {
		nr := Runner{Group: r.Group}
		removed := false
		for _, l := range r.Labels {
			if skip[strings.ToLower(l)] {
				removed = true
				continue
			}
			nr.Labels = append(nr.Labels, l)
		}
		if removed && len(nr.Labels) == 0 {
			nr.Labels = []string{"ubuntu-latest"}
		}
		c.Runners = append(c.Runners, nr)
	}
	return &c
}

package gitlab

import (
	"strings"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// DindPrivileged reports Docker-in-Docker services on self-managed runners.
var DindPrivileged = pipeline.Register(finding.Rule{
	ID:       "pipeline/gitlab-dind-privileged",
	Title:    "Docker-in-Docker service needs a privileged self-managed runner",
	Severity: finding.High,
	Doc: "A job uses the docker:dind service (Docker-in-Docker). It only works on a runner whose executor " +
		"starts containers with privileged = true, and a privileged container is root on the runner's host: the " +
		"job can read other jobs' containers, caches and credentials on that machine and leave code that runs " +
		"in later jobs. On GitLab-hosted runners every job gets a fresh VM, so it is not reported there. It is " +
		"high when the job may run in merge-request pipelines, medium when it runs for protected work only " +
		"(still a lateral-movement path for anyone who can push a branch).",
	Remediation: "Build images without a privileged daemon (kaniko, buildah --isolation chroot, BuildKit " +
		"rootless) or on ephemeral, autoscaled runners that are destroyed after each job; never share a " +
		"privileged runner with merge-request jobs.",
}, func(p *pipeline.Pass) {
	d := docOf(p)
	if d == nil {
		return
	}
	for _, j := range d.Jobs {
		s := j.Stage
		if s.SelfHosted == pipeline.False {
			continue
		}
		for _, svc := range j.Services {
			if !isDind(svc.Name) {
				continue
			}
			sev := finding.High
			if j.MR == pipeline.False {
				sev = finding.Medium
			}
			msg := "Job '" + s.Name + "' uses the Docker-in-Docker service '" + svc.Name + "', which needs a privileged " +
				"runner, on a self-managed runner" + runnerNote(s) + "; " + mrWhy(j) + ". A privileged job is root on the runner's host."
			f := p.Report(s, svc.Pos, msg, "dind="+svc.Name)
			setSeverity(f, sev)
			break
		}
	}
})

func isDind(image string) bool {
	name := strings.ToLower(image)
	if i := strings.Index(name, "@"); i >= 0 {
		name = name[:i]
	}
	return strings.Contains(name, "dind") && strings.Contains(name, "docker")
}

func runnerNote(s *pipeline.Stage) string {
	if s.SelfHosted == pipeline.Unknown {
		return " (assumed: its tags use variables not known from the file)"
	}
	if len(s.RunnerLabels) > 0 {
		return " (tags " + quoteNames(s.RunnerLabels) + ")"
	}
	return ""
}

package gitlab_test

import (
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

func TestIncludeUnpinned(t *testing.T) {
	job := "job: {script: [x]}\n"
	sha := "0123456789abcdef0123456789abcdef01234567"
	runRuleCases(t, gitlab.IncludeUnpinned, []ruleCase{
		{name: "remote over http", src: "include: http://ci.example.com/ml.yml\n" + job,
			want: []string{"include remote http://ci.example.com/ml.yml"}, sev: finding.High},
		{name: "remote without integrity", src: "include:\n  - remote: https://ci.example.com/ml.yml\n" + job,
			want: []string{"include remote https://ci.example.com/ml.yml"}, sev: finding.Medium},
		{name: "project without ref", src: "include:\n  - project: org/templates\n    file: ml.yml\n" + job,
			want: []string{"include project org/templates"}, sev: finding.Medium},
		{name: "project at a branch", src: "include:\n  - project: org/templates\n    ref: main\n    file: ml.yml\n" + job,
			want: []string{"include project org/templates"}, sev: finding.Medium},
		{name: "project at a version tag", src: "include:\n  - project: org/templates\n    ref: v1.4.2\n    file: ml.yml\n" + job,
			want: []string{"include project org/templates"}, sev: finding.Low},
		{name: "component at latest", src: "include:\n  - component: gitlab.com/org/c/train@~latest\n" + job,
			want: []string{"include component gitlab.com/org/c/train@~latest"}, sev: finding.Medium},
		{name: "pinned", src: "include:\n  - remote: https://ci.example.com/ml.yml\n    integrity: sha256-L6vEOGPa6N1sM0Sl5ZGHCwEGbN0UYxjY1Nfh3qpQ0v4=\n" +
			"  - project: org/templates\n    ref: " + sha + "\n    file: ml.yml\n  - component: gitlab.com/org/c/train@" + sha + "\n  - template: Security/SAST.gitlab-ci.yml\n" + job},
	})
}

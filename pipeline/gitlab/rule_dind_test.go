package gitlab_test

import (
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

func TestDindPrivileged(t *testing.T) {
	runRuleCases(t, gitlab.DindPrivileged, []ruleCase{
		{name: "mr job with dind on own runner", src: "build:\n  tags: [docker-privileged]\n  image: docker:24\n  services: [docker:24-dind]\n  script: [docker build .]\n" + mrRule,
			want: []string{"build"}, sev: finding.High},
		{name: "protected job with dind on own runner", src: "build:\n  tags: [docker-privileged]\n  services: [{name: \"docker:dind\", alias: docker}]\n  script: [docker build .]\n",
			want: []string{"build"}, sev: finding.Medium},
		{name: "dind on GitLab-hosted runner", src: "build:\n  services: [docker:24-dind]\n  script: [docker build .]\n" + mrRule},
		{name: "other service on own runner", src: "build:\n  tags: [box]\n  services: [postgres:16]\n  script: [x]\n" + mrRule},
	})
}

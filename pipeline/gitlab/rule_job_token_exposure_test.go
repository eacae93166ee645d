package gitlab_test

import (
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

func TestJobTokenExposure(t *testing.T) {
	runRuleCases(t, gitlab.JobTokenExposure, []ruleCase{
		{name: "base64 defeats masking", src: "job:\n  script:\n    - echo $CI_JOB_TOKEN | base64\n", want: []string{"job"}, sev: finding.High},
		{name: "written into an artifact", src: "job:\n  script:\n    - echo \"$CI_JOB_TOKEN\" > out/token.txt\n  artifacts:\n    paths: [out/]\n",
			want: []string{"job"}, sev: finding.High},
		{name: "echoed", src: "job:\n  script:\n    - set -e; echo \"token=${CI_JOB_TOKEN}\"\n", want: []string{"job"}, sev: finding.Medium},
		{name: "debug trace", src: "variables:\n  CI_DEBUG_TRACE: \"true\"\njob: {script: [x]}\n", want: []string{"variable CI_DEBUG_TRACE"}, sev: finding.High},
		{name: "login on stdin", src: "job:\n  script:\n    - echo \"$CI_JOB_TOKEN\" | docker login -u gitlab-ci-token --password-stdin $CI_REGISTRY\n"},
		{name: "netrc outside artifacts", src: "job:\n  script:\n    - echo \"machine gitlab.com password ${CI_JOB_TOKEN}\" > ~/.netrc\n  artifacts:\n    paths: [dist/]\n"},
		{name: "auth config written by a subshell", src: "job:\n  script:\n    - echo \"{\\\"auth\\\":\\\"$(echo -n gitlab-ci-token:${CI_JOB_TOKEN} | base64 | tr -d '\\n')\\\"}\" > /kaniko/.docker/config.json\n"},
		{name: "used, not printed", src: "job:\n  script:\n    - 'curl --header \"JOB-TOKEN: $CI_JOB_TOKEN\" $CI_API_V4_URL/projects'\n"},
	})
}

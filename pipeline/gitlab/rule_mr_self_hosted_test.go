package gitlab_test

import (
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

const mrRule = "  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n"

func TestMRSelfHostedRunner(t *testing.T) {
	runRuleCases(t, gitlab.MRSelfHostedRunner, []ruleCase{
		{name: "mr job on self-managed runner", src: "test:\n  tags: [build-box]\n  script: [pytest]\n" + mrRule,
			want: []string{"test"}, sev: finding.High},
		{name: "mr job on self-managed GPU runner", src: "train:\n  tags: [a100-pool]\n  script: [python train.py]\n  only: [merge_requests]\n",
			want: []string{"train"}, sev: finding.Critical},
		{name: "gpu tag hidden in a matrix", src: "train:\n  tags: [$RUNNER]\n  script: [x]\n  parallel:\n    matrix:\n      - RUNNER: [cpu-box, h100-box]\n" + mrRule,
			want: []string{"train"}, sev: finding.Critical},
		{name: "hosted GPU runner", src: "train:\n  tags: [saas-linux-medium-amd64-gpu-standard]\n  script: [x]\n" + mrRule,
			want: []string{"train"}, sev: finding.Medium},
		{name: "workflow may create MR pipelines", src: "workflow:\n  rules:\n    - if: $CI_MERGE_REQUEST_LABELS =~ /ci/\ntest:\n  tags: [build-box]\n  script: [x]\n",
			want: []string{"test"}, sev: finding.Medium},
		{name: "same job on a hosted runner", src: "test:\n  script: [pytest]\n" + mrRule},
		{name: "self-managed runner, branch pipelines only", src: "train:\n  tags: [a100-pool]\n  script: [x]\n  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n"},
		{name: "forks excluded", src: "train:\n  tags: [a100-pool]\n  script: [x]\n  rules:\n    - if: $CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_PROJECT_ID\n"},
	})
}

package gitlab_test

import (
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

func TestCredentialInMRJob(t *testing.T) {
	runRuleCases(t, gitlab.CredentialInMRJob, []ruleCase{
		{name: "variable from settings", src: "test:\n  script: [huggingface-cli login --token $HF_TOKEN]\n" + mrRule,
			want: []string{"test"}, sev: finding.Medium},
		{name: "id token", src: "test:\n  id_tokens:\n    GCP_TOKEN: {aud: https://iam.googleapis.com}\n  script: [x]\n" + mrRule,
			want: []string{"test"}, sev: finding.High},
		{name: "unknown reachability", src: "test:\n  script: [echo $NPM_TOKEN]\n  rules:\n    - if: $CI_MERGE_REQUEST_LABELS =~ /x/\n",
			want: []string{"test"}, sev: finding.Low},
		{name: "branch pipelines only", src: "release:\n  script: [twine upload -p $PYPI_PASSWORD dist/*]\n  rules:\n    - if: $CI_COMMIT_TAG\n"},
		{name: "predefined job token only", src: "test:\n  script: ['git clone https://gitlab-ci-token:${CI_JOB_TOKEN}@gitlab.com/x/y']\n" + mrRule},
		{name: "alias of the registry password", src: "test:\n  variables: {IN_REGISTRY_TOKEN: \"${CI_REGISTRY_PASSWORD}\"}\n  script: [crane auth login -p $IN_REGISTRY_TOKEN]\n" + mrRule},
		{name: "no credentials", src: "test:\n  script: [pytest]\n" + mrRule},
	})
}

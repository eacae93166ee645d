package gitlab_test

import (
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

func TestMRArtifactToRelease(t *testing.T) {
	const build = "stages: [build, deploy]\nbuild-model:\n  stage: build\n  script: [python train.py]\n  artifacts: {paths: [model/]}\n" + mrRule
	runRuleCases(t, gitlab.MRArtifactToRelease, []ruleCase{
		{name: "publish in MR pipelines with MR artifacts", src: build + "publish-model:\n  stage: deploy\n  needs: [build-model]\n  script: [python publish.py]\n" + mrRule,
			want: []string{"publish-model"}, sev: finding.High},
		{name: "deploy through default artifact download", src: build + "deploy:\n  stage: deploy\n  environment: production\n  script: [x]\n  rules:\n    - when: always\n",
			want: []string{"deploy"}, sev: finding.High},
		{name: "cross-project artifacts at the MR's ref", src: "publish:\n  needs:\n    - project: org/models\n      job: train\n      ref: $CI_COMMIT_REF_NAME\n      artifacts: true\n  script: [x]\n" + mrRule,
			want: []string{"publish"}, sev: finding.High},
		{name: "publish only on tags", src: build + "publish-model:\n  stage: deploy\n  needs: [build-model]\n  script: [x]\n  rules:\n    - if: $CI_COMMIT_TAG\n"},
		{name: "test job consumes MR artifacts", src: build + "evaluate:\n  stage: deploy\n  needs: [build-model]\n  script: [x]\n" + mrRule},
		{name: "needs without artifacts", src: build + "publish-model:\n  stage: deploy\n  needs: [{job: build-model, artifacts: false}]\n  script: [x]\n" + mrRule},
	})
}

package gitlab_test

import (
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

func TestCachePoisoning(t *testing.T) {
	const mr = "test:\n  stage: test\n  script: [pip install -r req.txt]\n  cache: {key: pip, paths: [.cache/pip]}\n" + mrRule
	runRuleCases(t, gitlab.CachePoisoning, []ruleCase{
		{name: "shared key", src: mr + "publish-model:\n  stage: deploy\n  script: [python publish.py]\n  cache: {key: pip, paths: [.cache/pip]}\n  rules:\n    - if: $CI_COMMIT_TAG\n",
			want: []string{"publish-model"}, sev: finding.Medium},
		{name: "shared key, unprotected", src: mr + "deploy:\n  stage: deploy\n  environment: production\n  script: [x]\n  cache: {key: pip, paths: [.cache/pip], unprotect: true}\n",
			want: []string{"deploy"}, sev: finding.High},
		{name: "per-ref key", src: "test:\n  script: [x]\n  cache: {key: $CI_COMMIT_REF_SLUG, paths: [c]}\n" + mrRule +
			"release:\n  script: [x]\n  cache: {key: $CI_COMMIT_REF_SLUG, paths: [c]}\n  rules:\n    - if: $CI_COMMIT_TAG\n"},
		{name: "release job does not read the cache", src: mr + "release:\n  stage: deploy\n  script: [x]\n  cache: {key: pip, paths: [.cache/pip], policy: push}\n  rules:\n    - if: $CI_COMMIT_TAG\n"},
		{name: "writer not in MR pipelines", src: "test:\n  script: [x]\n  cache: {key: pip, paths: [c]}\nrelease:\n  stage: deploy\n  script: [x]\n  cache: {key: pip, paths: [c]}\n"},
	})
}

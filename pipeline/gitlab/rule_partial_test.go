package gitlab_test

import (
	"testing"

	"github.com/mlgate/mlgate/pipeline/gitlab"
)

func TestPartialPipeline(t *testing.T) {
	runRuleCases(t, gitlab.PartialPipeline, []ruleCase{
		{name: "remote include", src: "include:\n  - remote: https://example.com/ci.yml\n    integrity: sha256-x\njob: {script: [x]}\n",
			want: []string{"include remote https://example.com/ci.yml"}},
		{name: "wildcard local include and missing extends", src: "include: ci/*.yml\njob:\n  extends: .elsewhere\n  script: [x]\n",
			want: []string{"include local ci/*.yml", "configuration"}},
		{name: "remote child pipeline", src: "child:\n  trigger:\n    include:\n      - remote: https://example.com/child.yml\n",
			want: []string{"configuration"}},
		{name: "everything local", src: "include: a.yml\njob: {extends: .t}\n", extra: map[string]string{"a.yml": ".t: {script: [x]}\n"}},
	})
}

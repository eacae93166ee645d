package gitlab_test

import (
	"testing"

	"github.com/mlgate/mlgate/pipeline/gitlab"
)

func TestScanAllowFailure(t *testing.T) {
	runRuleCases(t, gitlab.ScanAllowFailure, []ruleCase{
		{name: "model scan allowed to fail", src: "model-scan:\n  script: [mlgate scan model.pt]\n  allow_failure: true\n", want: []string{"model-scan"}},
		{name: "scanner found by command", src: "check:\n  script: [trivy image --exit-code 1 app:latest]\n  allow_failure:\n    exit_codes: [1]\n", want: []string{"check"}},
		{name: "sast job", src: "sast:\n  script: [x]\n  allow_failure: true\n", want: []string{"sast"}},
		{name: "blocking scan", src: "model-scan:\n  script: [mlgate scan model.pt]\n  allow_failure: false\n"},
		{name: "non-scan job allowed to fail", src: "flaky-test:\n  script: [pytest]\n  allow_failure: true\n"},
	})
}

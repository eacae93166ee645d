package gitlab_test

import (
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

func TestHardcodedSecret(t *testing.T) {
	runRuleCases(t, gitlab.HardcodedSecret, []ruleCase{
		{name: "token in global variables", src: "variables:\n  HF_TOKEN: hf_abcdefghijklmnopqrstuvwxyz0123\njob: {script: [x]}\n",
			want: []string{"variable HF_TOKEN"}, sev: finding.High},
		{name: "long token in a job", src: "job:\n  variables:\n    DEPLOY_API_KEY: 9f8e7d6c5b4a39281726\n  script: [x]\n",
			want: []string{"job"}, sev: finding.High},
		{name: "test database password", src: "test:\n  services: [postgres:16]\n  variables:\n    POSTGRES_PASSWORD: postgres\n  script: [x]\n",
			want: []string{"test"}, sev: finding.Low},
		{name: "url with password", src: "variables:\n  PIP_INDEX_URL: https://user:s3cr3t@pypi.example.com/simple\njob: {script: [x]}\n",
			want: []string{"variable PIP_INDEX_URL"}, sev: finding.High},
		{name: "shared by extends: one finding", src: ".t:\n  variables: {NPM_TOKEN: npm_abcdefghijklmnopqrstuvwxyz}\na: {extends: .t, script: [x]}\nb: {extends: .t, script: [x]}\n",
			want: []string{"a"}},
		{name: "references only", src: "variables:\n  HF_TOKEN: $HUB_TOKEN\n  AUTH_TOKEN: \"${USER}:${PASS}@\"\n  HEADER_TOKEN: Bearer $TOKEN\njob: {script: [x]}\n"},
		{name: "not a credential name", src: "variables:\n  CACHE_KEY: 9f8e7d6c5b4a39281726abc\n  TOKEN_URL: https://auth.example.com/token\njob: {script: [x]}\n"},
		{name: "path and switch", src: "variables:\n  SSH_PRIVATE_KEY: /run/secrets/key\n  SECRET_DETECTION_DISABLED: \"true\"\njob: {script: [x]}\n"},
	})
}

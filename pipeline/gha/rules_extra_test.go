package gha

import (
	"testing"

	"github.com/mlgate/mlgate/pipeline"
)

// TestRuleCases covers variants the fixture pairs do not: each source
// must give exactly want findings of the rule.
func TestRuleCases(t *testing.T) {
	cases := []struct {
		name, rule, src string
		want            int
	}{
		{"model cache through HF_HOME on the host", "pipeline/gha-fork-model-cache", `
on: pull_request
jobs:
  t:
    runs-on: [self-hosted, a100]
    env:
      HF_HOME: /mnt/shared/hf
    steps:
      - uses: actions/checkout@v4
      - run: pytest
`, 1},
		{"HF_HOME in the workspace", "pipeline/gha-fork-model-cache", `
on: pull_request
jobs:
  t:
    runs-on: [self-hosted, a100]
    env:
      HF_HOME: ${{ github.workspace }}/.hf
    steps:
      - uses: actions/checkout@v4
      - run: pytest
`, 0},
		{"secret read before the checkout", "pipeline/gha-secrets-fork-reachable", `
on: pull_request_target
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - run: ./notify.sh
        env: {TOKEN: "${{ secrets.SLACK }}"}
      - uses: actions/checkout@v4
        with: {ref: "${{ github.event.pull_request.head.sha }}"}
      - run: make
`, 0},
		{"secret in job env reaches PR code", "pipeline/gha-secrets-fork-reachable", `
on: pull_request_target
jobs:
  t:
    runs-on: ubuntu-latest
    env: {TOKEN: "${{ secrets.SLACK }}"}
    steps:
      - uses: actions/checkout@v4
        with: {ref: "${{ github.event.pull_request.head.sha }}"}
      - run: make
`, 1},
		{"step guard on the checkout", "pipeline/gha-pwn-request", `
on: pull_request_target
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        if: github.event.pull_request.head.repo.fork == false
        with: {ref: "${{ github.event.pull_request.head.sha }}"}
      - run: make
`, 0},
		{"issue_comment gh pr checkout", "pipeline/gha-pwn-request", `
on: issue_comment
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: gh pr checkout ${{ github.event.issue.number }} && make bench
`, 1},
		{"unresolved runner on a fork trigger", "pipeline/gha-untrusted-trigger-self-hosted", `
on: pull_request
jobs:
  t:
    runs-on: ${{ vars.RUNNER }}
    steps: [{run: make}]
`, 1},
		{"contains on author_association", "pipeline/gha-unsound-contains", `
on: issue_comment
jobs:
  t:
    if: contains('OWNER MEMBER', github.event.comment.author_association)
    runs-on: ubuntu-latest
    steps: [{run: make}]
`, 0},
		{"head_ref injection on pull_request", "pipeline/gha-template-injection", `
on: pull_request
jobs:
  t:
    runs-on: ubuntu-latest
    steps: [{run: "git push origin HEAD:${{ github.head_ref }}"}]
`, 1},
		{"twine with TWINE_PASSWORD", "pipeline/gha-registry-credentials", `
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - run: twine upload dist/*
        env:
          TWINE_USERNAME: __token__
          TWINE_PASSWORD: ${{ secrets.PYPI }}
`, 1},
		{"workflow_run without downloads", "pipeline/gha-workflow-run-artifact", `
on:
  workflow_run: {workflows: [CI], types: [completed]}
jobs:
  t:
    runs-on: ubuntu-latest
    steps: [{run: "echo ${{ secrets.X }} > /dev/null"}]
`, 0},
	}
	for _, c := range cases {
		g, err := Parse("w.yml", "", []byte(c.src))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		fs, err := pipeline.Analyze(g, allRules)
		if err != nil {
			t.Fatal(err)
		}
		if got := ofRule(fs, c.rule); len(got) != c.want {
			t.Errorf("%s: %d %s findings, want %d: %v", c.name, len(got), c.rule, c.want, got)
		}
	}
}

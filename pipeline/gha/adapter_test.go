package gha

import (
	"strings"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
)

func parseString(t *testing.T, rel, src string) (*pipeline.Graph, *Workflow) {
	t.Helper()
	g, err := Parse("w.yml", rel, []byte(src))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return g, g.Doc.(*Workflow)
}

func stageNamed(t *testing.T, g *pipeline.Graph, name string) *pipeline.Stage {
	t.Helper()
	for _, s := range g.Stages {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no stage %q", name)
	return nil
}

func TestMatchPathAndSniff(t *testing.T) {
	for rel, want := range map[string]bool{
		".github/workflows/ci.yml":          true,
		"sub/repo/.github/workflows/x.yaml": true,
		".github/workflows/sub/x.yml":       false,
		".github/workflows/README.md":       false,
		"action.yml":                        false, // by content only
		"github/workflows/ci.yml":           false,
	} {
		if got := IsWorkflowPath(rel); got != want {
			t.Errorf("IsWorkflowPath(%q) = %v", rel, got)
		}
		if a := pipeline.MatchPath(rel); (a != nil && a.Format == Format) != want {
			t.Errorf("pipeline.MatchPath(%q) = %v", rel, a)
		}
	}
	for src, want := range map[string]bool{
		"on: push\njobs:\n  a:\n    runs-on: x\n":                                  true,
		"name: x\n'on':\n  push:\njobs: {}\n":                                      true,
		"runs:\n  using: composite\n  steps: []\n":                                 true,
		"runs:\n  using: 'node20'\n  main: index.js\n":                             true,
		"runs: 3\nusing: x\n":                                                      false,
		"stages: [build]\njobs:\n  - a\n":                                          false,
		"apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n":                       false,
		"name: Action\nruns:\n  steps:\n    - run: echo\n  image: Dockerfile\n":    false,
		"jobs:\n  a:\n    runs-on: ubuntu-latest\n\n# on below\ntrue:\n  - push\n": true,
	} {
		if got := Sniff([]byte(src)); got != want {
			t.Errorf("Sniff(%q) = %v, want %v", src, got, want)
		}
	}
}

func TestTriggersAndForkReach(t *testing.T) {
	g, w := parseString(t, "", `
on:
  push:
    tags: ["v*"]
  pull_request:
  pull_request_target:
    types: [labeled]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make test
  release:
    if: github.event_name == 'push'
    runs-on: ubuntu-latest
    steps:
      - run: make release
  triage:
    if: github.event_name == 'pull_request_target'
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: ./label.sh
`)
	if len(w.Triggers) != 3 || w.Triggers[0].Event != "push" || w.Triggers[0].Tags[0] != "v*" || w.Triggers[2].Types[0] != "labeled" {
		t.Fatalf("triggers: %+v", w.Triggers)
	}
	test, release, triage := stageNamed(t, g, "test"), stageNamed(t, g, "release"), stageNamed(t, g, "triage")
	if test.ForkReachable != pipeline.True || test.RunsUntrustedCode != pipeline.True {
		t.Errorf("test: fork %v untrusted %v", test.ForkReachable, test.RunsUntrustedCode)
	}
	if release.ForkReachable != pipeline.False || release.RunsUntrustedCode != pipeline.False {
		t.Errorf("release: fork %v untrusted %v", release.ForkReachable, release.RunsUntrustedCode)
	}
	// pull_request_target with a base checkout runs trusted code.
	if triage.ForkReachable != pipeline.True || triage.RunsUntrustedCode != pipeline.False {
		t.Errorf("triage: fork %v untrusted %v", triage.ForkReachable, triage.RunsUntrustedCode)
	}
	if test.Isolation != pipeline.IsolationVM || test.Runner != pipeline.RunnerEphemeral || test.SelfHosted != pipeline.False {
		t.Errorf("hosted runner: %v %v %v", test.Isolation, test.Runner, test.SelfHosted)
	}
}

func TestOnForms(t *testing.T) {
	for _, on := range []string{"on: pull_request", "on: [push, pull_request]", "\"on\":\n  pull_request: {}", "true: [pull_request]"} {
		g, _ := parseString(t, "", on+"\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n")
		if g.Stages[0].ForkReachable != pipeline.True {
			t.Errorf("%q: not fork reachable", on)
		}
	}
}

func TestRunnerResolution(t *testing.T) {
	g, w := parseString(t, "", `
on: pull_request
jobs:
  m:
    strategy:
      matrix:
        cfg:
          - {runner: ubuntu-22.04}
          - {runner: linux.g5.4xlarge.nvidia.gpu}
    runs-on: ${{ matrix.cfg.runner }}
    steps: [{run: nvidia-smi}]
  lit:
    runs-on: ${{ github.repository == 'org/repo' && 'self-hosted' || 'ubuntu-latest' }}
    steps: [{run: echo}]
  group:
    runs-on:
      group: gpu-fleet
      labels: [linux, h100]
    steps: [{run: echo}]
  hidden:
    runs-on: ${{ inputs.runner }}
    steps: [{run: echo}]
  cont:
    runs-on: [self-hosted, x64]
    container:
      image: nvcr.io/nvidia/pytorch:24.01-py3
      options: --gpus all --network=none -v /mnt/models:/models:ro
    steps: [{run: echo}]
`)
	m := stageNamed(t, g, "m")
	if m.SelfHosted != pipeline.True || m.GPU != pipeline.True || m.Isolation != pipeline.IsolationNone {
		t.Errorf("matrix: self %v gpu %v iso %v labels %v", m.SelfHosted, m.GPU, m.Isolation, m.RunnerLabels)
	}
	lit := stageNamed(t, g, "lit")
	if lit.SelfHosted != pipeline.True || strings.Join(lit.RunnerLabels, ",") != "self-hosted,ubuntu-latest" {
		t.Errorf("literal: %v %v", lit.SelfHosted, lit.RunnerLabels)
	}
	if w.Jobs[1].RunsOnUnresolved {
		t.Error("literal runs-on should be resolved (github.repository is only compared)")
	}
	grp := stageNamed(t, g, "group")
	if grp.SelfHosted != pipeline.True || grp.GPU != pipeline.True {
		t.Errorf("group: %v %v", grp.SelfHosted, grp.GPU)
	}
	hidden := stageNamed(t, g, "hidden")
	if hidden.SelfHosted != pipeline.Unknown || hidden.GPU != pipeline.Unknown || hidden.Isolation != pipeline.IsolationUnknown {
		t.Errorf("hidden: %v %v %v", hidden.SelfHosted, hidden.GPU, hidden.Isolation)
	}
	c := stageNamed(t, g, "cont")
	if c.Isolation != pipeline.IsolationContainer || c.Network.Access != pipeline.False || c.GPU != pipeline.True {
		t.Errorf("container: iso %v net %v gpu %v", c.Isolation, c.Network.Access, c.GPU)
	}
	if len(c.Volumes) != 1 || c.Volumes[0].Kind != "hostPath" || c.Volumes[0].ReadOnly != pipeline.True || c.Volumes[0].Path != "/models" {
		t.Errorf("volumes: %+v", c.Volumes)
	}
	if len(c.Images) != 1 || c.Images[0].Kind != "job" || c.Images[0].Pos.Line == 0 {
		t.Errorf("images: %+v", c.Images)
	}
}

func TestStepsAndPositions(t *testing.T) {
	src := "on: push\njobs:\n  train:\n    runs-on: ubuntu-latest\n    defaults:\n      run:\n        shell: bash\n    steps:\n" +
		"      - name: Install\n        run: |\n          pip install torch\n          python train.py\n" +
		"        env:\n          HF_TOKEN: ${{ secrets.HF_TOKEN }}\n" +
		"      - uses: docker://alpine:3\n        with:\n          args: echo hi\n"
	g, _ := parseString(t, "", src)
	s := g.Stages[0]
	if len(s.Steps) != 2 {
		t.Fatalf("steps: %d", len(s.Steps))
	}
	st := s.Steps[0]
	if st.Name != "Install" || st.Shell != "bash" || !st.RunLiteral || st.RunPos != (pipeline.Pos{Line: 11, Column: 11}) {
		t.Errorf("step 0: %+v", st)
	}
	off := strings.Index(st.Run, "python")
	if p := st.PosAt(off); p.Line != 12 || p.Column != 11 {
		t.Errorf("PosAt(python) = %+v", p)
	}
	if len(st.Secrets) != 1 || st.Secrets[0].Name != "HF_TOKEN" || st.Secrets[0].Pos.Line != 14 {
		t.Errorf("step secrets: %+v", st.Secrets)
	}
	if len(s.Secrets) != 1 || s.Secrets[0].Name != "HF_TOKEN" {
		t.Errorf("stage secrets: %+v", s.Secrets)
	}
	if s.Steps[1].Uses != "docker://alpine:3" || s.Steps[1].With["args"].Value != "echo hi" || s.Steps[1].UsesPos.Line != 15 {
		t.Errorf("step 1: %+v", s.Steps[1])
	}
	if len(s.Images) != 1 || s.Images[0].Kind != "step" || s.Images[0].Ref != "alpine:3" {
		t.Errorf("images: %+v", s.Images)
	}
}

func TestSecretGuards(t *testing.T) {
	cases := []struct {
		expr  string
		event string
		avail bool
	}{
		{"github.event_name != 'pull_request' && secrets.X || ''", "pull_request", false},
		{"github.event_name != 'pull_request' && secrets.X || ''", "push", true},
		{"github.event_name == 'push' && secrets.X || ''", "pull_request_target", false},
		{"(github.event.pull_request.head.repo.fork == false) && secrets.X || ''", "pull_request_target", false},
		{"secrets.X || github.event_name != 'pull_request_target'", "pull_request_target", true},
		{"github.ref == 'refs/heads/main' && secrets.X || ''", "pull_request", false},
		{"github.ref == 'refs/heads/main' && secrets.X || ''", "pull_request_target", true},
		{"secrets.X", "issue_comment", true},
		{"(github.event_name == 'push' || github.event.pull_request.head.repo.full_name == github.repository) && secrets.X || ''", "pull_request_target", false},
		{"(github.event_name == 'push' || github.event_name == 'pull_request_target') && secrets.X || ''", "pull_request_target", true},
	}
	for _, c := range cases {
		r := SecretRef{Name: "X", Guard: exprGuard(c.expr, "X")}
		if got := r.Available([]string{c.event}); got != c.avail {
			t.Errorf("%q on %s: available=%v, want %v", c.expr, c.event, got, c.avail)
		}
	}
	for in, want := range map[string][]string{
		"secrets.A && secrets['B-c']": {"A", "B-C"},
		"toJSON(secrets)":             {"*"},
		"'secrets.X' == x":            nil,
		"mysecrets.Y":                 nil,
	} {
		got := secretRefs(in)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("secretRefs(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestArtifactsAndCaches(t *testing.T) {
	g, _ := parseString(t, "", `
on: [push, pull_request_target]
jobs:
  train:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/cache@v4
        with: {key: hf-models, path: ~/.cache/huggingface}
      - run: python train.py
      - uses: actions/upload-artifact@v4
        with: {name: model-weights, path: out/}
  sign:
    needs: train
    runs-on: ubuntu-latest
    steps:
      - uses: actions/download-artifact@v4
        with: {name: model-weights}
      - run: cosign sign-blob out/model.safetensors
  pr:
    if: github.event_name == 'pull_request_target'
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with: {ref: "${{ github.event.pull_request.head.sha }}"}
      - uses: actions/cache@v4
        with: {key: hf-models, path: ~/.cache/huggingface}
      - run: pytest
`)
	train, sign, pr := stageNamed(t, g, "train"), stageNamed(t, g, "sign"), stageNamed(t, g, "pr")
	if len(train.Outputs) != 1 || train.Outputs[0].Artifact != "artifact:model-weights" {
		t.Errorf("train outputs: %+v", train.Outputs)
	}
	if len(train.Inputs) != 1 || train.Inputs[0].Artifact != "cache:hf-models" {
		t.Errorf("train inputs: %+v", train.Inputs)
	}
	if len(sign.Inputs) != 1 || sign.Inputs[0].Artifact != "artifact:model-weights" {
		t.Errorf("sign inputs: %+v", sign.Inputs)
	}
	if len(pr.Outputs) != 1 || pr.Outputs[0].Artifact != "cache:hf-models" || pr.RunsUntrustedCode != pipeline.True {
		t.Errorf("pr: %+v %v", pr.Outputs, pr.RunsUntrustedCode)
	}
	if why, ok := g.Taint("artifact:model-weights"); !ok {
		t.Error("the model built from a poisoned cache must be tainted")
	} else if !strings.Contains(why, "pr") {
		t.Errorf("taint: %s", why)
	}
	if len(train.Volumes) != 1 || train.Volumes[0].Kind != "cache" {
		t.Errorf("volumes: %+v", train.Volumes)
	}
}

func TestAction(t *testing.T) {
	g, w := parseString(t, "tools/setup-gpu/action.yml", `
name: setup
runs:
  using: composite
  steps:
    - run: pip install -r requirements.txt
      shell: bash
    - uses: actions/cache@v4
      with: {key: k, path: p}
`)
	if !w.Action || w.Using != "composite" || len(g.Stages) != 1 || g.Stages[0].Name != "setup-gpu" || len(g.Stages[0].Steps) != 2 {
		t.Fatalf("action: %+v %+v", w, g.Stages)
	}
	if g.Stages[0].Steps[0].Shell != "bash" {
		t.Errorf("shell: %q", g.Stages[0].Steps[0].Shell)
	}
}

func TestStructuralErrors(t *testing.T) {
	for src, want := range map[string]string{
		"on: push\njobs: [a, b]\n":                   "`jobs` must be a mapping",
		"on: push\njobs:\n  a: 3\n":                  `job "a" must be a mapping`,
		"on: push\njobs:\n  a:\n    steps: {x: 1}\n": "must be a list",
		"on: push\njobs:\n  a:\n    steps: [3]\n":    "must be a mapping",
		"jobs:\n  a: {}\n":                           "needs `on:`",
		"on: push\n":                                 "needs `jobs:`",
		"- a\n":                                      "must be a mapping",
		"":                                           "empty",
		"on: push\njobs: {}\n---\non: push\njobs: {}\n":         "single YAML document",
		"on: push\njobs:\n  a: {steps: [{run: \"x\u2028\"}]}\n": "line separator",
	} {
		_, err := Parse("w.yml", "", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", src, err, want)
			continue
		}
		se, ok := err.(pipeline.SourceErrors)
		if !ok || len(se) == 0 {
			t.Errorf("%q: not SourceErrors: %T", src, err)
		} else if se[0].Line == 0 && src != "" && !strings.Contains(want, "single") {
			t.Errorf("%q: no line in %v", src, err)
		}
	}
	// Unknown keys are fine.
	if _, err := Parse("w.yml", "", []byte("on: push\nfuture-key: 1\njobs:\n  a:\n    runs-on: ubuntu-latest\n    new-thing: {}\n    steps: []\n")); err != nil {
		t.Errorf("unknown keys: %v", err)
	}
}

func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("on: push\nx0: &a0 [1,1,1,1,1,1,1,1,1,1]\n")
	for i := 1; i < 12; i++ {
		b.WriteString("x" + itoa(i) + ": &a" + itoa(i) + " [")
		for k := 0; k < 10; k++ {
			if k > 0 {
				b.WriteString(",")
			}
			b.WriteString("*a" + itoa(i-1))
		}
		b.WriteString("]\n")
	}
	b.WriteString("jobs:\n  a:\n    runs-on: *a11\n    steps: *a11\n")
	_, err := Parse("w.yml", "", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "alias") && !strings.Contains(err.Error(), "must be a mapping") {
		t.Errorf("alias bomb: %v", err)
	}
}

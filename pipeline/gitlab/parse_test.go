package gitlab_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

func parseErr(t *testing.T, files map[string]string) pipeline.SourceErrors {
	t.Helper()
	_, err := parseRepo(t, files, ".gitlab-ci.yml")
	if err == nil {
		t.Fatalf("expected an error\n%s", files[".gitlab-ci.yml"])
	}
	var list pipeline.SourceErrors
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error is not positioned: %v", err)
	}
	for _, e := range list {
		if e.File == "" || e.Line == 0 {
			t.Errorf("unpositioned error %v", e)
		}
	}
	return list
}

func wantErr(t *testing.T, files map[string]string, substr string) *pipeline.SourceError {
	t.Helper()
	for _, e := range parseErr(t, files) {
		if strings.Contains(e.Msg, substr) {
			return e
		}
	}
	t.Fatalf("no error containing %q in %v", substr, parseErr(t, files))
	return nil
}

func TestIncludeLocalNested(t *testing.T) {
	g, d := mustParseRepo(t, map[string]string{
		".gitlab-ci.yml": "include:\n  - local: /ci/a.yml\nbuild:\n  extends: .tmpl\n  script: [make]\n",
		"ci/a.yml":       "include: ci/b.yml\n.tmpl:\n  tags: [gpu-a100]\n  image: python:3.12\n",
		"ci/b.yml":       "test:\n  script:\n    - pytest\n",
	})
	if len(d.Includes) != 2 || !d.Includes[0].Resolved || !d.Includes[1].Resolved || d.Partial {
		t.Fatalf("includes %+v partial=%v", d.Includes, d.Partial)
	}
	b := stage(t, g, "build")
	if b.GPU != pipeline.True || b.SelfHosted != pipeline.True || b.Isolation != pipeline.IsolationContainer {
		t.Errorf("build: gpu=%v self=%v iso=%v", b.GPU, b.SelfHosted, b.Isolation)
	}
	if b.Images[0].Pos.File != "ci/a.yml" || b.Images[0].Pos.Line != 4 {
		t.Errorf("image position %+v, want ci/a.yml:4", b.Images[0].Pos)
	}
	ts := stage(t, g, "test")
	if ts.Pos.File != "ci/b.yml" || ts.Pos.Line != 1 || ts.Steps[0].RunPos.File != "ci/b.yml" || ts.Steps[0].RunPos.Line != 3 {
		t.Errorf("test positions %+v / %+v", ts.Pos, ts.Steps[0].RunPos)
	}
	if ts.SelfHosted != pipeline.False || ts.Runner != pipeline.RunnerEphemeral || ts.Isolation != pipeline.IsolationVM {
		t.Errorf("untagged job should be GitLab-hosted: %v %v %v", ts.SelfHosted, ts.Runner, ts.Isolation)
	}
}

func TestIncludeOverride(t *testing.T) {
	// The including file's keys override the included ones, deeply.
	g, _ := mustParseRepo(t, map[string]string{
		".gitlab-ci.yml": "include: [a.yml]\njob:\n  variables: {B: two}\n",
		"a.yml":          "job:\n  script: [x]\n  variables: {A: one, B: one}\n",
	})
	env := map[string]string{}
	for _, e := range stage(t, g, "job").Env {
		env[e.Name] = e.Value
	}
	if env["A"] != "one" || env["B"] != "two" {
		t.Errorf("env %v", env)
	}
}

func TestIncludeErrors(t *testing.T) {
	wantErr(t, map[string]string{".gitlab-ci.yml": "include: missing.yml\njob: {script: [x]}\n"}, "cannot be read")
	wantErr(t, map[string]string{".gitlab-ci.yml": "include: ../outside.yml\njob: {script: [x]}\n"}, "leaves the repository")
	wantErr(t, map[string]string{".gitlab-ci.yml": "include: {local: /../../etc/passwd}\njob: {script: [x]}\n"}, "leaves the repository")
	e := wantErr(t, map[string]string{
		".gitlab-ci.yml": "include: a.yml\njob: {script: [x]}\n",
		"a.yml":          "include: b.yml\n",
		"b.yml":          "include: a.yml\n",
	}, "include cycle")
	if e.File != "b.yml" || e.Line != 1 {
		t.Errorf("cycle reported at %s:%d", e.File, e.Line)
	}
	wantErr(t, map[string]string{
		".gitlab-ci.yml": "include: a.yml\njob: {script: [x]}\n",
		"a.yml":          "job2:\n  script: [x\n",
	}, "invalid YAML")
	// Include depth and count limits.
	files := map[string]string{".gitlab-ci.yml": "include: f0.yml\njob: {script: [x]}\n"}
	for i := 0; i < gitlab.MaxIncludes+5; i++ {
		files["f"+itoa(i)+".yml"] = "include: f" + itoa(i+1) + ".yml\n"
	}
	wantErr(t, files, "includes nest deeper than")
	files = map[string]string{}
	var b strings.Builder
	b.WriteString("include:\n")
	for i := 0; i < gitlab.MaxIncludes+5; i++ {
		b.WriteString("  - f" + itoa(i) + ".yml\n")
		files["f"+itoa(i)+".yml"] = "x" + itoa(i) + ": {script: [x]}\n"
	}
	files[".gitlab-ci.yml"] = b.String()
	wantErr(t, files, "more than 150 local includes")
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}

func TestIncludeNotFetchable(t *testing.T) {
	g, d := mustParse(t, `include:
  - remote: https://example.com/ci.yml
  - project: group/templates
    ref: main
    file: /ml.yml
  - template: Security/SAST.gitlab-ci.yml
  - component: gitlab.com/org/comp/build@1.0.0
  - local: ci/*.yml
train:
  extends: .from-remote
  script: [python train.py]
`)
	if !d.Partial || len(d.Includes) != 5 {
		t.Fatalf("partial=%v includes=%d", d.Partial, len(d.Includes))
	}
	for _, in := range d.Includes {
		if in.Resolved || in.Reason == "" {
			t.Errorf("include %s %s should be recorded as unresolved with a reason", in.Kind, in.Target)
		}
	}
	if d.Includes[1].Ref != "main" || d.Includes[1].Files[0] != "/ml.yml" {
		t.Errorf("project include %+v", d.Includes[1])
	}
	if stage(t, g, "train") == nil {
		t.Fatal("train missing")
	}
	// Without a reader, local includes are unresolved too, not errors.
	gs, err := gitlab.Parse(&pipeline.Source{File: ".gitlab-ci.yml", Rel: ".gitlab-ci.yml", Src: []byte("include: a.yml\njob: {script: [x]}\n")})
	if err != nil || !gs[0].Doc.(*gitlab.Doc).Partial {
		t.Fatalf("no reader: %v", err)
	}
}

func TestExtendsDeepMerge(t *testing.T) {
	g, _ := mustParse(t, `.base:
  image: python:3.11
  variables: {A: "1", B: "1"}
  tags: [docker]
  script: [base]
.mid:
  extends: .base
  variables: {B: "2", C: "2"}
.other:
  tags: [gpu]
job:
  extends: [.mid, .other]
  variables: {C: "3"}
  script: [own]
`)
	s := stage(t, g, "job")
	env := map[string]string{}
	for _, e := range s.Env {
		env[e.Name] = e.Value
	}
	if env["A"] != "1" || env["B"] != "2" || env["C"] != "3" {
		t.Errorf("variables not deep-merged: %v", env)
	}
	if len(s.RunnerLabels) != 1 || s.RunnerLabels[0] != "gpu" || s.GPU != pipeline.True {
		t.Errorf("tags: later extends entry must win (lists are replaced): %v", s.RunnerLabels)
	}
	if len(s.Steps) != 1 || s.Steps[0].Run != "own" || s.Images[0].Ref != "python:3.11" {
		t.Errorf("steps %v images %v", s.Steps, s.Images)
	}
}

func TestExtendsErrors(t *testing.T) {
	wantErr(t, map[string]string{".gitlab-ci.yml": ".a: {extends: .b, script: [x]}\n.b: {extends: .a}\njob: {extends: .a}\n"}, "cycle")
	wantErr(t, map[string]string{".gitlab-ci.yml": "job: {extends: job, script: [x]}\n"}, "extends itself")
	wantErr(t, map[string]string{".gitlab-ci.yml": "job: {extends: .nowhere, script: [x]}\n"}, "not defined")
	var b strings.Builder
	for i := 0; i < gitlab.MaxExtendsDepth+3; i++ {
		b.WriteString(".t" + itoa(i) + ": {extends: .t" + itoa(i+1) + "}\n")
	}
	b.WriteString(".t" + itoa(gitlab.MaxExtendsDepth+3) + ": {script: [x]}\njob: {extends: .t0}\n")
	wantErr(t, map[string]string{".gitlab-ci.yml": b.String()}, "extends nests deeper")
}

func TestAnchorsMergeKeysAndReference(t *testing.T) {
	g, _ := mustParse(t, `.defaults: &defaults
  image: alpine:3.19
  tags: [shell-runner]
.setup:
  script:
    - echo setup
    - pip install -r req.txt
job:
  <<: *defaults
  tags: [saas-linux-small-amd64]
  script:
    - !reference [.setup, script]
    - python train.py
  rules: &r
    - if: $CI_PIPELINE_SOURCE == "merge_request_event"
other:
  <<: *defaults
  script: [x]
  rules: *r
`)
	s := stage(t, g, "job")
	if s.Images[0].Ref != "alpine:3.19" {
		t.Errorf("merge key: image %v", s.Images)
	}
	if s.SelfHosted != pipeline.False || s.Isolation != pipeline.IsolationVM {
		t.Errorf("explicit key must override the merge key: tags %v", s.RunnerLabels)
	}
	var runs []string
	for _, st := range s.Steps {
		runs = append(runs, st.Run)
	}
	if strings.Join(runs, ";") != "echo setup;pip install -r req.txt;python train.py" {
		t.Errorf("!reference not flattened: %q", runs)
	}
	if s.Steps[1].RunPos.Line != 7 || s.Steps[2].RunPos.Line != 13 {
		t.Errorf("step positions %+v %+v", s.Steps[1].RunPos, s.Steps[2].RunPos)
	}
	if s.ForkReachable != pipeline.True || stage(t, g, "other").ForkReachable != pipeline.True {
		t.Error("aliased rules lost")
	}
	if o := stage(t, g, "other"); o.SelfHosted != pipeline.True {
		t.Errorf("other: tags %v", o.RunnerLabels)
	}
	wantErr(t, map[string]string{".gitlab-ci.yml": "job:\n  script: [!reference [.nope, script]]\n"}, "!reference")
	wantErr(t, map[string]string{".gitlab-ci.yml": "job:\n  script:\n    - !reference [job, script]\n"}, "nests lists")
}

func TestAliasBomb(t *testing.T) {
	src := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n" +
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n" +
		"job:\n  script: *f\n"
	wantErr(t, map[string]string{".gitlab-ci.yml": src}, "work limit")
}

func TestRepeatedScriptsAreBounded(t *testing.T) {
	// One 512 KiB script shared by 24 jobs through an anchor: 12 MiB of
	// steps for the rules to scan, from a 512 KiB file.
	var b strings.Builder
	b.WriteString(".s: &s\n  - \"")
	b.WriteString(strings.Repeat("x", 512<<10))
	b.WriteString("\"\n")
	for i := 0; i < 24; i++ {
		b.WriteString("job" + itoa(i) + ": {script: *s}\n")
	}
	wantErr(t, map[string]string{".gitlab-ci.yml": b.String()}, "scripts add up to more than")
}

func TestStepPositions(t *testing.T) {
	src := "job:\n  script:\n    - echo one\n    - |\n      pip install x\n      python -c 'import torch'\n    - \"quoted $HF_TOKEN\"\n"
	g, _ := mustParse(t, src)
	s := stage(t, g, "job")
	if len(s.Steps) != 3 {
		t.Fatalf("steps %v", s.Steps)
	}
	if p := s.Steps[0].RunPos; p.Line != 3 || p.Column != 7 {
		t.Errorf("plain step at %+v", p)
	}
	lit := s.Steps[1]
	if !lit.RunLiteral || lit.RunPos.Line != 5 || lit.RunPos.Column != 7 {
		t.Errorf("literal step at %+v literal=%v", lit.RunPos, lit.RunLiteral)
	}
	off := strings.Index(lit.Run, "python")
	if p := lit.PosAt(off); p.Line != 6 || p.Column != 7 {
		t.Errorf("PosAt python = %+v", p)
	}
	if p := s.Steps[2].RunPos; p.Line != 7 || p.Column != 8 {
		t.Errorf("quoted step at %+v", p)
	}
	if len(s.Secrets) != 1 || s.Secrets[0].Name != "HF_TOKEN" || s.Secrets[0].Pos.Line != 7 || s.Secrets[0].Pos.Column != 15 {
		t.Errorf("secret from script: %+v", s.Secrets)
	}
}

func TestDefaultsAndInherit(t *testing.T) {
	g, _ := mustParse(t, `default:
  image: pytorch/pytorch:2.3
  tags: [gpu]
  before_script: [nvidia-smi]
variables:
  NVIDIA_VISIBLE_DEVICES: all
  MODE: x
a:
  script: [train]
b:
  inherit:
    default: false
    variables: [MODE]
  script: [lint]
d:
  inherit:
    variables: false
  script: [x]
c:
  inherit:
    default: [image]
  script: [x]
`)
	a, b, c := stage(t, g, "a"), stage(t, g, "b"), stage(t, g, "c")
	if len(a.Images) != 1 || a.GPU != pipeline.True || len(a.Steps) != 2 || a.Steps[0].Name != "before_script" {
		t.Errorf("a: %v %v %v", a.Images, a.GPU, a.Steps)
	}
	if len(b.Images) != 0 || b.GPU != pipeline.False || len(b.Steps) != 1 || len(b.Env) != 1 || b.Env[0].Name != "MODE" {
		t.Errorf("b: images %v gpu %v steps %v env %v", b.Images, b.GPU, b.Steps, b.Env)
	}
	if d := stage(t, g, "d"); len(d.Env) != 0 || d.GPU != pipeline.True {
		t.Errorf("d: env %v gpu %v (default tags still apply)", d.Env, d.GPU)
	}
	if len(c.Images) != 1 || c.SelfHosted != pipeline.False || c.GPU != pipeline.True {
		t.Errorf("c: images %v self %v gpu %v (GPU from the inherited NVIDIA_VISIBLE_DEVICES)", c.Images, c.SelfHosted, c.GPU)
	}
}

func TestRunnerInference(t *testing.T) {
	g, _ := mustParse(t, `variables:
  RUNNER: big-box
hosted: {script: [x]}
saas: {script: [x], tags: [saas-linux-medium-amd64]}
saasgpu: {script: [x], tags: [saas-linux-medium-amd64-gpu-standard]}
shell: {script: [x], tags: [build-box]}
docker: {script: [x], tags: [build-box], image: python:3.12}
byvar: {script: [x], tags: [$RUNNER]}
unknownvar: {script: [x], tags: [$FROM_SETTINGS]}
matrix:
  script: [x]
  tags: [$TAG]
  parallel:
    matrix:
      - TAG: [cpu-small, h100-pool]
trigger-job:
  trigger:
    include: child.yml
`)
	type want struct {
		self pipeline.Tri
		iso  pipeline.Isolation
		gpu  pipeline.Tri
	}
	for name, w := range map[string]want{
		"hosted":     {pipeline.False, pipeline.IsolationVM, pipeline.False},
		"saas":       {pipeline.False, pipeline.IsolationVM, pipeline.False},
		"saasgpu":    {pipeline.False, pipeline.IsolationVM, pipeline.True},
		"shell":      {pipeline.True, pipeline.IsolationUnknown, pipeline.False},
		"docker":     {pipeline.True, pipeline.IsolationContainer, pipeline.False},
		"byvar":      {pipeline.True, pipeline.IsolationUnknown, pipeline.False},
		"unknownvar": {pipeline.Unknown, pipeline.IsolationUnknown, pipeline.Unknown},
		"matrix":     {pipeline.True, pipeline.IsolationUnknown, pipeline.True},
	} {
		s := stage(t, g, name)
		if s.SelfHosted != w.self || s.Isolation != w.iso || s.GPU != w.gpu || s.Network.Access != pipeline.True {
			t.Errorf("%s: self=%v iso=%v gpu=%v net=%v tags=%v", name, s.SelfHosted, s.Isolation, s.GPU, s.Network.Access, s.RunnerLabels)
		}
	}
	if s := stage(t, g, "byvar"); s.RunnerLabels[0] != "big-box" {
		t.Errorf("tag variable not resolved: %v", s.RunnerLabels)
	}
	if tj := stage(t, g, "trigger-job"); tj.Kind != "trigger" || tj.RunsUntrustedCode != pipeline.False {
		t.Errorf("trigger job %+v", tj)
	}
}

func TestMergeRequestReachability(t *testing.T) {
	cases := []struct {
		name, src string
		want      pipeline.Tri
	}{
		{"no rules", "job: {script: [x]}\n", pipeline.False},
		{"mr rule", "job:\n  script: [x]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n", pipeline.True},
		{"mr iid", "job:\n  script: [x]\n  rules:\n    - if: $CI_MERGE_REQUEST_IID\n", pipeline.True},
		{"default branch only", "job:\n  script: [x]\n  rules:\n    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH\n", pipeline.False},
		{"tags only", "job:\n  script: [x]\n  rules:\n    - if: $CI_COMMIT_TAG\n", pipeline.False},
		{"never for mr", "job:\n  script: [x]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n      when: never\n    - when: always\n", pipeline.False},
		{"catch-all rule", "job:\n  script: [x]\n  rules:\n    - when: on_success\n", pipeline.True},
		{"changes", "job:\n  script: [x]\n  rules:\n    - changes: [src/**]\n", pipeline.True},
		{"not from forks", "job:\n  script: [x]\n  rules:\n    - if: $CI_MERGE_REQUEST_SOURCE_PROJECT_PATH == \"org/proj\"\n", pipeline.False},
		{"labels", "job:\n  script: [x]\n  rules:\n    - if: $CI_MERGE_REQUEST_LABELS =~ /gpu/\n", pipeline.Unknown},
		{"only mr", "job:\n  script: [x]\n  only: [merge_requests]\n", pipeline.True},
		{"only map", "job:\n  script: [x]\n  only:\n    refs: [merge_requests]\n", pipeline.True},
		{"only main", "job:\n  script: [x]\n  only: [main]\n", pipeline.False},
		{"except mr", "job:\n  script: [x]\n  only: [merge_requests, main]\n  except: [merge_requests]\n", pipeline.False},
		{"workflow mr, no job rules", "workflow:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n    - if: $CI_COMMIT_BRANCH\njob: {script: [x]}\n", pipeline.True},
		{"workflow no mr", "workflow:\n  rules:\n    - if: $CI_COMMIT_BRANCH\njob:\n  script: [x]\n  rules:\n    - if: $CI_MERGE_REQUEST_IID\n", pipeline.False},
		{"workflow unknown", "workflow:\n  rules:\n    - if: $CI_MERGE_REQUEST_LABELS =~ /run/\njob: {script: [x]}\n", pipeline.Unknown},
		{"external PRs", "job:\n  script: [x]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"external_pull_request_event\"\n", pipeline.True},
		{"rules via reference", ".r:\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\njob:\n  script: [x]\n  rules: !reference [.r, rules]\n", pipeline.True},
	}
	for _, c := range cases {
		g, _ := mustParse(t, c.src)
		if got := stage(t, g, "job").ForkReachable; got != c.want {
			t.Errorf("%s: ForkReachable=%v, want %v", c.name, got, c.want)
		}
		if got := stage(t, g, "job").RunsUntrustedCode; got != c.want {
			t.Errorf("%s: RunsUntrustedCode=%v, want %v", c.name, got, c.want)
		}
	}
}

func TestArtifactsNeedsAndCacheEdges(t *testing.T) {
	g, d := mustParse(t, `stages: [build, test, deploy]
build:
  stage: build
  script: [make]
  artifacts: {paths: [dist/]}
  cache: {key: deps, paths: [.venv/]}
lint:
  stage: build
  script: [lint]
test:
  stage: test
  script: [pytest]
  cache: {key: deps, paths: [.venv/], policy: pull}
deploy:
  stage: deploy
  needs: [{job: build, artifacts: true}, {job: test, artifacts: false}]
  script: [deploy]
  environment: production
implicit:
  stage: deploy
  script: [x]
none:
  stage: deploy
  dependencies: []
  script: [x]
`)
	names := func(s *pipeline.Stage) string {
		var xs []string
		for _, in := range s.Inputs {
			xs = append(xs, in.Artifact)
		}
		return strings.Join(xs, ",")
	}
	if got := names(stage(t, g, "deploy")); got != "artifacts:build" {
		t.Errorf("deploy inputs %q", got)
	}
	if got := names(stage(t, g, "implicit")); got != "artifacts@stage:build" {
		t.Errorf("implicit inputs %q", got)
	}
	if got := names(stage(t, g, "none")); got != "" {
		t.Errorf("dependencies: [] inputs %q", got)
	}
	ts := stage(t, g, "test")
	if got := names(ts); got != "artifacts@stage:build,cache:deps@build" {
		t.Errorf("test inputs %q", got)
	}
	if len(ts.Volumes) != 1 || ts.Volumes[0].Name != "cache:deps" || ts.Volumes[0].ReadOnly != pipeline.True || ts.Volumes[0].Kind != "cache" {
		t.Errorf("test volumes %+v", ts.Volumes)
	}
	if p := g.Producers("artifacts:build"); len(p) != 1 || p[0].Name != "build" {
		t.Errorf("producers %v", p)
	}
	dep := stage(t, g, "deploy")
	if !dep.HasRole(pipeline.RoleDeploy) || d.JobByName("deploy").Environment != "production" {
		t.Errorf("deploy roles %v", dep.Roles)
	}
}

func TestSecretsInference(t *testing.T) {
	g, _ := mustParse(t, `variables:
  HF_TOKEN: $HUB_TOKEN
  CACHE_KEY: abc
  AWS_ACCESS_KEY_ID: AKIA...
job:
  id_tokens:
    VAULT_ID_TOKEN: {aud: https://vault.example.com}
  secrets:
    DB_PASSWORD:
      vault: prod/db/password@ops
  script:
    - docker login -u x -p "${REGISTRY_PASSWORD}"
    - echo $CI_COMMIT_SHA
`)
	got := strings.Join(stage(t, g, "job").SecretNames(), ",")
	if got != "DB_PASSWORD,VAULT_ID_TOKEN,HF_TOKEN,HUB_TOKEN,REGISTRY_PASSWORD" {
		t.Errorf("secrets %q", got)
	}
	for name, want := range map[string]bool{
		"HF_TOKEN": true, "CI_JOB_TOKEN": true, "OPENAI_API_KEY": true, "SSH_PRIVATE_KEY": true, "DB_PASSWORD": true,
		"COSIGN_PASSWORD": true, "SIGNING_KEY": true, "KUBECONFIG": true, "DOCKER_AUTH_CONFIG": true, "NPM_TOKEN": true,
		"CACHE_KEY": false, "TOKEN_URL": false, "SECRET_DETECTION_DISABLED": false, "COSIGN_PUBLIC_KEY": false,
		"AWS_ACCESS_KEY_ID": false, "PWD": false, "KEY": false, "MONKEY": false,
	} {
		if gitlab.IsCredentialName(name) != want {
			t.Errorf("IsCredentialName(%s) = %v", name, !want)
		}
	}
}

func TestFragmentsAndLenientFiles(t *testing.T) {
	files := map[string]string{
		".gitlab-ci.yml":            "include: [.gitlab/ci/build.yml]\nstages: [build]\n",
		".gitlab/ci/build.yml":      "build:\n  extends: .defined-in-root\n  stage: build\n",
		".gitlab/ci/orphan.yml":     "orphan:\n  extends: .defined-elsewhere\n",
		"sub/.gitlab-ci.yml":        "sub-job: {script: [x]}\n",
		"templates/x.gitlab-ci.yml": "tmpl:\n  extends: .base\n  tags: [gpu]\n",
	}
	// An included file yields no graph of its own.
	gs, err := parseRepo(t, files, ".gitlab/ci/build.yml")
	if err != nil || len(gs) != 0 {
		t.Errorf("included fragment: graphs=%d err=%v", len(gs), err)
	}
	// A fragment nobody includes is read leniently: no bogus errors.
	gs, err = parseRepo(t, files, ".gitlab/ci/orphan.yml")
	if err != nil || len(gs) != 1 || !gs[0].Doc.(*gitlab.Doc).Partial {
		t.Errorf("orphan fragment: %v", err)
	}
	gs, err = parseRepo(t, files, "templates/x.gitlab-ci.yml")
	if err != nil || len(gs) != 1 {
		t.Errorf("template: %v", err)
	}
	// A nested .gitlab-ci.yml nobody includes is a pipeline of its own.
	gs, err = parseRepo(t, files, "sub/.gitlab-ci.yml")
	if err != nil || len(gs) != 1 || len(gs[0].Stages) != 1 {
		t.Errorf("nested pipeline: %v", err)
	}
	// The root pipeline itself must define what it extends.
	wantErr(t, map[string]string{".gitlab-ci.yml": "job:\n  extends: .missing\n"}, "not defined")
	wantErr(t, map[string]string{".gitlab-ci.yml": "job:\n  stage: build\n"}, "no script")
	wantErr(t, map[string]string{".gitlab-ci.yml": "job: [x]\n"}, "must be a mapping")
	wantErr(t, map[string]string{".gitlab-ci.yml": ".hidden: {script: [x]}\n"}, "no visible jobs")
	wantErr(t, map[string]string{".gitlab-ci.yml": "job:\n  script:\n    - echo a: b\n"}, "quote a command")
	wantErr(t, map[string]string{".gitlab-ci.yml": "stages: [a]\njob: {stage: b, script: [x]}\n"}, "not in stages")
	wantErr(t, map[string]string{".gitlab-ci.yml": "job: {script: [x]}\n---\nother: 1\n"}, "one YAML document")
}

func TestChildPipeline(t *testing.T) {
	gs, err := parseRepo(t, map[string]string{
		".gitlab-ci.yml": "trigger-train:\n  trigger:\n    include: ci/train.yml\n",
		"ci/train.yml":   "train:\n  tags: [gpu]\n  script: [python train.py]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"parent_pipeline\"\n",
	}, ".gitlab-ci.yml")
	if err != nil || len(gs) != 2 {
		t.Fatalf("graphs=%d err=%v", len(gs), err)
	}
	child := gs[1]
	if child.File != "ci/train.yml" || child.Doc.(*gitlab.Doc).Parent != "trigger-train" || child.Stages[0].GPU != pipeline.True {
		t.Errorf("child %s %+v", child.File, child.Doc)
	}
	if child.Stages[0].ForkReachable != pipeline.False {
		t.Errorf("child of a branch-only trigger job: ForkReachable %v", child.Stages[0].ForkReachable)
	}
	// A trigger job in merge-request pipelines makes its child's jobs
	// reachable, with CI_PIPELINE_SOURCE == "parent_pipeline" inside.
	gs, err = parseRepo(t, map[string]string{
		".gitlab-ci.yml": "trigger-train:\n  trigger:\n    include: ci/train.yml\n" + mrRule,
		"ci/train.yml": "train:\n  script: [x]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"parent_pipeline\"\n" +
			"mr-only:\n  script: [x]\n  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\nplain: {script: [x]}\n",
	}, ".gitlab-ci.yml")
	if err != nil || len(gs) != 2 {
		t.Fatalf("graphs=%d err=%v", len(gs), err)
	}
	for name, want := range map[string]pipeline.Tri{"train": pipeline.True, "mr-only": pipeline.False, "plain": pipeline.True} {
		if got := stage(t, gs[1], name).ForkReachable; got != want {
			t.Errorf("child job %s: ForkReachable %v, want %v", name, got, want)
		}
	}
}

func TestSniffAndPaths(t *testing.T) {
	for p, want := range map[string]bool{
		".gitlab-ci.yml": true, "a/b/.gitlab-ci.yaml": true, "ci/build.gitlab-ci.yml": true, ".gitlab/ci/x.yml": true,
		"x/.gitlab/jobs/y.yaml": true, ".github/workflows/ci.yml": false, "gitlab.txt": false, "ci.yml": false,
	} {
		if gitlab.IsConfigPath(p) != want {
			t.Errorf("IsConfigPath(%s) = %v", p, !want)
		}
	}
	if !gitlab.Sniff([]byte("stages: [a]\njob:\n  script: [x]\n")) {
		t.Error("pipeline at a custom path not sniffed")
	}
	for _, s := range []string{
		"on: push\njobs:\n  a:\n    steps: []\n",
		"apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  templates:\n    - script: {}\n",
		"job:\n  extends: .x\n  script: [x]\n", // a template fragment: no stages/workflow
	} {
		if gitlab.Sniff([]byte(s)) {
			t.Errorf("sniffed %q", s)
		}
	}
	if a := pipeline.AdapterFor(gitlab.Format); a == nil || !a.MatchPath(".gitlab-ci.yml") {
		t.Error("adapter not registered")
	}
}

func TestProjectInSubdirectoryOfRepository(t *testing.T) {
	// The reader's root is an outer repository; the audited project (the
	// walk's root) is sub/proj. Includes that do not resolve from the
	// repository root are tried from the pipeline's directory, and the
	// included fragment is still recognised as part of the pipeline.
	files := map[string]string{
		"sub/proj/.gitlab-ci.yml":   "include: .gitlab/ci/a.yml\n",
		"sub/proj/.gitlab/ci/a.yml": "job: {script: [x], tags: [gpu]}\n",
	}
	rd := fsReader(memFS(files))
	gs, err := gitlab.Parse(&pipeline.Source{File: "/home/u/repo/sub/proj/.gitlab-ci.yml", Rel: ".gitlab-ci.yml",
		Src: []byte(files["sub/proj/.gitlab-ci.yml"]), ReadFile: rd})
	if err != nil || len(gs) != 1 || len(gs[0].Stages) != 1 {
		t.Fatalf("graphs %d err %v", len(gs), err)
	}
	if p := gs[0].Stages[0].Pos.File; p != "/home/u/repo/sub/proj/.gitlab/ci/a.yml" {
		t.Errorf("included file shown as %q", p)
	}
	gs, err = gitlab.Parse(&pipeline.Source{File: "/home/u/repo/sub/proj/.gitlab/ci/a.yml", Rel: ".gitlab/ci/a.yml",
		Src: []byte(files["sub/proj/.gitlab/ci/a.yml"]), ReadFile: rd})
	if err != nil || len(gs) != 0 {
		t.Errorf("fragment analysed on its own: graphs %d err %v", len(gs), err)
	}
}

func TestImageMappingAndServices(t *testing.T) {
	_, d := mustParse(t, `job:
  image:
    name: registry.example.com/ml/train:1.2
    entrypoint: [""]
    docker: {user: root}
  services:
    - name: docker:24-dind
      alias: docker
      command: ["--tls=false"]
    - redis:7
  script: [x]
`)
	j := d.JobByName("job")
	if j.ImageUser != "root" || j.Stage.Images[0].Ref != "registry.example.com/ml/train:1.2" || j.Stage.Images[0].Kind != "job" {
		t.Errorf("image %+v user %q", j.Stage.Images, j.ImageUser)
	}
	if len(j.Services) != 2 || j.Services[0].Alias != "docker" || j.Services[0].Command[0] != "--tls=false" || j.Services[1].Name != "redis:7" {
		t.Errorf("services %+v", j.Services)
	}
}

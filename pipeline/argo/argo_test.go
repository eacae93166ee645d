package argo_test

import (
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/argo"
)

func parse(t *testing.T, src string) []*pipeline.Graph {
	t.Helper()
	gs, err := argo.Parse(&pipeline.Source{File: "wf.yaml", Src: []byte(src)})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	return gs
}

func run(t *testing.T, src string) []finding.Finding {
	t.Helper()
	var out []finding.Finding
	for _, g := range parse(t, src) {
		fs, err := pipeline.Analyze(g, pipeline.Options{Enabled: func(*finding.Rule) bool { return true }})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fs...)
	}
	return out
}

func only(fs []finding.Finding, id string) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.RuleID == id {
			out = append(out, f)
		}
	}
	return out
}

func stageByName(g *pipeline.Graph, name string) *pipeline.Stage {
	for _, s := range g.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func TestSniff(t *testing.T) {
	yes := []string{
		"apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {}\n",
		"# comment\napiVersion: \"argoproj.io/v1alpha1\"\nkind: CronWorkflow\n",
		"apiVersion: v1\nkind: ConfigMap\n---\napiVersion: argoproj.io/v1alpha1\nkind: WorkflowTemplate\n",
		`{"apiVersion": "argoproj.io/v1alpha1", "kind": "ClusterWorkflowTemplate"}`,
	}
	no := []string{
		"apiVersion: argoproj.io/v1alpha1\nkind: Sensor\nspec:\n  triggers:\n  - template:\n      k8s:\n        source:\n          resource:\n            kind: Workflow\n",
		"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\n",
		"apiVersion: apps/v1\nkind: Workflow\n",
		"components: {}\ndeploymentSpec: {}\nroot: {}\npipelineInfo: {}\n",
	}
	for _, s := range yes {
		if !argo.Sniff([]byte(s)) {
			t.Errorf("not sniffed:\n%s", s)
		}
	}
	for _, s := range no {
		if argo.Sniff([]byte(s)) {
			t.Errorf("sniffed:\n%s", s)
		}
	}
}

const passing = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: train-
spec:
  entrypoint: main
  serviceAccountName: trainer
  volumeClaimTemplates:
  - metadata: {name: work}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
  templates:
  - name: main
    steps:
    - - name: fetch
        template: fetch
    - - name: prep
        template: nested
        arguments:
          artifacts:
          - name: raw
            from: "{{steps.fetch.outputs.artifacts.model}}"
    - - name: publish
        template: publish
        arguments:
          artifacts:
          - name: model
            from: "{{steps.prep.outputs.artifacts.out}}"
  - name: nested
    inputs:
      artifacts:
      - name: raw
    outputs:
      artifacts:
      - name: out
        from: "{{tasks.convert.outputs.artifacts.converted}}"
    dag:
      tasks:
      - name: convert
        template: convert
        arguments:
          artifacts:
          - {name: src, from: "{{inputs.artifacts.raw}}"}
  - name: fetch
    inputs:
      artifacts:
      - name: weights
        path: /in/w
        http:
          url: https://example.com/model.bin
    outputs:
      artifacts:
      - {name: model, path: /out/model}
    container:
      image: alpine:3.19
      command: [sh, -c]
      args: ["cp /in/w /out/model"]
      volumeMounts:
      - {name: work, mountPath: /work}
  - name: convert
    inputs:
      artifacts:
      - {name: src, path: /src}
    outputs:
      artifacts:
      - {name: converted, path: /out}
    script:
      image: python:3.11
      command: [python]
      resources:
        limits: {nvidia.com/gpu: 1}
      source: |
        import torch
        m = torch.load("/src")
  - name: publish
    inputs:
      artifacts:
      - {name: model, path: /model}
    container:
      image: registry/pusher:1.0
      env:
      - name: HF_TOKEN
        valueFrom:
          secretKeyRef: {name: hf, key: token}
      volumeMounts:
      - {name: work, mountPath: /work}
`

func TestGraph(t *testing.T) {
	gs := parse(t, passing)
	g := gs[0]
	if err := g.Build(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range g.Order() {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "fetch,prep/convert,publish" {
		t.Fatalf("stages: %s", got)
	}
	fetch, conv, pub := stageByName(g, "fetch"), stageByName(g, "prep/convert"), stageByName(g, "publish")
	if len(fetch.Inputs) != 1 || fetch.Inputs[0].Trust != pipeline.TrustUntrusted || fetch.Inputs[0].Artifact != "external:https://example.com/model.bin" {
		t.Errorf("fetch inputs %+v", fetch.Inputs)
	}
	if len(conv.Inputs) != 1 || conv.Inputs[0].Artifact != "fetch.model" {
		t.Errorf("convert inputs %+v (inputs.artifacts must resolve to the caller's argument)", conv.Inputs)
	}
	found := false
	for _, in := range pub.Inputs {
		if in.Artifact == "prep/convert.converted" {
			found = true
		}
	}
	if !found {
		t.Errorf("publish inputs %+v (a dag template's output must resolve through its from)", pub.Inputs)
	}
	if conv.GPU != pipeline.True || conv.Steps[0].Shell != "python" || !strings.Contains(conv.Steps[0].Run, "torch.load") {
		t.Errorf("convert: gpu %v steps %+v", conv.GPU, conv.Steps)
	}
	if conv.Steps[0].RunPos.Line != 72 || conv.Steps[0].RunPos.Column != 9 {
		t.Errorf("script position %+v", conv.Steps[0].RunPos)
	}
	if len(pub.Secrets) != 1 || pub.Secrets[0].Name != "hf" || !pub.HasRole(pipeline.RoleRegister) {
		t.Errorf("publish: secrets %+v roles %v", pub.Secrets, pub.Roles)
	}
	if pub.SelfHosted != pipeline.True || pub.Isolation != pipeline.IsolationContainer || pub.Network.Access != pipeline.Unknown {
		t.Errorf("publish: %+v", pub)
	}
	// The claim template is shared: publish reads what fetch left there.
	if anc := g.Ancestors(pub); len(anc) != 2 {
		t.Errorf("publish has %d ancestors, want fetch (via the shared volume) and convert", len(anc))
	}
	if why, ok := g.Taint("prep/convert.converted"); !ok || why == "" {
		t.Errorf("converted model should be tainted")
	}
}

func TestUnreachedTemplatesAndRefs(t *testing.T) {
	src := `apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: lib}
spec:
  templates:
  - name: build
    container: {image: "docker:24"}
  - name: pipeline
    dag:
      tasks:
      - {name: a, template: build}
      - {name: b, templateRef: {name: elsewhere, template: x}, dependencies: [a]}
      - {name: c, templateRef: {name: lib2, template: leaf}, depends: "b && a"}
---
apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata: {name: lib2}
spec:
  templates:
  - name: leaf
    script: {image: "python:3.11", source: "print(1)"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: x}
`
	gs := parse(t, src)
	if len(gs) != 2 {
		t.Fatalf("%d graphs, want 2 (the ConfigMap is skipped)", len(gs))
	}
	var names []string
	for _, s := range gs[0].Stages {
		names = append(names, s.Name+":"+s.Kind)
	}
	if got := strings.Join(names, ","); got != "pipeline/a:template,pipeline/b:templateRef,pipeline/c:template" {
		t.Errorf("stages: %s", got)
	}
	if b := gs[0].Stages[1]; b.RunsUntrustedCode != pipeline.Unknown || b.Isolation != pipeline.IsolationUnknown {
		t.Errorf("an unresolved templateRef must stay unknown: %+v", b)
	}
	if len(gs[1].Stages) != 1 || gs[1].Stages[0].Name != "leaf/leaf" && gs[1].Stages[0].Name != "leaf" {
		t.Errorf("lib2 stages %+v", gs[1].Stages)
	}
}

func TestRecursionAndErrors(t *testing.T) {
	src := `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: r}
spec:
  entrypoint: loop
  templates:
  - name: loop
    steps:
    - - {name: work, template: work}
    - - {name: again, template: loop}
  - name: work
    container: {image: "alpine:3"}
`
	gs := parse(t, src)
	if len(gs[0].Stages) != 1 {
		t.Errorf("recursive template: %d stages", len(gs[0].Stages))
	}
	for name, bad := range map[string]string{
		"no workflow":    "apiVersion: v1\nkind: ConfigMap\n",
		"bad entrypoint": "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  entrypoint: x\n  templates:\n  - {name: y, container: {image: a}}\n",
		"spec not a map": "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: [1]\n",
		"invalid yaml":   "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {\n",
		"nameless":       "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  templates:\n  - {container: {image: a}}\n",
	} {
		if _, err := argo.Parse(&pipeline.Source{File: "wf.yaml", Src: []byte(bad)}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// wf wraps templates (indented as list items under spec.templates) in a
// Workflow; specExtra is added to spec.
func wf(specExtra, templates string) string {
	return "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: w}\nspec:\n  entrypoint: main\n" + specExtra + "  templates:\n" + templates
}

func TestRules(t *testing.T) {
	cases := []struct {
		name, rule, src string
		want            int
		sev             finding.Severity
	}{
		{"privileged sidecar", "pipeline/argo-privileged-container", wf("", `  - name: main
    container: {image: "docker:24.0@sha256:aa", command: [docker, build, .]}
    sidecars:
    - name: dind
      image: docker:24-dind
      securityContext: {privileged: true}
`), 1, finding.High},
		{"sys_admin", "pipeline/argo-privileged-container", wf("", "  - name: main\n    container:\n      image: a:1\n      securityContext: {capabilities: {add: [SYS_ADMIN]}}\n"), 1, finding.High},
		{"privileged false, harmless cap", "pipeline/argo-privileged-container", wf("", "  - name: main\n    container:\n      image: a:1\n      securityContext: {privileged: false, capabilities: {add: [NET_BIND_SERVICE]}}\n"), 0, 0},
		{"run as root", "pipeline/argo-run-as-root", wf("  securityContext: {runAsUser: 0}\n", "  - name: main\n    container: {image: a:1}\n"), 1, finding.Medium},
		{"run as non-root", "pipeline/argo-run-as-root", wf("  securityContext: {runAsUser: 1000, runAsNonRoot: true}\n", "  - name: main\n    container: {image: a:1}\n"), 0, 0},
		{"docker socket", "pipeline/argo-host-path-volume", wf("  volumes:\n  - name: sock\n    hostPath: {path: /var/run/docker.sock}\n", "  - name: main\n    container:\n      image: a:1\n      volumeMounts: [{name: sock, mountPath: /var/run/docker.sock}]\n"), 1, finding.High},
		{"cache hostPath", "pipeline/argo-host-path-volume", wf("", "  - name: main\n    volumes:\n    - name: hf\n      hostPath: {path: /mnt/hf-cache}\n    container:\n      image: a:1\n      volumeMounts: [{name: hf, mountPath: /root/.cache/huggingface}]\n"), 1, finding.Medium},
		{"read-only cache hostPath", "pipeline/argo-host-path-volume", wf("", "  - name: main\n    volumes:\n    - name: hf\n      hostPath: {path: /mnt/hf-cache}\n    container:\n      image: a:1\n      volumeMounts: [{name: hf, mountPath: /cache, readOnly: true}]\n"), 1, finding.Low},
		{"pvc is not hostPath", "pipeline/argo-host-path-volume", wf("  volumes:\n  - name: d\n    persistentVolumeClaim: {claimName: data}\n", "  - name: main\n    container:\n      image: a:1\n      volumeMounts: [{name: d, mountPath: /d}]\n"), 0, 0},
		{"hostNetwork", "pipeline/argo-host-namespace", wf("  hostNetwork: true\n", "  - name: main\n    container: {image: a:1}\n"), 1, finding.High},
		{"hostPID in podSpecPatch", "pipeline/argo-host-namespace", wf("", "  - name: main\n    podSpecPatch: '{\"hostPID\": true}'\n    container: {image: a:1}\n"), 1, finding.High},
		{"hostNetwork false", "pipeline/argo-host-namespace", wf("  hostNetwork: false\n", "  - name: main\n    container: {image: a:1}\n"), 0, 0},
		{"token in script", "pipeline/argo-service-account-token", wf("  serviceAccountName: deployer\n", "  - name: main\n    script: {image: a:1, command: [bash], source: echo hi}\n"), 1, finding.Medium},
		{"default token in script", "pipeline/argo-service-account-token", wf("", "  - name: main\n    script: {image: a:1, command: [bash], source: echo hi}\n"), 1, finding.Low},
		{"token disabled", "pipeline/argo-service-account-token", wf("  automountServiceAccountToken: false\n  serviceAccountName: deployer\n", "  - name: main\n    script: {image: a:1, command: [bash], source: echo hi}\n"), 0, 0},
		{"no script", "pipeline/argo-service-account-token", wf("  serviceAccountName: deployer\n", "  - name: main\n    container: {image: a:1, command: [/app/run]}\n"), 0, 0},
		{"secret + git", "pipeline/argo-secret-env-external-fetch", wf("", `  - name: main
    inputs:
      artifacts:
      - {name: src, path: /src, git: {repo: "https://github.com/someone/repo.git"}}
    container:
      image: a:1
      envFrom: [{secretRef: {name: cloud-creds}}]
`), 1, finding.High},
		{"secret + repository artifact", "pipeline/argo-secret-env-external-fetch", wf("", `  - name: main
    inputs:
      artifacts:
      - {name: src, path: /src, s3: {key: runs/1/model.tgz}}
    container:
      image: a:1
      envFrom: [{secretRef: {name: cloud-creds}}]
`), 0, 0},
		{"git without secrets", "pipeline/argo-secret-env-external-fetch", wf("", `  - name: main
    inputs:
      artifacts:
      - {name: src, path: /src, git: {repo: "https://github.com/someone/repo.git"}}
    container: {image: a:1}
`), 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := only(run(t, c.src), c.rule)
			if len(fs) != c.want {
				t.Fatalf("%s: %d findings, want %d: %v\n%s", c.rule, len(fs), c.want, fs, c.src)
			}
			for _, f := range fs {
				if f.Severity != c.sev {
					t.Errorf("severity %v, want %v", f.Severity, c.sev)
				}
				if f.Location.Line == 0 {
					t.Errorf("finding without a line: %+v", f)
				}
			}
		})
	}
}

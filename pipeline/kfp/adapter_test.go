package kfp_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s"
	"github.com/mlgate/mlgate/pipeline/kfp"
	"go.yaml.in/yaml/v3"
)

func TestSniff(t *testing.T) {
	yes := []string{
		oneTask("", "", ""),
		"components:\n  comp-a:\n    executorLabel: exec-a\ndeploymentSpec:\n  executors: {}\n",
		"deploymentSpec: {}\npipelineInfo: {name: x}\nroot: {dag: {tasks: {}}}\nschemaVersion: 2.1.0\n",
		`{"components": {"comp-a": {"executorLabel": "exec-a"}}, "deploymentSpec": {"executors": {}}, "pipelineInfo": {"name": "x"}}`,
		`{"displayName": "x", "pipelineSpec": {"deploymentSpec": {}, "pipelineInfo": {}, "root": {}, "schemaVersion": "2.1.0"}}`,
	}
	no := []string{
		"apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec: {}\n",
		"root: /srv\ncomponents: [a, b]\n",
		"name: ci\non: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n",
		"pipelineInfo: x\n",
		`{"root": 1, "components": []}`,
		"# PIPELINE DEFINITION\nfoo: bar\n",
	}
	for _, s := range yes {
		if !kfp.Sniff([]byte(s)) {
			t.Errorf("not sniffed:\n%s", s)
		}
	}
	for _, s := range no {
		if kfp.Sniff([]byte(s)) {
			t.Errorf("sniffed:\n%s", s)
		}
	}
}

func stageByName(g *pipeline.Graph, name string) *pipeline.Stage {
	for _, s := range g.Stages {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func TestGraph(t *testing.T) {
	src := `# PIPELINE DEFINITION
components:
  comp-importer:
    executorLabel: exec-importer
    outputDefinitions:
      artifacts:
        artifact: {artifactType: {schemaTitle: system.Model}}
  comp-inner:
    dag:
      outputs:
        artifacts:
          model:
            artifactSelectors:
            - {producerSubtask: train, outputArtifactKey: model}
      tasks:
        train:
          componentRef: {name: comp-train}
          inputs:
            artifacts:
              data:
                componentInputArtifact: pipelinechannel--importer-artifact
    inputDefinitions:
      artifacts:
        pipelinechannel--importer-artifact: {artifactType: {schemaTitle: system.Model}}
  comp-train:
    executorLabel: exec-train
    inputDefinitions:
      artifacts:
        data: {artifactType: {schemaTitle: system.Dataset}}
    outputDefinitions:
      artifacts:
        model: {artifactType: {schemaTitle: system.Model}}
  comp-push:
    executorLabel: exec-push
    inputDefinitions:
      artifacts:
        model: {artifactType: {schemaTitle: system.Model}}
deploymentSpec:
  executors:
    exec-importer:
      importer:
        artifactUri:
          runtimeParameter: uri
        typeSchema: {schemaTitle: system.Model}
    exec-train:
      container:
        image: trainer:1
        command: [python, train.py]
        resources:
          accelerator: {resourceCount: '2', resourceType: NVIDIA_TESLA_A100}
    exec-push:
      container:
        image: pusher:1
        command: [python, push.py]
pipelineInfo: {name: p}
root:
  inputDefinitions:
    parameters:
      model_uri: {parameterType: STRING, defaultValue: 'hf://org/model'}
  dag:
    tasks:
      push-model:
        componentRef: {name: comp-push}
        dependentTasks: [condition-1]
        inputs:
          artifacts:
            model:
              taskOutputArtifact: {producerTask: condition-1, outputArtifactKey: model}
      condition-1:
        componentRef: {name: comp-inner}
        dependentTasks: [importer]
        inputs:
          artifacts:
            pipelinechannel--importer-artifact:
              taskOutputArtifact: {producerTask: importer, outputArtifactKey: artifact}
      importer:
        componentRef: {name: comp-importer}
        inputs:
          parameters:
            uri: {componentInputParameter: model_uri}
schemaVersion: 2.1.0
---
platforms:
  kubernetes:
    deploymentSpec:
      executors:
        exec-push:
          secretAsVolume:
          - {secretName: registry-creds, mountPath: /creds}
          nodeSelector:
            labels: {cloud.google.com/gke-accelerator: nvidia-l4}
`
	gs := parse(t, src)
	if len(gs) != 1 {
		t.Fatalf("%d graphs", len(gs))
	}
	g := gs[0]
	if err := g.Build(); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range g.Order() {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, ","); got != "importer,condition-1/train,push-model" {
		t.Fatalf("stages in order: %s", got)
	}
	imp, train, push := g.Stages[0], stageByName(g, "condition-1/train"), stageByName(g, "push-model")
	if imp.Kind != "importer" || imp.RunsUntrustedCode != pipeline.False || len(imp.Inputs) != 1 || imp.Inputs[0].Trust != pipeline.TrustUntrusted {
		t.Errorf("importer stage: %+v", imp)
	}
	if !strings.Contains(imp.Inputs[0].Artifact, "hf://org/model") {
		t.Errorf("importer input %q does not carry the default URI", imp.Inputs[0].Artifact)
	}
	if train.GPU != pipeline.True || train.Isolation != pipeline.IsolationContainer || train.RunsUntrustedCode != pipeline.Unknown {
		t.Errorf("train: gpu %v isolation %v untrusted %v", train.GPU, train.Isolation, train.RunsUntrustedCode)
	}
	if len(train.Inputs) != 1 || train.Inputs[0].Artifact != "importer.artifact" {
		t.Errorf("train inputs %+v", train.Inputs)
	}
	if len(push.Inputs) != 1 || push.Inputs[0].Artifact != "condition-1/train.model" {
		t.Errorf("push inputs %+v (the DAG output must resolve through artifactSelectors)", push.Inputs)
	}
	if why, ok := g.Taint("condition-1/train.model"); !ok || !strings.Contains(why, "train") {
		t.Errorf("train output not tainted: %q", why)
	}
	if len(push.Secrets) != 1 || push.Secrets[0].Name != "registry-creds" || push.GPU != pipeline.True {
		t.Errorf("push: secrets %+v gpu %v", push.Secrets, push.GPU)
	}
	if !push.HasRole(pipeline.RoleRegister) {
		t.Errorf("push roles %v", push.Roles)
	}
	if push.Network.Access != pipeline.Unknown || push.Runner != pipeline.RunnerUnknown {
		t.Errorf("network/runner must be unknown: %+v", push)
	}
	if len(train.Steps) != 1 || train.Steps[0].Run != "python train.py" {
		t.Errorf("train steps %+v", train.Steps)
	}
}

func TestBootstrapSteps(t *testing.T) {
	src := oneTask("", "'pandas'", "")
	g := parse(t, src)[0]
	s := g.Stages[0]
	if len(s.Steps) != 3 {
		t.Fatalf("want bootstrap, runner and python steps, got %d: %+v", len(s.Steps), s.Steps)
	}
	if s.Steps[0].Name != "bootstrap" || !strings.Contains(s.Steps[0].Run, "pip install") || s.Steps[0].Shell != "sh" {
		t.Errorf("bootstrap step %+v", s.Steps[0])
	}
	if s.Steps[2].Shell != "python" || !strings.Contains(s.Steps[2].Run, "def train") {
		t.Errorf("python step %+v", s.Steps[2])
	}
	d := k8s.DocOf(g)
	off := strings.Index(s.Steps[0].Run, "'pandas'")
	pos := d.StepPos(s, 0, off)
	line := strings.Split(src, "\n")[pos.Line-1]
	if !strings.HasPrefix(line[pos.Column-1:], "'pandas'") {
		t.Errorf("position %d:%d is %q", pos.Line, pos.Column, line[pos.Column-1:])
	}
	// A literal block keeps exact positions through Step.PosAt too.
	off = strings.Index(s.Steps[2].Run, "def train")
	pos = s.Steps[2].PosAt(off)
	line = strings.Split(src, "\n")[pos.Line-1]
	if !strings.HasPrefix(line[pos.Column-1:], "def train") {
		t.Errorf("python position %d:%d is %q", pos.Line, pos.Column, line[pos.Column-1:])
	}
}

func TestPVCChain(t *testing.T) {
	pvc := func(exec string) string {
		return "        exec-" + exec + ":\n          pvcMount:\n          - mountPath: /data\n            constant: cache\n"
	}
	src := pipelineOf(comp("a", "", "")+comp("b", "", "")+comp("c", "", ""),
		executor("a", pinned, "", "")+executor("b", pinned, "", "")+executor("c", pinned, "", ""),
		task("c", "c", "b", "", "", "")+task("b", "b", "a", "", "", "")+task("a", "a", "", "", "", ""), pvc("a")+pvc("b")+pvc("c"))
	g := parse(t, src)[0]
	if err := g.Build(); err != nil {
		t.Fatal(err)
	}
	c := stageByName(g, "c")
	anc := g.Ancestors(c)
	if len(anc) != 2 {
		t.Fatalf("c should depend on a and b through the shared PVC, got %d ancestors", len(anc))
	}
	if c.Volumes[0].Name != "pvc:cache" {
		t.Errorf("volume %+v", c.Volumes[0])
	}
}

func TestParseErrors(t *testing.T) {
	bad := map[string]string{
		"not a mapping":     "- a\n- b\n",
		"no root":           "deploymentSpec: {}\ncomponents: {}\npipelineInfo: {}\n",
		"unknown component": pipelineOf("", "", "      a:\n        componentRef: {name: comp-x}\n", ""),
		"platform only":     "platforms:\n  kubernetes: {}\n",
		"self-nesting":      "components:\n  comp-a:\n    dag:\n      tasks:\n        x: {componentRef: {name: comp-a}}\ndeploymentSpec: {}\npipelineInfo: {}\nroot:\n  dag:\n    tasks:\n      x: {componentRef: {name: comp-a}}\n",
		"bad yaml":          "components: [\n",
		"billion laughs":    "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ncomponents: {}\ndeploymentSpec: {executors: *f}\nroot: {dag: {tasks: *f}}\n",
	}
	for name, src := range bad {
		if _, err := kfp.Parse(&pipeline.Source{File: "p.yaml", Src: []byte(src)}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestJSON(t *testing.T) {
	var v map[string]any
	if err := yaml.Unmarshal([]byte(oneTask("", "'pandas'", "")), &v); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]any{"displayName": "job", "pipelineSpec": v})
	if err != nil {
		t.Fatal(err)
	}
	if !kfp.Sniff(b) {
		t.Fatalf("JSON PipelineJob not sniffed: %.200s", b)
	}
	g := parse(t, string(b))[0]
	if len(g.Stages) != 1 || len(g.Stages[0].Steps) != 3 {
		t.Fatalf("stages %+v", g.Stages)
	}
	fs := only(run(t, string(b)), "pipeline/kfp-unpinned-package")
	if len(fs) != 1 || fs[0].Location.Line != 1 {
		t.Errorf("findings %+v", fs)
	}
}

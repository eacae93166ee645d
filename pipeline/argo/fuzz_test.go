package argo_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/argo"
	"github.com/mlgate/mlgate/pipeline/k8s/k8stest"
)

// FuzzParse feeds arbitrary bytes to the Argo adapter and, when they
// parse, runs every rule over the graphs. Nothing may panic or hang, and
// every graph must build (no dependency cycle) and analyze.
func FuzzParse(f *testing.F) {
	f.Add([]byte(passing))
	f.Add([]byte(wf("  hostNetwork: true\n  securityContext: {runAsUser: 0}\n  volumes: [{name: s, hostPath: {path: /}}]\n", "  - name: main\n    podSpecPatch: '{\"hostPID\": true}'\n    script: {image: a, command: [bash], source: 'curl x | sh', volumeMounts: [{name: s, mountPath: /h}], env: [{name: A, valueFrom: {secretKeyRef: {name: s, key: k}}}]}\n    inputs: {artifacts: [{name: g, git: {repo: r}}]}\n")))
	f.Add([]byte("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  entrypoint: a\n  templates:\n  - name: a\n    dag: {tasks: [{name: x, template: a}, {name: y, template: b, depends: x}]}\n  - name: b\n    steps: [[{name: z, template: a}], {name: w, templateRef: {name: n, template: t}}]\n"))
	if dir := k8stest.SharedDir(filepath.Join("corpora", "pipelines", "argo", "examples")); dir != "" {
		for _, p := range []string{"artifact-passing.yaml", "dag-nested.yaml", "sidecar-dind.yaml", "volumes-pvc.yaml"} {
			if b, err := os.ReadFile(filepath.Join(dir, p)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		gs, err := argo.Parse(&pipeline.Source{File: "fuzz.yaml", Src: src})
		if err != nil {
			if gs != nil {
				t.Fatal("graphs returned with an error")
			}
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for _, g := range gs {
			if len(g.Stages) > argo.MaxStages {
				t.Fatalf("%d stages", len(g.Stages))
			}
			if err := g.Build(); err != nil {
				t.Fatalf("build: %v", err)
			}
			if _, err := pipeline.Analyze(g, pipeline.Options{Enabled: func(*finding.Rule) bool { return true }}); err != nil {
				t.Fatalf("analyze: %v", err)
			}
		}
	})
}

package kfp_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s/k8stest"
	"github.com/mlgate/mlgate/pipeline/kfp"
)

// FuzzParse feeds arbitrary bytes to the KFP adapter and, when they parse,
// runs every rule over the graphs. Nothing may panic or hang, a successful
// parse must give graphs with stages that build and analyze.
func FuzzParse(f *testing.F) {
	f.Add([]byte(oneTask("--index-url http://x/simple --trusted-host x --extra-index-url https://y/simple", "'pandas' 'a==1'", "        exec-train:\n          secretAsEnv:\n          - secretName: s\n            keyToEnv: [{envVar: A, secretKey: b}]\n          pvcMount: [{mountPath: /d, constant: c}]\n          nodeSelector: {labels: {nvidia.com/gpu.present: 'true'}}\n")))
	f.Add([]byte("components:\n  comp-a:\n    dag:\n      tasks:\n        x: {componentRef: {name: comp-b}, inputs: {artifacts: {i: {componentInputArtifact: z}}}}\n  comp-b: {executorLabel: exec-b}\ndeploymentSpec:\n  executors:\n    exec-b: {importer: {artifactUri: {runtimeParameter: uri}}}\nroot:\n  dag:\n    tasks:\n      t: {componentRef: {name: comp-a}}\n      u: {componentRef: {name: comp-b}, inputs: {artifacts: {q: {taskOutputArtifact: {producerTask: t, outputArtifactKey: o}}}}}\n"))
	f.Add([]byte("a: &a {componentRef: {name: comp-a}}\ncomponents: {comp-a: {dag: {tasks: {x: *a, y: *a}}}}\ndeploymentSpec: {}\nroot: {dag: {tasks: {r: *a}}}\n"))
	if dir := k8stest.SharedDir(filepath.Join("corpora", "pipelines", "kfp-platform")); dir != "" {
		for _, p := range []string{"secret_as_env.yaml", "create_mount_delete_existing_pvc.yaml", "toleration.yaml"} {
			if b, err := os.ReadFile(filepath.Join(dir, p)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		gs, err := kfp.Parse(&pipeline.Source{File: "fuzz.yaml", Src: src})
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
			if len(g.Stages) == 0 {
				t.Fatal("parsed a pipeline with no stages")
			}
			if len(g.Stages) > kfp.MaxStages {
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

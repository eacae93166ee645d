package kfp_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/kfp"
)

// bootstrap writes the sh -c bootstrap the KFP SDK generates, in the
// SDK's double-quoted, folded form, with pipArgs before the packages.
func bootstrap(pipArgs, packages string) string {
	user := ""
	if packages != "" {
		user = `python3 -m pip install --quiet --no-warn-script-location ` + pipArgs + ` ` + packages + ` && `
	}
	script := "\nif ! [ -x \"$(command -v pip)\" ]; then\n    python3 -m ensurepip\nfi\n\nPIP_DISABLE_PIP_VERSION_CHECK=1 " +
		user + `python3 -m pip install --quiet --no-warn-script-location ` + pipArgs + ` 'kfp==2.14.3' '--no-deps' 'typing-extensions>=3.7.4,<5; python_version<"3.9"' && "$0" "$@"` + "\n"
	q := strings.ReplaceAll(strings.ReplaceAll(script, `\`, `\\`), `"`, `\"`)
	q = strings.ReplaceAll(q, "\n", `\n`)
	return `"` + q + `"`
}

// component writes one lightweight-component executor.
func executor(name, image, pipArgs, packages string) string {
	return fmt.Sprintf(`    exec-%s:
      container:
        args: [--executor_input, '{{$}}', --function_to_execute, %s]
        command:
        - sh
        - -c
        - %s
        - sh
        - -ec
        - |
          program_path=$(mktemp -d)
          printf "%%s" "$0" > "$program_path/ephemeral_component.py"
          python3 -m kfp.dsl.executor_main --component_module_path "$program_path/ephemeral_component.py" "$@"
        - |

          import kfp
          def %s(data):
              pass
        image: %s
`, name, name, bootstrap(pipArgs, packages), name, image)
}

const importerExec = `    exec-importer:
      importer:
        artifactUri:
          constant: %s
        typeSchema:
          schemaTitle: system.Model
          schemaVersion: 0.0.1
`

// pipelineOf assembles an IR: components, executors, root tasks and an
// optional platform document.
func pipelineOf(components, executors, tasks, platform string) string {
	s := "# PIPELINE DEFINITION\n# Name: p\ncomponents:\n" + components + "deploymentSpec:\n  executors:\n" + executors +
		"pipelineInfo:\n  name: p\nroot:\n  dag:\n    tasks:\n" + tasks + "schemaVersion: 2.1.0\nsdkVersion: kfp-2.14.3\n"
	if platform != "" {
		s += "---\nplatforms:\n  kubernetes:\n    deploymentSpec:\n      executors:\n" + platform
	}
	return s
}

func comp(name string, inArt, outArt string) string {
	s := "  comp-" + name + ":\n    executorLabel: exec-" + name + "\n"
	if inArt != "" {
		s += "    inputDefinitions:\n      artifacts:\n        " + inArt + ":\n          artifactType: {schemaTitle: system.Model, schemaVersion: 0.0.1}\n"
	}
	if outArt != "" {
		s += "    outputDefinitions:\n      artifacts:\n        " + outArt + ":\n          artifactType: {schemaTitle: system.Model, schemaVersion: 0.0.1}\n"
	}
	return s
}

func task(name, comp, deps, inArt, producer, key string) string {
	s := "      " + name + ":\n        componentRef: {name: comp-" + comp + "}\n        taskInfo: {name: " + name + "}\n"
	if deps != "" {
		s += "        dependentTasks: [" + deps + "]\n"
	}
	if inArt != "" {
		s += "        inputs:\n          artifacts:\n            " + inArt + ":\n              taskOutputArtifact: {producerTask: " + producer + ", outputArtifactKey: " + key + "}\n"
	}
	return s
}

func parse(t *testing.T, src string) []*pipeline.Graph {
	t.Helper()
	gs, err := kfp.Parse(&pipeline.Source{File: "p.yaml", Src: []byte(src)})
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

const pinned = "python:3.11@sha256:0000000000000000000000000000000000000000000000000000000000000000"

func oneTask(pipArgs, packages, platform string) string {
	return pipelineOf(comp("train", "", "model"), executor("train", pinned, pipArgs, packages),
		task("train", "train", "", "", "", ""), platform)
}

type ruleCase struct {
	name  string
	rule  string
	src   string
	want  int
	check func(t *testing.T, src string, fs []finding.Finding)
}

// lineCol returns the text of src at a finding's position.
func at(src string, f finding.Finding, n int) string {
	lines := strings.Split(src, "\n")
	if f.Location.Line < 1 || f.Location.Line > len(lines) {
		return ""
	}
	l := lines[f.Location.Line-1]
	c := f.Location.Column - 1
	if c < 0 || c > len(l) {
		return ""
	}
	if c+n > len(l) {
		n = len(l) - c
	}
	return l[c : c+n]
}

func TestRules(t *testing.T) {
	secretEnv := "        exec-train:\n          secretAsEnv:\n          - secretName: hf-token\n            keyToEnv:\n            - {secretKey: token, envVar: HF_TOKEN}\n"
	pvc := func(exec string) string {
		return "        exec-" + exec + ":\n          pvcMount:\n          - mountPath: /data\n            pvcNameParameter:\n              runtimeValue: {constant: shared-cache}\n"
	}
	importFlow := func(uri, platform string) string {
		return pipelineOf(comp("importer", "", "artifact")+comp("load", "model", "out")+comp("train", "", "model"),
			fmt.Sprintf(importerExec, uri)+executor("load", pinned, "", "")+executor("train", pinned, "", ""),
			task("importer", "importer", "", "", "", "")+task("load", "load", "importer", "model", "importer", "artifact")+
				task("train", "train", "load", "", "", ""), platform)
	}
	cases := []ruleCase{
		{name: "trusted-host", rule: "pipeline/kfp-insecure-package-index", src: oneTask("--index-url https://pkgs.example.com/simple --trusted-host pkgs.example.com", "'pandas==2.2.0'", ""), want: 2,
			check: func(t *testing.T, src string, fs []finding.Finding) {
				if got := at(src, fs[0], 17); got != "pkgs.example.com " {
					t.Errorf("position %d:%d points at %q", fs[0].Location.Line, fs[0].Location.Column, got)
				}
				if fs[0].Severity != finding.Medium {
					t.Errorf("severity %v for an https index", fs[0].Severity)
				}
			}},
		{name: "http index", rule: "pipeline/kfp-insecure-package-index", src: oneTask("--index-url http://pkgs.example.com/simple", "'pandas==2.2.0'", ""), want: 2,
			check: func(t *testing.T, src string, fs []finding.Finding) {
				if fs[0].Severity != finding.High {
					t.Errorf("severity %v for an http index", fs[0].Severity)
				}
			}},
		{name: "trusted-host URL as the SDK writes it", rule: "pipeline/kfp-insecure-package-index", src: oneTask("--index-url https://pypi.org/simple --trusted-host https://pypi.org/simple", "'yapf==0.40.2'", ""), want: 0},
		{name: "https index only", rule: "pipeline/kfp-insecure-package-index", src: oneTask("--index-url https://pkgs.example.com/simple", "'pandas==2.2.0'", ""), want: 0},
		{name: "extra index", rule: "pipeline/kfp-extra-index-url", src: oneTask("--extra-index-url https://private.example.com/simple", "'acme-utils==1.0'", ""), want: 2},
		{name: "single index", rule: "pipeline/kfp-extra-index-url", src: oneTask("--index-url https://private.example.com/simple", "'acme-utils==1.0'", ""), want: 0},
		{name: "unpinned", rule: "pipeline/kfp-unpinned-package", src: oneTask("", "'pandas' 'torch>=2.1' 'numpy==1.26.4'", ""), want: 2,
			check: func(t *testing.T, src string, fs []finding.Finding) {
				for _, f := range fs {
					if got := at(src, f, 1); got != "'" {
						t.Errorf("%s: position %d:%d points at %q, want the quoted package", f.Message, f.Location.Line, f.Location.Column, got)
					}
				}
			}},
		{name: "pinned and runtime", rule: "pipeline/kfp-unpinned-package", src: oneTask("", "'pandas==2.2.0' 'numpy==1.26.4; python_version>\"3.8\"'", ""), want: 0},
		{name: "importer gs no generation", rule: "pipeline/kfp-importer-unpinned-uri", src: importFlow("gs://bucket/models/m.pt", ""), want: 1},
		{name: "importer hf no revision", rule: "pipeline/kfp-importer-unpinned-uri", src: importFlow("hf://org/model", ""), want: 1},
		{name: "importer gs generation", rule: "pipeline/kfp-importer-unpinned-uri", src: importFlow("gs://bucket/models/m.pt#1712345678901234", ""), want: 0},
		{name: "importer hf revision", rule: "pipeline/kfp-importer-unpinned-uri", src: importFlow("hf://org/model@0123456789abcdef0123456789abcdef01234567", ""), want: 0},
		{name: "secret env + unpinned", rule: "pipeline/kfp-secret-env-unpinned-code", src: oneTask("", "'transformers'", secretEnv), want: 1},
		{name: "secret env + pinned", rule: "pipeline/kfp-secret-env-unpinned-code", src: oneTask("", "'transformers==4.44.0'", secretEnv), want: 0},
		{name: "secret env + bare trusted host", rule: "pipeline/kfp-secret-env-unpinned-code", src: oneTask("--index-url https://p.example.com/simple --trusted-host p.example.com", "'transformers==4.44.0'", secretEnv), want: 1},
		{name: "secret env + SDK URL trusted host", rule: "pipeline/kfp-secret-env-unpinned-code", src: oneTask("--index-url https://p.example.com/simple --trusted-host https://p.example.com/simple", "'transformers==4.44.0'", secretEnv), want: 0},
		{name: "unpinned without secrets", rule: "pipeline/kfp-secret-env-unpinned-code", src: oneTask("", "'transformers'", ""), want: 0},
		{name: "pvc after import", rule: "pipeline/kfp-pvc-shared-with-untrusted", src: importFlow("gs://bucket/m.pt", pvc("load")+pvc("train")), want: 1},
		{name: "pvc only later", rule: "pipeline/kfp-pvc-shared-with-untrusted", src: importFlow("gs://bucket/m.pt", pvc("train")), want: 0},
		{name: "pvc without import", rule: "pipeline/kfp-pvc-shared-with-untrusted", src: pipelineOf(comp("a", "", "x")+comp("b", "", ""),
			executor("a", pinned, "", "")+executor("b", pinned, "", ""), task("a", "a", "", "", "", "")+task("b", "b", "a", "", "", ""), pvc("a")+pvc("b")), want: 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fs := only(run(t, c.src), c.rule)
			if len(fs) != c.want {
				t.Fatalf("%s: got %d findings, want %d: %v\n%s", c.rule, len(fs), c.want, fs, c.src)
			}
			if c.check != nil {
				c.check(t, c.src, fs)
			}
		})
	}
}

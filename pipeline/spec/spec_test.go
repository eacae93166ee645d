package spec_test

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/spec"
)

func TestParseValid(t *testing.T) {
	src := `version: 1
name: demo
stages:
  - name: fetch
    inputs:
      - lockfile
      - name: base_model
        trust: untrusted
        description: hub download
    outputs: [deps, base]
    runs_untrusted_code: false
    has_network_access: [pypi.org, huggingface.co]
    has_gpu_access: false
    secrets_available: [HF_TOKEN]
    isolation_level: container
    runner: ephemeral
  - name: train
    role: [scan]
    inputs: [deps, base]
    runs_untrusted_code: true
    has_network_access: false
    has_gpu_access: true
    isolation_level: hardware
`
	g, err := spec.Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Stages) != 2 || g.Format != spec.Format || g.File != "p.yaml" {
		t.Fatalf("graph: %+v", g)
	}
	f := g.Stages[0]
	if f.Name != "fetch" || f.Pos != (pipeline.Pos{Line: 4, Column: 5}) {
		t.Errorf("stage pos %+v", f.Pos)
	}
	if len(f.Inputs) != 2 || f.Inputs[1].Trust != pipeline.TrustUntrusted || f.Inputs[0].Trust != pipeline.TrustUnspecified {
		t.Errorf("inputs %+v", f.Inputs)
	}
	if f.Network.Access != pipeline.True || strings.Join(f.Network.Allow, ",") != "pypi.org,huggingface.co" {
		t.Errorf("network %+v", f.Network)
	}
	if f.Isolation != pipeline.IsolationContainer || f.Runner != pipeline.RunnerEphemeral || f.RunsUntrustedCode != pipeline.False {
		t.Errorf("props %+v", f)
	}
	if p := f.FieldPos("secrets_available"); p.Line != 14 || p.Column != 5 {
		t.Errorf("secrets pos %+v", p)
	}
	tr := g.Stages[1]
	if !tr.HasRole(pipeline.RoleScan) || tr.RolesInferred || tr.GPU != pipeline.True || tr.Runner != pipeline.RunnerUnknown {
		t.Errorf("train %+v", tr)
	}
	if got := g.Producers("deps"); len(got) != 1 || got[0] != f {
		t.Errorf("producers of deps: %v", got)
	}
	if got := g.Consumers("base"); len(got) != 1 || got[0] != tr {
		t.Errorf("consumers of base: %v", got)
	}
}

func TestBareListAndInferredRoles(t *testing.T) {
	src := "- {name: modelSigning, runs_untrusted_code: false, has_network_access: false, has_gpu_access: false}\n" +
		"- {name: push-to-registry, runs_untrusted_code: false, has_network_access: true, has_gpu_access: false}\n" +
		"- {name: offline, runs_untrusted_code: false, has_network_access: false, has_gpu_access: false, secrets_available: [COSIGN_KEY]}\n" +
		"- {name: design, runs_untrusted_code: false, has_network_access: false, has_gpu_access: false}\n"
	g, err := spec.Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]pipeline.Role{{pipeline.RoleSign}, {pipeline.RoleRegister}, {pipeline.RoleSign}, nil}
	for i, s := range g.Stages {
		if fmt.Sprint(s.Roles) != fmt.Sprint(want[i]) {
			t.Errorf("%s roles %v, want %v", s.Name, s.Roles, want[i])
		}
	}
}

func TestParseErrors(t *testing.T) {
	const ok = "    runs_untrusted_code: false\n    has_network_access: false\n    has_gpu_access: false\n"
	cases := []struct {
		name, src, want string
	}{
		{"unknown stage key", "stages:\n  - name: a\n" + ok + "    isolaton_level: vm\n", `p.yaml:6:5: unknown key "isolaton_level" in a stage`},
		{"unknown top key", "stage:\n  - name: a\n", `p.yaml:1:1: unknown key "stage"`},
		{"wrong bool type", "stages:\n  - name: a\n    runs_untrusted_code: yes please\n    has_network_access: false\n    has_gpu_access: false\n", "p.yaml:3:26: runs_untrusted_code must be true or false"},
		{"quoted bool is a string", "stages:\n  - name: a\n    runs_untrusted_code: \"true\"\n    has_network_access: false\n    has_gpu_access: false\n", "p.yaml:3:26: runs_untrusted_code must be true or false"},
		{"bad isolation", "stages:\n  - name: a\n" + ok + "    isolation_level: gvisor\n", "p.yaml:6:22: isolation_level must be one of none, container, vm, hardware"},
		{"bad runner", "stages:\n  - name: a\n" + ok + "    runner: mine\n", "p.yaml:6:13: runner must be one of shared"},
		{"bad trust", "stages:\n  - name: a\n" + ok + "    inputs: [{name: x, trust: maybe}]\n", "p.yaml:6:31: trust must be trusted or untrusted"},
		{"bad role", "stages:\n  - name: a\n" + ok + "    role: train\n", `p.yaml:6:11: unknown role "train"`},
		{"network wrong type", "stages:\n  - name: a\n    runs_untrusted_code: false\n    has_network_access: {host: x}\n    has_gpu_access: false\n", "p.yaml:4:25: has_network_access must be true, false or a list"},
		{"secrets not a list", "stages:\n  - name: a\n" + ok + "    secrets_available: TOKEN\n", "p.yaml:6:24: secrets_available must be a list"},
		{"missing required", "stages:\n  - name: a\n    runs_untrusted_code: true\n", "p.yaml:2:5: stage \"a\" is missing required key `has_network_access`"},
		{"missing name", "stages:\n  - runs_untrusted_code: false\n    has_network_access: false\n    has_gpu_access: false\n", "p.yaml:2:5: stage is missing required key `name`"},
		{"duplicate key", "stages:\n  - name: a\n" + ok + "    name: b\n", `p.yaml:6:5: duplicate key "name"`},
		{"duplicate stage", "stages:\n  - name: a\n" + ok + "  - name: a\n" + ok, `p.yaml:6:5: duplicate stage name "a" (first defined at line 2)`},
		{"cycle", "stages:\n  - name: a\n    inputs: [y]\n    outputs: [x]\n" + ok + "  - name: b\n    inputs: [x]\n    outputs: [y]\n" + ok, "dependency cycle"},
		{"duplicate input", "stages:\n  - name: a\n    inputs: [m, {name: m}]\n" + ok, `p.yaml:3:17: duplicate input "m" in this stage`},
		{"duplicate output", "stages:\n  - name: a\n    outputs: [m, m]\n" + ok, `p.yaml:3:18: duplicate output "m"`},
		{"duplicate secret", "stages:\n  - name: a\n    secrets_available: [K, K]\n" + ok, `p.yaml:3:28: duplicate secret "K"`},
		{"line separator", "stages:\n  - name: a\u2028b\n" + ok, "p.yaml:2:12: line separator U+2028 is not supported"},
		{"NEL", "stages: []\u0085\n", "p.yaml:1:11: line separator U+0085"},
		{"lone CR", "stages:\r  - name: a\n", "p.yaml:1:8: carriage return without line feed"},
		{"invalid UTF-8", "stages:\n  - name: \xff\n", "p.yaml:2:11: invalid UTF-8 byte 0xff"},
		{"NUL", "stages:\n  - name: a\x00\n", "p.yaml:2:12: control character U+0000"},
		{"escape", "stages:\n\x1b[2J", "p.yaml:2:1: control character U+001B"},
		{"BOM inside", "stages:\n\ufeff", "p.yaml:2:1: byte-order mark"},
		{"empty stages", "stages: []\n", "`stages` is empty"},
		{"empty file", "", "file is empty"},
		{"scalar document", "hello\n", "must be a mapping with a `stages` list"},
		{"two documents", "stages: []\n---\nstages: []\n", "single YAML document"},
		{"yaml syntax", "stages:\n  - name: [a\n", "p.yaml:"},
		{"bad version", "version: 2\nstages:\n  - name: a\n" + ok, "p.yaml:1:10: unsupported stage spec version"},
		{"merge key", "x: &x {runs_untrusted_code: false}\nstages:\n  - <<: *x\n", "merge keys"},
		{"empty name", "stages:\n  - name: \"  \"\n" + ok, "stage name must not be empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := spec.Parse("p.yaml", []byte(c.src))
			if err == nil {
				t.Fatalf("no error for\n%s", c.src)
			}
			var list spec.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want spec.ErrorList", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestManyErrorsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("stages:\n")
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&b, "  - name: s%d\n    bogus: 1\n", i)
	}
	_, err := spec.Parse("p.yaml", []byte(b.String()))
	var list spec.ErrorList
	if !errors.As(err, &list) || len(list) > 60 {
		t.Fatalf("want a capped error list, got %d errors", len(list))
	}
}

func TestAliasBomb(t *testing.T) {
	// Each level multiplies the work by ten; without a budget this is 10^8 nodes.
	src := `a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
stages:
  - name: s
    runs_untrusted_code: false
    has_network_access: false
    has_gpu_access: false
    secrets_available: *d
`
	_, err := spec.Parse("p.yaml", []byte(src))
	if err == nil {
		t.Fatal("alias bomb accepted")
	}
}

func TestAliasesWithinBudget(t *testing.T) {
	src := `stages:
  - name: a
    runs_untrusted_code: false
    has_network_access: false
    has_gpu_access: false
    secrets_available: &keys [K1, K2]
  - name: b
    runs_untrusted_code: false
    has_network_access: false
    has_gpu_access: false
    secrets_available: *keys
`
	g, err := spec.Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(g.Stages[1].SecretNames(), ","); got != "K1,K2" {
		t.Errorf("aliased secrets %q", got)
	}
}

func TestTooLarge(t *testing.T) {
	_, err := spec.Parse("p.yaml", make([]byte, spec.MaxFileSize+1))
	if err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("want size error, got %v", err)
	}
}

func TestIsSpecPath(t *testing.T) {
	for p, want := range map[string]bool{
		"mlgate-pipeline.yaml": true, "ci/mlgate-pipeline.yml": true, "x/train.mlgate-pipeline.yaml": true,
		"MLGATE-PIPELINE.YAML": true, "pipeline.yaml": false, "mlgate-pipeline.yaml.bak": false, "notmlgate-pipeline.yaml": false,
	} {
		if spec.IsSpecPath(p) != want {
			t.Errorf("IsSpecPath(%q) = %v", p, !want)
		}
	}
}

// TestSeedExample checks the acceptance criterion: the seed mapper's
// example pipeline yields exactly the nine seed findings (same stages, same
// severities) plus the graph findings that apply.
func TestSeedExample(t *testing.T) {
	g, _, err := spec.ParseFile("../../examples/seed-pipeline/mlgate-pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := pipeline.Analyze(g, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seedRules := map[string]bool{
		"pipeline/untrusted-code-no-isolation":   true,
		"pipeline/untrusted-code-container-only": true,
		"pipeline/secrets-in-untrusted-stage":    true,
		"pipeline/network-access-untrusted":      true,
		"pipeline/shared-gpu-access":             true,
	}
	var seed, graph []string
	for _, f := range fs {
		line := fmt.Sprintf("%s %s %s", strings.TrimPrefix(f.Location.Logical, "stage "), f.RuleID, f.Severity)
		if seedRules[f.RuleID] {
			seed = append(seed, line)
		} else {
			graph = append(graph, line)
		}
	}
	sort.Strings(seed)
	sort.Strings(graph)
	// The seed's analyze_pipeline output for its example, vector by vector.
	wantSeed := []string{
		"data_preprocessing pipeline/network-access-untrusted high",
		"data_preprocessing pipeline/secrets-in-untrusted-stage critical",
		"data_preprocessing pipeline/untrusted-code-container-only medium",
		"model_evaluation pipeline/shared-gpu-access medium",
		"model_evaluation pipeline/untrusted-code-container-only medium",
		"model_training pipeline/network-access-untrusted high",
		"model_training pipeline/secrets-in-untrusted-stage critical",
		"model_training pipeline/shared-gpu-access medium",
		"model_training pipeline/untrusted-code-container-only medium",
	}
	if strings.Join(seed, "\n") != strings.Join(wantSeed, "\n") {
		t.Errorf("seed findings:\n%s\nwant:\n%s", strings.Join(seed, "\n"), strings.Join(wantSeed, "\n"))
	}
	wantGraph := []string{
		"data_preprocessing pipeline/exfiltration-path high",
		"model_signing pipeline/unscanned-artifact-to-privileged-stage high",
		"model_signing pipeline/unscanned-artifact-to-privileged-stage high",
		"model_training pipeline/exfiltration-path high",
		"model_training pipeline/exfiltration-path high",
	}
	if strings.Join(graph, "\n") != strings.Join(wantGraph, "\n") {
		t.Errorf("graph findings:\n%s\nwant:\n%s", strings.Join(graph, "\n"), strings.Join(wantGraph, "\n"))
	}
}

func TestHardenedExample(t *testing.T) {
	g, _, err := spec.ParseFile("../../examples/hardened-pipeline/mlgate-pipeline.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fs, err := pipeline.Analyze(g, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if f.Severity >= finding.High {
			t.Errorf("hardened example has a %s finding: %s %s", f.Severity, f.RuleID, f.Message)
		}
	}
}

// TestAliasedLongScalar is the reviewer's amplification case: one huge
// scalar, anchored once and aliased from every stage, used to be echoed in
// every finding (8.7 GB of memory for a 780 KB file).
func TestAliasedLongScalar(t *testing.T) {
	var b strings.Builder
	b.WriteString("stages:\n")
	big := strings.Repeat("K", 500_000)
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "  - {name: s%d, runs_untrusted_code: true, has_network_access: false, has_gpu_access: false, secrets_available: [", i)
		if i == 0 {
			b.WriteString("&k " + big)
		} else {
			b.WriteString("*k")
		}
		b.WriteString("]}\n")
	}
	_, err := spec.Parse("p.yaml", []byte(b.String()))
	if err == nil || !strings.Contains(err.Error(), "names are limited to 256 bytes") {
		t.Fatalf("want a name-length error, got %v", err)
	}
	if len(err.Error()) > 100_000 {
		t.Errorf("error message is %d bytes: values must not be echoed in full", len(err.Error()))
	}
}

func TestNameLengthLimit(t *testing.T) {
	ok := "    runs_untrusted_code: false\n    has_network_access: false\n    has_gpu_access: false\n"
	name := strings.Repeat("a", spec.MaxNameLen)
	if _, err := spec.Parse("p.yaml", []byte("stages:\n  - name: "+name+"\n"+ok)); err != nil {
		t.Errorf("a %d-byte name must be accepted: %v", spec.MaxNameLen, err)
	}
	if _, err := spec.Parse("p.yaml", []byte("stages:\n  - name: "+name+"b\n"+ok)); err == nil {
		t.Error("an over-long name was accepted")
	}
	// Long descriptions are fine up to their own, larger, limit.
	if _, err := spec.Parse("p.yaml", []byte("stages:\n  - name: a\n    description: "+strings.Repeat("d", 10_000)+"\n"+ok)); err != nil {
		t.Errorf("description: %v", err)
	}
}

func TestInPlaceUpdateIsNotACycle(t *testing.T) {
	src := `stages:
  - {name: download, outputs: [checkpoint], runs_untrusted_code: false, has_network_access: true, has_gpu_access: false}
  - {name: resume_training, inputs: [checkpoint], outputs: [checkpoint], runs_untrusted_code: true, has_network_access: false, has_gpu_access: true, isolation_level: vm}
  - {name: model_signing, inputs: [checkpoint], runs_untrusted_code: false, has_network_access: false, has_gpu_access: false, secrets_available: [SIGNING_KEY]}
`
	g, err := spec.Parse("p.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	order := []string{}
	for _, s := range g.Order() {
		order = append(order, s.Name)
	}
	if strings.Join(order, ",") != "download,resume_training,model_signing" {
		t.Errorf("order %v", order)
	}
	if _, tainted := g.Taint("checkpoint"); !tainted {
		t.Error("a checkpoint updated in place by untrusted code must be tainted")
	}
}

func TestCRLFAndLeadingBOMAccepted(t *testing.T) {
	src := "\ufeffstages:\r\n  - name: a\r\n    runs_untrusted_code: false\r\n    has_network_access: false\r\n    has_gpu_access: false\r\n"
	if _, err := spec.Parse("p.yaml", []byte(src)); err != nil {
		t.Fatal(err)
	}
}

package checklist

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/audit"
	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/report"
)

func TestDefaultIsTheSeedChecklist(t *testing.T) {
	items := Default()
	if len(items) != 16 {
		t.Fatalf("%d items, want the seed's 16", len(items))
	}
	cats := map[string]int{}
	critical := 0
	for _, it := range items {
		cats[it.Category]++
		if it.Critical {
			critical++
		}
		if _, ok := evaluators[it.ID]; !ok {
			t.Errorf("item %s has no evaluator", it.ID)
		}
	}
	want := map[string]int{"build_environment": 4, "secrets_management": 3, "artifact_integrity": 3, "dependency_management": 3, "monitoring": 3}
	for c, n := range want {
		if cats[c] != n {
			t.Errorf("category %s: %d items, want %d", c, cats[c], n)
		}
	}
	if critical != 12 || len(sortedIDs()) != 16 {
		t.Errorf("%d critical items (want 12), %d evaluators", critical, len(sortedIDs()))
	}
}

func run(t *testing.T, dir string) *Result {
	t.Helper()
	res, err := audit.Run(audit.Options{Paths: []string{dir}, NoConfig: true, KeepGraphs: true})
	if err != nil {
		t.Fatal(err)
	}
	return Evaluate(Default(), res.Report.Findings, res.Graphs)
}

func statuses(r *Result) map[string]Status {
	m := map[string]Status{}
	for _, it := range r.Items {
		m[it.ID] = it.Status
	}
	return m
}

func TestSeedExampleFailsWhatTheSeedSays(t *testing.T) {
	r := run(t, "../examples/seed-pipeline")
	st := statuses(r)
	for id, want := range map[string]Status{
		"untrusted-stages-isolated":   Pass, // the seed's untrusted stages run in containers, as the item asks
		"untrusted-stages-no-network": Fail,
		"dedicated-runners":           Undetermined, // the seed does not say which runners
		"secrets-least-privilege":     Fail,
		"logs-monitored":              Undetermined,
		"checksums-each-stage":        Undetermined, // the stage spec lists no commands
	} {
		if st[id] != want {
			t.Errorf("%s: %s, want %s", id, st[id], want)
		}
	}
	if len(r.CriticalFailures) == 0 || r.Score >= 50 {
		t.Errorf("score %d, critical failures %v", r.Score, r.CriticalFailures)
	}
	for _, it := range r.Items {
		if it.Status == Fail && len(it.Evidence) == 0 {
			t.Errorf("%s fails without evidence", it.ID)
		}
		if it.Status == Undetermined && it.Prove == "" {
			t.Errorf("%s undetermined without saying what would prove it", it.ID)
		}
	}
}

func TestHardenedExamplePassesTheBuildAndSecretItems(t *testing.T) {
	r := run(t, "../examples/hardened-pipeline")
	st := statuses(r)
	for _, id := range []string{"dedicated-runners", "untrusted-stages-isolated", "untrusted-stages-no-network", "gpu-memory-cleared", "secrets-least-privilege", "signing-dedicated-stage", "models-signed"} {
		if st[id] != Pass {
			t.Errorf("%s: %s, want pass", id, st[id])
		}
	}
	if len(r.CriticalFailures) != 0 {
		t.Errorf("critical failures %v", r.CriticalFailures)
	}
	seed := run(t, "../examples/seed-pipeline")
	if r.Score <= seed.Score {
		t.Errorf("hardened score %d not above the seed's %d", r.Score, seed.Score)
	}
}

func stage(name string, mod func(s *pipeline.Stage)) *pipeline.Stage {
	s := &pipeline.Stage{Name: name, RunsUntrustedCode: pipeline.False, Network: pipeline.Network{Access: pipeline.False},
		Isolation: pipeline.IsolationContainer, Runner: pipeline.RunnerEphemeral}
	mod(s)
	return s
}

func graphOf(t *testing.T, stages ...*pipeline.Stage) []*pipeline.Graph {
	g := &pipeline.Graph{File: "ci.yml", Format: "github-actions", Stages: stages}
	if err := g.Build(); err != nil {
		t.Fatal(err)
	}
	return []*pipeline.Graph{g}
}

func evalOne(t *testing.T, id string, graphs []*pipeline.Graph, fs ...finding.Finding) ItemResult {
	for _, it := range Default() {
		if it.ID == id {
			return Evaluate([]Item{it}, fs, graphs).Items[0]
		}
	}
	t.Fatalf("no item %s", id)
	return ItemResult{}
}

func step(run string) pipeline.Step { return pipeline.Step{Run: run} }

func TestEvaluatorsBothWays(t *testing.T) {
	cases := []struct {
		id     string
		stages []*pipeline.Stage
		want   Status
	}{
		{"dedicated-runners", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) { s.Runner = pipeline.RunnerShared })}, Fail},
		{"dedicated-runners", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) { s.Runner = pipeline.RunnerUnknown })}, Undetermined},
		{"dedicated-runners", []*pipeline.Stage{stage("a", func(*pipeline.Stage) {})}, Pass},
		{"untrusted-stages-no-network", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) {
			s.RunsUntrustedCode, s.Network.Access = pipeline.True, pipeline.True
		})}, Fail},
		{"untrusted-stages-no-network", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) {
			s.RunsUntrustedCode = pipeline.True
		})}, Pass},
		{"untrusted-stages-no-network", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) {
			s.RunsUntrustedCode, s.Network.Access = pipeline.Unknown, pipeline.Unknown
		})}, Undetermined},
		{"gpu-memory-cleared", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) { s.GPU, s.Runner = pipeline.True, pipeline.RunnerShared })}, Undetermined},
		{"gpu-memory-cleared", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) { s.GPU = pipeline.True })}, Pass},
		{"vulnerability-scan", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) { s.Steps = []pipeline.Step{step("pip install -r req.txt")} })}, Fail},
		{"vulnerability-scan", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) {
			s.Steps = []pipeline.Step{step("pip install -r req.txt"), step("pip-audit -r req.txt")}
		})}, Pass},
		{"vulnerability-scan", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) {
			s.Steps = []pipeline.Step{step("echo trivy is not run here")}
		})}, Undetermined},
		{"checksums-each-stage", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) {
			s.Steps, s.Outputs = []pipeline.Step{step("python train.py")}, []pipeline.Output{{Artifact: "model"}}
		})}, Fail},
		{"checksums-each-stage", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) {
			s.Steps, s.Outputs = []pipeline.Step{step("python train.py && sha256sum model.bin > SHA256SUMS")}, []pipeline.Output{{Artifact: "model"}}
		})}, Pass},
		{"signatures-verified-at-deploy", []*pipeline.Stage{stage("deploy", func(s *pipeline.Stage) {
			s.Roles, s.Steps = []pipeline.Role{pipeline.RoleDeploy}, []pipeline.Step{step("kubectl apply -f svc.yaml")}
		})}, Fail},
		{"signatures-verified-at-deploy", []*pipeline.Stage{stage("deploy", func(s *pipeline.Stage) {
			s.Roles, s.Steps = []pipeline.Role{pipeline.RoleDeploy}, []pipeline.Step{step("mlgate verify model --signature model.sig --key k.pub\nkubectl apply -f svc.yaml")}
		})}, Pass},
		{"network-alerts", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) {
			s.Steps = []pipeline.Step{step("mlgate run --network none -- python train.py")}
		})}, Pass},
		{"build-time-alerts", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) {
			s.Steps = []pipeline.Step{step("mlgate run --network none -- python train.py")}
		})}, Undetermined},
		{"build-time-alerts", []*pipeline.Stage{stage("a", func(s *pipeline.Stage) {
			s.Steps = []pipeline.Step{step("mlgate run --history h.json -- python train.py")}
		})}, Pass},
		{"signing-dedicated-stage", []*pipeline.Stage{stage("train_and_sign", func(s *pipeline.Stage) { s.Roles = []pipeline.Role{"train", pipeline.RoleSign} })}, Fail},
		{"signing-dedicated-stage", []*pipeline.Stage{stage("sign", func(s *pipeline.Stage) { s.Roles = []pipeline.Role{pipeline.RoleSign} })}, Pass},
		{"models-signed", []*pipeline.Stage{stage("push", func(s *pipeline.Stage) { s.Roles = []pipeline.Role{pipeline.RoleRegister} })}, Fail},
	}
	for _, c := range cases {
		r := evalOne(t, c.id, graphOf(t, c.stages...))
		if r.Status != c.want {
			t.Errorf("%s on %s: %s (%s), want %s", c.id, c.stages[0].Name, r.Status, r.Reason, c.want)
		}
	}
}

func TestFindingsMakeItemsFail(t *testing.T) {
	f := finding.Finding{RuleID: "pipeline/unsigned-model-release", Message: "x", Location: finding.Location{File: "p.yml", Line: 3}}
	r := evalOne(t, "models-signed", graphOf(t, stage("a", func(*pipeline.Stage) {})), f)
	if r.Status != Fail || len(r.Evidence) != 1 || r.Evidence[0].Line != 3 {
		t.Fatalf("%+v", r)
	}
	// Nothing analyzed: undetermined, never pass.
	if r := evalOne(t, "dedicated-runners", nil); r.Status != Undetermined {
		t.Fatalf("no pipelines: %s", r.Status)
	}
}

func TestCustomChecklist(t *testing.T) {
	src := `pipeline_security_audit:
  ours:
    - check: "Runners are ephemeral"
      id: dedicated-runners
      critical: true
    - check: "No pwn requests"
      rules: [pipeline/gha-]
    - check: "Something only people can check"
`
	items, err := Parse("c.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 3 || items[1].ID != "ours-2" || items[1].Rules[0] != "pipeline/gha-" {
		t.Fatalf("%+v", items)
	}
	gs := graphOf(t, stage("a", func(*pipeline.Stage) {}))
	fs := []finding.Finding{{RuleID: "pipeline/gha-pwn-request", Message: "m"}}
	res := Evaluate(items, fs, gs)
	if res.Items[0].Status != Pass || res.Items[1].Status != Fail || res.Items[2].Status != Undetermined {
		t.Fatalf("%s %s %s", res.Items[0].Status, res.Items[1].Status, res.Items[2].Status)
	}
	if res.Score != (2*100+2)/4 { // passed weight 2 of 4
		t.Fatalf("score %d", res.Score)
	}
	for _, bad := range []string{
		"pipeline_security_audit:\n  x:\n    - check: a\n      colour: red\n",
		"pipeline_security_audit:\n  x:\n    - critical: true\n",
		"pipeline_security_audit:\n  x:\n    - check: a\n      id: Not_Kebab\n",
		"pipeline_security_audit:\n  x:\n    - {check: a, id: d}\n    - {check: b, id: d}\n",
		"other: {}\n",
		"pipeline_security_audit:\n  x: {check: a}\n",
		"pipeline_security_audit:\n  x:\n    - check: a\n      critical: yes please\n",
	} {
		if _, err := Parse("c.yaml", []byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		} else if !strings.Contains(err.Error(), "c.yaml") {
			t.Errorf("error without position: %v", err)
		}
	}
}

func TestOutputs(t *testing.T) {
	r := run(t, "../examples/seed-pipeline")
	var text, js, sarif bytes.Buffer
	if err := WriteText(&text, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"build environment", "FAIL", "posture score", "critical failures:", "to settle it:"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	tool := report.Tool{Name: "mlgate", Version: "test"}
	if err := WriteJSON(&js, r, tool); err != nil {
		t.Fatal(err)
	}
	var back struct {
		SchemaVersion string       `json:"schema_version"`
		Score         int          `json:"score"`
		Items         []ItemResult `json:"items"`
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.SchemaVersion != "1" || len(back.Items) != 16 || back.Score != r.Score {
		t.Fatalf("json: %v %+v", err, back.SchemaVersion)
	}
	if err := WriteSARIF(&sarif, r, tool); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sarif.String(), `"checklist/untrusted-stages-no-network"`) {
		t.Errorf("sarif lacks the failed item")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(seedYAML)
	f.Add([]byte("pipeline_security_audit:\n  a:\n    - {check: x, rules: [a/b]}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		items, err := Parse("f.yaml", b)
		if err == nil && len(items) == 0 {
			t.Fatal("no error and no items")
		}
	})
}

// Items decided by format rules fail on their findings: a workflow with
// broad token permissions fails token-scope, an unpinned install fails
// dependencies-hash-pinned.
func TestFormatRuleFindingsDecideItems(t *testing.T) {
	gs := graphOf(t, stage("a", func(s *pipeline.Stage) { s.Steps = []pipeline.Step{step("pip install torch")} }))
	for id, rule := range map[string]string{
		"token-scope":              "pipeline/gha-excessive-permissions",
		"dependencies-hash-pinned": "pipeline/unpinned-dependency-install",
		"vulnerability-scan":       "pipeline/no-dependency-scan",
		"signing-dedicated-stage":  "pipeline/signing-in-training-stage",
		"secrets-least-privilege":  "pipeline/gha-secrets-fork-reachable",
	} {
		if r := evalOne(t, id, gs, finding.Finding{RuleID: rule, Message: "m"}); r.Status != Fail {
			t.Errorf("%s with a %s finding: %s", id, rule, r.Status)
		}
		if r := evalOne(t, id, gs); r.Status == Fail && id == "token-scope" {
			t.Errorf("%s without findings: %s", id, r.Status)
		}
	}
}

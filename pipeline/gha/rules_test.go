package gha

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// analyzeFile parses and analyzes a fixture with every rule enabled.
func analyzeFile(t *testing.T, path string) []finding.Finding {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Parse(path, ".github/workflows/"+filepath.Base(path), src)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	fs, err := pipeline.Analyze(g, allRules)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return fs
}

func ofRule(fs []finding.Finding, id string) []finding.Finding {
	var out []finding.Finding
	for _, f := range fs {
		if f.RuleID == id {
			out = append(out, f)
		}
	}
	return out
}

// TestRuleFixtures runs every GitHub Actions rule on its fixtures:
// testdata/rules/<rule>/bad.yml must trigger it with a position, good.yml
// (a close look-alike) must not.
func TestRuleFixtures(t *testing.T) {
	for _, r := range pipeline.Rules() {
		if !strings.HasPrefix(r.ID, "pipeline/gha-") {
			continue
		}
		name := strings.TrimPrefix(r.ID, "pipeline/")
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "rules", name)
			bad := ofRule(analyzeFile(t, filepath.Join(dir, "bad.yml")), r.ID)
			if len(bad) == 0 {
				t.Fatalf("bad.yml: no %s finding", r.ID)
			}
			for _, f := range bad {
				if f.Location.Line == 0 {
					t.Errorf("bad.yml: finding without a line: %+v", f)
				}
				t.Logf("bad.yml:%d:%d [%s] %s", f.Location.Line, f.Location.Column, f.Severity, f.Message)
			}
			if good := ofRule(analyzeFile(t, filepath.Join(dir, "good.yml")), r.ID); len(good) > 0 {
				for _, f := range good {
					t.Errorf("good.yml:%d:%d unexpected: %s", f.Location.Line, f.Location.Column, f.Message)
				}
			}
		})
	}
}

// TestRulesIgnoreOtherFormats checks that the GitHub-only rules do nothing
// on another format's graph.
func TestRulesIgnoreOtherFormats(t *testing.T) {
	g := &pipeline.Graph{File: "x.yaml", Format: "mlgate-pipeline", Stages: []*pipeline.Stage{{Name: "a"}}}
	fs, err := pipeline.Analyze(g, allRules)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if strings.HasPrefix(f.RuleID, "pipeline/gha-") {
			t.Errorf("unexpected %s on a stage spec graph", f.RuleID)
		}
	}
}

// TestSeverities checks per-finding severities the docs promise.
func TestSeverities(t *testing.T) {
	cases := []struct {
		fixture, rule string
		want          []finding.Severity
	}{
		{"gha-unpinned-action/bad.yml", "pipeline/gha-unpinned-action", []finding.Severity{finding.Low, finding.Medium}},
		{"gha-pwn-request/bad.yml", "pipeline/gha-pwn-request", []finding.Severity{finding.Critical}},
		{"gha-untrusted-trigger-self-hosted/bad.yml", "pipeline/gha-untrusted-trigger-self-hosted", []finding.Severity{finding.High}},
		{"gha-fork-model-cache/bad.yml", "pipeline/gha-fork-model-cache", []finding.Severity{finding.Critical}},
		{"gha-secrets-printed/bad.yml", "pipeline/gha-secrets-printed", []finding.Severity{finding.High, finding.Medium}},
		{"gha-template-injection/bad.yml", "pipeline/gha-template-injection", []finding.Severity{finding.Critical}},
	}
	for _, c := range cases {
		fs := ofRule(analyzeFile(t, filepath.Join("testdata", "rules", c.fixture)), c.rule)
		if len(fs) != len(c.want) {
			t.Errorf("%s: %d findings, want %d", c.fixture, len(fs), len(c.want))
			continue
		}
		got := map[finding.Severity]int{}
		for _, f := range fs {
			got[f.Severity]++
		}
		for _, s := range c.want {
			if got[s] == 0 {
				t.Errorf("%s: no %s finding in %v", c.fixture, s, got)
			}
			got[s]--
		}
	}
}

func TestRuleOptions(t *testing.T) {
	path := filepath.Join("testdata", "rules", "gha-untrusted-trigger-self-hosted", "bad.yml")
	src, _ := os.ReadFile(path)
	g, err := Parse(path, "", src)
	if err != nil {
		t.Fatal(err)
	}
	opts := func(o map[string]any) pipeline.Options {
		return pipeline.Options{Enabled: func(r *finding.Rule) bool { return r.ID == UntrustedTriggerSelfHosted.ID },
			RuleOptions: func(string) map[string]any { return o }}
	}
	// Declaring the labels GitHub-hosted larger runners removes the finding.
	fs, err := pipeline.Analyze(g, opts(map[string]any{"hosted_labels": []any{"self-hosted", "linux", "a100"}, "gpu_labels": []any{"h100"}}))
	if err != nil || len(fs) != 0 {
		t.Errorf("with hosted_labels: %v %v", fs, err)
	}
	if _, err := pipeline.Analyze(g, opts(map[string]any{"gpu_labels": "gpu"})); err == nil {
		t.Error("a non-list option must be an error")
	}
}

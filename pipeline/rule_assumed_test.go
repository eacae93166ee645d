package pipeline_test

import (
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

func analyzeGraph(t *testing.T, stages ...*pipeline.Stage) []finding.Finding {
	t.Helper()
	g := &pipeline.Graph{File: "ci.yml", Format: "test", Stages: stages}
	fs, err := pipeline.Analyze(g, pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// Stages whose untrusted-code status is unknown (Kubeflow and Argo cannot
// say) get one lower-severity finding per pipeline naming them, not one
// alarm each; a known-untrusted stage keeps its own finding.
func TestUnknownUntrustedIsAggregated(t *testing.T) {
	var stages []*pipeline.Stage
	for _, n := range []string{"a", "b", "c"} {
		stages = append(stages, &pipeline.Stage{Name: n, RunsUntrustedCode: pipeline.Unknown,
			Network: pipeline.Network{Access: pipeline.Unknown}, Isolation: pipeline.IsolationContainer,
			Secrets: []pipeline.Secret{{Name: "TOKEN"}}})
	}
	stages = append(stages, &pipeline.Stage{Name: "pr", RunsUntrustedCode: pipeline.True,
		Network: pipeline.Network{Access: pipeline.True}, Isolation: pipeline.IsolationContainer})
	fs := analyzeGraph(t, stages...)
	for id, want := range map[string]struct {
		n   int
		sev finding.Severity
	}{
		"pipeline/network-access-untrusted":      {2, finding.Low}, // the aggregate + stage pr
		"pipeline/untrusted-code-container-only": {2, finding.Low},
		"pipeline/secrets-in-untrusted-stage":    {1, finding.Medium},
	} {
		got := only(fs, id)
		if len(got) != want.n {
			t.Fatalf("%s: %d findings, want %d: %+v", id, len(got), want.n, got)
		}
		agg := false
		for _, f := range got {
			if strings.Contains(f.Message, "3 stage(s) (a, b, c)") {
				agg = true
				if f.Severity != want.sev || !strings.Contains(f.Message, "could not be determined") {
					t.Errorf("%s aggregate: %s %q", id, f.Severity, f.Message)
				}
			}
		}
		if !agg {
			t.Errorf("%s: no aggregate finding in %+v", id, got)
		}
	}
}

// Untrusted code on a fresh hosted VM with no secrets and no GPU has
// nothing to exfiltrate but its own source: no network finding. A GPU or a
// secret brings it back.
func TestNetworkOnEphemeralHostedVM(t *testing.T) {
	hosted := func(mod func(*pipeline.Stage)) *pipeline.Stage {
		s := &pipeline.Stage{Name: "pr", RunsUntrustedCode: pipeline.True, Network: pipeline.Network{Access: pipeline.True},
			Isolation: pipeline.IsolationVM, Runner: pipeline.RunnerEphemeral, GPU: pipeline.False}
		mod(s)
		return s
	}
	if fs := only(analyzeGraph(t, hosted(func(*pipeline.Stage) {})), "pipeline/network-access-untrusted"); len(fs) != 0 {
		t.Errorf("hosted VM without secrets: %+v", fs)
	}
	for what, mod := range map[string]func(*pipeline.Stage){
		"gpu":            func(s *pipeline.Stage) { s.GPU = pipeline.True },
		"secret":         func(s *pipeline.Stage) { s.Secrets = []pipeline.Secret{{Name: "HF_TOKEN"}} },
		"shared runner":  func(s *pipeline.Stage) { s.Runner = pipeline.RunnerShared },
		"container only": func(s *pipeline.Stage) { s.Isolation = pipeline.IsolationContainer },
	} {
		if fs := only(analyzeGraph(t, hosted(mod)), "pipeline/network-access-untrusted"); len(fs) != 1 {
			t.Errorf("%s: %d findings, want 1", what, len(fs))
		}
	}
}

// A job whose runner could not be resolved has unknown isolation and GPU:
// reported once per pipeline at a lower severity, not as a critical or
// medium finding per job. Known facts keep their per-stage findings.
func TestUnknownIsolationAndGPUAreAggregated(t *testing.T) {
	fs := analyzeGraph(t,
		&pipeline.Stage{Name: "u1", RunsUntrustedCode: pipeline.True, Network: pipeline.Network{Access: pipeline.False}, GPU: pipeline.Unknown},
		&pipeline.Stage{Name: "u2", RunsUntrustedCode: pipeline.True, Network: pipeline.Network{Access: pipeline.False}, GPU: pipeline.Unknown},
		&pipeline.Stage{Name: "k", RunsUntrustedCode: pipeline.True, Network: pipeline.Network{Access: pipeline.False}, GPU: pipeline.True, Isolation: pipeline.IsolationNone},
	)
	iso := only(fs, "pipeline/untrusted-code-no-isolation")
	gpu := only(fs, "pipeline/shared-gpu-access")
	if len(iso) != 2 || len(gpu) != 2 {
		t.Fatalf("no-isolation %+v\nshared-gpu %+v", iso, gpu)
	}
	for _, f := range append(iso, gpu...) {
		if strings.Contains(f.Message, "2 stage(s) (u1, u2)") {
			if f.Severity != finding.Medium && f.Severity != finding.Low {
				t.Errorf("aggregate %s at %s", f.RuleID, f.Severity)
			}
		} else if !strings.Contains(f.Message, "'k'") {
			t.Errorf("unexpected %+v", f)
		}
	}
}

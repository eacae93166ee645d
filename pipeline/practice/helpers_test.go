package practice_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// step makes a step whose script starts at line 10, column 7 of the file,
// with literal line breaks.
func step(run string) pipeline.Step {
	return pipeline.Step{Run: run, Pos: pipeline.Pos{Line: 9, Column: 5}, RunPos: pipeline.Pos{Line: 10, Column: 7}, RunLiteral: true}
}

// stage makes a stage at line 1 with the given steps; roles are inferred
// as adapters do.
func stage(name string, steps ...pipeline.Step) *pipeline.Stage {
	s := &pipeline.Stage{Name: name, Pos: pipeline.Pos{Line: 1, Column: 1}, Steps: steps, Kind: "job"}
	pipeline.InferRoles(s)
	return s
}

func graph(format string, stages ...*pipeline.Stage) *pipeline.Graph {
	return &pipeline.Graph{File: "wf.yml", Format: format, Stages: stages}
}

// run analyzes g with every rule and returns the findings of rule id.
func run(t *testing.T, g *pipeline.Graph, id string) []finding.Finding {
	t.Helper()
	fs, err := pipeline.Analyze(g, pipeline.Options{Enabled: func(*finding.Rule) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	var out []finding.Finding
	for _, f := range fs {
		if f.RuleID == id {
			if f.Message == "" || f.Fingerprint == "" || f.Location.Line == 0 {
				t.Errorf("malformed finding %+v", f)
			}
			out = append(out, f)
		}
	}
	return out
}

// scriptCase is one script with the positions ("line:col") the rule must
// report, in order; none for a look-alike.
type scriptCase struct {
	name string
	run  string
	want []string
}

// runScriptCases puts each script in a one-step stage and checks the
// rule's findings; it requires both triggering and clean cases.
func runScriptCases(t *testing.T, rule *pipeline.Rule, cases []scriptCase) {
	t.Helper()
	pos, neg := false, false
	for _, c := range cases {
		if len(c.want) > 0 {
			pos = true
		} else {
			neg = true
		}
		t.Run(c.name, func(t *testing.T) {
			fs := run(t, graph("github-actions", stage("job", step(c.run))), rule.ID)
			var got []string
			for _, f := range fs {
				got = append(got, fmt.Sprintf("%d:%d", f.Location.Line, f.Location.Column))
			}
			if strings.Join(got, " ") != strings.Join(c.want, " ") {
				t.Errorf("got %v, want %v\n%s", got, c.want, c.run)
				for _, f := range fs {
					t.Logf("  %s", f.Message)
				}
			}
		})
	}
	if !pos || !neg {
		t.Errorf("rule %s needs triggering cases and look-alikes", rule.ID)
	}
}

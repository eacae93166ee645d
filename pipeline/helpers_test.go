package pipeline_test

import (
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/spec"
)

// stg writes one stage of a stage spec. props are "key: value" lines; the
// required booleans default to false unless given.
func stg(name string, props ...string) string {
	var b strings.Builder
	b.WriteString("  - name: " + name + "\n")
	have := map[string]bool{}
	for _, p := range props {
		have[strings.TrimSpace(strings.SplitN(p, ":", 2)[0])] = true
		b.WriteString("    " + p + "\n")
	}
	for _, req := range []string{"runs_untrusted_code", "has_network_access", "has_gpu_access"} {
		if !have[req] {
			b.WriteString("    " + req + ": false\n")
		}
	}
	return b.String()
}

func specOf(stages ...string) string { return "stages:\n" + strings.Join(stages, "") }

// analyze parses src and runs every rule (including default-disabled ones).
func analyze(t *testing.T, src string, opts ...map[string]map[string]any) []finding.Finding {
	t.Helper()
	g, err := spec.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	o := pipeline.Options{Enabled: func(*finding.Rule) bool { return true }}
	if len(opts) > 0 {
		o.RuleOptions = func(id string) map[string]any { return opts[0][id] }
	}
	fs, err := pipeline.Analyze(g, o)
	if err != nil {
		t.Fatalf("analyze: %v", err)
	}
	return fs
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

type ruleCase struct {
	name   string
	src    string
	stages []string // stages (logical "stage X") expected to be reported, in order
	opts   map[string]map[string]any
}

func runRuleCases(t *testing.T, rule *pipeline.Rule, cases []ruleCase) {
	t.Helper()
	positive, negative := false, false
	for _, c := range cases {
		if len(c.stages) > 0 {
			positive = true
		} else {
			negative = true
		}
		t.Run(c.name, func(t *testing.T) {
			var fs []finding.Finding
			if c.opts != nil {
				fs = only(analyze(t, c.src, c.opts), rule.ID)
			} else {
				fs = only(analyze(t, c.src), rule.ID)
			}
			var got []string
			for _, f := range fs {
				got = append(got, strings.TrimPrefix(f.Location.Logical, "stage "))
				if f.Severity != rule.Severity || f.Message == "" || f.Fingerprint == "" || f.Location.Line == 0 {
					t.Errorf("malformed finding %+v", f)
				}
			}
			if strings.Join(got, ",") != strings.Join(c.stages, ",") {
				t.Errorf("reported stages %v, want %v\n%s", got, c.stages, c.src)
			}
		})
	}
	if !positive || !negative {
		t.Errorf("rule %s needs both a triggering case and a look-alike that must not trigger", rule.ID)
	}
}

package spec_test

import (
	"os"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/spec"
)

// FuzzParse feeds arbitrary bytes to the stage-spec parser and, when they
// parse, runs every rule over the graph. Nothing may panic or hang, and a
// successful parse must yield a graph that analyzes cleanly.
func FuzzParse(f *testing.F) {
	for _, p := range []string{"../../examples/seed-pipeline/mlgate-pipeline.yaml", "../../examples/hardened-pipeline/mlgate-pipeline.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("stages:\n  - {name: a, runs_untrusted_code: true, has_network_access: [h], has_gpu_access: true, outputs: [x], runner: shared, secrets_available: [K]}\n  - {name: b, role: [scan, sign], inputs: [x, {name: y, trust: untrusted}], runs_untrusted_code: false, has_network_access: true, has_gpu_access: false, secrets_available: [K], runner: shared}\n"))
	f.Add([]byte("- {name: a, inputs: [x], outputs: [x], runs_untrusted_code: false, has_network_access: false, has_gpu_access: false}\n"))
	f.Add([]byte("a: &a [x, x]\nstages: *a\n"))
	f.Add([]byte("stages:\n  - &s {name: a}\n  - *s\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		g, err := spec.Parse("fuzz.yaml", src)
		if err != nil {
			if g != nil {
				t.Fatal("graph returned with an error")
			}
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if len(g.Stages) == 0 {
			t.Fatal("parsed a spec with no stages")
		}
		if _, err := pipeline.Analyze(g, pipeline.Options{Enabled: func(*finding.Rule) bool { return true }}); err != nil {
			t.Fatalf("analyze: %v", err)
		}
	})
}

package docgen_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/internal/docgen"
	"github.com/mlgate/mlgate/internal/rules"
)

// TestRuleDocsUpToDate fails when docs/rules differs from the registry.
// Fix it with: go run ./internal/docgen/gen
func TestRuleDocsUpToDate(t *testing.T) {
	dir := "../../docs/rules"
	pages := docgen.Pages(rules.All())
	for name, want := range pages {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || string(got) != want {
			t.Errorf("docs/rules/%s is missing or stale; run: go run ./internal/docgen/gen", name)
		}
	}
	entries, _ := os.ReadDir(dir)
	var extra []string
	for _, e := range entries {
		if _, ok := pages[e.Name()]; !ok {
			extra = append(extra, e.Name())
		}
	}
	sort.Strings(extra)
	if len(extra) > 0 {
		t.Errorf("docs/rules has pages for no registered rule: %v", extra)
	}
	if len(rules.All()) < 11 {
		t.Errorf("registry has only %d rules; a rule package is not imported by internal/rules", len(rules.All()))
	}
}

// TestRunRulesNotConfigurable: mlgate run reads no .mlgate.yaml, so the
// page of a run/* rule must not offer to disable or re-grade it there,
// while a pipeline rule's page does.
func TestRunRulesNotConfigurable(t *testing.T) {
	pages := docgen.Pages(rules.All())
	run, pipe := pages["run-crypto-miner.md"], pages["pipeline-untrusted-code-no-isolation.md"]
	if run == "" || pipe == "" {
		t.Fatal("rule pages missing")
	}
	if strings.Contains(run, "rules: {disable:") || strings.Contains(run, "rules: {severity:") || !strings.Contains(run, "`.mlgate.yaml` does not apply") {
		t.Errorf("run/crypto-miner page:\n%s", run)
	}
	if !strings.Contains(pipe, "rules: {disable: [pipeline/untrusted-code-no-isolation]}") {
		t.Errorf("pipeline rule page lost its configuration hint:\n%s", pipe)
	}
}

package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestInitTemplatesAreClean is the issue's acceptance test for `mlgate
// init`: each template, written where its CI system reads it, passes
// `mlgate pipeline` with no finding at medium or above.
func TestInitTemplatesAreClean(t *testing.T) {
	for target, path := range map[string]string{
		"github": ".github/workflows/ml-pipeline.yml",
		"gitlab": ".gitlab-ci.yml",
	} {
		t.Run(target, func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, ".git"), 0o755) // a repository root
			file := filepath.Join(dir, path)
			if code, _, errOut := run(t, "init", target, "--output", file); code != 0 {
				t.Fatalf("init exit %d: %s", code, errOut)
			}
			code, out, errOut := run(t, "pipeline", file, "--no-config", "--format", "json", "--fail-on", "medium")
			var rep struct {
				Inputs []struct {
					Format string `json:"format"`
					Status string `json:"status"`
				} `json:"inputs"`
				Findings []struct {
					RuleID   string `json:"rule_id"`
					Severity string `json:"severity"`
					Message  string `json:"message"`
				} `json:"findings"`
			}
			if err := json.Unmarshal([]byte(out), &rep); err != nil {
				t.Fatalf("%v\n%s\n%s", err, out, errOut)
			}
			if len(rep.Inputs) != 1 || rep.Inputs[0].Status != "analyzed" || !strings.Contains(rep.Inputs[0].Format, target) {
				t.Fatalf("inputs %+v", rep.Inputs)
			}
			for _, f := range rep.Findings {
				if f.Severity != "low" && f.Severity != "info" {
					t.Errorf("%s %s: %s", f.Severity, f.RuleID, f.Message)
				}
			}
			if code != 0 {
				t.Errorf("pipeline exit %d", code)
			}
		})
	}
	// Never overwrite without --force.
	dir := t.TempDir()
	file := filepath.Join(dir, "x.yml")
	os.WriteFile(file, []byte("keep"), 0o644)
	if code, _, _ := run(t, "init", "github", "-o", file); code != 2 {
		t.Fatalf("overwrite without --force: exit %d", code)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Fatal("file overwritten")
	}
	if code, _, _ := run(t, "init", "jenkins"); code != 2 {
		t.Fatal("unknown target accepted")
	}
}

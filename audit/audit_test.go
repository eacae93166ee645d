package audit_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/audit"
	"github.com/mlgate/mlgate/report"
)

const stage = "stages:\n  - name: %s\n    runs_untrusted_code: true\n    has_network_access: false\n    has_gpu_access: false\n"

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func specFor(name string) string { return strings.Replace(stage, "%s", name, 1) }

func inputs(r *report.Report) []string {
	var out []string
	for _, in := range r.Inputs {
		out = append(out, filepath.ToSlash(in.Path))
	}
	return out
}

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "b", "mlgate-pipeline.yaml"), specFor("b"))
	write(t, filepath.Join(dir, "a", "train.mlgate-pipeline.yml"), specFor("a"))
	write(t, filepath.Join(dir, ".git", "mlgate-pipeline.yaml"), specFor("git"))
	write(t, filepath.Join(dir, "third_party", "mlgate-pipeline.yaml"), specFor("vendored"))
	write(t, filepath.Join(dir, "pipeline.yaml"), "not: a spec name\n")
	write(t, filepath.Join(dir, ".mlgate.yaml"), "ignore: [\"third_party/**\"]\n")
	if err := os.Symlink(filepath.Join(dir, "b", "mlgate-pipeline.yaml"), filepath.Join(dir, "link.mlgate-pipeline.yaml")); err != nil {
		t.Fatal(err)
	}
	res, err := audit.Run(audit.Options{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(inputs(res.Report), ",")
	want := filepath.ToSlash(filepath.Join(dir, "a", "train.mlgate-pipeline.yml")) + "," + filepath.ToSlash(filepath.Join(dir, "b", "mlgate-pipeline.yaml"))
	if got != want {
		t.Errorf("inputs %s\nwant   %s", got, want)
	}
	// One no-isolation finding per analyzed stage spec.
	if n := len(res.Report.Findings); n != 2 {
		t.Errorf("%d findings, want 2: %+v", n, res.Report.Findings)
	}
}

func TestExplicitFileAnyName(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "stages.yaml")
	write(t, p, specFor("x"))
	res, err := audit.Run(audit.Options{Paths: []string{p, p}, NoConfig: true, RequireInputs: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Inputs) != 1 || res.Report.Inputs[0].Status != report.StatusAnalyzed {
		t.Errorf("inputs %+v (duplicates must collapse)", res.Report.Inputs)
	}
}

func TestNothingFound(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "README.md"), "hi")
	res, err := audit.Run(audit.Options{Paths: []string{dir}})
	if err != nil || len(res.Report.Inputs) != 0 {
		t.Fatalf("audit of an empty tree: %v %+v", err, res)
	}
	_, err = audit.Run(audit.Options{Paths: []string{dir}, RequireInputs: true})
	var ue *audit.UsageError
	if !errors.As(err, &ue) || !errors.Is(err, audit.ErrNoInputs) {
		t.Errorf("want ErrNoInputs usage error, got %v", err)
	}
}

func TestInvalidInputIsAFindingNotAnError(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "mlgate-pipeline.yaml"), "stages:\n  - name: [\n")
	write(t, filepath.Join(dir, "ok", "mlgate-pipeline.yaml"), specFor("ok"))
	res, err := audit.Run(audit.Options{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Report.Failed() || report.ExitCode(res.Report, 0) != report.ExitError {
		t.Error("a broken input must make the run fail with exit 2")
	}
	var invalid, other int
	for _, f := range res.Report.Findings {
		if f.RuleID == "pipeline/invalid-definition" {
			invalid++
			if f.Location.Line == 0 {
				t.Errorf("invalid-definition without a position: %+v", f)
			}
		} else {
			other++
		}
	}
	if invalid != 1 || other != 1 {
		t.Errorf("invalid %d other %d: the broken file must not stop the good one being analyzed", invalid, other)
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "mlgate-pipeline.yaml"), specFor("x"))
	write(t, filepath.Join(dir, "bad.json"), "{}")
	for name, opts := range map[string]audit.Options{
		"missing path":     {Paths: []string{filepath.Join(dir, "nope")}},
		"missing config":   {Paths: []string{dir}, Config: filepath.Join(dir, "nope.yaml")},
		"missing baseline": {Paths: []string{dir}, Baseline: filepath.Join(dir, "nope.json")},
		"bad baseline":     {Paths: []string{dir}, Baseline: filepath.Join(dir, "bad.json")},
	} {
		_, err := audit.Run(opts)
		var ue *audit.UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%s: want a UsageError, got %v", name, err)
		}
	}
}

func TestSuppressionOfDisabledRuleIsNotUnused(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, ".mlgate.yaml"), "rules:\n  disable: [pipeline/untrusted-code-no-isolation]\n")
	write(t, filepath.Join(dir, "mlgate-pipeline.yaml"), "stages:\n  - name: x # mlgate: ignore[pipeline/untrusted-code-no-isolation] sandboxed by the runner\n"+
		"    runs_untrusted_code: true\n    has_network_access: false\n    has_gpu_access: false\n")
	res, err := audit.Run(audit.Options{Paths: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Report.Findings {
		t.Errorf("unexpected finding %s: %s", f.RuleID, f.Message)
	}
}

func TestUnusedSuppressionReported(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "mlgate-pipeline.yaml"), "stages:\n  - name: x # mlgate: ignore[pipeline/shared-gpu-access] no gpu here\n"+
		"    runs_untrusted_code: false\n    has_network_access: false\n    has_gpu_access: false\n")
	res, err := audit.Run(audit.Options{Paths: []string{dir}, NoConfig: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Findings) != 1 || res.Report.Findings[0].RuleID != "config/unused-suppression" {
		t.Errorf("findings %+v", res.Report.Findings)
	}
}

package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const (
	seedDir     = "../../examples/seed-pipeline"
	hardenedDir = "../../examples/hardened-pipeline"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAuditSeedExample(t *testing.T) {
	code, out, _ := run(t, "audit", seedDir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, out)
	}
	for _, want := range []string{
		"examples/seed-pipeline/mlgate-pipeline.yaml",
		"critical pipeline/secrets-in-untrusted-stage  (stage data_preprocessing)",
		"secrets_available: [DATA_STORE_KEY]",
		"14 findings: 2 critical, 7 high, 5 medium, 0 low, 0 info (1 of 1 inputs analyzed)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour in non-terminal output")
	}
}

func TestAuditHardenedExampleExitsZero(t *testing.T) {
	code, out, errs := run(t, "audit", hardenedDir)
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s%s", code, out, errs)
	}
}

func TestSARIFOutputValidates(t *testing.T) {
	schemaPath, _ := filepath.Abs("../../../shared/schemas/sarif-schema-2.1.0.json")
	if _, err := os.Stat(schemaPath); err != nil {
		t.Skip("../shared is absent")
	}
	outFile := filepath.Join(t.TempDir(), "out.sarif")
	code, stdout, stderr := run(t, "audit", seedDir, "--format", "sarif", "--output", outFile)
	if code != 1 || stdout != "" || !strings.Contains(stderr, "wrote sarif report to") {
		t.Fatalf("exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	schema, err := jsonschema.NewCompiler().Compile(schemaPath)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(outFile)
	defer f.Close()
	inst, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Fatalf("SARIF does not validate: %v", err)
	}
}

func TestJSONAndBaseline(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	if code, _, _ := run(t, "pipeline", seedDir, "-f", "json", "-o", base); code != 1 {
		t.Fatalf("exit %d", code)
	}
	var doc struct {
		SchemaVersion string `json:"schema_version"`
		Findings      []struct {
			RuleID string `json:"rule_id"`
		}
	}
	b, _ := os.ReadFile(base)
	if err := json.Unmarshal(b, &doc); err != nil || doc.SchemaVersion != "1" || len(doc.Findings) != 14 {
		t.Fatalf("json report: %v %+v", err, doc)
	}
	code, out, _ := run(t, "pipeline", seedDir, "--baseline", base)
	if code != 0 || !strings.Contains(out, "0 findings") || !strings.Contains(out, "14 in baseline") {
		t.Fatalf("with baseline: exit %d\n%s", code, out)
	}
	// Fingerprints include the file: the same pipeline elsewhere is new.
	spec := filepath.Join(dir, "mlgate-pipeline.yaml")
	src, _ := os.ReadFile(filepath.Join(seedDir, "mlgate-pipeline.yaml"))
	writeFile(t, spec, string(src))
	code, out, _ = run(t, "pipeline", spec, "--baseline", base, "--no-config")
	if code != 1 || strings.Contains(out, "in baseline") {
		t.Fatalf("different file matched the baseline: exit %d\n%s", code, out)
	}
}

func TestBaselineReportsOnlyNewFindings(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile(filepath.Join(seedDir, "mlgate-pipeline.yaml"))
	spec := writeFile(t, filepath.Join(dir, "mlgate-pipeline.yaml"), string(src))
	base := filepath.Join(dir, "base.json")
	run(t, "pipeline", spec, "-f", "json", "-o", base)
	// Give the signing stage network access: one new finding.
	writeFile(t, spec, strings.Replace(string(src), "has_network_access: false\n    has_gpu_access: false\n    secrets_available: [SIGNING_KEY]",
		"has_network_access: true\n    has_gpu_access: false\n    secrets_available: [SIGNING_KEY]", 1))
	code, out, _ := run(t, "pipeline", spec, "--baseline", base)
	// New: the signing stage is exposed, and it is now an exfiltration path for both its untrusted inputs.
	if code != 1 || !strings.Contains(out, "3 findings: 0 critical, 3 high") || !strings.Contains(out, "pipeline/signing-stage-exposed") ||
		!strings.Contains(out, "14 in baseline") {
		t.Fatalf("exit %d\n%s", code, out)
	}
}

func TestBaselineSurvivesLineMoves(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile(filepath.Join(seedDir, "mlgate-pipeline.yaml"))
	spec := writeFile(t, filepath.Join(dir, "mlgate-pipeline.yaml"), string(src))
	base := filepath.Join(dir, "base.json")
	run(t, "pipeline", spec, "-f", "json", "-o", base)
	// Insert unrelated lines at the top: every finding moves, none is new.
	writeFile(t, spec, "# a new comment\n# and another\n"+string(src))
	code, out, _ := run(t, "pipeline", spec, "--baseline", base)
	if code != 0 || !strings.Contains(out, "14 in baseline") {
		t.Fatalf("moved lines broke the baseline: exit %d\n%s", code, out)
	}
}

func TestFailOn(t *testing.T) {
	if code, _, _ := run(t, "audit", seedDir, "--fail-on", "critical"); code != 1 {
		t.Errorf("fail-on critical: exit %d", code)
	}
	if code, _, _ := run(t, "audit", hardenedDir, "--fail-on", "medium"); code != 0 {
		t.Errorf("hardened fail-on medium: exit %d", code)
	}
	if code, _, _ := run(t, "audit", hardenedDir, "--fail-on", "info"); code != 0 {
		t.Errorf("hardened fail-on info: exit %d", code)
	}
	if code, _, errs := run(t, "audit", seedDir, "--fail-on", "severe"); code != 2 || !strings.Contains(errs, "unknown severity") {
		t.Errorf("bad fail-on: exit %d %s", code, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"audit", "does/not/exist"},
		{"pipeline"},
		{"audit", seedDir, "--format", "xml"},
		{"audit", seedDir, "--bogus"},
		{"audit", seedDir, "--color", "sometimes"},
		{"audit", seedDir, "--config", "x.yaml", "--no-config"},
		{"audit", seedDir, "--baseline", "does-not-exist.json"},
		{"rules", "pipeline/nope"},
		{"frobnicate"},
	} {
		code, _, errs := run(t, args...)
		if code != 2 || !strings.HasPrefix(errs, "mlgate: ") {
			t.Errorf("%v: exit %d, stderr %q", args, code, errs)
		}
	}
}

func TestInvalidSpecExitsTwo(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "mlgate-pipeline.yaml"), "stages:\n  - name: a\n    runs_untrusted_code: true\n    has_network_access: false\n    has_gpu_access: false\n    isolaton_level: vm\n")
	code, out, _ := run(t, "audit", dir)
	if code != 2 {
		t.Fatalf("exit %d, want 2\n%s", code, out)
	}
	for _, want := range []string{"pipeline/invalid-definition", "6:5", `unknown key "isolaton_level"`, "Inputs that could not be analyzed", "0 of 1 inputs analyzed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// Explicit file with any name is read as a spec.
	other := writeFile(t, filepath.Join(dir, "stages.yml"), "stages: 3\n")
	if code, out, _ := run(t, "pipeline", other); code != 2 || !strings.Contains(out, "stages must be a list") {
		t.Errorf("explicit file: exit %d\n%s", code, out)
	}
}

func TestConfigDiscoveryAndSuppressions(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".mlgate.yaml"), `rules:
  disable: [pipeline/shared-gpu-access]
  severity:
    pipeline/untrusted-code-container-only: low
ignore:
  - "vendor/**"
`)
	stage := "    runs_untrusted_code: true\n    has_network_access: false\n    has_gpu_access: true\n    isolation_level: container\n"
	writeFile(t, filepath.Join(dir, "vendor", "mlgate-pipeline.yaml"), "stages:\n  - name: vendored\n"+stage)
	writeFile(t, filepath.Join(dir, "ml", "mlgate-pipeline.yaml"), "stages:\n  - name: train\n"+stage+
		"    secrets_available: [HF_TOKEN] # mlgate: ignore[pipeline/secrets-in-untrusted-stage] read-only token, accepted in SEC-12\n"+
		"  - name: eval\n    runs_untrusted_code: true\n    has_network_access: false\n    has_gpu_access: false\n    isolation_level: vm\n"+
		"    # mlgate: ignore[pipeline/secrets-in-untrusted-stage]\n    secrets_available: [K]\n")
	code, out, _ := run(t, "audit", filepath.Join(dir, "ml"))
	if strings.Contains(out, "vendored") {
		t.Error("ignored path was analyzed")
	}
	if strings.Contains(out, "pipeline/shared-gpu-access  (stage") {
		t.Errorf("disabled rule reported:\n%s", out)
	}
	if !strings.Contains(out, "low      pipeline/untrusted-code-container-only") {
		t.Errorf("severity override not applied:\n%s", out)
	}
	if strings.Contains(out, "secrets-in-untrusted-stage  (stage") {
		t.Errorf("suppressed finding reported:\n%s", out)
	}
	if !strings.Contains(out, "config/suppression-missing-reason") || !strings.Contains(out, "2 suppressed") {
		t.Errorf("suppression handling:\n%s", out)
	}
	if code != 0 {
		t.Errorf("exit %d, want 0 (only medium and low remain)\n%s", code, out)
	}
	// --no-config brings everything back.
	_, out, _ = run(t, "audit", filepath.Join(dir, "ml"), "--no-config")
	if !strings.Contains(out, "pipeline/shared-gpu-access  (stage") {
		t.Error("--no-config still applied the config")
	}
}

func TestConfigErrorsExitTwo(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".mlgate.yaml"), "rules:\n  disable: [pipeline/no-such-rule]\n")
	code, _, errs := run(t, "audit", dir)
	if code != 2 || !strings.Contains(errs, ".mlgate.yaml:2:") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

func TestConfigFailOnAndFlagPrecedence(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile(filepath.Join(hardenedDir, "mlgate-pipeline.yaml"))
	writeFile(t, filepath.Join(dir, "mlgate-pipeline.yaml"), string(src))
	writeFile(t, filepath.Join(dir, ".mlgate.yaml"), "fail_on: info\nrules:\n  enable: [pipeline/runner-unspecified]\n")
	// The hardened example declares every runner, so even fail_on: info passes.
	if code, out, _ := run(t, "audit", dir); code != 0 {
		t.Errorf("exit %d\n%s", code, out)
	}
	src2, _ := os.ReadFile(filepath.Join(seedDir, "mlgate-pipeline.yaml"))
	writeFile(t, filepath.Join(dir, "mlgate-pipeline.yaml"), string(src2))
	code, out, _ := run(t, "audit", dir, "--fail-on", "critical")
	if code != 1 || !strings.Contains(out, "pipeline/runner-unspecified") {
		t.Errorf("enabled rule or flag precedence: exit %d\n%s", code, out)
	}
}

func TestRulesCommand(t *testing.T) {
	code, out, _ := run(t, "rules")
	if code != 0 || !strings.Contains(out, "pipeline/untrusted-code-no-isolation") || !strings.Contains(out, "(disabled by default)") {
		t.Fatalf("rules: %d\n%s", code, out)
	}
	code, out, _ = run(t, "rules", "pipeline/signing-stage-exposed")
	for _, want := range []string{"Severity: high", "Remediation:", "allowed_hosts:", "# mlgate: ignore[pipeline/signing-stage-exposed]", "docs/rules/pipeline-signing-stage-exposed.md"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("rules ID lacks %q:\n%s", want, out)
		}
	}
	// mlgate run does not read .mlgate.yaml: a run/* rule must not suggest
	// disabling or re-grading it there, nor a baseline or a comment.
	code, out, _ = run(t, "rules", "run/crypto-miner")
	if code != 0 || !strings.Contains(out, "--policy file") || !strings.Contains(out, ".mlgate.yaml does not apply") ||
		strings.Contains(out, "--baseline") || strings.Contains(out, "mlgate: ignore[") {
		t.Errorf("rules run/crypto-miner:\n%s", out)
	}
}

func TestVersionAndCompletion(t *testing.T) {
	if code, out, _ := run(t, "version"); code != 0 || !strings.HasPrefix(out, "mlgate ") {
		t.Errorf("version: %d %q", code, out)
	}
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		if code, out, _ := run(t, "completion", sh); code != 0 || len(out) < 100 {
			t.Errorf("completion %s: %d", sh, code)
		}
	}
}

func TestEveryCommandHasAnExample(t *testing.T) {
	root := NewRootCommand(&bytes.Buffer{}, &bytes.Buffer{})
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		if strings.TrimSpace(c.Example) == "" {
			t.Errorf("command %q has no example", c.Name())
		}
		for _, sub := range c.Commands() {
			if strings.TrimSpace(sub.Example) == "" && sub.Name() != "help" {
				// cobra's completion subcommands carry their own long help with usage.
				if c.Name() != "completion" {
					t.Errorf("command %q has no example", sub.CommandPath())
				}
			}
		}
	}
	if root.Example == "" {
		t.Error("root command has no example")
	}
}

func TestColour(t *testing.T) {
	code, out, _ := run(t, "audit", seedDir, "--color", "always")
	if code != 1 || !strings.Contains(out, "\x1b[") {
		t.Error("--color always did not colour")
	}
	t.Setenv("NO_COLOR", "1")
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	if useColor("auto", w) {
		t.Error("colour on a pipe")
	}
	if useColor("auto", os.Stdout) {
		t.Error("colour despite NO_COLOR")
	}
}

func TestNothingToAnalyze(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "README.md"), "hi")
	code, out, errs := run(t, "audit", dir)
	if code != 0 || !strings.Contains(errs, "warning:") || !strings.Contains(out, "0 of 0 inputs analyzed") {
		t.Errorf("audit of nothing: exit %d out %q err %q", code, out, errs)
	}
	if code, _, errs := run(t, "pipeline", dir); code != 2 || !strings.Contains(errs, "nothing to analyze found") {
		t.Errorf("pipeline of nothing: exit %d err %q", code, errs)
	}
}

func TestBadRuleOptionTypeIsAConfigError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".mlgate.yaml"), "rules:\n  options:\n    pipeline/signing-stage-exposed:\n      allowed_hosts: rekor.sigstore.dev\n")
	writeFile(t, filepath.Join(dir, "README.md"), "no pipelines here")
	code, _, errs := run(t, "audit", dir)
	if code != 2 || !strings.Contains(errs, ".mlgate.yaml: rules.options") || !strings.Contains(errs, "allowed_hosts must be a list of strings") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

func TestProgressBarOnlyOnTerminals(t *testing.T) {
	if progressBar(&bytes.Buffer{}) != nil {
		t.Error("progress bar on a buffer")
	}
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	if progressBar(w) != nil {
		t.Error("progress bar on a pipe")
	}
}

func TestScanCommand(t *testing.T) {
	const real = "../../scan/testdata/real"
	if code, out, errs := run(t, "scan", real, "--no-config"); code != 0 || !strings.Contains(out, "0 findings") {
		t.Errorf("benign real fixtures: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ := run(t, "scan", "../../scan/pickle/testdata/cpython/evil_os_system_p2.pkl", "--no-config")
	if code != 1 || !strings.Contains(out, "posix.system('echo pwned') at offset 38") {
		t.Errorf("payload: exit %d\n%s", code, out)
	}
	if code, out, _ := run(t, "scan", real+"/joblib_arrays.joblib", "--no-config", "--policy", "strict"); code != 1 || !strings.Contains(out, "model/pickle-forbidden") {
		t.Errorf("strict: exit %d\n%s", code, out)
	}
	if code, _, errs := run(t, "scan", real, "--policy", "lenient"); code != 2 || !strings.Contains(errs, "--policy") {
		t.Errorf("bad policy: exit %d %s", code, errs)
	}
	// JSON lists the detected format and the globals each pickle uses.
	code, out, _ = run(t, "scan", real+"/torch_zip_state_dict.pt", "--no-config", "-f", "json")
	var doc struct {
		Inputs []struct {
			Format  string
			Details struct {
				Pickles []struct {
					Kind    string
					Globals []struct{ Name, Verdict string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || code != 0 || len(doc.Inputs) != 1 {
		t.Fatalf("json: exit %d %v\n%s", code, err, out)
	}
	in := doc.Inputs[0]
	if in.Format != "pytorch-zip" || len(in.Details.Pickles) != 1 || in.Details.Pickles[0].Kind != "torch" {
		t.Fatalf("inputs %+v", in)
	}
	found := false
	for _, g := range in.Details.Pickles[0].Globals {
		if g.Name == "torch._utils._rebuild_tensor_v2" && g.Verdict == "allowed" {
			found = true
		}
	}
	if !found {
		t.Errorf("globals %+v", in.Details.Pickles[0].Globals)
	}
	// audit includes model artifacts.
	if code, out, _ := run(t, "audit", "../../scan/pickle/testdata/cpython", "--no-config"); code != 1 || !strings.Contains(out, "model/pickle-dangerous-global") {
		t.Errorf("audit of models: exit %d", code)
	}
}

func TestScanAllowListFromConfig(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile("../../scan/testdata/real/joblib_arrays.joblib")
	writeFile(t, filepath.Join(dir, "m.joblib"), string(src))
	// An unknown global, allowed through .mlgate.yaml.
	writeFile(t, filepath.Join(dir, "model.pkl"), "\x80\x02csklearn.linear_model\nLogisticRegression\n)R.")
	if code, out, _ := run(t, "scan", dir); code != 1 || !strings.Contains(out, "model/pickle-unknown-global") {
		t.Fatalf("without config: exit %d\n%s", code, out)
	}
	writeFile(t, filepath.Join(dir, ".mlgate.yaml"), "rules:\n  options:\n    model/pickle-unknown-global:\n      allow: [\"sklearn.*\"]\n")
	if code, out, _ := run(t, "scan", dir); code != 0 {
		t.Errorf("with allow-list: exit %d\n%s", code, out)
	}
}

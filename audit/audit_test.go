package audit_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlgate/mlgate/audit"
	_ "github.com/mlgate/mlgate/pipeline/gitlab"
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

func TestSymlinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	outside := filepath.Join(dir, "outside")
	write(t, filepath.Join(real, "mlgate-pipeline.yaml"), specFor("inside"))
	write(t, filepath.Join(outside, "mlgate-pipeline.yaml"), specFor("outside"))
	if err := os.Symlink(filepath.Join(outside, "mlgate-pipeline.yaml"), filepath.Join(real, "ext.mlgate-pipeline.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(real, "linked-dir")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	// A symlink named as the root is followed; inside, links leaving the
	// tree are not, and the warning says so.
	res, err := audit.Run(audit.Options{Paths: []string{link}, NoConfig: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(inputs(res.Report), ","); got != filepath.ToSlash(filepath.Join(link, "mlgate-pipeline.yaml")) {
		t.Errorf("inputs %s", got)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "2 symlink(s)") || !strings.Contains(res.Warnings[0], "ext.mlgate-pipeline.yaml") {
		t.Errorf("warnings %v", res.Warnings)
	}
}

func TestUnreadableDirectoryIsAnInputError(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every directory")
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "ok", "mlgate-pipeline.yaml"), specFor("ok"))
	locked := filepath.Join(dir, "locked")
	write(t, filepath.Join(locked, "mlgate-pipeline.yaml"), specFor("hidden"))
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(locked, 0o755)
	res, err := audit.Run(audit.Options{Paths: []string{dir}, NoConfig: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Report.Failed() || len(res.Report.Findings) != 2 {
		t.Errorf("want the readable spec analyzed and the locked directory reported: %+v", res.Report)
	}
}

// A FIFO is never opened: named like a stage spec (matched by path) or
// like any YAML file (whose head would be sniffed for its format).
func TestFIFOIsNotRead(t *testing.T) {
	for _, name := range []string{"mlgate-pipeline.yaml", "workflow.yaml"} {
		dir := t.TempDir()
		fifo := filepath.Join(dir, name)
		if err := syscall.Mkfifo(fifo, 0o644); err != nil {
			t.Skip("mkfifo:", err)
		}
		done := make(chan *audit.Result, 1)
		go func() {
			res, _ := audit.Run(audit.Options{Paths: []string{fifo}, NoConfig: true})
			done <- res
		}()
		select {
		case res := <-done:
			if res == nil || !res.Report.Failed() || !strings.Contains(res.Report.Inputs[0].Error, "not a regular file") {
				t.Errorf("FIFO %s: %+v", name, res)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("audit blocked reading a FIFO named %s", name)
		}
	}
}

func TestFingerprintsIndependentOfPathSpelling(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, ".git", "HEAD"), "ref: refs/heads/main\n")
	write(t, filepath.Join(dir, "ml", "mlgate-pipeline.yaml"), specFor("x"))
	fps := func(path string) string {
		res, err := audit.Run(audit.Options{Paths: []string{path}})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range res.Report.Findings {
			out = append(out, f.Fingerprint)
		}
		return strings.Join(out, ",")
	}
	a := fps(dir)
	b := fps(filepath.Join(dir, "ml"))
	c := fps(filepath.Join(dir, "ml", "mlgate-pipeline.yaml"))
	if a == "" || a != b || b != c {
		t.Errorf("fingerprints differ by how the path was given:\n%s\n%s\n%s", a, b, c)
	}
}

func TestSuppressionInBlockScalarIsData(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "mlgate-pipeline.yaml"), `stages:
  - name: train
    description: |
      notes for reviewers
      # mlgate: ignore[pipeline/secrets-in-untrusted-stage] this is text, not a comment
    secrets_available: [HF_TOKEN]
    runs_untrusted_code: true
    has_network_access: false
    has_gpu_access: false
    isolation_level: vm
`)
	res, err := audit.Run(audit.Options{Paths: []string{dir}, NoConfig: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Suppressed != 0 || len(res.Report.Findings) != 1 || res.Report.Findings[0].RuleID != "pipeline/secrets-in-untrusted-stage" {
		t.Errorf("text inside a block scalar suppressed a finding: %+v", res.Report)
	}
}

func TestBrokenFileSuppressionsAreNotReported(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "mlgate-pipeline.yaml"), "# mlgate: ignore[pipeline/shared-gpu-access] reason\nstages: [\n")
	res, err := audit.Run(audit.Options{Paths: []string{dir}, NoConfig: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Findings) != 1 || res.Report.Findings[0].RuleID != "pipeline/invalid-definition" {
		t.Errorf("findings %+v", res.Report.Findings)
	}
}

// A Hugging Face cache links snapshot files to content-addressed blobs;
// both the symlinked model and a plain one are scanned, by content.
func TestAuditScansModelsInHFCacheLayout(t *testing.T) {
	dir := t.TempDir()
	repo := filepath.Join(dir, "models--org--name")
	evil := []byte("\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")
	write(t, filepath.Join(repo, "blobs", "3f2a9c"), string(evil))
	snap := filepath.Join(repo, "snapshots", "abc123")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "..", "blobs", "3f2a9c"), filepath.Join(snap, "pytorch_model.bin")); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "notes.md"), "# not a model\n")
	res, err := audit.Run(audit.Options{Paths: []string{dir}, NoConfig: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Inputs) != 1 || res.Report.Inputs[0].Format != "pickle" {
		t.Fatalf("inputs %+v: the blob must be scanned once, through whichever name", res.Report.Inputs)
	}
	if len(res.Report.Findings) != 1 || res.Report.Findings[0].RuleID != "model/pickle-dangerous-global" ||
		!strings.Contains(res.Report.Findings[0].Message, "os.system('id')") {
		t.Errorf("findings %+v", res.Report.Findings)
	}
}

// A GitLab pipeline's local includes resolve when the walk root is
// relative ("mlgate audit ." from the repository).
func TestRelativeRootIncludesAndPaths(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		".git/HEAD":      "ref: refs/heads/main\n",
		".gitlab-ci.yml": "include:\n  - local: ci/jobs.yml\nstages: [build]\n",
		"ci/jobs.yml":    "build:\n  stage: build\n  script: [make]\n",
	} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	t.Chdir(dir)
	res, err := audit.Run(audit.Options{Paths: []string{"."}, NoConfig: true, Analyzers: audit.Pipelines})
	if err != nil {
		t.Fatal(err)
	}
	formats := map[string]string{}
	for _, in := range res.Report.Inputs {
		formats[filepath.ToSlash(in.Path)] = in.Format + " " + in.Status + " " + in.Error
	}
	if got := formats[".gitlab-ci.yml"]; !strings.HasPrefix(got, "gitlab-ci analyzed") {
		t.Errorf(".gitlab-ci.yml: %q (inputs %v)", got, formats)
	}
}

// TestFileFoundByWalkAndNamedExplicitly: recognition happens on the
// workers, after the walk; a file met first in a directory walk (where
// nothing recognises it) and then named explicitly is still read as a
// stage spec, once, and a file reached by two names is analyzed under
// the one whose path an adapter matches.
func TestFileFoundByWalkAndNamedExplicitly(t *testing.T) {
	dir := t.TempDir()
	odd := filepath.Join(dir, "stages.yaml")
	write(t, odd, specFor("x"))
	res, err := audit.Run(audit.Options{Paths: []string{dir, odd}, NoConfig: true, Analyzers: audit.Pipelines})
	if err != nil {
		t.Fatal(err)
	}
	if got := inputs(res.Report); len(got) != 1 || got[0] != filepath.ToSlash(odd) || res.Report.Inputs[0].Format != "mlgate-pipeline" {
		t.Errorf("inputs %v %+v, want the explicitly named file once, as a stage spec", got, res.Report.Inputs)
	}
	// The same content under a recognised name, and a symlink to it
	// under an unrecognised one that sorts first.
	spec := filepath.Join(dir, "z", "mlgate-pipeline.yaml")
	write(t, spec, specFor("y"))
	if err := os.Symlink(spec, filepath.Join(dir, "a-link.yaml")); err != nil {
		t.Fatal(err)
	}
	os.Remove(odd)
	res, err = audit.Run(audit.Options{Paths: []string{dir}, NoConfig: true, Analyzers: audit.Pipelines})
	if err != nil {
		t.Fatal(err)
	}
	if got := inputs(res.Report); len(got) != 1 || got[0] != filepath.ToSlash(spec) {
		t.Errorf("inputs %v, want %s only", got, spec)
	}
}

// TestGitLabRunnerTagPatternsFromConfig: the GitLab adapter's runner-tag
// patterns come from the options of pipeline/gitlab-mr-self-hosted-runner
// in .mlgate.yaml, and steer what the file is inferred to run on.
func TestGitLabRunnerTagPatternsFromConfig(t *testing.T) {
	const ci = "stages: [test]\n" +
		"unit:\n  stage: test\n  image: python:3.12\n  tags: [corp-runner]\n" +
		"  rules:\n    - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\n  script:\n    - pytest\n"
	severityOf := func(config string) string {
		t.Helper()
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, ".git"), 0o755)
		write(t, filepath.Join(dir, ".gitlab-ci.yml"), ci)
		if config != "" {
			write(t, filepath.Join(dir, ".mlgate.yaml"), config)
		}
		res, err := audit.Run(audit.Options{Paths: []string{dir}, Analyzers: audit.Pipelines})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Report.Findings {
			if f.RuleID == "pipeline/gitlab-mr-self-hosted-runner" {
				return f.Severity.String()
			}
		}
		return "none"
	}
	opt := func(name string) string {
		return "rules:\n  options:\n    pipeline/gitlab-mr-self-hosted-runner:\n      " + name + ": [\"corp-*\"]\n"
	}
	if got := severityOf(""); got != "high" {
		t.Errorf("default patterns: %s, want high (a self-managed runner)", got)
	}
	if got := severityOf(opt("hosted_tags")); got != "none" {
		t.Errorf("hosted_tags [corp-*]: %s, want none (a GitLab-operated runner)", got)
	}
	if got := severityOf(opt("gpu_tags")); got != "critical" {
		t.Errorf("gpu_tags [corp-*]: %s, want critical (a self-managed GPU runner)", got)
	}
	// A value of the wrong type is a configuration error.
	dir := t.TempDir()
	write(t, filepath.Join(dir, ".gitlab-ci.yml"), ci)
	write(t, filepath.Join(dir, ".mlgate.yaml"), "rules:\n  options:\n    pipeline/gitlab-mr-self-hosted-runner:\n      gpu_tags: corp\n")
	if _, err := audit.Run(audit.Options{Paths: []string{dir}, Analyzers: audit.Pipelines}); err == nil {
		t.Error("gpu_tags given as a string is not reported")
	}
}

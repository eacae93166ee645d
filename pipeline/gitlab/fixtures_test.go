package gitlab_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

// fixtureFindings parses testdata/<dir> as a repository and returns
// "rule-id stage-or-thing severity" for every pipeline/gitlab-* finding.
func fixtureFindings(t *testing.T, dir string) []string {
	t.Helper()
	root := filepath.Join("testdata", dir)
	src, err := os.ReadFile(filepath.Join(root, ".gitlab-ci.yml"))
	if err != nil {
		t.Fatal(err)
	}
	gs, err := gitlab.Parse(&pipeline.Source{File: ".gitlab-ci.yml", Rel: ".gitlab-ci.yml", Src: src, ReadFile: dirReader(root)})
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	var out []string
	for _, g := range gs {
		fs, err := pipeline.Analyze(g, pipeline.Options{Enabled: func(*finding.Rule) bool { return true }})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			if strings.HasPrefix(f.RuleID, "pipeline/gitlab-") {
				out = append(out, strings.TrimPrefix(f.RuleID, "pipeline/gitlab-")+" "+f.Location.Logical+" "+f.Severity.String())
			}
		}
	}
	sort.Strings(out)
	return out
}

func TestVulnerableFixture(t *testing.T) {
	got := fixtureFindings(t, "vulnerable")
	want := []string{
		"cache-poisoning stage release-model medium",
		"credential-in-mr-job stage release-model medium",
		"dind-privileged stage build-image high",
		"hardcoded-secret variable WANDB_API_KEY high",
		"include-unpinned include project ml-platform/ci-templates medium",
		"mr-artifact-to-release stage release-model high",
		"mr-self-hosted-runner stage build-image high",
		"mr-self-hosted-runner stage train critical",
		"partial-pipeline include project ml-platform/ci-templates info",
		"scan-allow-failure stage model-scan medium",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestHardenedFixture(t *testing.T) {
	got := fixtureFindings(t, "hardened")
	want := []string{"partial-pipeline include project ml-platform/ci-templates info"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

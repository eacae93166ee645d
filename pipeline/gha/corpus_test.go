package gha

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// corpusDir finds ../shared/corpora/pipelines/gha-realworld by walking up
// from the package directory; "" when absent.
func corpusDir() string {
	dir, err := filepath.Abs(".")
	if err != nil {
		return ""
	}
	for {
		c := filepath.Join(dir, "shared", "corpora", "pipelines", "gha-realworld")
		if fi, err := os.Stat(c); err == nil && fi.IsDir() {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func corpusFiles(tb testing.TB) []string {
	dir := corpusDir()
	if dir == "" {
		tb.Skip("corpus ../shared/corpora/pipelines/gha-realworld not present")
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.y*ml"))
	if len(files) == 0 {
		tb.Skip("corpus is empty")
	}
	sort.Strings(files)
	return files
}

var allRules = pipeline.Options{Enabled: func(*finding.Rule) bool { return true }}

// TestCorpus parses every real workflow of the corpus and runs every rule:
// each file parses or yields a positioned error, nothing panics.
func TestCorpus(t *testing.T) {
	files := corpusFiles(t)
	var parsed, failed, stages int
	perRule := map[string]int{}
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !Sniff(src[:min(len(src), pipeline.SniffSize)]) {
			t.Errorf("%s: not recognised by Sniff", filepath.Base(f))
		}
		g, err := Parse(f, filepath.Base(f), src)
		if err != nil {
			failed++
			var se pipeline.SourceErrors
			if !asSourceErrors(err, &se) || len(se) == 0 {
				t.Errorf("%s: error without position: %v", filepath.Base(f), err)
			}
			if os.Getenv("GHA_CORPUS_VERBOSE") != "" {
				t.Logf("parse error: %v", err)
			}
			continue
		}
		parsed++
		stages += len(g.Stages)
		fs, err := pipeline.Analyze(g, allRules)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
			continue
		}
		for _, x := range fs {
			perRule[x.RuleID]++
			if os.Getenv("GHA_CORPUS_DUMP") != "" && strings.Contains(x.RuleID, os.Getenv("GHA_CORPUS_DUMP")) {
				t.Logf("%s:%d:%d %s [%s] %s", filepath.Base(x.Location.File), x.Location.Line, x.Location.Column, x.RuleID, x.Severity, x.Message)
			}
		}
	}
	ids := make([]string, 0, len(perRule))
	for id := range perRule {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	t.Logf("corpus: %d files, %d parsed, %d parse errors, %d stages", len(files), parsed, failed, stages)
	for _, id := range ids {
		t.Logf("  %-50s %d", id, perRule[id])
	}
}

func asSourceErrors(err error, out *pipeline.SourceErrors) bool {
	se, ok := err.(pipeline.SourceErrors)
	if ok {
		*out = se
	}
	return ok
}

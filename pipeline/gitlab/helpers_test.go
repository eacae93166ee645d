package gitlab_test

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

// dirReader returns a Source.ReadFile confined to root, like the audit
// walk's: no "..", no absolute paths, regular files only.
func dirReader(root string) func(string) ([]byte, error) {
	fsys := os.DirFS(root)
	return fsReader(fsys)
}

// fsReader reads slash paths from fsys, refusing paths that leave it.
func fsReader(fsys fs.FS) func(string) ([]byte, error) {
	return func(rel string) ([]byte, error) {
		clean := path.Clean(strings.TrimPrefix(rel, "/"))
		if !fs.ValidPath(clean) || clean == "." {
			return nil, errors.New(rel + ": path leaves the repository")
		}
		fi, err := fs.Stat(fsys, clean)
		if err != nil {
			return nil, err
		}
		if !fi.Mode().IsRegular() {
			return nil, errors.New(rel + ": not a regular file")
		}
		return fs.ReadFile(fsys, clean)
	}
}

// memFS builds an in-memory repository from name -> content pairs.
func memFS(files map[string]string) fs.FS {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return m
}

// parseRepo parses the file rel of an in-memory repository.
func parseRepo(t *testing.T, files map[string]string, rel string) ([]*pipeline.Graph, error) {
	t.Helper()
	return gitlab.Parse(&pipeline.Source{File: rel, Rel: rel, Src: []byte(files[rel]), ReadFile: fsReader(memFS(files))})
}

// mustParse parses a one-file pipeline and returns its graph and doc.
func mustParse(t *testing.T, src string) (*pipeline.Graph, *gitlab.Doc) {
	t.Helper()
	return mustParseRepo(t, map[string]string{".gitlab-ci.yml": src})
}

func mustParseRepo(t *testing.T, files map[string]string) (*pipeline.Graph, *gitlab.Doc) {
	t.Helper()
	gs, err := parseRepo(t, files, ".gitlab-ci.yml")
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, files[".gitlab-ci.yml"])
	}
	if len(gs) == 0 {
		t.Fatal("no graph")
	}
	if err := gs[0].Build(); err != nil {
		t.Fatalf("build: %v", err)
	}
	return gs[0], gs[0].Doc.(*gitlab.Doc)
}

func stage(t *testing.T, g *pipeline.Graph, name string) *pipeline.Stage {
	t.Helper()
	for _, s := range g.Stages {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no stage %q", name)
	return nil
}

// analyze runs every rule over a one-file pipeline (plus extra files).
func analyze(t *testing.T, src string, extra ...map[string]string) []finding.Finding {
	t.Helper()
	files := map[string]string{".gitlab-ci.yml": src}
	if len(extra) > 0 {
		for k, v := range extra[0] {
			files[k] = v
		}
	}
	g, _ := mustParseRepo(t, files)
	fs, err := pipeline.Analyze(g, pipeline.Options{Enabled: func(*finding.Rule) bool { return true }})
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

// ruleCase is one fixture for a GitLab rule: the logical names (without
// "stage ") of the findings expected, in order; none for a look-alike.
type ruleCase struct {
	name  string
	src   string
	extra map[string]string
	want  []string
	// sev, when set, is the severity every finding must have.
	sev finding.Severity
}

func runRuleCases(t *testing.T, rule *pipeline.Rule, cases []ruleCase) {
	t.Helper()
	pos, neg := false, false
	for _, c := range cases {
		if len(c.want) > 0 {
			pos = true
		} else {
			neg = true
		}
		t.Run(c.name, func(t *testing.T) {
			fs := only(analyze(t, c.src, c.extra), rule.ID)
			var got []string
			for _, f := range fs {
				got = append(got, strings.TrimPrefix(f.Location.Logical, "stage "))
				if f.Message == "" || f.Fingerprint == "" || f.Location.Line == 0 {
					t.Errorf("malformed finding %+v", f)
				}
				if c.sev != 0 && f.Severity != c.sev {
					t.Errorf("%s: severity %v, want %v", f.Location.Logical, f.Severity, c.sev)
				}
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("reported %q, want %q", got, c.want)
				for _, f := range fs {
					t.Logf("  %s:%d %s", f.Location.File, f.Location.Line, f.Message)
				}
			}
		})
	}
	if !pos || !neg {
		t.Errorf("rule %s needs a triggering case and a look-alike that must not trigger", rule.ID)
	}
}

// corpusDir finds ../shared/corpora/pipelines/gitlab by walking up.
func corpusDir(t testing.TB) string {
	dir, _ := filepath.Abs(".")
	for {
		c := filepath.Join(dir, "shared", "corpora", "pipelines", "gitlab")
		if fi, err := os.Stat(c); err == nil && fi.IsDir() {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("corpus ../shared/corpora/pipelines/gitlab not found")
		}
		dir = parent
	}
}

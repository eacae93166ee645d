package gitlab_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

// corpusFile is one file of the corpus the adapter claims, with the
// project root its includes resolve against.
type corpusFile struct {
	path, root, rel string
}

// corpusFiles lists the files the audit walk would hand to this adapter.
// Each top-level directory is a project root, except in the synthetic
// gitlab-ci-local set, where every test case is its own root.
func corpusFiles(t testing.TB, dir string) []corpusFile {
	var out []corpusFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		parts := strings.Split(filepath.ToSlash(rel), "/")
		if len(parts) < 2 {
			return nil
		}
		n := 1
		if strings.HasPrefix(parts[0], "_synthetic__") {
			switch {
			case len(parts) > 4 && parts[1] == "tests" && parts[2] == "test-cases":
				n = 4
			case len(parts) > 3 && parts[1] == "examples":
				n = 3
			}
		}
		root := filepath.Join(append([]string{dir}, parts[:n]...)...)
		if n > 1 && strings.HasPrefix(d.Name(), ".gitlab-ci") {
			// gitlab-ci-local runs each of these files from its own directory.
			root = filepath.Dir(p)
			n = len(parts) - 1
		}
		frel := strings.Join(parts[n:], "/")
		ok := gitlab.IsConfigPath(frel)
		if !ok && pipeline.MaySniff(frel) {
			b, _ := os.ReadFile(p)
			if len(b) > pipeline.SniffSize {
				b = b[:pipeline.SniffSize]
			}
			ok = pipeline.Sniff(b) != nil && pipeline.Sniff(b).Format == gitlab.Format
		}
		if ok {
			out = append(out, corpusFile{path: p, root: root, rel: frel})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCorpus parses every GitLab file of the shared corpus: nothing may
// panic, every error must be positioned, and every rule runs on every
// graph. The summary is logged (go test -v -run TestCorpus).
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	files := corpusFiles(t, dir)
	if len(files) == 0 {
		t.Skip("no GitLab files in the corpus")
	}
	perRule := map[string]int{}
	var parsed, failed, fragments, graphs, jobs, partial int
	var mrTrue, mrUnknown, selfHosted, gpu int
	for _, f := range files {
		src, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		gs, err := gitlab.Parse(&pipeline.Source{File: f.path, Rel: f.rel, Src: src, ReadFile: dirReader(f.root)})
		if err != nil {
			failed++
			var list pipeline.SourceErrors
			if !errors.As(err, &list) || len(list) == 0 {
				t.Errorf("%s: error without position: %v", f.path, err)
				continue
			}
			for _, e := range list {
				if e.File == "" || e.Line == 0 && !strings.Contains(e.Msg, "too many errors") && !strings.Contains(e.Msg, "work limit") {
					t.Errorf("%s: unpositioned error: %v", f.path, e)
				}
			}
			if testing.Verbose() {
				t.Logf("error %s: %v", strings.TrimPrefix(f.path, dir), list[0])
			}
			continue
		}
		parsed++
		if len(gs) == 0 {
			fragments++
			continue
		}
		for _, g := range gs {
			graphs++
			if err := g.Build(); err != nil {
				t.Errorf("%s: build: %v", f.path, err)
				continue
			}
			d := g.Doc.(*gitlab.Doc)
			if d.Partial {
				partial++
			}
			for i, s := range g.Stages {
				jobs++
				if os.Getenv("MLGATE_CORPUS_MR") != "" && s.ForkReachable != pipeline.False {
					t.Logf("MR %s %s %s: %s", s.ForkReachable, strings.TrimPrefix(f.path, dir), s.Name, d.Jobs[i].MRReason)
				}
				switch s.ForkReachable {
				case pipeline.True:
					mrTrue++
				case pipeline.Unknown:
					mrUnknown++
				}
				if s.SelfHosted == pipeline.True {
					selfHosted++
				}
				if s.GPU == pipeline.True {
					gpu++
				}
			}
			fs, err := pipeline.Analyze(g, pipeline.Options{Enabled: func(*finding.Rule) bool { return true }})
			if err != nil {
				t.Fatalf("%s: analyze: %v", f.path, err)
			}
			for _, x := range fs {
				perRule[x.RuleID]++
				if x.Location.Line == 0 {
					t.Errorf("%s: finding without a line: %+v", f.path, x)
				}
				if os.Getenv("MLGATE_CORPUS_DUMP") != "" && strings.Contains(x.RuleID, os.Getenv("MLGATE_CORPUS_DUMP")) {
					t.Logf("%s %s:%d %s: %s", x.Severity, strings.TrimPrefix(x.Location.File, dir), x.Location.Line, x.RuleID, x.Message)
				}
			}
		}
	}
	t.Logf("files=%d parsed=%d (fragments of an including pipeline=%d) errors=%d graphs=%d (partial=%d) jobs=%d fork-reachable=%d unknown=%d self-hosted=%d gpu=%d",
		len(files), parsed, fragments, failed, graphs, partial, jobs, mrTrue, mrUnknown, selfHosted, gpu)
	var ids []string
	for id := range perRule {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t.Logf("  %-50s %d", id, perRule[id])
	}
}

// Package k8stest holds test helpers shared by the Kubeflow and Argo
// adapter tests: locating the shared corpus and running an adapter plus
// every rule over a directory of files.
package k8stest

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
)

// SharedDir walks up from the working directory to the directory that
// contains "shared" and returns shared/<rel>, or "" when there is none.
func SharedDir(rel string) string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "shared", rel)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Files returns the .yaml/.yml/.json files below dir, sorted.
func Files(t testing.TB, dir string) []string {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && pipeline.MaySniff(p) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// Result is what one file gave.
type Result struct {
	File     string
	Graphs   []*pipeline.Graph
	Stages   int
	Err      error
	Findings []finding.Finding
}

// Run parses file with adapter a and runs every rule (also those disabled
// by default) over each graph.
func Run(t testing.TB, a *pipeline.Adapter, file string) Result {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	r := Result{File: file}
	gs, err := a.Parse(&pipeline.Source{File: file, Rel: filepath.Base(file), Src: src})
	if err != nil {
		r.Err = err
		return r
	}
	r.Graphs = gs
	for _, g := range gs {
		r.Stages += len(g.Stages)
		fs, err := pipeline.Analyze(g, pipeline.Options{Enabled: func(*finding.Rule) bool { return true }})
		if err != nil {
			r.Err = err
			return r
		}
		r.Findings = append(r.Findings, fs...)
	}
	return r
}

// Summary counts findings per rule ID, formatted one per line.
func Summary(rs []Result) string {
	count := map[string]int{}
	for _, r := range rs {
		for _, f := range r.Findings {
			count[f.RuleID]++
		}
	}
	var ids []string
	for id := range count {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var b strings.Builder
	for _, id := range ids {
		b.WriteString("  " + id + ": " + itoa(count[id]) + "\n")
	}
	return b.String()
}

func itoa(n int) string {
	s := ""
	if n == 0 {
		return "0"
	}
	for n > 0 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return s
}

// Bench parses, builds and analyzes every file below the shared corpus
// directories dirs with adapter a, b.N times, and reports files/s. Files
// are read into memory first, so the figure excludes disk I/O.
func Bench(b *testing.B, a *pipeline.Adapter, dirs ...string) {
	var srcs [][]byte
	for _, d := range dirs {
		dir := SharedDir(d)
		if dir == "" {
			b.Skip("shared corpus not present")
		}
		for _, f := range Files(b, dir) {
			src, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			head := src
			if len(head) > pipeline.SniffSize {
				head = head[:pipeline.SniffSize]
			}
			if a.Sniff(head) {
				srcs = append(srcs, src)
			}
		}
	}
	opts := pipeline.Options{Enabled: func(*finding.Rule) bool { return true }}
	var bytes int64
	for _, s := range srcs {
		bytes += int64(len(s))
	}
	b.SetBytes(bytes)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, src := range srcs {
			gs, err := a.Parse(&pipeline.Source{File: "f.yaml", Src: src})
			if err != nil {
				b.Fatal(err)
			}
			for _, g := range gs {
				if _, err := pipeline.Analyze(g, opts); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(float64(len(srcs)*b.N)/b.Elapsed().Seconds(), "files/s")
}

//go:build unix

package shell

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// corpusScripts returns the `run:` scripts of the real GitHub workflows in
// ../shared/corpora/pipelines/gha-realworld (found by walking up from the
// package), or skips when the corpus is absent.
func corpusScripts(tb testing.TB) []string {
	tb.Helper()
	dir := ""
	for d, _ := filepath.Abs("."); ; d = filepath.Dir(d) {
		c := filepath.Join(d, "shared", "corpora", "pipelines", "gha-realworld")
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			dir = c
			break
		}
		if filepath.Dir(d) == d {
			tb.Skip("corpus shared/corpora/pipelines/gha-realworld not found")
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.y*ml"))
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var n yaml.Node
		if yaml.Unmarshal(b, &n) != nil {
			continue
		}
		var walk func(*yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if n.Content[i].Value == "run" && n.Content[i+1].Kind == yaml.ScalarNode {
						out = append(out, n.Content[i+1].Value)
					}
				}
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(&n)
	}
	if len(out) == 0 {
		tb.Skip("no scripts in corpus")
	}
	return out
}

// TestCorpus parses every real `run:` script: no panic, limits kept, every
// word's offsets inside its script.
func TestCorpus(t *testing.T) {
	scripts := corpusScripts(t)
	cmds := 0
	for _, s := range scripts {
		for _, c := range Parse(s) {
			cmds++
			for _, w := range c.Words {
				if w.Start < 0 || w.End > len(s) || w.Start > w.End {
					t.Fatalf("bad offsets in %q", s)
				}
			}
		}
	}
	t.Logf("%d scripts, %d commands", len(scripts), cmds)
}

// BenchmarkCorpus measures Parse over all real `run:` scripts; ns/op
// divided by the script count is the cost per script.
func BenchmarkCorpus(b *testing.B) {
	scripts := corpusScripts(b)
	size := 0
	for _, s := range scripts {
		size += len(s)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		for _, s := range scripts {
			Parse(s)
		}
	}
	// On a shared machine wall time includes waiting for a core; the
	// process's CPU time per script is the figure to compare.
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(scripts)), "ns/script")
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N*len(scripts)), "cpu-ns/script")
}

// cpuTime returns the user+system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

package gha

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mlgate/mlgate/pipeline"
)

type corpusFile struct {
	name string
	src  []byte
}

func loadCorpus(b *testing.B) []corpusFile {
	files := corpusFiles(b)
	out := make([]corpusFile, 0, len(files))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, corpusFile{filepath.Base(f), src})
	}
	return out
}

// cpuTime returns the process's user+system CPU time: on a loaded
// machine files per CPU-second is a steadier figure than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func reportCPU(b *testing.B, files int, start time.Duration) {
	if cpu := cpuTime() - start; cpu > 0 {
		b.ReportMetric(float64(files)/cpu.Seconds(), "files/cpu-s")
	}
}

func analyzeCorpusFile(b *testing.B, f corpusFile) {
	g, err := Parse(f.name, f.name, f.src)
	if err != nil {
		return
	}
	if _, err := pipeline.Analyze(g, allRules); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkCorpus parses and analyzes (every rule) the real workflows of
// the corpus one after the other; files/s is the figure bench/gha-bench.sh
// reports.
func BenchmarkCorpus(b *testing.B) {
	files := loadCorpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, f := range files {
			analyzeCorpusFile(b, f)
		}
	}
	b.ReportMetric(float64(len(files)*b.N)/b.Elapsed().Seconds(), "files/s")
	reportCPU(b, len(files)*b.N, cpu0)
}

// BenchmarkCorpusParallel is BenchmarkCorpus with GOMAXPROCS workers
// sharing the files.
func BenchmarkCorpusParallel(b *testing.B) {
	files := loadCorpus(b)
	b.ReportAllocs()
	b.ResetTimer()
	var next atomic.Int64
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1) - 1
			analyzeCorpusFile(b, files[int(i)%len(files)])
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "files/s")
	reportCPU(b, b.N, cpu0)
}

package pipeline_test

import (
	"bytes"
	"fmt"
	"github.com/mlgate/mlgate/internal/testutil"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/gen"
	"github.com/mlgate/mlgate/pipeline/spec"
)

func generated(tb testing.TB, n int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := gen.Spec(&b, n); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

var all = pipeline.Options{Enabled: func(*finding.Rule) bool { return true }}

// analyzeOnce parses and analyzes a generated spec: the whole `mlgate
// pipeline` path minus I/O and report writing.
func analyzeOnce(tb testing.TB, src []byte) int {
	g, err := spec.Parse("gen.yaml", src)
	if err != nil {
		tb.Fatal(err)
	}
	fs, err := pipeline.Analyze(g, all)
	if err != nil {
		tb.Fatal(err)
	}
	return len(fs)
}

// BenchmarkAnalyze measures parse+analyze at 1k, 10k and 100k stages; the
// ns/op per size shows how time grows with the pipeline (see bench/README.md).
func BenchmarkAnalyze(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		src := generated(b, n)
		b.Run(fmt.Sprintf("stages=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for i := 0; i < b.N; i++ {
				analyzeOnce(b, src)
			}
		})
	}
}

// BenchmarkRules measures rule evaluation alone on a pre-parsed graph.
func BenchmarkRules(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		g, err := spec.Parse("gen.yaml", generated(b, n))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("stages=%d", n), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := pipeline.Analyze(g, all); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAnalysisScalesLinearly compares the time for n and 10n stages in the
// same run, on two shapes: realistic independent sub-pipelines (gen.Spec)
// and an adversarial chain (gen.Chain: long ancestries and taint chains,
// secrets, shared runners and release roles on every stage). Linear growth
// gives a ratio near 10; a quadratic step would give about 100. The bound
// (30) leaves room for noise and GC without accepting super-linear
// behaviour. No absolute time is asserted.
func TestAnalysisScalesLinearly(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test skipped in -short mode")
	}
	shapes := []struct {
		name string
		gen  func(io.Writer, int) error
		n    int
	}{
		{"sub-pipelines", gen.Spec, 2_000},
		{"chain", gen.Chain, 2_000},
	}
	for _, sh := range shapes {
		t.Run(sh.name, func(t *testing.T) {
			make := func(n int) []byte {
				var b bytes.Buffer
				if err := sh.gen(&b, n); err != nil {
					t.Fatal(err)
				}
				return b.Bytes()
			}
			small, large := make(sh.n), make(10*sh.n)
			fSmall, fLarge := analyzeOnce(t, small), analyzeOnce(t, large)
			if fSmall == 0 || fLarge < 9*fSmall || fLarge > 11*fSmall {
				t.Fatalf("findings %d at n vs %d at 10n: not proportional", fSmall, fLarge)
			}
			// Process CPU time, best of 3: unlike wall time it does not
			// grow when other processes load the machine, so the ratio
			// stays meaningful on a busy CI runner.
			best := func(src []byte) time.Duration {
				var min time.Duration
				for i := 0; i < 3; i++ {
					runtime.GC()
					start := testutil.CPUTime()
					analyzeOnce(t, src)
					if d := testutil.CPUTime() - start; min == 0 || d < min {
						min = d
					}
				}
				return min
			}
			allocated := func(src []byte) uint64 {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				analyzeOnce(t, src)
				runtime.ReadMemStats(&after)
				return after.TotalAlloc - before.TotalAlloc
			}
			ms, ml := allocated(small), allocated(large)
			t.Logf("allocated %d MB at %d stages, %d MB at %d: ratio %.1f", ms>>20, sh.n, ml>>20, 10*sh.n, float64(ml)/float64(ms))
			if float64(ml) > 30*float64(ms) {
				t.Errorf("allocation grew %.1fx for 10x stages: super-linear", float64(ml)/float64(ms))
			}
			ts, tl := best(small), best(large)
			ratio := float64(tl) / float64(ts)
			t.Logf("%d stages: %v, %d stages: %v CPU, ratio %.1f (linear = 10)", sh.n, ts, 10*sh.n, tl, ratio)
			if ratio > 30 {
				t.Errorf("analysis time grew %.1fx for 10x stages: super-linear", ratio)
			}
		})
	}
}

package gitlab_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/finding"
	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/gitlab"
)

// BenchmarkCorpus parses, builds and analyses every GitLab file of the
// shared corpus (as the audit walk would hand them over) and reports
// files/s. It skips when ../shared is absent.
func BenchmarkCorpus(b *testing.B) {
	dir := corpusDir(b)
	files := corpusFiles(b, dir)
	type loaded struct {
		f   corpusFile
		src []byte
		rd  func(string) ([]byte, error)
	}
	var in []loaded
	for _, f := range files {
		src, err := os.ReadFile(f.path)
		if err != nil {
			b.Fatal(err)
		}
		in = append(in, loaded{f, src, dirReader(f.root)})
	}
	opts := pipeline.Options{Enabled: func(*finding.Rule) bool { return true }}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, x := range in {
			gs, err := gitlab.Parse(&pipeline.Source{File: x.f.path, Rel: x.f.rel, Src: x.src, ReadFile: x.rd})
			if err != nil {
				continue
			}
			for _, g := range gs {
				if g.Build() == nil {
					if _, err := pipeline.Analyze(g, opts); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
	b.ReportMetric(float64(len(in)*b.N)/b.Elapsed().Seconds(), "files/s")
}

// largePipeline writes a pipeline with n jobs over st stages, sharing one
// 51-entry rules list through an anchor and 300 global variables.
func largePipeline(n, st int) []byte {
	var s strings.Builder
	s.WriteString("stages:\n")
	for i := 0; i < st; i++ {
		fmt.Fprintf(&s, "  - s%d\n", i)
	}
	s.WriteString(".r: &r\n")
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&s, "  - if: $CI_COMMIT_REF_NAME =~ /^release-%d-[a-z]+$/ && $CI_PROJECT_PATH == \"a/b\"\n    when: never\n", i)
	}
	s.WriteString("  - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"\nvariables:\n")
	for i := 0; i < 300; i++ {
		fmt.Fprintf(&s, "  V%d: value%d\n", i, i)
	}
	for j := 0; j < n; j++ {
		fmt.Fprintf(&s, "job%d:\n  stage: s%d\n  tags: [gpu-$V1]\n  script: [echo $HF_TOKEN, pytest]\n  artifacts: {paths: [a]}\n  cache: {key: k, paths: [c]}\n  rules: *r\n", j, j%st)
	}
	return []byte(s.String())
}

// BenchmarkLarge parses and analyses one generated 2,000-job pipeline.
func BenchmarkLarge(b *testing.B) {
	src := largePipeline(2000, 50)
	b.SetBytes(int64(len(src)))
	opts := pipeline.Options{Enabled: func(*finding.Rule) bool { return true }}
	for i := 0; i < b.N; i++ {
		gs, err := gitlab.Parse(&pipeline.Source{File: ".gitlab-ci.yml", Rel: ".gitlab-ci.yml", Src: src})
		if err != nil {
			b.Fatal(err)
		}
		if err := gs[0].Build(); err != nil {
			b.Fatal(err)
		}
		if _, err := pipeline.Analyze(gs[0], opts); err != nil {
			b.Fatal(err)
		}
	}
}

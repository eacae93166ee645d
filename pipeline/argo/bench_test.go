package argo_test

import (
	"path/filepath"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/argo"
	"github.com/mlgate/mlgate/pipeline/k8s/k8stest"
)

// BenchmarkCorpusExamples measures parse + build + all rules over the
// Argo project's examples, in files/s.
func BenchmarkCorpusExamples(b *testing.B) {
	k8stest.Bench(b, pipeline.AdapterFor(argo.Format), filepath.Join("corpora", "pipelines", "argo", "examples"))
}

// BenchmarkCorpusKFPCompiled measures the same over the Argo workflows the
// KFP backend compiles (large, generated files).
func BenchmarkCorpusKFPCompiled(b *testing.B) {
	k8stest.Bench(b, pipeline.AdapterFor(argo.Format), filepath.Join("corpora", "pipelines", "argo", "kfp-compiled"))
}

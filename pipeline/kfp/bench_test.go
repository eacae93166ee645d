package kfp_test

import (
	"path/filepath"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s/k8stest"
	"github.com/mlgate/mlgate/pipeline/kfp"
)

// BenchmarkCorpus measures parse + build + all rules over the shared KFP
// corpus (kfp-ir and kfp-platform), in files/s.
func BenchmarkCorpus(b *testing.B) {
	k8stest.Bench(b, pipeline.AdapterFor(kfp.Format),
		filepath.Join("corpora", "pipelines", "kfp-ir"), filepath.Join("corpora", "pipelines", "kfp-platform"))
}

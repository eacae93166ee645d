package kfp_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlgate/mlgate/pipeline"
	"github.com/mlgate/mlgate/pipeline/k8s/k8stest"
	"github.com/mlgate/mlgate/pipeline/kfp"
)

// TestCorpus parses every compiled pipeline of the shared corpus
// (../shared/corpora/pipelines/kfp-ir and kfp-platform): each must be
// sniffed as KFP IR, parse without error into at least one stage, and pass
// every rule without a panic.
func TestCorpus(t *testing.T) {
	a := pipeline.AdapterFor(kfp.Format)
	total, stages := 0, 0
	var all []k8stest.Result
	for _, sub := range []string{"kfp-ir", "kfp-platform"} {
		dir := k8stest.SharedDir(filepath.Join("corpora", "pipelines", sub))
		if dir == "" {
			t.Skip("shared corpus not present")
		}
		for _, f := range k8stest.Files(t, dir) {
			total++
			r := k8stest.Run(t, a, f)
			if r.Err != nil {
				t.Errorf("%s: %v", f, r.Err)
				continue
			}
			head := readHead(t, f)
			if !kfp.Sniff(head) {
				t.Errorf("%s: not sniffed as KFP IR", f)
			}
			if r.Stages == 0 {
				t.Errorf("%s: no stages", f)
			}
			stages += r.Stages
			all = append(all, r)
		}
	}
	t.Logf("KFP corpus: %d files, %d stages\nfindings per rule:\n%s", total, stages, k8stest.Summary(all))
	if testing.Verbose() {
		for _, r := range all {
			for _, f := range r.Findings {
				if strings.HasPrefix(f.RuleID, "pipeline/kfp-") || strings.HasPrefix(f.RuleID, "pipeline/k8s-") {
					t.Logf("%s:%d:%d %s %s", filepath.Base(r.File), f.Location.Line, f.Location.Column, f.RuleID, f.Message)
				}
			}
		}
	}
}
